// dsv4.rope with items that are an argument (not an items op's) may be given a position past
// the table: that item is skipped, as an items op would have skipped it, instead of reading a
// row of freqs past its end. The table has one position (freqs all zero: a rotated channel
// becomes 0); item 0 (row 0, position 0) is rotated, item 1 (row 1, position 5) is not. MLIR's
// runtime checks of every memref access (which abort the run) find no access out of bounds.
// RUN: dsv4-opt %s --convert-dsv4-to-loops --generate-runtime-verification --dsv4-cpu-reference \
// RUN:   | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_c_runner_utils,%mlir_runner_utils \
// RUN:   | FileCheck %s

// CHECK:      0
// CHECK-NEXT: 1
func.func @rope(%kv: tensor<?x64xf32>, %items: tensor<?x2xi32>, %freqs: tensor<?x64xf32>)
    -> tensor<?x64xf32> {
  %0 = dsv4.rope %kv[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x64xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

func.func @main() {
  %kv0 = arith.constant dense<1.0> : tensor<2x64xf32>
  %items0 = arith.constant dense<[[0, 0], [1, 5]]> : tensor<2x2xi32>
  %freqs0 = arith.constant dense<0.0> : tensor<1x64xf32>
  %kv = tensor.cast %kv0 : tensor<2x64xf32> to tensor<?x64xf32>
  %items = tensor.cast %items0 : tensor<2x2xi32> to tensor<?x2xi32>
  %freqs = tensor.cast %freqs0 : tensor<1x64xf32> to tensor<?x64xf32>
  %out = call @rope(%kv, %items, %freqs)
      : (tensor<?x64xf32>, tensor<?x2xi32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c63 = arith.constant 63 : index
  %row0 = tensor.extract %out[%c0, %c63] : tensor<?x64xf32>
  %row1 = tensor.extract %out[%c1, %c63] : tensor<?x64xf32>
  vector.print %row0 : f32
  vector.print %row1 : f32
  return
}
