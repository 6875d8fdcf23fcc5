// Every dsv4 op prints, parses and prints again identically, in custom and generic form.
// RUN: dsv4-opt %s | dsv4-opt | FileCheck %s
// RUN: dsv4-opt %s --mlir-print-op-generic | dsv4-opt | FileCheck %s

// CHECK-LABEL: func.func @decode_items_dynamic
// CHECK-SAME: (%[[SEQ:[a-z0-9_]+]]: tensor<?xi32>, %[[FREQS:[a-z0-9_]+]]: tensor<?x64xf32>)
// CHECK: %[[ITEMS:[a-z0-9_]+]] = dsv4.decode_items %[[SEQ]], %[[FREQS]] {ratio = 4 : i64} : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
// CHECK: return %[[ITEMS]]
func.func @decode_items_dynamic(%seq_lens: tensor<?xi32>, %freqs: tensor<?x64xf32>) -> tensor<?x2xi32> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  return %items : tensor<?x2xi32>
}

// CHECK-LABEL: func.func @decode_items_static
// CHECK-SAME: (%[[SEQ:[a-z0-9_]+]]: tensor<16xi32>, %[[FREQS:[a-z0-9_]+]]: tensor<2048x64xf32>)
// CHECK: dsv4.decode_items %[[SEQ]], %[[FREQS]] {ratio = 128 : i64} : tensor<16xi32>, tensor<2048x64xf32> -> tensor<16x2xi32>
func.func @decode_items_static(%seq_lens: tensor<16xi32>, %freqs: tensor<2048x64xf32>) -> tensor<16x2xi32> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 128 : i64}
      : tensor<16xi32>, tensor<2048x64xf32> -> tensor<16x2xi32>
  return %items : tensor<16x2xi32>
}

// CHECK-LABEL: func.func @prefill_items_dynamic
// CHECK-SAME: (%[[PLAN:[a-z0-9_]+]]: tensor<?x4xi32>, %[[FREQS:[a-z0-9_]+]]: tensor<?x64xf32>)
// CHECK: dsv4.prefill_items %[[PLAN]], %[[FREQS]] {ratio = 4 : i64} : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
func.func @prefill_items_dynamic(%plan: tensor<?x4xi32>, %freqs: tensor<?x64xf32>) -> tensor<?x2xi32> {
  %items = dsv4.prefill_items %plan, %freqs {ratio = 4 : i64}
      : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  return %items : tensor<?x2xi32>
}

// CHECK-LABEL: func.func @prefill_items_static
// CHECK-SAME: (%[[PLAN:[a-z0-9_]+]]: tensor<8x4xi32>, %[[FREQS:[a-z0-9_]+]]: tensor<1024x32xf32>)
// CHECK: dsv4.prefill_items %[[PLAN]], %[[FREQS]] {ratio = 1 : i64} : tensor<8x4xi32>, tensor<1024x32xf32> -> tensor<8x2xi32>
func.func @prefill_items_static(%plan: tensor<8x4xi32>, %freqs: tensor<1024x32xf32>) -> tensor<8x2xi32> {
  %items = dsv4.prefill_items %plan, %freqs {ratio = 1 : i64}
      : tensor<8x4xi32>, tensor<1024x32xf32> -> tensor<8x2xi32>
  return %items : tensor<8x2xi32>
}

// CHECK-LABEL: func.func @rms_norm_f32
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>, %[[ITEMS:[a-z0-9_]+]]: tensor<?x2xi32>, %[[W:[a-z0-9_]+]]: tensor<512xf32>)
// CHECK: %[[R:[a-z0-9_]+]] = dsv4.rms_norm %[[KV]][%[[ITEMS]]], %[[W]] {eps = 9.99999997E-7 : f32} : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
// CHECK: return %[[R]]
func.func @rms_norm_f32(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %weight: tensor<512xf32>) -> tensor<?x512xf32> {
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  return %0 : tensor<?x512xf32>
}

// CHECK-LABEL: func.func @rms_norm_bf16_weight_static
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[ITEMS:[a-z0-9_]+]]: tensor<4x2xi32>, %[[W:[a-z0-9_]+]]: tensor<64xbf16>)
// CHECK: dsv4.rms_norm %[[KV]][%[[ITEMS]]], %[[W]] {eps = 9.99999974E-6 : f32} : tensor<32x64xbf16>, tensor<4x2xi32>, tensor<64xbf16>
func.func @rms_norm_bf16_weight_static(%kv: tensor<32x64xbf16>, %items: tensor<4x2xi32>, %weight: tensor<64xbf16>) -> tensor<32x64xbf16> {
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-05 : f32}
      : tensor<32x64xbf16>, tensor<4x2xi32>, tensor<64xbf16>
  return %0 : tensor<32x64xbf16>
}

// CHECK-LABEL: func.func @rms_norm_f16_kv
// CHECK: dsv4.rms_norm %{{.*}}[%{{.*}}], %{{.*}} {eps = 9.99999997E-7 : f32} : tensor<?x4096xf16>, tensor<?x2xi32>, tensor<4096xf32>
func.func @rms_norm_f16_kv(%kv: tensor<?x4096xf16>, %items: tensor<?x2xi32>, %weight: tensor<4096xf32>) -> tensor<?x4096xf16> {
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x4096xf16>, tensor<?x2xi32>, tensor<4096xf32>
  return %0 : tensor<?x4096xf16>
}

// CHECK-LABEL: func.func @rope_f32
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>, %[[ITEMS:[a-z0-9_]+]]: tensor<?x2xi32>, %[[FREQS:[a-z0-9_]+]]: tensor<?x64xf32>)
// CHECK: %[[R:[a-z0-9_]+]] = dsv4.rope %[[KV]][%[[ITEMS]]], %[[FREQS]] {rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
// CHECK: return %[[R]]
func.func @rope_f32(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>, %freqs: tensor<?x64xf32>) -> tensor<?x512xf32> {
  %0 = dsv4.rope %kv[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  return %0 : tensor<?x512xf32>
}

// rope_dim may be as small as 2 and as large as the head dim.
// CHECK-LABEL: func.func @rope_bf16_static
// CHECK: dsv4.rope %{{.*}}[%{{.*}}], %{{.*}} {rope_dim = 2 : i64} : tensor<8x128xbf16>, tensor<8x2xi32>, tensor<16x2xf32>
// CHECK: dsv4.rope %{{.*}}[%{{.*}}], %{{.*}} {rope_dim = 128 : i64} : tensor<8x128xbf16>, tensor<8x2xi32>, tensor<16x128xf32>
func.func @rope_bf16_static(%kv: tensor<8x128xbf16>, %items: tensor<8x2xi32>, %f2: tensor<16x2xf32>, %f128: tensor<16x128xf32>) -> tensor<8x128xbf16> {
  %0 = dsv4.rope %kv[%items], %f2 {rope_dim = 2 : i64}
      : tensor<8x128xbf16>, tensor<8x2xi32>, tensor<16x2xf32>
  %1 = dsv4.rope %0[%items], %f128 {rope_dim = 128 : i64}
      : tensor<8x128xbf16>, tensor<8x2xi32>, tensor<16x128xf32>
  return %1 : tensor<8x128xbf16>
}

// CHECK-LABEL: func.func @rope_f16
// CHECK: dsv4.rope %{{.*}}[%{{.*}}], %{{.*}} {rope_dim = 64 : i64} : tensor<?x256xf16>, tensor<?x2xi32>, tensor<?x64xf32>
func.func @rope_f16(%kv: tensor<?x256xf16>, %items: tensor<?x2xi32>, %freqs: tensor<?x64xf32>) -> tensor<?x256xf16> {
  %0 = dsv4.rope %kv[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x256xf16>, tensor<?x2xi32>, tensor<?x64xf32>
  return %0 : tensor<?x256xf16>
}

// CHECK-LABEL: func.func @hadamard_f32
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>, %[[ITEMS:[a-z0-9_]+]]: tensor<?x2xi32>)
// CHECK: %[[R:[a-z0-9_]+]] = dsv4.hadamard %[[KV]][%[[ITEMS]]] {scale = 0.0441941731 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
// CHECK: return %[[R]]
func.func @hadamard_f32(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.hadamard %kv[%items] {scale = 0.0441941738 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>
  return %0 : tensor<?x512xf32>
}

// A zero or negative scale is valid (only non-finite scales are rejected).
// CHECK-LABEL: func.func @hadamard_bf16_f16
// CHECK: dsv4.hadamard %{{.*}}[%{{.*}}] {scale = -1.000000e+00 : f32} : tensor<4x64xbf16>, tensor<?x2xi32>
// CHECK: dsv4.hadamard %{{.*}}[%{{.*}}] {scale = 0.000000e+00 : f32} : tensor<?x1024xf16>, tensor<2x2xi32>
func.func @hadamard_bf16_f16(%a: tensor<4x64xbf16>, %ia: tensor<?x2xi32>, %b: tensor<?x1024xf16>, %ib: tensor<2x2xi32>) -> (tensor<4x64xbf16>, tensor<?x1024xf16>) {
  %0 = dsv4.hadamard %a[%ia] {scale = -1.0 : f32} : tensor<4x64xbf16>, tensor<?x2xi32>
  %1 = dsv4.hadamard %b[%ib] {scale = 0.0 : f32} : tensor<?x1024xf16>, tensor<2x2xi32>
  return %0, %1 : tensor<4x64xbf16>, tensor<?x1024xf16>
}

// CHECK-LABEL: func.func @fused_decode_scale
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>, %[[W:[a-z0-9_]+]]: tensor<512xf32>, %[[FREQS:[a-z0-9_]+]]: tensor<?x64xf32>, %[[SEQ:[a-z0-9_]+]]: tensor<?xi32>)
// CHECK: %[[R:[a-z0-9_]+]] = dsv4.fused_epilogue decode %[[KV]], %[[W]], %[[FREQS]], %[[SEQ]] {eps = 9.99999997E-7 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0441941731 : f32} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
// CHECK: return %[[R]]
func.func @fused_decode_scale(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0441941738 : f32}
      : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// Without scale: norm + rope only; no scale attribute is printed.
// CHECK-LABEL: func.func @fused_decode_no_scale_bf16
// CHECK: dsv4.fused_epilogue decode %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {eps = 9.99999997E-7 : f32, ratio = 128 : i64, rope_dim = 64 : i64} : tensor<?x512xbf16>, tensor<512xbf16>, tensor<?x64xf32>, tensor<?xi32>
// CHECK-NOT: scale
// CHECK: return
func.func @fused_decode_no_scale_bf16(%kv: tensor<?x512xbf16>, %weight: tensor<512xbf16>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x512xbf16> {
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 128 : i64, rope_dim = 64 : i64}
      : tensor<?x512xbf16>, tensor<512xbf16>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xbf16>
}

// CHECK-LABEL: func.func @fused_prefill_scale_static
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<64x128xf16>, %[[W:[a-z0-9_]+]]: tensor<128xf32>, %[[FREQS:[a-z0-9_]+]]: tensor<256x32xf32>, %[[PLAN:[a-z0-9_]+]]: tensor<8x4xi32>)
// CHECK: dsv4.fused_epilogue prefill %[[KV]], %[[W]], %[[FREQS]], %[[PLAN]] {eps = 9.99999997E-7 : f32, ratio = 4 : i64, rope_dim = 32 : i64, scale = 0.0883883461 : f32} : tensor<64x128xf16>, tensor<128xf32>, tensor<256x32xf32>, tensor<8x4xi32>
func.func @fused_prefill_scale_static(%kv: tensor<64x128xf16>, %weight: tensor<128xf32>, %freqs: tensor<256x32xf32>, %plan: tensor<8x4xi32>) -> tensor<64x128xf16> {
  %0 = dsv4.fused_epilogue prefill %kv, %weight, %freqs, %plan
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 32 : i64, scale = 0.0883883476 : f32}
      : tensor<64x128xf16>, tensor<128xf32>, tensor<256x32xf32>, tensor<8x4xi32>
  return %0 : tensor<64x128xf16>
}

// CHECK-LABEL: func.func @fused_prefill_no_scale
// CHECK: dsv4.fused_epilogue prefill %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {eps = 9.99999997E-7 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xbf16>, tensor<?x64xf32>, tensor<?x4xi32>
// CHECK-NOT: scale
// CHECK: return
func.func @fused_prefill_no_scale(%kv: tensor<?x512xf32>, %weight: tensor<512xbf16>, %freqs: tensor<?x64xf32>, %plan: tensor<?x4xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue prefill %kv, %weight, %freqs, %plan
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<512xbf16>, tensor<?x64xf32>, tensor<?x4xi32>
  return %0 : tensor<?x512xf32>
}

// CHECK-LABEL: func.func @quantize_both_formats
// CHECK: %{{.+}}, %{{.+}} = dsv4.quantize f32 %{{.+}} {block = 128 : i64} : tensor<?x128xf32> -> tensor<?x128xf8E4M3FN>, tensor<?x1xf32>
// CHECK: %{{.+}}, %{{.+}} = dsv4.quantize ue8m0 %{{.+}} {block = 64 : i64} : tensor<8x512xf32> -> tensor<8x448xf8E4M3FNUZ>, tensor<8x7xi8>
func.func @quantize_both_formats(%a: tensor<?x128xf32>, %b: tensor<8x512xf32>) {
  %q0, %s0 = dsv4.quantize f32 %a {block = 128 : i64} : tensor<?x128xf32> -> tensor<?x128xf8E4M3FN>, tensor<?x1xf32>
  %q1, %s1 = dsv4.quantize ue8m0 %b {block = 64 : i64} : tensor<8x512xf32> -> tensor<8x448xf8E4M3FNUZ>, tensor<8x7xi8>
  return
}

// CHECK-LABEL: func.func @quantize_mx_e2m1
// CHECK: %{{.+}}, %{{.+}} = dsv4.quantize mx %{{.+}} {block = 32 : i64} : tensor<?x128xf32> -> tensor<?x128xf4E2M1FN>, tensor<?x4xi8>
func.func @quantize_mx_e2m1(%a: tensor<?x128xf32>) {
  %q, %s = dsv4.quantize mx %a {block = 32 : i64} : tensor<?x128xf32> -> tensor<?x128xf4E2M1FN>, tensor<?x4xi8>
  return
}

// CHECK-LABEL: func.func @paged_store_mxfp4
// CHECK: dsv4.paged_store decode indexer_mxfp4 %{{.+}}, %{{.+}}, %{{.+}} into %{{.+}}[%{{.+}}] items %{{.+}}, %{{.+}} {page_size = 16 : i64, ratio = 4 : i64} : tensor<?x128xf4E2M1FN>, tensor<?x4xi8>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
func.func @paged_store_mxfp4(%q: tensor<?x128xf4E2M1FN>, %s: tensor<?x4xi8>, %r: tensor<?x128xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %h: tensor<?xi32>) -> tensor<?xi8> {
  %0 = dsv4.paged_store decode indexer_mxfp4 %q, %s, %r into %c[%o] items %i, %h {page_size = 16 : i64, ratio = 4 : i64} : tensor<?x128xf4E2M1FN>, tensor<?x4xi8>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return %0 : tensor<?xi8>
}

// An e2m1 layout has no FP8 type.
// CHECK-LABEL: func.func @fused_store_mxfp4
// CHECK: dsv4.fused_store prefill indexer_mxfp4 %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} into %{{.+}}[%{{.+}}] {eps = 9.99999997E-7 : f32, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?x4xi32>, tensor<?xi8>, tensor<?xi64>
func.func @fused_store_mxfp4(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?x4xi32>, %c: tensor<?xi8>, %o: tensor<?xi64>) -> tensor<?xi8> {
  %0 = dsv4.fused_store prefill indexer_mxfp4 %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?x4xi32>, tensor<?xi8>, tensor<?xi64>
  return %0 : tensor<?xi8>
}

// The largest page size (include/dsv4/ABI/Limits.h).
// CHECK-LABEL: func.func @paged_store_prefill_main
// CHECK: dsv4.paged_store prefill main %{{.+}}, %{{.+}}, %{{.+}} into %{{.+}}[%{{.+}}] items %{{.+}}, %{{.+}} {page_size = 1048576 : i64, ratio = 128 : i64} : tensor<?x448xf8E4M3FN>, tensor<?x7xi8>, tensor<?x512xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?x4xi32>
func.func @paged_store_prefill_main(%q: tensor<?x448xf8E4M3FN>, %s: tensor<?x7xi8>, %r: tensor<?x512xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>, %i: tensor<?x2xi32>, %p: tensor<?x4xi32>) -> tensor<?xi8> {
  %0 = dsv4.paged_store prefill main %q, %s, %r into %c[%o] items %i, %p {page_size = 1048576 : i64, ratio = 128 : i64} : tensor<?x448xf8E4M3FN>, tensor<?x7xi8>, tensor<?x512xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?x4xi32>
  return %0 : tensor<?xi8>
}

// CHECK-LABEL: func.func @fused_store_decode_indexer
// CHECK: dsv4.fused_store decode indexer %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} into %{{.+}}[%{{.+}}] {eps = 9.99999997E-7 : f32, fp8_type = f8E4M3FNUZ, page_size = 1 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<1056xi8>, tensor<?xi64>
func.func @fused_store_decode_indexer(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>, %c: tensor<1056xi8>, %o: tensor<?xi64>) -> tensor<1056xi8> {
  %0 = dsv4.fused_store decode indexer %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FNUZ, page_size = 1 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<1056xi8>, tensor<?xi64>
  return %0 : tensor<1056xi8>
}

// The compress step in front: the pooling alone (ratio 4 overlaps its windows, ratio 128 does
// not) and fused with the epilogue, quantization and store.
// CHECK-LABEL: func.func @compress_pool_overlap
// CHECK: %{{.+}}, %{{.+}} = dsv4.compress_pool %{{.+}}[%{{.+}}], %{{.+}}, %{{.+}} {overlap, ratio = 4 : i64} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
func.func @compress_pool_overlap(%state: tensor<?x64x512xf32>, %table: tensor<?x?xi32>, %req: tensor<?xi32>, %pos: tensor<?xi64>) -> (tensor<?x128xf32>, tensor<?x4xi32>) {
  %rows, %plan = dsv4.compress_pool %state[%table], %req, %pos {overlap, ratio = 4 : i64} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  return %rows, %plan : tensor<?x128xf32>, tensor<?x4xi32>
}

// CHECK-LABEL: func.func @compress_pool_ratio128
// CHECK: dsv4.compress_pool %{{.+}}[%{{.+}}], %{{.+}}, %{{.+}} {ratio = 128 : i64} : tensor<8x1x1024xf32>, tensor<2x8xi32>, tensor<5xi32>, tensor<5xi64> -> tensor<5x512xf32>, tensor<5x4xi32>
func.func @compress_pool_ratio128(%state: tensor<8x1x1024xf32>, %table: tensor<2x8xi32>, %req: tensor<5xi32>, %pos: tensor<5xi64>) -> (tensor<5x512xf32>, tensor<5x4xi32>) {
  %rows, %plan = dsv4.compress_pool %state[%table], %req, %pos {ratio = 128 : i64} : tensor<8x1x1024xf32>, tensor<2x8xi32>, tensor<5xi32>, tensor<5xi64> -> tensor<5x512xf32>, tensor<5x4xi32>
  return %rows, %plan : tensor<5x512xf32>, tensor<5x4xi32>
}

// CHECK-LABEL: func.func @fused_compress_store_indexer
// CHECK: dsv4.fused_compress_store indexer %{{.+}}[%{{.+}}], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} into %{{.+}}[%{{.+}}] {eps = 9.99999997E-7 : f32, fp8_type = f8E4M3FN, overlap, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
func.func @fused_compress_store_indexer(%state: tensor<?x64x512xf32>, %table: tensor<?x?xi32>, %req: tensor<?xi32>, %pos: tensor<?xi64>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) -> tensor<?xi8> {
  %0 = dsv4.fused_compress_store indexer %state[%table], %req, %pos, %w, %f into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, overlap, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
  return %0 : tensor<?xi8>
}

// CHECK-LABEL: func.func @fused_compress_store_main
// CHECK: dsv4.fused_compress_store main %{{.+}}[%{{.+}}], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} into %{{.+}}[%{{.+}}] {eps = 9.99999997E-7 : f32, fp8_type = f8E4M3FNUZ, page_size = 64 : i64, ratio = 128 : i64, rope_dim = 64 : i64} : tensor<?x64x1024xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
func.func @fused_compress_store_main(%state: tensor<?x64x1024xf32>, %table: tensor<?x?xi32>, %req: tensor<?xi32>, %pos: tensor<?xi64>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) -> tensor<?xi8> {
  %0 = dsv4.fused_compress_store main %state[%table], %req, %pos, %w, %f into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FNUZ, page_size = 64 : i64, ratio = 128 : i64, rope_dim = 64 : i64} : tensor<?x64x1024xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
  return %0 : tensor<?xi8>
}

// A store of i32 slots (earlier sglang's int32 out_loc): the spec says out_loc_type = i32.
// CHECK-LABEL: func @fused_store_i32_slots
// CHECK: dsv4.fused_store sglang_extend main {{.*}} tensor<?xi8>, tensor<?xi32>
func.func @fused_store_i32_slots(%kv: tensor<?x512xf32>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %p: tensor<?x4xi32>, %c: tensor<?xi8>, %o: tensor<?xi32>) -> tensor<?xi8> {
  %0 = dsv4.fused_store sglang_extend main %kv, %w, %f, %p into %c[%o] {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, page_size = 64 : i64, fp8_type = f8E4M3FN} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?x4xi32>, tensor<?xi8>, tensor<?xi32>
  return %0 : tensor<?xi8>
}
