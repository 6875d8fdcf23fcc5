// One kernel configuration of the dsv4 epilogue and the dsv4 IR that computes it: the single
// place where a configuration becomes a kernel function (dsv4-gen, examples/, the cache).
#ifndef DSV4_GENERATOR_KERNELCONFIG_H
#define DSV4_GENERATOR_KERNELCONFIG_H

#include "mlir/IR/Builders.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace mlir::dsv4 {

/// What a kernel is compiled for; everything the manifest records about the math.
struct KernelConfig {
  std::string mode = "decode";   ///< decode (seq_lens) | prefill (plan)
  int64_t headDim = 512;         ///< D
  int64_t ropeDim = 64;          ///< R, the last R channels are rotated
  std::string kvDtype = "f32";   ///< f32 | bf16 | f16
  std::string weightDtype = "f32"; ///< f32 | bf16
  float eps = 1.0e-6f;
  int64_t ratio = 4;
  bool rotate = true;            ///< Hadamard after RoPE
  std::optional<float> scale;    ///< Hadamard scale; D^-0.5 when unset
  /// A store kernel (SPEC.md "Storing into the paged caches") when set: indexer | main |
  /// indexer_mxfp4; the function then takes (kv, weight, freqs, handle, cache, out_loc) and
  /// returns the cache.
  std::optional<std::string> layout;
  int64_t pageSize = 64;         ///< tokens per cache page (store kernels)
  /// fn (f8E4M3FN) | fnuz (f8E4M3FNUZ): the FP8 type of an FP8 layout's store kernel
  /// (indexer_mxfp4 quantizes to e2m1 and has none).
  std::string fp8 = "fn";

  /// The Hadamard scale actually compiled in.
  float effectiveScale() const;
};

/// The eps every DeepSeek-V4 compressor uses; other values are spelled in the kernel name.
constexpr float kDefaultEps = 1.0e-6f;

/// Checks `config` against the dialect's limits (include/dsv4/ABI/Limits.h: D a power of two
/// in [64, 4096], ratio in [1, 2^31 - 1], a page size a power of two up to 2^20; R even in
/// [2, D], eps > 0, known dtypes), so that every configuration it accepts verifies. Returns an
/// empty string or one message.
std::string validate(const KernelConfig &config);

/// `dsv4_<mode>_r<ratio>[_norot]_d<D>_r<R>_<kv>[_w<weight>][_eps<bits>][_s<bits>]`: the
/// names examples/ uses; eps and scale appear (as f32 bit patterns) only when not the default.
/// A store kernel appends `_<layout>_p<page size>`, and `_<fp8>` for an FP8 layout.
std::string kernelName(const KernelConfig &config);

/// Builds `func.func @<name>(kv, weight, freqs, handle) -> kv` holding the unfused chain
/// (items, rms_norm, rope[, hadamard]) at the builder's insertion point; a store kernel takes
/// (kv, weight, freqs, handle, cache, out_loc) -> cache and holds dsv4.fused_store (the chain
/// would round a bf16 kv's rows before quantizing them). `config` must be valid.
func::FuncOp buildKernel(OpBuilder &builder, Location loc, const KernelConfig &config,
                         llvm::StringRef name);

} // namespace mlir::dsv4

#endif // DSV4_GENERATOR_KERNELCONFIG_H
