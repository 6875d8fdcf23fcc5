"""Triton peers of dsv4's compress kernel, written from SPEC.md "The compress step in front" and
"Storing into the paged caches", in the style serving frameworks ship (vLLM's
fused_compress_quant_cache.py: one program per token, early exit off a window's last token, the
window gathered through the block table, softmax-pooled per channel, then RMSNorm, RoPE at
p + 1 - ratio, the Hadamard where the configuration rotates, FP8 quantization and the paged store).

- `compress_store`: the whole step in one launch, one program per token. The window is read in
  chunks of CHUNK rows with an online softmax (ratio 4: one chunk of the 8 rows, as vLLM's single
  [8, D] tile; ratio 128: 8 chunks of 16, where vLLM's one [128, 512] tile would spill).
- `pool` + `finish_store`: the two-launch split (vLLM's two-stage kernel for ratio 128): the
  pooling spread over channel tiles (grid tokens x splits, sized to fill the SMs), into an f32 row
  buffer and a prefill plan; then one program per token normalizes, ropes, quantizes and stores.
- `pool` alone is the first half of the chain "pool, then dsv4's fused store": it writes rows
  [T, D], the plan [T, 4] int32 (t, request, p, window_len), or (-1, request, -1, 0) where the
  token produces no row, and seq_lens [T] (p + 1, or 0), the decode store kernel's handle.
- `floor`: the state bytes' floor: for each producing token (a list given, not searched), read
  the window's state bytes a compress kernel must read (under overlap, half of each row), sum
  them, and write the token's cache bytes (values converted without a scale, scale bytes zero):
  no softmax, no norm, no quantization rule.

Like the framework's kernels, these have no guards on the block table (every window column must
name a block of the state); every kernel takes the batch's item arrays whole plus `first`, the
set's first item, so that rotating over sets never hands Triton a pointer of another alignment
(a new specialization compiled inside a CUDA-graph capture). FP8 is e4m3fn (the NVIDIA twin's).
"""
import functools

import triton
import triton.language as tl

FP8_MAX = tl.constexpr(448.0)
MIN_AMAX = tl.constexpr(1e-4)
PLAN_FIELDS = tl.constexpr(4)  # (t, request, p, window_len), as dsv4's prefill plan
MIN_TILE = 32          # channels of one pooling program at most splits (128 bytes of a row)
ONE_LAUNCH_CHUNK = 16  # window rows per step of the one-launch kernel when the window is longer


@triton.jit
def _item(token_req, positions, out_loc, k):
    """(request, position, out_loc) of item k."""
    return tl.load(token_req + k).to(tl.int64), tl.load(positions + k), tl.load(out_loc + k)


@triton.jit
def _slot(loc, cache_bytes, PAGE_LOG2: tl.constexpr, PAGE_BYTES: tl.constexpr,
          ROW_BYTES: tl.constexpr, SCALE_STRIDE: tl.constexpr, SCALE_BYTES: tl.constexpr):
    """(row offset, scale offset, inside the cache) of slot `loc` (SPEC.md's page arithmetic)."""
    page = loc >> PAGE_LOG2
    t = loc & ((1 << PAGE_LOG2) - 1)
    base = page * PAGE_BYTES
    scale_at = base + (ROW_BYTES << PAGE_LOG2) + SCALE_STRIDE * t
    return base + ROW_BYTES * t, scale_at, (loc >= 0) & (scale_at + SCALE_BYTES <= cache_bytes)


@triton.jit
def _window_chunk(state, block_table, r, p, k, block_stride, row_stride, table_stride,
                  BLOCK_SIZE: tl.constexpr, D: tl.constexpr, RATIO: tl.constexpr,
                  COFF: tl.constexpr, CHUNK: tl.constexpr):
    """Row pointers [CHUNK] of window rows k*CHUNK.. of the item at position p of request r, and
    which are present (q >= 0). Under overlap the last RATIO rows start D floats in."""
    i = k * CHUNK + tl.arange(0, CHUNK)
    q = p - (COFF * RATIO - 1) + i
    present = q >= 0
    q = tl.where(present, q, 0)
    block = tl.load(block_table + r * table_stride + q // BLOCK_SIZE, mask=present, other=0)
    half = (i >= RATIO).to(tl.int64) * (D * (COFF - 1))
    return (state + block.to(tl.int64) * block_stride + (q % BLOCK_SIZE) * row_stride + half,
            present)


@triton.jit
def _pool_window(state, block_table, r, p, cols, block_stride, row_stride, table_stride,
                 BLOCK_SIZE: tl.constexpr, D: tl.constexpr, RATIO: tl.constexpr,
                 COFF: tl.constexpr, CHUNK: tl.constexpr, TILE: tl.constexpr):
    """y[cols] = sum_i kv_i * exp(s_i - m) / sum_i exp(s_i - m) over the window, in f32, online
    over chunks (an absent row has score -inf: weight 0)."""
    m = tl.full((TILE,), float("-inf"), tl.float32)
    total = tl.zeros((TILE,), tl.float32)
    acc = tl.zeros((TILE,), tl.float32)
    for k in range((COFF * RATIO) // CHUNK):
        row, present = _window_chunk(state, block_table, r, p, k, block_stride, row_stride,
                                     table_stride, BLOCK_SIZE, D, RATIO, COFF, CHUNK)
        s = tl.load(row[:, None] + COFF * D + cols[None, :], mask=present[:, None],
                    other=float("-inf"))
        kv = tl.load(row[:, None] + cols[None, :], mask=present[:, None], other=0.0)
        m_new = tl.maximum(m, tl.max(s, axis=0))
        # A chunk before the first present row leaves m at -inf: exp(-inf - 0) = 0, not NaN.
        base = tl.where(m_new == float("-inf"), 0.0, m_new)
        e = tl.exp(s - base[None, :])
        alpha = tl.exp(m - base)
        total = total * alpha + tl.sum(e, axis=0)
        acc = acc * alpha + tl.sum(kv * e, axis=0)
        m = m_new
    return acc / total


@triton.jit
def _norm_rope(y, weight, freqs_row, eps, D: tl.constexpr, R: tl.constexpr):
    """RMSNorm with the gain, then RoPE of the last R channels by the interleaved (cos, sin)
    pairs of freqs_row; the pairs below D - R get (1, 0) and pass through."""
    cols = tl.arange(0, D)
    y = y * tl.rsqrt(tl.sum(y * y, axis=0) / D + eps) * tl.load(weight + cols)
    a, b = tl.split(tl.reshape(y, (D // 2, 2)))
    j = tl.arange(0, D // 2) - (D - R) // 2
    rotated = j >= 0
    j = tl.maximum(j, 0)
    c = tl.load(freqs_row + 2 * j, mask=rotated, other=1.0)
    s = tl.load(freqs_row + 2 * j + 1, mask=rotated, other=0.0)
    return tl.reshape(tl.join(a * c - b * s, a * s + b * c), (D,))


@triton.jit
def _hadamard(y, scale, D: tl.constexpr, LOG2_D: tl.constexpr):
    """scale * H_D y in registers (triton_reference._hadamard_regs_kernel's stages): stage t views
    the row as [D / 2h, 2, h], so the middle axis pairs y[i] with y[i + h]."""
    for t in tl.static_range(LOG2_D):
        v = tl.permute(tl.reshape(y, (D // (2 << t), 2, 1 << t)), (0, 2, 1))
        a, b = tl.split(v)
        y = tl.reshape(tl.permute(tl.join(a + b, a - b), (0, 2, 1)), (D,))
    return y * scale


@triton.jit
def _store_indexer(y, row_at, scale_at, cache, D: tl.constexpr):
    """132 B a token: FP8 codes of y / scale, scale = max(amax, 1e-4) / 448 as an f32."""
    cols = tl.arange(0, D)
    scale = tl.maximum(tl.max(tl.abs(y), axis=0), MIN_AMAX) / FP8_MAX
    q = tl.clamp(y * (1.0 / scale), -FP8_MAX, FP8_MAX)
    tl.store(cache + row_at + cols, q.to(tl.float8e4nv).to(tl.uint8, bitcast=True))
    tl.store((cache + scale_at).to(tl.pointer_type(tl.float32)), scale)


@triton.jit
def _store_main(y, row_at, scale_at, cache):
    """584 B a token (triton_store._main_kernel's rule on a register row): the row as [8, 64];
    blocks 0..6 FP8 of the bf16-rounded nope channels with a ue8m0 scale each, block 7 bf16."""
    x = tl.reshape(y, (8, 64))
    w = tl.arange(0, 8)[:, None]
    c = tl.arange(0, 64)[None, :]
    nope = x.to(tl.bfloat16).to(tl.float32)
    bits = (tl.maximum(tl.max(tl.abs(nope), axis=1), MIN_AMAX) / FP8_MAX).to(tl.int32,
                                                                              bitcast=True)
    exponent = (bits >> 23) + ((bits & 0x7FFFFF) != 0).to(tl.int32)   # ue8m0, rounded up
    inverse = ((254 - exponent) << 23).to(tl.float32, bitcast=True)    # 2^(127 - e)
    q = tl.clamp(nope * inverse[:, None], -FP8_MAX, FP8_MAX)
    tl.store(cache + row_at + w * 64 + c, q.to(tl.float8e4nv).to(tl.uint8, bitcast=True),
             mask=w < 7)
    rope_at = (cache + row_at + 448).to(tl.pointer_type(tl.bfloat16))
    tl.store(rope_at + c + (w - 7) * 64, x.to(tl.bfloat16), mask=w == 7)
    blocks = tl.arange(0, 8)
    tl.store(cache + scale_at + blocks, exponent.to(tl.uint8), mask=blocks < 7)


@triton.jit
def _finish(y, rope_at, row_at, scale_at, weight, freqs, freqs_stride, eps, scale, cache,
            D: tl.constexpr, R: tl.constexpr, ROTATE: tl.constexpr, LOG2_D: tl.constexpr,
            MAIN: tl.constexpr):
    """The epilogue of a pooled row and its quantized store."""
    y = _norm_rope(y, weight, freqs + rope_at * freqs_stride, eps, D, R)
    if ROTATE:
        y = _hadamard(y, scale, D, LOG2_D)
    if MAIN:
        _store_main(y, row_at, scale_at, cache)
    else:
        _store_indexer(y, row_at, scale_at, cache, D)


@triton.jit(do_not_specialize=["first"])
def _compress_store_kernel(state, block_table, token_req, positions, weight, freqs, out_loc,
                           cache, first, block_stride, row_stride, table_stride, freqs_stride,
                           num_positions, cache_bytes, eps, scale, BLOCK_SIZE: tl.constexpr,
                           D: tl.constexpr, R: tl.constexpr, RATIO: tl.constexpr,
                           COFF: tl.constexpr, CHUNK: tl.constexpr, ROTATE: tl.constexpr,
                           LOG2_D: tl.constexpr, MAIN: tl.constexpr, PAGE_LOG2: tl.constexpr,
                           PAGE_BYTES: tl.constexpr, ROW_BYTES: tl.constexpr,
                           SCALE_STRIDE: tl.constexpr, SCALE_BYTES: tl.constexpr):
    t = tl.program_id(0).to(tl.int64)
    r, p, loc = _item(token_req, positions, out_loc, first + t)
    row_at, scale_at, fits = _slot(loc, cache_bytes, PAGE_LOG2, PAGE_BYTES, ROW_BYTES,
                                   SCALE_STRIDE, SCALE_BYTES)
    rope_at = p + 1 - RATIO
    if (p >= 0) & ((p + 1) % RATIO == 0) & (rope_at < num_positions) & fits:
        cols = tl.arange(0, D)
        y = _pool_window(state, block_table, r, p, cols, block_stride, row_stride, table_stride,
                         BLOCK_SIZE, D, RATIO, COFF, CHUNK, D)
        _finish(y, rope_at, row_at, scale_at, weight, freqs, freqs_stride, eps, scale, cache, D,
                R, ROTATE, LOG2_D, MAIN)


@triton.jit(do_not_specialize=["first"])
def _pool_kernel(state, block_table, token_req, positions, out_loc, rows, plan, seq_lens, first,
                 block_stride, row_stride, table_stride, BLOCK_SIZE: tl.constexpr,
                 D: tl.constexpr, RATIO: tl.constexpr, COFF: tl.constexpr, CHUNK: tl.constexpr,
                 TILE: tl.constexpr):
    t = tl.program_id(0).to(tl.int64)
    split = tl.program_id(1)
    r, p, loc = _item(token_req, positions, out_loc, first + t)
    produces = (p >= 0) & ((p + 1) % RATIO == 0) & (loc >= 0)
    if split == 0:
        k = tl.arange(0, PLAN_FIELDS)
        window_len = tl.minimum(p + 1, COFF * RATIO)
        fields = tl.where(k == 0, t, tl.where(k == 1, r, tl.where(k == 2, p, window_len)))
        skipped = tl.where(k == 1, r, tl.where(k == 3, 0, -1))
        tl.store(plan + t * PLAN_FIELDS + k, tl.where(produces, fields, skipped).to(tl.int32))
        tl.store(seq_lens + t, tl.where(produces, p + 1, 0).to(tl.int32))
    if produces:
        cols = split * TILE + tl.arange(0, TILE)
        y = _pool_window(state, block_table, r, p, cols, block_stride, row_stride, table_stride,
                         BLOCK_SIZE, D, RATIO, COFF, CHUNK, TILE)
        tl.store(rows + t * D + cols, y)


@triton.jit(do_not_specialize=["first"])
def _finish_store_kernel(rows, plan, weight, freqs, out_loc, cache, first, freqs_stride,
                         num_positions, cache_bytes, eps, scale, D: tl.constexpr,
                         R: tl.constexpr, RATIO: tl.constexpr, ROTATE: tl.constexpr,
                         LOG2_D: tl.constexpr, MAIN: tl.constexpr, PAGE_LOG2: tl.constexpr,
                         PAGE_BYTES: tl.constexpr, ROW_BYTES: tl.constexpr,
                         SCALE_STRIDE: tl.constexpr, SCALE_BYTES: tl.constexpr):
    t = tl.program_id(0).to(tl.int64)
    row = tl.load(plan + t * PLAN_FIELDS).to(tl.int64)
    rope_at = tl.load(plan + t * PLAN_FIELDS + 2).to(tl.int64) + 1 - RATIO
    row_at, scale_at, fits = _slot(tl.load(out_loc + first + t), cache_bytes, PAGE_LOG2,
                                   PAGE_BYTES, ROW_BYTES, SCALE_STRIDE, SCALE_BYTES)
    if (row >= 0) & (rope_at >= 0) & (rope_at < num_positions) & fits:
        y = tl.load(rows + row * D + tl.arange(0, D))
        _finish(y, rope_at, row_at, scale_at, weight, freqs, freqs_stride, eps, scale, cache, D,
                R, ROTATE, LOG2_D, MAIN)


@triton.jit(do_not_specialize=["first"])
def _floor_kernel(state, block_table, token_req, positions, out_loc, producing, cache, first,
                  block_stride, row_stride, table_stride, cache_bytes, BLOCK_SIZE: tl.constexpr,
                  D: tl.constexpr, RATIO: tl.constexpr, COFF: tl.constexpr, CHUNK: tl.constexpr,
                  TILE: tl.constexpr, QUANTIZED: tl.constexpr, PAGE_LOG2: tl.constexpr,
                  PAGE_BYTES: tl.constexpr, ROW_BYTES: tl.constexpr,
                  SCALE_STRIDE: tl.constexpr, SCALE_BYTES: tl.constexpr):
    t = tl.load(producing + first + tl.program_id(0)).to(tl.int64)
    split = tl.program_id(1)
    r, p, loc = _item(token_req, positions, out_loc, t)
    row_at, scale_at, _ = _slot(loc, cache_bytes, PAGE_LOG2, PAGE_BYTES, ROW_BYTES, SCALE_STRIDE,
                                SCALE_BYTES)
    cols = split * TILE + tl.arange(0, TILE)
    acc = tl.zeros((TILE,), tl.float32)
    for k in range((COFF * RATIO) // CHUNK):
        row, present = _window_chunk(state, block_table, r, p, k, block_stride, row_stride,
                                     table_stride, BLOCK_SIZE, D, RATIO, COFF, CHUNK)
        s = tl.load(row[:, None] + COFF * D + cols[None, :], mask=present[:, None], other=0.0)
        kv = tl.load(row[:, None] + cols[None, :], mask=present[:, None], other=0.0)
        acc += tl.sum(kv + s, axis=0)
    codes = acc.to(tl.float8e4nv).to(tl.uint8, bitcast=True)
    tl.store(cache + row_at + cols, codes, mask=cols < QUANTIZED)
    if D > QUANTIZED:
        tail = (cache + row_at + QUANTIZED).to(tl.pointer_type(tl.bfloat16))
        tl.store(tail + (cols - QUANTIZED), acc.to(tl.bfloat16), mask=cols >= QUANTIZED)
    if split == 0:
        b = tl.arange(0, 8)
        tl.store(cache + scale_at + b, tl.zeros((8,), tl.uint8), mask=b < SCALE_BYTES)


@functools.lru_cache(maxsize=None)
def multiprocessors():
    import torch

    return torch.cuda.get_device_properties(0).multi_processor_count


def pick_splits(items, head_dim, sms):
    """Channel tiles per token (vLLM's occupancy rule for its split kernel): a power of two such
    that items x splits reaches the SM count, with tiles of at least MIN_TILE channels."""
    target = -(-sms // max(1, items))
    splits = 1
    while splits * 2 <= min(target, head_dim // MIN_TILE):
        splits *= 2
    return splits


def window_chunk(ratio, overlap, largest=ONE_LAUNCH_CHUNK):
    """Rows per step through the window: all of a short window, else `largest`."""
    return min((2 if overlap else 1) * ratio, largest)


def _warps(elements):
    """Warps for a [rows, channels] tile of `elements` f32 values (two such tiles live at once)."""
    return max(1, min(8, elements // 512))


def _state_args(state, block_table):
    assert state.stride(2) == 1 and block_table.stride(1) == 1
    return state.stride(0), state.stride(1), block_table.stride(0)


def _layout_args(layout):
    return dict(PAGE_LOG2=layout.page_size.bit_length() - 1, PAGE_BYTES=layout.page_bytes,
                ROW_BYTES=layout.row_bytes, SCALE_STRIDE=layout.scale_stride,
                SCALE_BYTES=layout.scale_bytes)


def _epilogue_args(layout, rope_dim, rotate):
    d = layout.head_dim
    return dict(D=d, R=rope_dim, ROTATE=rotate, LOG2_D=d.bit_length() - 1,
                MAIN=layout.name == "main", **_layout_args(layout))


# One-launch warps: vLLM's (1 for the indexer, 4 for the main cache); 8 for the long window,
# whose [16, 512] chunks would hold 128 values a thread at 4.
def one_launch_warps(head_dim, ratio):
    return 1 if head_dim == 128 else (8 if ratio > 4 else 4)


def compress_store(state, block_table, token_req, positions, weight, freqs, out_loc, cache, *,
                   first, count, layout, ratio, overlap, rope_dim, rotate, eps, scale):
    """Items first .. first + count - 1: the whole step, one program per token."""
    block_stride, row_stride, table_stride = _state_args(state, block_table)
    _compress_store_kernel[(count,)](
        state, block_table, token_req, positions, weight, freqs, out_loc, cache, first,
        block_stride, row_stride, table_stride, freqs.stride(0), freqs.shape[0], cache.numel(),
        eps, scale, BLOCK_SIZE=state.shape[1], RATIO=ratio, COFF=2 if overlap else 1,
        CHUNK=window_chunk(ratio, overlap), **_epilogue_args(layout, rope_dim, rotate),
        num_warps=one_launch_warps(layout.head_dim, ratio))


def pool(state, block_table, token_req, positions, out_loc, rows, plan, seq_lens, *, first,
         count, head_dim, ratio, overlap, splits):
    """Items first .. first + count - 1 pooled into rows[t] (t counted from first), with the plan
    and seq_lens of each; `splits` channel tiles per token."""
    block_stride, row_stride, table_stride = _state_args(state, block_table)
    tile = head_dim // splits
    chunk = window_chunk(ratio, overlap)
    _pool_kernel[(count, splits)](
        state, block_table, token_req, positions, out_loc, rows, plan, seq_lens, first,
        block_stride, row_stride, table_stride, BLOCK_SIZE=state.shape[1], D=head_dim,
        RATIO=ratio, COFF=2 if overlap else 1, CHUNK=chunk, TILE=tile,
        num_warps=_warps(chunk * tile))


def finish_store(rows, plan, weight, freqs, out_loc, cache, *, first, count, layout, ratio,
                 rope_dim, rotate, eps, scale):
    """The split's second launch: plan rows 0 .. count - 1, stored at out_loc[first + t]."""
    _finish_store_kernel[(count,)](
        rows, plan, weight, freqs, out_loc, cache, first, freqs.stride(0), freqs.shape[0],
        cache.numel(), eps, scale, RATIO=ratio, **_epilogue_args(layout, rope_dim, rotate),
        num_warps=one_launch_warps(layout.head_dim, 4))


def floor(state, block_table, token_req, positions, out_loc, producing, cache, *, first, count,
          layout, ratio, overlap, splits):
    """The producing items producing[first .. first + count - 1]: their window bytes read, their
    cache bytes written."""
    block_stride, row_stride, table_stride = _state_args(state, block_table)
    tile = layout.head_dim // splits
    chunk = window_chunk(ratio, overlap)
    _floor_kernel[(count, splits)](
        state, block_table, token_req, positions, out_loc, producing, cache, first, block_stride,
        row_stride, table_stride, cache.numel(), BLOCK_SIZE=state.shape[1], D=layout.head_dim,
        RATIO=ratio, COFF=2 if overlap else 1, CHUNK=chunk, TILE=tile,
        QUANTIZED=layout.quantized, **_layout_args(layout), num_warps=_warps(chunk * tile))
