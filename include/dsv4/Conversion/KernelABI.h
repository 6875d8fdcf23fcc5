// The kernel parameters of docs/ABI.md, in order: the one list that the kernel's signature,
// its body and the manifest writer all read.
#ifndef DSV4_CONVERSION_KERNELABI_H
#define DSV4_CONVERSION_KERNELABI_H

#include "llvm/ADT/StringRef.h"

namespace mlir::dsv4 {

/// Module attribute where convert-dsv4-to-gpu records each kernel's configuration for the
/// manifest writer (the gpu.module itself is gone once it is a gpu.binary).
constexpr llvm::StringLiteral kKernelsAttrName = "dsv4.kernels";

/// Parameter positions. The buffers come first (one global pointer each), then i32 scalars.
enum KernelArg : unsigned {
  kKvArg,
  kWeightArg,
  kFreqsArg,
  kHandleArg,
  kNumItemsArg,
  kNumRowsArg,
  kKvRowStrideArg,
  kNumPositionsArg,
  kFreqsRowStrideArg,
  kPlanRowStrideArg,
  kNumKernelArgs
};
constexpr unsigned kNumKernelBuffers = kNumItemsArg;

/// Parameter names, as the manifest lists them.
constexpr llvm::StringLiteral kKernelArgNames[kNumKernelArgs] = {
    "kv",        "weight",        "freqs",         "handle",           "num_items",
    "num_rows", "kv_row_stride", "num_positions", "freqs_row_stride", "plan_row_stride"};

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_KERNELABI_H
