// RUN: dsv4-opt %s --convert-dsv4-to-loops | FileCheck %s

// Every op becomes a private function `dsv4_<op>` holding its loop over the items (and its
// f32 scratch row); the caller copies kv and calls it. No dsv4 op is left, and the caller
// holds no loop: it does not grow with the ops' size (many-ops.test).
// CHECK-LABEL: func.func private @dsv4_decode_items(
// CHECK:         scf.for
// CHECK:           arith.divui
// CHECK-LABEL: func.func private @dsv4_rms_norm(
// CHECK:         memref.alloca() : memref<128xf32>
// CHECK:         scf.for
// CHECK:           scf.if
// CHECK:             math.sqrt
// CHECK:             arith.divf %{{.*}}, %{{.*}} : f32
// CHECK-LABEL: func.func private @dsv4_rope(
// CHECK:         scf.for
// CHECK:           scf.if
// CHECK-LABEL: func.func private @dsv4_hadamard(
// CHECK:         scf.for
// CHECK:           scf.if
// CHECK-LABEL: func.func @chain(
// CHECK-NOT:     dsv4.
// CHECK-NOT:     scf.
// CHECK-NOT:     alloca
// CHECK:         call @dsv4_decode_items(
// CHECK:         bufferization.to_tensor
// CHECK:         memref.copy
// CHECK:         call @dsv4_rms_norm(
// CHECK:         memref.copy
// CHECK:         call @dsv4_rope(
// CHECK:         memref.copy
// CHECK:         call @dsv4_hadamard(
// CHECK-NOT:     dsv4.
// CHECK-NOT:     scf.
// CHECK:         return
func.func @chain(%kv: tensor<?x128xf32>, %weight: tensor<128xf32>, %freqs: tensor<?x64xf32>,
                 %seq_lens: tensor<?xi32>) -> tensor<?x128xf32> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<128xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<?x2xi32>
  return %2 : tensor<?x128xf32>
}

// The fused op is one loop over the plan, with the row widened to f32 once and rounded to
// bf16 once.
// CHECK-LABEL: func.func private @dsv4_fused_epilogue(
// CHECK-NOT:   dsv4.
// CHECK:       scf.for
// CHECK:         scf.if
// CHECK:           arith.extf {{.*}} : bf16 to f32
// CHECK-NOT:       arith.truncf
// CHECK:           math.sqrt
// CHECK-NOT:       arith.truncf
// CHECK:           arith.truncf {{.*}} : f32 to bf16
// CHECK-NOT:   arith.truncf
// CHECK:       return
// CHECK-LABEL: func.func @fused_bf16(
// CHECK-NOT:   scf.
// CHECK:       call @dsv4_fused_epilogue(
// CHECK:       return
func.func @fused_bf16(%kv: tensor<?x128xbf16>, %weight: tensor<128xf32>,
                      %freqs: tensor<?x64xf32>, %plan: tensor<?x4xi32>) -> tensor<?x128xbf16> {
  %0 = dsv4.fused_epilogue prefill %kv, %weight, %freqs, %plan
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32}
      : tensor<?x128xbf16>, tensor<128xf32>, tensor<?x64xf32>, tensor<?x4xi32>
  return %0 : tensor<?x128xbf16>
}

// Ops that lower to the same code share one function, across callers too (@chain's hadamard
// has the same scale and width); a different scale gets a function of its own.
// CHECK-LABEL: func.func private @dsv4_hadamard_0(
// CHECK:         arith.constant 5.000000e-01 : f32
// CHECK-LABEL: func.func @twice(
// CHECK:         call @dsv4_hadamard(
// CHECK:         call @dsv4_hadamard(
// CHECK:         call @dsv4_hadamard_0(
func.func @twice(%kv: tensor<?x128xf32>, %items: tensor<?x2xi32>) -> tensor<?x128xf32> {
  %0 = dsv4.hadamard %kv[%items] {scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<?x2xi32>
  %1 = dsv4.hadamard %0[%items] {scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<?x2xi32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.5 : f32} : tensor<?x128xf32>, tensor<?x2xi32>
  return %2 : tensor<?x128xf32>
}
