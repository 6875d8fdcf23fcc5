// RUN: dsv4-opt %s --pass-pipeline='builtin.module(gpu.module(dsv4-nvvm-sqrt))' | FileCheck %s

// libdevice's sqrt becomes the intrinsic; its declaration goes; other calls stay.
// CHECK-LABEL: gpu.module @k
// CHECK-NOT:   llvm.func @__nv_sqrtf
// CHECK:       llvm.func @k
// CHECK:         %[[R:.*]] = llvm.intr.sqrt(%{{.*}}) : (f32) -> f32
// CHECK-NOT:     @__nv_sqrtf
// CHECK:         llvm.call @other(%[[R]])
gpu.module @k {
  llvm.func @__nv_sqrtf(f32) -> f32
  llvm.func @other(f32) -> f32
  llvm.func @k(%x: f32) -> f32 {
    %0 = llvm.call @__nv_sqrtf(%x) : (f32) -> f32
    %1 = llvm.call @other(%0) : (f32) -> f32
    llvm.return %1 : f32
  }
}
