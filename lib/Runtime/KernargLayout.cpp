//===- KernargLayout.cpp - expose an HSACO's kernel-argument layout -------===//
//
// The C view of AmdgpuMetadata, for dsv4-kernarg-dump and other tools that
// want to see exactly what the launch path will pack.
//
//===----------------------------------------------------------------------===//
#include "KernargLayout.h"

#include "Error.h"

#include <cstring>

using namespace dsv4::rt;

namespace {
bool copyString(char *dst, size_t capacity, const std::string &src) {
  if (src.size() >= capacity)
    return false;
  std::memcpy(dst, src.c_str(), src.size() + 1);
  return true;
}
} // namespace

dsv4_status dsv4::rt::fillKernargLayout(const KernelInfo &kernel,
                                        const std::string &target,
                                        dsv4_kernarg_layout &out) {
  std::memset(&out, 0, sizeof(out));
  if (!copyString(out.target, sizeof(out.target), target) ||
      !copyString(out.name, sizeof(out.name), kernel.name) ||
      !copyString(out.symbol, sizeof(out.symbol), kernel.symbol))
    return fail(DSV4_ERR_INVALID_ARGUMENT,
                "kernel '%s': a name is too long for dsv4_kernarg_layout", kernel.name.c_str());
  if (kernel.args.size() > DSV4_MAX_KERNARGS)
    return fail(DSV4_ERR_INVALID_ARGUMENT, "kernel '%s' has %zu arguments, more than %d",
                kernel.name.c_str(), kernel.args.size(), DSV4_MAX_KERNARGS);
  out.segment_size = kernel.kernargSegmentSize;
  out.segment_align = kernel.kernargSegmentAlign;
  out.num_args = static_cast<uint32_t>(kernel.args.size());
  for (size_t i = 0; i < kernel.args.size(); ++i) {
    const KernelArgInfo &a = kernel.args[i];
    out.args[i].offset = a.offset;
    out.args[i].size = a.size;
    if (!copyString(out.args[i].value_kind, sizeof(out.args[i].value_kind), a.valueKind))
      return fail(DSV4_ERR_INVALID_ARGUMENT, "kernel '%s': value kind '%s' is too long",
                  kernel.name.c_str(), a.valueKind.c_str());
  }
  return DSV4_OK;
}

extern "C" dsv4_status dsv4_hsaco_kernarg_layout(const void *image, size_t size,
                                                 uint32_t index,
                                                 dsv4_kernarg_layout *out) {
  clearError();
  if (!image || !out)
    return fail(DSV4_ERR_INVALID_ARGUMENT,
                "dsv4_hsaco_kernarg_layout: image and out must not be NULL");
  try {
    CodeObjectMetadata meta;
    if (dsv4_status st = readAmdgpuMetadata(image, size, meta))
      return st;
    if (index >= meta.kernels.size())
      return fail(DSV4_ERR_KERNEL_NOT_FOUND, "code object has %zu kernel(s), no index %u",
                  meta.kernels.size(), index);
    return fillKernargLayout(meta.kernels[index], meta.target, *out);
  } catch (...) {
    return fail(DSV4_ERR_INVALID_ARGUMENT, "out of host memory");
  }
}
