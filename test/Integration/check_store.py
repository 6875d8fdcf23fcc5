#!/usr/bin/env python3
"""Checks a test written by gen_store.py: every byte of each cache against store_model.py.

Reads the printMemref dumps gen_store.py lists. The finished rows printed by the in-place
epilogue are first checked against a float64 evaluation of SPEC.md (check_epilogue.py's
reference); the model then quantizes those f32 rows and lays out the bytes, and every byte of
the fused store's cache must equal it: the storing slots' bytes, and the pattern everywhere
else. The unfused chain's cache must equal the fused one byte for byte. Prints one verdict per
property and exits 1 if any fails.

With --gpu (gen_store.py --gpu) the finished rows are the in-place kernel's and each cache is
the store kernel's; there is no chain and no directly quantized rows to check.

With --rows edge (gen_store.py --rows edge) every designed finished row must be exactly its
design (gen_store.edge_finished_row), and the e2m1 values the stored tokens put on a tie
between two codes, or beside an infinity, are counted: the ties the test is designed to hit.
"""
import argparse
import math
import sys

from check_epilogue import parse_memrefs, reference_row, rel_l2, work_items
from dsv4_reference.store_model import (FP8, Layout, amax_of, f32, f32_bits, from_bits,
                                        mxfp4_scaled, quantize_token, store_decision)
from gen_store import SCALE_FORMATS, edge_finished_row

# |d * 2^(127 - e)| halfway between two e2m1 codes.
E2M1_TIES = (0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0)

failures = []


def verdict(ok, text):
    print(f"{text} {'ok' if ok else 'FAIL'}")
    if not ok:
        failures.append(text)


def pattern(k):
    return (k * 37 + 11) & 0xFF


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--layout", choices=sorted(SCALE_FORMATS), required=True)
    parser.add_argument("--mode", choices=["decode", "prefill", "sglang_decode", "sglang_extend"],
                        required=True)
    parser.add_argument("--fp8", choices=sorted(FP8),
                        help="the FP8 type of an FP8 layout (indexer_mxfp4 has none)")
    parser.add_argument("--rows", choices=["standard", "edge"], default="standard",
                        help="the rows of gen_store.py --rows")
    parser.add_argument("--page-sizes", default="1,16,64")
    parser.add_argument("--ratio", type=int, default=4)
    parser.add_argument("--gpu", action="store_true",
                        help="the dumps of gen_store.py --gpu (kernels, no chain)")
    parser.add_argument("--kv", choices=["f32", "bf16"], default="f32",
                        help="kv's type (gen_store.py --kv): bf16 rows are the in-place "
                             "kernel's, one bf16 rounding from the f32 row")
    args = parser.parse_args()
    page_sizes = [int(p) for p in args.page_sizes.split(",")]
    dumps = parse_memrefs(sys.stdin.read())
    # Per page size: out_loc, the cache and (not with --gpu) the chain's differing bytes.
    per_page = 2 if args.gpu else 3
    # Then the directly quantized rows (not with --gpu) and the tiny cache's out_loc and bytes.
    expected_dumps = 5 + per_page * len(page_sizes) + (0 if args.gpu else 2) + 2
    if len(dumps) != expected_dumps:
        sys.exit(f"expected {expected_dumps} printed memrefs, got {len(dumps)}")
    (kv_sizes, kv_bits), (_, w_bits), (fr_sizes, fr_bits), (h_sizes, handle), \
        (_, row_bits) = dumps[:5]
    n, d = kv_sizes
    positions, rope_dim = fr_sizes
    kv = [from_bits(v) for v in kv_bits]
    weight = [from_bits(v) for v in w_bits]
    freqs = [from_bits(v) for v in fr_bits]
    rotate = args.layout != "main"
    items = work_items(args.mode, h_sizes, handle, args.ratio, positions)

    # The finished f32 rows the store quantizes: SPEC.md's function, to 1e-6 (bf16 kv: the
    # in-place kernel's rows, within SPEC.md's one bf16 rounding, about 3e-3; the main layout
    # rounds them to bf16 itself, so they are what it quantizes).
    tolerance_text = "1e-6" if args.kv == "f32" else "4e-3"
    tolerance = float(tolerance_text)
    finished = {}
    for row, pos, why in items:
        if why is not None or not 0 <= row < n:
            continue
        bits = row_bits[row * d:(row + 1) * d]
        x = kv[row * d:(row + 1) * d]
        got = [from_bits(v) for v in bits]
        if args.rows == "edge":
            check_designed_row(row, bits, args.kv)
        elif any(math.isnan(v) for v in x):
            verdict(all(math.isnan(v) for v in got), f"row {row}: a NaN input gives a NaN row")
        elif all(v == 0.0 for v in x):
            verdict(all(v == 0.0 for v in got), f"row {row}: an all-zero row stays zero")
        else:
            ref = reference_row(x, weight, freqs[pos * rope_dim:(pos + 1) * rope_dim],
                                rope_dim, rotate, f32(1e-6), f32(d ** -0.5))
            verdict(rel_l2(got, ref) <= tolerance,
                    f"row {row}: finished row within {tolerance_text} of float64")
        finished[row] = bits

    out_locs = [dumps[5 + per_page * k][1] for k in range(len(page_sizes))]
    saturated_total = 0
    ties, beside_infinity = [0], [0]

    def model_cache(layout, size, out_loc, rows, label):
        """The cache the model expects, and how many slots store (printing each item)."""
        nonlocal saturated_total
        expected = bytearray(pattern(i) for i in range(size))
        stored = 0
        for m, (row, pos, why) in enumerate(items):
            seq_len = handle[m] if args.mode == "decode" else \
                handle[4 * m] if args.mode == "sglang_decode" else None
            # sglang_extend: the entry of the plan row's ragged id (the low half of column 1).
            entry = handle[4 * m + 1] & 0xFFFF if args.mode == "sglang_extend" else m
            slot = out_loc[entry] if entry < len(out_loc) else None
            why_not = store_decision(layout, seq_len, args.ratio, row, why is None, slot, size,
                                     n)
            where = f"{label}: item {m} row {row} out_loc {slot}"
            if why_not is not None:
                print(f"{where}: skipped ({why_not})")
                continue
            row_at, scales_at, _ = layout.slot(slot)
            codes, scales, saturated = quantize_token(layout, rows[row], args.fp8)
            saturated_total += saturated
            if layout.e2m1:
                count_edges(layout, rows[row], ties, beside_infinity)
            expected[row_at:row_at + len(codes)] = codes
            expected[scales_at:scales_at + len(scales)] = scales
            stored += 1
            amax = amax_of(from_bits(b) for b in rows[row])
            note = " amax below 1e-4" if amax < 1e-4 else ""
            note += f", {saturated} saturated" if saturated else ""
            ps = layout.page_size
            print(f"{where}: page {slot // ps} token {slot % ps} stored{note}")
        return expected, stored

    for k, ps in enumerate(page_sizes):
        c_sizes, cache = dumps[6 + per_page * k]
        layout = Layout(args.layout, ps)
        size = c_sizes[0]
        expected, stored = model_cache(layout, size, out_locs[k], finished, f"page_size {ps}")
        mismatches = sum(1 for a, b in zip(cache, expected) if a != b)
        untouched = sum(1 for i in range(size) if expected[i] == pattern(i))
        verdict(mismatches == 0,
                f"page_size {ps}: {size} cache bytes, {stored} slots stored, {untouched} bytes"
                f" keep the pattern, {mismatches} mismatches against the model")
        if not args.gpu:
            differing = dumps[7 + per_page * k][1][0]
            verdict(differing == 0,
                    f"page_size {ps}: the unfused chain differs in {differing} bytes")
    print(f"values above {'6' if layout.e2m1 else 'FP8_MAX'} before saturation: "
          f"{saturated_total}")
    if layout.e2m1:
        print(f"e2m1 values on a tie: {ties[0]}, nonzero beside an infinity: "
              f"{beside_infinity[0]}")
    if args.gpu:
        return check_tiny_cache(args, dumps, page_sizes, model_cache, finished)

    # Rows quantized directly: FP8, each with an amax channel that rounds above FP8_MAX; e2m1,
    # the designed values with NaNs and infinities written in.
    (_, sat_bits), (c_sizes, cache) = dumps[-4:-2]
    ps = page_sizes[0]
    sat_rows = {row: sat_bits[row * d:(row + 1) * d] for row in range(n)}
    saturated_total = 0
    ties[0] = beside_infinity[0] = 0
    label = "edge rows" if layout.e2m1 else "saturating rows"
    expected, stored = model_cache(Layout(args.layout, ps), c_sizes[0], out_locs[0], sat_rows,
                                   f"{label}, page_size {ps}")
    mismatches = sum(1 for a, b in zip(cache, expected) if a != b)
    extra = (f", {ties[0]} on a tie, {beside_infinity[0]} nonzero beside an infinity"
             if layout.e2m1 else "")
    verdict(mismatches == 0, f"{label}: {stored} slots stored, {saturated_total} values"
            f" saturated{extra}, {mismatches} mismatches against the model")
    return check_tiny_cache(args, dumps, page_sizes, model_cache, finished)


def check_designed_row(row, bits, kv):
    """--rows edge: a designed finished row is its design, bit for bit (NaN where it is NaN)."""
    design = edge_finished_row(row, kv)
    if design is None:
        print(f"row {row}: not designed (its finished row is what the model quantizes)")
        return
    wrong = sum(1 for got, want in zip(bits, design)
                if not (math.isnan(want) and math.isnan(from_bits(got)))
                and got & 0xFFFFFFFF != f32_bits(want))
    verdict(wrong == 0, f"row {row}: the designed finished row, {wrong} channels differ")


def count_edges(layout, row_bits, ties, beside_infinity):
    """Adds the values of a stored e2m1 token that lie on a tie, and the finite ones beside an
    infinity (e = 255) that do not round to zero."""
    scales, values = mxfp4_scaled(layout, row_bits)
    for k, y in enumerate(values):
        ties[0] += abs(y) in E2M1_TIES
        beside_infinity[0] += (scales[k // layout.block] == 255 and math.isfinite(y)
                               and abs(y) > 0.25)


def check_tiny_cache(args, dumps, page_sizes, model_cache, finished):
    """Every item at slot 0 of a cache one byte short of it: no byte may change."""
    (_, out_loc), (c_sizes, cache) = dumps[-2:]
    ps = page_sizes[0]
    expected, stored = model_cache(Layout(args.layout, ps), c_sizes[0], out_loc, finished,
                                   f"a cache of {c_sizes[0]} bytes, page_size {ps}")
    mismatches = sum(1 for a, b in zip(cache, expected) if a != b)
    verdict(stored == 0 and mismatches == 0,
            f"a cache one byte short of slot 0: {stored} slots stored, {mismatches} mismatches"
            f" against the model")
    return finish()


def finish():
    if failures:
        print("FAILED")
        return 1
    print("PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
