// gpu.shuffle and gpu.subgroup_reduce as the GPU dialect defines them, run at both subgroup
// sizes: thread t of one 64-thread workgroup stores eleven results in row t of %out; @main
// prints the rows of threads 0, 6, 13, 31, 32, 45 and 63. Columns: lane_id, subgroup_id,
// xor 1 (width 32) and its valid flag, down 3 (width 16), up 5 (width 32), idx 5 (width 64),
// add over clusters of 4, of 4 with stride 2, over the subgroup, and maxsi over clusters of 8
// of a vector. An invalid shuffle result is all-ones bits (-1).
// RUN: dsv4-opt %s --convert-gpu-to-host=subgroup-size=32 --dsv4-cpu-reference \
// RUN:   | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_c_runner_utils \
// RUN:   | FileCheck %s --check-prefix=SG32
// RUN: dsv4-opt %s --convert-gpu-to-host=subgroup-size=64 --dsv4-cpu-reference \
// RUN:   | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_c_runner_utils \
// RUN:   | FileCheck %s --check-prefix=SG64

// Warp32: lanes past `width` (16 for down) are invalid; idx 5 reads lane 5 of the warp.
// SG32:      0 0 1 1 3 -1 5 6 12 496 7
// SG32-NEXT: 6 0 7 1 9 1 5 22 12 496 7
// SG32-NEXT: 13 0 12 1 -1 8 5 54 48 496 15
// SG32-NEXT: 31 0 30 1 -1 26 5 118 112 496 31
// SG32-NEXT: 0 1 33 1 35 -1 37 134 140 1520 39
// SG32-NEXT: 13 1 44 1 -1 40 37 182 176 1520 47
// SG32-NEXT: 31 1 62 1 -1 58 37 246 240 1520 63

// Wave64: lanes 32..63 are at or above width 32, so xor and up give -1 and valid 0 there.
// SG64:      0 0 1 1 3 -1 5 6 12 2016 7
// SG64-NEXT: 6 0 7 1 9 1 5 22 12 2016 7
// SG64-NEXT: 13 0 12 1 -1 8 5 54 48 2016 15
// SG64-NEXT: 31 0 30 1 -1 26 5 118 112 2016 31
// SG64-NEXT: 32 0 -1 0 -1 -1 5 134 140 2016 39
// SG64-NEXT: 45 0 -1 0 -1 -1 5 182 176 2016 47
// SG64-NEXT: 63 0 -1 0 -1 -1 5 246 240 2016 63

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @lanes(%out: memref<64x11xi32, #gpu.address_space<global>>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      %t = gpu.thread_id x
      %ti = arith.index_cast %t : index to i32
      %c1 = arith.constant 1 : i32
      %c3 = arith.constant 3 : i32
      %c5 = arith.constant 5 : i32
      %w16 = arith.constant 16 : i32
      %w32 = arith.constant 32 : i32
      %w64 = arith.constant 64 : i32
      %lane = gpu.lane_id
      %sg = gpu.subgroup_id : index
      %x, %xv = gpu.shuffle xor %ti, %c1, %w32 : i32
      %d, %dv = gpu.shuffle down %ti, %c3, %w16 : i32
      %u, %uv = gpu.shuffle up %ti, %c5, %w32 : i32
      %i, %iv = gpu.shuffle idx %ti, %c5, %w64 : i32
      %r4 = gpu.subgroup_reduce add %ti cluster(size = 4) : (i32) -> i32
      %r42 = gpu.subgroup_reduce add %ti cluster(size = 4, stride = 2) : (i32) -> i32
      %rall = gpu.subgroup_reduce add %ti : (i32) -> i32
      %v = vector.broadcast %ti : i32 to vector<2xi32>
      %rv = gpu.subgroup_reduce maxsi %v cluster(size = 8) : (vector<2xi32>) -> vector<2xi32>
      %rv1 = vector.extract %rv[1] : i32 from vector<2xi32>
      %lanei = arith.index_cast %lane : index to i32
      %sgi = arith.index_cast %sg : index to i32
      %xvi = arith.extui %xv : i1 to i32
      %row = vector.from_elements %lanei, %sgi, %x, %xvi, %d, %u, %i, %r4, %r42, %rall, %rv1
          : vector<11xi32>
      %c0 = arith.constant 0 : index
      vector.store %row, %out[%t, %c0] : memref<64x11xi32, #gpu.address_space<global>>, vector<11xi32>
      gpu.return
    }
  }

  func.func @main() {
    %out = memref.alloc() : memref<64x11xi32>
    %global = memref.memory_space_cast %out
        : memref<64x11xi32> to memref<64x11xi32, #gpu.address_space<global>>
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @kernels::@lanes blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1)
        args(%global : memref<64x11xi32, #gpu.address_space<global>>)
    %c0 = arith.constant 0 : index
    %threads = arith.constant dense<[0, 6, 13, 31, 32, 45, 63]> : vector<7xindex>
    scf.for %k = %c0 to %c64 step %c1 {
      %k7 = arith.constant 7 : index
      %in = arith.cmpi ult, %k, %k7 : index
      scf.if %in {
        %t = vector.extract %threads[%k] : index from vector<7xindex>
        %c11 = arith.constant 11 : index
        scf.for %j = %c0 to %c11 step %c1 {
          %e = memref.load %out[%t, %j] : memref<64x11xi32>
          vector.print %e : i32 punctuation <no_punctuation>
          vector.print str " "
        }
        vector.print punctuation <newline>
      }
    }
    memref.dealloc %out : memref<64x11xi32>
    return
  }
}
