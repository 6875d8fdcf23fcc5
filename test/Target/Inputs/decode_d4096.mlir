// D=4096 (the largest head dim) at default options: its workgroup memory must fit sm_90.
func.func @dsv4_decode_r4_d4096_r64_f32(%kv: tensor<?x4096xf32>, %weight: tensor<4096xf32>,
    %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x4096xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.015625 : f32}
      : tensor<?x4096xf32>, tensor<4096xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x4096xf32>
}
