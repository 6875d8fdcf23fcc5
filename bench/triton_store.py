"""Triton FP8 quantization + paged scatter, written from SPEC.md "Storing into the paged caches".

The second launch of the chain a fused dsv4 store replaces: the framework runs the epilogue in
place on kv (triton_reference.reference_fused), then this kernel reads each finished row back,
quantizes it and scatters it into the paged cache. One program per work item (decode: item b is
row b); an item stores when it is a boundary (seq_len % ratio == 0), its out_loc is >= 0 and its
slot lies inside the cache. FP8 is e4m3fn (the NVIDIA twin's type).

`quantize_store(..., floor=True)` is the bytes' floor: read each f32 row and write a token's
bytes (the values converted to FP8 / bf16 without a scale, the scale bytes zero) to its slot, many
rows per program, with no reduction, no scale computation and no store rule.
"""
import triton
import triton.language as tl

FP8_MAX = tl.constexpr(448.0)
MIN_AMAX = tl.constexpr(1e-4)


@triton.jit
def _slot(out_loc, seq_lens, b, ratio, cache_bytes, PAGE_LOG2: tl.constexpr,
          PAGE_BYTES: tl.constexpr, ROW_BYTES: tl.constexpr, SCALE_STRIDE: tl.constexpr,
          SCALE_BYTES: tl.constexpr):
    """(row offset, scale offset, stores) of item b's slot."""
    loc = tl.load(out_loc + b)
    seq_len = tl.load(seq_lens + b)
    page = loc >> PAGE_LOG2
    t = loc & ((1 << PAGE_LOG2) - 1)
    base = page * PAGE_BYTES
    scale_at = base + ROW_BYTES * (1 << PAGE_LOG2) + SCALE_STRIDE * t
    stores = (seq_len > 0) & (seq_len % ratio == 0) & (loc >= 0) & \
        (scale_at + SCALE_BYTES <= cache_bytes)
    return base + ROW_BYTES * t, scale_at, stores


@triton.jit
def _indexer_kernel(kv, seq_lens, out_loc, cache, kv_stride, ratio, cache_bytes,
                    PAGE_LOG2: tl.constexpr, D: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    row_at, scale_at, stores = _slot(out_loc, seq_lens, b, ratio, cache_bytes, PAGE_LOG2,
                                     132 << PAGE_LOG2, D, 4, 4)
    if stores:
        offs = tl.arange(0, D)
        x = tl.load(kv + b * kv_stride + offs).to(tl.float32)
        amax = tl.max(tl.abs(x), axis=0)
        scale = tl.maximum(amax, MIN_AMAX) / FP8_MAX
        q = x * (1.0 / scale)
        q = tl.clamp(q, -FP8_MAX, FP8_MAX).to(tl.float8e4nv).to(tl.uint8, bitcast=True)
        tl.store(cache + row_at + offs, q)
        tl.store((cache + scale_at).to(tl.pointer_type(tl.float32)), scale)


@triton.jit
def _main_kernel(kv, seq_lens, out_loc, cache, kv_stride, ratio, cache_bytes,
                 PAGE_LOG2: tl.constexpr, PAGE_BYTES: tl.constexpr):
    """D = 512: the row as [8, 64]; blocks 0..6 are the FP8 nope channels, block 7 the bf16 rope."""
    b = tl.program_id(0).to(tl.int64)
    row_at, scale_at, stores = _slot(out_loc, seq_lens, b, ratio, cache_bytes, PAGE_LOG2,
                                     PAGE_BYTES, 576, 8, 7)
    if stores:
        w = tl.arange(0, 8)[:, None]
        c = tl.arange(0, 64)[None, :]
        x = tl.load(kv + b * kv_stride + w * 64 + c).to(tl.float32)
        nope = x.to(tl.bfloat16).to(tl.float32)
        amax = tl.max(tl.abs(nope), axis=1)
        bits = (tl.maximum(amax, MIN_AMAX) / FP8_MAX).to(tl.int32, bitcast=True)
        exponent = (bits >> 23) + ((bits & 0x7FFFFF) != 0).to(tl.int32)   # ue8m0, rounded up
        inverse = ((254 - exponent) << 23).to(tl.float32, bitcast=True)    # 2^(127 - e)
        q = nope * inverse[:, None]
        q = tl.clamp(q, -FP8_MAX, FP8_MAX).to(tl.float8e4nv).to(tl.uint8, bitcast=True)
        tl.store(cache + row_at + w * 64 + c, q, mask=w < 7)
        rope = x.to(tl.bfloat16)
        rope_at = (cache + row_at + 448).to(tl.pointer_type(tl.bfloat16))
        tl.store(rope_at + c + (w - 7) * 64, rope, mask=w == 7)
        blocks = tl.arange(0, 8)
        tl.store(cache + scale_at + blocks, exponent.to(tl.uint8), mask=blocks < 7)


@triton.jit
def _floor_kernel(kv, out_loc, cache, kv_stride, n, ROWS: tl.constexpr, D: tl.constexpr,
                  QUANTIZED: tl.constexpr, PAGE_LOG2: tl.constexpr, PAGE_BYTES: tl.constexpr,
                  ROW_BYTES: tl.constexpr, SCALE_STRIDE: tl.constexpr, SCALE_BYTES: tl.constexpr,
                  E2M1: tl.constexpr):
    """ROWS rows a program: each row's FP8 bytes (and bf16 tail), or with E2M1 a byte of two
    channels' low FP8 nibbles (the MXFP4 row's size, not its codes), and zero scale bytes."""
    r = tl.program_id(0).to(tl.int64) * ROWS + tl.arange(0, ROWS)
    loc = tl.load(out_loc + r, mask=r < n, other=-1)
    ok = loc >= 0
    page = loc >> PAGE_LOG2
    t = loc & ((1 << PAGE_LOG2) - 1)
    row_at = page * PAGE_BYTES + t * ROW_BYTES
    scale_at = page * PAGE_BYTES + ROW_BYTES * (1 << PAGE_LOG2) + SCALE_STRIDE * t
    c = tl.arange(0, D)[None, :]
    x = tl.load(kv + r[:, None] * kv_stride + c, mask=ok[:, None], other=0.0)
    q = x.to(tl.float8e4nv).to(tl.uint8, bitcast=True)
    if E2M1:
        low, high = tl.split(tl.reshape(q, (ROWS, D // 2, 2)))
        b = tl.arange(0, D // 2)[None, :]
        tl.store(cache + row_at[:, None] + b, (low & 15) | (high << 4), mask=ok[:, None])
    else:
        tl.store(cache + row_at[:, None] + c, q, mask=ok[:, None] & (c < QUANTIZED))
    if D > QUANTIZED:
        tail = (cache + row_at[:, None] + QUANTIZED).to(tl.pointer_type(tl.bfloat16))
        tl.store(tail + (c - QUANTIZED), x.to(tl.bfloat16), mask=ok[:, None] & (c >= QUANTIZED))
    k = tl.arange(0, 8)[None, :]
    tl.store(cache + scale_at[:, None] + k, tl.zeros((ROWS, 8), tl.uint8),
             mask=ok[:, None] & (k < SCALE_BYTES))


def quantize_store(layout, kv, seq_lens, out_loc, cache, *, ratio, floor=False):
    """Quantizes rows kv[b] of the decode items into `cache` (uint8) per SPEC.md's `layout`
    (store_model.Layout: name, page_size and geometry); `floor` writes the bytes' floor."""
    n, d = kv.shape
    assert kv.stride(1) == 1 and cache.is_contiguous() and d == layout.head_dim
    page_log2 = layout.page_size.bit_length() - 1
    if floor:
        rows = 4096 // d
        _floor_kernel[(-(-n // rows),)](
            kv, out_loc, cache, kv.stride(0), n, ROWS=rows, D=d, QUANTIZED=layout.quantized,
            PAGE_LOG2=page_log2, PAGE_BYTES=layout.page_bytes, ROW_BYTES=layout.row_bytes,
            SCALE_STRIDE=layout.scale_stride, SCALE_BYTES=layout.scale_bytes, E2M1=layout.e2m1,
            num_warps=4)
    elif layout.e2m1:
        raise ValueError("no Triton kernel of the indexer_mxfp4 layout: only its floor")
    elif layout.name == "indexer":
        _indexer_kernel[(n,)](kv, seq_lens, out_loc, cache, kv.stride(0), ratio, cache.numel(),
                              PAGE_LOG2=page_log2, D=d, num_warps=1)
    else:
        _main_kernel[(n,)](kv, seq_lens, out_loc, cache, kv.stride(0), ratio, cache.numel(),
                           PAGE_LOG2=page_log2, PAGE_BYTES=layout.page_bytes, num_warps=2)
