// dsv4-fuse: rms_norm -> rope (-> hadamard) over items of an items op becomes one
// dsv4.fused_epilogue; every chain the pass must not touch stays as it is.
// Running the pass twice (in one pipeline, or on its own output) changes nothing more.
// RUN: dsv4-opt %s -split-input-file --dsv4-fuse | FileCheck %s
// RUN: dsv4-opt %s -split-input-file --dsv4-fuse --dsv4-fuse | FileCheck %s
// RUN: dsv4-opt %s -split-input-file --dsv4-fuse | dsv4-opt -split-input-file --dsv4-fuse | FileCheck %s

// The decode chain: operands in the fused op's order (kv, weight, freqs, seq_lens), eps from
// the norm, ratio from the items op, rope_dim from the rope, scale from the hadamard.
// CHECK-LABEL: func.func @decode_chain
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>, %[[W:[a-z0-9_]+]]: tensor<512xf32>, %[[F:[a-z0-9_]+]]: tensor<?x64xf32>, %[[S:[a-z0-9_]+]]: tensor<?xi32>)
// CHECK-NOT: dsv4.decode_items
// CHECK-NOT: dsv4.rms_norm
// CHECK-NOT: dsv4.rope
// CHECK-NOT: dsv4.hadamard
// CHECK: %[[R:.+]] = dsv4.fused_epilogue decode %[[KV]], %[[W]], %[[F]], %[[S]] {eps = 9.99999974E-6 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0441941731 : f32} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
// CHECK-NOT: dsv4.
// CHECK: return %[[R]]
func.func @decode_chain(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-05 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>
  return %2 : tensor<?x512xf32>
}

// -----

// sglang's plan kinds fuse like the others: the fused op carries the source.
// CHECK-LABEL: func.func @sglang_chains
// CHECK-NOT: dsv4.sglang_decode_items
// CHECK: %[[D:.+]] = dsv4.fused_epilogue sglang_decode %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {eps = 9.99999997E-7 : f32, ratio = 4 : i64, rope_dim = 32 : i64, scale = 6.250000e-02 : f32}
// CHECK-NOT: dsv4.sglang_extend_items
// CHECK: dsv4.fused_epilogue sglang_extend %[[D]], %{{.+}}, %{{.+}}, %{{.+}} {eps = 9.99999997E-7 : f32, ratio = 4 : i64, rope_dim = 32 : i64}
// CHECK-NOT: dsv4.rms_norm
func.func @sglang_chains(%kv: tensor<64x256xf32>, %weight: tensor<256xf32>, %freqs: tensor<1024x32xf32>, %dplan: tensor<8x4xi32>, %eplan: tensor<8x4xi32>) -> tensor<64x256xf32> {
  %d = dsv4.sglang_decode_items %dplan, %freqs {ratio = 4 : i64}
      : tensor<8x4xi32>, tensor<1024x32xf32> -> tensor<8x2xi32>
  %0 = dsv4.rms_norm %kv[%d], %weight {eps = 1.0e-06 : f32}
      : tensor<64x256xf32>, tensor<8x2xi32>, tensor<256xf32>
  %1 = dsv4.rope %0[%d], %freqs {rope_dim = 32 : i64}
      : tensor<64x256xf32>, tensor<8x2xi32>, tensor<1024x32xf32>
  %2 = dsv4.hadamard %1[%d] {scale = 0.0625 : f32}
      : tensor<64x256xf32>, tensor<8x2xi32>
  %e = dsv4.sglang_extend_items %eplan, %freqs {ratio = 4 : i64}
      : tensor<8x4xi32>, tensor<1024x32xf32> -> tensor<8x2xi32>
  %3 = dsv4.rms_norm %2[%e], %weight {eps = 1.0e-06 : f32}
      : tensor<64x256xf32>, tensor<8x2xi32>, tensor<256xf32>
  %4 = dsv4.rope %3[%e], %freqs {rope_dim = 32 : i64}
      : tensor<64x256xf32>, tensor<8x2xi32>, tensor<1024x32xf32>
  return %4 : tensor<64x256xf32>
}

// -----

// CHECK-LABEL: func.func @prefill_chain
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<64x256xf32>, %[[W:[a-z0-9_]+]]: tensor<256xf32>, %[[F:[a-z0-9_]+]]: tensor<1024x32xf32>, %[[P:[a-z0-9_]+]]: tensor<8x4xi32>)
// CHECK-NOT: dsv4.prefill_items
// CHECK-NOT: dsv4.rms_norm
// CHECK: %[[R:.+]] = dsv4.fused_epilogue prefill %[[KV]], %[[W]], %[[F]], %[[P]] {eps = 9.99999997E-7 : f32, ratio = 128 : i64, rope_dim = 32 : i64, scale = 6.250000e-02 : f32} : tensor<64x256xf32>, tensor<256xf32>, tensor<1024x32xf32>, tensor<8x4xi32>
// CHECK-NOT: dsv4.
// CHECK: return %[[R]]
func.func @prefill_chain(%kv: tensor<64x256xf32>, %weight: tensor<256xf32>, %freqs: tensor<1024x32xf32>, %plan: tensor<8x4xi32>) -> tensor<64x256xf32> {
  %items = dsv4.prefill_items %plan, %freqs {ratio = 128 : i64}
      : tensor<8x4xi32>, tensor<1024x32xf32> -> tensor<8x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<64x256xf32>, tensor<8x2xi32>, tensor<256xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 32 : i64}
      : tensor<64x256xf32>, tensor<8x2xi32>, tensor<1024x32xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0625 : f32}
      : tensor<64x256xf32>, tensor<8x2xi32>
  return %2 : tensor<64x256xf32>
}

// -----

// norm -> rope only: the fused op carries no scale.
// CHECK-LABEL: func.func @norm_rope_only
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>, %[[W:[a-z0-9_]+]]: tensor<512xf32>, %[[F:[a-z0-9_]+]]: tensor<?x64xf32>, %[[S:[a-z0-9_]+]]: tensor<?xi32>)
// CHECK: %[[R:.+]] = dsv4.fused_epilogue decode %[[KV]], %[[W]], %[[F]], %[[S]] {eps = 9.99999997E-7 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
// CHECK-NOT: scale
// CHECK-NOT: dsv4.
// CHECK: return %[[R]]
func.func @norm_rope_only(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  return %1 : tensor<?x512xf32>
}

// -----

// bf16 kv and bf16 weight: fuses, the types are kept.
// CHECK-LABEL: func.func @bf16_chain
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xbf16>, %[[W:[a-z0-9_]+]]: tensor<512xbf16>, %[[F:[a-z0-9_]+]]: tensor<?x64xf32>, %[[S:[a-z0-9_]+]]: tensor<?xi32>)
// CHECK: %[[R:.+]] = dsv4.fused_epilogue decode %[[KV]], %[[W]], %[[F]], %[[S]] {eps = 9.99999997E-7 : f32, ratio = 128 : i64, rope_dim = 64 : i64, scale = 0.0441941731 : f32} : tensor<?x512xbf16>, tensor<512xbf16>, tensor<?x64xf32>, tensor<?xi32>
// CHECK-NOT: dsv4.
// CHECK: return %[[R]] : tensor<?x512xbf16>
func.func @bf16_chain(%kv: tensor<?x512xbf16>, %weight: tensor<512xbf16>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x512xbf16> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 128 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xbf16>, tensor<?x2xi32>, tensor<512xbf16>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xbf16>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32}
      : tensor<?x512xbf16>, tensor<?x2xi32>
  return %2 : tensor<?x512xbf16>
}

// -----

// f16 kv, prefill, no hadamard.
// CHECK-LABEL: func.func @f16_prefill_norm_rope
// CHECK: dsv4.fused_epilogue prefill %{{.+}} {eps = 9.99999997E-7 : f32, ratio = 4 : i64, rope_dim = 64 : i64} : tensor<?x128xf16>, tensor<128xf32>, tensor<?x64xf32>, tensor<?x4xi32>
// CHECK-NOT: dsv4.
// CHECK: return
func.func @f16_prefill_norm_rope(%kv: tensor<?x128xf16>, %weight: tensor<128xf32>, %freqs: tensor<?x64xf32>, %plan: tensor<?x4xi32>) -> tensor<?x128xf16> {
  %items = dsv4.prefill_items %plan, %freqs {ratio = 4 : i64}
      : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x128xf16>, tensor<?x2xi32>, tensor<128xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x128xf16>, tensor<?x2xi32>, tensor<?x64xf32>
  return %1 : tensor<?x128xf16>
}

// -----

// Two chains back to back: each fuses, the second reads the first's result.
// CHECK-LABEL: func.func @two_chains
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>, %[[W:[a-z0-9_]+]]: tensor<512xf32>, %[[F:[a-z0-9_]+]]: tensor<?x64xf32>, %[[S:[a-z0-9_]+]]: tensor<?xi32>)
// CHECK: %[[A:.+]] = dsv4.fused_epilogue decode %[[KV]], %[[W]], %[[F]], %[[S]] {eps = 9.99999997E-7 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0441941731 : f32}
// CHECK: %[[B:.+]] = dsv4.fused_epilogue decode %[[A]], %[[W]], %[[F]], %[[S]] {eps = 9.99999997E-7 : f32, ratio = 4 : i64, rope_dim = 64 : i64}
// CHECK-NOT: dsv4.
// CHECK: return %[[B]]
func.func @two_chains(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>
  %3 = dsv4.rms_norm %2[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %4 = dsv4.rope %3[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  return %4 : tensor<?x512xf32>
}

// -----

// The norm's result is also returned: fusing would recompute it, so nothing fuses.
// CHECK-LABEL: func.func @norm_has_other_user
// CHECK-NOT: dsv4.fused_epilogue
// CHECK: %[[I:.+]] = dsv4.decode_items
// CHECK: %[[N:.+]] = dsv4.rms_norm %{{.+}}[%[[I]]]
// CHECK: %[[R:.+]] = dsv4.rope %[[N]][%[[I]]]
// CHECK: %[[H:.+]] = dsv4.hadamard %[[R]][%[[I]]]
// CHECK-NOT: dsv4.fused_epilogue
// CHECK: return %[[H]], %[[N]]
func.func @norm_has_other_user(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> (tensor<?x512xf32>, tensor<?x512xf32>) {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>
  return %2, %0 : tensor<?x512xf32>, tensor<?x512xf32>
}

// -----

// The rope's result is also returned: norm + rope fuse (no scale), the hadamard stays and
// reads the fused result, which is returned too.
// CHECK-LABEL: func.func @rope_has_other_user
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>, %[[W:[a-z0-9_]+]]: tensor<512xf32>, %[[F:[a-z0-9_]+]]: tensor<?x64xf32>, %[[S:[a-z0-9_]+]]: tensor<?xi32>)
// CHECK: %[[I:.+]] = dsv4.decode_items %[[S]], %[[F]] {ratio = 4 : i64}
// CHECK-NOT: dsv4.rms_norm
// CHECK-NOT: dsv4.rope
// CHECK: %[[FU:.+]] = dsv4.fused_epilogue decode %[[KV]], %[[W]], %[[F]], %[[S]] {eps = 9.99999997E-7 : f32, ratio = 4 : i64, rope_dim = 64 : i64} :
// CHECK: %[[H:.+]] = dsv4.hadamard %[[FU]][%[[I]]] {scale = 0.0441941731 : f32}
// CHECK: return %[[H]], %[[FU]]
func.func @rope_has_other_user(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> (tensor<?x512xf32>, tensor<?x512xf32>) {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>
  return %2, %1 : tensor<?x512xf32>, tensor<?x512xf32>
}

// -----

// The hadamard names other items than the rope: norm + rope fuse, the hadamard stays.
// CHECK-LABEL: func.func @hadamard_different_items
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>, %[[W:[a-z0-9_]+]]: tensor<512xf32>, %[[F:[a-z0-9_]+]]: tensor<?x64xf32>, %[[S:[a-z0-9_]+]]: tensor<?xi32>, %[[OTHER:[a-z0-9_]+]]: tensor<?x2xi32>)
// CHECK: %[[FU:.+]] = dsv4.fused_epilogue decode %[[KV]], %[[W]], %[[F]], %[[S]] {eps = 9.99999997E-7 : f32, ratio = 4 : i64, rope_dim = 64 : i64} :
// CHECK: %[[H:.+]] = dsv4.hadamard %[[FU]][%[[OTHER]]] {scale = 0.0441941731 : f32}
// CHECK: return %[[H]]
func.func @hadamard_different_items(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>, %other: tensor<?x2xi32>) -> tensor<?x512xf32> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%other] {scale = 0.0441941738 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>
  return %2 : tensor<?x512xf32>
}

// -----

// The rope sits inside an scf.if, the norm outside: different blocks, nothing fuses.
// CHECK-LABEL: func.func @rope_in_other_block
// CHECK-NOT: dsv4.fused_epilogue
// CHECK: %[[N:.+]] = dsv4.rms_norm
// CHECK: scf.if
// CHECK: %[[R:.+]] = dsv4.rope %[[N]]
// CHECK: dsv4.hadamard %[[R]]
// CHECK-NOT: dsv4.fused_epilogue
// CHECK: return
func.func @rope_in_other_block(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>, %cond: i1) -> tensor<?x512xf32> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %r = scf.if %cond -> tensor<?x512xf32> {
    %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
        : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
    %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32}
        : tensor<?x512xf32>, tensor<?x2xi32>
    scf.yield %2 : tensor<?x512xf32>
  } else {
    scf.yield %kv : tensor<?x512xf32>
  }
  return %r : tensor<?x512xf32>
}

// -----

// The hadamard sits inside an scf.if, norm and rope outside: norm + rope fuse (no scale), the
// hadamard stays in its region.
// CHECK-LABEL: func.func @hadamard_in_other_block
// CHECK: %[[FU:.+]] = dsv4.fused_epilogue decode %{{.+}} {eps = 9.99999997E-7 : f32, ratio = 4 : i64, rope_dim = 64 : i64} :
// CHECK: scf.if
// CHECK: dsv4.hadamard %[[FU]]
// CHECK: scf.yield
func.func @hadamard_in_other_block(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>, %cond: i1) -> tensor<?x512xf32> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %r = scf.if %cond -> tensor<?x512xf32> {
    %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32}
        : tensor<?x512xf32>, tensor<?x2xi32>
    scf.yield %2 : tensor<?x512xf32>
  } else {
    scf.yield %1 : tensor<?x512xf32>
  }
  return %r : tensor<?x512xf32>
}

// -----

// The whole chain inside one scf.if block (items outside): it fuses there.
// CHECK-LABEL: func.func @chain_inside_region
// CHECK: scf.if
// CHECK: %[[FU:.+]] = dsv4.fused_epilogue decode %{{.+}} {eps = 9.99999997E-7 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0441941731 : f32} :
// CHECK: scf.yield %[[FU]]
func.func @chain_inside_region(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>, %cond: i1) -> tensor<?x512xf32> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %r = scf.if %cond -> tensor<?x512xf32> {
    %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
        : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
    %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
        : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
    %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32}
        : tensor<?x512xf32>, tensor<?x2xi32>
    scf.yield %2 : tensor<?x512xf32>
  } else {
    scf.yield %kv : tensor<?x512xf32>
  }
  return %r : tensor<?x512xf32>
}

// -----

// Norm and rope name different work items (two decode_items with different ratios).
// CHECK-LABEL: func.func @norm_rope_different_items
// CHECK-NOT: dsv4.fused_epilogue
// CHECK-DAG: %[[I4:.+]] = dsv4.decode_items %{{.+}} {ratio = 4 : i64}
// CHECK-DAG: %[[I8:.+]] = dsv4.decode_items %{{.+}} {ratio = 8 : i64}
// CHECK: %[[N:.+]] = dsv4.rms_norm %{{.+}}[%[[I4]]]
// CHECK: %[[R:.+]] = dsv4.rope %[[N]][%[[I8]]]
// CHECK: dsv4.hadamard %[[R]][%[[I8]]]
// CHECK-NOT: dsv4.fused_epilogue
// CHECK: return
func.func @norm_rope_different_items(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %i4 = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %i8 = dsv4.decode_items %seq_lens, %freqs {ratio = 8 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%i4], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%i8], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%i8] {scale = 0.0441941738 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>
  return %2 : tensor<?x512xf32>
}

// -----

// Items passed in as an argument: the position source is unknown, nothing fuses.
// CHECK-LABEL: func.func @items_from_argument
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>, %[[W:[a-z0-9_]+]]: tensor<512xf32>, %[[F:[a-z0-9_]+]]: tensor<?x64xf32>, %[[I:[a-z0-9_]+]]: tensor<?x2xi32>)
// CHECK-NOT: dsv4.fused_epilogue
// CHECK: %[[N:.+]] = dsv4.rms_norm %[[KV]][%[[I]]], %[[W]]
// CHECK: %[[R:.+]] = dsv4.rope %[[N]][%[[I]]], %[[F]]
// CHECK: %[[H:.+]] = dsv4.hadamard %[[R]][%[[I]]]
// CHECK-NOT: dsv4.fused_epilogue
// CHECK: return %[[H]]
func.func @items_from_argument(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>, %items: tensor<?x2xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>
  return %2 : tensor<?x512xf32>
}

// -----

// The items op reads another freqs table than the rope: positions would be checked against
// the wrong table, nothing fuses (decode and prefill alike).
// CHECK-LABEL: func.func @items_over_other_freqs
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x512xf32>, %[[W:[a-z0-9_]+]]: tensor<512xf32>, %[[F:[a-z0-9_]+]]: tensor<?x64xf32>, %[[G:[a-z0-9_]+]]: tensor<?x64xf32>, %[[S:[a-z0-9_]+]]: tensor<?xi32>, %[[P:[a-z0-9_]+]]: tensor<?x4xi32>)
// CHECK-NOT: dsv4.fused_epilogue
// CHECK: %[[I:.+]] = dsv4.decode_items %[[S]], %[[G]]
// CHECK: %[[N:.+]] = dsv4.rms_norm %[[KV]][%[[I]]]
// CHECK: %[[R:.+]] = dsv4.rope %[[N]][%[[I]]], %[[F]]
// CHECK: %[[J:.+]] = dsv4.prefill_items %[[P]], %[[G]]
// CHECK: %[[N2:.+]] = dsv4.rms_norm %[[R]][%[[J]]]
// CHECK: %[[R2:.+]] = dsv4.rope %[[N2]][%[[J]]], %[[F]]
// CHECK-NOT: dsv4.fused_epilogue
// CHECK: return %[[R2]]
func.func @items_over_other_freqs(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>, %other: tensor<?x64xf32>, %seq_lens: tensor<?xi32>, %plan: tensor<?x4xi32>) -> tensor<?x512xf32> {
  %items = dsv4.decode_items %seq_lens, %other {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %pitems = dsv4.prefill_items %plan, %other {ratio = 4 : i64}
      : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %2 = dsv4.rms_norm %1[%pitems], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %3 = dsv4.rope %2[%pitems], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  return %3 : tensor<?x512xf32>
}

// -----

// An arith.extf between norm (bf16) and rope (f32): the rope's input is not an rms_norm and
// the element types differ, so nothing fuses.
// CHECK-LABEL: func.func @extf_between_norm_and_rope
// CHECK-NOT: dsv4.fused_epilogue
// CHECK: %[[N:.+]] = dsv4.rms_norm %{{.+}} : tensor<?x512xbf16>, tensor<?x2xi32>, tensor<512xbf16>
// CHECK: %[[E:.+]] = arith.extf %[[N]] : tensor<?x512xbf16> to tensor<?x512xf32>
// CHECK: %[[R:.+]] = dsv4.rope %[[E]]
// CHECK: dsv4.hadamard %[[R]]
// CHECK-NOT: dsv4.fused_epilogue
// CHECK: return
func.func @extf_between_norm_and_rope(%kv: tensor<?x512xbf16>, %weight: tensor<512xbf16>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xbf16>, tensor<?x2xi32>, tensor<512xbf16>
  %e = arith.extf %0 : tensor<?x512xbf16> to tensor<?x512xf32>
  %1 = dsv4.rope %e[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>
  return %2 : tensor<?x512xf32>
}

// -----

// A rope with no norm before it, and a lone hadamard: nothing to fuse.
// CHECK-LABEL: func.func @rope_without_norm
// CHECK-NOT: dsv4.fused_epilogue
// CHECK: dsv4.rope
// CHECK: dsv4.hadamard
// CHECK-NOT: dsv4.fused_epilogue
// CHECK: return
func.func @rope_without_norm(%kv: tensor<?x512xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %1 = dsv4.rope %kv[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>
  return %2 : tensor<?x512xf32>
}

// -----

// The indexer chain down to the paged store: one fused_store with the layout and page size of
// the store, the FP8 type of the quantize; the items op, the epilogue and the quantize go.
// CHECK-LABEL: func.func @indexer_store_chain
// CHECK-SAME: (%[[KV:[a-z0-9_]+]]: tensor<?x128xf32>, %[[W:[a-z0-9_]+]]: tensor<128xf32>, %[[F:[a-z0-9_]+]]: tensor<?x64xf32>, %[[S:[a-z0-9_]+]]: tensor<?xi32>, %[[C:[a-z0-9_]+]]: tensor<?xi8>, %[[O:[a-z0-9_]+]]: tensor<?xi64>)
// CHECK-NEXT: %[[R:.+]] = dsv4.fused_store decode indexer %[[KV]], %[[W]], %[[F]], %[[S]] into %[[C]][%[[O]]] {eps = 9.99999997E-7 : f32, fp8_type = f8E4M3FN, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
// CHECK-NEXT: return %[[R]]
func.func @indexer_store_chain(%kv: tensor<?x128xf32>, %weight: tensor<128xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>, %cache: tensor<?xi8>, %out_loc: tensor<?xi64>) -> tensor<?xi8> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<128xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0883883461 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>
  %q, %s = dsv4.quantize f32 %2 {block = 128 : i64}
      : tensor<?x128xf32> -> tensor<?x128xf8E4M3FN>, tensor<?x1xf32>
  %3 = dsv4.paged_store decode indexer %q, %s, %2 into %cache[%out_loc] items %items, %seq_lens
      {page_size = 64 : i64, ratio = 4 : i64}
      : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return %3 : tensor<?xi8>
}

// -----

// The main chain of a prefill (no rotation), fnuz: the FP8 type comes from the quantize.
// CHECK-LABEL: func.func @main_store_chain
// CHECK-NEXT: %[[R:.+]] = dsv4.fused_store prefill main %{{.+}} {eps = 9.99999997E-7 : f32, fp8_type = f8E4M3FNUZ, page_size = 1 : i64, ratio = 128 : i64, rope_dim = 64 : i64} : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?x4xi32>, tensor<?xi8>, tensor<?xi64>
// CHECK-NEXT: return %[[R]]
func.func @main_store_chain(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>, %plan: tensor<?x4xi32>, %cache: tensor<?xi8>, %out_loc: tensor<?xi64>) -> tensor<?xi8> {
  %items = dsv4.prefill_items %plan, %freqs {ratio = 128 : i64}
      : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %q, %s = dsv4.quantize ue8m0 %1 {block = 64 : i64}
      : tensor<?x512xf32> -> tensor<?x448xf8E4M3FNUZ>, tensor<?x7xi8>
  %2 = dsv4.paged_store prefill main %q, %s, %1 into %cache[%out_loc] items %items, %plan
      {page_size = 1 : i64, ratio = 128 : i64}
      : tensor<?x448xf8E4M3FNUZ>, tensor<?x7xi8>, tensor<?x512xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?x4xi32>
  return %2 : tensor<?xi8>
}

// -----

// The MXFP4 indexer chain: quantize mx (blocks of 32, e2m1) into the indexer_mxfp4 layout fuses
// into a fused_store without an FP8 type.
// CHECK-LABEL: func.func @mxfp4_store_chain
// CHECK-NEXT: %[[R:.+]] = dsv4.fused_store decode indexer_mxfp4 %{{.+}} {eps = 9.99999997E-7 : f32, page_size = 16 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
// CHECK-NEXT: return %[[R]]
func.func @mxfp4_store_chain(%kv: tensor<?x128xf32>, %weight: tensor<128xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>, %cache: tensor<?xi8>, %out_loc: tensor<?xi64>) -> tensor<?xi8> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<128xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0883883461 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>
  %q, %s = dsv4.quantize mx %2 {block = 32 : i64}
      : tensor<?x128xf32> -> tensor<?x128xf4E2M1FN>, tensor<?x4xi8>
  %3 = dsv4.paged_store decode indexer_mxfp4 %q, %s, %2 into %cache[%out_loc] items %items, %seq_lens
      {page_size = 16 : i64, ratio = 4 : i64}
      : tensor<?x128xf4E2M1FN>, tensor<?x4xi8>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return %3 : tensor<?xi8>
}

// -----

// A ue8m0 quantize (it rounds to bf16 first) feeding the indexer_mxfp4 layout, whose scales are
// mx (no bf16 rounding): a fused store would write other bytes, so the chain stays.
// CHECK-LABEL: func.func @quantize_not_the_layouts
// CHECK: dsv4.quantize ue8m0
// CHECK: dsv4.paged_store decode indexer_mxfp4
// CHECK-NOT: dsv4.fused_store
func.func @quantize_not_the_layouts(%kv: tensor<?x128xf32>, %weight: tensor<128xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>, %cache: tensor<?xi8>, %out_loc: tensor<?xi64>) -> tensor<?xi8> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<128xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %q, %s = dsv4.quantize ue8m0 %1 {block = 32 : i64}
      : tensor<?x128xf32> -> tensor<?x128xf4E2M1FN>, tensor<?x4xi8>
  %2 = dsv4.paged_store decode indexer_mxfp4 %q, %s, %1 into %cache[%out_loc] items %items, %seq_lens
      {page_size = 16 : i64, ratio = 4 : i64}
      : tensor<?x128xf4E2M1FN>, tensor<?x4xi8>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return %2 : tensor<?xi8>
}

// -----

// The finished rows are also returned: the in-place epilogue must stay, so the store does not
// fuse (the fused store would drop the kv write).
// CHECK-LABEL: func.func @rows_have_another_user
// CHECK: %[[E:.+]] = dsv4.fused_epilogue decode
// CHECK: dsv4.quantize f32 %[[E]]
// CHECK: dsv4.paged_store decode indexer
// CHECK-NOT: dsv4.fused_store
func.func @rows_have_another_user(%kv: tensor<?x128xf32>, %weight: tensor<128xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>, %cache: tensor<?xi8>, %out_loc: tensor<?xi64>) -> (tensor<?xi8>, tensor<?x128xf32>) {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<128xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %q, %s = dsv4.quantize f32 %1 {block = 128 : i64}
      : tensor<?x128xf32> -> tensor<?x128xf8E4M3FN>, tensor<?x1xf32>
  %2 = dsv4.paged_store decode indexer %q, %s, %1 into %cache[%out_loc] items %items, %seq_lens
      {page_size = 16 : i64, ratio = 4 : i64}
      : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return %2, %1 : tensor<?xi8>, tensor<?x128xf32>
}

// -----

// The store's items come from another handle: the epilogue fuses, the store does not.
// CHECK-LABEL: func.func @store_over_other_items
// CHECK: dsv4.fused_epilogue decode
// CHECK: dsv4.paged_store decode indexer
// CHECK-NOT: dsv4.fused_store
func.func @store_over_other_items(%kv: tensor<?x128xf32>, %weight: tensor<128xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>, %other: tensor<?xi32>, %cache: tensor<?xi8>, %out_loc: tensor<?xi64>) -> tensor<?xi8> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %other_items = dsv4.decode_items %other, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<128xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %q, %s = dsv4.quantize f32 %1 {block = 128 : i64}
      : tensor<?x128xf32> -> tensor<?x128xf8E4M3FN>, tensor<?x1xf32>
  %2 = dsv4.paged_store decode indexer %q, %s, %1 into %cache[%out_loc] items %other_items, %other
      {page_size = 16 : i64, ratio = 4 : i64}
      : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return %2 : tensor<?xi8>
}

// -----

// The scales are also returned: the quantize must stay, so nothing past the epilogue fuses.
// CHECK-LABEL: func.func @scales_have_another_user
// CHECK: dsv4.fused_epilogue decode
// CHECK: dsv4.quantize f32
// CHECK: dsv4.paged_store decode indexer
// CHECK-NOT: dsv4.fused_store
func.func @scales_have_another_user(%kv: tensor<?x128xf32>, %weight: tensor<128xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>, %cache: tensor<?xi8>, %out_loc: tensor<?xi64>) -> (tensor<?xi8>, tensor<?x1xf32>) {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<128xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %q, %s = dsv4.quantize f32 %1 {block = 128 : i64}
      : tensor<?x128xf32> -> tensor<?x128xf8E4M3FN>, tensor<?x1xf32>
  %2 = dsv4.paged_store decode indexer %q, %s, %1 into %cache[%out_loc] items %items, %seq_lens
      {page_size = 16 : i64, ratio = 4 : i64}
      : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
  return %2, %s : tensor<?xi8>, tensor<?x1xf32>
}

// -----

// The compress chain: compress_pool, then the epilogue and store over the prefill items of its
// plan, becomes one dsv4.fused_compress_store: the state, block table and items from the pool,
// ratio and overlap from it, the rest as for dsv4.fused_store.
// CHECK-LABEL: func.func @compress_chain
// CHECK-SAME: (%[[ST:[a-z0-9_]+]]: tensor<?x64x512xf32>, %[[BT:[a-z0-9_]+]]: tensor<?x?xi32>, %[[REQ:[a-z0-9_]+]]: tensor<?xi32>, %[[POS:[a-z0-9_]+]]: tensor<?xi64>, %[[W:[a-z0-9_]+]]: tensor<128xf32>, %[[F:[a-z0-9_]+]]: tensor<?x64xf32>, %[[C:[a-z0-9_]+]]: tensor<?xi8>, %[[O:[a-z0-9_]+]]: tensor<?xi64>)
// CHECK-NOT: dsv4.compress_pool
// CHECK-NOT: dsv4.prefill_items
// CHECK-NOT: dsv4.fused_store
// CHECK: %[[R:.+]] = dsv4.fused_compress_store indexer %[[ST]][%[[BT]]], %[[REQ]], %[[POS]], %[[W]], %[[F]] into %[[C]][%[[O]]] {{[{]}}eps = 9.99999997E-7 : f32, fp8_type = f8E4M3FN, overlap, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
// CHECK-NEXT: return %[[R]]
func.func @compress_chain(%state: tensor<?x64x512xf32>, %table: tensor<?x?xi32>, %req: tensor<?xi32>, %pos: tensor<?xi64>, %weight: tensor<128xf32>, %freqs: tensor<?x64xf32>, %cache: tensor<?xi8>, %out_loc: tensor<?xi64>) -> tensor<?xi8> {
  %rows, %plan = dsv4.compress_pool %state[%table], %req, %pos {overlap, ratio = 4 : i64}
      : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  %items = dsv4.prefill_items %plan, %freqs {ratio = 4 : i64}
      : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %rows[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<128xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<?x2xi32>
  %q, %s = dsv4.quantize f32 %2 {block = 128 : i64}
      : tensor<?x128xf32> -> tensor<?x128xf8E4M3FN>, tensor<?x1xf32>
  %3 = dsv4.paged_store prefill indexer %q, %s, %2 into %cache[%out_loc] items %items, %plan
      {page_size = 64 : i64, ratio = 4 : i64}
      : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?x4xi32>
  return %3 : tensor<?xi8>
}

// -----

// The plan's RoPE position uses another ratio than the pool's windows: the epilogue and store
// fuse, the pool stays.
// CHECK-LABEL: func.func @compress_chain_other_ratio
// CHECK: dsv4.compress_pool
// CHECK: dsv4.fused_store prefill indexer
// CHECK-NOT: dsv4.fused_compress_store
func.func @compress_chain_other_ratio(%state: tensor<?x64x512xf32>, %table: tensor<?x?xi32>, %req: tensor<?xi32>, %pos: tensor<?xi64>, %weight: tensor<128xf32>, %freqs: tensor<?x64xf32>, %cache: tensor<?xi8>, %out_loc: tensor<?xi64>) -> tensor<?xi8> {
  %rows, %plan = dsv4.compress_pool %state[%table], %req, %pos {overlap, ratio = 4 : i64}
      : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  %items = dsv4.prefill_items %plan, %freqs {ratio = 8 : i64}
      : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %rows[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<128xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<?x2xi32>
  %q, %s = dsv4.quantize f32 %2 {block = 128 : i64}
      : tensor<?x128xf32> -> tensor<?x128xf8E4M3FN>, tensor<?x1xf32>
  %3 = dsv4.paged_store prefill indexer %q, %s, %2 into %cache[%out_loc] items %items, %plan
      {page_size = 64 : i64, ratio = 8 : i64}
      : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?x4xi32>
  return %3 : tensor<?xi8>
}

// -----

// The pooled rows are also returned: the pool must stay.
// CHECK-LABEL: func.func @compress_rows_have_another_user
// CHECK: dsv4.compress_pool
// CHECK: dsv4.fused_store prefill indexer
// CHECK-NOT: dsv4.fused_compress_store
func.func @compress_rows_have_another_user(%state: tensor<?x64x512xf32>, %table: tensor<?x?xi32>, %req: tensor<?xi32>, %pos: tensor<?xi64>, %weight: tensor<128xf32>, %freqs: tensor<?x64xf32>, %cache: tensor<?xi8>, %out_loc: tensor<?xi64>) -> (tensor<?xi8>, tensor<?x128xf32>) {
  %rows, %plan = dsv4.compress_pool %state[%table], %req, %pos {overlap, ratio = 4 : i64}
      : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  %items = dsv4.prefill_items %plan, %freqs {ratio = 4 : i64}
      : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %rows[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<128xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<?x2xi32>
  %q, %s = dsv4.quantize f32 %2 {block = 128 : i64}
      : tensor<?x128xf32> -> tensor<?x128xf8E4M3FN>, tensor<?x1xf32>
  %3 = dsv4.paged_store prefill indexer %q, %s, %2 into %cache[%out_loc] items %items, %plan
      {page_size = 64 : i64, ratio = 4 : i64}
      : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?x4xi32>
  return %3, %rows : tensor<?xi8>, tensor<?x128xf32>
}

// -----

// The plan is also returned: the pool must stay.
// CHECK-LABEL: func.func @compress_plan_has_another_user
// CHECK: dsv4.compress_pool
// CHECK: dsv4.fused_store prefill indexer
// CHECK-NOT: dsv4.fused_compress_store
func.func @compress_plan_has_another_user(%state: tensor<?x64x512xf32>, %table: tensor<?x?xi32>, %req: tensor<?xi32>, %pos: tensor<?xi64>, %weight: tensor<128xf32>, %freqs: tensor<?x64xf32>, %cache: tensor<?xi8>, %out_loc: tensor<?xi64>) -> (tensor<?xi8>, tensor<?x4xi32>) {
  %rows, %plan = dsv4.compress_pool %state[%table], %req, %pos {overlap, ratio = 4 : i64}
      : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  %items = dsv4.prefill_items %plan, %freqs {ratio = 4 : i64}
      : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %rows[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<128xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<?x2xi32>
  %q, %s = dsv4.quantize f32 %2 {block = 128 : i64}
      : tensor<?x128xf32> -> tensor<?x128xf8E4M3FN>, tensor<?x1xf32>
  %3 = dsv4.paged_store prefill indexer %q, %s, %2 into %cache[%out_loc] items %items, %plan
      {page_size = 64 : i64, ratio = 4 : i64}
      : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>, tensor<?xi64>, tensor<?x2xi32>, tensor<?x4xi32>
  return %3, %plan : tensor<?xi8>, tensor<?x4xi32>
}
