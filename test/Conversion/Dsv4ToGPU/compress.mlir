// RUN: dsv4-opt %s --dsv4-plan-kernels --convert-dsv4-to-gpu --canonicalize --cse -split-input-file | FileCheck %s

// The indexer compress kernel (ratio 4, overlap; D=128, 32 lanes of 4 f32): its own parameter
// list (docs/ABI.md), the state a 64-bit-indexable f32 buffer whose block stride is an i64.
// Each item reads token_req and positions, checks its window's two block-table columns (both
// loads at once), and only when it produces loads their block ids again for the pooling; it
// loops over the 8 window rows two at a time (the plan asks for 8 waves per SIMD: 64 VGPRs),
// loading both rows' kv and score runs (16 bytes each) before pooling them with exp; the
// finished row is quantized into the cache and nothing else is written. The kernel's record
// (the manifest's source) holds its spec (mode compress, overlap, the state block size), its
// plan and the state's alignment and stride multiple.
// CHECK:       dsv4.kernels = {compress_indexer = #dsv4.kernel<spec = <mode = compress,
// CHECK-SAME:  state_block_size = 64, overlap = true>, plan = <lanes_per_row = 32,
// CHECK-SAME:  waves_per_simd = 8>, row_align = 16, row_stride_multiple = 4
// CHECK-LABEL: gpu.func @compress_indexer(
// CHECK-SAME:    %[[STATE:[a-z0-9]+]]: memref<9223372036854775807xf32, #gpu.address_space<global>>, %[[TABLE:[a-z0-9]+]]: memref<2147483647xi32, #gpu.address_space<global>>, %[[REQ:[a-z0-9]+]]: memref<2147483647xi32, #gpu.address_space<global>>, %[[POS:[a-z0-9]+]]: memref<2147483647xi64, #gpu.address_space<global>>
// CHECK-SAME:    %[[CACHE:[a-z0-9]+]]: memref<9223372036854775807xi8, #gpu.address_space<global>>, %{{.*}}: i32, %{{.*}}: i32, %[[BSTRIDE:[a-z0-9]+]]: i64,
// CHECK-SAME:    %{{.*}}: i64) kernel attributes {known_block_size = array<i32: 128, 1, 1>, rocdl.waves_per_eu = 8 : i32}
// CHECK:         memref.load %[[REQ]]
// CHECK:         memref.load %[[POS]]
// CHECK:         scf.if
// CHECK-COUNT-2:   memref.load %[[TABLE]]
// CHECK-NOT:       scf.for
// CHECK-NOT:     memref.load %[[TABLE]]
// CHECK:         scf.if %{{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32) {
// CHECK-COUNT-2:   memref.load %[[TABLE]]
// CHECK-NEXT:      scf.for %{{.*}} = %c0 to %c8 step %c2 iter_args(
// CHECK-COUNT-4:   vector.load %[[STATE]][%{{.*}}] {alignment = 16 : i64} : memref<9223372036854775807xf32, #gpu.address_space<global>>, vector<4xf32>
// CHECK-NOT:       vector.load %[[STATE]]
// CHECK:           math.exp
// CHECK-NOT:     gpu.barrier
// CHECK-NOT:     memref.store {{.*}}, %[[STATE]]
// CHECK-NOT:     vector.store {{.*}}, %[[STATE]]
// CHECK:         arith.truncf %{{.*}} : vector<4xf32> to vector<4xf8E4M3FN>
// CHECK:         vector.store %{{.*}}, %[[CACHE]]
// CHECK:         gpu.return
func.func @compress_indexer(%state: tensor<?x64x512xf32>, %table: tensor<?x?xi32>, %req: tensor<?xi32>, %pos: tensor<?xi64>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) -> tensor<?xi8> {
  %0 = dsv4.fused_compress_store indexer %state[%table], %req, %pos, %w, %f into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, overlap, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
  return %0 : tensor<?xi8>
}

// -----

// The main cache at ratio 128 (D=512, 16 values a lane): the 128-row window is split over the
// 8 row slots of a 256-thread workgroup (plan window_split = 8), one item a workgroup (the
// manifest's launch geometry, which the writer derives from the recorded plan: 256 threads an
// item, 1 item a workgroup; test/Target/compress.test). Each slot loops over
// its 16 rows two at a time (64 values in flight), the softmax sums of its 16 channels
// carried; the parts' sums meet in LDS (8 x 3 x 512 f32) behind one barrier, and only part 0
// stores. 48 sums a lane do not fit 64 VGPRs: the plan asks for no occupancy.
// CHECK:       compress_main_128 = #dsv4.kernel<
// CHECK-SAME:  plan = <lanes_per_row = 32, rows_per_workgroup = 8, {{.*}}window_split = 8>
// CHECK-LABEL: gpu.func @compress_main_128(
// CHECK-SAME:    workgroup(%[[PARTS:.+]] : memref<12288xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK-NOT:     rocdl.waves_per_eu
// CHECK-NOT:     gpu.barrier
// CHECK:         scf.for %{{.*}} = %[[FIRST:.+]] to %{{.*}} step %c2 iter_args(
// CHECK-COUNT-16:  vector.load
// CHECK-NOT:       vector.load
// CHECK:           math.exp
// CHECK:           scf.yield
// CHECK-COUNT-12: vector.store %{{.*}}, %[[PARTS]]
// CHECK-NEXT:    gpu.barrier
// CHECK-NOT:     gpu.barrier
// CHECK-COUNT-96: vector.load %[[PARTS]]
// CHECK-NOT:     gpu.barrier
// CHECK:         gpu.return
func.func @compress_main_128(%state: tensor<?x16x1024xf32>, %table: tensor<?x?xi32>, %req: tensor<?xi32>, %pos: tensor<?xi64>, %w: tensor<512xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) -> tensor<?xi8> {
  %0 = dsv4.fused_compress_store main %state[%table], %req, %pos, %w, %f into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FNUZ, page_size = 64 : i64, ratio = 128 : i64, rope_dim = 64 : i64} : tensor<?x16x1024xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
  return %0 : tensor<?xi8>
}
