// RUN: dsv4-opt %s --convert-dsv4-to-loops | FileCheck %s

// Every op becomes loops over its items on a copy of kv; no dsv4 op is left.
// CHECK-LABEL: func.func @chain
// CHECK-NOT:   dsv4.
// CHECK:       arith.floordivsi
// CHECK:       bufferization.to_tensor
// CHECK:       memref.copy
// CHECK:       scf.for
// CHECK:         scf.if
// CHECK:           math.rsqrt
// CHECK:       memref.copy
// CHECK:       scf.for
// CHECK:         scf.if
// CHECK:       memref.copy
// CHECK:       scf.for
// CHECK:         scf.if
// CHECK-NOT:   dsv4.
// CHECK:       return
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
// CHECK-LABEL: func.func @fused_bf16
// CHECK-NOT:   dsv4.
// CHECK:       scf.for
// CHECK:         scf.if
// CHECK:           arith.extf {{.*}} : bf16 to f32
// CHECK-NOT:       arith.truncf
// CHECK:           math.rsqrt
// CHECK-NOT:       arith.truncf
// CHECK:           arith.truncf {{.*}} : f32 to bf16
// CHECK-NOT:   arith.truncf
// CHECK:       return
func.func @fused_bf16(%kv: tensor<?x128xbf16>, %weight: tensor<128xf32>,
                      %freqs: tensor<?x64xf32>, %plan: tensor<?x4xi32>) -> tensor<?x128xbf16> {
  %0 = dsv4.fused_epilogue prefill %kv, %weight, %freqs, %plan
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32}
      : tensor<?x128xbf16>, tensor<128xf32>, tensor<?x64xf32>, tensor<?x4xi32>
  return %0 : tensor<?x128xbf16>
}
