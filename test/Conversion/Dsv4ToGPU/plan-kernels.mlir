// RUN: dsv4-opt %s --dsv4-plan-kernels -split-input-file | FileCheck %s
// RUN: dsv4-opt %s --dsv4-plan-kernels="lanes-per-row=8 rows-per-workgroup=3 schedule=per-stage" -split-input-file | FileCheck %s --check-prefix=OPTS

// The shape table (lib/Conversion/Dsv4ToGPU/KernelShape.cpp), one row per case; V is the
// values of one 16-byte access (4 f32, 8 bf16).

// Rotate, D <= 256, decode: min(32, D / V) lanes, 128-thread workgroups, shuffles, no LDS.
// CHECK-LABEL: func.func @decode_d128_f32
// CHECK: dsv4.plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 4, schedule = shuffle, lds_bytes = 0>
// The options override every part; LDS follows the schedule (3 rows of 128 f32).
// OPTS-LABEL: func.func @decode_d128_f32
// OPTS: dsv4.plan = #dsv4.plan<lanes_per_row = 8, rows_per_workgroup = 3, vector_width = 4, schedule = "per-stage", lds_bytes = 1536>
func.func @decode_d128_f32(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x128xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x128xf32>
}

// -----

// Rotate, D <= 256, prefill: two runs a lane, min(32, D / 2V) lanes.
// CHECK-LABEL: func.func @prefill_d128_bf16
// CHECK: dsv4.plan = #dsv4.plan<lanes_per_row = 8, rows_per_workgroup = 16, vector_width = 8, schedule = shuffle, lds_bytes = 0>
func.func @prefill_d128_bf16(%kv: tensor<?x128xbf16>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?x4xi32>) -> tensor<?x128xbf16> {
  %0 = dsv4.fused_epilogue prefill %kv, %w, %f, %h {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x128xbf16>, tensor<128xf32>, tensor<?x64xf32>, tensor<?x4xi32>
  return %0 : tensor<?x128xbf16>
}

// -----

// Rotate, D = 512 or 1024: four runs a lane, the grouped LDS schedule, a slot of D f32 a row.
// CHECK-LABEL: func.func @decode_d512_f32
// CHECK: dsv4.plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 4, schedule = grouped, lds_bytes = 8192>
func.func @decode_d512_f32(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0441941738 : f32} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

// CHECK-LABEL: func.func @decode_d1024_bf16
// CHECK: dsv4.plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 8, schedule = grouped, lds_bytes = 16384>
func.func @decode_d1024_bf16(%kv: tensor<?x1024xbf16>, %w: tensor<1024xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x1024xbf16> {
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 3.125000e-02 : f32} : tensor<?x1024xbf16>, tensor<1024xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x1024xbf16>
}

// -----

// Rotate, D >= 2048: 32 lanes, 4 rows, shuffles (a grouped slot would cost gfx942 occupancy).
// CHECK-LABEL: func.func @decode_d4096_f32
// CHECK: dsv4.plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 4, schedule = shuffle, lds_bytes = 0>
// The grouped schedule asked for: rows of 4096 f32 fit sm_90's 48 KiB three at a time.
// OPTS-LABEL: func.func @decode_d4096_f32
// OPTS: dsv4.plan = #dsv4.plan<lanes_per_row = 8, rows_per_workgroup = 3, vector_width = 4, schedule = "per-stage", lds_bytes = 49152>
func.func @decode_d4096_f32(%kv: tensor<?x4096xf32>, %w: tensor<4096xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x4096xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 1.562500e-02 : f32} : tensor<?x4096xf32>, tensor<4096xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x4096xf32>
}

// -----

// No rotation: no exchange, whatever schedule was asked for; min(32, D / V) lanes, unless a
// decode row would leave each lane more than one 16-byte run: then one run a lane, here two
// bf16 runs -> 64 lanes, two rows a workgroup, the sums of their 32-lane parts in LDS.
// CHECK-LABEL: func.func @store_main_bf16
// CHECK: dsv4.plan = #dsv4.plan<lanes_per_row = 64, rows_per_workgroup = 2, vector_width = 8, schedule = none, lds_bytes = 16>
// OPTS-LABEL: func.func @store_main_bf16
// OPTS: dsv4.plan = #dsv4.plan<lanes_per_row = 8, rows_per_workgroup = 3, vector_width = 8, schedule = none, lds_bytes = 0>
func.func @store_main_bf16(%kv: tensor<?x512xbf16>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>, %c: tensor<?xi8>, %o: tensor<?xi64>) -> tensor<?xi8> {
  %0 = dsv4.fused_store decode main %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xbf16>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return %0 : tensor<?xi8>
}

// -----

// One bf16 run a lane at 32 lanes (D=256): the decode row stays in one subgroup, no LDS.
// CHECK-LABEL: func.func @decode_d256_bf16
// CHECK: dsv4.plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 8, schedule = none, lds_bytes = 0>
func.func @decode_d256_bf16(%kv: tensor<?x256xbf16>, %w: tensor<256xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x256xbf16> {
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x256xbf16>, tensor<256xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x256xbf16>
}

// -----

// Four f32 runs a lane at 32 lanes: the decode row spreads over the workgroup, min(128, D / V)
// lanes of one run; the sums of squares of its 32-lane parts meet in LDS (one f32 a part).
// CHECK-LABEL: func.func @decode_main_f32
// CHECK: dsv4.plan = #dsv4.plan<lanes_per_row = 128, rows_per_workgroup = 1, vector_width = 4, schedule = none, lds_bytes = 16>
func.func @decode_main_f32(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

// No rotation, prefill: min(32, D / V) lanes (many rows: each row's fixed work over few lanes).
// CHECK-LABEL: func.func @prefill_main_f32
// CHECK: dsv4.plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 4, schedule = none, lds_bytes = 0>
func.func @prefill_main_f32(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %h: tensor<?x4xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue prefill %kv, %w, %f, %h {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?x4xi32>
  return %0 : tensor<?x512xf32>
}

// -----

// A plan already in the IR is kept, options or not (a test pins one).
// CHECK-LABEL: func.func @pinned
// CHECK: dsv4.plan = #dsv4.plan<lanes_per_row = 4, rows_per_workgroup = 2, vector_width = 4, schedule = shuffle, lds_bytes = 0>
// OPTS-LABEL: func.func @pinned
// OPTS: dsv4.plan = #dsv4.plan<lanes_per_row = 4, rows_per_workgroup = 2, vector_width = 4, schedule = shuffle, lds_bytes = 0>
func.func @pinned(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x128xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {dsv4.plan = #dsv4.plan<lanes_per_row = 4, rows_per_workgroup = 2, vector_width = 4, schedule = shuffle, lds_bytes = 0>, eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x128xf32>
}

// -----

// A compress kernel takes the decode shape; with 4 channels a lane (the indexer) the plan asks
// for 8 waves per SIMD, so the AMD scheduler keeps the window's loads within 64 VGPRs; with 16
// (the main cache) its 48 pooling sums cannot fit, and it asks for none.
// OPTS-LABEL: func.func @compress_indexer
// OPTS: #dsv4.plan<lanes_per_row = 8, rows_per_workgroup = 3, vector_width = 4, schedule = "per-stage", lds_bytes = 1536>
// CHECK-LABEL: func.func @compress_indexer
// CHECK: dsv4.plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 4, schedule = shuffle, lds_bytes = 0, waves_per_simd = 8>
func.func @compress_indexer(%state: tensor<?x64x512xf32>, %table: tensor<?x?xi32>, %req: tensor<?xi32>, %pos: tensor<?xi64>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) -> tensor<?xi8> {
  %0 = dsv4.fused_compress_store indexer %state[%table], %req, %pos, %w, %f into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, overlap, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
  return %0 : tensor<?xi8>
}

// -----

// The ratio-128 window (128 rows) is split over the 8 row slots of one workgroup: each pools
// 16 rows; their partial sums (3 x 512 f32 a part) meet in 48 KiB of LDS. Rows asked for by
// option win: 3 rows leave no split.
// OPTS-LABEL: func.func @compress_main
// OPTS: #dsv4.plan<lanes_per_row = 8, rows_per_workgroup = 3, vector_width = 4, schedule = none, lds_bytes = 0>
// CHECK-LABEL: func.func @compress_main
// CHECK: dsv4.plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 8, vector_width = 4, schedule = none, lds_bytes = 49152, window_split = 8>
func.func @compress_main(%state: tensor<?x64x1024xf32>, %table: tensor<?x?xi32>, %req: tensor<?xi32>, %pos: tensor<?xi64>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) -> tensor<?xi8> {
  %0 = dsv4.fused_compress_store main %state[%table], %req, %pos, %w, %f into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, page_size = 64 : i64, ratio = 128 : i64, rope_dim = 64 : i64} : tensor<?x64x1024xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
  return %0 : tensor<?xi8>
}
