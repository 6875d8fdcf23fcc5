//===- KernargPack.cpp - build the HSACO kernel-argument buffer -----------===//
//
// Hidden argument values follow LLVM AMDGPUUsage "Code Object V5 Metadata"
// and what HIP's own launch path writes. Hidden arguments not listed here
// (heap, hostcall, printf, queue pointers, ...) are zero: a dsv4 kernel does
// not use them, and HIP re-fills its runtime-owned ones when it copies the
// buffer into the dispatch's kernarg segment.
//
//===----------------------------------------------------------------------===//
#include "KernargPack.h"

#include "Error.h"

#include <cstring>

using namespace dsv4::rt;

namespace {

void storeLE(uint8_t *dst, uint64_t value, uint32_t size) {
  for (uint32_t i = 0; i < size && i < 8; ++i)
    dst[i] = static_cast<uint8_t>(value >> (8 * i));
}

// The value of a launch-determined hidden argument, or false if this one is
// left zero.
bool hiddenValue(const std::string &kind, const LaunchDims &d, uint64_t &v) {
  static const char *const axes = "xyz";
  for (int a = 0; a < 3; ++a) {
    std::string axis(1, axes[a]);
    if (kind == "hidden_block_count_" + axis) {
      v = d.grid[a];
      return true;
    }
    if (kind == "hidden_group_size_" + axis) {
      v = d.block[a];
      return true;
    }
    // Work-items in the last, partial workgroup; the grid is given in whole
    // workgroups, so there is never a partial one.
    if (kind == "hidden_remainder_" + axis) {
      v = 0;
      return true;
    }
  }
  // hipModuleLaunchKernel always dispatches a 3-D NDRange, so HIP reports 3.
  if (kind == "hidden_grid_dims") {
    v = 3;
    return true;
  }
  return false;
}

} // namespace

dsv4_status dsv4::rt::checkKernelLayout(const KernelInfo &kernel,
                                        const Manifest &manifest) {
  size_t explicitCount = 0;
  for (const KernelArgInfo &arg : kernel.args) {
    if (arg.isHidden())
      continue;
    size_t i = explicitCount++;
    if (i >= manifest.args.size())
      continue; // reported below with the count
    const ManifestArg &want = manifest.args[i];
    bool isPtr = want.type == "ptr";
    uint32_t wantSize = isPtr ? 8 : 4;
    // LLVM describes every pointer argument (global or flat) as a
    // global_buffer and every scalar as by_value.
    bool kindOk = arg.valueKind == (isPtr ? "global_buffer" : "by_value");
    if (arg.size != wantSize || !kindOk)
      return fail(DSV4_ERR_MISMATCH,
                  "kernel '%s': argument %zu ('%s') is %s of %u bytes in the "
                  "code object, the manifest says %s (%u bytes)",
                  kernel.name.c_str(), i, want.name.c_str(), arg.valueKind.c_str(),
                  arg.size, want.type.c_str(), wantSize);
  }
  if (explicitCount != manifest.args.size())
    return fail(DSV4_ERR_MISMATCH,
                "kernel '%s' has %zu explicit arguments in the code object, "
                "the manifest lists %zu",
                kernel.name.c_str(), explicitCount, manifest.args.size());
  return DSV4_OK;
}

void dsv4::rt::packKernargs(const KernelInfo &kernel, const AbiValues &values,
                            const LaunchDims &dims, std::vector<uint8_t> &buffer) {
  // Zero-filled: unlisted hidden arguments and padding are 0.
  buffer.assign(kernel.kernargSegmentSize ? kernel.kernargSegmentSize : 1, 0);
  size_t explicitIndex = 0;
  for (const KernelArgInfo &arg : kernel.args) {
    uint8_t *dst = buffer.data() + arg.offset; // in bounds: readKernel checked
    if (!arg.isHidden()) {
      size_t i = explicitIndex++;
      uint64_t v = i < kNumAbiPtrArgs
                       ? values.ptrs[i]
                       : static_cast<uint32_t>(values.ints[i - kNumAbiPtrArgs]);
      storeLE(dst, v, arg.size);
      continue;
    }
    uint64_t v;
    if (hiddenValue(arg.valueKind, dims, v))
      storeLE(dst, v, arg.size);
  }
}
