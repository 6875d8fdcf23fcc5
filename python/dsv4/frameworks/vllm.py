"""dsv4's compress kernel in place of vLLM's DeepSeek-V4 compressor store.

vLLM's DeepseekCompressor.forward (vllm/models/deepseek_v4/compressor.py) ends with one call,
by keyword, of compress_norm_rope_store_triton, compress_norm_rope_store_two_stage_triton
(fused_compress_quant_cache.py) or compress_norm_rope_store_cutedsl (nvidia/ops/
sparse_attn_compress_cutedsl.py): pool each window-ending token's window from the paged f32
state, RMSNorm, RoPE, quantize, store at the token's compressed slot. The functions of the same
names here take the same arguments (names, order, defaults) and launch dsv4's compress kernel
(SPEC.md "The compress step in front") on vLLM's tensors through views:

  state_cache [blocks, block_size, 2W] f32 -> state (its strides as they are)
  token_to_req_indices[:num_actual]        -> token_req (vLLM hands its whole buffer)
  positions, block_table, rms_norm_weight  -> positions, block_table, weight
  k_cache_metadata.slot_mapping            -> out_loc (the compressed slot; -1 stores nothing)
  kv_cache [pages, page_size, 584] uint8   -> cache, its pages as one flat byte view
  cos_sin_cache                            -> freqs_cis: complex64 [P, R/2] only (see below)

and the configuration from the call's facts: D = head_dim, R = rope_head_dim, ratio, overlap,
the state's block size, the cache's page size, the weight's dtype, eps, no Hadamard (vLLM's
compressor kernels rotate no layout) and the main layout.

What no view maps is refused, Dsv4Error naming the argument:
  - vLLM's cos_sin_cache, [P, R] with the R/2 cosines first and the sines after them: dsv4 reads
    interleaved (cos, sin) pairs. Make the complex64 [P, R/2] table once, when the model loads,
    with freqs_cis_of(rotary_emb.cos_sin_cache), and pass it as cos_sin_cache.
  - the indexer caches (head_dim 128): vLLM's FP8 indexer stores a power-of-two f32 scale of the
    bf16-rounded row where dsv4's indexer layout stores amax / 448 of the f32 row, and vLLM's
    MXFP4 indexer quantizes the bf16-rounded row into 132-byte tokens where dsv4's
    indexer_mxfp4 quantizes the f32 row into 68-byte ones: other bytes, not another view.
  - a plain-row cache (cutedsl's store_full_kv / store_full_fp8, a bf16 or fp8 kv_cache).
  - a device whose dsv4 store kernels write e4m3fnuz (gfx942): vLLM writes OCP e4m3fn.
Not read: slot_mapping (the tokens' state slots; vLLM also skips a token whose slot is -1, and
its compressed slot mapping is -1 there too, so out_loc alone decides), pdl_kwargs (dsv4
launches in stream order, after the kernel that wrote the state), the two-stage launcher's
num_decode_tokens and compress_scratch (one kernel serves every item). The main layout's 8th
scale byte of a token is padding vLLM writes as 0 and dsv4 leaves alone (SPEC.md).
"""
import functools

from .. import arguments, library
from ..runtime import Dsv4Error, compress_quantize_store

__all__ = ["compress_norm_rope_store_cutedsl", "compress_norm_rope_store_triton",
           "compress_norm_rope_store_two_stage_triton", "freqs_cis_of"]

_INVALID, _MISMATCH = "DSV4_ERR_INVALID_ARGUMENT", "DSV4_ERR_MISMATCH"
_LAYOUT = "main"
_MAIN_HEAD_DIM = 512
# DeepseekCompressor's geometry of the head_dim-512 cache (quant_block, token_stride, scale_dim),
# which is dsv4's main layout (SPEC.md): 448 FP8 and 64 bf16 channels in a 576-byte row, 8 scale
# bytes a token after a page's rows, a page rounded up to whole rows.
_MAIN = {"quant_block": 64, "token_stride": 576, "scale_dim": 8}
_MAIN_ROW = _MAIN["token_stride"]
# dsv4-gen --chip: gfx942's store kernels write e4m3fnuz (FP8_MAX 240); vLLM's compressor
# kernels write OCP e4m3fn (FP8_MAX 448) on every chip.
_FNUZ_CHIPS = ("gfx942",)
# arguments.py names each tensor as dsv4 does; a refusal names it as vLLM's caller knows it.
_VLLM_NAMES = {"state": "state_cache", "token_req": "token_to_req_indices",
               "weight": "rms_norm_weight", "freqs_cis": "cos_sin_cache",
               "out_loc": "k_cache_metadata.slot_mapping", "cache": "kv_cache"}


def _refuse(status, message):
    """arguments.py's refusal of a tensor (its message starts with dsv4's name of it)."""
    name = message.split(" ", 1)[0]
    return Dsv4Error(status, f"{_VLLM_NAMES[name]}: {message}" if name in _VLLM_NAMES
                     else message)


def freqs_cis_of(cos_sin_cache):
    """vLLM's rotary_emb.cos_sin_cache [P, R] (the R/2 cosines, then the R/2 sines) as the
    complex64 [P, R/2] table the adapter takes as cos_sin_cache. A new tensor, exact (bf16 and
    f32 values are complex64 parts unchanged): make it once per rotary embedding, when the
    model loads, not per call."""
    import torch

    if cos_sin_cache.dim() != 2 or cos_sin_cache.shape[1] % 2:
        raise ValueError(f"dsv4: cos_sin_cache must be [P, R] with R even, got shape "
                         f"{tuple(cos_sin_cache.shape)}")
    half = cos_sin_cache.shape[1] // 2
    return torch.complex(cos_sin_cache[:, :half].float(), cos_sin_cache[:, half:].float())


def _check_main_layout(head_dim, use_fp4_cache, quant_block, token_stride, scale_dim):
    """vLLM's cache is the main compressed KV cache in dsv4's main layout (the module docstring
    says why the indexer caches are not)."""
    if use_fp4_cache or head_dim != _MAIN_HEAD_DIM:
        raise Dsv4Error(_MISMATCH, (
            f"head_dim={head_dim}, use_fp4_cache={use_fp4_cache}: dsv4 stands in for vLLM's main "
            f"compressed KV cache only (head_dim 512); vLLM's indexer caches hold other bytes "
            f"than dsv4's indexer layouts (FP8: a power-of-two scale of the bf16-rounded row, "
            f"not amax / 448 of the f32 row; MXFP4: the bf16-rounded row in 132-byte tokens, not "
            f"the f32 row in 68-byte ones)"))
    for name, value in (("quant_block", quant_block), ("token_stride", token_stride),
                        ("scale_dim", scale_dim)):
        if value != _MAIN[name]:
            raise Dsv4Error(_MISMATCH, f"{name}={value}: dsv4's main layout has "
                                       f"{name}={_MAIN[name]} (SPEC.md)")


def _real_freqs(cos_sin_cache):
    """cos_sin_cache as arguments.py takes it: only a complex table is interleaved for sure."""
    if not cos_sin_cache.is_complex():
        raise Dsv4Error(_MISMATCH, (
            f"cos_sin_cache is {cos_sin_cache.dtype} {tuple(cos_sin_cache.shape)}: vLLM's table "
            f"holds the R/2 cosines, then the sines, dsv4 reads (cos, sin) pairs and no view "
            f"turns one into the other; pass dsv4.frameworks.vllm.freqs_cis_of(cos_sin_cache), "
            f"made once, complex64 [P, R/2]"))
    return cos_sin_cache


def _items(token_to_req_indices, num_actual):
    """token_req: the first num_actual entries of vLLM's buffer, a view."""
    if isinstance(num_actual, bool) or not isinstance(num_actual, int) or \
            token_to_req_indices.dim() != 1 or \
            not 0 <= num_actual <= token_to_req_indices.shape[0]:
        raise Dsv4Error(_INVALID, f"token_to_req_indices must be 1-D with at least num_actual = "
                                  f"{num_actual!r} entries, got shape "
                                  f"{tuple(token_to_req_indices.shape)}")
    return token_to_req_indices.narrow(0, 0, num_actual)


def _page_bytes(page_size):
    return -(-(_MAIN["token_stride"] + _MAIN["scale_dim"]) * page_size // _MAIN_ROW) * _MAIN_ROW


def _cache_view(kv_cache):
    """(kv_cache's pages as one flat uint8 view, its page size). vLLM's kernels address a page
    as bytes from kv_cache.stride(0) and take kv_cache.shape[1] tokens a page; dsv4's kernel
    places pages at its layout's page bytes, so the two strides must agree. The view spans
    whole pages, as vLLM's kernels assume its allocation does (torch refuses a view past the
    storage)."""
    import torch

    if kv_cache.dtype != torch.uint8 or kv_cache.dim() != 3:
        raise Dsv4Error(_MISMATCH, f"kv_cache must be vLLM's fp8_ds_mla cache, uint8 "
                                   f"[pages, page_size, 584], got {kv_cache.dtype} "
                                   f"{tuple(kv_cache.shape)} (a plain-row cache is no dsv4 "
                                   f"layout)")
    pages, page_size = kv_cache.shape[0], kv_cache.shape[1]
    page_bytes = _page_bytes(page_size)
    # A dimension of size 1 may report any stride.
    if pages > 1 and kv_cache.stride(0) != page_bytes:
        raise Dsv4Error(_MISMATCH, f"kv_cache pages are {kv_cache.stride(0)} bytes apart; dsv4's "
                                   f"main layout has {page_bytes} for {page_size} tokens a page "
                                   f"(584 bytes a token, rounded up to 576-byte rows)")
    return kv_cache.as_strided((pages * page_bytes,), (1,)), page_size


def _check_state(state_cache, block_size, state_width, head_dim, overlap):
    """vLLM's kernel addresses the state with block_size and state_width, dsv4's with the
    state's own shape: they must agree, and W must be the window kind's (SPEC.md: 2D where
    windows overlap, else D)."""
    if block_size != state_cache.shape[1]:
        raise Dsv4Error(_MISMATCH, f"block_size={block_size}, but state_cache has blocks of "
                                   f"{state_cache.shape[1]} rows")
    if 2 * state_width != state_cache.shape[2]:
        raise Dsv4Error(_MISMATCH, f"state_width={state_width}, but state_cache rows hold "
                                   f"{state_cache.shape[2]} floats (2 * state_width)")
    if state_width != (2 if overlap else 1) * head_dim:
        raise Dsv4Error(_MISMATCH, f"overlap={overlap} with state_width={state_width}: windows "
                                   f"{'' if overlap else 'not '}overlapping read state rows of "
                                   f"W = {(2 if overlap else 1) * head_dim} for head_dim "
                                   f"{head_dim}")


@functools.lru_cache(maxsize=None)
def _config(head_dim, rope_dim, weight_dtype, eps, ratio, overlap, block_size, page_size):
    # Built once per layer kind: Config checks every field on construction.
    return library.Config(mode=library.COMPRESS_MODE, head_dim=head_dim, rope_dim=rope_dim,
                          kv_dtype="f32", weight_dtype=weight_dtype, eps=eps, ratio=ratio,
                          rotate=False, layout=_LAYOUT, page_size=page_size, overlap=overlap,
                          state_block_size=block_size)


@functools.lru_cache(maxsize=None)
def _kernel(config, device):
    """The loaded kernel of `config` on `device`, once per pair: the library's own lookup takes
    a lock and walks its indexes on every call."""
    chip = library.chip_of(device)
    if chip in _FNUZ_CHIPS:
        raise Dsv4Error(_MISMATCH, f"{chip}: dsv4's store kernels for this chip write "
                                   f"e4m3fnuz, vLLM's cache holds OCP e4m3fn")
    return library.get_kernel(config, device)


def _store(state_cache, num_actual, token_to_req_indices, positions, block_table, block_size,
           state_width, cos_sin_cache, kv_cache, k_cache_metadata, head_dim, rope_head_dim,
           compress_ratio, overlap, use_fp4_cache, rms_norm_weight, rms_norm_eps, quant_block,
           token_stride, scale_dim):
    _check_main_layout(head_dim, use_fp4_cache, quant_block, token_stride, scale_dim)
    freqs_cis = _real_freqs(cos_sin_cache)
    token_req = _items(token_to_req_indices, num_actual)
    cache, page_size = _cache_view(kv_cache)
    out_loc = k_cache_metadata.slot_mapping
    call = arguments.compress(state_cache, block_table, token_req, positions, rms_norm_weight,
                              freqs_cis, out_loc, cache, head_dim, _refuse)
    if call.freqs.shape[1] != rope_head_dim:
        raise Dsv4Error(_MISMATCH, f"rope_head_dim={rope_head_dim}, but cos_sin_cache holds "
                                   f"{call.freqs.shape[1] // 2} (cos, sin) pairs a position "
                                   f"(rope_head_dim {call.freqs.shape[1]})")
    _check_state(state_cache, block_size, state_width, head_dim, overlap)
    config = _config(head_dim, rope_head_dim, call.weight_dtype, float(rms_norm_eps),
                     compress_ratio, bool(overlap), block_size, page_size)
    compress_quantize_store(state_cache, block_table, token_req, positions, rms_norm_weight,
                            freqs_cis, out_loc, cache, rms_norm_eps,
                            kernel=_kernel(config, state_cache.device), config=config)


def compress_norm_rope_store_triton(state_cache, num_actual, token_to_req_indices, positions,
                                    slot_mapping, block_table, block_size, state_width,
                                    cos_sin_cache, kv_cache, k_cache_metadata, pdl_kwargs,
                                    head_dim, rope_head_dim, compress_ratio, overlap,
                                    use_fp4_cache, rms_norm_weight, rms_norm_eps, quant_block,
                                    token_stride, scale_dim):
    """vLLM's fused_compress_quant_cache.compress_norm_rope_store_triton, by dsv4 (the module
    docstring: what maps, what is refused, what is not read)."""
    _store(state_cache, num_actual, token_to_req_indices, positions, block_table, block_size,
           state_width, cos_sin_cache, kv_cache, k_cache_metadata, head_dim, rope_head_dim,
           compress_ratio, overlap, use_fp4_cache, rms_norm_weight, rms_norm_eps, quant_block,
           token_stride, scale_dim)


def compress_norm_rope_store_two_stage_triton(state_cache, num_actual, token_to_req_indices,
                                              positions, slot_mapping, block_table, block_size,
                                              state_width, cos_sin_cache, kv_cache,
                                              k_cache_metadata, pdl_kwargs, head_dim,
                                              rope_head_dim, compress_ratio, overlap,
                                              use_fp4_cache, rms_norm_weight, rms_norm_eps,
                                              quant_block, token_stride, scale_dim,
                                              num_decode_tokens, compress_scratch):
    """vLLM's compress_norm_rope_store_two_stage_triton (ratio 128 on ROCm: decode tokens in one
    pass, prefill tokens split in two); dsv4's one kernel serves both, so num_decode_tokens and
    compress_scratch are not read."""
    _store(state_cache, num_actual, token_to_req_indices, positions, block_table, block_size,
           state_width, cos_sin_cache, kv_cache, k_cache_metadata, head_dim, rope_head_dim,
           compress_ratio, overlap, use_fp4_cache, rms_norm_weight, rms_norm_eps, quant_block,
           token_stride, scale_dim)


def compress_norm_rope_store_cutedsl(state_cache, num_actual, token_to_req_indices, positions,
                                     slot_mapping, block_table, block_size, state_width,
                                     cos_sin_cache, kv_cache, k_cache_metadata, pdl_kwargs,
                                     head_dim, rope_head_dim, compress_ratio, overlap,
                                     use_fp4_cache, rms_norm_weight, rms_norm_eps, quant_block,
                                     token_stride, scale_dim, store_full_kv=False,
                                     store_full_fp8=False, fp8_scale=None):
    """vLLM's nvidia/ops/sparse_attn_compress_cutedsl.compress_norm_rope_store_cutedsl: the
    fp8_ds_mla store; the plain-row stores (store_full_kv, store_full_fp8 with fp8_scale) are
    no dsv4 layout and are refused."""
    if store_full_kv or store_full_fp8:
        raise Dsv4Error(_MISMATCH, f"store_full_kv={store_full_kv}, store_full_fp8="
                                   f"{store_full_fp8}: a plain-row cache is no dsv4 layout")
    _store(state_cache, num_actual, token_to_req_indices, positions, block_table, block_size,
           state_width, cos_sin_cache, kv_cache, k_cache_metadata, head_dim, rope_head_dim,
           compress_ratio, overlap, use_fp4_cache, rms_norm_weight, rms_norm_eps, quant_block,
           token_stride, scale_dim)
