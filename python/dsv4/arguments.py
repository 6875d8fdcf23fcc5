"""What the framework's tensors must be, each rule written once for both Python entries: the
plain calls of runtime.py (dsv4.compress_norm_rope_hadamard_inplace, ...) and the torch ops of
torch_ops.py (config_of, ...).

Each entry raises its own exception, so a caller passes `refuse(status, message)`, which makes
it: runtime.Dsv4Error (status is the dsv4_status name the plain calls report) or the ops'
ValueError (status unused). Every rule reads only dtypes, shapes and strides, so the ops' fake
implementations run them on fake tensors at trace time. What the shim checks against the
kernel (D, R, dtypes the kernel was not compiled for, the state's dtype and width) is left to
it, except where a torch op must know it to choose the kernel (torch_ops.py)."""
import dataclasses

from . import _abi
from .library import _KV_DTYPES, _OUT_LOC_DTYPES, _WEIGHT_DTYPES

_PLAN_FIELDS = len(_abi.PLAN_FIELDS)
_INVALID, _MISMATCH = "DSV4_ERR_INVALID_ARGUMENT", "DSV4_ERR_MISMATCH"


@dataclasses.dataclass(frozen=True)
class Epilogue:
    """What an epilogue call's tensors say: mode "decode" (seq_lens [B]), "prefill" (plan
    [M, len(PLAN_FIELDS)]) or the plan mode the caller named, D (kv's), the kv and weight
    dtype names, and freqs, the float32 [P, R] view of freqs_cis (R = freqs.shape[1])."""
    mode: str
    head_dim: int
    kv_dtype: str
    weight_dtype: str
    freqs: object


@dataclasses.dataclass(frozen=True)
class Compress:
    """What a compress call's tensors say: the state's dtype name, the number of items
    (token_req's), the weight dtype name and freqs as for Epilogue. Whether the state's dtype,
    block size and width are the kernel's is the shim's to check (the torch op derives its
    configuration from them)."""
    state_dtype: str
    items: int
    weight_dtype: str
    freqs: object


def real_view(torch, freqs_cis):
    """complex [P, R/2] freqs_cis as its float [P, R] view (cos/sin interleaved); a real tensor
    as it is."""
    return torch.view_as_real(freqs_cis).flatten(-2) if freqs_cis.is_complex() else freqs_cis


def dtype_name(torch, dtype):
    """The kernel's name of a float dtype; None for any other."""
    return {torch.float32: "f32", torch.bfloat16: "bf16", torch.float16: "f16"}.get(dtype)


def _contiguous_last_dim(t):
    # A dimension of size 1 may report any stride; the kernel never steps along it.
    return t.shape[-1] <= 1 or t.stride(-1) == 1


def _check_weight(torch, weight, head_dim, refuse):
    """weight a contiguous f32/bf16 [D] (of any length where head_dim is None: D is weight's);
    its dtype name."""
    if weight.dim() != 1 or not _contiguous_last_dim(weight):
        raise refuse(_INVALID, f"weight must be a contiguous 1-D tensor, got shape "
                               f"{tuple(weight.shape)} strides {weight.stride()}")
    name = dtype_name(torch, weight.dtype)
    if name not in _WEIGHT_DTYPES or head_dim is not None and weight.shape[0] != head_dim:
        raise refuse(_MISMATCH, f"weight must be {'/'.join(_WEIGHT_DTYPES)} "
                                f"[{'D' if head_dim is None else head_dim}], got {weight.dtype} "
                                f"{tuple(weight.shape)}")
    return name


def float_freqs(torch, freqs_cis, refuse):
    """freqs_cis complex64 [P, R/2] as its float32 [P, R] view, or float32 [P, R] as it is;
    both with a contiguous last dim."""
    if freqs_cis.dtype not in (torch.complex64, torch.float32):
        raise refuse(_MISMATCH, f"freqs_cis must be complex64 [P, R/2] or float32 [P, R], got "
                                f"{freqs_cis.dtype}")
    # Contiguous last dim, so that the view is a view and not a copy that would be freed
    # while the kernel still reads it.
    if freqs_cis.dim() != 2 or not _contiguous_last_dim(freqs_cis):
        raise refuse(_INVALID, f"freqs_cis must be 2-D with a contiguous last dim, got shape "
                               f"{tuple(freqs_cis.shape)} strides {freqs_cis.stride()}")
    return real_view(torch, freqs_cis)


def _check_plan(torch, plan, refuse, plan_mode):
    """plan int32 seq_lens [B] (decode) or int32 plan [M, len(PLAN_FIELDS)] (prefill, or
    `plan_mode` where the caller names the plan's kind); its mode."""
    if plan_mode is not None:
        if plan.dtype != torch.int32 or plan.dim() != 2 or plan.shape[1] != _PLAN_FIELDS or \
                not _contiguous_last_dim(plan):
            raise refuse(_INVALID, f"a {plan_mode} plan must be int32 [M, {_PLAN_FIELDS}] with a "
                                   f"contiguous last dim, got {plan.dtype} {tuple(plan.shape)} "
                                   f"strides {plan.stride()}")
        return plan_mode
    if plan.dtype != torch.int32 or plan.dim() not in (1, 2) or not _contiguous_last_dim(plan) \
            or (plan.dim() == 2 and plan.shape[1] != _PLAN_FIELDS):
        raise refuse(_INVALID, f"plan must be int32 seq_lens [B] (decode) or int32 plan "
                               f"[M, {_PLAN_FIELDS}] (prefill) with a contiguous last dim, got "
                               f"{plan.dtype} {tuple(plan.shape)} strides {plan.stride()}")
    return "decode" if plan.dim() == 1 else "prefill"


def epilogue(kv, weight, freqs_cis, plan, refuse, plan_mode=None):
    """The tensors of an in-place or store epilogue call, checked: kv [N, D] f32/bf16/f16 with a
    contiguous last dim (D is kv's), weight [D], freqs_cis complex64 [P, R/2] or float32
    [P, R], plan int32 seq_lens [B] or plan [M, len(PLAN_FIELDS)]. The mode is decode for
    seq_lens and prefill for a plan, unless `plan_mode` names the plan's kind (a mode whose
    handle is a plan of that shape: sglang's structs viewed as int32)."""
    import torch  # lazily: the package imports without torch

    if kv.dim() != 2 or not _contiguous_last_dim(kv):
        raise refuse(_INVALID, f"kv must be [N, D] with a contiguous last dim, got shape "
                               f"{tuple(kv.shape)} strides {kv.stride()}")
    kv_dtype = dtype_name(torch, kv.dtype)
    if kv_dtype not in _KV_DTYPES:
        raise refuse(_MISMATCH, f"kv must be {'/'.join(_KV_DTYPES)}, got {kv.dtype}")
    head_dim = kv.shape[1]
    weight_dtype = _check_weight(torch, weight, head_dim, refuse)
    freqs = float_freqs(torch, freqs_cis, refuse)
    return Epilogue(mode=_check_plan(torch, plan, refuse, plan_mode), head_dim=head_dim,
                    kv_dtype=kv_dtype, weight_dtype=weight_dtype, freqs=freqs)


# The slot dtypes of out_loc a store kernel takes (its configuration says which), and a
# compress kernel's (SPEC.md: i64).
STORE_SLOTS = _OUT_LOC_DTYPES
COMPRESS_SLOTS = ("i64",)


def slot_dtype(torch, dtype):
    """The name of an out_loc dtype ("i64", "i32"); None for any other."""
    return {torch.int64: "i64", torch.int32: "i32"}.get(dtype)


def store_buffers(out_loc, cache, items, refuse, slot_dtypes):
    """out_loc a contiguous [M >= items] of one of `slot_dtypes` (STORE_SLOTS or
    COMPRESS_SLOTS); cache the framework's contiguous uint8 pages. Returns out_loc's dtype
    name."""
    import torch

    slots = slot_dtype(torch, out_loc.dtype)
    if slots not in slot_dtypes or out_loc.dim() != 1 or not out_loc.is_contiguous() or \
            out_loc.shape[0] < items:
        allowed = " or ".join({"i64": "int64", "i32": "int32"}[d] for d in slot_dtypes)
        raise refuse(_INVALID, f"out_loc must be a contiguous {allowed} [M] with M >= {items} "
                               f"items, got {out_loc.dtype} {tuple(out_loc.shape)} strides "
                               f"{out_loc.stride()}")
    if cache.dtype != torch.uint8 or not cache.is_contiguous():
        raise refuse(_INVALID, f"cache must be a contiguous uint8 tensor of pages, got "
                               f"{cache.dtype} strides {cache.stride()}")
    return slots


def compress(state, block_table, token_req, positions, weight, freqs_cis, out_loc, cache,
             head_dim, refuse):
    """The tensors of a compress call, checked: state [num_blocks, block_size, 2W] with a
    contiguous last dim, block_table int32 [num_requests, max_blocks] with a contiguous last
    dim, token_req int32 [T] and positions int64 [>= T] contiguous, weight [D] (any length where
    head_dim is None), freqs_cis as for epilogue, out_loc and cache as for store_buffers."""
    import torch

    if state.dim() != 3 or not _contiguous_last_dim(state):
        raise refuse(_INVALID, f"state must be [num_blocks, block_size, 2W] with a contiguous "
                               f"last dim, got shape {tuple(state.shape)} strides "
                               f"{state.stride()}")
    state_dtype = dtype_name(torch, state.dtype)
    if state_dtype not in _KV_DTYPES:
        raise refuse(_MISMATCH, f"state must be {'/'.join(_KV_DTYPES)}, got {state.dtype}")
    if block_table.dtype != torch.int32 or block_table.dim() != 2 or \
            not _contiguous_last_dim(block_table):
        raise refuse(_INVALID, f"block_table must be int32 [num_requests, max_blocks] with a "
                               f"contiguous last dim, got {block_table.dtype} "
                               f"{tuple(block_table.shape)} strides {block_table.stride()}")
    if token_req.dtype != torch.int32 or token_req.dim() != 1 or not token_req.is_contiguous():
        raise refuse(_INVALID, f"token_req must be a contiguous int32 [T], got "
                               f"{token_req.dtype} {tuple(token_req.shape)} strides "
                               f"{token_req.stride()}")
    items = token_req.shape[0]
    if positions.dtype != torch.int64 or positions.dim() != 1 or \
            not positions.is_contiguous() or positions.shape[0] < items:
        raise refuse(_INVALID, f"positions must be a contiguous int64 [T] with T >= {items} "
                               f"items, got {positions.dtype} {tuple(positions.shape)} strides "
                               f"{positions.stride()}")
    store_buffers(out_loc, cache, items, refuse, COMPRESS_SLOTS)
    return Compress(state_dtype=state_dtype, items=items,
                    weight_dtype=_check_weight(torch, weight, head_dim, refuse),
                    freqs=float_freqs(torch, freqs_cis, refuse))
