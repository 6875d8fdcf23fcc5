// RUN: dsv4-opt %s --dsv4-plan-kernels --convert-dsv4-to-gpu --canonicalize --cse -split-input-file | FileCheck %s

// The indexer store kernel: the in-place kernel's parameters, then out_loc, the cache (a
// 64-bit-indexable byte buffer) and its size in bytes (i64). The row's amax is a maxNum xor
// reduction over all 32 lanes of the row (offsets 1..16, width the subgroup size); the FP8
// conversion is arith.truncf to the op's type, stored as bytes into the cache, never into kv;
// lane 0 of the row writes the f32 scale. The kernel's record names layout, page size and type.
// CHECK:       dsv4.kernels = {store_indexer = #dsv4.kernel<spec = <mode = decode,
// CHECK-SAME:  layout = indexer, page_size = 16, fp8_type = f8E4M3FN>
// CHECK-SAME:  cache_align = 16>
// CHECK-LABEL: gpu.func @store_indexer(
// CHECK-SAME:    %[[KV:[a-z0-9]+]]: memref<2147483647xf32, #gpu.address_space<global>>
// CHECK-SAME:    %{{.*}}: memref<2147483647xi64, #gpu.address_space<global>>, %[[CACHE:[a-z0-9]+]]: memref<9223372036854775807xi8, #gpu.address_space<global>>, %[[BYTES:[a-z0-9]+]]: i64) kernel
// CHECK:         %[[WIDTH:.+]] = arith.index_cast %{{.*}} : index to i32
// CHECK-NOT:     vector.store {{.*}}, %[[KV]]
// CHECK:         arith.cmpi sle, %{{.*}}, %[[BYTES]] : i64
// CHECK:         math.absf
// CHECK:         %[[S1:shuffleResult[_0-9]*]], %{{.*}} = gpu.shuffle  xor %[[A0:[0-9]+]], %c1_i32{{.*}}, %[[WIDTH]] : f32
// CHECK-NEXT:    %[[A1:.+]] = arith.maxnumf %[[A0]], %[[S1]] : f32
// CHECK-COUNT-4: arith.maxnumf %{{.*}}, %shuffleResult{{.*}} : f32
// CHECK-NEXT:    arith.maxnumf %{{.*}}, %cst{{.*}} : f32
// CHECK:         scf.if
// CHECK:           arith.truncf %{{.*}} : vector<4xf32> to vector<4xf8E4M3FN>
// CHECK:           vector.store %{{.*}}, %[[CACHE]][%{{.*}}] {alignment = 4 : i64} : memref<9223372036854775807xi8, #gpu.address_space<global>>, vector<4xi8>
// CHECK:           scf.if
// CHECK:             vector.bitcast %{{.*}} : vector<1xf32> to vector<4xi8>
// CHECK:             vector.store %{{.*}}, %[[CACHE]]
// CHECK-NOT:     vector.store {{.*}}, %[[KV]]
// CHECK:         gpu.return
func.func @store_indexer(%kv: tensor<?x128xf32>, %weight: tensor<128xf32>, %freqs: tensor<?x64xf32>,
                         %seq_lens: tensor<?xi32>, %cache: tensor<?xi8>, %out_loc: tensor<?xi64>) -> tensor<?xi8> {
  %0 = dsv4.fused_store decode indexer %kv, %weight, %freqs, %seq_lens into %cache[%out_loc]
      {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, page_size = 16 : i64, ratio = 4 : i64,
       rope_dim = 64 : i64, scale = 0.0883883461 : f32}
      : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return %0 : tensor<?xi8>
}

// -----

// The main layout, 32 lanes of 16 f32: lane bit 4 is index bit 6, a block bit, so the amax
// reductions run over lane bits 0-3 only (offsets 1, 2, 4, 8; never 16), one per register
// block: 4 x 4 shuffles after the 5 of the sum of squares. Channels are rounded to bf16 first;
// the run that lanes 0-15 quantize and lanes 16-31 store as bf16 rope channels is chosen per
// lane; one ue8m0 byte per block. The quantized channels are the ones the RoPE passes
// through, so the RoPE (a multiply and an fma a value) runs only where the bf16 tail is stored.
// CHECK-LABEL: gpu.func @store_main(
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK-NOT:     arith.subf
// CHECK:         arith.truncf %{{.*}} : f32 to bf16
// CHECK-COUNT-16: arith.maxnumf %{{.*}}, %shuffleResult{{.*}} : f32
// CHECK-NOT:     gpu.shuffle
// CHECK-NOT:     arith.subf
// CHECK:         scf.if
// CHECK:           arith.truncf %{{.*}} : vector<4xf32> to vector<4xf8E4M3FNUZ>
// CHECK:           scf.if
// CHECK:             arith.truncf %{{.*}} : vector<4xf32> to vector<4xf8E4M3FNUZ>
// CHECK:           } else {
// CHECK-NEXT:        arith.mulf %{{.*}} fastmath<contract> : f32
// CHECK-NEXT:        arith.mulf %{{.*}} fastmath<contract> : f32
// CHECK-NEXT:        arith.subf %{{.*}} fastmath<contract> : f32
// CHECK:             arith.truncf %{{.*}} : vector<4xf32> to vector<4xbf16>
// CHECK:             vector.bitcast %{{.*}} : vector<4xbf16> to vector<8xi8>
// CHECK:           memref.store %{{.*}} : memref<9223372036854775807xi8, #gpu.address_space<global>>
func.func @store_main(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>,
                      %plan: tensor<?x4xi32>, %cache: tensor<?xi8>, %out_loc: tensor<?xi64>) -> tensor<?xi8> {
  %0 = dsv4.fused_store prefill main %kv, %weight, %freqs, %plan into %cache[%out_loc]
      {eps = 1.0e-06 : f32, fp8_type = f8E4M3FNUZ, page_size = 64 : i64, ratio = 128 : i64,
       rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?x4xi32>, tensor<?xi8>, tensor<?xi64>
  return %0 : tensor<?xi8>
}

// -----

// The MXFP4 indexer, 32 lanes of 4 f32: a block of 32 channels spans 8 lanes, so the amax
// reductions run over lane bits 0-2 (offsets 1, 2, 4), after the 5 shuffles of the sum of
// squares and the Hadamard's; no bf16 rounding. Each run is multiplied by the block's prescale
// and converted by arith.scaling_truncf to e2m1 with the E8M0 scale broadcast, its codes stored
// as 2 bytes (2-byte aligned) at half the channel; one scale byte per block. The manifest has
// no FP8 type.
// CHECK:       store_mxfp4 = #dsv4.kernel<spec = <mode = decode,
// CHECK-SAME:  layout = indexer_mxfp4, page_size = 1>
// CHECK-LABEL: gpu.func @store_mxfp4(
// CHECK-NOT:     arith.truncf %{{.*}} : f32 to bf16
// CHECK:         %[[A:.+]] = arith.maxnumf %{{.*}}, %shuffleResult{{.*}} : f32
// CHECK-NEXT:    %{{.+}}, %{{.+}} = gpu.shuffle  xor %[[A]], %c2_i32
// CHECK:         %[[B:.+]] = arith.maxnumf %{{.*}}, %shuffleResult{{.*}} : f32
// CHECK-NEXT:    %{{.+}}, %{{.+}} = gpu.shuffle  xor %[[B]], %c4_i32
// CHECK:         arith.maxnumf %{{.*}}, %shuffleResult{{.*}} : f32
// CHECK-NOT:     gpu.shuffle
// CHECK:         arith.minui %{{.*}}, %c253_i32 : i32
// CHECK:         scf.if
// CHECK:           %[[E8M0:.+]] = arith.bitcast %{{.*}} : i8 to f8E8M0FNU
// CHECK:           %[[SCALES:.+]] = vector.broadcast %[[E8M0]] : f8E8M0FNU to vector<4xf8E8M0FNU>
// CHECK:           %[[X:.+]] = arith.mulf %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK:           %[[CODES:.+]] = arith.scaling_truncf %[[X]], %[[SCALES]] : vector<4xf32>, vector<4xf8E8M0FNU> to vector<4xf4E2M1FN>
// CHECK:           %[[BYTES:.+]] = vector.bitcast %[[CODES]] : vector<4xf4E2M1FN> to vector<2xi8>
// CHECK:           arith.divui %{{.*}}, %c2 : index
// CHECK:           vector.store %[[BYTES]], %{{.*}} {alignment = 2 : i64}
// CHECK:           scf.if
// CHECK:             memref.store %{{.*}} : memref<9223372036854775807xi8, #gpu.address_space<global>>
// CHECK:         gpu.return
func.func @store_mxfp4(%kv: tensor<?x128xf32>, %weight: tensor<128xf32>, %freqs: tensor<?x64xf32>,
                       %seq_lens: tensor<?xi32>, %cache: tensor<?xi8>, %out_loc: tensor<?xi64>) -> tensor<?xi8> {
  %0 = dsv4.fused_store decode indexer_mxfp4 %kv, %weight, %freqs, %seq_lens into %cache[%out_loc]
      {eps = 1.0e-06 : f32, page_size = 1 : i64, ratio = 4 : i64, rope_dim = 64 : i64,
       scale = 0.0883883461 : f32}
      : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return %0 : tensor<?xi8>
}
