// From a kernel spec (#dsv4.spec) to the dsv4 IR that computes it: the single place where a
// configuration becomes a kernel function (dsv4-gen, examples/, the cache), and its name.
#ifndef DSV4_GENERATOR_BUILDKERNEL_H
#define DSV4_GENERATOR_BUILDKERNEL_H

#include "dsv4/Dialect/Dsv4/IR/Dsv4.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::dsv4 {

/// The eps every DeepSeek-V4 compressor uses; other values are spelled in the kernel name.
constexpr float kDefaultEps = 1.0e-6f;

/// D^-0.5 rounded once to f32, the scale that keeps the Hadamard transform orthonormal.
float defaultScale(int64_t headDim);

/// `dsv4_<mode>_r<ratio>[_norot]_d<D>_r<R>_<kv>[_w<weight>][_eps<bits>][_s<bits>]`: the
/// names examples/ uses; eps and scale appear (as f32 bit patterns) only when not the default.
/// A compress kernel adds `_b<state block size>[_ov]` (mode `compress`); a store kernel appends
/// `_<layout>_p<page size>`, and `_<fn|fnuz>` for an FP8 layout.
std::string kernelName(KernelSpecAttr spec);

/// Builds `func.func @<name>(kv, weight, freqs, handle) -> kv` holding the unfused chain
/// (items, rms_norm, rope[, hadamard]) at the builder's insertion point; a store kernel takes
/// (kv, weight, freqs, handle, cache, out_loc) -> cache and holds dsv4.fused_store (the chain
/// would round a bf16 kv's rows before quantizing them); a compress kernel takes (state,
/// block_table, token_req, positions, weight, freqs, cache, out_loc) -> cache and holds
/// dsv4.fused_compress_store. `spec` has been verified.
func::FuncOp buildKernel(OpBuilder &builder, Location loc, KernelSpecAttr spec,
                         llvm::StringRef name);

} // namespace mlir::dsv4

#endif // DSV4_GENERATOR_BUILDKERNEL_H
