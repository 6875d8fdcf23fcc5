"""Arguments the Python wrapper must refuse before ctypes narrows or cuts them:
integers outside int64 (or a negative / too large pointer), a flag that is not a bool, a
path or manifest with an embedded NUL, any use of a closed kernel, and a copy of a kernel
(which would share, and free twice, its module)."""
import copy
import sys

import dsv4

kernel = dsv4.Kernel(sys.argv[1])
valid = dict(kv=0x1000, kv_dtype="f32", num_rows=8, kv_row_stride=512, weight=0x2000,
             weight_dtype="f32", eps=1e-6, freqs=0x3000, num_positions=16,
             freqs_row_stride=64, handle=0x4000, num_items=3, head_dim=512, ratio=4,
             rotate=True, scale=512 ** -0.5)


def attempt(what, call):
    try:
        call()
        print(what, "accepted")
    except dsv4.Dsv4Error as e:
        print(what, "|", e)


attempt("wrapped num_items", lambda: kernel.launch(**{**valid, "num_items": 2**64 + 3}))
attempt("negative pointer", lambda: kernel.launch(**{**valid, "kv": -4096}))
attempt("pointer past 64 bits", lambda: kernel.launch(**{**valid, "weight": 2**64}))
attempt("float stride", lambda: kernel.launch(**{**valid, "kv_row_stride": 512.0}))
attempt("rotate 2", lambda: kernel.launch(**{**valid, "rotate": 2}))
attempt("ratio past int64", lambda: kernel.launch(**{**valid, "ratio": 2**64 + 4}))
attempt("valid launch", lambda: kernel.launch(**valid))
attempt("NUL in path", lambda: dsv4.Kernel(sys.argv[1] + "\0junk"))
for name, make in (("copy", copy.copy), ("deepcopy", copy.deepcopy)):
    try:
        make(kernel)
        print(name, "made")
    except TypeError as e:
        print(name, "|", e)
print("after copies", kernel.name, kernel.head_dim)
kernel.close()
attempt("name after close", lambda: kernel.name)
attempt("head_dim after close", lambda: kernel.head_dim)
attempt("launch after close", lambda: kernel.launch(**valid))
