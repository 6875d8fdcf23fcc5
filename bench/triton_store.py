"""Triton FP8 quantization + paged scatter, written from SPEC.md "Storing into the paged caches".

The second launch of the chain a fused dsv4 store replaces: the framework runs the epilogue in
place on kv (triton_reference.reference_fused), then this kernel reads each finished row back,
quantizes it and scatters it into the paged cache. One program per work item (decode: item b is
row b); an item stores when it is a boundary (seq_len % ratio == 0), its out_loc is >= 0 and its
slot lies inside the cache. FP8 is e4m3fn (the NVIDIA twin's type).

`store_floor` is the bytes' floor: read the f32 row and write a token's bytes to its slot, with
no reduction and no scale computation.
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
                    PAGE_LOG2: tl.constexpr, D: tl.constexpr, FLOOR: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    row_at, scale_at, stores = _slot(out_loc, seq_lens, b, ratio, cache_bytes, PAGE_LOG2,
                                     132 << PAGE_LOG2, D, 4, 4)
    if stores:
        offs = tl.arange(0, D)
        x = tl.load(kv + b * kv_stride + offs).to(tl.float32)
        if FLOOR:
            scale = 1.0
            q = x
        else:
            amax = tl.max(tl.abs(x), axis=0)
            scale = tl.maximum(amax, MIN_AMAX) / FP8_MAX
            q = x * (1.0 / scale)
        q = tl.clamp(q, -FP8_MAX, FP8_MAX).to(tl.float8e4nv).to(tl.uint8, bitcast=True)
        tl.store(cache + row_at + offs, q)
        tl.store((cache + scale_at).to(tl.pointer_type(tl.float32)), scale)


@triton.jit
def _main_kernel(kv, seq_lens, out_loc, cache, kv_stride, ratio, cache_bytes,
                 PAGE_LOG2: tl.constexpr, PAGE_BYTES: tl.constexpr, FLOOR: tl.constexpr):
    """D = 512: the row as [8, 64]; blocks 0..6 are the FP8 nope channels, block 7 the bf16 rope."""
    b = tl.program_id(0).to(tl.int64)
    row_at, scale_at, stores = _slot(out_loc, seq_lens, b, ratio, cache_bytes, PAGE_LOG2,
                                     PAGE_BYTES, 576, 8, 7)
    if stores:
        w = tl.arange(0, 8)[:, None]
        c = tl.arange(0, 64)[None, :]
        x = tl.load(kv + b * kv_stride + w * 64 + c).to(tl.float32)
        nope = x.to(tl.bfloat16).to(tl.float32)
        if FLOOR:
            exponent = tl.full((8,), 127, tl.int32)
            q = nope
        else:
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


def quantize_store(layout, kv, seq_lens, out_loc, cache, *, ratio, floor=False):
    """Quantizes rows kv[b] of the decode items into `cache` (uint8) per SPEC.md's `layout`
    (store_model.Layout: name and page_size)."""
    n, d = kv.shape
    assert kv.stride(1) == 1 and cache.is_contiguous()
    page_log2 = layout.page_size.bit_length() - 1
    if layout.name == "indexer":
        assert d == 128
        _indexer_kernel[(n,)](kv, seq_lens, out_loc, cache, kv.stride(0), ratio, cache.numel(),
                              PAGE_LOG2=page_log2, D=d, FLOOR=floor, num_warps=1)
    else:
        assert d == 512
        _main_kernel[(n,)](kv, seq_lens, out_loc, cache, kv.stride(0), ratio, cache.numel(),
                           PAGE_LOG2=page_log2, PAGE_BYTES=layout.page_bytes, FLOOR=floor,
                           num_warps=2)
