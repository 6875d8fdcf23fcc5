// A kernel that does nothing: its AMDGPU object is small, its linked HSACO a few KiB.
module attributes {gpu.container_module} {
  gpu.module @empty {
    gpu.func @empty() kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
      gpu.return
    }
  }
}
