"""Drives dsv4.compress_norm_rope_quantize_store against the fake HIP with the fake torch:
the cache and out_loc reach the launch, and bad ones are refused before it."""
import dataclasses
import sys

import dsv4
import torch

# With the configuration Inputs/store_f32.json describes (a main-layout store that does not
# rotate), which every call states to the shim.
CONFIG = dsv4.Config(mode="decode", head_dim=512, rotate=False, layout="main")
kernel = dsv4.Kernel(sys.argv[1], config=CONFIG)
kv = torch.Tensor((40, 512), torch.float32, 0x1122334455667780, strides=(516, 1))
weight = torch.Tensor((512,), torch.float32, 0x0102030405060710)
freqs = torch.Tensor((4097, 64), torch.float32, 0xa1a2a3a4a5a6a7a0, strides=(68, 1))
seq_lens = torch.Tensor((33,), torch.int32, 0xdeadbee0)
out_loc = torch.Tensor((33,), torch.int64, 0x5550)
cache = torch.Tensor((7, 64 * 584), torch.uint8, 0x7770)


def call(out_loc=out_loc, cache=cache, page_size=64, what=None):
    try:
        dsv4.compress_norm_rope_quantize_store(
            kv, weight, freqs, seq_lens, out_loc, cache, 1e-6, kernel=kernel,
            config=dataclasses.replace(CONFIG, page_size=page_size))
        print("store call: ok")
    except dsv4.Dsv4Error as e:
        print("error", what, "|", e)


call()
call(out_loc=torch.Tensor((32,), torch.int64, 0x5550), what="short out_loc")
call(out_loc=torch.Tensor((33,), torch.int32, 0x5550), what="int32 out_loc")
call(cache=torch.Tensor((7, 64 * 584), torch.float32, 0x7770), what="float cache")
call(cache=torch.Tensor((7, 64), torch.uint8, 0x7770, strides=(128, 1)), what="strided cache")
call(page_size=16, what="page size")
try:
    dsv4.compress_norm_rope_hadamard_inplace(kv, weight, freqs, seq_lens, 1e-6, kernel=kernel)
except dsv4.Dsv4Error as e:
    print("error in-place call |", e)
