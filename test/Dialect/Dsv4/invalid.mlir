// Every verifier rule of the dsv4 ops, with its exact message (lib/Dialect/Dsv4/IR/Dsv4Ops.cpp and the
// ODS type constraints of include/dsv4/Dialect/Dsv4/IR/Dsv4Ops.td).
// RUN: dsv4-opt %s -split-input-file -verify-diagnostics

func.func @head_dim_not_pow2(%kv: tensor<?x384xf32>, %items: tensor<?x2xi32>) -> tensor<?x384xf32> {
  // expected-error @+1 {{'dsv4.hadamard' op head dim must be a power of two in [64, 4096], got 384}}
  %0 = dsv4.hadamard %kv[%items] {scale = 1.0 : f32} : tensor<?x384xf32>, tensor<?x2xi32>
  return %0 : tensor<?x384xf32>
}

// -----

func.func @head_dim_below_64(%kv: tensor<?x32xf32>, %items: tensor<?x2xi32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{'dsv4.hadamard' op head dim must be a power of two in [64, 4096], got 32}}
  %0 = dsv4.hadamard %kv[%items] {scale = 1.0 : f32} : tensor<?x32xf32>, tensor<?x2xi32>
  return %0 : tensor<?x32xf32>
}

// -----

func.func @head_dim_above_4096(%kv: tensor<?x8192xf32>, %items: tensor<?x2xi32>) -> tensor<?x8192xf32> {
  // expected-error @+1 {{'dsv4.hadamard' op head dim must be a power of two in [64, 4096], got 8192}}
  %0 = dsv4.hadamard %kv[%items] {scale = 1.0 : f32} : tensor<?x8192xf32>, tensor<?x2xi32>
  return %0 : tensor<?x8192xf32>
}

// -----

func.func @head_dim_dynamic(%kv: tensor<?x?xf32>, %items: tensor<?x2xi32>) -> tensor<?x?xf32> {
  // expected-error @+1 {{'dsv4.hadamard' op head dim must be a power of two in [64, 4096], got ?}}
  %0 = dsv4.hadamard %kv[%items] {scale = 1.0 : f32} : tensor<?x?xf32>, tensor<?x2xi32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @head_dim_rms_norm(%kv: tensor<?x96xbf16>, %items: tensor<?x2xi32>, %w: tensor<96xf32>) -> tensor<?x96xbf16> {
  // expected-error @+1 {{'dsv4.rms_norm' op head dim must be a power of two in [64, 4096], got 96}}
  %0 = dsv4.rms_norm %kv[%items], %w {eps = 1.0e-06 : f32} : tensor<?x96xbf16>, tensor<?x2xi32>, tensor<96xf32>
  return %0 : tensor<?x96xbf16>
}

// -----

func.func @head_dim_rope(%kv: tensor<4x32xf16>, %items: tensor<?x2xi32>, %f: tensor<?x16xf32>) -> tensor<4x32xf16> {
  // expected-error @+1 {{'dsv4.rope' op head dim must be a power of two in [64, 4096], got 32}}
  %0 = dsv4.rope %kv[%items], %f {rope_dim = 16 : i64} : tensor<4x32xf16>, tensor<?x2xi32>, tensor<?x16xf32>
  return %0 : tensor<4x32xf16>
}

// -----

func.func @head_dim_fused(%kv: tensor<?x?xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %s: tensor<?xi32>) -> tensor<?x?xf32> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op head dim must be a power of two in [64, 4096], got ?}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %s {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x?xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @rope_dim_odd(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %f: tensor<?x63xf32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.rope' op rope_dim must be even and in [2, 512], got 63}}
  %0 = dsv4.rope %kv[%items], %f {rope_dim = 63 : i64} : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x63xf32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @rope_dim_zero(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %f: tensor<?x64xf32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.rope' op rope_dim must be even and in [2, 512], got 0}}
  %0 = dsv4.rope %kv[%items], %f {rope_dim = 0 : i64} : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @rope_dim_above_head_dim(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %f: tensor<?x1024xf32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.rope' op rope_dim must be even and in [2, 512], got 1024}}
  %0 = dsv4.rope %kv[%items], %f {rope_dim = 1024 : i64} : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x1024xf32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @rope_dim_negative(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %f: tensor<?x64xf32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.rope' op rope_dim must be even and in [2, 512], got -2}}
  %0 = dsv4.rope %kv[%items], %f {rope_dim = -2 : i64} : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @rope_dim_fused(%kv: tensor<?x64xf32>, %w: tensor<64xf32>, %f: tensor<?x128xf32>, %s: tensor<?xi32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op rope_dim must be even and in [2, 64], got 128}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %s {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 128 : i64} : tensor<?x64xf32>, tensor<64xf32>, tensor<?x128xf32>, tensor<?xi32>
  return %0 : tensor<?x64xf32>
}

// -----

func.func @freqs_width(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %f: tensor<?x32xf32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.rope' op freqs width 32 does not match rope_dim 64}}
  %0 = dsv4.rope %kv[%items], %f {rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x32xf32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @freqs_width_dynamic(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %f: tensor<?x?xf32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.rope' op freqs width ? does not match rope_dim 64}}
  %0 = dsv4.rope %kv[%items], %f {rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x?xf32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @freqs_width_fused(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x128xf32>, %p: tensor<?x4xi32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op freqs width 128 does not match rope_dim 64}}
  %0 = dsv4.fused_epilogue prefill %kv, %w, %f, %p {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x128xf32>, tensor<?x4xi32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @weight_length(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %w: tensor<256xf32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.rms_norm' op weight length 256 does not match head dim 512}}
  %0 = dsv4.rms_norm %kv[%items], %w {eps = 1.0e-06 : f32} : tensor<?x512xf32>, tensor<?x2xi32>, tensor<256xf32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @weight_length_dynamic(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %w: tensor<?xbf16>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.rms_norm' op weight length ? does not match head dim 512}}
  %0 = dsv4.rms_norm %kv[%items], %w {eps = 1.0e-06 : f32} : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?xbf16>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @weight_length_fused(%kv: tensor<?x512xf32>, %w: tensor<1024xf32>, %f: tensor<?x64xf32>, %s: tensor<?xi32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op weight length 1024 does not match head dim 512}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %s {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<1024xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @kv_f64(%kv: tensor<?x512xf64>, %items: tensor<?x2xi32>) -> tensor<?x512xf64> {
  // expected-error @+1 {{'dsv4.hadamard' op operand #0 must be 2D tensor of 32-bit float or bfloat16 type or 16-bit float values, but got 'tensor<?x512xf64>'}}
  %0 = dsv4.hadamard %kv[%items] {scale = 1.0 : f32} : tensor<?x512xf64>, tensor<?x2xi32>
  return %0 : tensor<?x512xf64>
}

// -----

func.func @kv_i32(%kv: tensor<?x512xi32>, %items: tensor<?x2xi32>, %w: tensor<512xf32>) -> tensor<?x512xi32> {
  // expected-error @+1 {{'dsv4.rms_norm' op operand #0 must be 2D tensor of 32-bit float or bfloat16 type or 16-bit float values, but got 'tensor<?x512xi32>'}}
  %0 = dsv4.rms_norm %kv[%items], %w {eps = 1.0e-06 : f32} : tensor<?x512xi32>, tensor<?x2xi32>, tensor<512xf32>
  return %0 : tensor<?x512xi32>
}

// -----

func.func @weight_f16(%kv: tensor<?x512xf16>, %items: tensor<?x2xi32>, %w: tensor<512xf16>) -> tensor<?x512xf16> {
  // expected-error @+1 {{'dsv4.rms_norm' op operand #2 must be 1D tensor of 32-bit float or bfloat16 type values, but got 'tensor<512xf16>'}}
  %0 = dsv4.rms_norm %kv[%items], %w {eps = 1.0e-06 : f32} : tensor<?x512xf16>, tensor<?x2xi32>, tensor<512xf16>
  return %0 : tensor<?x512xf16>
}

// -----

func.func @freqs_f64(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %f: tensor<?x64xf64>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.rope' op operand #2 must be 2D tensor of 32-bit float values, but got 'tensor<?x64xf64>'}}
  %0 = dsv4.rope %kv[%items], %f {rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf64>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @freqs_f64_items(%s: tensor<?xi32>, %f: tensor<?x64xf64>) -> tensor<?x2xi32> {
  // expected-error @+1 {{'dsv4.decode_items' op operand #1 must be 2D tensor of 32-bit float values, but got 'tensor<?x64xf64>'}}
  %0 = dsv4.decode_items %s, %f {ratio = 4 : i64} : tensor<?xi32>, tensor<?x64xf64> -> tensor<?x2xi32>
  return %0 : tensor<?x2xi32>
}

// -----

func.func @eps_zero(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %w: tensor<512xf32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.rms_norm' op eps must be positive and finite, got 0.000000e+00}}
  %0 = dsv4.rms_norm %kv[%items], %w {eps = 0.0 : f32} : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @eps_negative(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %w: tensor<512xf32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.rms_norm' op eps must be positive and finite, got -1.000000e-06}}
  %0 = dsv4.rms_norm %kv[%items], %w {eps = -1.0e-06 : f32} : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @eps_neg_zero(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %w: tensor<512xf32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.rms_norm' op eps must be positive and finite, got -0.000000e+00}}
  %0 = dsv4.rms_norm %kv[%items], %w {eps = -0.0 : f32} : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @eps_inf(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %w: tensor<512xf32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.rms_norm' op eps must be positive and finite, got INF}}
  %0 = dsv4.rms_norm %kv[%items], %w {eps = 0x7F800000 : f32} : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @eps_nan(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %w: tensor<512xf32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.rms_norm' op eps must be positive and finite, got nan}}
  %0 = dsv4.rms_norm %kv[%items], %w {eps = 0x7FC00000 : f32} : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @eps_fused(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %s: tensor<?xi32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op eps must be positive and finite, got -INF}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %s {eps = 0xFF800000 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @scale_inf(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.hadamard' op scale must be finite, got INF}}
  %0 = dsv4.hadamard %kv[%items] {scale = 0x7F800000 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @scale_neg_inf(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.hadamard' op scale must be finite, got -INF}}
  %0 = dsv4.hadamard %kv[%items] {scale = 0xFF800000 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @scale_nan(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.hadamard' op scale must be finite, got nan}}
  %0 = dsv4.hadamard %kv[%items] {scale = 0x7FC00000 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @scale_fused(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %s: tensor<?xi32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op scale must be finite, got nan}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %s {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0x7FC00000 : f32} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @ratio_zero(%s: tensor<?xi32>, %f: tensor<?x64xf32>) -> tensor<?x2xi32> {
  // expected-error @+1 {{'dsv4.decode_items' op ratio must be in [1, 2147483647], got 0}}
  %0 = dsv4.decode_items %s, %f {ratio = 0 : i64} : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  return %0 : tensor<?x2xi32>
}

// -----

func.func @ratio_negative(%p: tensor<?x4xi32>, %f: tensor<?x64xf32>) -> tensor<?x2xi32> {
  // expected-error @+1 {{'dsv4.prefill_items' op ratio must be in [1, 2147483647], got -4}}
  %0 = dsv4.prefill_items %p, %f {ratio = -4 : i64} : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  return %0 : tensor<?x2xi32>
}

// -----

func.func @ratio_fused(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %s: tensor<?xi32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op ratio must be in [1, 2147483647], got 0}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %s {eps = 1.0e-06 : f32, ratio = 0 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @items_result_not_m2(%s: tensor<?xi32>, %f: tensor<?x64xf32>) -> tensor<?x3xi32> {
  // expected-error @+1 {{'dsv4.decode_items' op items must be [M, 2] of (row, position), got 'tensor<?x3xi32>'}}
  %0 = dsv4.decode_items %s, %f {ratio = 4 : i64} : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x3xi32>
  return %0 : tensor<?x3xi32>
}

// -----

func.func @items_rms_norm(%kv: tensor<?x512xf32>, %items: tensor<?x4xi32>, %w: tensor<512xf32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.rms_norm' op items must be [M, 2] of (row, position), got 'tensor<?x4xi32>'}}
  %0 = dsv4.rms_norm %kv[%items], %w {eps = 1.0e-06 : f32} : tensor<?x512xf32>, tensor<?x4xi32>, tensor<512xf32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @items_rope(%kv: tensor<?x512xf32>, %items: tensor<8x1xi32>, %f: tensor<?x64xf32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.rope' op items must be [M, 2] of (row, position), got 'tensor<8x1xi32>'}}
  %0 = dsv4.rope %kv[%items], %f {rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<8x1xi32>, tensor<?x64xf32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @items_hadamard(%kv: tensor<?x512xf32>, %items: tensor<?x?xi32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.hadamard' op items must be [M, 2] of (row, position), got 'tensor<?x?xi32>'}}
  %0 = dsv4.hadamard %kv[%items] {scale = 1.0 : f32} : tensor<?x512xf32>, tensor<?x?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @plan_not_m4(%p: tensor<?x3xi32>, %f: tensor<?x64xf32>) -> tensor<?x2xi32> {
  // expected-error @+1 {{'dsv4.prefill_items' op prefill plan must be [M, 4] of (row, batch_id, position, window_len), got 'tensor<?x3xi32>'}}
  %0 = dsv4.prefill_items %p, %f {ratio = 4 : i64} : tensor<?x3xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  return %0 : tensor<?x2xi32>
}

// -----

func.func @item_count_decode(%s: tensor<8xi32>, %f: tensor<?x64xf32>) -> tensor<4x2xi32> {
  // expected-error @+1 {{'dsv4.decode_items' op item count 4 does not match handle rows 8}}
  %0 = dsv4.decode_items %s, %f {ratio = 4 : i64} : tensor<8xi32>, tensor<?x64xf32> -> tensor<4x2xi32>
  return %0 : tensor<4x2xi32>
}

// -----

func.func @item_count_prefill(%p: tensor<3x4xi32>, %f: tensor<?x64xf32>) -> tensor<5x2xi32> {
  // expected-error @+1 {{'dsv4.prefill_items' op item count 5 does not match handle rows 3}}
  %0 = dsv4.prefill_items %p, %f {ratio = 4 : i64} : tensor<3x4xi32>, tensor<?x64xf32> -> tensor<5x2xi32>
  return %0 : tensor<5x2xi32>
}

// -----

// A static item count for a dynamic handle: the lowering wrote one item per handle row into it.
func.func @decode_items_static_count_dynamic_handle(%s: tensor<?xi32>, %f: tensor<?x64xf32>) {
  // expected-error @+1 {{'dsv4.decode_items' op item count 4 does not match handle rows ?}}
  %0 = dsv4.decode_items %s, %f {ratio = 4 : i64} : tensor<?xi32>, tensor<?x64xf32> -> tensor<4x2xi32>
  return
}

// -----

func.func @fused_decode_2d_handle(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %p: tensor<?x4xi32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op decode handle must be seq_lens [B], got 'tensor<?x4xi32>'}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %p {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0441941738 : f32} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?x4xi32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @fused_prefill_bad_plan(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %p: tensor<?x2xi32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op prefill plan must be [M, 4] of (row, batch_id, position, window_len), got 'tensor<?x2xi32>'}}
  %0 = dsv4.fused_epilogue prefill %kv, %w, %f, %p {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?x2xi32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @fused_prefill_seq_lens(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %s: tensor<?xi32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op prefill plan must be [M, 4] of (row, batch_id, position, window_len), got 'tensor<?xi32>'}}
  %0 = dsv4.fused_epilogue prefill %kv, %w, %f, %s {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @kv_result_mismatch(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>) -> tensor<?x512xbf16> {
  // expected-error @+1 {{'dsv4.hadamard' op failed to verify that all of {kv, result} have same type}}
  %0 = "dsv4.hadamard"(%kv, %items) <{scale = 1.0 : f32}> : (tensor<?x512xf32>, tensor<?x2xi32>) -> tensor<?x512xbf16>
  return %0 : tensor<?x512xbf16>
}

// -----

func.func @kv_result_shape_mismatch(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %f: tensor<?x64xf32>) -> tensor<8x512xf32> {
  // expected-error @+1 {{'dsv4.rope' op failed to verify that all of {kv, result} have same type}}
  %0 = "dsv4.rope"(%kv, %items, %f) <{rope_dim = 64 : i64}> : (tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>) -> tensor<8x512xf32>
  return %0 : tensor<8x512xf32>
}

// -----

func.func @kv_result_mismatch_fused(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %s: tensor<?xi32>) -> tensor<?x512xf16> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op failed to verify that all of {kv, result} have same type}}
  %0 = "dsv4.fused_epilogue"(%kv, %w, %f, %s) <{eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, source = 0 : i32}> : (tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x512xf16>
  return %0 : tensor<?x512xf16>
}

// -----

// seq_lens and positions are i32: a larger ratio would be truncated by both lowerings.
func.func @ratio_above_i32(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %s: tensor<?xi32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.fused_epilogue' op ratio must be in [1, 2147483647], got 2147483648}}
  %0 = dsv4.fused_epilogue decode %kv, %w, %f, %s {eps = 1.0e-06 : f32, ratio = 2147483648 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

func.func @quantize_values_wider_than_rows(%r: tensor<?x128xf32>) {
  // expected-error @+1 {{'dsv4.quantize' op values must hold the leading channels of the rows, got 256 of 128}}
  %q, %s = dsv4.quantize f32 %r {block = 128 : i64} : tensor<?x128xf32> -> tensor<?x256xf8E4M3FN>, tensor<?x2xf32>
  return
}

// -----

func.func @quantize_block_not_dividing(%r: tensor<?x128xf32>) {
  // expected-error @+1 {{'dsv4.quantize' op block 48 must divide the 128 quantized channels}}
  %q, %s = dsv4.quantize f32 %r {block = 48 : i64} : tensor<?x128xf32> -> tensor<?x128xf8E4M3FN>, tensor<?x2xf32>
  return
}

// -----

func.func @quantize_block_zero(%r: tensor<?x128xf32>) {
  // expected-error @+1 {{'dsv4.quantize' op block 0 must divide the 128 quantized channels}}
  %q, %s = dsv4.quantize f32 %r {block = 0 : i64} : tensor<?x128xf32> -> tensor<?x128xf8E4M3FN>, tensor<?x2xf32>
  return
}

// -----

func.func @quantize_scales_width(%r: tensor<?x512xf32>) {
  // expected-error @+1 {{'dsv4.quantize' op scales must be [N, 7] (one per block), got 'tensor<?x8xi8>'}}
  %q, %s = dsv4.quantize ue8m0 %r {block = 64 : i64} : tensor<?x512xf32> -> tensor<?x448xf8E4M3FN>, tensor<?x8xi8>
  return
}

// -----

func.func @quantize_values_rows(%r: tensor<8x128xf32>) {
  // expected-error @+1 {{'dsv4.quantize' op values rows 4 does not match rows 8}}
  %q, %s = dsv4.quantize f32 %r {block = 128 : i64} : tensor<8x128xf32> -> tensor<4x128xf8E4M3FN>, tensor<8x1xf32>
  return
}

// -----

func.func @quantize_scales_rows(%r: tensor<8x128xf32>) {
  // expected-error @+1 {{'dsv4.quantize' op scales rows 2 does not match rows 8}}
  %q, %s = dsv4.quantize f32 %r {block = 128 : i64} : tensor<8x128xf32> -> tensor<8x128xf8E4M3FN>, tensor<2x1xf32>
  return
}

// -----

// Results with a static row count for dynamic rows: the lowering wrote all the rows into them.
func.func @quantize_static_scales_of_dynamic_rows(%r: tensor<?x128xf32>) {
  // expected-error @+1 {{'dsv4.quantize' op scales rows 1 does not match rows ?}}
  %q, %s = dsv4.quantize f32 %r {block = 128 : i64} : tensor<?x128xf32> -> tensor<?x128xf8E4M3FN>, tensor<1x1xf32>
  return
}

// -----

func.func @quantize_ue8m0_scales_f32(%r: tensor<?x512xf32>) {
  // expected-error @+1 {{'dsv4.quantize' op ue8m0 scales must be i8, got 'f32'}}
  %q, %s = dsv4.quantize ue8m0 %r {block = 64 : i64} : tensor<?x512xf32> -> tensor<?x448xf8E4M3FN>, tensor<?x7xf32>
  return
}

// -----

func.func @quantize_f32_scales_i8(%r: tensor<?x128xf32>) {
  // expected-error @+1 {{'dsv4.quantize' op f32 scales must be f32, got 'i8'}}
  %q, %s = dsv4.quantize f32 %r {block = 128 : i64} : tensor<?x128xf32> -> tensor<?x128xf8E4M3FNUZ>, tensor<?x1xi8>
  return
}

// -----

func.func @quantize_not_fp8(%r: tensor<?x128xf32>) {
  // expected-error @+1 {{'dsv4.quantize' op result #0 must be 2D tensor of f8E4M3FN type or f8E4M3FNUZ type or f4E2M1FN type values}}
  %q, %s = dsv4.quantize f32 %r {block = 128 : i64} : tensor<?x128xf32> -> tensor<?x128xf8E5M2>, tensor<?x1xf32>
  return
}

// -----

func.func @store_values_width(%q: tensor<?x512xf8E4M3FN>, %s: tensor<?x8xi8>, %r: tensor<?x512xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %h: tensor<?xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op the main layout stores 448 quantized channels, got 512}}
  %0 = dsv4.paged_store decode main %q, %s, %r into %c[%o] items %i, %h {page_size = 64 : i64, ratio = 4 : i64} : tensor<?x512xf8E4M3FN>, tensor<?x8xi8>, tensor<?x512xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return
}

// -----

func.func @store_rows_width(%q: tensor<?x128xf8E4M3FN>, %s: tensor<?x1xf32>, %r: tensor<?x256xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %h: tensor<?xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op the indexer layout stores rows of 128 channels, got 256}}
  %0 = dsv4.paged_store decode indexer %q, %s, %r into %c[%o] items %i, %h {page_size = 64 : i64, ratio = 4 : i64} : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x256xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return
}

// -----

func.func @store_mxfp4_fp8_codes(%q: tensor<?x128xf8E4M3FN>, %s: tensor<?x4xi8>, %r: tensor<?x128xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %h: tensor<?xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op the indexer_mxfp4 layout stores f4E2M1FN codes, got 'f8E4M3FN'}}
  %0 = dsv4.paged_store decode indexer_mxfp4 %q, %s, %r into %c[%o] items %i, %h {page_size = 64 : i64, ratio = 4 : i64} : tensor<?x128xf8E4M3FN>, tensor<?x4xi8>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return
}

// -----

func.func @store_indexer_e2m1_codes(%q: tensor<?x128xf4E2M1FN>, %s: tensor<?x1xf32>, %r: tensor<?x128xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %h: tensor<?xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op the indexer layout stores FP8 codes, got 'f4E2M1FN'}}
  %0 = dsv4.paged_store decode indexer %q, %s, %r into %c[%o] items %i, %h {page_size = 64 : i64, ratio = 4 : i64} : tensor<?x128xf4E2M1FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return
}

// -----

func.func @store_mxfp4_scales_width(%q: tensor<?x128xf4E2M1FN>, %s: tensor<?x1xi8>, %r: tensor<?x128xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %h: tensor<?xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op scales width 1 does not match block count 4}}
  %0 = dsv4.paged_store decode indexer_mxfp4 %q, %s, %r into %c[%o] items %i, %h {page_size = 64 : i64, ratio = 4 : i64} : tensor<?x128xf4E2M1FN>, tensor<?x1xi8>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return
}

// -----

func.func @quantize_mx_scales_f32(%r: tensor<?x128xf32>) {
  // expected-error @+1 {{'dsv4.quantize' op mx scales must be i8, got 'f32'}}
  %q, %s = dsv4.quantize mx %r {block = 32 : i64} : tensor<?x128xf32> -> tensor<?x128xf4E2M1FN>, tensor<?x4xf32>
  return
}

// -----

func.func @store_scale_format(%q: tensor<?x128xf8E4M3FN>, %s: tensor<?x1xi8>, %r: tensor<?x128xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %h: tensor<?xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op f32 scales must be f32, got 'i8'}}
  %0 = dsv4.paged_store decode indexer %q, %s, %r into %c[%o] items %i, %h {page_size = 64 : i64, ratio = 4 : i64} : tensor<?x128xf8E4M3FN>, tensor<?x1xi8>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return
}

// -----

func.func @store_scales_width(%q: tensor<?x448xf8E4M3FN>, %s: tensor<?x8xi8>, %r: tensor<?x512xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %h: tensor<?xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op scales width 8 does not match block count 7}}
  %0 = dsv4.paged_store decode main %q, %s, %r into %c[%o] items %i, %h {page_size = 64 : i64, ratio = 4 : i64} : tensor<?x448xf8E4M3FN>, tensor<?x8xi8>, tensor<?x512xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return
}

// -----

func.func @store_page_size_not_pow2(%q: tensor<?x128xf8E4M3FN>, %s: tensor<?x1xf32>, %r: tensor<?x128xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %h: tensor<?xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op page_size must be a power of two in [1, 1048576], got 48}}
  %0 = dsv4.paged_store decode indexer %q, %s, %r into %c[%o] items %i, %h {page_size = 48 : i64, ratio = 4 : i64} : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return
}

// -----

// The largest page size (Limits.h): 2^21 tokens would pass as a power of two, and from 2^54
// a page's bytes overflow i64 (the reference then wrote far outside the cache).
func.func @store_page_size_too_big(%q: tensor<?x128xf8E4M3FN>, %s: tensor<?x1xf32>, %r: tensor<?x128xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %h: tensor<?xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op page_size must be a power of two in [1, 1048576], got 2097152}}
  %0 = dsv4.paged_store decode indexer %q, %s, %r into %c[%o] items %i, %h {page_size = 2097152 : i64, ratio = 4 : i64} : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return
}

// -----

func.func @fused_store_page_size_too_big(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_store' op page_size must be a power of two in [1, 1048576], got 18014398509481984}}
  %0 = dsv4.fused_store decode main %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, page_size = 18014398509481984 : i64, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

// One scale row per row: a 1x1 scales tensor for 64 rows made the reference read past it.
func.func @store_scales_rows(%q: tensor<64x128xf8E4M3FN>, %s: tensor<1x1xf32>, %r: tensor<64x128xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %h: tensor<?xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op scales rows 1 does not match rows 64}}
  %0 = dsv4.paged_store decode indexer %q, %s, %r into %c[%o] items %i, %h {page_size = 64 : i64, ratio = 4 : i64} : tensor<64x128xf8E4M3FN>, tensor<1x1xf32>, tensor<64x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return
}

// -----

func.func @store_page_size_zero(%q: tensor<?x128xf8E4M3FN>, %s: tensor<?x1xf32>, %r: tensor<?x128xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %h: tensor<?xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op page_size must be a power of two in [1, 1048576], got 0}}
  %0 = dsv4.paged_store decode indexer %q, %s, %r into %c[%o] items %i, %h {page_size = 0 : i64, ratio = 4 : i64} : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return
}

// -----

func.func @store_out_loc_i16(%q: tensor<?x128xf8E4M3FN>, %s: tensor<?x1xf32>, %r: tensor<?x128xf32>, %c: tensor<?xi8>, %o: tensor<?xi16>, %i: tensor<?x2xi32>, %h: tensor<?xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op operand #4 must be 1D tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = dsv4.paged_store decode indexer %q, %s, %r into %c[%o] items %i, %h {page_size = 64 : i64, ratio = 4 : i64} : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi16>, tensor<?x2xi32>, tensor<?xi32>
  return
}

// -----

func.func @store_cache_not_bytes(%q: tensor<?x128xf8E4M3FN>, %s: tensor<?x1xf32>, %r: tensor<?x128xf32>, %c: tensor<?xi32>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %h: tensor<?xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op operand #3 must be 1D tensor of 8-bit signless integer values}}
  %0 = dsv4.paged_store decode indexer %q, %s, %r into %c[%o] items %i, %h {page_size = 64 : i64, ratio = 4 : i64} : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi32>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return
}

// -----

func.func @store_out_loc_length(%q: tensor<?x128xf8E4M3FN>, %s: tensor<?x1xf32>, %r: tensor<?x128xf32>, %c: tensor<?xi8>, %o: tensor<3xi64>, %i: tensor<4x2xi32>, %h: tensor<4xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op out_loc length 3 does not match handle rows 4}}
  %0 = dsv4.paged_store decode indexer %q, %s, %r into %c[%o] items %i, %h {page_size = 64 : i64, ratio = 4 : i64} : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<3xi64>, tensor<4x2xi32>, tensor<4xi32>
  return
}

// -----

func.func @store_item_count(%q: tensor<?x128xf8E4M3FN>, %s: tensor<?x1xf32>, %r: tensor<?x128xf32>, %c: tensor<?xi8>, %o: tensor<4xi64>, %i: tensor<5x2xi32>, %h: tensor<4xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op item count 5 does not match handle rows 4}}
  %0 = dsv4.paged_store decode indexer %q, %s, %r into %c[%o] items %i, %h {page_size = 64 : i64, ratio = 4 : i64} : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<4xi64>, tensor<5x2xi32>, tensor<4xi32>
  return
}

// -----

func.func @store_decode_plan(%q: tensor<?x128xf8E4M3FN>, %s: tensor<?x1xf32>, %r: tensor<?x128xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %h: tensor<?x4xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op decode handle must be seq_lens [B], got 'tensor<?x4xi32>'}}
  %0 = dsv4.paged_store decode indexer %q, %s, %r into %c[%o] items %i, %h {page_size = 64 : i64, ratio = 4 : i64} : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?x4xi32>
  return
}

// -----

func.func @store_ratio_zero(%q: tensor<?x128xf8E4M3FN>, %s: tensor<?x1xf32>, %r: tensor<?x128xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %h: tensor<?xi32>) {
  // expected-error @+1 {{'dsv4.paged_store' op ratio must be in [1, 2147483647], got 0}}
  %0 = dsv4.paged_store decode indexer %q, %s, %r into %c[%o] items %i, %h {page_size = 64 : i64, ratio = 0 : i64} : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return
}

// -----

func.func @fused_store_head_dim(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_store' op the indexer layout stores rows of 128 channels, got head dim 512}}
  %0 = dsv4.fused_store decode indexer %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_store_main_split(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x32xf32>, %h: tensor<?xi32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_store' op the main layout keeps the last 64 channels as bf16 rope channels, got rope_dim 32}}
  %0 = dsv4.fused_store decode main %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 32 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x32xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_store_not_fp8(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_store' op attribute 'fp8_type' failed to satisfy constraint: type attribute of f8E4M3FN type or f8E4M3FNUZ type}}
  %0 = dsv4.fused_store decode indexer %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, fp8_type = bf16, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_store_mxfp4_fp8_type(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_store' op the indexer_mxfp4 layout quantizes to f4E2M1FN and takes no fp8_type, got 'f8E4M3FN'}}
  %0 = dsv4.fused_store decode indexer_mxfp4 %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_store_no_fp8_type(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_store' op the indexer layout quantizes to FP8 and needs fp8_type}}
  %0 = dsv4.fused_store decode indexer %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_store_mxfp4_head_dim(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_store' op the indexer_mxfp4 layout stores rows of 128 channels, got head dim 512}}
  %0 = dsv4.fused_store decode indexer_mxfp4 %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_store_page_size(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_store' op page_size must be a power of two in [1, 1048576], got 96}}
  %0 = dsv4.fused_store decode indexer %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FNUZ, page_size = 96 : i64, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_store_prefill_seq_lens(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_store' op prefill plan must be [M, 4] of (row, batch_id, position, window_len), got 'tensor<?xi32>'}}
  %0 = dsv4.fused_store prefill indexer %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_store_eps(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_store' op eps must be positive and finite, got 0}}
  %0 = dsv4.fused_store decode indexer %kv, %w, %f, %h into %c[%o] {eps = 0.0 : f32, fp8_type = f8E4M3FN, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_store_out_loc_length(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<6xi32>, %c: tensor<?xi8>, %o: tensor<5xi64>) {
  // expected-error @+1 {{'dsv4.fused_store' op out_loc length 5 does not match handle rows 6}}
  %0 = dsv4.fused_store decode indexer %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<6xi32>, tensor<?xi8>, tensor<5xi64>
  return
}

// -----

// The compress step (dsv4.compress_pool, dsv4.fused_compress_store): dtypes, widths W = coff
// * D, block size, ratio, sizes, and the fused op's epilogue and layout.
func.func @compress_state_bf16(%s: tensor<?x64x512xbf16>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op operand #0 must be 3D tensor of 32-bit float values, but got 'tensor<?x64x512xbf16>'}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {overlap, ratio = 4 : i64} : tensor<?x64x512xbf16>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  return
}

// -----

func.func @compress_block_table_i64(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi64>, %r: tensor<?xi32>, %p: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op operand #1 must be 2D tensor of 32-bit signless integer values, but got 'tensor<?x?xi64>'}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {overlap, ratio = 4 : i64} : tensor<?x64x512xf32>, tensor<?x?xi64>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  return
}

// -----

func.func @compress_token_req_i64(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi64>, %p: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op operand #2 must be 1D tensor of 32-bit signless integer values, but got 'tensor<?xi64>'}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {overlap, ratio = 4 : i64} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi64>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  return
}

// -----

func.func @compress_positions_i32(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'dsv4.compress_pool' op operand #3 must be 1D tensor of 64-bit signless integer values, but got 'tensor<?xi32>'}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {overlap, ratio = 4 : i64} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32> -> tensor<?x128xf32>, tensor<?x4xi32>
  return
}

// -----

func.func @compress_rows_bf16(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op result #0 must be 2D tensor of 32-bit float values, but got 'tensor<?x128xbf16>'}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {overlap, ratio = 4 : i64} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xbf16>, tensor<?x4xi32>
  return
}

// -----

func.func @compress_ratio_zero(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op ratio must be in [1, 2147483647], got 0}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {overlap, ratio = 0 : i64} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  return
}

// -----

func.func @compress_block_size_not_pow2(%s: tensor<?x48x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op state block size must be a static power of two in [1, 1048576], got 48}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {overlap, ratio = 4 : i64} : tensor<?x48x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  return
}

// -----

func.func @compress_block_size_dynamic(%s: tensor<?x?x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op state block size must be a static power of two in [1, 1048576], got ?}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {overlap, ratio = 4 : i64} : tensor<?x?x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  return
}

// -----

func.func @compress_block_size_too_large(%s: tensor<1x2097152x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op state block size must be a static power of two in [1, 1048576], got 2097152}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {overlap, ratio = 4 : i64} : tensor<1x2097152x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  return
}

// -----

func.func @compress_width_not_pow2(%s: tensor<?x64x384xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op state rows must hold kv and score of W = coff * D floats each (coff = 2, D a power of two in [64, 4096]), got 384 floats}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {overlap, ratio = 4 : i64} : tensor<?x64x384xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x96xf32>, tensor<?x4xi32>
  return
}

// -----

func.func @compress_width_odd(%s: tensor<?x64x514xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op state rows must hold kv and score of W = coff * D floats each (coff = 2, D a power of two in [64, 4096]), got 514 floats}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {overlap, ratio = 4 : i64} : tensor<?x64x514xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  return
}

// -----

func.func @compress_width_dynamic(%s: tensor<?x64x?xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op state rows must hold kv and score of W = coff * D floats each (coff = 1, D a power of two in [64, 4096]), got ? floats}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {ratio = 128 : i64} : tensor<?x64x?xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  return
}

// -----

func.func @compress_rows_width(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op rows must be [T, 128] (D of the state's W = 2 * D), got 'tensor<?x256xf32>'}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {overlap, ratio = 4 : i64} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x256xf32>, tensor<?x4xi32>
  return
}

// -----

func.func @compress_rows_width_no_overlap(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op rows must be [T, 256] (D of the state's W = 1 * D), got 'tensor<?x128xf32>'}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {ratio = 4 : i64} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  return
}

// -----

func.func @compress_positions_length(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<5xi32>, %p: tensor<6xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op positions length 6 does not match token_req length 5}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {overlap, ratio = 4 : i64} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<5xi32>, tensor<6xi64> -> tensor<5x128xf32>, tensor<5x4xi32>
  return
}

// -----

func.func @compress_plan_width(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op prefill plan must be [M, 4] of (row, batch_id, position, window_len), got 'tensor<?x3xi32>'}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {overlap, ratio = 4 : i64} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @compress_rows_count(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<5xi32>, %p: tensor<5xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op rows count ? does not match token count 5}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {overlap, ratio = 4 : i64} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<5xi32>, tensor<5xi64> -> tensor<?x128xf32>, tensor<5x4xi32>
  return
}

// -----

func.func @compress_plan_count(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.compress_pool' op plan count 4 does not match token count ?}}
  %rows, %plan = dsv4.compress_pool %s[%t], %r, %p {overlap, ratio = 4 : i64} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<4x4xi32>
  return
}

// -----

func.func @fused_compress_weight(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>, %w: tensor<256xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_compress_store' op weight length 256 does not match head dim 128}}
  %0 = dsv4.fused_compress_store indexer %s[%t], %r, %p, %w, %f into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, overlap, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<256xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_compress_freqs(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>, %w: tensor<128xf32>, %f: tensor<?x32xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_compress_store' op freqs width 32 does not match rope_dim 64}}
  %0 = dsv4.fused_compress_store indexer %s[%t], %r, %p, %w, %f into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, overlap, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<?x32xf32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_compress_no_overlap(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>, %w: tensor<256xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_compress_store' op the indexer layout stores rows of 128 channels, got head dim 256}}
  %0 = dsv4.fused_compress_store indexer %s[%t], %r, %p, %w, %f into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<256xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_compress_main_head_dim(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_compress_store' op the main layout stores rows of 512 channels, got head dim 128}}
  %0 = dsv4.fused_compress_store main %s[%t], %r, %p, %w, %f into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, overlap, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_compress_no_fp8_type(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_compress_store' op the indexer layout quantizes to FP8 and needs fp8_type}}
  %0 = dsv4.fused_compress_store indexer %s[%t], %r, %p, %w, %f into %c[%o] {eps = 1.0e-06 : f32, overlap, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_compress_mxfp4_fp8_type(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_compress_store' op the indexer_mxfp4 layout quantizes to f4E2M1FN and takes no fp8_type, got 'f8E4M3FN'}}
  %0 = dsv4.fused_compress_store indexer_mxfp4 %s[%t], %r, %p, %w, %f into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, overlap, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_compress_page_size(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_compress_store' op page_size must be a power of two in [1, 1048576], got 96}}
  %0 = dsv4.fused_compress_store indexer %s[%t], %r, %p, %w, %f into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, overlap, page_size = 96 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_compress_out_loc_length(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<5xi32>, %p: tensor<?xi64>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<4xi64>) {
  // expected-error @+1 {{'dsv4.fused_compress_store' op out_loc length 4 does not match token_req length 5}}
  %0 = dsv4.fused_compress_store indexer %s[%t], %r, %p, %w, %f into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, overlap, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<5xi32>, tensor<?xi64>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<4xi64>
  return
}

// -----

func.func @fused_compress_width(%s: tensor<?x64x500xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_compress_store' op state rows must hold kv and score of W = coff * D floats each (coff = 2, D a power of two in [64, 4096]), got 500 floats}}
  %0 = dsv4.fused_compress_store indexer %s[%t], %r, %p, %w, %f into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, overlap, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x64x500xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @fused_compress_eps(%s: tensor<?x64x512xf32>, %t: tensor<?x?xi32>, %r: tensor<?xi32>, %p: tensor<?xi64>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_compress_store' op eps must be positive and finite, got 0}}
  %0 = dsv4.fused_compress_store indexer %s[%t], %r, %p, %w, %f into %c[%o] {eps = 0.0 : f32, fp8_type = f8E4M3FN, overlap, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @sglang_decode_plan_m3(%p: tensor<?x3xi32>, %f: tensor<?x64xf32>) -> tensor<?x2xi32> {
  // expected-error @+1 {{'dsv4.sglang_decode_items' op sglang_decode plan must be [M, 4] of (seq_len, write_loc, read_page_0, read_page_1), got 'tensor<?x3xi32>'}}
  %0 = dsv4.sglang_decode_items %p, %f {ratio = 4 : i64} : tensor<?x3xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  return %0 : tensor<?x2xi32>
}

// -----

func.func @fused_store_sglang_extend_seq_lens(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>, %c: tensor<?xi8>, %o: tensor<?xi64>) {
  // expected-error @+1 {{'dsv4.fused_store' op sglang_extend plan must be [M, 4] of (seq_len, ragged_id | buffer_len << 16, read_page_0, read_page_1), got 'tensor<?xi32>'}}
  %0 = dsv4.fused_store sglang_extend indexer %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32, page_size = 64 : i64, fp8_type = f8E4M3FN} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return
}

// -----

func.func @sglang_extend_out_loc_per_item(%kv: tensor<4x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<4x4xi32>, %c: tensor<?xi8>, %o: tensor<5xi64>) {
  // expected-error @+1 {{'dsv4.fused_store' op out_loc length 5 does not match handle rows 4}}
  %0 = dsv4.fused_store sglang_extend indexer %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32, page_size = 64 : i64, fp8_type = f8E4M3FN} : tensor<4x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<4x4xi32>, tensor<?xi8>, tensor<5xi64>
  return
}

// -----

// A compress kernel's slots are i64 (SPEC.md: out_loc i64 per token).
func.func @compress_i32_slots(%s: tensor<?x64x1024xf32>, %bt: tensor<?x?xi32>, %tr: tensor<?xi32>, %pos: tensor<?xi64>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi32>) {
  // expected-error @+1 {{operand #7 must be 1D tensor of 64-bit signless integer values, but got 'tensor<?xi32>'}}
  %0 = dsv4.fused_compress_store main %s[%bt], %tr, %pos, %w, %f into %c[%o] {eps = 1.0e-06 : f32, ratio = 128 : i64, rope_dim = 64 : i64, page_size = 64 : i64, fp8_type = f8E4M3FN} : tensor<?x64x1024xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi32>
  return
}
