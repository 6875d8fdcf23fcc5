// RUN: dsv4-opt %s --pass-pipeline='builtin.module(gpu.module(dsv4-nvvm-fp8))' -split-input-file -verify-diagnostics | FileCheck %s

// Four values: two paired conversions, round to nearest even with satfinite. The vector result's
// element 0 is the operand `b` (the low byte), so value e lands at byte e: (x1, x0), (x3, x2).
// CHECK-LABEL: gpu.func @four
// CHECK-SAME:    (%[[X:.+]]: vector<4xf32>)
// CHECK-DAG:     %[[X0:.+]] = vector.extract %[[X]][0]
// CHECK-DAG:     %[[X1:.+]] = vector.extract %[[X]][1]
// CHECK-DAG:     %[[X2:.+]] = vector.extract %[[X]][2]
// CHECK-DAG:     %[[X3:.+]] = vector.extract %[[X]][3]
// CHECK:         %[[P0:.+]] = nvvm.convert.f32x2.to.f8x2 %[[X1]], %[[X0]] {rnd = #nvvm.fp_rnd_mode<rn>, sat = #nvvm.sat_mode<satfinite>} : vector<2xi8>(f8E4M3FN)
// CHECK:         %[[P1:.+]] = nvvm.convert.f32x2.to.f8x2 %[[X3]], %[[X2]] {rnd = #nvvm.fp_rnd_mode<rn>, sat = #nvvm.sat_mode<satfinite>} : vector<2xi8>(f8E4M3FN)
// CHECK-NOT:     arith.truncf
// CHECK:         %[[B:.+]] = vector.from_elements
// CHECK:         arith.bitcast %[[B]] : vector<4xi8> to vector<4xf8E4M3FN>
gpu.module @k {
  gpu.func @four(%x: vector<4xf32>) -> vector<4xf8E4M3FN> {
    %0 = arith.truncf %x : vector<4xf32> to vector<4xf8E4M3FN>
    gpu.return %0 : vector<4xf8E4M3FN>
  }
}

// -----

// A scalar is paired with 0 and takes byte 0.
// CHECK-LABEL: gpu.func @one
// CHECK-SAME:    (%[[X:.+]]: f32)
// CHECK:         %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[P:.+]] = nvvm.convert.f32x2.to.f8x2 %[[ZERO]], %[[X]]
// CHECK:         %[[B:.+]] = vector.extract %[[P]][0] : i8 from vector<2xi8>
// CHECK:         arith.bitcast %[[B]] : i8 to f8E4M3FN
gpu.module @k {
  gpu.func @one(%x: f32) -> f8E4M3FN {
    %0 = arith.truncf %x : f32 to f8E4M3FN
    gpu.return %0 : f8E4M3FN
  }
}

// -----

// NVIDIA has no e4m3fnuz conversion: one error, not a wrong byte.
gpu.module @k {
  gpu.func @fnuz(%x: f32) -> f8E4M3FNUZ {
    // expected-error @+1 {{NVIDIA converts f32 to f8E4M3FN only, not 'f32' to 'f8E4M3FNUZ'}}
    %0 = arith.truncf %x : f32 to f8E4M3FNUZ
    gpu.return %0 : f8E4M3FNUZ
  }
}
