//===- KernelArgs.h - one launch's kernel arguments, from the ABI table --===//
//
// The values of dsv4/ABI/KernelArgs.def as the kernel receives them, and the
// kernelParams array both back ends hand the driver (HIP and CUDA each write
// the kernel-argument segment from it, hidden arguments included).
//
//===----------------------------------------------------------------------===//
#ifndef DSV4_RUNTIME_KERNELARGS_H
#define DSV4_RUNTIME_KERNELARGS_H

#include <cstdint>

namespace dsv4::rt {

using KernelArgPtr = const void *; // a buffer: one 64-bit global pointer
using KernelArgI32 = int32_t;

struct KernelArgValues {
#define DSV4_KERNEL_ARG(Name, name, kind) KernelArg_##kind name;
#define KernelArg_ptr KernelArgPtr
#define KernelArg_i32 KernelArgI32
#include "dsv4/ABI/KernelArgs.def"
#undef KernelArg_ptr
#undef KernelArg_i32
};

enum : unsigned {
#define DSV4_KERNEL_ARG(Name, name, kind) k##Name##Arg,
#include "dsv4/ABI/KernelArgs.def"
  kNumKernelArgs
};

// Pointers to each value, in ABI order; valid while `values` lives.
struct KernelParams {
  explicit KernelParams(KernelArgValues &values)
      : pointers{
#define DSV4_KERNEL_ARG(Name, name, kind) &values.name,
#include "dsv4/ABI/KernelArgs.def"
        } {}
  void *pointers[kNumKernelArgs];
};

struct LaunchDims {
  uint32_t grid[3];  // in workgroups
  uint32_t block[3]; // in work-items
};

} // namespace dsv4::rt

#endif // DSV4_RUNTIME_KERNELARGS_H
