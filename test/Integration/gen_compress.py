#!/usr/bin/env python3
"""Writes the MLIR input of one CPU test of the compress step (SPEC.md "The compress step in
front"): dsv4.compress_pool, then the epilogue, quantization and paged store of its rows, fused
(dsv4.fused_compress_store) and as the unfused chain, for each of the block sizes 1, 4 and 64.

The case (build_case) is deterministic, so check_compress.py rebuilds the same inputs. One flat
state `[R, 2W]` f32, R a multiple of 64, is viewed as `[R / bs, bs, 2W]` for every block size
bs: each request's positions lie in chunks of 64 rows taken in shuffled order, so every block
table is out of order; rows no position owns are NaN, so a read of one poisons a row. The
batch mixes one-token decode requests and long prefill chunks: a first window (under overlap,
half below position 0), a window whose channels hold equal scores, -inf scores and a large
spread (about +-300, which overflows exp without the max), a non-boundary decode token of a
request with no state at all, padding (p = -1), requests outside the block table, a request
whose table names a block outside the state in its window's last column, and one whose window
lies past the table's columns. Boundary items have distinct slots or out_loc = -1; the others
point at idle slots, which must keep the cache's pattern.

@main prints, in order: per block size, the plan of compress_pool; for the first, its pooled
rows and the finished rows of dsv4.fused_epilogue prefill of them (f32 bits); for the others,
how many bits of their pooled rows differ from the first's; the fused store's cache bytes and
how many bytes the unfused chain's cache differs in. Last, a checksum of every state row
(sum of bits * (k + 1), i32) read after all the ops.
"""
import argparse
import math
import random
import struct
import sys

from dsv4_reference.store_model import Layout, f32
from gen_store import SCALE_FORMATS, dense, emit_pattern_cache, f32_hex

CHUNK = 64
BLOCK_SIZES = (1, 4, 64)
# The cache's page size for each block size: slots in one page, in many, and one a page.
PAGE_SIZES = {1: 64, 4: 1, 64: 16}
ROPE_DIM = 64
EPS = 1e-6
IDLE_SLOTS = 3
LARGE_SPREAD = 100.0


class Case:
    """The inputs of one test: layout, ratio and every tensor, as Python values."""

    def __init__(self, layout, ratio):
        self.layout = layout
        self.ratio = ratio
        self.overlap = ratio == 4
        self.coff = 2 if self.overlap else 1
        self.d = Layout(layout, 1).head_dim
        self.width = self.coff * self.d
        self.rotate = layout != "main"
        self.scale = f32(self.d ** -0.5) if self.rotate else None
        rng = random.Random(f"{layout}/{ratio}")
        self._requests(ratio)
        self._items(ratio)
        self._state(rng)
        self.weight = [f32(1 + rng.uniform(-0.25, 0.25)) for _ in range(self.d)]
        self.num_positions = max(self.positions) + 2 - ratio
        self.freqs = [[f32(math.sin(a) if c % 2 else math.cos(a))
                       for c in range(ROPE_DIM)
                       for a in [(q + 1) * 0.83 / (c // 2 + 1.37)]]
                      for q in range(self.num_positions)]
        self._slots(rng)

    def _requests(self, ratio):
        """lengths[r]: the positions request r has state rows for; the table rows of the last
        three requests are made in block_table."""
        if ratio == 4:
            self.first_window, self.deep, self.not_boundary = 3, 19, 5
            self.chunk_a, self.chunk_b = (6, 46), (0, 20)
        else:
            self.first_window, self.deep, self.not_boundary = 127, None, 129
            self.chunk_a, self.chunk_b = (200, 260), (100, 130)
        # 0: decode, first window; 1: decode deep in (ratio 4); 2: decode, not a boundary, no
        # state; 3, 4: prefill chunks; 5: chunk_a's table, one column outside the state;
        # 6: chunk_a's table, position past it.
        self.lengths = [self.first_window + 1, (self.deep or 0) + 1, 0, self.chunk_a[1],
                        self.chunk_b[1]]
        self.bad_block, self.past_table = 5, 6
        self.num_reqs = 7
        self.max_chunks = max(-(-length // CHUNK) for length in self.lengths)
        past = CHUNK * self.max_chunks
        self.past_position = -(-(past + 1) // ratio) * ratio - 1
        self.bad_block_position = self.chunk_a[1] - self.chunk_a[1] % ratio - 1

    def _items(self, ratio):
        """Decode tokens and prefill chunks interleaved: (request, position) per item."""
        items = [(0, self.first_window)]
        items += [(3, p) for p in range(*self.chunk_a)]
        items += [(2, self.not_boundary), (0, -1)]
        if self.deep is not None:
            items.append((1, self.deep))
        items += [(4, p) for p in range(*self.chunk_b)]
        items += [(self.num_reqs, self.first_window), (-1, self.first_window),
                  (self.bad_block, self.bad_block_position),
                  (self.past_table, self.past_position)]
        self.token_req = [r for r, _ in items]
        self.positions = [p for _, p in items]

    def _state(self, rng):
        """The flat state: each request's chunks at shuffled places, NaN elsewhere."""
        chunks = [(r, k) for r, length in enumerate(self.lengths)
                  for k in range(-(-length // CHUNK))]
        places = list(range(len(chunks) + 1))  # one spare chunk, all NaN
        rng.shuffle(places)
        self.chunk_place = dict(zip(chunks, places))
        self.rows = CHUNK * len(places)
        row_width = 2 * self.width
        values = [math.nan] * (self.rows * row_width)
        for (r, k), place in self.chunk_place.items():
            for q in range(k * CHUNK, min((k + 1) * CHUNK, self.lengths[r])):
                start = (place * CHUNK + q % CHUNK) * row_width
                values[start:start + row_width] = self._state_row(rng, q)
        self.state = values

    def _state_row(self, rng, q):
        """kv uniform in [-2, 2]; score by channel class (channel c of either half, c % 4):
        0 uniform in [-3, 3], 1 equal (0.5), 2 a large spread, 3 -inf at positions q % 3 == 1
        (every window keeps a finite score there)."""
        kv = [f32(rng.uniform(-2, 2)) for _ in range(self.width)]
        score = []
        for k in range(self.width):
            kind = (k % self.d) % 4
            if kind == 1:
                score.append(0.5)
            elif kind == 2:
                score.append(f32(rng.uniform(-3, 3) * LARGE_SPREAD))
            elif kind == 3 and q % 3 == 1:
                score.append(-math.inf)
            else:
                score.append(f32(rng.uniform(-3, 3)))
        return kv + score

    def block_table(self, bs):
        """[num_reqs, max_blocks] for block size bs: -1 past a request's state."""
        per_chunk = CHUNK // bs
        max_blocks = self.max_chunks * per_chunk
        table = []
        for r in range(len(self.lengths)):
            row = [-1] * max_blocks
            for k in range(-(-self.lengths[r] // CHUNK)):
                place = self.chunk_place[(r, k)]
                for j in range(per_chunk):
                    row[k * per_chunk + j] = place * per_chunk + j
            table.append(row)
        num_blocks = self.rows // bs
        bad = list(table[3])
        bad[self.bad_block_position // bs] = num_blocks
        table += [bad, list(table[3])]
        return table

    def _slots(self, rng):
        """out_loc: boundary items get distinct slots (every fourth -1), the others idle ones."""
        boundary = [t for t, p in enumerate(self.positions) if p >= 0 and (p + 1) % self.ratio == 0]
        numbers = list(range(IDLE_SLOTS, IDLE_SLOTS + len(boundary)))
        rng.shuffle(numbers)
        self.out_loc = [t % IDLE_SLOTS for t in range(len(self.positions))]
        for k, t in enumerate(boundary):
            self.out_loc[t] = -1 if k % 4 == 3 else numbers[k]
        self.num_slots = IDLE_SLOTS + len(boundary)

    def cache_bytes(self, ps):
        pages = -(-self.num_slots // ps)
        return pages * Layout(self.layout, ps).page_bytes


def build_case(layout, ratio):
    return Case(layout, ratio)


def hex_blob(values):
    return '"0x' + struct.pack(f"<{len(values)}f", *values).hex().upper() + '"'


class Printer:
    """Emits the prints of @main: tensors as i32 (floats as bits, i8 zero-extended) and
    counts of differing elements."""

    def __init__(self, w):
        self.w = w
        self.k = 0

    def _print(self, value, dims):
        k = self.k
        self.k += 1
        self.w(f"  %buf{k} = bufferization.to_buffer {value} : tensor<{dims}xi32>"
               f" to memref<{dims}xi32>")
        self.w(f"  %any{k} = memref.cast %buf{k} : memref<{dims}xi32> to memref<*xi32>")
        self.w(f"  call @printMemrefI32(%any{k}) : (memref<*xi32>) -> ()")

    def bits(self, value, shape, elem):
        """Prints `value` (a tensor of f32, i8 or i32 of `shape`) as i32."""
        dims = "x".join(str(s) for s in shape)
        if elem == "i32":
            self._print(value, dims)
            return
        ivs = ", ".join(f"%x{a}" for a in range(len(shape)))
        op = "arith.bitcast %e : f32 to i32" if elem == "f32" else "arith.extui %e : i8 to i32"
        self.w(f"  %bits{self.k} = tensor.generate {{")
        self.w(f"  ^bb0({', '.join(f'%x{a}: index' for a in range(len(shape)))}):")
        self.w(f"    %e = tensor.extract {value}[{ivs}] : tensor<{dims}x{elem}>")
        self.w(f"    %b = {op}")
        self.w("    tensor.yield %b : i32")
        self.w(f"  }} : tensor<{dims}xi32>")
        self._print(f"%bits{self.k}", dims)

    def differences(self, a, b, size, elem):
        """Prints how many elements of the 1-D tensors a and b (f32 compared as bits) differ."""
        k = self.k
        w = self.w
        w(f"  %n{k} = arith.constant {size} : index")
        w(f"  %diff{k} = scf.for %i = %c0 to %n{k} step %c1 iter_args(%acc = %zero) -> (i32) {{")
        w(f"    %x = tensor.extract {a}[%i] : tensor<{size}x{elem}>")
        w(f"    %y = tensor.extract {b}[%i] : tensor<{size}x{elem}>")
        if elem == "f32":
            w("    %xb = arith.bitcast %x : f32 to i32")
            w("    %yb = arith.bitcast %y : f32 to i32")
            w("    %ne = arith.cmpi ne, %xb, %yb : i32")
        else:
            w(f"    %ne = arith.cmpi ne, %x, %y : {elem}")
        w("    %one = arith.extui %ne : i1 to i32")
        w("    %next = arith.addi %acc, %one : i32")
        w("    scf.yield %next : i32")
        w("  }")
        w(f"  %difft{k} = tensor.from_elements %diff{k} : tensor<1xi32>")
        self._print(f"%difft{k}", "1")


class Types:
    """The MLIR types and attributes of one case."""

    def __init__(self, case, fp8):
        layout = Layout(case.layout, 1)
        self.layout = layout
        d, t_count = case.d, len(case.positions)
        self.codes = "f4E2M1FN" if layout.e2m1 else {"fn": "f8E4M3FN", "fnuz": "f8E4M3FNUZ"}[fp8]
        self.fp8_attr = "" if layout.e2m1 else f", fp8_type = {self.codes}"
        scale_ty = "f32" if SCALE_FORMATS[case.layout] == "f32" else "i8"
        self.row_width = 2 * case.width
        self.flat = f"tensor<{case.rows}x{self.row_width}xf32>"
        self.token_req, self.positions = f"tensor<{t_count}xi32>", f"tensor<{t_count}xi64>"
        self.out_loc = f"tensor<{t_count}xi64>"
        self.weight = f"tensor<{d}xf32>"
        self.freqs = f"tensor<{case.num_positions}x{ROPE_DIM}xf32>"
        self.rows, self.plan = f"tensor<{t_count}x{d}xf32>", f"tensor<{t_count}x4xi32>"
        self.items = f"tensor<{t_count}x2xi32>"
        self.q = f"tensor<{t_count}x{layout.quantized}x{self.codes}>"
        self.s = f"tensor<{t_count}x{layout.quantized // layout.block}x{scale_ty}>"
        self.pool_attrs = ("overlap, " if case.overlap else "") + f"ratio = {case.ratio} : i64"
        self.overlap_attr = ", overlap" if case.overlap else ""
        self.eps = f32_hex(EPS)
        self.epilogue_attrs = (f"eps = {self.eps} : f32, ratio = {case.ratio} : i64,"
                               f" rope_dim = {ROPE_DIM} : i64")
        if case.rotate:
            self.epilogue_attrs += f", scale = {f32_hex(case.scale)} : f32"

    def state(self, case, bs):
        return f"tensor<{case.rows // bs}x{bs}x{self.row_width}xf32>"

    def table(self, table):
        return f"tensor<{len(table)}x{len(table[0])}xi32>"

    def cache(self, case, bs):
        return f"tensor<{case.cache_bytes(PAGE_SIZES[bs])}xi8>"

    def store_attrs(self, case, bs):
        return (f"{self.epilogue_attrs}{self.fp8_attr}{self.overlap_attr},"
                f" page_size = {PAGE_SIZES[bs]} : i64")

    def store_types(self, case, bs, table):
        return (f"{self.state(case, bs)}, {self.table(table)}, {self.token_req},"
                f" {self.positions}, {self.weight}, {self.freqs}, {self.cache(case, bs)},"
                f" {self.out_loc}")


def emit_inputs(w, case, ty):
    """The header of @main: constants and every input shared by the block sizes."""
    w("func.func private @printMemrefI32(memref<*xi32>) attributes {llvm.emit_c_interface}")
    w("func.func @main() {")
    w("  %c0 = arith.constant 0 : index")
    w("  %c1 = arith.constant 1 : index")
    w("  %zero = arith.constant 0 : i32")
    w(f"  %flat = arith.constant dense<{hex_blob(case.state)}> : {ty.flat}")
    w(f"  %token_req = arith.constant dense<{dense(case.token_req, str)}> : {ty.token_req}")
    w(f"  %positions = arith.constant dense<{dense(case.positions, str)}> : {ty.positions}")
    w(f"  %out_loc = arith.constant dense<{dense(case.out_loc, str)}> : {ty.out_loc}")
    w(f"  %weight = arith.constant dense<{dense(case.weight, f32_hex)}> : {ty.weight}")
    w(f"  %freqs = arith.constant dense<{dense([dense(r, f32_hex) for r in case.freqs], str)}>"
      f" : {ty.freqs}")


def emit_state_view(w, case, ty, k, bs):
    """%state<k>, the flat state seen as blocks of bs rows, and %table<k>; returns the table."""
    table = case.block_table(bs)
    w(f"  %state{k} = tensor.expand_shape %flat [[0, 1], [2]] output_shape"
      f" [{case.rows // bs}, {bs}, {ty.row_width}] : {ty.flat} into {ty.state(case, bs)}")
    w(f"  %table{k} = arith.constant dense<{dense([dense(r, str) for r in table], str)}>"
      f" : {ty.table(table)}")
    return table


def emit_state_checksum(w, p, case, ty):
    """The state after every op has read it: sum of bits * (k + 1) per row, printed."""
    w("  %c1i = arith.constant 1 : i32")
    w(f"  %width = arith.constant {ty.row_width} : index")
    w("  %checksum = tensor.generate {")
    w("  ^bb0(%r: index):")
    w("    %sum = scf.for %k = %c0 to %width step %c1 iter_args(%acc = %zero) -> (i32) {")
    w(f"      %v = tensor.extract %flat[%r, %k] : {ty.flat}")
    w("      %b = arith.bitcast %v : f32 to i32")
    w("      %ki = arith.index_cast %k : index to i32")
    w("      %k1 = arith.addi %ki, %c1i : i32")
    w("      %m = arith.muli %b, %k1 : i32")
    w("      %next = arith.addi %acc, %m : i32")
    w("      scf.yield %next : i32")
    w("    }")
    w("    tensor.yield %sum : i32")
    w(f"  }} : tensor<{case.rows}xi32>")
    p.bits("%checksum", [case.rows], "i32")
    w("  return")
    w("}")


def emit_gpu(case, fp8):
    """--gpu: each block size's dsv4.fused_compress_store alone in @compress<k>, the kernel
    function convert-dsv4-to-gpu lowers and dsv4-host-launch launches; @main prints each
    cache, then the state's checksum."""
    ty = Types(case, fp8)
    lines = [f"// {' '.join(sys.argv[1:])}"]
    w = lines.append
    p = Printer(w)
    tables = {bs: case.block_table(bs) for bs in BLOCK_SIZES}
    for k, bs in enumerate(BLOCK_SIZES):
        st_ty, bt_ty, c_ty = ty.state(case, bs), ty.table(tables[bs]), ty.cache(case, bs)
        w(f"func.func @compress{k}(%state: {st_ty}, %table: {bt_ty}, %token_req: {ty.token_req},"
          f" %positions: {ty.positions}, %weight: {ty.weight}, %freqs: {ty.freqs},"
          f" %cache: {c_ty}, %out_loc: {ty.out_loc}) -> {c_ty} {{")
        w(f"  %c = dsv4.fused_compress_store {case.layout} %state[%table], %token_req,"
          f" %positions, %weight, %freqs into %cache[%out_loc] {{{ty.store_attrs(case, bs)}}}"
          f" : {ty.store_types(case, bs, tables[bs])}")
        w(f"  return %c : {c_ty}")
        w("}")
    emit_inputs(w, case, ty)
    for k, bs in enumerate(BLOCK_SIZES):
        emit_state_view(w, case, ty, k, bs)
        c_ty = ty.cache(case, bs)
        emit_pattern_cache(w, k, c_ty)
        w(f"  %fused{k} = call @compress{k}(%state{k}, %table{k}, %token_req, %positions,"
          f" %weight, %freqs, %cache{k}, %out_loc) : ({ty.store_types(case, bs, tables[bs])})"
          f" -> {c_ty}")
        p.bits(f"%fused{k}", [case.cache_bytes(PAGE_SIZES[bs])], "i8")
    emit_state_checksum(w, p, case, ty)
    return "\n".join(lines) + "\n"


def emit(case, fp8):
    ty = Types(case, fp8)
    layout = ty.layout
    d, t_count = case.d, len(case.positions)
    lines = [f"// {' '.join(sys.argv[1:])}"]
    w = lines.append
    p = Printer(w)
    emit_inputs(w, case, ty)
    eps, epilogue_attrs = ty.eps, ty.epilogue_attrs
    rows_ty, plan_ty, items_ty, q_ty, s_ty = ty.rows, ty.plan, ty.items, ty.q, ty.s
    w_ty, fr_ty, tr_ty, pos_ty = ty.weight, ty.freqs, ty.token_req, ty.positions
    for k, bs in enumerate(BLOCK_SIZES):
        ps = PAGE_SIZES[bs]
        table = emit_state_view(w, case, ty, k, bs)
        st_ty, bt_ty, c_ty = ty.state(case, bs), ty.table(table), ty.cache(case, bs)
        w(f"  %rows{k}, %plan{k} = dsv4.compress_pool %state{k}[%table{k}], %token_req,"
          f" %positions {{{ty.pool_attrs}}} : {st_ty}, {bt_ty}, {tr_ty}, {pos_ty}"
          f" -> {rows_ty}, {plan_ty}")
        p.bits(f"%plan{k}", [t_count, 4], "i32")
        w(f"  %flatrows{k} = tensor.collapse_shape %rows{k} [[0, 1]] : {rows_ty}"
          f" into tensor<{t_count * d}xf32>")
        if k == 0:
            p.bits("%rows0", [t_count, d], "f32")
            w(f"  %finished = dsv4.fused_epilogue prefill %rows0, %weight, %freqs, %plan0"
              f" {{{epilogue_attrs}}} : {rows_ty}, {w_ty}, {fr_ty}, {plan_ty}")
            p.bits("%finished", [t_count, d], "f32")
        else:
            p.differences(f"%flatrows{k}", "%flatrows0", t_count * d, "f32")
        emit_pattern_cache(w, k, c_ty)
        w(f"  %fused{k} = dsv4.fused_compress_store {case.layout} %state{k}[%table{k}],"
          f" %token_req, %positions, %weight, %freqs into %cache{k}[%out_loc]"
          f" {{{ty.store_attrs(case, bs)}}} : {ty.store_types(case, bs, table)}")
        p.bits(f"%fused{k}", [case.cache_bytes(ps)], "i8")
        # The unfused chain: the pool's plan is a prefill plan.
        w(f"  %items{k} = dsv4.prefill_items %plan{k}, %freqs {{ratio = {case.ratio} : i64}}"
          f" : {plan_ty}, {fr_ty} -> {items_ty}")
        w(f"  %norm{k} = dsv4.rms_norm %rows{k}[%items{k}], %weight {{eps = {eps} : f32}}"
          f" : {rows_ty}, {items_ty}, {w_ty}")
        w(f"  %rope{k} = dsv4.rope %norm{k}[%items{k}], %freqs {{rope_dim = {ROPE_DIM} : i64}}"
          f" : {rows_ty}, {items_ty}, {fr_ty}")
        chain = f"%rope{k}"
        if case.rotate:
            w(f"  %rot{k} = dsv4.hadamard %rope{k}[%items{k}] {{scale = {f32_hex(case.scale)}"
              f" : f32}} : {rows_ty}, {items_ty}")
            chain = f"%rot{k}"
        w(f"  %q{k}, %s{k} = dsv4.quantize {SCALE_FORMATS[case.layout]} {chain}"
          f" {{block = {layout.block} : i64}} : {rows_ty} -> {q_ty}, {s_ty}")
        w(f"  %chain{k} = dsv4.paged_store prefill {case.layout} %q{k}, %s{k}, {chain}"
          f" into %cache{k}[%out_loc] items %items{k}, %plan{k}"
          f" {{page_size = {ps} : i64, ratio = {case.ratio} : i64}}"
          f" : {q_ty}, {s_ty}, {rows_ty}, {c_ty}, {ty.out_loc}, {items_ty}, {plan_ty}")
        p.differences(f"%fused{k}", f"%chain{k}", case.cache_bytes(ps), "i8")
    emit_state_checksum(w, p, case, ty)
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--layout", choices=sorted(SCALE_FORMATS), required=True)
    parser.add_argument("--ratio", type=int, choices=[4, 128], required=True,
                        help="4: windows overlap (coff 2); 128: they do not")
    parser.add_argument("--fp8", choices=["fn", "fnuz"],
                        help="the FP8 type of an FP8 layout (indexer_mxfp4 has none)")
    parser.add_argument("--gpu", action="store_true",
                        help="the fused op alone in kernel functions (convert-dsv4-to-gpu)")
    args = parser.parse_args()
    if (args.fp8 is None) != Layout(args.layout, 1).e2m1:
        parser.error("--fp8 is needed by an FP8 layout and refused by indexer_mxfp4")
    case = build_case(args.layout, args.ratio)
    print((emit_gpu if args.gpu else emit)(case, args.fp8), end="")


if __name__ == "__main__":
    main()
