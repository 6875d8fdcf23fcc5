// The CPU reference of the store ops reads out_loc[m] for each item m; with dynamic sizes
// out_loc may hold fewer entries than there are items at run time (the verifier agrees to any
// dynamic size). An item past out_loc's end stores nothing: here out_loc holds one slot for two
// items, so only item 0's token is written (slot 0, byte 128 of slot 1 keeps its 9), and MLIR's
// runtime checks of every memref access find none out of bounds. The reference used to read
// out_loc[1] (found by the dsv4-opt fuzzer under ASan, seed 102, from Transforms/fuse.mlir).
// RUN: dsv4-opt %s --convert-dsv4-to-loops --generate-runtime-verification --dsv4-cpu-reference \
// RUN:   | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_c_runner_utils,%mlir_runner_utils \
// RUN:   | FileCheck %s

// Slot t of the 2-token page: 128 FP8 bytes at 128 * t, the f32 scale at 256 + 4 * t.
// CHECK:      56
// CHECK-NEXT: 0
// CHECK-NEXT: 9
// CHECK-NEXT: 64
func.func @store(%q: tensor<?x128xf8E4M3FN>, %s: tensor<?x1xf32>, %r: tensor<?x128xf32>,
                 %c: tensor<?xi8>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %p: tensor<?x4xi32>)
    -> tensor<?xi8> {
  %0 = dsv4.paged_store prefill indexer %q, %s, %r into %c[%o] items %i, %p
      {page_size = 2 : i64, ratio = 4 : i64}
      : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>,
        tensor<?xi64>, tensor<?x2xi32>, tensor<?x4xi32>
  return %0 : tensor<?xi8>
}

func.func @main() {
  %q0 = arith.constant dense<1.0> : tensor<8x128xf8E4M3FN>
  %s0 = arith.constant dense<2.0> : tensor<8x1xf32>
  %r0 = arith.constant dense<0.5> : tensor<8x128xf32>
  %c0 = arith.constant dense<9> : tensor<264xi8>
  %o0 = arith.constant dense<[0]> : tensor<1xi64>
  %i0 = arith.constant dense<[[0, 3], [1, 3]]> : tensor<2x2xi32>
  %p0 = arith.constant dense<[[0, 0, 3, 4], [1, 0, 3, 4]]> : tensor<2x4xi32>
  %q = tensor.cast %q0 : tensor<8x128xf8E4M3FN> to tensor<?x128xf8E4M3FN>
  %s = tensor.cast %s0 : tensor<8x1xf32> to tensor<?x1xf32>
  %r = tensor.cast %r0 : tensor<8x128xf32> to tensor<?x128xf32>
  %c = tensor.cast %c0 : tensor<264xi8> to tensor<?xi8>
  %o = tensor.cast %o0 : tensor<1xi64> to tensor<?xi64>
  %i = tensor.cast %i0 : tensor<2x2xi32> to tensor<?x2xi32>
  %p = tensor.cast %p0 : tensor<2x4xi32> to tensor<?x4xi32>
  %out = call @store(%q, %s, %r, %c, %o, %i, %p)
      : (tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>,
         tensor<?xi64>, tensor<?x2xi32>, tensor<?x4xi32>) -> tensor<?xi8>
  // Bytes 0 (row 0's first FP8 value), 128 (slot 1, left alone), 256 (slot 0's scale, f32
  // 2.0 = 0x40000000 little-endian: 0), 259 (its last byte, 0x40).
  %c128 = arith.constant 128 : index
  %c256 = arith.constant 256 : index
  %c259 = arith.constant 259 : index
  %c0i = arith.constant 0 : index
  %b0 = tensor.extract %out[%c0i] : tensor<?xi8>
  %b128 = tensor.extract %out[%c128] : tensor<?xi8>
  %b256 = tensor.extract %out[%c256] : tensor<?xi8>
  %b259 = tensor.extract %out[%c259] : tensor<?xi8>
  %w0 = arith.extui %b0 : i8 to i32
  %w256 = arith.extui %b256 : i8 to i32
  %w128 = arith.extui %b128 : i8 to i32
  %w259 = arith.extui %b259 : i8 to i32
  vector.print %w0 : i32
  vector.print %w256 : i32
  vector.print %w128 : i32
  vector.print %w259 : i32
  return
}
