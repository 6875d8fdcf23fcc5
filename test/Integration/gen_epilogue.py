#!/usr/bin/env python3
"""Writes the MLIR input of one CPU integration test of the dsv4 epilogue.

The module's @main builds every input inside the IR (kv, weight, freqs and the handle, from
integer hashes of the indices and cos/sin of a made-up angle table), runs the unfused chain
(decode_items/prefill_items, rms_norm, rope[, hadamard]) and dsv4.fused_epilogue on the same
inputs, and prints, in this order, the bits of: kv, weight, freqs, handle, the unfused result
and the fused result (floating-point values widened exactly to f32, then bitcast to i32, via
printMemrefI32). check_epilogue.py reads that output; it recomputes everything in float64 from
the printed inputs. This script computes no expected value.

With --gpu, @main instead calls @epilogue, a function holding only dsv4.fused_epilogue (the
shape convert-dsv4-to-gpu turns into a kernel and a launch of it), and prints kv, weight,
freqs, the handle and its result: the test compiles the GPU kernel and runs it on the CPU
(convert-gpu-to-host).

The handle always holds active items at the first and last position of the table, padding
items, out-of-range positions (>= P, and < 0 for prefill), and kv rows no item names.
"""
import argparse
import struct

TYPES = {"f32": "f32", "bf16": "bf16", "f16": "f16"}



def yield_as(w, element_type):
    """Ends a tensor.generate body: yields the f32 %v, rounded to element_type."""
    if element_type == "f32":
        w("    tensor.yield %v : f32")
    else:
        w(f"    %vt = arith.truncf %v : f32 to {element_type}")
        w(f"    tensor.yield %vt : {element_type}")

def f32_literal(value):
    """The f32 nearest `value`, as an exact hex literal MLIR accepts for f32."""
    return "0x%08X" % struct.unpack("<I", struct.pack("<f", value))[0]


def decode_handle(ratio, positions):
    """seq_lens: item b names row b. Returns the list of seq_lens."""
    r, p = ratio, positions
    pos_max = ((p - 1) // r) * r           # largest position inside the table
    pos_out = -(-p // r) * r               # smallest multiple of r that is >= P
    return [
        1,                                 # row 0: position 0 (first decode step)
        r + 2 if r > 1 else 2,             # row 1: position r (or 1)
        0,                                 # row 2: padding (seq_len 0)
        pos_out + 1,                       # row 3: position >= P -> untouched
        pos_max + r,                       # row 4: last seq_len mapping to pos_max
        -5,                                # row 5: padding (negative seq_len)
    ]


def prefill_handle(ratio, positions):
    """plan rows (row, batch_id, position, window_len); effective position = pos + 1 - ratio."""
    r, p = ratio, positions
    at = lambda eff: eff + r - 1           # plan position giving effective position `eff`
    return [
        (3, 0, at(0), 5),                  # row 3: position 0
        (0, 1, at(p - 1), 9),              # row 0: last position of the table
        (-1, 0, at(1), 3),                 # padding (row -1)
        (5, 1, at(p), 7),                  # row 5: position P -> untouched
        (2, 0, at(-1), 2),                 # row 2: position -1 -> untouched
        (6, 2, at(min(7, p - 1)), 11),     # row 6
        (-7, 3, at(2), 4),                 # padding (another negative row)
        (1, 2, at(p // 2), 13),            # row 1
    ]                                      # rows 4 and 7: named by no item


def emit(args):
    d, rd, n, p = args.head_dim, args.rope_dim, args.rows, args.positions
    kvt, wt = TYPES[args.kv], TYPES[args.weight]
    kv_ty = f"tensor<{n}x{d}x{kvt}>"
    w_ty = f"tensor<{d}x{wt}>"
    fr_ty = f"tensor<{p}x{rd}xf32>"
    if args.mode == "decode":
        handle = decode_handle(args.ratio, p)
        h_ty = f"tensor<{len(handle)}xi32>"
        h_lit = ", ".join(str(v) for v in handle)
        h_const = f"arith.constant dense<[{h_lit}]> : {h_ty}"
        items_op = "decode_items"
        assert len(handle) <= n
    else:
        handle = prefill_handle(args.ratio, p)
        h_ty = f"tensor<{len(handle)}x4xi32>"
        h_lit = ", ".join("[" + ", ".join(str(v) for v in row) + "]" for row in handle)
        h_const = f"arith.constant dense<[{h_lit}]> : {h_ty}"
        items_op = "prefill_items"
        assert max(row[0] for row in handle) < n
    scale = f32_literal(d ** -0.5)
    eps = f32_literal(1e-6)
    lines = []
    w = lines.append
    w(f"// {args}")
    w("func.func private @printMemrefI32(memref<*xi32>) attributes {llvm.emit_c_interface}")
    w("")
    if args.gpu:
        attrs = f"eps = {eps} : f32, ratio = {args.ratio} : i64, rope_dim = {rd} : i64"
        if args.rotate:
            attrs += f", scale = {scale} : f32"
        w(f"func.func @epilogue(%kv: {kv_ty}, %weight: {w_ty}, %freqs: {fr_ty},"
          f" %handle: {h_ty}) -> {kv_ty} {{")
        w(f"  %0 = dsv4.fused_epilogue {args.mode} %kv, %weight, %freqs, %handle {{{attrs}}}"
          f" : {kv_ty}, {w_ty}, {fr_ty}, {h_ty}")
        w(f"  return %0 : {kv_ty}")
        w("}")
        w("")
    w("func.func @main() {")
    # kv[i, j] = (((i*73 + j*151 + 17) mod 1009) - 504.5) / 300 * (0.6 + 0.35*i):
    # never 0 (the half offset), never +-1, a different scale per row.
    w(f"  %kv = tensor.generate {{")
    w(f"  ^bb0(%i: index, %j: index):")
    w(f"    %ii = arith.index_cast %i : index to i32")
    w(f"    %jj = arith.index_cast %j : index to i32")
    w(f"    %c73 = arith.constant 73 : i32")
    w(f"    %c151 = arith.constant 151 : i32")
    w(f"    %c17 = arith.constant 17 : i32")
    w(f"    %c1009 = arith.constant 1009 : i32")
    w(f"    %a = arith.muli %ii, %c73 : i32")
    w(f"    %b = arith.muli %jj, %c151 : i32")
    w(f"    %s = arith.addi %a, %b : i32")
    w(f"    %s1 = arith.addi %s, %c17 : i32")
    w(f"    %h = arith.remsi %s1, %c1009 : i32")
    w(f"    %hf = arith.sitofp %h : i32 to f32")
    w(f"    %off = arith.constant 504.5 : f32")
    w(f"    %div = arith.constant 300.0 : f32")
    w(f"    %v0 = arith.subf %hf, %off : f32")
    w(f"    %v1 = arith.divf %v0, %div : f32")
    w(f"    %if = arith.sitofp %ii : i32 to f32")
    w(f"    %k35 = arith.constant 0.35 : f32")
    w(f"    %k06 = arith.constant 0.6 : f32")
    w(f"    %rs0 = arith.mulf %if, %k35 : f32")
    w(f"    %rs = arith.addf %rs0, %k06 : f32")
    w(f"    %v = arith.mulf %v1, %rs : f32")
    yield_as(w, kvt)
    w(f"  }} : {kv_ty}")
    # weight[j] = 1 + (((j*37 + 5) mod 101) - 50.5) / 200: in (0.74, 1.26), never 1.
    w(f"  %weight = tensor.generate {{")
    w(f"  ^bb0(%j: index):")
    w(f"    %jj = arith.index_cast %j : index to i32")
    w(f"    %c37 = arith.constant 37 : i32")
    w(f"    %c5 = arith.constant 5 : i32")
    w(f"    %c101 = arith.constant 101 : i32")
    w(f"    %a = arith.muli %jj, %c37 : i32")
    w(f"    %s = arith.addi %a, %c5 : i32")
    w(f"    %h = arith.remsi %s, %c101 : i32")
    w(f"    %hf = arith.sitofp %h : i32 to f32")
    w(f"    %off = arith.constant 50.5 : f32")
    w(f"    %div = arith.constant 200.0 : f32")
    w(f"    %one = arith.constant 1.0 : f32")
    w(f"    %v0 = arith.subf %hf, %off : f32")
    w(f"    %v1 = arith.divf %v0, %div : f32")
    w(f"    %v = arith.addf %v1, %one : f32")
    yield_as(w, wt)
    w(f"  }} : {w_ty}")
    # freqs[q, 2j] = cos((q + 1) * t_j), freqs[q, 2j+1] = sin((q + 1) * t_j),
    # t_j = 0.83 / (j + 1.37): no position has the identity rotation.
    w(f"  %freqs = tensor.generate {{")
    w(f"  ^bb0(%q: index, %c: index):")
    w(f"    %qq = arith.index_cast %q : index to i32")
    w(f"    %cc = arith.index_cast %c : index to i32")
    w(f"    %c1 = arith.constant 1 : i32")
    w(f"    %c2 = arith.constant 2 : i32")
    w(f"    %jj = arith.divsi %cc, %c2 : i32")
    w(f"    %odd = arith.remsi %cc, %c2 : i32")
    w(f"    %q1 = arith.addi %qq, %c1 : i32")
    w(f"    %qf = arith.sitofp %q1 : i32 to f32")
    w(f"    %jf = arith.sitofp %jj : i32 to f32")
    w(f"    %k13 = arith.constant 1.37 : f32")
    w(f"    %k09 = arith.constant 0.83 : f32")
    w(f"    %den = arith.addf %jf, %k13 : f32")
    w(f"    %t = arith.divf %k09, %den : f32")
    w(f"    %ang = arith.mulf %qf, %t : f32")
    w(f"    %cs = math.cos %ang : f32")
    w(f"    %sn = math.sin %ang : f32")
    w(f"    %isodd = arith.cmpi eq, %odd, %c1 : i32")
    w(f"    %v = arith.select %isodd, %sn, %cs : f32")
    w(f"    tensor.yield %v : f32")
    w(f"  }} : {fr_ty}")
    w(f"  %handle = {h_const}")
    attrs = f"eps = {eps} : f32, ratio = {args.ratio} : i64, rope_dim = {rd} : i64"
    if args.rotate:
        attrs += f", scale = {scale} : f32"
    fused_types = f"{kv_ty}, {w_ty}, {fr_ty}, {h_ty}"
    if args.gpu:
        w(f"  %gpu = call @epilogue(%kv, %weight, %freqs, %handle) : ({fused_types}) -> {kv_ty}")
    else:
        # The unfused chain.
        w(f"  %items = dsv4.{items_op} %handle, %freqs {{ratio = {args.ratio} : i64}}"
          f" : {h_ty}, {fr_ty} -> tensor<{len(handle)}x2xi32>")
        it_ty = f"tensor<{len(handle)}x2xi32>"
        w(f"  %u0 = dsv4.rms_norm %kv[%items], %weight {{eps = {eps} : f32}}"
          f" : {kv_ty}, {it_ty}, {w_ty}")
        w(f"  %u1 = dsv4.rope %u0[%items], %freqs {{rope_dim = {rd} : i64}}"
          f" : {kv_ty}, {it_ty}, {fr_ty}")
        unfused = "%u1"
        if args.rotate:
            w(f"  %u2 = dsv4.hadamard %u1[%items] {{scale = {scale} : f32}} : {kv_ty}, {it_ty}")
            unfused = "%u2"
        # The fused op on the same inputs.
        w(f"  %fused = dsv4.fused_epilogue {args.mode} %kv, %weight, %freqs, %handle {{{attrs}}}"
          f" : {fused_types}")

    counter = [0]

    def print_bits(value, shape, elem):
        k = counter[0]
        counter[0] += 1
        dims = "x".join(str(s) for s in shape)
        ty = f"tensor<{dims}x{elem}>"
        ity = f"tensor<{dims}xi32>"
        ivs = ", ".join(f"%x{a}" for a in range(len(shape)))
        w(f"  %bits{k} = tensor.generate {{")
        w(f"  ^bb0({', '.join(f'%x{a}: index' for a in range(len(shape)))}):")
        w(f"    %e = tensor.extract {value}[{ivs}] : {ty}")
        if elem == "i32":
            w(f"    tensor.yield %e : i32")
        else:
            if elem != "f32":
                w(f"    %w = arith.extf %e : {elem} to f32")
                w(f"    %b = arith.bitcast %w : f32 to i32")
            else:
                w(f"    %b = arith.bitcast %e : f32 to i32")
            w(f"    tensor.yield %b : i32")
        w(f"  }} : {ity}")
        w(f"  %buf{k} = bufferization.to_buffer %bits{k} : {ity} to memref<{dims}xi32>")
        w(f"  %any{k} = memref.cast %buf{k} : memref<{dims}xi32> to memref<*xi32>")
        w(f"  call @printMemrefI32(%any{k}) : (memref<*xi32>) -> ()")

    print_bits("%kv", [n, d], kvt)
    print_bits("%weight", [d], wt)
    print_bits("%freqs", [p, rd], "f32")
    if args.mode == "decode":
        print_bits("%handle", [len(handle)], "i32")
    else:
        print_bits("%handle", [len(handle), 4], "i32")
    if args.gpu:
        print_bits("%gpu", [n, d], kvt)
    else:
        print_bits(unfused, [n, d], kvt)
        print_bits("%fused", [n, d], kvt)
    w("  return")
    w("}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--head-dim", type=int, required=True)
    parser.add_argument("--rope-dim", type=int, required=True)
    parser.add_argument("--mode", choices=["decode", "prefill"], required=True)
    parser.add_argument("--rotate", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--kv", choices=sorted(TYPES), default="f32")
    parser.add_argument("--weight", choices=["f32", "bf16"], default="f32")
    parser.add_argument("--ratio", type=int, default=4)
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--positions", type=int, default=64)
    parser.add_argument("--gpu", action="store_true",
                        help="call the fused op's kernel function instead of both chains")
    print(emit(parser.parse_args()), end="")


if __name__ == "__main__":
    main()
