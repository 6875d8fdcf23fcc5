"""torch.ops.dsv4.*: the epilogue as a torch custom op, traceable by torch.compile and
capturable in CUDA graphs. Importing this module registers the ops (it needs torch >= 2.4);
`import dsv4` alone does not import torch.

    torch.ops.dsv4.compress_norm_rope_hadamard_(kv, weight, freqs, plan, eps, ratio, rotate)

updates kv [N, D] in place. Under torch.compile, call it through
`dsv4.torch_ops.compress_norm_rope_hadamard_`, which takes the framework's complex64 freqs_cis
[P, R/2] and hands the op its float32 [P, R] view: Inductor cannot lower an op with a complex
argument (it falls back, and the in-place op's functionalization is then never undone). The kernel is chosen by the tensors (kv and weight dtypes, D, R from
freqs_cis, decode for seq_lens [B] or prefill for plan [M, 4]) and the scalars, through
dsv4.get_kernel (library, cache, or compiled on first use), once per device and configuration.
"""
import torch

from . import library
from .runtime import compress_norm_rope_hadamard_inplace

__all__ = ["config_of", "compress_norm_rope_hadamard_"]

_DTYPE_NAMES = {torch.float32: "f32", torch.bfloat16: "bf16", torch.float16: "f16"}
_PLAN_FIELDS = 4  # (row, batch_id, position, window_len)


def config_of(kv, weight, freqs_cis, plan, eps, ratio, rotate):
    """The library.Config these arguments call for; ValueError naming the argument otherwise.
    Reads only shapes and dtypes, so it runs on fake tensors too."""
    if kv.dim() != 2 or kv.dtype not in _DTYPE_NAMES:
        raise ValueError(f"dsv4: kv must be a 2-D f32/bf16/f16 tensor [N, D], got "
                         f"{kv.dtype} {tuple(kv.shape)}")
    head_dim = kv.shape[1]
    if weight.dim() != 1 or weight.shape[0] != head_dim or weight.dtype not in (
            torch.float32, torch.bfloat16):
        raise ValueError(f"dsv4: weight must be f32/bf16 [{head_dim}], got {weight.dtype} "
                         f"{tuple(weight.shape)}")
    if freqs_cis.dim() != 2:
        raise ValueError(f"dsv4: freqs_cis must be 2-D, got {tuple(freqs_cis.shape)}")
    if freqs_cis.dtype == torch.complex64:
        rope_dim = 2 * freqs_cis.shape[1]
    elif freqs_cis.dtype == torch.float32:
        rope_dim = freqs_cis.shape[1]
    else:
        raise ValueError(f"dsv4: freqs_cis must be complex64 [P, R/2] or float32 [P, R], got "
                         f"{freqs_cis.dtype}")
    if plan.dtype != torch.int32 or plan.dim() not in (1, 2) or (
            plan.dim() == 2 and plan.shape[1] != _PLAN_FIELDS):
        raise ValueError(f"dsv4: plan must be int32 seq_lens [B] (decode) or int32 plan [M, 4] "
                         f"(prefill), got {plan.dtype} {tuple(plan.shape)}")
    return library.Config(mode="decode" if plan.dim() == 1 else "prefill", head_dim=head_dim,
                          rope_dim=rope_dim, kv_dtype=_DTYPE_NAMES[kv.dtype],
                          weight_dtype=_DTYPE_NAMES[weight.dtype], eps=eps, ratio=ratio,
                          rotate=rotate)


@torch.library.custom_op("dsv4::compress_norm_rope_hadamard_", mutates_args=("kv",),
                         device_types="cuda")
def _op(kv: torch.Tensor, weight: torch.Tensor, freqs: torch.Tensor, plan: torch.Tensor,
        eps: float, ratio: int, rotate: bool) -> None:
    config = config_of(kv, weight, freqs, plan, eps, ratio, rotate)
    kernel = library.get_kernel(config, kv.device)
    library.check_kernel(kernel, config)
    compress_norm_rope_hadamard_inplace(kv, weight, eps, freqs, plan, config.head_dim,
                                        kernel=kernel)


def compress_norm_rope_hadamard_(kv, weight, freqs_cis, plan, eps, ratio, rotate):
    """torch.ops.dsv4.compress_norm_rope_hadamard_ with freqs_cis complex64 [P, R/2] (or float32
    [P, R]) viewed as float32 first, so that torch.compile can trace the call."""
    freqs = torch.view_as_real(freqs_cis).flatten(-2) if freqs_cis.is_complex() else freqs_cis
    torch.ops.dsv4.compress_norm_rope_hadamard_(kv, weight, freqs, plan, eps, ratio, rotate)


@_op.register_fake
def _(kv, weight, freqs_cis, plan, eps, ratio, rotate):
    # The same argument checks as the real op, so a bad call fails at trace time; kv is updated
    # in place, so there is no output to describe.
    config_of(kv, weight, freqs_cis, plan, eps, ratio, rotate)
