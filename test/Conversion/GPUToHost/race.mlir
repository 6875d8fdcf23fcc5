// Race checking of workgroup memory: each kernel exchanges thread ids through LDS between
// neighbours (t ^ 1). With the barrier nothing is reported; without it, or with a write to
// the same element by every thread, one RACE line per access site names the conflict.
// RUN: dsv4-opt %s --convert-gpu-to-host=subgroup-size=64 --dsv4-cpu-reference \
// RUN:   | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_c_runner_utils \
// RUN:   | FileCheck %s

// CHECK-NOT:  RACE
// CHECK:      exchange 1 0 3 2
// The first reader of an element not yet written is thread 0 (reading lds[1]); thread 1
// then overwrites what thread 0 read and reads what thread 0 wrote.
// CHECK-NEXT: RACE write-after-read in @missing_barrier: thread 1 of workgroup 0 writes element 1 of workgroup buffer 0, which thread 0 read in this barrier interval (access #0, memref.store, at loc(
// CHECK-NEXT: RACE read-after-write in @missing_barrier: thread 1 of workgroup 0 reads element 0 of workgroup buffer 0, which thread 0 wrote in this barrier interval (access #1, memref.load, at loc(
// CHECK-NEXT: missing barrier
// CHECK-NEXT: RACE write-after-write in @same_element: thread 1 of workgroup 0 writes element 0 of workgroup buffer 0, which thread 0 wrote in this barrier interval (access #0, memref.store, at loc(
// CHECK-NEXT: same element
// Slots written again after a barrier need a second barrier before the partner's read.
// CHECK-NEXT: RACE read-after-write in @reused_slots: thread 1 of workgroup 0 reads element 0 of workgroup buffer 0, which thread 0 wrote in this barrier interval (access #1, memref.load, at loc(
// CHECK-NEXT: RACE write-after-read in @reused_slots: thread 1 of workgroup 0 writes element 1 of workgroup buffer 0, which thread 0 read in this barrier interval (access #2, memref.store, at loc(
// CHECK-NEXT: reused slots
// CHECK-NOT:  RACE

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @exchange(%out: memref<64xi32, #gpu.address_space<global>>)
        workgroup(%lds: memref<64xi32, #gpu.address_space<workgroup>>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      %t = gpu.thread_id x
      %c1 = arith.constant 1 : index
      %ti = arith.index_cast %t : index to i32
      memref.store %ti, %lds[%t] : memref<64xi32, #gpu.address_space<workgroup>>
      gpu.barrier
      %p = arith.xori %t, %c1 : index
      %v = memref.load %lds[%p] : memref<64xi32, #gpu.address_space<workgroup>>
      memref.store %v, %out[%t] : memref<64xi32, #gpu.address_space<global>>
      gpu.return
    }
    gpu.func @missing_barrier(%out: memref<64xi32, #gpu.address_space<global>>)
        workgroup(%lds: memref<64xi32, #gpu.address_space<workgroup>>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      %t = gpu.thread_id x
      %c1 = arith.constant 1 : index
      %ti = arith.index_cast %t : index to i32
      memref.store %ti, %lds[%t] : memref<64xi32, #gpu.address_space<workgroup>>
      %p = arith.xori %t, %c1 : index
      %v = memref.load %lds[%p] : memref<64xi32, #gpu.address_space<workgroup>>
      memref.store %v, %out[%t] : memref<64xi32, #gpu.address_space<global>>
      gpu.return
    }
    gpu.func @same_element(%out: memref<64xi32, #gpu.address_space<global>>)
        workgroup(%lds: memref<64xi32, #gpu.address_space<workgroup>>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      %t = gpu.thread_id x
      %c0 = arith.constant 0 : index
      %ti = arith.index_cast %t : index to i32
      memref.store %ti, %lds[%c0] : memref<64xi32, #gpu.address_space<workgroup>>
      gpu.return
    }
    gpu.func @reused_slots(%out: memref<64xi32, #gpu.address_space<global>>)
        workgroup(%lds: memref<64xi32, #gpu.address_space<workgroup>>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      %t = gpu.thread_id x
      %c1 = arith.constant 1 : index
      %ti = arith.index_cast %t : index to i32
      memref.store %ti, %lds[%t] : memref<64xi32, #gpu.address_space<workgroup>>
      gpu.barrier
      %p = arith.xori %t, %c1 : index
      %v = memref.load %lds[%p] : memref<64xi32, #gpu.address_space<workgroup>>
      memref.store %v, %lds[%t] : memref<64xi32, #gpu.address_space<workgroup>>
      gpu.barrier
      %w = memref.load %lds[%p] : memref<64xi32, #gpu.address_space<workgroup>>
      memref.store %w, %out[%t] : memref<64xi32, #gpu.address_space<global>>
      gpu.return
    }
  }

  func.func @main() {
    %out = memref.alloc() : memref<64xi32>
    %global = memref.memory_space_cast %out
        : memref<64xi32> to memref<64xi32, #gpu.address_space<global>>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @kernels::@exchange blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1)
        args(%global : memref<64xi32, #gpu.address_space<global>>)
    vector.print str "exchange "
    %c4 = arith.constant 4 : index
    scf.for %j = %c0 to %c4 step %c1 {
      %e = memref.load %out[%j] : memref<64xi32>
      vector.print %e : i32 punctuation <no_punctuation>
      vector.print str " "
    }
    vector.print punctuation <newline>
    gpu.launch_func @kernels::@missing_barrier blocks in (%c1, %c1, %c1)
        threads in (%c64, %c1, %c1) args(%global : memref<64xi32, #gpu.address_space<global>>)
    vector.print str "missing barrier\n"
    gpu.launch_func @kernels::@same_element blocks in (%c1, %c1, %c1)
        threads in (%c64, %c1, %c1) args(%global : memref<64xi32, #gpu.address_space<global>>)
    vector.print str "same element\n"
    gpu.launch_func @kernels::@reused_slots blocks in (%c1, %c1, %c1)
        threads in (%c64, %c1, %c1) args(%global : memref<64xi32, #gpu.address_space<global>>)
    vector.print str "reused slots\n"
    memref.dealloc %out : memref<64xi32>
    return
  }
}
