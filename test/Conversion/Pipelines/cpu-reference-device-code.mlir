// dsv4-cpu-reference lowers host code: GPU code left in the module is refused at its op, with
// the pass that makes it host code. A module holding a kernel of global memrefs (the shape of
// test/Conversion/GPUToHost's tests, before convert-gpu-to-host) used to print that the memory
// space has no integer address space and then crash in convert-to-llvm.
// RUN: dsv4-opt %s --dsv4-cpu-reference -split-input-file -verify-diagnostics

module attributes {gpu.container_module} {
  // expected-error @+1 {{'gpu.module' is GPU code: dsv4-cpu-reference lowers host code only (run convert-gpu-to-host first)}}
  gpu.module @kernels {
    gpu.func @lanes(%out: memref<64xi32, #gpu.address_space<global>>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      %t = gpu.thread_id x
      %ti = arith.index_cast %t : index to i32
      memref.store %ti, %out[%t] : memref<64xi32, #gpu.address_space<global>>
      gpu.return
    }
  }
  func.func @main() {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %out = memref.alloc() : memref<64xi32>
    %g = memref.memory_space_cast %out : memref<64xi32> to memref<64xi32, #gpu.address_space<global>>
    gpu.launch_func @kernels::@lanes blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1)
        args(%g : memref<64xi32, #gpu.address_space<global>>)
    return
  }
}

// -----

// Host code alone, but a memref in a GPU address space: no host lowering either.
func.func @main() {
  %out = memref.alloc() : memref<64xi32>
  // expected-error @+1 {{'memref.memory_space_cast' has 'memref<64xi32, #gpu.address_space<global>>', whose memory space has no host lowering: dsv4-cpu-reference lowers host code only (run convert-gpu-to-host first)}}
  %g = memref.memory_space_cast %out : memref<64xi32> to memref<64xi32, #gpu.address_space<global>>
  return
}

// -----

// expected-error @+1 {{'func.func' has 'memref<4xf32, #gpu.address_space<workgroup>>', whose memory space has no host lowering}}
func.func private @takes(memref<4xf32, #gpu.address_space<workgroup>>)
