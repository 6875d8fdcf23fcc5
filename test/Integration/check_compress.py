#!/usr/bin/env python3
"""Checks a test written by gen_compress.py against the float64 model of SPEC.md "The compress
step in front" (python/dsv4_reference/compress_model.py) and the store model (store_model.py).

Rebuilds the case (gen_compress.build_case), reads the printMemref dumps, and checks: the plan
of every item (which produce a row, and why the others do not); the pooled rows y and the
finished rows within 1e-5 of float64, relative to the row's largest magnitude, and the rows of
items that produce none zero; for each block size, pooled rows equal to the first's, every byte
of the fused store's cache equal to store_model.py's quantization of the kernel's own finished
rows (the pattern where no slot is stored), and the unfused chain's cache equal to it; the
codes of the float64 finished rows within one step of the stored ones; and the state unchanged.
Prints one verdict per property and exits 1 if any fails.

With --gpu (gen_compress.py --gpu: the compress kernel, run by convert-gpu-to-host) the dumps
are each block size's cache and the state's checksum. The kernel's finished rows are not
printed, and its Hadamard butterflies add in another order than the CPU loops, so each stored
slot is held to the float64 row's codes (each within one step, the scales equal, f32 ones
within 1e-5); every byte outside the stored slots must keep the pattern.
"""
import argparse
import math
import sys

from check_epilogue import parse_memrefs
from check_store import failures, pattern, verdict
from dsv4_reference.compress_model import Compressor, PagedState, epilogue
from dsv4_reference.store_model import (E2M1, FP8, Layout, f32, f32_bits, from_bits,
                                        quantize_token, store_decision)
from gen_compress import BLOCK_SIZES, CHUNK, EPS, PAGE_SIZES, ROPE_DIM, build_case
from gen_store import SCALE_FORMATS

TOLERANCE = 1e-5


def relative_error(got, want):
    """max |got - want| over the row's largest float64 magnitude."""
    scale = max(abs(v) for v in want)
    return max(abs(g - v) for g, v in zip(got, want)) / scale


def signed_code(code, e2m1):
    """The place of a code on the number line, in steps from zero."""
    if e2m1:
        return (-1 if code & 0x8 else 1) * (code & 0x7)
    return (-1 if code & 0x80 else 1) * (code & 0x7F)


def code_list(layout, codes):
    if layout.e2m1:
        return [nibble for byte in codes for nibble in (byte & 0xF, byte >> 4)]
    return list(codes[:layout.quantized])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--layout", choices=sorted(SCALE_FORMATS), required=True)
    parser.add_argument("--ratio", type=int, choices=[4, 128], required=True)
    parser.add_argument("--fp8", choices=sorted(FP8))
    parser.add_argument("--gpu", action="store_true", help="the dumps of gen_compress.py --gpu")
    args = parser.parse_args()
    case = build_case(args.layout, args.ratio)
    dumps = parse_memrefs(sys.stdin.read())
    if args.gpu:
        return check_kernel(args, case, dumps)
    # First block size: plan, rows, finished, cache, chain; others: plan, rows' diff, cache,
    # chain; then the checksum.
    expected_dumps = 5 + 4 * (len(BLOCK_SIZES) - 1) + 1
    if len(dumps) != expected_dumps:
        sys.exit(f"expected {expected_dumps} printed memrefs, got {len(dumps)}")
    d, t_count = case.d, len(case.positions)
    compressor = Compressor(case.ratio, case.overlap, d)
    row_width = 2 * case.width
    print(f"{args.layout}, ratio {case.ratio}{', overlap' if case.overlap else ''}, D {d}:"
          f" {t_count} items")

    # The plan, per block size: which items produce a row.
    states = {bs: PagedState(case.state, case.rows // bs, bs, row_width, case.block_table(bs))
              for bs in BLOCK_SIZES}
    state = states[BLOCK_SIZES[0]]
    reasons = [compressor.skip_reason(state, r, p)
               for r, p in zip(case.token_req, case.positions)]
    for bs in BLOCK_SIZES[1:]:
        other = [compressor.skip_reason(states[bs], r, p)
                 for r, p in zip(case.token_req, case.positions)]
        assert other == reasons, "the case is the same at every block size"
    expected_plan = []
    for t, (r, p, why) in enumerate(zip(case.token_req, case.positions, reasons)):
        expected_plan += ([t, r, p, compressor.window_len(p)] if why is None else [-1, r, -1, 0])
    producing = [t for t, why in enumerate(reasons) if why is None]
    counts = {}
    for why in reasons:
        if why is not None:
            counts[why] = counts.get(why, 0) + 1
    print("items producing no row: " + ", ".join(f"{why} {n}" for why, n in sorted(counts.items())))
    plan_dumps = [dumps[0]] + [dumps[5 + 4 * k] for k in range(len(BLOCK_SIZES) - 1)]
    for bs, (_, plan) in zip(BLOCK_SIZES, plan_dumps):
        wrong = sum(1 for t in range(t_count)
                    if plan[4 * t:4 * t + 4] != expected_plan[4 * t:4 * t + 4])
        verdict(wrong == 0, f"block_size {bs}: {len(producing)} items produce a row,"
                            f" {wrong} plan rows differ from the model")

    # Pooled and finished rows of the first block size against float64.
    (_, row_bits), (_, fin_bits) = dumps[1], dumps[2]
    pooled = {t: compressor.pool(state, case.token_req[t], case.positions[t]) for t in producing}
    worst_y = worst_finished = 0.0
    finished64 = {}
    for t in producing:
        got = [from_bits(b) for b in row_bits[t * d:(t + 1) * d]]
        worst_y = max(worst_y, relative_error(got, pooled[t]))
        position = compressor.rope_position(case.positions[t])
        if position < case.num_positions:
            finished64[t] = epilogue(pooled[t], case.weight, case.freqs[position], EPS, ROPE_DIM,
                                     case.scale)
            got = [from_bits(b) for b in fin_bits[t * d:(t + 1) * d]]
            worst_finished = max(worst_finished, relative_error(got, finished64[t]))
    verdict(worst_y <= TOLERANCE, f"pooled rows: {len(producing)} within 1e-5 of float64")
    verdict(worst_finished <= TOLERANCE,
            f"finished rows: {len(finished64)} within 1e-5 of float64")
    zero_rows = sum(1 for t in range(t_count) if t not in pooled
                    and all(b == 0 for b in row_bits[t * d:(t + 1) * d]))
    verdict(zero_rows == t_count - len(producing),
            f"pooled rows: {zero_rows} of the items producing none are zero")
    finished = {t: fin_bits[t * d:(t + 1) * d] for t in finished64}

    # The caches, per block size.
    steps = [0, 0, 0]  # tokens compared, largest code distance, scales that differ
    for k, bs in enumerate(BLOCK_SIZES):
        ps = PAGE_SIZES[bs]
        layout = Layout(args.layout, ps)
        base = 3 if k == 0 else 6 + 4 * (k - 1)
        if k > 0:
            differing = dumps[base][1][0]
            verdict(differing == 0, f"block_size {bs}: the pooled rows differ from block_size"
                                    f" {BLOCK_SIZES[0]}'s in {differing} elements")
            base += 1
        (c_sizes, cache), (_, chain) = dumps[base], dumps[base + 1]
        size = c_sizes[0]
        expected = bytearray(pattern(i) for i in range(size))
        stored = 0
        for t in range(t_count):
            why = store_decision(layout, None, case.ratio, t, t in finished,
                                 case.out_loc[t], size, t_count)
            if why is not None:
                continue
            row_at, scales_at, _ = layout.slot(case.out_loc[t])
            codes, scales, _ = quantize_token(layout, finished[t], args.fp8)
            expected[row_at:row_at + len(codes)] = codes
            expected[scales_at:scales_at + len(scales)] = scales
            stored += 1
            if k == 0:
                compare_codes(layout, args.fp8, codes, scales, finished64[t], steps)
        mismatches = sum(1 for a, b in zip(cache, expected) if a != b)
        untouched = sum(1 for i in range(size) if expected[i] == pattern(i))
        verdict(mismatches == 0,
                f"block_size {bs}, page_size {ps}: {size} cache bytes, {stored} slots stored,"
                f" {untouched} bytes keep the pattern, {mismatches} mismatches against the model")
        verdict(chain[0] == 0, f"block_size {bs}: the unfused chain differs in {chain[0]} bytes")
    verdict(steps[1] <= 1 and steps[2] == 0,
            f"codes of the float64 rows: {steps[0]} tokens, within {steps[1]} step of the"
            f" stored ones, {steps[2]} scales differ")

    return check_state_and_finish(case, dumps[-1][1])


def check_state_and_finish(case, checksum):
    """The state, read back after every op, then the overall verdict."""
    row_width = 2 * case.width
    changed = 0
    for r in range(case.rows):
        row = case.state[r * row_width:(r + 1) * row_width]
        want = sum(f32_bits(v) * (j + 1) for j, v in enumerate(row)) & 0xFFFFFFFF
        changed += (checksum[r] & 0xFFFFFFFF) != want
    verdict(changed == 0, f"state: {case.rows} rows, {changed} changed")
    if failures:
        print("FAILED")
        return 1
    print("PASSED")
    return 0


def check_kernel(args, case, dumps):
    """--gpu: each block size's cache against the float64 model, then the state."""
    if len(dumps) != len(BLOCK_SIZES) + 1:
        sys.exit(f"expected {len(BLOCK_SIZES) + 1} printed memrefs, got {len(dumps)}")
    d, t_count = case.d, len(case.positions)
    compressor = Compressor(case.ratio, case.overlap, d)
    state = PagedState(case.state, case.rows, 1, 2 * case.width, case.block_table(1))
    finished64 = {}
    for t, (r, p) in enumerate(zip(case.token_req, case.positions)):
        position = compressor.rope_position(p)
        if compressor.skip_reason(state, r, p) is None and position < case.num_positions:
            finished64[t] = epilogue(compressor.pool(state, r, p), case.weight,
                                     case.freqs[position], EPS, ROPE_DIM, case.scale)
    print(f"kernel: {args.layout}, ratio {case.ratio}{', overlap' if case.overlap else ''},"
          f" D {d}: {t_count} items, {len(finished64)} finished rows")
    for k, bs in enumerate(BLOCK_SIZES):
        ps = PAGE_SIZES[bs]
        layout = Layout(args.layout, ps)
        cache = dumps[k][1]
        size = len(cache)
        in_slot = bytearray(size)
        steps = [0, 0, 0]
        for t in range(t_count):
            why = store_decision(layout, None, case.ratio, t, t in finished64,
                                 case.out_loc[t], size, t_count)
            if why is not None:
                continue
            row_at, scales_at, end = layout.slot(case.out_loc[t])
            codes64, scales64, _ = quantize_token(
                layout, [f32_bits(f32(v)) for v in finished64[t]], args.fp8)
            codes = bytes(cache[row_at:row_at + len(codes64)])
            scales = bytes(cache[scales_at:scales_at + len(scales64)])
            compare_codes(layout, args.fp8, codes, scales, finished64[t], steps)
            for at, n in ((row_at, len(codes64)), (scales_at, len(scales64))):
                in_slot[at:at + n] = b"\x01" * n
        changed = sum(1 for i in range(size) if not in_slot[i] and cache[i] != pattern(i))
        verdict(steps[1] <= 1 and steps[2] == 0 and changed == 0,
                f"block_size {bs}, page_size {ps}: {steps[0]} slots stored, codes within"
                f" {steps[1]} step of float64's, {steps[2]} scales differ, {changed} bytes"
                f" outside them changed")
    return check_state_and_finish(case, dumps[-1][1])


def compare_codes(layout, fp8, codes, scales, row64, steps):
    """The codes of the float64 row (rounded to f32 once) against the stored ones: the same
    scales (f32 ones within 1e-5), each code within one step."""
    codes64, scales64, _ = quantize_token(layout, [f32_bits(f32(v)) for v in row64], fp8)
    steps[0] += 1
    if SCALE_FORMATS[layout.name] == "f32":
        got, want = from_bits(int.from_bytes(scales, "little")), \
            from_bits(int.from_bytes(scales64, "little"))
        same_scales = abs(got - want) <= TOLERANCE * want
    else:
        same_scales = scales == scales64
    if not same_scales:
        steps[2] += 1
        return
    pairs = zip(code_list(layout, codes), code_list(layout, codes64))
    distance = max(abs(signed_code(a, layout.e2m1) - signed_code(b, layout.e2m1))
                   for a, b in pairs)
    steps[1] = max(steps[1], distance)


if __name__ == "__main__":
    sys.exit(main())
