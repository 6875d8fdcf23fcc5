// The kernel parameters of dsv4/ABI/KernelArgs.def as C++ constants for the compiler: the
// kernel's signature, its body and the manifest writer all read these.
#ifndef DSV4_CONVERSION_KERNELABI_H
#define DSV4_CONVERSION_KERNELABI_H

#include "llvm/ADT/StringRef.h"

namespace mlir::dsv4 {

/// Module attribute where convert-dsv4-to-gpu records each kernel's configuration for the
/// manifest writer (the gpu.module itself is gone once it is a gpu.binary).
constexpr llvm::StringLiteral kKernelsAttrName = "dsv4.kernels";

/// Parameter positions.
enum KernelArg : unsigned {
#define DSV4_KERNEL_ARG(Name, name, kind) k##Name##Arg,
#include "dsv4/ABI/KernelArgs.def"
  kNumKernelArgs
};

/// Parameter names and kinds ("ptr" or "i32"), as the manifest lists them.
constexpr llvm::StringLiteral kKernelArgNames[kNumKernelArgs] = {
#define DSV4_KERNEL_ARG(Name, name, kind) #name,
#include "dsv4/ABI/KernelArgs.def"
};
constexpr llvm::StringLiteral kKernelArgKinds[kNumKernelArgs] = {
#define DSV4_KERNEL_ARG(Name, name, kind) #kind,
#include "dsv4/ABI/KernelArgs.def"
};

/// True for a buffer (a global pointer); the others are i32 scalars.
inline bool isKernelBuffer(unsigned arg) { return kKernelArgKinds[arg] == "ptr"; }

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_KERNELABI_H
