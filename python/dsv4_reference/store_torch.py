"""SPEC.md's paged-cache bytes with torch, for batches too large for the plain-Python model.

store_model.py is the model (one element at a time, from SPEC.md alone); this is the same rules
as tensor operations, so the device proof can check 65536-row batches. The proof holds this
against store_model.py on sampled rows of every batch, so the two cannot drift.

FP8 and bf16 rounding use torch's own conversions (round to nearest even), after an explicit
saturation to FP8_MAX (torch's float8 casts do not saturate). f32 division and products are
computed in float64 and rounded once to f32, which gives the correctly rounded f32 result (53
bits hold twice 24 plus 2): torch divides a tensor by a Python number as a product with its
reciprocal, which is not SPEC.md's f32 division.
"""
from dsv4_reference.store_model import E2M1_MAX, E2M1_NAN, FP8, MIN_AMAX, Layout  # noqa: F401


def _fp8_codes(y, flavour):
    """FP8 bytes of f32 `y`: saturated, round to nearest even, every NaN the flavour's NaN."""
    import torch

    spec = FP8[flavour]
    dtype = torch.float8_e4m3fn if flavour == "fn" else torch.float8_e4m3fnuz
    codes = y.clamp(-spec["max"], spec["max"]).to(dtype).view(torch.uint8)
    return torch.where(torch.isnan(y), torch.full_like(codes, spec["nan"]), codes)


def _amax(x, dim):
    """maxNum of |x| along `dim`: NaNs ignored, as SPEC.md's max."""
    import torch

    return torch.where(torch.isnan(x), torch.zeros_like(x), x.abs()).amax(dim=dim)


def token_bytes(layout, rows, flavour):
    """(row bytes [N, row_bytes], scale bytes [N, scale_bytes]) uint8 of finished f32 rows [N, D]."""
    import torch

    n = rows.shape[0]
    if layout.e2m1:
        return _mxfp4_token_bytes(layout, rows)
    fp8_max = FP8[flavour]["max"]
    if layout.name == "indexer":
        scale = (_amax(rows, 1).double().clamp(min=MIN_AMAX) / fp8_max).float()
        inverse = (1.0 / scale.double()).float()
        codes = _fp8_codes((rows.double() * inverse.double()[:, None]).float(), flavour)
        return codes, scale.contiguous().view(torch.uint8).view(n, 4)
    nope = rows[:, :layout.quantized].to(torch.bfloat16).to(torch.float32)
    blocks = nope.view(n, layout.quantized // layout.block, layout.block)
    bits = (_amax(blocks, 2).double().clamp(min=MIN_AMAX) / fp8_max).float().view(torch.int32)
    exponent = (bits >> 23) + ((bits & 0x7FFFFF) != 0).to(torch.int32)   # ue8m0, rounded up
    # x * 2^(127 - e) is exact in float64; one rounding to f32 is the f32 product.
    y = (blocks.double() * torch.exp2((127 - exponent).double())[:, :, None]).float()
    codes = _fp8_codes(y, flavour).view(n, layout.quantized)
    rope = rows[:, layout.quantized:].to(torch.bfloat16).contiguous().view(torch.uint8)
    return torch.cat((codes, rope.view(n, -1)), dim=1), exponent.to(torch.uint8)


# e2m1's midpoints between neighbouring codes k and k + 1, and whether a tie goes up (to the even
# code k + 1) or stays (k even): SPEC.md's round to nearest, ties to even.
_E2M1_MIDPOINTS = ((0.25, False), (0.75, True), (1.25, False), (1.75, True), (2.5, False),
                   (3.5, True), (5.0, False))


def _e2m1_codes(y):
    """e2m1 nibbles of float64 `y`, as store_model.to_e2m1: saturated to +-6, the sign bit from
    the sign (so -0 is 0x8), a NaN E2M1_NAN."""
    import torch

    magnitude = y.abs().clamp(max=E2M1_MAX)
    code = torch.zeros_like(y, dtype=torch.int32)
    for midpoint, tie_up in _E2M1_MIDPOINTS:
        code += (magnitude >= midpoint if tie_up else magnitude > midpoint).to(torch.int32)
    code |= torch.signbit(y).to(torch.int32) << 3
    return torch.where(torch.isnan(y), torch.full_like(code, E2M1_NAN), code)


def _mxfp4_token_bytes(layout, rows):
    """token_bytes of indexer_mxfp4: per block of 32, e = ue8m0_round_up(f32(max(amax, 1e-4) /
    6)), codes of d * 2^(127 - e) (exact in float64), two a byte, low nibble first."""
    import torch

    n = rows.shape[0]
    blocks = rows.view(n, layout.quantized // layout.block, layout.block)
    bits = (_amax(blocks, 2).double().clamp(min=MIN_AMAX) / E2M1_MAX).float().view(torch.int32)
    exponent = (bits >> 23) + ((bits & 0x7FFFFF) != 0).to(torch.int32)
    y = blocks.double() * torch.exp2((127 - exponent).double())[:, :, None]
    codes = _e2m1_codes(y).view(n, layout.quantized // 2, 2)
    payload = (codes[:, :, 0] | (codes[:, :, 1] << 4)).to(torch.uint8)
    return payload, exponent.to(torch.uint8)


def expected_cache(layout, cache_before, rows, out_loc, stores, flavour):
    """The cache after a store: `cache_before` (uint8) with the slots of the items where `stores`
    is true written from finished `rows` (one per item); everything else unchanged. Slots must be
    distinct."""
    import torch

    expected = cache_before.clone()
    if not bool(stores.any()):
        return expected
    values, scales = token_bytes(layout, rows[stores], flavour)
    # store_model's slot arithmetic works on int64 tensors as on ints.
    row_at, scale_at, _ = layout.slot(out_loc[stores])
    expected[row_at[:, None] + torch.arange(values.shape[1], device=rows.device)] = values
    expected[scale_at[:, None] + torch.arange(scales.shape[1], device=rows.device)] = scales
    return expected


def store_mask(layout, out_loc, active, boundary, cache_bytes):
    """SPEC.md's rule: active, a boundary (decode), out_loc >= 0, and the slot inside the cache."""
    _, _, end = layout.slot(out_loc.clamp(min=0))
    return active & boundary & (out_loc >= 0) & (end <= cache_bytes)


def same_bytes(got, want, layout, flavour):
    """Indices where `got` differs from `want`; a NaN stored as another NaN encoding (a bf16 rope
    channel's payload, fn's 0x7F/0xFF) is not a difference: SPEC.md only says NaN stays NaN."""
    differ = got != want
    if not bool(differ.any()) or layout.e2m1:
        return differ.nonzero().flatten()
    nan = FP8[flavour]["nan"]
    idx = differ.nonzero().flatten()
    g, w = got[idx].int(), want[idx].int()
    column = idx % layout.page_bytes
    in_rows = column < layout.row_bytes * layout.page_size
    column = column % layout.row_bytes
    if flavour == "fn":
        fp8_nan = lambda b: (b & 0x7F) == 0x7F  # noqa: E731
    else:
        fp8_nan = lambda b: b == nan  # noqa: E731
    ok = in_rows & (column < layout.quantized) & fp8_nan(g) & fp8_nan(w)
    if layout.head_dim > layout.quantized:
        # A bf16 rope channel: NaN is exponent all ones and a non-zero mantissa, judged on the
        # little-endian pair the differing byte belongs to.
        pair = idx - (column % 2)
        as_bf16 = lambda t: t[pair].int() | (t[pair + 1].int() << 8)  # noqa: E731
        is_nan = lambda v: ((v & 0x7F80) == 0x7F80) & ((v & 0x7F) != 0)  # noqa: E731
        ok |= in_rows & (column >= layout.quantized) & is_nan(as_bf16(got)) & is_nan(as_bf16(want))
    return idx[~ok]
