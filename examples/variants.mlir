// Variants beyond the shipped configuration, compiled so the device proof covers them: bf16
// kv (16-byte runs of 8 values) and a small head dim (D=128, R=64).
func.func @dsv4_decode_r4_d512_r64_bf16(%kv: tensor<?x512xbf16>, %weight: tensor<512xf32>,
    %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x512xbf16> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xbf16>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xbf16>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32}
      : tensor<?x512xbf16>, tensor<?x2xi32>
  return %2 : tensor<?x512xbf16>
}

func.func @dsv4_prefill_r4_d512_r64_bf16(%kv: tensor<?x512xbf16>, %weight: tensor<512xf32>,
    %freqs: tensor<?x64xf32>, %plan: tensor<?x4xi32>) -> tensor<?x512xbf16> {
  %items = dsv4.prefill_items %plan, %freqs {ratio = 4 : i64}
      : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xbf16>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xbf16>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0441941738 : f32}
      : tensor<?x512xbf16>, tensor<?x2xi32>
  return %2 : tensor<?x512xbf16>
}

func.func @dsv4_decode_r128_norot_d512_r64_bf16(%kv: tensor<?x512xbf16>, %weight: tensor<512xf32>,
    %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x512xbf16> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 128 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x512xbf16>, tensor<?x2xi32>, tensor<512xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x512xbf16>, tensor<?x2xi32>, tensor<?x64xf32>
  return %1 : tensor<?x512xbf16>
}

func.func @dsv4_decode_r4_d128_r64_f32(%kv: tensor<?x128xf32>, %weight: tensor<128xf32>,
    %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x128xf32> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<128xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0883883476 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>
  return %2 : tensor<?x128xf32>
}

func.func @dsv4_prefill_r4_d128_r64_f32(%kv: tensor<?x128xf32>, %weight: tensor<128xf32>,
    %freqs: tensor<?x64xf32>, %plan: tensor<?x4xi32>) -> tensor<?x128xf32> {
  %items = dsv4.prefill_items %plan, %freqs {ratio = 4 : i64}
      : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<128xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x128xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0883883476 : f32}
      : tensor<?x128xf32>, tensor<?x2xi32>
  return %2 : tensor<?x128xf32>
}

func.func @dsv4_decode_r4_d128_r64_bf16(%kv: tensor<?x128xbf16>, %weight: tensor<128xf32>,
    %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x128xbf16> {
  %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
      : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %0 = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
      : tensor<?x128xbf16>, tensor<?x2xi32>, tensor<128xf32>
  %1 = dsv4.rope %0[%items], %freqs {rope_dim = 64 : i64}
      : tensor<?x128xbf16>, tensor<?x2xi32>, tensor<?x64xf32>
  %2 = dsv4.hadamard %1[%items] {scale = 0.0883883476 : f32}
      : tensor<?x128xbf16>, tensor<?x2xi32>
  return %2 : tensor<?x128xbf16>
}
