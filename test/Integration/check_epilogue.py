#!/usr/bin/env python3
"""Checks the output of a test written by gen_epilogue.py against a float64 reference.

Reads six printMemrefI32 dumps from stdin, in order: kv, weight, freqs, handle, the unfused
result and the fused result (floating-point data as the bits of the value widened to f32); with
--gpu, five: the GPU kernel's result (run on the CPU by convert-gpu-to-host) in place of the
last two, and any "RACE" line the emulation printed is a failure. The
reference is SPEC.md evaluated in float64 on the *printed* inputs, in plain Python; it shares
nothing with the code under test (positions, skipping, RMSNorm, RoPE, Walsh-Hadamard are all
recomputed here). Prints one verdict per property and exits 1 if any fails.
"""
import argparse
import math
import re
import struct
import sys

# Significant bits (with the implicit one) of each kv element type.
SIG_BITS = {"f32": 24, "bf16": 8, "f16": 11}
# Relative L2 bounds (SPEC.md "Accuracy"): f32 1e-6; bf16/f16 about one rounding (bf16 ~3e-3).
FUSED_BOUND = {"f32": 1e-6, "bf16": 3e-3, "f16": 4e-4}
# The unfused chain rounds to kv's type after every op (2 or 3 roundings).
UNFUSED_BOUND = {"f32": 1e-6, "bf16": 4e-3, "f16": 5e-4}

failures = []


def verdict(ok, text):
    print(f"{text} {'ok' if ok else 'FAIL'}")
    if not ok:
        failures.append(text)


def parse_memrefs(text):
    dumps = []
    for chunk in text.split("Unranked Memref")[1:]:
        sizes = [int(s) for s in re.search(r"sizes = \[([^\]]*)\]", chunk).group(1).split(",")
                 if s.strip()]
        data = chunk.split("data =", 1)[1]
        values = [int(v) for v in re.findall(r"-?\d+", data)]
        count = 1
        for s in sizes:
            count *= s
        if len(values) != count:
            sys.exit(f"memref of sizes {sizes}: {len(values)} values, expected {count}")
        dumps.append((sizes, values))
    return dumps


def as_float(bits):
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]


def f32(value):
    return struct.unpack("<f", struct.pack("<f", value))[0]


def round_to(value, sig_bits):
    """`value` rounded to nearest-even with `sig_bits` significant bits (normal range)."""
    if value == 0.0:
        return 0.0
    _, exponent = math.frexp(value)
    quantum = math.ldexp(1.0, exponent - sig_bits)
    return round(value / quantum) * quantum


def ulp(value, sig_bits):
    _, exponent = math.frexp(value)
    return math.ldexp(1.0, exponent - sig_bits)


def hadamard(y):
    y = list(y)
    h = 1
    while h < len(y):
        for i in range(len(y)):
            if i & h == 0:
                y[i], y[i + h] = y[i] + y[i + h], y[i] - y[i + h]
        h *= 2
    return y


def reference_row(x, weight, freqs_row, rope_dim, rotate, eps, scale):
    d = len(x)
    r = 1.0 / math.sqrt(math.fsum(v * v for v in x) / d + eps)
    y = [x[i] * r * weight[i] for i in range(d)]
    s = d - rope_dim
    for j in range(rope_dim // 2):
        a, b = y[s + 2 * j], y[s + 2 * j + 1]
        c, sn = freqs_row[2 * j], freqs_row[2 * j + 1]
        y[s + 2 * j], y[s + 2 * j + 1] = a * c - b * sn, a * sn + b * c
    if rotate:
        y = [v * scale for v in hadamard(y)]
    return y


def rel_l2(got, ref):
    num = math.sqrt(math.fsum((g - r) ** 2 for g, r in zip(got, ref)))
    den = math.sqrt(math.fsum(r * r for r in ref))
    return num / den


def work_items(mode, handle_sizes, handle, ratio, positions):
    """(row, position, why-skipped or None) per item, by SPEC.md's position rule."""
    items = []
    if mode in ("decode", "sglang_decode"):
        # sglang's DecodePlan: (seq_len, write_loc, read_page_0, read_page_1) per row.
        for b in range(handle_sizes[0]):
            seq_len = handle[b] if mode == "decode" else handle[4 * b]
            if mode == "sglang_decode" and min(handle[4 * b + 1:4 * b + 3]) < 0:
                items.append((b, None, f"unplanned (write_loc, read_page_0) = "
                                       f"{tuple(handle[4 * b + 1:4 * b + 3])}"))
                continue
            if seq_len <= 0:
                items.append((b, None, f"padding seq_len {seq_len}"))
                continue
            pos = ((seq_len - 1) // ratio) * ratio
            why = None if 0 <= pos < positions else f"position {pos} outside [0, {positions})"
            items.append((b, pos, why))
    elif mode == "sglang_extend":
        # sglang's CompressPlan: item m names row m at seq_len - ratio; seq_len is a u32, so
        # any value that reads negative (0xFFFFFFFF: invalid) is no item.
        for m in range(handle_sizes[0]):
            seq_len = handle[4 * m]
            if seq_len < 0:
                items.append((-1, None, f"invalid seq_len {seq_len & 0xFFFFFFFF:#x}"))
                continue
            pos = seq_len - ratio
            why = None if 0 <= pos < positions else f"position {pos} outside [0, {positions})"
            items.append((m, pos, why))
    else:
        for m in range(handle_sizes[0]):
            row, _, plan_pos, _ = handle[4 * m:4 * m + 4]
            if row < 0:
                items.append((row, None, f"padding row {row}"))
                continue
            pos = plan_pos + 1 - ratio
            why = None if 0 <= pos < positions else f"position {pos} outside [0, {positions})"
            items.append((row, pos, why))
    return items


def fmt(value, kv):
    return "%.4e" % value


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["decode", "prefill", "sglang_decode", "sglang_extend"],
                        required=True)
    parser.add_argument("--rope-dim", type=int, required=True)
    parser.add_argument("--rotate", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--kv", choices=sorted(SIG_BITS), default="f32")
    parser.add_argument("--ratio", type=int, default=4)
    parser.add_argument("--gpu", action="store_true",
                        help="the output of the GPU kernel's run: no unfused result")
    args = parser.parse_args()

    text = sys.stdin.read()
    races = [line for line in text.splitlines() if line.startswith("RACE")]
    for line in races:
        print(line)
    dumps = parse_memrefs(text)
    expected = 5 if args.gpu else 6
    if len(dumps) != expected:
        sys.exit(f"expected {expected} printed memrefs, got {len(dumps)}")
    if args.gpu:
        verdict(not races, f"races reported: {len(races)}")
        dumps.insert(4, None)  # no unfused result: only the fused checks apply
    (kv_sizes, kv_bits), (_, w_bits), (fr_sizes, fr_bits), (h_sizes, handle), \
        unfused_dump, (f_sizes, f_bits) = dumps
    u_sizes, u_bits = unfused_dump or (f_sizes, None)
    n, d = kv_sizes
    positions, rope_dim = fr_sizes
    assert rope_dim == args.rope_dim and u_sizes == kv_sizes == f_sizes
    kv = [as_float(v) for v in kv_bits]
    weight = [as_float(v) for v in w_bits]
    freqs = [as_float(v) for v in fr_bits]
    eps = f32(1e-6)
    scale = f32(d ** -0.5)
    sig = SIG_BITS[args.kv]

    # The inputs themselves are non-trivial: no zeros, no ones.
    # (A few kv values may round to +-1 in bf16; a constant tensor or any zero is refused.)
    values = kv + weight + freqs
    zeros = sum(1 for v in values if v == 0.0)
    ones = sum(1 for v in values if abs(v) == 1.0)
    distinct = min(len(set(t)) for t in (kv, weight, freqs))
    verdict(zeros == 0 and ones * 100 < len(values) and distinct > 50,
            f"inputs: {n}x{d} kv, {d} weights, {positions}x{rope_dim} freqs: no zeros,"
            f" ones under 1%, no constant tensor")

    items = work_items(args.mode, h_sizes, handle, args.ratio, positions)
    active = {}
    for k, (row, pos, why) in enumerate(items):
        if why is None:
            active[row] = pos
            print(f"item {k}: row {row} position {pos} active")
        else:
            print(f"item {k}: row {row} skipped ({why})")

    # With --gpu the kernel's result takes the fused result's place and there is no unfused one.
    name = "gpu" if args.gpu else "fused"
    all_ref, all_unfused, all_fused = [], [], []
    differing = 0
    rounded_once = True
    for row in range(n):
        x = kv[row * d:(row + 1) * d]
        xb = kv_bits[row * d:(row + 1) * d]
        fb = f_bits[row * d:(row + 1) * d]
        ub = u_bits[row * d:(row + 1) * d] if u_bits else None
        if ub:
            differing += sum(1 for a, b in zip(ub, fb) if a != b)
        if row not in active:
            same = fb == xb and (ub is None or ub == xb)
            verdict(same, f"row {row} untouched: {'' if args.gpu else 'unfused and '}{name} "
                    "bits equal the input "
                    + " ".join("0x%08x" % (v & 0xFFFFFFFF) for v in fb[:3]))
            continue
        pos = active[row]
        ref = reference_row(x, weight, freqs[pos * rope_dim:(pos + 1) * rope_dim],
                            rope_dim, args.rotate, eps, scale)
        fused = [as_float(v) for v in fb]
        if ub:
            unfused = [as_float(v) for v in ub]
            eu = rel_l2(unfused, ref)
            verdict(eu <= UNFUSED_BOUND[args.kv],
                    f"row {row} position {pos}: unfused rel_l2 {eu:.1e} <= "
                    f"{UNFUSED_BOUND[args.kv]:g}")
            all_unfused += unfused
        ef = rel_l2(fused, ref)
        verdict(ef <= FUSED_BOUND[args.kv],
                f"row {row} position {pos}: {name} rel_l2 {ef:.1e} <= {FUSED_BOUND[args.kv]:g}")
        if args.kv != "f32":
            # One rounding of the f32 result: within half an ulp of the float64 value, up to
            # the f32 arithmetic's own error (relative to the row's size).
            slack = 1e-6 * math.sqrt(math.fsum(r * r for r in ref) / d)
            rounded_once &= all(abs(f - r) <= 0.5 * ulp(r, sig) + slack
                                for f, r in zip(fused, ref))
        for ch in (0, d - rope_dim, d - rope_dim + 1, d - 1):
            shown = ref[ch] if args.kv == "f32" else round_to(ref[ch], sig)
            print(f"row {row} ch {ch}: {name} {fmt(fused[ch], args.kv)} "
                  f"reference {fmt(shown, args.kv)}")
        all_ref += ref
        all_fused += fused

    verdict(len(active) > 0 and len(active) < len(items) and len(active) < n,
            f"{len(active)} active rows of {n}, {len(items)} items")
    if not args.gpu:
        eu = rel_l2(all_unfused, all_ref)
        verdict(eu <= UNFUSED_BOUND[args.kv], f"unfused rel_l2 {eu:.1e}")
    ef = rel_l2(all_fused, all_ref)
    verdict(ef <= FUSED_BOUND[args.kv], f"{name} rel_l2 {ef:.1e}")
    print(f"max |{name} - ref| %.2e" % max(abs(f - r) for f, r in zip(all_fused, all_ref)))
    if not args.gpu and args.kv == "f32":
        verdict(differing == 0, f"fused==unfused bits: {'yes' if differing == 0 else 'no'}")
    elif not args.gpu:
        print(f"fused==unfused bits: {differing} of {n * d} elements differ")
    if args.kv != "f32":
        verdict(rounded_once, f"{name} rounded once: "
                + ("yes" if rounded_once else "no") + f" (within half a {args.kv} ulp)")
    if failures:
        print(f"FAILED: {len(failures)} checks")
        return 1
    print("PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
