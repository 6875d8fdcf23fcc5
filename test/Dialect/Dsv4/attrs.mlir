// RUN: dsv4-opt %s | FileCheck %s
// RUN: dsv4-opt %s | dsv4-opt | FileCheck %s

// #dsv4.spec and #dsv4.plan print as they parse; optional parameters are left out.

// CHECK-LABEL: func.func @in_place
// CHECK-SAME: plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 8, schedule = "per-stage", lds_bytes = 8192>
// CHECK-SAME: spec = #dsv4.spec<mode = prefill, head_dim = 512, rope_dim = 64, kv_type = bf16, weight_type = f32, ratio = 4, eps = 9.99999997E-7 : f32, scale = 0.0441941731 : f32>
func.func @in_place() attributes {
  spec = #dsv4.spec<mode = prefill, head_dim = 512, rope_dim = 64, kv_type = bf16,
                         weight_type = f32, ratio = 4, eps = 1.0e-06 : f32,
                         scale = 0.0441941738 : f32>,
  plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 8,
                         schedule = "per-stage", lds_bytes = 8192>} {
  return
}

// CHECK-LABEL: func.func @store
// CHECK-SAME: plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 4, schedule = none, lds_bytes = 0>
// CHECK-SAME: spec = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = f32, weight_type = f32, ratio = 4, eps = 9.99999997E-7 : f32, layout = indexer, page_size = 64, fp8_type = f8E4M3FNUZ>
func.func @store() attributes {
  spec = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = f32,
                         weight_type = f32, ratio = 4, eps = 1.0e-06 : f32, layout = indexer,
                         page_size = 64, fp8_type = f8E4M3FNUZ>,
  plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 4,
                         schedule = none, lds_bytes = 0>} {
  return
}
