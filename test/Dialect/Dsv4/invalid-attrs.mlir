// RUN: dsv4-opt %s -split-input-file -verify-diagnostics

// Every message of #dsv4.spec's and #dsv4.plan's verifiers (lib/Dialect/Dsv4/IR/Dsv4Attrs.cpp). The
// limits they share with the ops' verifiers are worded the same (lib/Dialect/Dsv4/IR/Checks.cpp).

// expected-error @+1 {{head dim must be a power of two in [64, 4096], got 96}}
func.func private @head_dim() attributes {s = #dsv4.spec<mode = decode, head_dim = 96, rope_dim = 64, kv_type = f32, weight_type = f32, ratio = 4, eps = 1.0e-06 : f32>}

// -----

// expected-error @+1 {{rope_dim must be even and in [2, 128], got 63}}
func.func private @rope_dim() attributes {s = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 63, kv_type = f32, weight_type = f32, ratio = 4, eps = 1.0e-06 : f32>}

// -----

// expected-error @+1 {{kv type must be f32, bf16 or f16, got 'f64'}}
func.func private @kv_type() attributes {s = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = f64, weight_type = f32, ratio = 4, eps = 1.0e-06 : f32>}

// -----

// expected-error @+1 {{weight type must be f32 or bf16, got 'f16'}}
func.func private @weight_type() attributes {s = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = f32, weight_type = f16, ratio = 4, eps = 1.0e-06 : f32>}

// -----

// expected-error @+1 {{eps must be positive and finite, got 0.000000e+00}}
func.func private @eps() attributes {s = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = f32, weight_type = f32, ratio = 4, eps = 0.0 : f32>}

// -----

// expected-error @+1 {{ratio must be in [1, 2147483647], got 0}}
func.func private @ratio() attributes {s = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = f32, weight_type = f32, ratio = 0, eps = 1.0e-06 : f32>}

// -----

// expected-error @+1 {{scale must be finite, got INF}}
func.func private @scale() attributes {s = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = f32, weight_type = f32, ratio = 4, eps = 1.0e-06 : f32, scale = 0x7F800000 : f32>}

// -----

// expected-error @+1 {{the main layout stores rows of 512 channels, got head dim 128}}
func.func private @layout_dim() attributes {s = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = f32, weight_type = f32, ratio = 4, eps = 1.0e-06 : f32, layout = main, page_size = 64, fp8_type = f8E4M3FN>}

// -----

// expected-error @+1 {{the main layout keeps the last 64 channels as bf16 rope channels, got rope_dim 32}}
func.func private @layout_tail() attributes {s = #dsv4.spec<mode = decode, head_dim = 512, rope_dim = 32, kv_type = f32, weight_type = f32, ratio = 4, eps = 1.0e-06 : f32, layout = main, page_size = 64, fp8_type = f8E4M3FN>}

// -----

// expected-error @+1 {{the indexer layout quantizes to FP8 and needs fp8_type}}
func.func private @no_fp8() attributes {s = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = f32, weight_type = f32, ratio = 4, eps = 1.0e-06 : f32, layout = indexer, page_size = 64>}

// -----

// expected-error @+1 {{the indexer_mxfp4 layout quantizes to f4E2M1FN and takes no fp8_type, got 'f8E4M3FN'}}
func.func private @mxfp4_fp8() attributes {s = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = f32, weight_type = f32, ratio = 4, eps = 1.0e-06 : f32, layout = indexer_mxfp4, page_size = 64, fp8_type = f8E4M3FN>}

// -----

// expected-error @+1 {{fp8_type must be f8E4M3FN or f8E4M3FNUZ, got 'f8E5M2'}}
func.func private @fp8_kind() attributes {s = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = f32, weight_type = f32, ratio = 4, eps = 1.0e-06 : f32, layout = indexer, page_size = 64, fp8_type = f8E5M2>}

// -----

// expected-error @+1 {{a store spec needs page_size}}
func.func private @no_page() attributes {s = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = f32, weight_type = f32, ratio = 4, eps = 1.0e-06 : f32, layout = indexer_mxfp4>}

// -----

// expected-error @+1 {{page_size must be a power of two in [1, 1048576], got 48}}
func.func private @page() attributes {s = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = f32, weight_type = f32, ratio = 4, eps = 1.0e-06 : f32, layout = indexer_mxfp4, page_size = 48>}

// -----

// expected-error @+1 {{page_size and fp8_type belong to a store spec (one with a layout)}}
func.func private @page_in_place() attributes {s = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = f32, weight_type = f32, ratio = 4, eps = 1.0e-06 : f32, page_size = 64>}

// -----

// expected-error @+1 {{lanes_per_row must be a power of two in [1, 32] for a kernel that rotates, got 12}}
func.func private @lanes() attributes {p = #dsv4.plan<lanes_per_row = 12, rows_per_workgroup = 4, vector_width = 4, schedule = shuffle, lds_bytes = 0>}

// -----

// expected-error @+1 {{rows_per_workgroup 64 times lanes_per_row 32 must be in [1, 1024]}}
func.func private @rows() attributes {p = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 64, vector_width = 4, schedule = shuffle, lds_bytes = 0>}

// -----

// expected-error @+1 {{vector_width must be a power of two in [1, 16], got 3}}
func.func private @width() attributes {p = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 3, schedule = shuffle, lds_bytes = 0>}

// -----

// expected-error @+1 {{lds_bytes must not be negative, got -4}}
func.func private @lds() attributes {p = #dsv4.plan<lanes_per_row = 32, rows_per_workgroup = 4, vector_width = 4, schedule = grouped, lds_bytes = -4>}

// -----

// i64 slots are spelled by the parameter's absence: one kernel, one spelling.
// expected-error @+1 {{out_loc_type is i32 or absent (i64), and only a store spec's that does not compress; got 'i64'}}
func.func private @out_loc_i64() attributes {s = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = f32, weight_type = f32, ratio = 4, eps = 1.0e-06 : f32, scale = 0.0883883461 : f32, layout = indexer, page_size = 64, fp8_type = f8E4M3FN, out_loc_type = i64>}

// -----

// expected-error @+1 {{out_loc_type is i32 or absent (i64), and only a store spec's that does not compress; got 'i32'}}
func.func private @out_loc_in_place() attributes {s = #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = f32, weight_type = f32, ratio = 4, eps = 1.0e-06 : f32, out_loc_type = i32>}
