// RUN: dsv4-opt %s --dsv4-plan-kernels --convert-dsv4-to-gpu -split-input-file -verify-diagnostics
// RUN: not dsv4-opt %s --dsv4-plan-kernels="lanes-per-row=64" --convert-dsv4-to-gpu -split-input-file 2>&1 | FileCheck %s --check-prefix=LANES
// RUN: not dsv4-opt %s --dsv4-plan-kernels="lanes-per-row=16 schedule=grouped" --convert-dsv4-to-gpu -split-input-file 2>&1 | FileCheck %s --check-prefix=GROUPED
// RUN: not dsv4-opt %s --dsv4-plan-kernels="schedule=zigzag" --convert-dsv4-to-gpu -split-input-file 2>&1 | FileCheck %s --check-prefix=SCHEDULE
// RUN: not dsv4-opt %s --convert-dsv4-to-gpu -split-input-file 2>&1 | FileCheck %s --check-prefix=NO-PLAN

// An unfused op has no GPU lowering.
func.func @unfused(%kv: tensor<?x512xf32>, %items: tensor<?x2xi32>) -> tensor<?x512xf32> {
  // expected-error @+1 {{'dsv4.hadamard' is not part of a fused epilogue; run dsv4-fuse first (only dsv4.fused_epilogue, dsv4.fused_store and dsv4.fused_compress_store have a GPU lowering)}}
  %0 = dsv4.hadamard %kv[%items] {scale = 1.0 : f32} : tensor<?x512xf32>, tensor<?x2xi32>
  return %0 : tensor<?x512xf32>
}

// -----

// An unfused quantization has no GPU lowering either.
func.func @unfused_quantize(%rows: tensor<?x128xf32>) -> tensor<?x128xf8E4M3FN> {
  // expected-error @+1 {{'dsv4.quantize' is not part of a fused store; run dsv4-fuse first (only dsv4.fused_epilogue, dsv4.fused_store and dsv4.fused_compress_store have a GPU lowering)}}
  %q, %s = dsv4.quantize f32 %rows {block = 128 : i64} : tensor<?x128xf32> -> tensor<?x128xf8E4M3FN>, tensor<?x1xf32>
  return %q : tensor<?x128xf8E4M3FN>
}

// -----

// A store kernel function passes its arguments in the op's order: cache, then out_loc.
// expected-error @+1 {{a kernel function must take (kv, weight, freqs, handle) and return dsv4.fused_epilogue of them, take (kv, weight, freqs, handle, cache, out_loc) and return dsv4.fused_store of them, or take (state, block_table, token_req, positions, weight, freqs, cache, out_loc) and return dsv4.fused_compress_store of them, with nothing else in its body}}
func.func @store_swapped(%kv: tensor<?x128xf32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %h: tensor<?xi32>, %o: tensor<?xi64>, %c: tensor<?xi8>) -> tensor<?xi8> {
  %0 = dsv4.fused_store decode indexer %kv, %w, %f, %h into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>, tensor<?xi64>
  return %0 : tensor<?xi8>
}

// -----

// A kernel function must be exactly `return fused(args)`.
// expected-error @+1 {{a kernel function must take (kv, weight, freqs, handle) and return dsv4.fused_epilogue of them, take (kv, weight, freqs, handle, cache, out_loc) and return dsv4.fused_store of them, or take (state, block_table, token_req, positions, weight, freqs, cache, out_loc) and return dsv4.fused_compress_store of them, with nothing else in its body}}
func.func @swapped(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>,
                   %seq_lens: tensor<?xi32>, %other: tensor<?x512xf32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue decode %other, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

// D=64 f32 leaves 16 lanes at most (one 16-byte run each), 8 for the grouped schedule (two
// runs); #dsv4.plan's verifier says so.
func.func @small(%kv: tensor<?x64xf32>, %weight: tensor<64xf32>, %freqs: tensor<?x64xf32>,
                 %seq_lens: tensor<?xi32>) -> tensor<?x64xf32> {
  // SCHEDULE: error: unknown schedule 'zigzag'; expected 'grouped', 'per-stage' or 'shuffle'
  // NO-PLAN: error: 'dsv4.fused_epilogue' has no plan: run dsv4-plan-kernels first
  // LANES: error: plan: lanes_per_row must be a power of two in [1, 32] for a kernel that rotates, got 64
  // GROUPED: error: plan: lanes_per_row 16 must leave each lane at least 8 values of the 64-wide row (schedule 'grouped')
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.125 : f32}
      : tensor<?x64xf32>, tensor<64xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x64xf32>
}

// -----

// A fused op outside a func.func has no kernel function (this used to dereference null).
gpu.module @outside {
  gpu.func @k(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>,
              %seq_lens: tensor<?xi32>) {
    // expected-error @+1 {{'dsv4.fused_epilogue' must sit in a func.func directly inside the top-level module: that function becomes the kernel}}
    %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
        {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64}
        : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
    gpu.return
  }
}

// -----

// gpu-module-to-binary serializes only the top module's gpu.modules: a kernel in a nested
// module would silently never be written. (The outer module is the top-level one: a chunk
// holding one module is not wrapped.)
module {
  module @nested {
    func.func @nested_kernel(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>,
                             %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
      // expected-error @+1 {{'dsv4.fused_epilogue' must sit in a func.func directly inside the top-level module}}
      %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
          {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64}
          : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
      return %0 : tensor<?x512xf32>
    }
  }
}

// -----

// PTX rejects '-' in a symbol (LLVM used to abort on it).
// expected-error @+1 {{kernel name 'a-b' is not a valid symbol: use ASCII letters, digits and '_', not starting with a digit, other than '_' alone and PTX's reserved WARP_SZ}}
func.func @"a-b"(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>,
                 %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

// The name becomes a file name: '/' would write outside the output folder.
// expected-error @+1 {{kernel name '../escaped' is not a valid symbol}}
func.func @"../escaped"(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>,
                        %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

// ptxas rejects '_' alone (a PTX identifier starting with '_' needs a second character) and
// PTX's predefined constant WARP_SZ; the sm_90 compile used to write a PTX it refuses.
// expected-error @+1 {{kernel name '_' is not a valid symbol}}
func.func @_(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>,
             %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

// expected-error @+1 {{kernel name 'WARP_SZ' is not a valid symbol}}
func.func @WARP_SZ(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>,
                   %seq_lens: tensor<?xi32>) -> tensor<?x512xf32> {
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  return %0 : tensor<?x512xf32>
}

// -----

// expected-error @+1 {{kernel name '' is not a valid symbol}}
"func.func"() <{function_type = (tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x512xf32>, sym_name = ""}> ({
^bb0(%kv: tensor<?x512xf32>, %weight: tensor<512xf32>, %freqs: tensor<?x64xf32>, %seq_lens: tensor<?xi32>):
  %0 = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
      {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64}
      : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
  "func.return"(%0) : (tensor<?x512xf32>) -> ()
}) : () -> ()

// -----

// The pool alone is the unfused chain's first op: only the fused op has a kernel.
func.func @compress_pool(%state: tensor<?x64x512xf32>, %table: tensor<?x?xi32>, %req: tensor<?xi32>, %pos: tensor<?xi64>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'dsv4.compress_pool' is not part of a fused store; run dsv4-fuse first (only dsv4.fused_epilogue, dsv4.fused_store and dsv4.fused_compress_store have a GPU lowering)}}
  %rows, %plan = dsv4.compress_pool %state[%table], %req, %pos {overlap, ratio = 4 : i64} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64> -> tensor<?x128xf32>, tensor<?x4xi32>
  return %rows : tensor<?x128xf32>
}

// -----

// A compress kernel function passes its operands in the op's order.
// expected-error @+1 {{a kernel function must take (kv, weight, freqs, handle) and return dsv4.fused_epilogue of them, take (kv, weight, freqs, handle, cache, out_loc) and return dsv4.fused_store of them, or take (state, block_table, token_req, positions, weight, freqs, cache, out_loc) and return dsv4.fused_compress_store of them, with nothing else in its body}}
func.func @fused_compress_store(%state: tensor<?x64x512xf32>, %table: tensor<?x?xi32>, %pos: tensor<?xi64>, %req: tensor<?xi32>, %w: tensor<128xf32>, %f: tensor<?x64xf32>, %c: tensor<?xi8>, %o: tensor<?xi64>) -> tensor<?xi8> {
  %0 = dsv4.fused_compress_store indexer %state[%table], %req, %pos, %w, %f into %c[%o] {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, overlap, page_size = 64 : i64, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32} : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
  return %0 : tensor<?xi8>
}
