"""SPEC.md "Storing into the paged caches" in plain Python: the bytes a store writes.

Independent of the compiler: the FP8 and e2m1 roundings pick the nearest entry of a table of
every value of the type (ties to the even code), f32 arithmetic is emulated by rounding each
float64 result to f32, bf16 by its bit rule. Imported by the CPU tests (test/Integration/
check_store.py, check_compress.py) and the device proofs (device/).
"""
import bisect
import math
import struct

# FP8 flavours (SPEC.md: gfx942 uses fnuz, gfx950 and the NVIDIA twin fn).
FP8 = {
    "fn": {"bias": 7, "max": 448.0, "nan": 0x7F, "negative_zero": 0x80},
    "fnuz": {"bias": 8, "max": 240.0, "nan": 0x80, "negative_zero": 0x00},
}
MIN_AMAX = struct.unpack("<f", struct.pack("<f", 1e-4))[0]
# e2m1 (SPEC.md "MXFP4 indexer K cache"): code k = 0..7 is E2M1[k], bit 3 the sign. It has no
# NaN; SPEC.md leaves a NaN's nibble to the chip, and dsv4's written-out conversion (gfx942,
# the NVIDIA twin, the CPU) gives it +6, code 7.
E2M1 = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
E2M1_MAX = 6.0
E2M1_NAN = 0x7


class Layout:
    """The byte geometry of one cache layout, for one page size."""

    def __init__(self, name, page_size):
        self.name = name
        self.page_size = page_size
        # e2m1 codes, two a byte (indexer_mxfp4), or one FP8 byte each.
        self.e2m1 = name == "indexer_mxfp4"
        if name == "indexer":
            self.head_dim, self.quantized, self.block = 128, 128, 128
            self.row_bytes, self.scale_stride, self.scale_bytes = 128, 4, 4
            self.page_bytes = 132 * page_size
        elif self.e2m1:
            self.head_dim, self.quantized, self.block = 128, 128, 32
            self.row_bytes, self.scale_stride, self.scale_bytes = 64, 4, 4
            self.page_bytes = 68 * page_size
        else:
            self.head_dim, self.quantized, self.block = 512, 448, 64
            self.row_bytes, self.scale_stride, self.scale_bytes = 576, 8, 7
            self.page_bytes = -(-584 * page_size // 576) * 576

    def slot(self, out_loc):
        """(row offset, scale offset, end) of a slot's bytes."""
        shift = self.page_size.bit_length() - 1
        page, t = out_loc >> shift, out_loc & (self.page_size - 1)
        base = page * self.page_bytes
        scales = base + self.row_bytes * self.page_size + self.scale_stride * t
        return base + self.row_bytes * t, scales, scales + self.scale_bytes


def f32(value):
    return struct.unpack("<f", struct.pack("<f", value))[0]


def f32_bits(value):
    return struct.unpack("<I", struct.pack("<f", value))[0]


def from_bits(bits):
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]


def bf16_bits(bits):
    """Round-to-nearest-even of f32 bits to bf16 bits; a NaN stays a (quiet) NaN."""
    bits &= 0xFFFFFFFF
    if math.isnan(from_bits(bits)):
        return (bits >> 16) | 0x40
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) & 0xFFFF


def _fp8_table(flavour):
    """(value, code) of every non-negative finite FP8 value, sorted."""
    bias = FP8[flavour]["bias"]
    table = []
    for code in range(0x80):
        if code == FP8[flavour]["nan"]:
            continue
        e, m = code >> 3, code & 7
        value = m * 2.0 ** (-bias - 2) if e == 0 else (1 + m / 8) * 2.0 ** (e - bias)
        table.append((value, code))
    return sorted(table)


_TABLES = {flavour: _fp8_table(flavour) for flavour in FP8}


def to_fp8(value, flavour):
    """The FP8 byte of `value`: nearest (ties to even code), saturated, NaN kept."""
    spec = FP8[flavour]
    if math.isnan(value):
        return spec["nan"]
    magnitude = min(abs(value), spec["max"])
    table = _TABLES[flavour]
    k = bisect.bisect_left(table, (magnitude, -1))
    candidates = [table[i] for i in (k - 1, k) if 0 <= i < len(table)]
    best = min(candidates, key=lambda vc: (abs(vc[0] - magnitude), vc[1] & 1))
    code = best[1]
    if math.copysign(1.0, value) < 0:
        return spec["negative_zero"] if code == 0 else code | 0x80
    return code


def to_e2m1(value):
    """The e2m1 nibble of `value`: nearest (ties to the even code), saturated to +-6, -0 and
    tiny negatives to the negative zero 0x8; a NaN to E2M1_NAN."""
    if math.isnan(value):
        return E2M1_NAN
    magnitude = min(abs(value), E2M1_MAX)
    code = min(range(len(E2M1)), key=lambda k: (abs(E2M1[k] - magnitude), k & 1))
    return code | (0x8 if math.copysign(1.0, value) < 0 else 0)


def amax_of(values):
    """maxNum of |x|: NaNs are ignored."""
    return max((abs(v) for v in values if not math.isnan(v)), default=0.0)


def ue8m0_round_up(s):
    bits = f32_bits(s)
    return (bits >> 23) + (1 if bits & 0x7FFFFF else 0)


def mxfp4_scaled(layout, row_bits):
    """(scale bytes, values) of the indexer_mxfp4 layout for a finished f32 row (its bits): per
    block of 32, e = ue8m0_round_up(max(amax, 1e-4) / 6), and every d * 2^(127 - e) (exact in
    float64, so an infinite amax's e = 255 is no special case), before rounding."""
    scales, values = bytearray(), []
    for w in range(layout.quantized // layout.block):
        block = [from_bits(b) for b in row_bits[w * layout.block:(w + 1) * layout.block]]
        e = ue8m0_round_up(f32(max(f32(amax_of(block)), MIN_AMAX) / E2M1_MAX))
        scales.append(e)
        values += [x * 2.0 ** (127 - e) for x in block]
    return bytes(scales), values


def quantize_mxfp4_token(layout, row_bits):
    """quantize_token of the indexer_mxfp4 layout: the values of mxfp4_scaled to e2m1, packed
    two a byte, low nibble first."""
    scales, values = mxfp4_scaled(layout, row_bits)
    codes = [to_e2m1(y) for y in values]
    saturated = sum(1 for y in values if not math.isnan(y) and abs(y) > E2M1_MAX)
    payload = bytes(codes[2 * k] | codes[2 * k + 1] << 4 for k in range(len(codes) // 2))
    return payload, scales, saturated


def quantize_token(layout, row_bits, flavour):
    """(row bytes, scale bytes, saturated count) of one finished f32 row (its bits); `flavour`
    is the FP8 type of an FP8 layout (indexer_mxfp4 has none)."""
    if layout.e2m1:
        return quantize_mxfp4_token(layout, row_bits)
    fp8_max = FP8[flavour]["max"]
    codes, scales, saturated = bytearray(), bytearray(), 0
    for w in range(layout.quantized // layout.block):
        bits = row_bits[w * layout.block:(w + 1) * layout.block]
        if layout.name == "main":
            # One bf16 rounding before the scale (the framework's path).
            block = [from_bits(bf16_bits(b) << 16) for b in bits]
        else:
            block = [from_bits(b) for b in bits]
        s = f32(max(f32(amax_of(block)), MIN_AMAX) / fp8_max)
        if layout.name == "main":
            e = ue8m0_round_up(s)
            inverse = 2.0 ** (127 - e)
            scales.append(e)
        else:
            inverse = f32(1.0 / s)
            scales += struct.pack("<f", s)
        for x in block:
            y = f32(x * inverse)
            saturated += (not math.isnan(y)) and abs(y) > fp8_max
            codes.append(to_fp8(y, flavour))
    for c in range(layout.quantized, layout.head_dim):
        codes += struct.pack("<H", bf16_bits(row_bits[c]))
    return bytes(codes), bytes(scales), saturated


def store_decision(layout, seq_len, ratio, row, active, out_loc, cache_size, num_rows):
    """None when the item stores, else why not (SPEC.md's store rules). seq_len: a decode
    item's (None for a plan's item, which has no boundary rule); out_loc: the item's entry, None
    where its ragged id names none."""
    if not active:
        return "inactive"
    if not 0 <= row < num_rows:
        return f"row {row} outside kv"
    if seq_len is not None and seq_len % ratio != 0:
        return f"not a boundary (seq_len {seq_len})"
    if out_loc is None:
        return "no out_loc entry"
    if out_loc < 0:
        return f"out_loc {out_loc}"
    if layout.slot(out_loc)[2] > cache_size:
        return "outside the cache"
    return None
