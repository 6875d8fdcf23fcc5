// hadamard(hadamard(x)) over the same items is x when scale1 * scale2 * D == 1 (H_D H_D = D I).
// RUN: dsv4-opt %s --canonicalize | FileCheck %s

// The default D^-0.5 pair, as f32 (0.0441941738 for D = 512): both transforms go.
// CHECK-LABEL: func.func @fold_inv_sqrt_d_512
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>
// CHECK-NOT: dsv4.hadamard
// CHECK: return %[[KV]] : tensor<?x512xf32>
func.func @fold_inv_sqrt_d_512(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.hadamard %kv[%items] {scale = 0.0441941738 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  %1 = dsv4.hadamard %0[%items] {scale = 0.0441941738 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  return %1 : tensor<?x512xf32>
}

// D = 128: 128^-0.5 = 0.0883883476 is not exact in f32; the slack still covers it.
// CHECK-LABEL: func.func @fold_inv_sqrt_d_128_bf16
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<4x128xbf16>
// CHECK-NOT: dsv4.hadamard
// CHECK: return %[[KV]] : tensor<4x128xbf16>
func.func @fold_inv_sqrt_d_128_bf16(%kv: tensor<4x128xbf16>, %items: tensor<?x2xi32>) -> tensor<4x128xbf16> {
  %0 = dsv4.hadamard %kv[%items] {scale = 0.0883883476 : f32} : tensor<4x128xbf16>, tensor<?x2xi32>
  %1 = dsv4.hadamard %0[%items] {scale = 0.0883883476 : f32} : tensor<4x128xbf16>, tensor<?x2xi32>
  return %1 : tensor<4x128xbf16>
}

// 1 then 1/D.
// CHECK-LABEL: func.func @fold_one_then_inv_d
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>
// CHECK-NOT: dsv4.hadamard
// CHECK: return %[[KV]] : tensor<?x512xf32>
func.func @fold_one_then_inv_d(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.hadamard %kv[%items] {scale = 1.0 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  %1 = dsv4.hadamard %0[%items] {scale = 0.001953125 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  return %1 : tensor<?x512xf32>
}

// 1/D then 1, f16, D = 64; and two negative scales (the product is still 1/D).
// CHECK-LABEL: func.func @fold_inv_d_then_one_and_negative
// CHECK-SAME: (%[[A:[a-z0-9_]+]]: tensor<?x64xf16>, %{{[a-z0-9_]+}}: tensor<?x2xi32>, %[[B:[a-z0-9_]+]]: tensor<?x256xf32>
// CHECK-NOT: dsv4.hadamard
// CHECK: return %[[A]], %[[B]] : tensor<?x64xf16>, tensor<?x256xf32>
func.func @fold_inv_d_then_one_and_negative(%a: tensor<?x64xf16>, %items: tensor<?x2xi32>, %b: tensor<?x256xf32>) -> (tensor<?x64xf16>, tensor<?x256xf32>) {
  %0 = dsv4.hadamard %a[%items] {scale = 0.015625 : f32} : tensor<?x64xf16>, tensor<?x2xi32>
  %1 = dsv4.hadamard %0[%items] {scale = 1.0 : f32} : tensor<?x64xf16>, tensor<?x2xi32>
  %2 = dsv4.hadamard %b[%items] {scale = -0.0625 : f32} : tensor<?x256xf32>, tensor<?x2xi32>
  %3 = dsv4.hadamard %2[%items] {scale = -0.0625 : f32} : tensor<?x256xf32>, tensor<?x2xi32>
  return %1, %3 : tensor<?x64xf16>, tensor<?x256xf32>
}

// Four in a row with D^-0.5 each: two pairs cancel, nothing is left.
// CHECK-LABEL: func.func @fold_two_pairs
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>
// CHECK-NOT: dsv4.hadamard
// CHECK: return %[[KV]] : tensor<?x512xf32>
func.func @fold_two_pairs(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.hadamard %kv[%items] {scale = 0.0441941738 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  %1 = dsv4.hadamard %0[%items] {scale = 0.0441941738 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  %3 = dsv4.hadamard %2[%items] {scale = 0.0441941738 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  return %3 : tensor<?x512xf32>
}

// Different items: each transform touches other rows, nothing cancels.
// CHECK-LABEL: func.func @no_fold_different_items
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>, %[[I1:[a-z0-9_]+]]: tensor<?x2xi32>, %[[I2:[a-z0-9_]+]]: tensor<?x2xi32>)
// CHECK: %[[H1:.+]] = dsv4.hadamard %[[KV]][%[[I1]]] {scale = 0.0441941731 : f32}
// CHECK: %[[H2:.+]] = dsv4.hadamard %[[H1]][%[[I2]]] {scale = 0.0441941731 : f32}
// CHECK: return %[[H2]]
func.func @no_fold_different_items(%kv: tensor<?x512xf32>, %i1: tensor<?x2xi32>, %i2: tensor<?x2xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.hadamard %kv[%i1] {scale = 0.0441941738 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  %1 = dsv4.hadamard %0[%i2] {scale = 0.0441941738 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  return %1 : tensor<?x512xf32>
}

// scale1 * scale2 * D == 2 (1 and 1/256 with D = 512): H H x * 2 is not x.
// CHECK-LABEL: func.func @no_fold_product_not_inv_d
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>, %[[I:[a-z0-9_]+]]: tensor<?x2xi32>)
// CHECK: %[[H1:.+]] = dsv4.hadamard %[[KV]][%[[I]]] {scale = 1.000000e+00 : f32}
// CHECK: %[[H2:.+]] = dsv4.hadamard %[[H1]][%[[I]]] {scale = 3.906250e-03 : f32}
// CHECK: return %[[H2]]
func.func @no_fold_product_not_inv_d(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.hadamard %kv[%items] {scale = 1.0 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  %1 = dsv4.hadamard %0[%items] {scale = 0.00390625 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  return %1 : tensor<?x512xf32>
}

// The D^-0.5 of another head dim (256^-0.5 on D = 512), and opposite signs (product -1/D).
// CHECK-LABEL: func.func @no_fold_wrong_d_or_sign
// CHECK: %[[H1:.+]] = dsv4.hadamard %{{.+}} {scale = 6.250000e-02 : f32}
// CHECK: %[[H2:.+]] = dsv4.hadamard %[[H1]][%{{.+}}] {scale = 6.250000e-02 : f32}
// CHECK: %[[H3:.+]] = dsv4.hadamard %[[H2]][%{{.+}}] {scale = -0.0441941731 : f32}
// CHECK: %[[H4:.+]] = dsv4.hadamard %[[H3]][%{{.+}}] {scale = 0.0441941731 : f32}
// CHECK: return %[[H4]]
func.func @no_fold_wrong_d_or_sign(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.hadamard %kv[%items] {scale = 0.0625 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  %1 = dsv4.hadamard %0[%items] {scale = 0.0625 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  %2 = dsv4.hadamard %1[%items] {scale = -0.0441941738 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  %3 = dsv4.hadamard %2[%items] {scale = 0.0441941738 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  return %3 : tensor<?x512xf32>
}

// A single hadamard stays, even with the D^-0.5 scale.
// CHECK-LABEL: func.func @no_fold_single
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>, %[[I:[a-z0-9_]+]]: tensor<?x2xi32>)
// CHECK: %[[H:.+]] = dsv4.hadamard %[[KV]][%[[I]]] {scale = 0.0441941731 : f32}
// CHECK: return %[[H]]
func.func @no_fold_single(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.hadamard %kv[%items] {scale = 0.0441941738 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  return %0 : tensor<?x512xf32>
}

// Three in a row: one pair cancels, one hadamard remains (of kv itself).
// CHECK-LABEL: func.func @fold_leaves_odd_one
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>, %[[I:[a-z0-9_]+]]: tensor<?x2xi32>)
// CHECK: %[[H:.+]] = dsv4.hadamard %[[KV]][%[[I]]] {scale = 0.0441941731 : f32}
// CHECK-NOT: dsv4.hadamard
// CHECK: return %[[H]]
func.func @fold_leaves_odd_one(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.hadamard %kv[%items] {scale = 0.0441941738 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  %1 = dsv4.hadamard %0[%items] {scale = 0.0441941738 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  return %2 : tensor<?x512xf32>
}
