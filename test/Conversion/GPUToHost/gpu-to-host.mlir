// RUN: dsv4-opt %s --convert-gpu-to-host | FileCheck %s
// RUN: dsv4-opt %s --convert-gpu-to-host=check-races=false | FileCheck %s --check-prefix=NORACE

// The kernel becomes a host function of its parameters (default memory space) and the grid
// size: a loop over workgroups, inside it one loop over the 64 threads per piece between
// synchronizations; %v crosses the barrier in a per-thread buffer; the launch is a call.
// CHECK-NOT:     gpu.module
// CHECK-LABEL:   func.func @main(
// CHECK:           call @k(%{{.*}}, %c2) : (memref<64xf32>, index) -> ()
// CHECK-LABEL:   func.func @k(
// CHECK-SAME:      %[[OUT:[^:]*]]: memref<64xf32>, %[[GRID:[^:]*]]: index)
// CHECK:           %[[LDS:.*]] = memref.alloc() {alignment = 16 : i64} : memref<64xf32>
// CHECK:           %[[KEEP:.*]] = memref.alloc() : memref<64xf32>
// CHECK-COUNT-3:   memref.alloc() : memref<64xi32>
// CHECK:           scf.for %{{.*}} = %{{.*}} to %[[GRID]]
// CHECK:             %[[NAN:.*]] = arith.constant 0xFFFFFFFF : f32
// CHECK:             memref.store %[[NAN]], %[[LDS]]
// CHECK:             scf.for %[[T:.*]] = %{{.*}} to %c64
// CHECK:               %[[V:.*]] = arith.uitofp
// CHECK:               vector.print str "RACE "
// CHECK:               memref.store %[[V]], %[[LDS]]
// CHECK:               memref.store %[[V]], %[[KEEP]][%[[T]]]
// CHECK:             scf.for %[[T2:.*]] = %{{.*}} to %c64
// CHECK:               memref.load %[[KEEP]][%[[T2]]]
// CHECK:               memref.load %[[LDS]]
// CHECK:               arith.addf
// CHECK:               memref.store {{.*}}, %[[OUT]]
// CHECK:           return
// CHECK-NOT:       gpu.

// Without the race check: no shadow, no report.
// NORACE-LABEL:  func.func @k(
// NORACE-NOT:      memref<64xi32>
// NORACE-NOT:      RACE
// NORACE:          return

module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @k(%out: memref<64xf32, #gpu.address_space<global>>)
        workgroup(%lds: memref<64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
        kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
      %t = gpu.thread_id x
      %ti = arith.index_cast %t : index to i32
      %v = arith.uitofp %ti : i32 to f32
      memref.store %v, %lds[%t] : memref<64xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %c63 = arith.constant 63 : index
      %p = arith.subi %c63, %t : index
      %w = memref.load %lds[%p] : memref<64xf32, #gpu.address_space<workgroup>>
      %s = arith.addf %v, %w : f32
      memref.store %s, %out[%t] : memref<64xf32, #gpu.address_space<global>>
      gpu.return
    }
  }
  func.func @main(%out: memref<64xf32>) {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c64 = arith.constant 64 : index
    %g = memref.memory_space_cast %out : memref<64xf32> to memref<64xf32, #gpu.address_space<global>>
    gpu.launch_func @m::@k blocks in (%c2, %c1, %c1) threads in (%c64, %c1, %c1)
        args(%g : memref<64xf32, #gpu.address_space<global>>)
    return
  }
}
