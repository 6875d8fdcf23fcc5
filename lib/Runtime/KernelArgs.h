//===- KernelArgs.h - one launch's kernel arguments, from the ABI table --===//
//
// The values of dsv4/ABI/KernelArgs.def as the kernel receives them, the
// kernelParams array both back ends hand the driver (HIP and CUDA each write
// the kernel-argument segment from it, hidden arguments included), and the
// check (LaunchCheck.cpp) that turns a caller's dsv4_launch_args into them.
//
//===----------------------------------------------------------------------===//
#ifndef DSV4_RUNTIME_KERNELARGS_H
#define DSV4_RUNTIME_KERNELARGS_H

#include "dsv4/Runtime/dsv4_runtime.h"

#include <cstdint>

namespace dsv4::rt {

struct Manifest;

// Every argument of the table, the store kernel's included (an in-place
// kernel's launch passes them too; the driver reads only its own): a buffer
// as one 64-bit global pointer, a scalar as its kind.
using KernelArg_ptr = const void *;
using KernelArg_i32 = int32_t;
using KernelArg_i64 = int64_t;
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) DSV4_KERNEL_ARG(Name, name, kind)
struct KernelArgValues {
#define DSV4_KERNEL_ARG(Name, name, kind) KernelArg_##kind name;
#include "dsv4/ABI/KernelArgs.def"
};

// A compress kernel's arguments, its own list.
struct CompressKernelArgValues {
#define DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind) KernelArg_##kind name;
#include "dsv4/ABI/KernelArgs.def"
};

// kNumKernelArgs: the in-place kernel's; kNumStoreKernelArgs: a store kernel's;
// kNumCompressKernelArgs: a compress kernel's.
enum : unsigned {
#define DSV4_KERNEL_ARG(Name, name, kind) k##Name##Arg,
#include "dsv4/ABI/KernelArgs.def"
  kNumKernelArgs,
  kNumStoreKernelArgs = kNumKernelArgs
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) +1
#define DSV4_KERNEL_ARG(Name, name, kind)
#include "dsv4/ABI/KernelArgs.def"
  ,
  kNumCompressKernelArgs = 0
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind) +1
#define DSV4_KERNEL_ARG(Name, name, kind)
#include "dsv4/ABI/KernelArgs.def"
};

// Pointers to each value, in ABI order, as the driver's kernelParams; valid while `values`
// lives.
struct KernelParams {
  explicit KernelParams(KernelArgValues &values)
      : pointers{
#define DSV4_KERNEL_ARG(Name, name, kind) &values.name,
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) &values.name,
#include "dsv4/ABI/KernelArgs.def"
        } {}
  void *pointers[kNumStoreKernelArgs];
};

struct CompressKernelParams {
  explicit CompressKernelParams(CompressKernelArgValues &values)
      : pointers{
#define DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind) &values.name,
#include "dsv4/ABI/KernelArgs.def"
        } {}
  void *pointers[kNumCompressKernelArgs];
};

struct LaunchDims {
  uint32_t grid[3];  // in workgroups
  uint32_t block[3]; // in work-items
};

// Everything the compiled kernel takes for granted (dtypes, sizes, eps, ratio,
// rotate, scale, layout, page size, the alignment of its 16-byte accesses, i32
// ranges) is checked against the manifest before a launch, because the kernel
// cannot report a violation. On DSV4_OK either `launchNeeded` is false (no items, rows or
// positions) or `values` and `dims` are ready to launch.
dsv4_status checkLaunch(const Manifest &manifest, const dsv4_launch_args &args,
                        KernelArgValues &values, LaunchDims &dims, bool &launchNeeded);
// The same for a compress kernel (no items: no launch).
dsv4_status checkCompressLaunch(const Manifest &manifest, const dsv4_compress_launch_args &args,
                                CompressKernelArgValues &values, LaunchDims &dims,
                                bool &launchNeeded);

} // namespace dsv4::rt

#endif // DSV4_RUNTIME_KERNELARGS_H
