"""sglang's DeepSeek-V4 compressor store, on dsv4's kernels: the compressor swaps one import.

`compress_norm_rope_store` takes exactly the arguments of sglang's
`sglang.jit_kernel.dsv4.compress.compress_norm_rope_store` (fused_norm_rope_v2.cuh's
FusedNormRopeKernel::forward and forward_fp4): the compressor's rows `kv` [N, D], sglang's
plan (a CompressorDecodePlan of DecodePlan structs, or a CompressorPrefillPlan whose CompressPlan
structs name each row's out_loc entry by ragged id), the norm weight and eps, the complex
freq_cis, out_loc (int64, or int32 as earlier sglang versions had it), the paged cache and its
page size. The plan structs are read in place
(Handle.def's sglang_decode and sglang_extend kinds: the uint8 [N, 16] tensor viewed as int32
[N, 4]), nothing is copied. D = 128 is the indexer (rotated; FP8, or MXFP4 with use_fp4),
D = 512 the main compressor (FP8 nope channels and bf16 rope channels), as sglang asserts.

What differs from sglang's kernels: dsv4 rounds e2m1 ties to even (SPEC.md; sglang's
bucketize rounds them down), skips an MXFP4 decode row whose state locations are negative as
its FP8 kernels do, and writes nothing outside the cache. bf16_store (a plain bf16 cache) has no
dsv4 kernel: it is refused, never converted.
"""
from .. import _abi
from ..arguments import dtype_name, slot_dtype
from ..library import Config, get_kernel
from ..runtime import Dsv4Error, compress_norm_rope_quantize_store

# A plan struct is one row of int32 plan columns (Handle.def): 16 bytes.
_PLAN_BYTES = 4 * len(_abi.PLAN_FIELDS)
# sglang's two compressors: (layout, rotate) by head dim and use_fp4.
_LAYOUTS = {(128, False): ("indexer", True), (128, True): ("indexer_mxfp4", True),
            (512, False): ("main", False)}


def _refuse(message):
    return Dsv4Error("DSV4_ERR_INVALID_ARGUMENT", message)


def _plan_view(torch, plan, rows):
    """sglang's plan structs, uint8 [N, 16] (contiguous, one per kv row, as sglang's kernel
    requires), as the int32 [N, 4] view dsv4 reads."""
    structs = plan[1]
    if structs.dtype != torch.uint8 or structs.dim() != 2 or structs.shape[1] != _PLAN_BYTES \
            or not structs.is_contiguous() or structs.shape[0] != rows:
        raise _refuse(f"plan[1] must be sglang's contiguous uint8 [N, {_PLAN_BYTES}] plan structs "
                      f"for kv's N = {rows} rows, got {structs.dtype} {tuple(structs.shape)} "
                      f"strides {structs.stride()}")
    return structs.view(torch.int32)


def configuration(torch, kv, plan, norm_weight, norm_eps, freq_cis, page_size, use_fp4, out_loc):
    """The dsv4.Config of an sglang call: its mode from the plan's kind, D and dtypes from the
    tensors, ratio from the plan, R from freq_cis (complex [P, R/2]), the slots' type from
    out_loc (int64, or int32 as earlier sglang versions keep them)."""
    slots = slot_dtype(torch, out_loc.dtype)
    if slots is None:
        raise _refuse(f"out_loc must be int64 or int32, got {out_loc.dtype}")
    head_dim = kv.shape[-1]
    if (head_dim, bool(use_fp4)) not in _LAYOUTS:
        raise _refuse(f"sglang's compressor stores D = 128 (indexer, FP8 or use_fp4) or D = 512 "
                      f"(main, FP8); got D = {head_dim} with use_fp4={use_fp4}")
    layout, rotate = _LAYOUTS[head_dim, bool(use_fp4)]
    rope_dim = 2 * freq_cis.shape[-1] if freq_cis.is_complex() else freq_cis.shape[-1]
    return Config(mode="sglang_decode" if plan.is_decode else "sglang_extend",
                  head_dim=head_dim, rope_dim=rope_dim,
                  kv_dtype=dtype_name(torch, kv.dtype) or str(kv.dtype),
                  weight_dtype=dtype_name(torch, norm_weight.dtype) or str(norm_weight.dtype),
                  eps=norm_eps, ratio=plan.compress_ratio, rotate=rotate, layout=layout,
                  page_size=page_size, out_loc_dtype=slots)


def compress_norm_rope_store(kv, plan, *, norm_weight, norm_eps, freq_cis, out_loc, kvcache,
                             page_size, use_fp4=False, bf16_store=False):
    """sglang's call: each plan row's finished kv row (RMSNorm, RoPE at seq_len - ratio, the
    Hadamard for the indexer) quantized into `kvcache` at its out_loc slot; kv is only read. A
    decode plan's row b stores at out_loc[b] when seq_len ends a window; an extend plan's row m
    at out_loc[ragged_id]. The kernel is dsv4.get_kernel's for the call's configuration on kv's
    device (the package's library, else compiled into the cache; loaded once, then shared)."""
    import torch  # lazily: the package imports without torch

    if bf16_store:
        raise _refuse("bf16_store (a plain bf16 cache) has no dsv4 kernel")
    config = configuration(torch, kv, plan, norm_weight, norm_eps, freq_cis, page_size, use_fp4,
                           out_loc)
    structs = _plan_view(torch, plan, kv.shape[0])
    compress_norm_rope_quantize_store(kv, norm_weight, freq_cis, structs, out_loc, kvcache,
                                      norm_eps, kernel=get_kernel(config, kv.device),
                                      config=config)
