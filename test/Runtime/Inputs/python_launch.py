"""Drives the Python wrapper against the fake HIP: a direct Kernel.launch,
the framework-style call (through the fake torch) with the configuration it relies on, and
errors as Dsv4Error."""
import dataclasses
import sys

import dsv4
import torch

kernel = dsv4.Kernel(sys.argv[1])
print("kernel", kernel.name, kernel.chip, kernel.mode, kernel.kv_dtype,
      kernel.head_dim, kernel.rope_dim, kernel.workgroup_size, kernel.rotate, kernel.ratio,
      kernel.scale, kernel.layout, kernel.page_size)
# What Inputs/decode_f32.json describes; a framework call states it to the shim.
CONFIG = dsv4.Config(mode="decode", head_dim=512)

# The framework call: kv [40, 512] f32 in rows of 516, freqs_cis complex64
# [4097, 32] (rows of 68 floats after view_as_real), seq_lens [33].
kv = torch.Tensor((40, 512), torch.float32, 0x1122334455667780, strides=(516, 1))
weight = torch.Tensor((512,), torch.float32, 0x0102030405060710)
freqs_cis = torch.Tensor((4097, 32), torch.complex64, 0xa1a2a3a4a5a6a7a0, strides=(34, 1))
seq_lens = torch.Tensor((33,), torch.int32, 0xdeadbee0)
dsv4.compress_norm_rope_hadamard_inplace(kv, weight, freqs_cis, seq_lens, 1e-6,
                                         kernel=kernel, config=CONFIG)
print("framework call: ok")

try:
    kernel.launch(kv=0x1000, kv_dtype="bf16", num_rows=8, kv_row_stride=512,
                  weight=0x2000, weight_dtype="f32", eps=1e-6, freqs=0x3000,
                  num_positions=16, freqs_row_stride=64, handle=0x4000, num_items=1,
                  head_dim=512, ratio=4, rotate=True, scale=512 ** -0.5)
except dsv4.Dsv4Error as e:
    print("error", e.status, "|", e)

# D is kv's (the plain entry takes the torch op's arguments): the shim refuses another one.
try:
    dsv4.compress_norm_rope_hadamard_inplace(
        torch.Tensor((40, 256), torch.float32, 0x1122334455667780),
        torch.Tensor((256,), torch.float32, 0x0102030405060710), freqs_cis, seq_lens, 1e-6,
        kernel=kernel, config=CONFIG)
except dsv4.Dsv4Error as e:
    print("error", e.status, "|", e)

plan = torch.Tensor((5, 4), torch.int32, 0x4000)
try:
    dsv4.compress_norm_rope_hadamard_inplace(kv, weight, freqs_cis, plan, 1e-6,
                                             kernel=kernel, config=CONFIG)
except dsv4.Dsv4Error as e:
    print("error", e.status, "|", e)

# A layer of another configuration is refused by the shim, each fact by name; so is a call
# that states none (a kernel loaded by path has no configuration of its own).
for other in (dataclasses.replace(CONFIG, ratio=128), dataclasses.replace(CONFIG, rotate=False),
              dataclasses.replace(CONFIG, scale=0.5),
              dataclasses.replace(CONFIG, layout="indexer")):
    try:
        dsv4.compress_norm_rope_hadamard_inplace(kv, weight, freqs_cis, seq_lens, 1e-6,
                                                 kernel=kernel, config=other)
        print("accepted", other)
    except dsv4.Dsv4Error as e:
        print("error", e.status, "|", e)
try:
    dsv4.compress_norm_rope_hadamard_inplace(kv, weight, freqs_cis, seq_lens, 1e-6,
                                             kernel=kernel)
except dsv4.Dsv4Error as e:
    print("error", e.status, "|", e)

try:
    dsv4.Kernel(sys.argv[1] + ".missing")
except dsv4.Dsv4Error as e:
    print("error", e.status, "|", e)
kernel.close()

# From memory: the same code object's bytes carry the same manifest.
with open(sys.argv[1], "rb") as f:
    from_bytes = dsv4.Kernel.from_data(f.read())
print("from data", from_bytes.name, from_bytes.head_dim, from_bytes.workgroup_size)
from_bytes.close()
