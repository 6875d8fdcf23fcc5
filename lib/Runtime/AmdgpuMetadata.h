//===- AmdgpuMetadata.h - kernel layouts from an HSACO's note ---*- C++ -*-===//
//
// An AMDGPU code object describes its own kernels in an ELF note
// (NT_AMDGPU_METADATA, owner "AMDGPU", a msgpack map; LLVM AMDGPUUsage "Code
// Object V3+ Metadata"). The runtime packs kernel arguments from this, not
// from assumptions, so hidden arguments and padding are always where the
// compiler put them.
//
//===----------------------------------------------------------------------===//
#ifndef DSV4_RUNTIME_AMDGPUMETADATA_H
#define DSV4_RUNTIME_AMDGPUMETADATA_H

#include "dsv4/Runtime/dsv4_runtime.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dsv4::rt {

struct KernelArgInfo {
  uint32_t offset = 0;
  uint32_t size = 0;
  std::string valueKind; // "global_buffer", "by_value", "hidden_..."
  bool isHidden() const { return valueKind.rfind("hidden_", 0) == 0; }
};

struct KernelInfo {
  std::string name, symbol;
  uint32_t kernargSegmentSize = 0;
  uint32_t kernargSegmentAlign = 0;
  std::vector<KernelArgInfo> args;
};

struct CodeObjectMetadata {
  std::string target; // "amdgcn-amd-amdhsa--gfx942:sramecc+:xnack-"
  std::vector<KernelInfo> kernels;
  const KernelInfo *findKernel(std::string_view name) const;
};

// Reads the metadata of a 64-bit little-endian AMDGPU ELF. Failures are
// DSV4_ERR_LOAD_FAILED with a message saying what was wrong with the image.
dsv4_status readAmdgpuMetadata(const void *image, size_t size,
                               CodeObjectMetadata &out);

// "gfx942" from "amdgcn-amd-amdhsa--gfx942:xnack-" or "gfx942:sramecc+".
std::string chipOf(std::string_view targetOrArch);

} // namespace dsv4::rt

#endif // DSV4_RUNTIME_AMDGPUMETADATA_H
