#!/usr/bin/env python3
"""store_model.py against hand-worked numbers of SPEC.md, so the oracle of the store tests (and
of the device proof) is itself checked. Prints one line per fact; exits 1 on any mismatch."""
import math
import struct
import sys

from dsv4_reference.store_model import (Layout, bf16_bits, f32_bits, quantize_token, to_e2m1,
                         to_fp8, ue8m0_round_up)

failures = 0


def expect(what, got, want):
    global failures
    ok = got == want
    failures += not ok
    print(f"{what}: {got!r} {'ok' if ok else f'FAIL (want {want!r})'}")


# FP8 encodings: FP8_MAX, saturation, NaN, signed zero, the smallest subnormal, ties to even.
expect("fn 448", hex(to_fp8(448.0, "fn")), "0x7e")
expect("fn 1e9 saturates", hex(to_fp8(1e9, "fn")), "0x7e")
expect("fn -1e9 saturates", hex(to_fp8(-1e9, "fn")), "0xfe")
expect("fnuz 240", hex(to_fp8(240.0, "fnuz")), "0x7f")
expect("fnuz 300 saturates", hex(to_fp8(300.0, "fnuz")), "0x7f")
expect("fn NaN", hex(to_fp8(math.nan, "fn")), "0x7f")
expect("fnuz NaN", hex(to_fp8(math.nan, "fnuz")), "0x80")
expect("fn -0", hex(to_fp8(-0.0, "fn")), "0x80")
expect("fnuz -0 (no negative zero)", hex(to_fp8(-0.0, "fnuz")), "0x0")
expect("fnuz -tiny rounds to +0", hex(to_fp8(-2.0 ** -12, "fnuz")), "0x0")
expect("fn 2^-9 smallest subnormal", hex(to_fp8(2.0 ** -9, "fn")), "0x1")
expect("fnuz 2^-10 smallest subnormal", hex(to_fp8(2.0 ** -10, "fnuz")), "0x1")
expect("fn 1.0625 ties to even 1.0", hex(to_fp8(1.0625, "fn")), "0x38")
expect("fn 1.1875 ties to even 1.25", hex(to_fp8(1.1875, "fn")), "0x3a")
expect("fnuz 1.0", hex(to_fp8(1.0, "fnuz")), "0x40")
# ue8m0: round up, exact powers of two stay put.
expect("ue8m0 of 1.0", ue8m0_round_up(1.0), 127)
expect("ue8m0 of 1.5", ue8m0_round_up(1.5), 128)
expect("ue8m0 of 2^-20", ue8m0_round_up(2.0 ** -20), 107)
# bf16: nearest even, NaN stays NaN.
expect("bf16 of 1 + 2^-8 (tie to even)", hex(bf16_bits(f32_bits(1.0 + 2.0 ** -8))), "0x3f80")
expect("bf16 of 1 + 3*2^-8", hex(bf16_bits(f32_bits(1.0 + 3 * 2.0 ** -8))), "0x3f82")
expect("bf16 of a NaN", hex(bf16_bits(0x7FC00001)), "0x7fc0")
# Geometry: 132 B a token; 584 B a token in pages of whole 576-byte rows.
expect("indexer page bytes, ps 64", Layout("indexer", 64).page_bytes, 132 * 64)
expect("main page bytes, ps 1", Layout("main", 1).page_bytes, 1152)
expect("main page bytes, ps 64", Layout("main", 64).page_bytes, 65 * 576)
expect("main slot 65 at ps 64 (page 1, token 1)", Layout("main", 64).slot(65),
       (65 * 576 + 576, 65 * 576 + 576 * 64 + 8, 65 * 576 + 576 * 64 + 8 + 7))
expect("indexer slot 17 at ps 16 (page 1, token 1)", Layout("indexer", 16).slot(17),
       (132 * 16 + 128, 132 * 16 + 128 * 16 + 4, 132 * 16 + 128 * 16 + 8))
# A whole token: an all-zero indexer row has scale 1e-4 / 448 and zero codes.
codes, scales, _ = quantize_token(Layout("indexer", 1), [0] * 128, "fn")
expect("zero row codes", codes, bytes(128))
expect("zero row scale", scales, struct.pack("<f", struct.unpack("<f", struct.pack(
    "<f", struct.unpack("<f", struct.pack("<f", 1e-4))[0] / 448.0))[0]))
# A main row of ones: bf16 1.0, amax 1, scale 1/448 rounds up to 2^-8 (e = 119), codes 256.0.
row = [f32_bits(1.0)] * 512
codes, scales, _ = quantize_token(Layout("main", 1), row, "fn")
expect("main ones: scale bytes", list(scales), [119] * 7)
expect("main ones: FP8 of 256", hex(codes[0]), hex(to_fp8(256.0, "fn")))
expect("main ones: rope bf16 bytes", codes[448:450], b"\x80\x3f")
# e2m1 (SPEC.md MXFP4): every code, the ties between neighbours to the even code, saturation,
# signed zeros, NaN as +6 (dsv4's written-out choice).
expect("e2m1 codes of 0, 0.5 .. 6", [to_e2m1(v) for v in (0, 0.5, 1, 1.5, 2, 3, 4, 6)],
       [0, 1, 2, 3, 4, 5, 6, 7])
expect("e2m1 ties 0.25 .. 5 to even codes",
       [to_e2m1(v) for v in (0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0)], [0, 2, 2, 4, 4, 6, 6])
expect("e2m1 just above and below the tie 2.5", (to_e2m1(2.5000002), to_e2m1(2.4999998)),
       (5, 4))
expect("e2m1 5.5 and 1e9 saturate to 6", (to_e2m1(5.5), to_e2m1(1e9)), (7, 7))
expect("e2m1 -inf, -0, -0.2", (hex(to_e2m1(-math.inf)), hex(to_e2m1(-0.0)), hex(to_e2m1(-0.2))),
       ("0xf", "0x8", "0x8"))
expect("e2m1 -1.75", hex(to_e2m1(-1.75)), "0xc")
expect("e2m1 NaN", hex(to_e2m1(math.nan)), "0x7")
expect("indexer_mxfp4 page bytes, ps 16", Layout("indexer_mxfp4", 16).page_bytes, 68 * 16)
expect("indexer_mxfp4 slot 17 at ps 16 (page 1, token 1)", Layout("indexer_mxfp4", 16).slot(17),
       (68 * 16 + 64, 68 * 16 + 64 * 16 + 4, 68 * 16 + 64 * 16 + 8))
# A token: block 0 = 0..31 * 0.25 (amax 7.75, scale 2^1: e = 128, v = k / 8), block 1 all
# zeros (amax floored to 1e-4: e = 112), block 2 with +inf (e = 255: 3 * 2^126 -> 0.75, a tie,
# -> 1.0; 2^125 -> 0.125 -> 0), block 3 all 2.5 (amax 2.5 -> 2.5 / 6 rounds up to 2^-1: e = 126, v = 5
# -> 4, code 6).
row = ([f32_bits(0.25 * k) for k in range(32)] + [0] * 32
       + [f32_bits(math.inf), f32_bits(3 * 2.0 ** 126), f32_bits(2.0 ** 125)] + [0] * 29
       + [f32_bits(2.5)] * 32)
codes, scales, saturated = quantize_token(Layout("indexer_mxfp4", 1), row, None)
expect("mxfp4 scale bytes", list(scales), [128, 112, 255, 126])
expect("mxfp4 block 0 bytes 0..3 (v = 0, 1/8 | 1/4, 3/8 | 1/2, 5/8 | 3/4, 7/8)",
       codes[:4].hex(), bytes([0x00, 0x10, 0x11, 0x22]).hex())
expect("mxfp4 block 0 byte 15 (v = 3.75 | 3.875 -> 4 | 4)", hex(codes[15]), "0x66")
expect("mxfp4 zero block", codes[16:32], bytes(16))
expect("mxfp4 infinite block: +inf | 3 * 2^126, 2^125 | 0", codes[32:34].hex(), "2700")
expect("mxfp4 block 3 bytes (2.5 * 2 = 5 -> 4)", codes[48:50].hex(), "6666")
expect("mxfp4 saturated values (the infinity)", saturated, 1)
sys.exit(1 if failures else 0)
