// RUN: dsv4-opt %s --dsv4-plan-kernels --convert-dsv4-to-gpu --dsv4-host-launch | FileCheck %s

// A kernel function that the module calls keeps its callers: it becomes @decode.host, which
// launches the kernel on a copy of kv with the parameters of docs/ABI.md (items, rows, the
// row strides, positions; 4 as the plan stride of a decode kernel) and ceil(items / 4)
// workgroups of 128 threads, none for no items.
// CHECK-LABEL: gpu.module @decode
// CHECK:         gpu.func @decode(
// CHECK-LABEL: func.func @decode.host(
// CHECK-SAME:    %[[KV:[^:]*]]: tensor<?x512xf32>, %{{.*}}: tensor<512xf32>, %{{.*}}: tensor<?x64xf32>, %[[H:[^:]*]]: tensor<?xi32>) -> tensor<?x512xf32>
// CHECK:         %[[IN:.*]] = bufferization.to_buffer %[[KV]] read_only
// CHECK:         %[[ROWS:.*]] = tensor.dim %[[KV]]
// CHECK:         %[[OUT:.*]] = memref.alloc(%[[ROWS]]) : memref<?x512xf32>
// CHECK:         memref.copy %[[IN]], %[[OUT]]
// CHECK:         memref.reinterpret_cast %[[OUT]] to offset: [0], sizes: [2147483647], strides: [1]
// CHECK:         %[[ITEMS:.*]] = tensor.dim %[[H]]
// CHECK:         %[[GRID:.*]] = arith.ceildivui %[[ITEMS]], %c4
// CHECK:         scf.if
// CHECK:           gpu.launch_func  @decode::@decode blocks in (%[[GRID]], %c1{{.*}}, %c1{{.*}}) threads in (%c128, %c1{{.*}}, %c1{{.*}}) args(%{{.*}} : memref<2147483647xf32, #gpu.address_space<global>>, %{{.*}} : memref<2147483647xf32, #gpu.address_space<global>>, %{{.*}} : memref<2147483647xf32, #gpu.address_space<global>>, %{{.*}} : memref<2147483647xi32, #gpu.address_space<global>>, %{{.*}} : i32, %{{.*}} : i32, %{{.*}} : i32, %{{.*}} : i32, %{{.*}} : i32, %{{.*}} : i32)
// CHECK:         %[[RESULT:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK:         return %[[RESULT]]
// CHECK-LABEL: func.func @main
// CHECK:         call @decode.host(
func.func @decode(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>,
                  %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0441941738 : f32}
      : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

func.func @main(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>,
                %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %0 = call @decode(%kv, %weight, %freqs, %seq_lens)
      : (tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x512xf32>
  return %0 : tensor<?x512xf32>
}
