// The DeepSeek-V4 compressor epilogues (D=512, R=64, f32 kv and weight, eps 1e-6), written
// unfused: `dsv4-opt --dsv4-compile` fuses each chain into one kernel. Ratio 4 rotates
// (norm + rope + hadamard); the ratio-128 compressor does not (norm + rope).
func.func @dsv4_decode_r4_d512_r64_f32(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>,
    %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>
  return %2 : tensor<?x512xf32>
}

func.func @dsv4_prefill_r4_d512_r64_f32(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>,
    %freqs: tensor<?x64xf32>, %plan: tensor<?x4xi32>) -> tensor<?x512xf32> {
  %items = dsv4.prefill_items %plan, %freqs {ratio = 4 : i64}
      : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>
  return %2 : tensor<?x512xf32>
}

func.func @dsv4_decode_r128_norot_d512_r64_f32(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>,
    %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 128 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  return %1 : tensor<?x512xf32>
}

func.func @dsv4_prefill_r128_norot_d512_r64_f32(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>,
    %freqs: tensor<?x64xf32>, %plan: tensor<?x4xi32>) -> tensor<?x512xf32> {
  %items = dsv4.prefill_items %plan, %freqs {ratio = 128 : i64}
      : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  return %1 : tensor<?x512xf32>
}
