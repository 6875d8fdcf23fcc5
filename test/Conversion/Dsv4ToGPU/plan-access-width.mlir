// RUN: dsv4-opt %s --dsv4-plan-kernels="lanes-per-row=128" -split-input-file | FileCheck %s

// A row over more lanes than it has 16-byte runs: each lane moves its whole share in one
// access (KernelPlanAttr::accessWidth), 8 bytes of bf16 or f16 at D=512 over 128 lanes; f32
// keeps its 16-byte access. The four 32-lane parts sum through 16 bytes of LDS either way.

// CHECK-LABEL: func.func @decode_main_bf16
// CHECK: dsv4.plan = #dsv4.plan<lanes_per_row = 128, rows_per_workgroup = 1, vector_width = 4, schedule = none, lds_bytes = 16>
func.func @decode_main_bf16(%kv: tensor<?x512xbf16>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x512xbf16> {
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xbf16>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xbf16>
}

// -----

// CHECK-LABEL: func.func @store_main_f16
// CHECK: dsv4.plan = #dsv4.plan<lanes_per_row = 128, rows_per_workgroup = 1, vector_width = 4, schedule = none, lds_bytes = 16>
func.func @store_main_f16(%kv: tensor<?x512xf16>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>, %c: tensor<?xi8>, %o: tensor<?xi64>) -> tensor<?xi8> {
  %0 = dsv4.fused_store decode main %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xf16>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return %0 : tensor<?xi8>
}

// -----

// CHECK-LABEL: func.func @decode_main_f32
// CHECK: dsv4.plan = #dsv4.plan<lanes_per_row = 128, rows_per_workgroup = 1, vector_width = 4, schedule = none, lds_bytes = 16>
func.func @decode_main_f32(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

// D=256 over 128 lanes: two values a lane, a 4-byte access of bf16.
// CHECK-LABEL: func.func @decode_d256_bf16
// CHECK: dsv4.plan = #dsv4.plan<lanes_per_row = 128, rows_per_workgroup = 1, vector_width = 2, schedule = none, lds_bytes = 16>
func.func @decode_d256_bf16(%kv: tensor<?x256xbf16>, %w: tensor<256xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x256xbf16> {
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x256xbf16>, tensor<256xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x256xbf16>
}
