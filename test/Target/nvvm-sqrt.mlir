// RUN: dsv4-opt %s --pass-pipeline='builtin.module(gpu.module(dsv4-nvvm-sqrt))' | FileCheck %s

// libdevice's sqrt, fabs, fmax, fmin, rint and exp become the intrinsics (exp(x) as
// exp2(x * log2(e))); their declarations go;
// other calls stay.
// CHECK-LABEL: gpu.module @k
// CHECK-NOT:   llvm.func @__nv_sqrtf
// CHECK-NOT:   llvm.func @__nv_fabsf
// CHECK-NOT:   llvm.func @__nv_fmaxf
// CHECK-NOT:   llvm.func @__nv_fminf
// CHECK-NOT:   llvm.func @__nv_rintf
// CHECK-NOT:   llvm.func @__nv_expf
// CHECK:       llvm.func @k
// CHECK:         %[[R:.*]] = llvm.intr.sqrt(%{{.*}}) : (f32) -> f32
// CHECK-NOT:     @__nv_sqrtf
// CHECK:         %[[A:.*]] = llvm.intr.fabs(%[[R]]) : (f32) -> f32
// CHECK-NOT:     @__nv_fabsf
// CHECK:         %[[M:.*]] = llvm.intr.maxnum(%[[A]], %{{.*}}) : (f32, f32) -> f32
// CHECK-NOT:     @__nv_fmaxf
// CHECK:         %[[N:.*]] = llvm.intr.minnum(%[[M]], %{{.*}}) : (f32, f32) -> f32
// CHECK-NOT:     @__nv_fminf
// CHECK:         %[[E:.*]] = llvm.intr.roundeven(%[[N]]) : (f32) -> f32
// CHECK-NOT:     @__nv_rintf
// CHECK:         %[[L:.*]] = llvm.fmul %[[E]], %{{.*}} : f32
// CHECK:         %[[X:.*]] = llvm.intr.exp2(%[[L]]) : (f32) -> f32
// CHECK-NOT:     @__nv_expf
// CHECK:         llvm.call @other(%[[X]])
gpu.module @k {
  llvm.func @__nv_sqrtf(f32) -> f32
  llvm.func @__nv_fabsf(f32) -> f32
  llvm.func @__nv_fmaxf(f32, f32) -> f32
  llvm.func @__nv_fminf(f32, f32) -> f32
  llvm.func @__nv_rintf(f32) -> f32
  llvm.func @__nv_expf(f32) -> f32
  llvm.func @other(f32) -> f32
  llvm.func @k(%x: f32) -> f32 {
    %0 = llvm.call @__nv_sqrtf(%x) : (f32) -> f32
    %a = llvm.call @__nv_fabsf(%0) : (f32) -> f32
    %m = llvm.call @__nv_fmaxf(%a, %x) : (f32, f32) -> f32
    %n = llvm.call @__nv_fminf(%m, %x) : (f32, f32) -> f32
    %e = llvm.call @__nv_rintf(%n) : (f32) -> f32
    %x2 = llvm.call @__nv_expf(%e) : (f32) -> f32
    %1 = llvm.call @other(%x2) : (f32) -> f32
    llvm.return %1 : f32
  }
}
