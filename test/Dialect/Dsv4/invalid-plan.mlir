// RUN: dsv4-opt %s -split-input-file -verify-diagnostics

// A fused op's dsv4.plan is checked against the op's spec wherever it comes from
// (#dsv4.plan's verifyFor, through the dialect's attribute verifier).

func.func @width(%kv: tensor<?x128xbf16>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x128xbf16> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op plan: vector_width must be 8 (one 16-byte access of 'bf16', or a lane's share of the 128-wide row over 4 lanes), got 4}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {dsv4.plan = #dsv4.plan<lanes_per_row = 4, rows_per_workgroup = 2, vector_width = 4, schedule = shuffle, lds_bytes = 0>, eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x128xbf16>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x128xbf16>
}

// -----

// A row over more lanes than it has 16-byte runs moves a lane's whole share at once: 512 bf16
// values over 128 lanes are one 8-byte access of 4 values, not a 16-byte one.
func.func @share(%kv: tensor<?x512xbf16>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x512xbf16> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op plan: vector_width must be 4 (one 16-byte access of 'bf16', or a lane's share of the 512-wide row over 128 lanes), got 8}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {dsv4.plan = #dsv4.plan<lanes_per_row = 128, rows_per_workgroup = 1, vector_width = 8, schedule = none, lds_bytes = 16>, eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xbf16>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xbf16>
}

// -----

// A lane holds whole RoPE pairs: 128 values over 128 lanes would leave it one.
func.func @pairs(%kv: tensor<?x128xbf16>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x128xbf16> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op plan: lanes_per_row 128 must leave each lane at least 2 values of the 128-wide row (schedule 'none')}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {dsv4.plan = #dsv4.plan<lanes_per_row = 128, rows_per_workgroup = 1, vector_width = 1, schedule = none, lds_bytes = 16>, eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x128xbf16>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x128xbf16>
}

// -----

func.func @rotates(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op plan: schedule must be one of grouped, per-stage or shuffle for a kernel that rotates, got 'none'}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {dsv4.plan = #dsv4.plan<lanes_per_row = 4, rows_per_workgroup = 2, vector_width = 4, schedule = none, lds_bytes = 0>, eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x128xf32>
}

// -----

func.func @no_rotation(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op plan: schedule must be none for a kernel that does not rotate, got 'shuffle'}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {dsv4.plan = #dsv4.plan<lanes_per_row = 4, rows_per_workgroup = 2, vector_width = 4, schedule = shuffle, lds_bytes = 0>, eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x128xf32>
}

// -----

func.func @lanes(%kv: tensor<?x64xf32>, %w: tensor<64xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op plan: lanes_per_row 16 must leave each lane at least 8 values of the 64-wide row (schedule 'grouped')}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {dsv4.plan = #dsv4.plan<lanes_per_row = 16, rows_per_workgroup = 2, vector_width = 4, schedule = grouped, lds_bytes = 512>, eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.125 : f32} : tensor<?x64xf32>, tensor<64xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x64xf32>
}

// -----

func.func @lds(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op plan: lds_bytes must be 1024 (rows_per_workgroup 2 slots of 128 f32 for the exchanges), got 0}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {dsv4.plan = #dsv4.plan<lanes_per_row = 4, rows_per_workgroup = 2, vector_width = 4, schedule = grouped, lds_bytes = 0>, eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x128xf32>
}

// -----

// expected-error @+1 {{'func.func' op 'dsv4.plan' must be a #dsv4.plan on dsv4.fused_epilogue, dsv4.fused_store or dsv4.fused_compress_store}}
func.func private @elsewhere() attributes {dsv4.plan = #dsv4.plan<lanes_per_row = 4, rows_per_workgroup = 2, vector_width = 4, schedule = shuffle, lds_bytes = 0>}

// -----

func.func @waves(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{waves_per_simd must be in [0, 8] (0: no occupancy asked), got 9}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {dsv4.plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 4, schedule = shuffle, lds_bytes = 0, waves_per_simd = 9>, eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x128xf32>
}

// -----

func.func @split_not_compress(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{window_split 2 belongs to a compress kernel (its slots share one item's window)}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {dsv4.plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 4, schedule = shuffle, lds_bytes = 0, window_split = 2>, eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x128xf32>
}

// -----

func.func @split_rows(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{window_split must be a power of two dividing rows_per_workgroup 4, got 8}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {dsv4.plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 4, schedule = shuffle, lds_bytes = 0, window_split = 8>, eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x128xf32>
}

// -----

func.func @split_lds(%state: tensor<?x64x1024xf32>, %table: tensor<?x?xi32>, %req: tensor<?xi32>, %pos: tensor<?xi64>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) -> tensor<?xi8> {
  // expected-error @+1 {{lds_bytes must be 12288 (window_split 2 parts of 3 x 512 f32), got 0}}
  %0 = dsv4.fused_compress_store main %state[%table], %req, %pos, %w, %f into %c[%o] {dsv4.plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 2, vector_width = 4, schedule = none, lds_bytes = 0, window_split = 2>, eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, page_size = 64 : i64, ratio = 128 : i64, rope_dim = 64 : i64} : tensor<?x64x1024xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
  return %0 : tensor<?xi8>
}

// -----

// A row over 128 lanes (four 32-lane parts) sums its parts through 4 f32 of LDS a row.
func.func @row_parts_lds(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{lds_bytes must be 32 (rows_per_workgroup 2 x 4 f32 sums of the row's parts), got 0}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {dsv4.plan = #dsv4.plan<lanes_per_row = 128, rows_per_workgroup = 2, vector_width = 4, schedule = none, lds_bytes = 0>, eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

// Rows that need no LDS say so.
func.func @no_lds(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{lds_bytes must be 0 (nothing goes through LDS), got 16}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %h {dsv4.plan = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 4, schedule = none, lds_bytes = 16>, eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}
