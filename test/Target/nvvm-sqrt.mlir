// RUN: dsv4-opt %s --pass-pipeline='builtin.module(gpu.module(dsv4-nvvm-sqrt))' | FileCheck %s

// libdevice's sqrt, fabs and fmax become the intrinsics; their declarations go; other calls stay.
// CHECK-LABEL: gpu.module @k
// CHECK-NOT:   llvm.func @__nv_sqrtf
// CHECK-NOT:   llvm.func @__nv_fabsf
// CHECK-NOT:   llvm.func @__nv_fmaxf
// CHECK:       llvm.func @k
// CHECK:         %[[R:.*]] = llvm.intr.sqrt(%{{.*}}) : (f32) -> f32
// CHECK-NOT:     @__nv_sqrtf
// CHECK:         %[[A:.*]] = llvm.intr.fabs(%[[R]]) : (f32) -> f32
// CHECK-NOT:     @__nv_fabsf
// CHECK:         %[[M:.*]] = llvm.intr.maxnum(%[[A]], %{{.*}}) : (f32, f32) -> f32
// CHECK-NOT:     @__nv_fmaxf
// CHECK:         llvm.call @other(%[[M]])
gpu.module @k {
  llvm.func @__nv_sqrtf(f32) -> f32
  llvm.func @__nv_fabsf(f32) -> f32
  llvm.func @__nv_fmaxf(f32, f32) -> f32
  llvm.func @other(f32) -> f32
  llvm.func @k(%x: f32) -> f32 {
    %0 = llvm.call @__nv_sqrtf(%x) : (f32) -> f32
    %a = llvm.call @__nv_fabsf(%0) : (f32) -> f32
    %m = llvm.call @__nv_fmaxf(%a, %x) : (f32, f32) -> f32
    %1 = llvm.call @other(%m) : (f32) -> f32
    llvm.return %1 : f32
  }
}
