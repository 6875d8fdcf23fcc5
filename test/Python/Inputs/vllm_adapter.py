"""dsv4.frameworks.vllm with the fake torch (test/Runtime/Inputs/fake_torch) and the fake HIP:
the adapter's entries have vLLM's launchers' signatures; vLLM-shaped calls (a decode step of a
ratio-4 layer, a prefill chunk of a ratio-128 layer) launch the library's compress kernel of
the call's configuration with vLLM's own pointers and strides (the fake HIP logs them); what
does not map is refused with the documented message before any launch."""
import inspect
import os
import types

import dsv4
import dsv4.frameworks.vllm as vllm
import torch

T = torch.Tensor

# vLLM's signatures (fused_compress_quant_cache.py, sparse_attn_compress_cutedsl.py).
for entry in (vllm.compress_norm_rope_store_triton, vllm.compress_norm_rope_store_two_stage_triton,
              vllm.compress_norm_rope_store_cutedsl):
    params = inspect.signature(entry).parameters.values()
    print(entry.__name__, "|", " ".join(p.name if p.default is inspect.Parameter.empty
                                         else f"{p.name}={p.default}" for p in params))


def decode_args(**changes):
    """A decode step of a ratio-4 layer as DeepseekCompressor.forward calls the store: three
    requests, one token each; the state blocks 4 rows of 2W = 2048 floats, block stride padded
    (the state shares its pages with the KV cache); the block table's rows padded to 20; vLLM's
    token_to_req_indices buffer of 64 and a positions buffer padded to 8 (CUDA graph); the cache
    12 pages of 64 tokens, 65 * 576 bytes apart."""
    args = dict(
        state_cache=T((40, 4, 2048), torch.float32, 0x100000, strides=(9360, 2048, 1)),
        num_actual=3,
        token_to_req_indices=T((64,), torch.int32, 0x200000),
        positions=T((8,), torch.int64, 0x300000),
        slot_mapping=T((3,), torch.int64, 0x400000),
        block_table=T((3, 16), torch.int32, 0x500000, strides=(20, 1)),
        block_size=4, state_width=1024,
        cos_sin_cache=T((65536, 32), torch.complex64, 0x600000),
        kv_cache=T((12, 64, 584), torch.uint8, 0x700000, strides=(37440, 584, 1)),
        k_cache_metadata=types.SimpleNamespace(slot_mapping=T((3,), torch.int64, 0x800000)),
        pdl_kwargs={"launch_pdl": False},
        head_dim=512, rope_head_dim=64, compress_ratio=4, overlap=True, use_fp4_cache=False,
        rms_norm_weight=T((512,), torch.float32, 0x900000), rms_norm_eps=1e-6,
        quant_block=64, token_stride=576, scale_dim=8)
    args.update(changes)
    return args


def prefill_args(**changes):
    """A prefill chunk of 300 tokens of a ratio-128 layer through the two-stage launcher:
    state blocks of 8 rows of 2W = 1024 floats (no overlap), the norm weight in bf16, the cache
    50 pages of 2 tokens, 3 * 576 bytes apart."""
    args = dict(
        state_cache=T((100, 8, 1024), torch.float32, 0x1000000, strides=(8640, 1024, 1)),
        num_actual=300,
        token_to_req_indices=T((8192,), torch.int32, 0x2000000),
        positions=T((300,), torch.int64, 0x3000000),
        slot_mapping=T((300,), torch.int64, 0x4000000),
        block_table=T((2, 64), torch.int32, 0x5000000),
        block_size=8, state_width=512,
        cos_sin_cache=T((65536, 32), torch.complex64, 0x6000000),
        kv_cache=T((50, 2, 584), torch.uint8, 0x7000000, strides=(1728, 584, 1)),
        k_cache_metadata=types.SimpleNamespace(slot_mapping=T((300,), torch.int64, 0x8000000)),
        pdl_kwargs={},
        head_dim=512, rope_head_dim=64, compress_ratio=128, overlap=False, use_fp4_cache=False,
        rms_norm_weight=T((512,), torch.bfloat16, 0xa000000), rms_norm_eps=1e-6,
        quant_block=64, token_stride=576, scale_dim=8,
        num_decode_tokens=0, compress_scratch=T((8192, 512), torch.float32, 0xb000000))
    args.update(changes)
    return args


def attempt(what, fn, args):
    # By keyword, as DeepseekCompressor.forward calls the launcher.
    try:
        fn(**args)
        print(what, "| ok")
    except (ValueError, dsv4.Dsv4Error, dsv4.KernelNotFound) as e:
        print(what, "|", type(e).__name__, str(e).split(": none in")[0])


triton, cutedsl = vllm.compress_norm_rope_store_triton, vllm.compress_norm_rope_store_cutedsl
# On gfx942 dsv4's store kernels write e4m3fnuz: refused before any kernel is looked up.
os.environ["DSV4_FAKE_TORCH_ARCH"] = "gfx942"
attempt("gfx942", triton, decode_args())
os.environ["DSV4_FAKE_TORCH_ARCH"] = "gfx950"

attempt("decode", triton, decode_args())
attempt("decode cutedsl", cutedsl, decode_args())
attempt("decode again", triton, decode_args())
attempt("prefill two-stage", vllm.compress_norm_rope_store_two_stage_triton, prefill_args())
# The lookup is cached per configuration and device: a miss for the gfx942 call (a refusal is
# not cached) and for each configuration's first call, hits for the decode's next two.
info = vllm._kernel.cache_info()
print(f"kernel lookups | misses={info.misses} hits={info.hits}")

for what, changes in (
        ("vLLM cos_sin_cache", dict(cos_sin_cache=T((65536, 64), torch.float32, 0x600000))),
        ("rope_head_dim 32", dict(rope_head_dim=32)),
        ("indexer fp8", dict(head_dim=128, quant_block=128, token_stride=128, scale_dim=4)),
        ("indexer mxfp4", dict(head_dim=128, use_fp4_cache=True, quant_block=32,
                               token_stride=64, scale_dim=4)),
        ("token_stride 584", dict(token_stride=584)),
        ("bf16 kv_cache", dict(kv_cache=T((12, 64, 512), torch.bfloat16, 0x700000))),
        ("unpadded pages", dict(kv_cache=T((12, 64, 584), torch.uint8, 0x700000))),
        ("page size 48", dict(kv_cache=T((12, 48, 584), torch.uint8, 0x700000,
                                         strides=(28224, 584, 1)))),
        ("page size 32", dict(kv_cache=T((12, 32, 584), torch.uint8, 0x700000,
                                         strides=(19008, 584, 1)))),
        ("block_size 8", dict(block_size=8)),
        ("state_width 512", dict(state_width=512)),
        ("overlap False", dict(overlap=False)),
        ("num_actual 65", dict(num_actual=65)),
        ("int64 token_to_req_indices", dict(token_to_req_indices=T((64,), torch.int64, 0x200000))),
        ("short slot mapping", dict(k_cache_metadata=types.SimpleNamespace(
            slot_mapping=T((2,), torch.int64, 0x800000)))),
        ("strided weight", dict(rms_norm_weight=T((512,), torch.float32, 0x900000,
                                                  strides=(2,)))),
        ("f16 weight", dict(rms_norm_weight=T((512,), torch.float16, 0x900000))),
        ("state 2-D", dict(state_cache=T((40, 8192), torch.float32, 0x100000)))):
    attempt(what, triton, decode_args(**changes))
attempt("cutedsl store_full_kv", cutedsl, decode_args(store_full_kv=True))
