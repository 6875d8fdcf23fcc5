// The body of one dsv4 kernel: what convert-dsv4-to-gpu fills each gpu.func with. Each group
// of `lanes` threads owns one row; the row lives in f32 registers from the one load to the one
// store, and cross-lane butterfly stages exchange by subgroup shuffles or through LDS with a
// gpu.barrier between every write and read (ButterflySchedule.h plans them).
#ifndef DSV4_CONVERSION_DSV4TOGPU_KERNELEMITTER_H
#define DSV4_CONVERSION_DSV4TOGPU_KERNELEMITTER_H

#include "ButterflySchedule.h"
#include "dsv4/ABI/Limits.h"
#include "dsv4/Dialect/Dsv4/IR/Dsv4.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::dsv4 {

using ::dsv4_abi::kAccessBytes;

/// A kernel to emit: the fused op (diagnostics, locations), the spec it computes and the plan
/// dsv4-plan-kernels chose for it; the rest is derived here.
struct KernelToEmit {
  Operation *op;
  KernelSpecAttr spec;
  KernelPlanAttr plan;

  int64_t valuesPerLane() const { return spec.getHeadDim() / plan.getLanesPerRow(); }
  int indexBits() const { return llvm::Log2_64(spec.getHeadDim()); }
  int laneBits() const { return llvm::Log2_64(plan.getLanesPerRow()); }
  int pinnedBits() const { return llvm::Log2_64(plan.getVectorWidth()); }
  /// freqs can be read 16 bytes at a time when no kv run straddles the RoPE boundary.
  bool vectorFreqs() const { return spec.getRopeDim() % plan.getVectorWidth() == 0; }
};

/// Fills `kernel` (parameters of docs/ABI.md; its workgroup LDS attributions, in order: the
/// exchange slots when the plan exchanges through LDS, a split window's partial sums, the
/// sums of a row's 32-lane parts) for `config`: the in-place kernel writes the finished row
/// back to kv; a store kernel quantizes it into the cache and leaves kv alone.
void emitKernelBody(ImplicitLocOpBuilder &b, const KernelToEmit &config, gpu::GPUFuncOp kernel);

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_DSV4TOGPU_KERNELEMITTER_H
