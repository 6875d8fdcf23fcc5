// The indexer store kernel in gfx942's FP8 type (f8E4M3FNUZ): store.test compiles it.
func.func @store_indexer(%kv: tensor<?x128xf32>, %weight: tensor<128xf32>, %freqs: tensor<?x64xf32>,
                         %seq_lens: tensor<?xi32>, %cache: tensor<?xi8>, %out_loc: tensor<?xi64>) -> tensor<?xi8> {
  %0 = dsv4.fused_store decode indexer %kv, %weight, %freqs, %seq_lens into %cache[%out_loc]
      {eps = 1.0e-06 : f32, fp8_type = f8E4M3FNUZ, page_size = 64 : i64, ratio = 4 : i64,
       rope_dim = 64 : i64, scale = 0.0883883461 : f32}
      : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return %0 : tensor<?xi8>
}
