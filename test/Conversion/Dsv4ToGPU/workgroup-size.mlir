// rows-per-workgroup times lanes-per-row is compared without overflow (2^59 * 32 wrapped to
// a workgroup size of 0), and the default row count keeps D=4096's LDS within 48 KiB when the
// schedule exchanges through LDS.
// RUN: not dsv4-opt %s --dsv4-plan-kernels="rows-per-workgroup=576460752303423488" --convert-dsv4-to-gpu 2>&1 | FileCheck %s --check-prefix=WRAP
// RUN: dsv4-opt %s --dsv4-plan-kernels="schedule=grouped" --convert-dsv4-to-gpu | FileCheck %s

// WRAP: error: plan: rows_per_workgroup 576460752303423488 times lanes_per_row 32 must be in [1, 1024]

// 32 lanes; 3 rows of 4096 f32 values (48 KiB) instead of 128 / 32 = 4 rows (64 KiB).
// CHECK: plan = <lanes_per_row = 32, rows_per_workgroup = 3,
// CHECK: gpu.func @d4096
// CHECK-SAME: workgroup(%{{.*}} : memref<12288xf32, #gpu.address_space<workgroup>>
func.func @d4096(%kv: tensor<?x4096xf32>, %weight: tensor<4096xf32>, %freqs: tensor<?x64xf32>,
                 %seq_lens: tensor<?xi32>) -> tensor<?x4096xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.015625 : f32}
      : tensor<?x4096xf32>, tensor<4096xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x4096xf32>
}
