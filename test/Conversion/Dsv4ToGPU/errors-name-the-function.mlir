// An error about a kernel function names it by its location and prints nothing more: the
// whole function would otherwise follow as "see current operation" (a bad-input campaign
// found that dump after a bad kernel name).
// RUN: not dsv4-opt %s --dsv4-plan-kernels --convert-dsv4-to-gpu -split-input-file 2>&1 | FileCheck %s --implicit-check-not="see current operation" --implicit-check-not="func.return"

// CHECK: errors-name-the-function.mlir:[[@LINE+1]]:1: error: kernel name 'a-b' is not a valid symbol
func.func @"a-b"(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>,
                 %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

// CHECK: errors-name-the-function.mlir:[[@LINE+1]]:1: error: a kernel function must take
func.func @extra(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>,
                 %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  %1 = dsv4.fused_epilogue decode %0, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %1 : tensor<?x512xf32>
}
