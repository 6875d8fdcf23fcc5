#!/usr/bin/env python3
"""Writes the MLIR input of one CPU test of the paged-cache store (SPEC.md "Storing into the
paged caches"): FP8 (indexer, main) or MXFP4 (indexer_mxfp4).

The inputs are constants computed here (kv with a tiny row, an all-zero row, a NaN row and a
row with one spike; weight; freqs; the handle; out_loc). @main runs dsv4.fused_epilogue (the
finished f32 rows the model quantizes), then, for each page size, dsv4.fused_store and the
unfused chain items -> rms_norm -> rope -> (hadamard) -> quantize -> paged_store on a cache
filled with a byte pattern. It prints, in order: kv, weight, freqs, handle, out_loc, the
finished rows (floats as f32 bits), then per page size the fused store's cache bytes and the
count of bytes where the chain's cache differs, the directly quantized saturating rows and
their cache, and last a fused store of every item at slot 0 of a cache one byte too small for
that slot (out_loc, then the cache). check_store.py reads them.

With --gpu, @main instead calls @finish, a function holding only dsv4.fused_epilogue, for the
finished rows, and @store<page size>, functions holding only dsv4.fused_store, for the caches:
the shapes convert-dsv4-to-gpu turns into kernels and launches (run on the CPU by
convert-gpu-to-host). It prints kv, weight, freqs, handle, the finished rows, then per page
size out_loc and the store kernel's cache, then the tiny cache; no chain, no directly
quantized rows (the kernels take kv rows only).

With --rows edge (indexer_mxfp4), the finished rows are designed values rather than an
epilogue's results: eps = 2^100 outweighs every row's mean square, so the norm multiplies by
exactly 2^-50, a weight of 2^50 undoes it, freqs rotate by 0 and nothing rotates, and the row is
kv itself. Its blocks put values on every e2m1 code, every tie between two codes and both f32
(or bf16) neighbours of each tie, at block scales from 2^-30 to 2^30 (amax above and below
1e-4, zero blocks, mixed magnitudes across a row); channel 127 weighs +inf (an infinity, or NaN
where kv is 0) and channel 126 2^127 (a finite value beside it). The directly quantized rows are
the designed values again, with NaNs, infinities and finite values that stay nonzero beside an
infinity written in directly.
"""
import argparse
import math
import struct
import sys

from dsv4_reference.store_model import Layout, f32

ROWS, POSITIONS, ROPE_DIM, RATIO = 12, 64, 64, 4
TINY_ROW, ZERO_ROW, NAN_ROW, SPIKE_ROW = 6, 7, 8, 9
HUGE_OUT_LOC = 1 << 62
# The scale format and the type of the codes of each layout (dsv4.quantize's spelling).
SCALE_FORMATS = {"indexer": "f32", "main": "ue8m0", "indexer_mxfp4": "mx"}


def f32_hex(value):
    return "0x%08X" % struct.unpack("<I", struct.pack("<f", value))[0]


def bf16_hex(value):
    """The bits of bf16_rne(value) (NaN as the quiet NaN)."""
    if math.isnan(value):
        return "0x7FC0"
    bits = struct.unpack("<I", struct.pack("<f", value))[0]
    return "0x%04X" % ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16)


def kv_value(i, j):
    """Never 0 or +-1 except in the special rows; a different scale per row."""
    v = (((i * 73 + j * 151 + 17) % 1009) - 504.5) / 300 * (0.6 + 0.35 * i)
    if i == TINY_ROW:
        return v * 1e-9            # after the norm, amax far below 1e-4
    if i == ZERO_ROW:
        return 0.0
    if i == NAN_ROW and j == 5:
        return math.nan            # the norm spreads it over the whole row
    if i == SPIKE_ROW and j == 3:
        return v * 1e5             # the main layout: its block's other channels round to
    if i == SPIKE_ROW and j == 70:  # FP8 subnormals or (signed) zero
        return v * 3e3
    return v


# --rows edge (indexer_mxfp4): see the module docstring.
EDGE_EPS = 2.0 ** 100
EDGE_NORM = 2.0 ** -50      # rsqrt(EDGE_EPS): every designed row's mean square is below half
EDGE_WEIGHT = 2.0 ** 50     # an ulp of EDGE_EPS, so the norm multiplies by exactly this
# In block 1, outside the RoPE pairs (which would spread an infinity's NaN from inf * sin 0).
HUGE_CHANNEL, HUGE_WEIGHT = 62, 2.0 ** 127
INF_CHANNEL = 63            # weight +inf
# Per row: the power of two of each block's values (None: a zero block), the sign of the
# pattern and the sign of kv's INF_CHANNEL (+1: +inf, -1: -inf, 0: NaN). Block 1 holds the
# channels of weight 2^127 and +inf, so its exponent is >= 0 (kv's HUGE_CHANNEL is then the
# value (+-6 * 2^p) * 2^-77, whose product with 2^-50 is a normal f32). Row SPIKE_ROW is not
# designed.
EDGE_ROWS = {
    0: ((0, 4, None, -16), 1, 0), 1: ((0, 0, -4, 20), -1, 1), 2: ((-13, 2, 8, None), 1, -1),
    3: ((-14, 0, -17, -15), -1, 0), 4: ((3, 1, 10, -3), 1, 1), 5: ((-1, 5, -2, 1), -1, -1),
    TINY_ROW: ((-20, 0, -17, -30), 1, 0), ZERO_ROW: ((None, None, None, None), 1, 0),
    NAN_ROW: ((30, 6, 0, -30), -1, 1), 10: ((7, 3, 15, -7), 1, -1),
    11: ((-12, 2, 12, -18), -1, 0),
}
# bf16 kv: the in-place kernel's rows are bf16, so every row must be exact: SPIKE_ROW too.
EDGE_SPIKE_ROW_BF16 = ((2, 1, 5, -2), 1, 1)


def nudged(value, steps, kv):
    """`value` moved by `steps` units in the last place of kv's type (f32 or bf16)."""
    shift = 0 if kv == "f32" else 16
    bits = struct.unpack("<I", struct.pack("<f", value))[0]
    return struct.unpack("<f", struct.pack("<I", bits + (steps << shift)))[0]


def e2m1_grid(kv):
    """32 magnitudes over a block's power of two: +-0, every e2m1 tie and its two neighbours in
    kv's type, every other code, 5.5 and 0.1; 6 (the block's amax) at position 30."""
    ties = [0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0]
    grid = [0.0, -0.0] + ties + [nudged(t, step, kv) for t in ties for step in (-1, 1)]
    grid += [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.5, 6.0, 0.1]
    return [f32(v) if kv == "f32" else bf16_value(v) for v in grid]


def bf16_value(value):
    bits = struct.unpack("<I", struct.pack("<f", value))[0]
    return struct.unpack("<f", struct.pack("<I", ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16))[0]


def edge_design(i, kv):
    """The values row `i` of --rows edge is designed to hold before the RoPE (None for the
    undesigned row)."""
    design = EDGE_ROWS.get(i, EDGE_SPIKE_ROW_BF16 if kv == "bf16" else None)
    if design is None:
        return None
    exponents, sign, inf_sign = design
    grid = e2m1_grid(kv)
    row = []
    for block, p in enumerate(exponents):
        for k, magnitude in enumerate(grid):
            value = 0.0 if p is None else magnitude * 2.0 ** p
            row.append(-value if (sign < 0) != (k % 2 == 1) else value)
    row[INF_CHANNEL] = inf_sign * math.inf if inf_sign else math.nan
    return row


def edge_finished_row(i, kv):
    """The finished row row `i` is designed to be (None for the undesigned row): its design
    after the RoPE by angle 0, which only decides the sign of zeros (a * 1 - b * 0 and a * 0 +
    b * 1 in f32, as SPEC.md writes them)."""
    row = edge_design(i, kv)
    if row is None:
        return None
    for j in range(len(row) - ROPE_DIM, len(row), 2):
        a, b = row[j], row[j + 1]
        row[j], row[j + 1] = a * 1.0 - b * 0.0, a * 0.0 + b * 1.0
    return row


def edge_kv_value(i, j, kv):
    """kv of --rows edge: the designed row (HUGE_CHANNEL scaled by 2^-77 against its weight,
    INF_CHANNEL the sign of its infinity); row SPIKE_ROW makes HUGE_CHANNEL a large finite
    value (about 0.7 * 2^127, its norm no longer exact) beside +inf."""
    row = edge_design(i, kv)
    if row is None:
        return {0: 2.0 ** 60, 1: -(2.0 ** 59), HUGE_CHANNEL: 0.07 * 2.0 ** 60,
                INF_CHANNEL: 1.0}.get(j, kv_value(i, j))
    if j == HUGE_CHANNEL:
        return row[j] / (EDGE_NORM * HUGE_WEIGHT)
    if j == INF_CHANNEL:
        return math.copysign(1.0, row[j]) if not math.isnan(row[j]) else 0.0
    return row[j]


def edge_weight(j):
    return {HUGE_CHANNEL: HUGE_WEIGHT, INF_CHANNEL: math.inf}.get(j, EDGE_WEIGHT)


def edge_direct_row(i, d):
    """Row `i` of the directly quantized rows of --rows edge: the designed values, with a NaN
    in block 0 and, in block 2, an infinity of the row's sign beside finite values that stay
    nonzero at e = 255 (3 * 2^126 is the tie 0.75, -2^127 is -0.5)."""
    row = edge_finished_row(i, "f32") or edge_finished_row(0, "f32")
    sign = -1.0 if i % 2 else 1.0
    row[5 + i] = math.nan
    row[64 + i] = sign * math.inf
    row[65 + i] = 3 * 2.0 ** 126
    row[80] = -(2.0 ** 127)
    return row


def saturating_amaxes(count):
    """f32 values a whose indexer quantization a * (1 / (a / 448)) rounds above 448."""
    found, a = [], 1.0
    while len(found) < count:
        a = f32(a * 1.0137)
        if f32(a * f32(1.0 / f32(a / 448.0))) > 448.0:
            found.append(a)
    return found


# Main layout: the directly quantized row whose block 3 holds +inf (its amax is infinite, e is
# 255 and every other channel of the block is multiplied by 2^-128, a subnormal f32).
INFINITE_BLOCK_ROW, INFINITE_BLOCK_CHANNEL = 6, 3 * 64 + 17


def saturating_row(i, d):
    """Row i of the directly quantized rows: one channel holds a saturating amax."""
    amax = saturating_amaxes(ROWS)[i]
    row = [amax * kv_value(0, j) / 3.0 for j in range(d)]
    row[(7 * i) % d] = -amax if i % 2 else amax
    if d == 512 and i == INFINITE_BLOCK_ROW:
        row[INFINITE_BLOCK_CHANNEL] = math.inf
    return row


def slots(page_size):
    """Named slots, (page, token) by page size; page 3 is where non-storing items point."""
    ps = page_size
    return {
        "A": (1, 0), "B": (0, ps - 1), "C": (2, ps // 2), "D": (4, 0), "E": (5, ps - 1),
        "F": (6, 1 % ps), "fit": (7, 0), "small": (7, ps - 1) if ps > 1 else (8, 0),
        "idle0": (3, 0), "idle1": (3, 1 % ps), "idle2": (3, 2 % ps),
    }


def cache_bytes(layout):
    """The cache ends exactly with the "fit" slot's last byte."""
    page, token = slots(layout.page_size)["fit"]
    return layout.slot(page * layout.page_size + token)[2]


# Each item: (handle entry, slot name or an int out_loc).
DECODE = [(4, "A"), (8, "B"), (6, "idle0"), (12, -1), (0, "idle1"), (68, "idle2"),
          (16, "C"), (20, "D"), (24, "E"), (64, "F"), (28, "fit"), (32, "small")]
PREFILL = [((0, 0, 0), "A"), ((1, 1, 63), "B"), ((-1, 0, 1), "idle0"), ((2, 1, 64), "idle1"),
           ((3, 2, 5), -5), ((TINY_ROW, 0, 7), "C"), ((ZERO_ROW, 1, 9), "D"),
           ((NAN_ROW, 2, 11), "E"), ((SPIKE_ROW, 3, 13), "F"), ((10, 0, 17), "fit"),
           ((11, 1, 19), "small"), ((4, 2, 21), HUGE_OUT_LOC), ((ROWS, 0, 2), "idle2")]


# sglang's plans, read in place (include/dsv4/ABI/Handle.def); item m names row m.
# DecodePlan items: ((seq_len, write_loc, read_page_0), slot): seq_len 0xFFFFFFFF (-1), a
# boundary whose write_loc or read_page_0 sglang left negative (skipped), a non-boundary.
SGLANG_DECODE = [((4, 9, 2), "A"), ((8, 9, 2), "B"), ((8, -1, 2), "idle0"), ((12, 9, 2), -1),
                 ((-1, 9, 2), "idle1"), ((12, 9, -1), "idle2"), ((16, 0, 0), "C"),
                 ((20, 9, 2), "D"), ((24, 9, 2), "E"), ((64, 9, 2), "F"), ((28, 9, 2), "fit"),
                 ((30, 9, 2), "small")]
# CompressPlan items: (seq_len, slot), stored at out_loc[ragged_id] (sglang_ragged_ids):
# seq_len 0xFFFFFFFF (-1), a position past the table (68 - 4) and below 0 (2 - 4), an item
# whose ragged id names no out_loc entry (slot None), a row past kv's (row 12).
SGLANG_EXTEND = [(4, "A"), (67, "B"), (-1, "idle0"), (68, "idle1"), (9, None), (2, "idle2"),
                 (11, "C"), (13, "D"), (15, "E"), (17, "F"), (21, "fit"), (23, "small"),
                 (25, HUGE_OUT_LOC)]
NO_ENTRY = 0xFFFF  # the largest u16 ragged id: past any out_loc here


def sglang_ragged_ids(count):
    """Item m's ragged id: a permutation of the out_loc entries, 0xFFFF for the item with none."""
    return [NO_ENTRY if slot is None else (5 * m + 3) % count
            for m, (_, slot) in enumerate(SGLANG_EXTEND[:count])]


def slot_index(name, page_size):
    if isinstance(name, int):
        return name
    page, token = slots(page_size)[name]
    return page * page_size + token


def out_locs(items, page_size, mode="decode", dtype="i64"):
    """out_loc: one entry per item; sglang_extend's entries in ragged-id order, the entry no
    item names pointing at an idle slot (a store through it would show as a mismatch). i32
    slots hold INT32_MAX where i64 ones hold HUGE_OUT_LOC (past the cache either way)."""
    def index(slot):
        value = slot_index(slot, page_size)
        return min(value, 2**31 - 1) if dtype == "i32" else value
    if mode != "sglang_extend":
        return [index(slot) for _, slot in items]
    result = [index("idle2")] * len(items)
    for ragged_id, (_, slot) in zip(sglang_ragged_ids(len(items)), items):
        if slot is not None:
            result[ragged_id] = index(slot)
    return result


def handle_rows(mode, items):
    """The handle of `mode` as nested lists: seq_lens, or the plan rows."""
    if mode == "decode":
        return [h for h, _ in items]
    if mode == "prefill":
        return [[row, batch, pos + RATIO - 1, 8] for (row, batch, pos), _ in items]
    if mode == "sglang_decode":
        return [[seq_len, write_loc, read_page_0, 5] for (seq_len, write_loc, read_page_0), _
                in items]
    # buffer_len (the high half) must not reach the ragged id.
    return [[seq_len, ragged_id | (m + 1) << 16, -1, m] for m, ((seq_len, _), ragged_id)
            in enumerate(zip(items, sglang_ragged_ids(len(items))))]


def dense(values, fmt):
    return "[" + ", ".join(fmt(v) for v in values) + "]"


def emit_pattern_cache(w, ps, c_ty):
    """%cache<ps>: the pattern check_store.py expects in every byte no slot names."""
    w(f"  %cache{ps} = tensor.generate {{")
    w(f"  ^bb0(%i: index):")
    w(f"    %ii = arith.index_cast %i : index to i32")
    w(f"    %c37 = arith.constant 37 : i32")
    w(f"    %c11 = arith.constant 11 : i32")
    w(f"    %a = arith.muli %ii, %c37 : i32")
    w(f"    %p = arith.addi %a, %c11 : i32")
    w(f"    %b = arith.trunci %p : i32 to i8")
    w(f"    tensor.yield %b : i8")
    w(f"  }} : {c_ty}")


def tiny_cache_bytes(layout):
    """One byte short of slot 0: smaller than the first page, so no slot fits."""
    return layout.slot(0)[2] - 1


def emit_tiny_cache(w, print_tensor, layout_name, mode, ps, m, attrs, fp8_attr, epilogue_types,
                    ol_ty, slots, gpu):
    """Every item at slot 0 of a cache one byte too small for it: nothing may be written (the
    slot's end, not only its page, is checked against the cache size)."""
    size = tiny_cache_bytes(Layout(layout_name, ps))
    c_ty = f"tensor<{size}xi8>"
    w(f"  %out_loc_tiny = arith.constant dense<0> : {ol_ty}")
    print_tensor("%out_loc_tiny", ol_ty, [m], slots)
    emit_pattern_cache(w, "_tiny", c_ty)
    if gpu:
        w(f"  %fused_tiny = call @store_tiny(%kv, %weight, %freqs, %handle, %cache_tiny,"
          f" %out_loc_tiny) : ({epilogue_types}, {c_ty}, {ol_ty}) -> {c_ty}")
    else:
        w(f"  %fused_tiny = dsv4.fused_store {mode} {layout_name} %kv, %weight, %freqs, %handle"
          f" into %cache_tiny[%out_loc_tiny] {{{attrs}{fp8_attr}, page_size = {ps} : i64}}"
          f" : {epilogue_types}, {c_ty}, {ol_ty}")
    print_tensor("%fused_tiny", c_ty, [size], "i8")


def emit(args):
    layout_name, mode = args.layout, args.mode
    layout = Layout(layout_name, 1)
    edge = args.rows == "edge"
    # The DeepSeek-V4 configurations: the indexer layouts rotate, main does not; edge rows don't.
    rotate = layout_name != "main" and not edge
    page_sizes = [int(p) for p in args.page_sizes.split(",")]
    d = layout.head_dim
    # The codes' type: the FP8 flavour's, or e2m1 (which has no flavour, nor an fp8_type).
    codes = "f4E2M1FN" if layout.e2m1 else {"fn": "f8E4M3FN", "fnuz": "f8E4M3FNUZ"}[args.fp8]
    fp8_attr = "" if layout.e2m1 else f", fp8_type = {codes}"
    fmt_name = SCALE_FORMATS[layout_name]
    block = layout.block
    quantized = layout.quantized
    scale_ty = "f32" if fmt_name == "f32" else "i8"

    kv_ty, w_ty, fr_ty = f"tensor<{ROWS}x{d}x{args.kv}>", f"tensor<{d}xf32>", \
        f"tensor<{POSITIONS}x{ROPE_DIM}xf32>"
    kv_hex = f32_hex if args.kv == "f32" else bf16_hex
    if edge:
        kv = dense([dense([edge_kv_value(i, j, args.kv) for j in range(d)], kv_hex)
                    for i in range(ROWS)], str)
        weight = dense([edge_weight(j) for j in range(d)], f32_hex)
    else:
        kv = dense([dense([kv_value(i, j) for j in range(d)], kv_hex) for i in range(ROWS)], str)
        weight = dense([1 + (((j * 37 + 5) % 101) - 50.5) / 200 for j in range(d)], f32_hex)
    freqs = []
    for q in range(POSITIONS):
        row = []
        for c in range(ROPE_DIM):
            angle = 0.0 if edge else (q + 1) * 0.83 / (c // 2 + 1.37)
            row.append(math.sin(angle) if c % 2 else math.cos(angle))
        freqs.append(dense(row, f32_hex))
    items = {"decode": DECODE, "prefill": PREFILL, "sglang_decode": SGLANG_DECODE,
             "sglang_extend": SGLANG_EXTEND}[mode]
    m = len(items)
    rows = handle_rows(mode, items)
    if mode == "decode":
        assert m == ROWS
        h_ty = f"tensor<{m}xi32>"
        handle = dense(rows, str)
    else:
        h_ty = f"tensor<{m}x4xi32>"
        handle = dense([dense(row, str) for row in rows], str)
    it_ty, ol_ty = f"tensor<{m}x2xi32>", f"tensor<{m}x{args.out_loc}>"
    q_ty = f"tensor<{ROWS}x{quantized}x{codes}>"
    s_ty = f"tensor<{ROWS}x{quantized // block}x{scale_ty}>"
    eps = f32_hex(EDGE_EPS if edge else 1e-6)
    attrs = f"eps = {eps} : f32, ratio = {RATIO} : i64, rope_dim = {ROPE_DIM} : i64"
    if rotate:
        attrs += f", scale = {f32_hex(d ** -0.5)} : f32"

    lines = [f"// {' '.join(sys.argv[1:])}"]
    w = lines.append
    w("func.func private @printMemrefI32(memref<*xi32>) attributes {llvm.emit_c_interface}")
    w("func.func private @printMemrefI64(memref<*xi64>) attributes {llvm.emit_c_interface}")
    epilogue_types = f"{kv_ty}, {w_ty}, {fr_ty}, {h_ty}"
    if args.gpu:
        w(f"func.func @finish(%kv: {kv_ty}, %weight: {w_ty}, %freqs: {fr_ty}, %handle: {h_ty})"
          f" -> {kv_ty} {{")
        w(f"  %0 = dsv4.fused_epilogue {mode} %kv, %weight, %freqs, %handle {{{attrs}}}"
          f" : {epilogue_types}")
        w(f"  return %0 : {kv_ty}")
        w("}")
        for ps in page_sizes:
            c_ty = f"tensor<{cache_bytes(Layout(layout_name, ps))}xi8>"
            w(f"func.func @store{ps}(%kv: {kv_ty}, %weight: {w_ty}, %freqs: {fr_ty},"
              f" %handle: {h_ty}, %cache: {c_ty}, %out_loc: {ol_ty}) -> {c_ty} {{")
            w(f"  %0 = dsv4.fused_store {mode} {layout_name} %kv, %weight, %freqs, %handle"
              f" into %cache[%out_loc] {{{attrs}{fp8_attr}, page_size = {ps} : i64}}"
              f" : {epilogue_types}, {c_ty}, {ol_ty}")
            w(f"  return %0 : {c_ty}")
            w("}")
        c_ty = f"tensor<{tiny_cache_bytes(Layout(layout_name, page_sizes[0]))}xi8>"
        w(f"func.func @store_tiny(%kv: {kv_ty}, %weight: {w_ty}, %freqs: {fr_ty},"
          f" %handle: {h_ty}, %cache: {c_ty}, %out_loc: {ol_ty}) -> {c_ty} {{")
        w(f"  %0 = dsv4.fused_store {mode} {layout_name} %kv, %weight, %freqs, %handle"
          f" into %cache[%out_loc] {{{attrs}{fp8_attr}, page_size = {page_sizes[0]} : i64}}"
          f" : {epilogue_types}, {c_ty}, {ol_ty}")
        w(f"  return %0 : {c_ty}")
        w("}")
    w("func.func @main() {")
    w(f"  %kv = arith.constant dense<{kv}> : {kv_ty}")
    w(f"  %weight = arith.constant dense<{weight}> : {w_ty}")
    w(f"  %freqs = arith.constant dense<{dense(freqs, str)}> : {fr_ty}")
    w(f"  %handle = arith.constant dense<{handle}> : {h_ty}")
    if args.gpu:
        w(f"  %rows = call @finish(%kv, %weight, %freqs, %handle) : ({epilogue_types})"
          f" -> {kv_ty}")
    else:
        w(f"  %rows = dsv4.fused_epilogue {mode} %kv, %weight, %freqs, %handle {{{attrs}}}"
          f" : {epilogue_types}")
    counter = [0]

    def print_tensor(value, ty, shape, elem):
        """Prints a tensor as i32 (floats as their bits, i8 zero-extended) or i64."""
        k = counter[0]
        counter[0] += 1
        dims = "x".join(str(s) for s in shape)
        out = "i64" if elem == "i64" else "i32"
        if elem in ("i32", "i64"):
            w(f"  %buf{k} = bufferization.to_buffer {value} : {ty} to memref<{dims}x{out}>")
        else:
            ivs = ", ".join(f"%x{a}" for a in range(len(shape)))
            w(f"  %bits{k} = tensor.generate {{")
            w(f"  ^bb0({', '.join(f'%x{a}: index' for a in range(len(shape)))}):")
            w(f"    %e = tensor.extract {value}[{ivs}] : {ty}")
            if elem == "bf16":
                w("    %f = arith.extf %e : bf16 to f32")
                op = "arith.bitcast %f : f32 to i32"
            else:
                op = "arith.bitcast %e : f32 to i32" if elem == "f32" else \
                    "arith.extui %e : i8 to i32"
            w(f"    %b = {op}")
            w(f"    tensor.yield %b : i32")
            w(f"  }} : tensor<{dims}xi32>")
            w(f"  %buf{k} = bufferization.to_buffer %bits{k} : tensor<{dims}xi32>"
              f" to memref<{dims}xi32>")
        w(f"  %any{k} = memref.cast %buf{k} : memref<{dims}x{out}> to memref<*x{out}>")
        fn = "printMemrefI64" if out == "i64" else "printMemrefI32"
        w(f"  call @{fn}(%any{k}) : (memref<*x{out}>) -> ()")

    print_tensor("%kv", kv_ty, [ROWS, d], args.kv)
    print_tensor("%weight", w_ty, [d], "f32")
    print_tensor("%freqs", fr_ty, [POSITIONS, ROPE_DIM], "f32")
    print_tensor("%handle", h_ty, [m] if mode == "decode" else [m, 4], "i32")
    print_tensor("%rows", kv_ty, [ROWS, d], args.kv)

    if args.gpu:
        for ps in page_sizes:
            size = cache_bytes(Layout(layout_name, ps))
            c_ty = f"tensor<{size}xi8>"
            slots = dense(out_locs(items, ps, mode, args.out_loc), str)
            w(f"  %out_loc{ps} = arith.constant dense<{slots}> : {ol_ty}")
            print_tensor(f"%out_loc{ps}", ol_ty, [m], args.out_loc)
            emit_pattern_cache(w, ps, c_ty)
            w(f"  %fused{ps} = call @store{ps}(%kv, %weight, %freqs, %handle, %cache{ps},"
              f" %out_loc{ps}) : ({epilogue_types}, {c_ty}, {ol_ty}) -> {c_ty}")
            print_tensor(f"%fused{ps}", c_ty, [size], "i8")
        emit_tiny_cache(w, print_tensor, layout_name, mode, page_sizes[0], m, attrs, fp8_attr,
                        epilogue_types, ol_ty, args.out_loc, gpu=True)
        w("  return")
        w("}")
        return "\n".join(lines) + "\n"

    # The unfused chain up to the quantization, shared by every page size.
    w(f"  %items = dsv4.{mode}_items %handle, %freqs {{ratio = {RATIO} : i64}}"
      f" : {h_ty}, {fr_ty} -> {it_ty}")
    w(f"  %u0 = dsv4.rms_norm %kv[%items], %weight {{eps = {eps} : f32}}"
      f" : {kv_ty}, {it_ty}, {w_ty}")
    w(f"  %u1 = dsv4.rope %u0[%items], %freqs {{rope_dim = {ROPE_DIM} : i64}}"
      f" : {kv_ty}, {it_ty}, {fr_ty}")
    chain = "%u1"
    if rotate:
        w(f"  %u2 = dsv4.hadamard %u1[%items] {{scale = {f32_hex(d ** -0.5)} : f32}}"
          f" : {kv_ty}, {it_ty}")
        chain = "%u2"
    w(f"  %q, %s = dsv4.quantize {fmt_name} {chain} {{block = {block} : i64}}"
      f" : {kv_ty} -> {q_ty}, {s_ty}")

    for ps in page_sizes:
        layout = Layout(layout_name, ps)
        size = cache_bytes(layout)
        c_ty = f"tensor<{size}xi8>"
        slots = dense(out_locs(items, ps, mode, args.out_loc), str)
        w(f"  %out_loc{ps} = arith.constant dense<{slots}> : {ol_ty}")
        print_tensor(f"%out_loc{ps}", ol_ty, [m], args.out_loc)
        emit_pattern_cache(w, ps, c_ty)
        store_attrs = f"page_size = {ps} : i64, ratio = {RATIO} : i64"
        w(f"  %fused{ps} = dsv4.fused_store {mode} {layout_name} %kv, %weight, %freqs, %handle"
          f" into %cache{ps}[%out_loc{ps}] {{{attrs}{fp8_attr}, page_size = {ps} : i64}}"
          f" : {kv_ty}, {w_ty}, {fr_ty}, {h_ty}, {c_ty}, {ol_ty}")
        w(f"  %chain{ps} = dsv4.paged_store {mode} {layout_name} %q, %s, {chain}"
          f" into %cache{ps}[%out_loc{ps}] items %items, %handle {{{store_attrs}}}"
          f" : {q_ty}, {s_ty}, {kv_ty}, {c_ty}, {ol_ty}, {it_ty}, {h_ty}")
        print_tensor(f"%fused{ps}", c_ty, [size], "i8")
        # Bytes where the chain's cache differs from the fused one.
        w(f"  %c0_{ps} = arith.constant 0 : index")
        w(f"  %c1_{ps} = arith.constant 1 : index")
        w(f"  %n{ps} = arith.constant {size} : index")
        w(f"  %zero{ps} = arith.constant 0 : i32")
        w(f"  %diff{ps} = scf.for %i = %c0_{ps} to %n{ps} step %c1_{ps}"
          f" iter_args(%acc = %zero{ps}) -> (i32) {{")
        w(f"    %x = tensor.extract %fused{ps}[%i] : {c_ty}")
        w(f"    %y = tensor.extract %chain{ps}[%i] : {c_ty}")
        w(f"    %ne = arith.cmpi ne, %x, %y : i8")
        w(f"    %one = arith.extui %ne : i1 to i32")
        w(f"    %next = arith.addi %acc, %one : i32")
        w(f"    scf.yield %next : i32")
        w(f"  }}")
        w(f"  %difft{ps} = tensor.from_elements %diff{ps} : tensor<1xi32>")
        print_tensor(f"%difft{ps}", "tensor<1xi32>", [1], "i32")
    # Rows quantized and stored directly (no epilogue) at the first page size. FP8: rows that
    # saturate, their amax channel above FP8_MAX before the saturation; e2m1 (whose amax never
    # exceeds 6 when finite): the designed edge values, with NaNs and infinities anywhere.
    ps = page_sizes[0]
    size = cache_bytes(Layout(layout_name, ps))
    c_ty = f"tensor<{size}xi8>"
    direct_row = edge_direct_row if layout.e2m1 else saturating_row
    sat = dense([dense(direct_row(i, d), f32_hex) for i in range(ROWS)], str)
    w(f"  %sat = arith.constant dense<{sat}> : {kv_ty}")
    w(f"  %satq, %sats = dsv4.quantize {fmt_name} %sat {{block = {block} : i64}}"
      f" : {kv_ty} -> {q_ty}, {s_ty}")
    w(f"  %satc = dsv4.paged_store {mode} {layout_name} %satq, %sats, %sat"
      f" into %cache{ps}[%out_loc{ps}] items %items, %handle"
      f" {{page_size = {ps} : i64, ratio = {RATIO} : i64}}"
      f" : {q_ty}, {s_ty}, {kv_ty}, {c_ty}, {ol_ty}, {it_ty}, {h_ty}")
    print_tensor("%sat", kv_ty, [ROWS, d], "f32")
    print_tensor("%satc", c_ty, [size], "i8")
    emit_tiny_cache(w, print_tensor, layout_name, mode, page_sizes[0], m, attrs, fp8_attr,
                    epilogue_types, ol_ty, args.out_loc, gpu=False)
    w("  return")
    w("}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--layout", choices=sorted(SCALE_FORMATS), required=True)
    parser.add_argument("--mode", choices=["decode", "prefill", "sglang_decode", "sglang_extend"],
                        required=True)
    parser.add_argument("--fp8", choices=["fn", "fnuz"],
                        help="the FP8 type of an FP8 layout (indexer_mxfp4 has none)")
    parser.add_argument("--rows", choices=["standard", "edge"], default="standard",
                        help="edge: designed finished rows (indexer_mxfp4; module docstring)")
    parser.add_argument("--page-sizes", default="1,16,64")
    parser.add_argument("--out-loc", choices=["i64", "i32"], default="i64",
                        help="out_loc's element type (i32: the kernels of out_loc_type = i32)")
    parser.add_argument("--gpu", action="store_true",
                        help="run the kernels (@finish, @store<ps>) instead of the CPU ops")
    parser.add_argument("--kv", choices=["f32", "bf16"], default="f32",
                        help="kv's type; bf16 with --gpu and --layout main or --rows edge only: "
                             "there the finished rows the model needs are exactly the bf16 "
                             "in-place kernel's (main rounds every channel to bf16 first, edge "
                             "rows are bf16 values exactly)")
    args = parser.parse_args()
    if (args.fp8 is None) != Layout(args.layout, 1).e2m1:
        parser.error("--fp8 is needed by an FP8 layout and refused by indexer_mxfp4")
    if args.rows == "edge" and args.layout != "indexer_mxfp4":
        parser.error("--rows edge is designed for indexer_mxfp4's e2m1 codes")
    if args.kv == "bf16" and not (args.gpu and (args.layout == "main" or args.rows == "edge")):
        parser.error("--kv bf16 needs --gpu and --layout main or --rows edge")
    print(emit(args), end="")


if __name__ == "__main__":
    main()
