//===- KernargPack.h - build the HSACO kernel-argument buffer ---*- C++ -*-===//
//
// Packs the ten ABI values at the offsets the code object's metadata gives,
// and fills the few hidden arguments whose value the launch determines.
// Kept apart from the HIP back end so it is testable without a GPU.
//
//===----------------------------------------------------------------------===//
#ifndef DSV4_RUNTIME_KERNARGPACK_H
#define DSV4_RUNTIME_KERNARGPACK_H

#include "AmdgpuMetadata.h"
#include "Manifest.h"

#include <cstdint>
#include <vector>

namespace dsv4::rt {

// The ten kernel arguments of docs/ABI.md, in ABI order.
struct AbiValues {
  uint64_t ptrs[kNumAbiPtrArgs]; // kv, weight, freqs, handle
  int32_t ints[kNumAbiArgs - kNumAbiPtrArgs]; // num_items .. plan_row_stride
};

struct LaunchDims {
  uint32_t grid[3];  // in workgroups
  uint32_t block[3]; // in work-items
};

// Checks that the kernel's explicit arguments are the manifest's, in count,
// order and size. DSV4_ERR_MISMATCH names the first difference.
dsv4_status checkKernelLayout(const KernelInfo &kernel, const Manifest &manifest);

// Writes a buffer of kernargSegmentSize bytes. Call only on a kernel that
// passed checkKernelLayout.
void packKernargs(const KernelInfo &kernel, const AbiValues &values,
                  const LaunchDims &dims, std::vector<uint8_t> &buffer);

} // namespace dsv4::rt

#endif // DSV4_RUNTIME_KERNARGPACK_H
