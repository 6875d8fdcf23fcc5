// One kernel of a tiny examples/ for test/Scripts/run.test (dsv4-gen --head-dim=128).
func.func @dsv4_decode_r4_d128_r64_f32(%arg0: tensor<?x128xf32>, %arg1: tensor<128xf32>, %arg2: tensor<?x64xf32>, %arg3: tensor<?xi32>) -> tensor<?x128xf32> {
  %0 = dsv4.decode_items %arg3, %arg2 {ratio = 4 : i64} : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
  %1 = dsv4.rms_norm %arg0[%0], %arg1 {eps = 9.99999997E-7 : f32} : tensor<?x128xf32>, tensor<?x2xi32>, tensor<128xf32>
  %2 = dsv4.rope %1[%0], %arg2 {rope_dim = 64 : i64} : tensor<?x128xf32>, tensor<?x2xi32>, tensor<?x64xf32>
  %3 = dsv4.hadamard %2[%0] {scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<?x2xi32>
  return %3 : tensor<?x128xf32>
}
