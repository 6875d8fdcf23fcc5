"""Drives dsv4.compress_quantize_store against the fake HIP with the fake torch: the state with
its block and row strides, the block table, the items and the cache reach the launch as the
compress list, and bad tensors are refused before it, each with an error naming it."""
import dataclasses
import sys

import dsv4
import torch

# The configuration Inputs/compress_f32.json describes (a main-layout compress kernel, D 512,
# overlapping windows, blocks of 64 rows, no rotation), which every call states to the shim.
CONFIG = dsv4.Config(mode="compress", head_dim=512, rotate=False, layout="main", overlap=True,
                     state_block_size=64)
kernel = dsv4.Kernel(sys.argv[1], config=CONFIG)
# 10 blocks of 64 rows of 2W = 2048 floats, rows padded to 2052, blocks to 64 * 2052 + 4.
state = torch.Tensor((10, 64, 2048), torch.float32, 0x10000, strides=(64 * 2052 + 4, 2052, 1))
block_table = torch.Tensor((5, 7), torch.int32, 0x20000, strides=(8, 1))
token_req = torch.Tensor((33,), torch.int32, 0x30000)
positions = torch.Tensor((33,), torch.int64, 0x40000)
weight = torch.Tensor((512,), torch.float32, 0x50000)
freqs_cis = torch.Tensor((4097, 32), torch.complex64, 0x60000)
out_loc = torch.Tensor((40,), torch.int64, 0x70000)
cache = torch.Tensor((7, 64 * 584), torch.uint8, 0x80000)
GOOD = dict(state=state, block_table=block_table, token_req=token_req, positions=positions,
            weight=weight, freqs_cis=freqs_cis, out_loc=out_loc, cache=cache)


def call(what, config=CONFIG, **bad):
    args = dict(GOOD, **bad)
    try:
        dsv4.compress_quantize_store(*args.values(), 1e-6, kernel=kernel, config=config)
        print(what, "| ok")
    except dsv4.Dsv4Error as e:
        print(what, "|", e)


call("compress call")
# One block: a size of 1 reports any stride; the block's length is passed.
call("one block", state=torch.Tensor((1, 64, 2048), torch.float32, 0x10000, strides=(7, 2048, 1)))
call("state 2-D", state=torch.Tensor((64, 2048), torch.float32, 0x10000))
call("state strided", state=torch.Tensor((10, 64, 2048), torch.float32, 0x10000,
                                         strides=(64 * 4096, 4096, 2)))
call("state bf16", state=torch.Tensor((10, 64, 2048), torch.bfloat16, 0x10000))
call("state narrow", state=torch.Tensor((10, 64, 1024), torch.float32, 0x10000))
call("state block size", state=torch.Tensor((10, 16, 2048), torch.float32, 0x10000))
call("state row stride", state=torch.Tensor((10, 64, 2048), torch.float32, 0x10000,
                                            strides=(64 * 2050, 2050, 1)))
call("block_table int64", block_table=torch.Tensor((5, 7), torch.int64, 0x20000))
call("block_table strided", block_table=torch.Tensor((5, 7), torch.int32, 0x20000,
                                                     strides=(16, 2)))
call("token_req int64", token_req=torch.Tensor((33,), torch.int64, 0x30000))
call("short positions", positions=torch.Tensor((32,), torch.int64, 0x40000))
call("int32 positions", positions=torch.Tensor((33,), torch.int32, 0x40000))
call("short out_loc", out_loc=torch.Tensor((32,), torch.int64, 0x70000))
call("float cache", cache=torch.Tensor((7, 64 * 584), torch.float32, 0x80000))
call("weight strided", weight=torch.Tensor((512,), torch.float32, 0x50000, strides=(2,)))
call("cpu tensor", token_req=torch.Tensor((33,), torch.int32, 0x30000, dev="cpu"))
call("no overlap", config=dataclasses.replace(CONFIG, overlap=False))
call("page size", config=dataclasses.replace(CONFIG, page_size=16))
try:
    dsv4.compress_norm_rope_quantize_store(
        torch.Tensor((40, 512), torch.float32, 0x10000), weight, freqs_cis,
        torch.Tensor((33,), torch.int32, 0x30000), out_loc, cache, 1e-6, kernel=kernel,
        config=dataclasses.replace(CONFIG, mode="decode", overlap=None, state_block_size=None))
except dsv4.Dsv4Error as e:
    print("store call |", e)
print("kernel", kernel.mode, kernel.overlap, kernel.state_block_size, kernel.layout)
