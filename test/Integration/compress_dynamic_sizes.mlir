// With dynamic sizes, token_req, positions and out_loc may differ in length at run time: an
// item past the end of positions is padding (no row, plan row (-1, request, -1, 0)), and an
// item past the end of out_loc or positions stores nothing (it reads neither past its end).
// Three boundary items (position 3, ratio 4, no overlap) of one request whose four positions
// are blocks 0..3 of a state of kv 1 and score 0.
// MLIR's runtime checks abort the run on any memref access out of bounds.
// RUN: dsv4-opt %s --convert-dsv4-to-loops --generate-runtime-verification --dsv4-cpu-reference \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:       -shared-libs=%mlir_c_runner_utils,%mlir_runner_utils \
// RUN:   | FileCheck %s

func.func private @printMemrefI32(memref<*xi32>) attributes {llvm.emit_c_interface}
func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}

func.func @pool(%state: tensor<4x1x256xf32>, %table: tensor<1x4xi32>, %req: tensor<?xi32>, %pos: tensor<?xi64>) -> (tensor<?x128xf32>, tensor<?x4xi32>) {
  %rows, %plan = dsv4.compress_pool %state[%table], %req, %pos {ratio = 4 : i64} : tensor<4x1x256xf32>, tensor<1x4xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  return %rows, %plan : tensor<?x128xf32>, tensor<?x4xi32>
}

func.func @store(%state: tensor<4x1x256xf32>, %table: tensor<1x4xi32>, %req: tensor<?xi32>, %pos: tensor<?xi64>, %w: tensor<128xf32>, %f: tensor<4x64xf32>, %c: tensor<528xi8>, %o: tensor<?xi64>) -> tensor<528xi8> {
  %0 = dsv4.fused_compress_store indexer %state[%table], %req, %pos, %w, %f into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, page_size = 1 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<4x1x256xf32>, tensor<1x4xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<4x64xf32>, tensor<528xi8>, tensor<?xi64>
  return %0 : tensor<528xi8>
}

/// Bytes where two caches differ.
func.func @differences(%a: tensor<528xi8>, %b: tensor<528xi8>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 528 : index
  %zero = arith.constant 0 : i32
  %count = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (i32) {
    %x = tensor.extract %a[%i] : tensor<528xi8>
    %y = tensor.extract %b[%i] : tensor<528xi8>
    %ne = arith.cmpi ne, %x, %y : i8
    %one = arith.extui %ne : i1 to i32
    %next = arith.addi %acc, %one : i32
    scf.yield %next : i32
  }
  %t = tensor.from_elements %count : tensor<1xi32>
  %buf = bufferization.to_buffer %t : tensor<1xi32> to memref<1xi32>
  %any = memref.cast %buf : memref<1xi32> to memref<*xi32>
  call @printMemrefI32(%any) : (memref<*xi32>) -> ()
  return
}

func.func @main() {
  %state = tensor.generate {
  ^bb0(%b: index, %r: index, %k: index):
    %c128 = arith.constant 128 : index
    %is_kv = arith.cmpi ult, %k, %c128 : index
    %one = arith.constant 1.0 : f32
    %zero = arith.constant 0.0 : f32
    %v = arith.select %is_kv, %one, %zero : f32
    tensor.yield %v : f32
  } : tensor<4x1x256xf32>
  %table = arith.constant dense<[[0, 1, 2, 3]]> : tensor<1x4xi32>
  %req3 = arith.constant dense<[0, 0, 0]> : tensor<3xi32>
  %pos2 = arith.constant dense<[3, 3]> : tensor<2xi64>
  %pos3 = arith.constant dense<[3, 3, 3]> : tensor<3xi64>
  %req = tensor.cast %req3 : tensor<3xi32> to tensor<?xi32>
  %short_pos = tensor.cast %pos2 : tensor<2xi64> to tensor<?xi64>
  %pos = tensor.cast %pos3 : tensor<3xi64> to tensor<?xi64>

  // CHECK: sizes = [3, 4]
  // CHECK-NEXT: {{\[}}[0,   0,   3,   4],
  // CHECK-NEXT: [1,   0,   3,   4],
  // CHECK-NEXT: [-1,   0,   -1,   0]]
  %rows, %plan = call @pool(%state, %table, %req, %short_pos) : (tensor<4x1x256xf32>, tensor<1x4xi32>, tensor<?xi32>, tensor<?xi64>) -> (tensor<?x128xf32>, tensor<?x4xi32>)
  %pbuf = bufferization.to_buffer %plan : tensor<?x4xi32> to memref<?x4xi32>
  %pany = memref.cast %pbuf : memref<?x4xi32> to memref<*xi32>
  call @printMemrefI32(%pany) : (memref<*xi32>) -> ()
  // CHECK: sizes = [3, 2]
  // CHECK-NEXT: {{\[}}[1,   1],
  // CHECK-NEXT: [1,   1],
  // CHECK-NEXT: [0,   0]]
  %corner = tensor.extract_slice %rows[0, 0] [3, 2] [1, 1] : tensor<?x128xf32> to tensor<3x2xf32>
  %rbuf = bufferization.to_buffer %corner : tensor<3x2xf32> to memref<3x2xf32>
  %rany = memref.cast %rbuf : memref<3x2xf32> to memref<*xf32>
  call @printMemrefF32(%rany) : (memref<*xf32>) -> ()

  %w = arith.constant dense<1.0> : tensor<128xf32>
  %f = tensor.generate {
  ^bb0(%q: index, %c: index):
    %c2 = arith.constant 2 : index
    %odd = arith.remui %c, %c2 : index
    %c1 = arith.constant 1 : index
    %sin = arith.cmpi eq, %odd, %c1 : index
    %one = arith.constant 1.0 : f32
    %zero = arith.constant 0.0 : f32
    %v = arith.select %sin, %zero, %one : f32
    tensor.yield %v : f32
  } : tensor<4x64xf32>
  %cache = arith.constant dense<7> : tensor<528xi8>
  %ol2 = arith.constant dense<[0, 1]> : tensor<2xi64>
  %ol3 = arith.constant dense<[0, 1, 2]> : tensor<3xi64>
  %ol_skip = arith.constant dense<[0, 1, -1]> : tensor<3xi64>
  %short_out = tensor.cast %ol2 : tensor<2xi64> to tensor<?xi64>
  %out = tensor.cast %ol3 : tensor<3xi64> to tensor<?xi64>
  %out_skip = tensor.cast %ol_skip : tensor<3xi64> to tensor<?xi64>
  %all = call @store(%state, %table, %req, %pos, %w, %f, %cache, %out) : (tensor<4x1x256xf32>, tensor<1x4xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<4x64xf32>, tensor<528xi8>, tensor<?xi64>) -> tensor<528xi8>
  %two = call @store(%state, %table, %req, %pos, %w, %f, %cache, %out_skip) : (tensor<4x1x256xf32>, tensor<1x4xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<4x64xf32>, tensor<528xi8>, tensor<?xi64>) -> tensor<528xi8>
  %short_o = call @store(%state, %table, %req, %pos, %w, %f, %cache, %short_out) : (tensor<4x1x256xf32>, tensor<1x4xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<4x64xf32>, tensor<528xi8>, tensor<?xi64>) -> tensor<528xi8>
  %short_p = call @store(%state, %table, %req, %short_pos, %w, %f, %cache, %out) : (tensor<4x1x256xf32>, tensor<1x4xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<4x64xf32>, tensor<528xi8>, tensor<?xi64>) -> tensor<528xi8>
  // Item 2 at slot 2 changes bytes; past out_loc's or positions' end it stores nothing.
  // CHECK: [{{[1-9][0-9]*}}]
  call @differences(%all, %two) : (tensor<528xi8>, tensor<528xi8>) -> ()
  // CHECK: [0]
  call @differences(%short_o, %two) : (tensor<528xi8>, tensor<528xi8>) -> ()
  // CHECK: [0]
  call @differences(%short_p, %two) : (tensor<528xi8>, tensor<528xi8>) -> ()
  return
}
