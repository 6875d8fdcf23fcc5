//===- LaunchCheck.h - validate a call against the manifest -----*- C++ -*-===//
//
// Everything the compiled kernel takes for granted (dtypes, sizes, eps,
// alignment of its 16-byte accesses, i32 ranges) is checked here, before a
// launch, because the kernel itself cannot report a violation.
//
//===----------------------------------------------------------------------===//
#ifndef DSV4_RUNTIME_LAUNCHCHECK_H
#define DSV4_RUNTIME_LAUNCHCHECK_H

#include "KernelArgs.h"
#include "Manifest.h"

namespace dsv4::rt {

// On DSV4_OK either `launchNeeded` is false (nothing to do: no items, no
// rows, or no positions) or `values` and `dims` are ready to launch.
dsv4_status checkLaunch(const Manifest &manifest, const dsv4_launch_args &args,
                        KernelArgValues &values, LaunchDims &dims, bool &launchNeeded);

} // namespace dsv4::rt

#endif // DSV4_RUNTIME_LAUNCHCHECK_H
