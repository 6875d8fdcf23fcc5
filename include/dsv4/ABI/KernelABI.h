// The kernel parameters of dsv4/ABI/KernelArgs.def and the plan columns of Handle.def as C++
// constants for the compiler: the kernel's signature, its body, the verifiers and the manifest
// writer all read these.
#ifndef DSV4_ABI_KERNELABI_H
#define DSV4_ABI_KERNELABI_H

#include "llvm/ADT/StringRef.h"

namespace mlir::dsv4 {

/// Module attribute where convert-dsv4-to-gpu records each kernel's configuration for the
/// manifest writer (the gpu.module itself is gone once it is a gpu.binary).
constexpr llvm::StringLiteral kKernelsAttrName = "dsv4.kernels";
/// On a kernel function the module calls, kept as `<name>.host` by convert-dsv4-to-gpu: the
/// kernel (`@name::@name`) that dsv4-host-launch makes it launch.
constexpr llvm::StringLiteral kLaunchesAttrName = "dsv4.launches";

/// Parameter positions: the in-place kernel's, then the ones a store kernel appends.
enum KernelArg : unsigned {
#define DSV4_KERNEL_ARG(Name, name, kind) k##Name##Arg,
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) k##Name##Arg,
#include "dsv4/ABI/KernelArgs.def"
  kNumStoreKernelArgs
};

/// Parameters of the in-place kernel (the first entries of every kernel's list).
constexpr unsigned kNumKernelArgs = 0
#define DSV4_KERNEL_ARG(Name, name, kind) +1
#include "dsv4/ABI/KernelArgs.def"
    ;

/// Parameter names and kinds ("ptr", "i32" or "i64"), as the manifest lists them.
constexpr llvm::StringLiteral kKernelArgNames[kNumStoreKernelArgs] = {
#define DSV4_KERNEL_ARG(Name, name, kind) #name,
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) #name,
#include "dsv4/ABI/KernelArgs.def"
};
constexpr llvm::StringLiteral kKernelArgKinds[kNumStoreKernelArgs] = {
#define DSV4_KERNEL_ARG(Name, name, kind) #kind,
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) #kind,
#include "dsv4/ABI/KernelArgs.def"
};

/// How many parameters a kernel takes: the store kernel's list extends the in-place one.
inline unsigned numKernelArgs(bool store) { return store ? kNumStoreKernelArgs : kNumKernelArgs; }

/// Parameter positions of a compress kernel, a list of its own.
enum CompressKernelArg : unsigned {
#define DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind) kCompress##Name##Arg,
#include "dsv4/ABI/KernelArgs.def"
  kNumCompressKernelArgs
};
constexpr llvm::StringLiteral kCompressKernelArgNames[kNumCompressKernelArgs] = {
#define DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind) #name,
#include "dsv4/ABI/KernelArgs.def"
};
constexpr llvm::StringLiteral kCompressKernelArgKinds[kNumCompressKernelArgs] = {
#define DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind) #kind,
#include "dsv4/ABI/KernelArgs.def"
};

/// Columns of the prefill plan a kernel's handle points at (Handle.def), in order.
enum PlanField : unsigned {
#define DSV4_PLAN_FIELD(Name, name) kPlan##Name##Field,
#include "dsv4/ABI/Handle.def"
  kNumPlanFields
};
constexpr llvm::StringLiteral kPlanFieldNames[kNumPlanFields] = {
#define DSV4_PLAN_FIELD(Name, name) #name,
#include "dsv4/ABI/Handle.def"
};

/// Columns of sglang's DecodePlan and CompressPlan read as i32 (Handle.def), in order.
enum SglangDecodeField : unsigned {
#define DSV4_PLAN_FIELD(Name, name)
#define DSV4_SGLANG_DECODE_FIELD(Name, name) kSglangDecode##Name##Field,
#include "dsv4/ABI/Handle.def"
  kNumSglangDecodeFields
};
constexpr llvm::StringLiteral kSglangDecodeFieldNames[kNumSglangDecodeFields] = {
#define DSV4_PLAN_FIELD(Name, name)
#define DSV4_SGLANG_DECODE_FIELD(Name, name) #name,
#include "dsv4/ABI/Handle.def"
};
enum SglangExtendField : unsigned {
#define DSV4_PLAN_FIELD(Name, name)
#define DSV4_SGLANG_EXTEND_FIELD(Name, name) kSglangExtend##Name##Field,
#include "dsv4/ABI/Handle.def"
  kNumSglangExtendFields
};
constexpr llvm::StringLiteral kSglangExtendFieldNames[kNumSglangExtendFields] = {
#define DSV4_PLAN_FIELD(Name, name)
#define DSV4_SGLANG_EXTEND_FIELD(Name, name) #name,
#include "dsv4/ABI/Handle.def"
};
// A plan row of every kind is 16 bytes: the runtime checks one plan_row_stride for all.
static_assert(unsigned(kNumSglangDecodeFields) == unsigned(kNumPlanFields) &&
              unsigned(kNumSglangExtendFields) == unsigned(kNumPlanFields));

} // namespace mlir::dsv4

#endif // DSV4_ABI_KERNELABI_H
