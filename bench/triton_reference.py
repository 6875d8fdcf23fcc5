"""Triton baselines for the bench, written from SPEC.md (decode handle).

- `reference_fused`: the serving framework's algorithm as SPEC.md describes it: one program per row;
  load, RMSNorm, RoPE on the last R channels, store to kv; then (when `rotate`) log2(D) butterfly
  stages that each reload the row from kv, combine x[i] with x[i ^ h] and store back rounded to
  kv's type, with a barrier on each side, and a final scaling pass. Like the reference it has no
  guards: every seq_len must be valid.
- `decode_floor`: only what a decode row cannot avoid: the dependent loads seq_len -> position ->
  freqs row, and a copy of the row to another buffer. No arithmetic: the lower bound of any
  decode kernel.
- `unfused_regs` / `unfused_reload`: a norm+RoPE kernel, then a separate Hadamard kernel that does
  its stages in registers (reshape/split/join) or through memory as above.
"""
import triton
import triton.language as tl


@triton.jit
def _norm_rope_store(row, weight, freqs_row, eps, D: tl.constexpr, R: tl.constexpr):
    """RMSNorm of one kv row, RoPE on its last R channels, stored back rounded to kv's type."""
    offs = tl.arange(0, D)
    x = tl.load(row + offs).to(tl.float32)
    w = tl.load(weight + offs).to(tl.float32)
    r = tl.rsqrt(tl.sum(x * x, axis=0) / D + eps)
    tl.store(row + offs, (x * r * w).to(row.dtype.element_ty), mask=offs < D - R)
    # The rotated tail is read again as (even, odd) pairs; no thread writes it before this.
    j = tl.arange(0, R // 2)
    even = D - R + 2 * j
    a = tl.load(row + even).to(tl.float32) * r * tl.load(weight + even).to(tl.float32)
    b = tl.load(row + even + 1).to(tl.float32) * r * tl.load(weight + even + 1).to(tl.float32)
    c = tl.load(freqs_row + 2 * j)
    s = tl.load(freqs_row + 2 * j + 1)
    tl.store(row + even, (a * c - b * s).to(row.dtype.element_ty))
    tl.store(row + even + 1, (a * s + b * c).to(row.dtype.element_ty))


@triton.jit
def _butterflies_through_memory(row, scale, D: tl.constexpr, LOG2_D: tl.constexpr):
    """Walsh-Hadamard on a row in kv, each stage a reload and a store. The barriers are what make
    one thread's store visible to the thread reading x[i ^ h] next (SPEC.md: without them the
    result is wrong on the H100)."""
    offs = tl.arange(0, D)
    for t in tl.static_range(LOG2_D):
        tl.debug_barrier()
        v = tl.load(row + offs).to(tl.float32)
        p = tl.load(row + (offs ^ (1 << t))).to(tl.float32)
        y = tl.where((offs & (1 << t)) == 0, v + p, p - v)
        tl.debug_barrier()
        tl.store(row + offs, y.to(row.dtype.element_ty))
    tl.debug_barrier()
    v = tl.load(row + offs).to(tl.float32)
    tl.store(row + offs, (v * scale).to(row.dtype.element_ty))


@triton.jit
def _position_row(kv, freqs, seq_lens, kv_stride, freqs_stride, ratio):
    """This program's kv row and the freqs row of its decode position."""
    b = tl.program_id(0)
    seq_len = tl.load(seq_lens + b)
    position = ((seq_len - 1) // ratio) * ratio
    return kv + b.to(tl.int64) * kv_stride, freqs + position.to(tl.int64) * freqs_stride


@triton.jit
def _reference_kernel(kv, weight, freqs, seq_lens, kv_stride, freqs_stride, ratio, eps, scale,
                      D: tl.constexpr, R: tl.constexpr, LOG2_D: tl.constexpr, ROTATE: tl.constexpr):
    row, freqs_row = _position_row(kv, freqs, seq_lens, kv_stride, freqs_stride, ratio)
    _norm_rope_store(row, weight, freqs_row, eps, D, R)
    if ROTATE:
        _butterflies_through_memory(row, scale, D, LOG2_D)


@triton.jit
def _floor_kernel(src, dst, freqs, seq_lens, kv_stride, freqs_stride, ratio, D: tl.constexpr,
                  R: tl.constexpr):
    row, freqs_row = _position_row(src, freqs, seq_lens, kv_stride, freqs_stride, ratio)
    offs = tl.arange(0, D)
    x = tl.load(row + offs)
    # Every freqs value is finite, so adding it times zero leaves x as it is, but the store
    # must wait for the freqs row as a real kernel's RoPE does.
    f = tl.load(freqs_row + offs % R)
    out = dst + tl.program_id(0).to(tl.int64) * kv_stride
    tl.store(out + offs, (x.to(tl.float32) + f * 0.0).to(x.dtype))


@triton.jit
def _norm_rope_kernel(kv, weight, freqs, seq_lens, kv_stride, freqs_stride, ratio, eps,
                      D: tl.constexpr, R: tl.constexpr):
    row, freqs_row = _position_row(kv, freqs, seq_lens, kv_stride, freqs_stride, ratio)
    _norm_rope_store(row, weight, freqs_row, eps, D, R)


@triton.jit
def _hadamard_reload_kernel(kv, kv_stride, scale, D: tl.constexpr, LOG2_D: tl.constexpr):
    _butterflies_through_memory(kv + tl.program_id(0).to(tl.int64) * kv_stride, scale, D, LOG2_D)


@triton.jit
def _hadamard_regs_kernel(kv, kv_stride, scale, D: tl.constexpr, LOG2_D: tl.constexpr):
    """Stage t views the row as [D / 2h, 2, h]: the middle axis pairs x[i] with x[i + h]. Moving it
    last lets split/join do the butterfly without leaving registers (Triton moves data between
    threads through shared memory where the layout needs it)."""
    row = kv + tl.program_id(0).to(tl.int64) * kv_stride
    offs = tl.arange(0, D)
    x = tl.load(row + offs).to(tl.float32)
    for t in tl.static_range(LOG2_D):
        v = tl.permute(tl.reshape(x, (D // (2 << t), 2, 1 << t)), (0, 2, 1))
        a, b = tl.split(v)
        x = tl.reshape(tl.permute(tl.join(a + b, a - b), (0, 2, 1)), (D,))
    tl.store(row + offs, (x * scale).to(row.dtype.element_ty))


def _common(kv, freqs):
    n, d = kv.shape
    assert kv.stride(1) == 1 and freqs.stride(1) == 1 and d & (d - 1) == 0
    return n, d, d.bit_length() - 1


def reference_fused(kv, weight, freqs, seq_lens, *, eps, scale, ratio, rope_dim, num_warps,
                    rotate=True):
    n, d, log2_d = _common(kv, freqs)
    _reference_kernel[(n,)](kv, weight, freqs, seq_lens, kv.stride(0), freqs.stride(0), ratio, eps, scale,
                            D=d, R=rope_dim, LOG2_D=log2_d, ROTATE=rotate, num_warps=num_warps)


def decode_floor(src, dst, freqs, seq_lens, *, ratio, rope_dim, num_warps):
    n, d, _ = _common(src, freqs)
    assert dst.shape == src.shape and dst.stride() == src.stride()
    _floor_kernel[(n,)](src, dst, freqs, seq_lens, src.stride(0), freqs.stride(0), ratio, D=d,
                        R=rope_dim, num_warps=num_warps)


def _norm_rope(kv, weight, freqs, seq_lens, eps, ratio, rope_dim, num_warps):
    n, d, _ = _common(kv, freqs)
    _norm_rope_kernel[(n,)](kv, weight, freqs, seq_lens, kv.stride(0), freqs.stride(0), ratio, eps,
                            D=d, R=rope_dim, num_warps=num_warps)


def unfused_regs(kv, weight, freqs, seq_lens, *, eps, scale, ratio, rope_dim, num_warps):
    _norm_rope(kv, weight, freqs, seq_lens, eps, ratio, rope_dim, num_warps)
    n, d, log2_d = _common(kv, freqs)
    _hadamard_regs_kernel[(n,)](kv, kv.stride(0), scale, D=d, LOG2_D=log2_d, num_warps=num_warps)


def unfused_reload(kv, weight, freqs, seq_lens, *, eps, scale, ratio, rope_dim, num_warps):
    _norm_rope(kv, weight, freqs, seq_lens, eps, ratio, rope_dim, num_warps)
    n, d, log2_d = _common(kv, freqs)
    _hadamard_reload_kernel[(n,)](kv, kv.stride(0), scale, D=d, LOG2_D=log2_d, num_warps=num_warps)
