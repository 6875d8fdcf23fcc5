// The body of one dsv4 kernel: what convert-dsv4-to-gpu fills each gpu.func with. Each group
// of `lanes` threads owns one row; the row lives in f32 registers from the one load to the one
// store, and cross-lane butterfly stages exchange by subgroup shuffles or through LDS with a
// gpu.barrier between every write and read (ButterflySchedule.h plans them).
#ifndef DSV4_CONVERSION_DSV4TOGPU_KERNELEMITTER_H
#define DSV4_CONVERSION_DSV4TOGPU_KERNELEMITTER_H

#include "ButterflySchedule.h"
#include "dsv4/Dialect/Dsv4.h"

#include <optional>

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::dsv4 {

/// Every global access of a row is 16 bytes wide.
constexpr int64_t kAccessBytes = 16;
/// gpu.shuffle widths above 32 do not exist on warp32 machines; the kernel must run there.
constexpr int64_t kMaxLanesPerRow = 32;

/// What a store kernel (dsv4.fused_store) does with the finished row instead of writing kv:
/// quantize it and store it into the paged cache (SPEC.md "Storing into the paged caches").
struct StoreConfig {
  CacheLayout layout;
  int64_t pageSize;
  /// The FP8 type of an FP8 layout (the chip's); null for indexer_mxfp4, whose codes are e2m1.
  Type fp8Type;
};

/// Everything the kernel is specialized for.
struct KernelConfig {
  /// The fused op (dsv4.fused_epilogue or dsv4.fused_store): diagnostics and locations.
  Operation *op;
  PositionSource source;
  int64_t ratio;
  FloatAttr eps;
  /// The Hadamard output scale; null for a kernel that does not rotate.
  FloatAttr scale;
  /// Set for a store kernel.
  std::optional<StoreConfig> store;
  int64_t headDim, ropeDim, lanes, rows, vectorWidth;
  Type kvType, weightType;
  ExchangeSchedule schedule;

  bool rotates() const { return bool(scale); }

  int64_t valuesPerLane() const { return headDim / lanes; }
  int64_t workgroupSize() const { return lanes * rows; }
  int indexBits() const { return llvm::Log2_64(headDim); }
  int laneBits() const { return llvm::Log2_64(lanes); }
  int pinnedBits() const { return llvm::Log2_64(vectorWidth); }
  /// freqs can be read 16 bytes at a time when no kv run straddles the RoPE boundary.
  bool vectorFreqs() const { return ropeDim % vectorWidth == 0; }
  /// Whether the Hadamard exchanges go through the workgroup's LDS (a workgroup attribution).
  bool exchangesThroughLds() const {
    return rotates() && lanes > 1 && schedule != ExchangeSchedule::Shuffle;
  }
};

/// Fills `kernel` (parameters of docs/ABI.md, one workgroup LDS attribution when
/// `config.exchangesThroughLds()`) for `config`: the in-place kernel writes the finished row
/// back to kv; a store kernel quantizes it into the cache and leaves kv alone.
void emitKernelBody(ImplicitLocOpBuilder &b, const KernelConfig &config, gpu::GPUFuncOp kernel);

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_DSV4TOGPU_KERNELEMITTER_H
