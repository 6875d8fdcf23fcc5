//===- KernargLayout.h - KernelInfo -> the public layout struct -*- C++ -*-===//
#ifndef DSV4_RUNTIME_KERNARGLAYOUT_H
#define DSV4_RUNTIME_KERNARGLAYOUT_H

#include "AmdgpuMetadata.h"

namespace dsv4::rt {

// Copies `kernel` into the fixed-size C struct; DSV4_ERR_INVALID_ARGUMENT if
// a name or the argument count does not fit.
dsv4_status fillKernargLayout(const KernelInfo &kernel, const std::string &target,
                              dsv4_kernarg_layout &out);

} // namespace dsv4::rt

#endif // DSV4_RUNTIME_KERNARGLAYOUT_H
