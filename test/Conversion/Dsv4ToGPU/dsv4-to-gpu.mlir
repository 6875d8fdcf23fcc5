// RUN: dsv4-opt %s --dsv4-plan-kernels --convert-dsv4-to-gpu -split-input-file | FileCheck %s
// RUN: dsv4-opt %s --dsv4-plan-kernels="schedule=per-stage" --convert-dsv4-to-gpu -split-input-file | FileCheck %s --check-prefix=STAGE
// RUN: dsv4-opt %s --dsv4-plan-kernels="lanes-per-row=16 rows-per-workgroup=8" --convert-dsv4-to-gpu -split-input-file | FileCheck %s --check-prefix=L16
// RUN: dsv4-opt %s --dsv4-plan-kernels="lanes-per-row=8" --convert-dsv4-to-gpu -split-input-file | FileCheck %s --check-prefix=L8

// The shipped shape: D=512 f32 over 32 lanes of 16 values (4 runs of 4) and 4 rows per
// workgroup. Grouped: 3 LDS exchanges, each "write; barrier; read", with a barrier before
// the next exchange overwrites the slots: 5 barriers.
// The configuration is recorded for the manifest writer.
// CHECK:       module attributes {dsv4.kernels = {decode = #dsv4.kernel<spec = <mode = decode, {{.*}}>, plan = <lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 4, schedule = grouped, lds_bytes = 8192>
// CHECK-LABEL: gpu.module @decode
// CHECK:       gpu.func @decode(%{{.*}}: memref<2147483647xf32, #gpu.address_space<global>>, %{{.*}}: memref<2147483647xf32, #gpu.address_space<global>>, %{{.*}}: memref<2147483647xf32, #gpu.address_space<global>>, %{{.*}}: memref<2147483647xi32, #gpu.address_space<global>>, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32, %{{.*}}: i32)
// CHECK-SAME:    workgroup(%[[LDS:.*]] : memref<2048xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK-SAME:    kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK-COUNT-4: vector.load %arg0[{{.*}}] {alignment = 16 : i64} : {{.*}}, vector<4xf32>
// CHECK-COUNT-4: gpu.shuffle xor
// CHECK-NOT:     gpu.barrier
// CHECK-COUNT-4: vector.store {{.*}}, %[[LDS]]
// CHECK-NEXT:    gpu.barrier
// CHECK-COUNT-4: vector.load %[[LDS]]
// CHECK:         gpu.barrier
// CHECK-COUNT-4: vector.store {{.*}}, %[[LDS]]
// CHECK-NEXT:    gpu.barrier
// CHECK-COUNT-4: vector.load %[[LDS]]
// CHECK:         gpu.barrier
// CHECK-COUNT-4: vector.store {{.*}}, %[[LDS]]
// CHECK-NEXT:    gpu.barrier
// CHECK-COUNT-4: vector.load %[[LDS]]
// CHECK-NOT:     gpu.barrier
// CHECK:         scf.if
// CHECK-COUNT-4: vector.store {{.*}}, %arg0[{{.*}}] {alignment = 16 : i64} : {{.*}}, vector<4xf32>
// CHECK:         gpu.return
// CHECK-NOT:   func.func @decode

// Per-stage: one exchange per cross-lane stage (5 lane bits): 9 barriers.
// STAGE-LABEL:   gpu.func @decode
// STAGE-COUNT-9: gpu.barrier
// STAGE-NOT:     gpu.barrier
// STAGE:         gpu.return

// 16 lanes of 32 values: 2 exchanges, 3 barriers, LDS of 8 rows.
// L16-LABEL:   gpu.func @decode
// L16-SAME:      memref<4096xf32, #gpu.address_space<workgroup>>
// L16-SAME:      known_block_size = array<i32: 128, 1, 1>
// L16-COUNT-3: gpu.barrier
// L16-NOT:     gpu.barrier
// L16:         gpu.return
func.func @decode(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>,
                  %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0441941738 : f32}
      : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

// Without the rotation there is no exchange at all: no barrier, no LDS slot. The shape table
// spreads the row over 32 lanes (two 16-byte runs each); the manifest says no schedule runs.
// Prefill reads row and position from the plan (two i32 loads) and bf16 kv moves 8 values per
// 16-byte run.
// CHECK:       module attributes {dsv4.kernels = {prefill_norot_bf16 = #dsv4.kernel<{{.*}}plan = <lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 8, schedule = none
// CHECK-LABEL: gpu.func @prefill_norot_bf16
// CHECK-SAME:    memref<2147483647xbf16, #gpu.address_space<global>>
// CHECK-SAME:    memref<2147483647xi32, #gpu.address_space<global>>
// CHECK-SAME:    : i32) kernel attributes
// CHECK-COUNT-2: memref.load %arg3
// CHECK:       vector.load %arg0[{{.*}}] {alignment = 16 : i64} : {{.*}}, vector<8xbf16>
// CHECK-NOT:   gpu.barrier
// CHECK:       arith.truncf {{.*}} : vector<8xf32> to vector<8xbf16>
// CHECK:       vector.store {{.*}}, %arg0[{{.*}}] {alignment = 16 : i64} : {{.*}}, vector<8xbf16>
// CHECK-NOT:   gpu.barrier
// CHECK:       gpu.return
func.func @prefill_norot_bf16(%kv: tensor<?x512xbf16>, %weight: tensor<512xf32>,
                              %freqs: tensor<?x64xf32>, %plan: tensor<?x4xi32>)
    -> tensor<?x512xbf16> {
  %0 = dsv4.fused_epilogue prefill %kv, %weight, %freqs, %plan
      {eps = 1.0e-06 : f32, ratio = 128 : i64, rope_dim = 64 : i64}
      : tensor<?x512xbf16>, tensor<512xf32>, tensor<?x64xf32>, tensor<?x4xi32>
  return %0 : tensor<?x512xbf16>
}

// -----

// Decode without the rotation spreads the row over the whole workgroup: 128 lanes of one
// 16-byte run (four 32-lane parts). Each part sums its squares by 5 shuffles; its first lane
// writes the part's sum to the row's 4 f32 of LDS, one barrier, and every lane adds the four
// in part order. Written once, read once: no second barrier.
// CHECK:       module attributes {dsv4.kernels = {decode_spread = #dsv4.kernel<{{.*}}plan = <lanes_per_row = 128, rows_per_workgroup = 1, vector_width = 4, schedule = none, lds_bytes = 16>
// CHECK-LABEL: gpu.func @decode_spread
// CHECK-SAME:    workgroup(%[[PARTS:.*]] : memref<4xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK-SAME:    known_block_size = array<i32: 128, 1, 1>
// CHECK:         vector.load %arg0[{{.*}}] {alignment = 16 : i64} : {{.*}}, vector<4xf32>
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK-NOT:     gpu.shuffle
// CHECK:         scf.if
// CHECK:           memref.store %{{.*}}, %[[PARTS]][%{{.*}}]
// CHECK-NEXT:    }
// CHECK-NEXT:    gpu.barrier
// CHECK-NEXT:    %[[SUMS:.*]] = vector.load %[[PARTS]][%{{.*}}] {alignment = 16 : i64} : memref<4xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK-DAG:     %[[S0:.*]] = vector.extract %[[SUMS]][0]
// CHECK-DAG:     %[[S1:.*]] = vector.extract %[[SUMS]][1]
// CHECK-DAG:     %[[S2:.*]] = vector.extract %[[SUMS]][2]
// CHECK-DAG:     %[[S3:.*]] = vector.extract %[[SUMS]][3]
// CHECK:         %[[S01:.*]] = arith.addf %[[S0]], %[[S1]]
// CHECK-NEXT:    %[[S012:.*]] = arith.addf %[[S01]], %[[S2]]
// CHECK-NEXT:    arith.addf %[[S012]], %[[S3]]
// CHECK-NOT:     gpu.barrier
// CHECK:         vector.store {{.*}}, %arg0[{{.*}}] {alignment = 16 : i64} : {{.*}}, vector<4xf32>
// CHECK-NOT:     gpu.barrier
// CHECK:         gpu.return
func.func @decode_spread(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>,
                         %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

// Two fused ops in one function make one kernel (the function used to be queued twice and
// used after it was erased). The item index is compared with num_items as a 64-bit index
// before it is narrowed to i32: blocks * rows may pass INT32_MAX.
// CHECK-LABEL: gpu.module @two_fused
// CHECK:       %[[ITEM:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK-NEXT:  %[[N:.*]] = arith.index_cast %arg4 : i32 to index
// CHECK-NEXT:  arith.cmpi slt, %[[ITEM]], %[[N]] : index
// CHECK-NOT:   gpu.module @two_fused
// CHECK-NOT:   func.func @two_fused
func.func @two_fused(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>,
                     %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  %1 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %1 : tensor<?x512xf32>
}

// -----

// The indexer (D=128 f32, rotate): the shape table puts one 16-byte run in each of 32 lanes and
// exchanges by shuffles: no LDS slot, no barrier; 5 shuffles for the sum of squares, then 5
// stages of 4 values. lanes-per-row=8 keeps the shuffle schedule: 3 + 3 stages of 16 values.
// CHECK:       module attributes {dsv4.kernels = {indexer = #dsv4.kernel<{{.*}}plan = <lanes_per_row = 32, rows_per_workgroup = 4, {{.*}}schedule = shuffle
// CHECK-LABEL: gpu.func @indexer
// CHECK-SAME:    : i32) kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK:         vector.load %arg0[{{.*}}] {alignment = 16 : i64} : {{.*}}, vector<4xf32>
// CHECK-NOT:     vector.load %arg0
// The lane's sum of squares is one fma a value.
// CHECK:         %[[SQUARE:.+]] = arith.mulf %[[X:.+]], %[[X]] fastmath<contract> : f32
// CHECK-NEXT:    arith.addf %{{.*}}, %[[SQUARE]] fastmath<contract> : f32
// CHECK-COUNT-5: gpu.shuffle xor
// The Hadamard's scale multiplies the norm's factor once (not every value after the last
// stage: no scale after the butterflies below).
// CHECK:         %[[INVERSE:.+]] = arith.divf %cst{{.*}}, %{{.*}} : f32
// CHECK-NEXT:    %[[SCALE:.+]] = arith.constant 0.0883883461 : f32
// CHECK-NEXT:    arith.mulf %[[INVERSE]], %[[SCALE]] : f32
// CHECK:         arith.subf %{{.*}}, %{{.*}} fastmath<contract> : f32
// CHECK-COUNT-20: gpu.shuffle xor
// Each cross-lane butterfly is value * sign + other, the sign +-1 chosen by the lane's bit,
// both ops contractible into one fma (no subtract and select of the values).
// CHECK:         %[[SIGN:.+]] = arith.select %{{.*}}, %cst{{.*}}, %cst{{.*}} : f32
// CHECK-NEXT:    %[[TERM:.+]] = arith.mulf %{{.*}}, %[[SIGN]] fastmath<contract> : f32
// CHECK-NEXT:    arith.addf %[[TERM]], %shuffleResult{{.*}} fastmath<contract> : f32
// CHECK-NOT:     gpu.shuffle
// CHECK-NOT:     gpu.barrier
// CHECK-NOT:     arith.constant 0.0883883461
// CHECK:         vector.store {{.*}}, %arg0
// CHECK-NOT:     gpu.barrier
// CHECK:         gpu.return
// L8:          module attributes {dsv4.kernels = {indexer = #dsv4.kernel<{{.*}}plan = <lanes_per_row = 8, rows_per_workgroup = 16, {{.*}}schedule = shuffle
// L8-LABEL:    gpu.func @indexer
// L8-COUNT-4:    vector.load %arg0
// L8-COUNT-51:   gpu.shuffle xor
// L8-NOT:        gpu.shuffle
// L8-NOT:        gpu.barrier
// L8:            gpu.return
func.func @indexer(%kv: tensor<?x128xf32>, %weight: tensor<128xf32>, %freqs: tensor<?x64xf32>,
                   %seq_lens: tensor<?xi32>) -> tensor<?x128xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883476 : f32}
      : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x128xf32>
}
