// RUN: dsv4-opt %s --convert-gpu-to-host=subgroup-size=32 -split-input-file -verify-diagnostics
// RUN: not dsv4-opt %s --convert-gpu-to-host=subgroup-size=48 -split-input-file 2>&1 | FileCheck %s --check-prefix=SIZE

// SIZE: subgroup-size must be 64 (AMD wave64) or 32 (NVIDIA warp), not 48

module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @k(%c: i1) kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
      scf.if %c {
        // expected-error @+1 {{'gpu.barrier' must be in the kernel's top-level block}}
        gpu.barrier
      }
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @k(%c: i1, %x: f32) kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
      %w = arith.constant 32 : i32
      %o = arith.constant 1 : i32
      scf.if %c {
        // expected-error @+1 {{'gpu.shuffle' must be in the kernel's top-level block}}
        %r, %v = gpu.shuffle xor %x, %o, %w : f32
      }
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{needs a one-dimensional known_block_size}}
    gpu.func @k() kernel {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @k(%x: f32) kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
      // expected-error @+1 {{a cluster of 64 lanes with stride 1 does not fit a subgroup of 32}}
      %r = gpu.subgroup_reduce add %x cluster(size = 64) : (f32) -> f32
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @k(%x: f32) kernel attributes {known_block_size = array<i32: 48, 1, 1>} {
      // expected-error @+1 {{needs whole subgroups: the block size 48 is not a multiple of the subgroup size 32}}
      %r = gpu.subgroup_reduce add %x : (f32) -> f32
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @k() workgroup(%lds: memref<64xf32, #gpu.address_space<workgroup>>) kernel
        attributes {known_block_size = array<i32: 32, 1, 1>} {
      // expected-error @+1 {{workgroup memory is emulated (and race-checked) only through memref.load/store and vector.load/store of 1-D vectors, not 'memref.subview'}}
      %s = memref.subview %lds[0] [8] [1] : memref<64xf32, #gpu.address_space<workgroup>> to memref<8xf32, strided<[1]>, #gpu.address_space<workgroup>>
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @k(%a: memref<64xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
      // expected-error @+1 {{a value of type 'memref<8xf32, strided<[1]>>' lives across a barrier or subgroup operation}}
      %s = memref.subview %a[0] [8] [1] : memref<64xf32> to memref<8xf32, strided<[1]>>
      gpu.barrier
      %c0 = arith.constant 0 : index
      %v = memref.load %s[%c0] : memref<8xf32, strided<[1]>>
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{only kernels are emulated; device functions are not}}
    gpu.func @f() {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @k() kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
      gpu.return
    }
  }
  func.func @main() {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    // expected-error @+1 {{the host emulation of @k cannot run this launch: its block size must be the constant known_block_size (32, 1, 1)}}
    gpu.launch_func @m::@k blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1)
    return
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @k() kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
      // expected-error @+1 {{'gpu.printf' has no host emulation}}
      gpu.printf "x"
      gpu.return
    }
  }
}
