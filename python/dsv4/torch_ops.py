"""torch.ops.dsv4.*: the epilogue as a torch custom op, traceable by torch.compile and
capturable in CUDA graphs. Importing this module registers the ops (it needs torch >= 2.4);
`import dsv4` alone does not import torch.

    torch.ops.dsv4.compress_norm_rope_hadamard_(kv, weight, freqs, plan, eps, ratio, rotate)

updates kv [N, D] in place, and

    torch.ops.dsv4.compress_norm_rope_quantize_store_(kv, weight, freqs, plan, out_loc, cache,
                                                      eps, ratio, rotate, layout, page_size)

reads kv and stores each finished row, quantized, into the paged uint8 `cache` at slot
out_loc[item] (SPEC.md "Storing into the paged caches"; layout "indexer" or "main" for FP8,
"indexer_mxfp4" for MXFP4, page_size tokens a page), and

    torch.ops.dsv4.compress_quantize_store_(state, block_table, token_req, positions, weight,
                                            freqs, out_loc, cache, eps, ratio, rotate, layout,
                                            page_size)

pools each window-ending token's window from the paged f32 state cache [blocks, block_size, 2W]
through the block table, then norms, ropes, rotates and stores it the same way (SPEC.md "The
compress step in front"); the state is only read. Under torch.compile, call them through
`dsv4.torch_ops.compress_norm_rope_hadamard_` / `compress_norm_rope_quantize_store_` /
`compress_quantize_store_`, which take the framework's complex64 freqs_cis [P, R/2] and hand the
op its float32 [P, R] view: Inductor cannot lower an op with a complex argument (it falls back,
and an op's functionalization is then never undone). The kernel is chosen by the tensors (kv and
weight dtypes, D, R from freqs_cis, decode for seq_lens [B] or prefill for plan [M, 4]; for a
compress op D from weight, the state's block size, and overlapping windows from its width) and
the scalars (and a store's layout and page size), through dsv4.get_kernel (library, cache, or
compiled on first use), once per device and configuration.
"""
import dataclasses

import torch

from . import arguments, library
from .runtime import (compress_norm_rope_hadamard_inplace, compress_norm_rope_quantize_store,
                      compress_quantize_store)

__all__ = ["config_of", "store_config_of", "compress_config_of", "compress_norm_rope_hadamard_",
           "compress_norm_rope_quantize_store_", "compress_quantize_store_"]


def _value_error(_status, message):
    """The ops' exception for a rule of dsv4.arguments (the status is the plain calls')."""
    return ValueError(f"dsv4: {message}")


def config_of(kv, weight, freqs_cis, plan, eps, ratio, rotate):
    """The library.Config these arguments call for (the tensors as arguments.epilogue checks
    them); ValueError naming the argument otherwise. Reads only dtypes, shapes and strides, so
    it runs on fake tensors too."""
    call = arguments.epilogue(kv, weight, freqs_cis, plan, _value_error)
    return library.Config(mode=call.mode, head_dim=call.head_dim, rope_dim=call.freqs.shape[1],
                          kv_dtype=call.kv_dtype, weight_dtype=call.weight_dtype, eps=eps,
                          ratio=ratio, rotate=rotate)


def store_config_of(kv, weight, freqs_cis, plan, out_loc, cache, eps, ratio, rotate, layout,
                    page_size):
    """config_of for the store: also out_loc (int64 or int32 slots: the kernel of its dtype) and
    cache (arguments.store_buffers), and the configuration's layout and page size
    (library.Config checks their values)."""
    config = config_of(kv, weight, freqs_cis, plan, eps, ratio, rotate)
    slots = arguments.store_buffers(out_loc, cache, plan.shape[0], _value_error,
                                    arguments.STORE_SLOTS)
    return dataclasses.replace(config, layout=layout, page_size=page_size, out_loc_dtype=slots)


def compress_config_of(state, block_table, token_req, positions, weight, freqs_cis, out_loc,
                       cache, eps, ratio, rotate, layout, page_size):
    """The library.Config of a compress call (the tensors as arguments.compress checks them):
    D is weight's, the state block size the state's, and the windows overlap when a state row
    holds 2W = 4D floats (2D: they do not). ValueError naming the argument otherwise; reads
    only dtypes, shapes and strides, so it runs on fake tensors too."""
    call = arguments.compress(state, block_table, token_req, positions, weight, freqs_cis,
                              out_loc, cache, None, _value_error)
    head_dim = weight.shape[0]
    # The plain call states overlap and the kernel's dtype, and the shim checks the state
    # against them; the op derives them from the state, so it refuses any other here.
    # 2W, W = 2D where windows overlap. Compared, not hashed: under torch.compile the sizes
    # may be symbolic.
    if state.dtype != torch.float32 or state.shape[2] not in (4 * head_dim, 2 * head_dim):
        raise ValueError(f"dsv4: state must be float32 [blocks, block_size, 2W] with 2W = "
                         f"{4 * head_dim} (overlapping windows) or {2 * head_dim} for D = "
                         f"{head_dim}, got {state.dtype} {tuple(state.shape)}")
    return library.Config(mode=library.COMPRESS_MODE, head_dim=head_dim,
                          rope_dim=call.freqs.shape[1], kv_dtype=call.state_dtype,
                          weight_dtype=call.weight_dtype, eps=eps, ratio=ratio,
                          rotate=rotate, layout=layout, page_size=page_size,
                          overlap=bool(state.shape[2] == 4 * head_dim),
                          state_block_size=state.shape[1])


def _kernel_for(config, device):
    """The loaded kernel of `config` on `device`, checked against what the call asks."""
    kernel = library.get_kernel(config, device)
    library.check_kernel(kernel, config)
    return kernel


@torch.library.custom_op("dsv4::compress_norm_rope_hadamard_", mutates_args=("kv",),
                         device_types="cuda")
def _op(kv: torch.Tensor, weight: torch.Tensor, freqs: torch.Tensor, plan: torch.Tensor,
        eps: float, ratio: int, rotate: bool) -> None:
    config = config_of(kv, weight, freqs, plan, eps, ratio, rotate)
    compress_norm_rope_hadamard_inplace(kv, weight, freqs, plan, eps,
                                        kernel=_kernel_for(config, kv.device), config=config)


def compress_norm_rope_hadamard_(kv, weight, freqs_cis, plan, eps, ratio, rotate):
    """torch.ops.dsv4.compress_norm_rope_hadamard_ with freqs_cis complex64 [P, R/2] (or float32
    [P, R]) viewed as float32 first, so that torch.compile can trace the call."""
    freqs = arguments.real_view(torch, freqs_cis)
    torch.ops.dsv4.compress_norm_rope_hadamard_(kv, weight, freqs, plan, eps, ratio, rotate)


@_op.register_fake
def _(kv, weight, freqs_cis, plan, eps, ratio, rotate):
    # The same argument checks as the real op, so a bad call fails at trace time; kv is updated
    # in place, so there is no output to describe.
    config_of(kv, weight, freqs_cis, plan, eps, ratio, rotate)


@torch.library.custom_op("dsv4::compress_norm_rope_quantize_store_", mutates_args=("cache",),
                         device_types="cuda")
def _store_op(kv: torch.Tensor, weight: torch.Tensor, freqs: torch.Tensor, plan: torch.Tensor,
              out_loc: torch.Tensor, cache: torch.Tensor, eps: float, ratio: int, rotate: bool,
              layout: str, page_size: int) -> None:
    config = store_config_of(kv, weight, freqs, plan, out_loc, cache, eps, ratio, rotate, layout,
                             page_size)
    compress_norm_rope_quantize_store(kv, weight, freqs, plan, out_loc, cache, eps,
                                      kernel=_kernel_for(config, kv.device), config=config)


def compress_norm_rope_quantize_store_(kv, weight, freqs_cis, plan, out_loc, cache, eps, ratio,
                                       rotate, layout, page_size=library.DEFAULT_PAGE_SIZE):
    """torch.ops.dsv4.compress_norm_rope_quantize_store_ with freqs_cis complex64 [P, R/2] (or
    float32 [P, R]) viewed as float32 first, so that torch.compile can trace the call."""
    freqs = arguments.real_view(torch, freqs_cis)
    torch.ops.dsv4.compress_norm_rope_quantize_store_(kv, weight, freqs, plan, out_loc, cache,
                                                      eps, ratio, rotate, layout, page_size)


@_store_op.register_fake
def _(kv, weight, freqs, plan, out_loc, cache, eps, ratio, rotate, layout, page_size):
    # The real op's argument checks, at trace time; the cache is written in place.
    store_config_of(kv, weight, freqs, plan, out_loc, cache, eps, ratio, rotate, layout,
                    page_size)


@torch.library.custom_op("dsv4::compress_quantize_store_", mutates_args=("cache",),
                         device_types="cuda")
def _compress_op(state: torch.Tensor, block_table: torch.Tensor, token_req: torch.Tensor,
                 positions: torch.Tensor, weight: torch.Tensor, freqs: torch.Tensor,
                 out_loc: torch.Tensor, cache: torch.Tensor, eps: float, ratio: int, rotate: bool,
                 layout: str, page_size: int) -> None:
    config = compress_config_of(state, block_table, token_req, positions, weight, freqs, out_loc,
                                cache, eps, ratio, rotate, layout, page_size)
    compress_quantize_store(state, block_table, token_req, positions, weight, freqs, out_loc,
                            cache, eps, kernel=_kernel_for(config, state.device), config=config)


def compress_quantize_store_(state, block_table, token_req, positions, weight, freqs_cis, out_loc,
                             cache, eps, ratio, rotate, layout,
                             page_size=library.DEFAULT_PAGE_SIZE):
    """torch.ops.dsv4.compress_quantize_store_ with freqs_cis complex64 [P, R/2] (or float32
    [P, R]) viewed as float32 first, so that torch.compile can trace the call."""
    freqs = arguments.real_view(torch, freqs_cis)
    torch.ops.dsv4.compress_quantize_store_(state, block_table, token_req, positions, weight,
                                            freqs, out_loc, cache, eps, ratio, rotate, layout,
                                            page_size)


@_compress_op.register_fake
def _(state, block_table, token_req, positions, weight, freqs, out_loc, cache, eps, ratio, rotate,
      layout, page_size):
    # The real op's argument checks, at trace time; the cache is written in place.
    compress_config_of(state, block_table, token_req, positions, weight, freqs, out_loc, cache,
                       eps, ratio, rotate, layout, page_size)
