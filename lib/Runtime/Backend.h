//===- Backend.h - the interface both GPU back ends implement ---*- C++ -*-===//
//
// A back end turns (image, manifest) into a LoadedKernel, checking the device
// on the way, and launches it with the ABI values. Each lives in its own file
// and opens its vendor runtime with dlopen, so neither SDK is needed to build.
//
//===----------------------------------------------------------------------===//
#ifndef DSV4_RUNTIME_BACKEND_H
#define DSV4_RUNTIME_BACKEND_H

#include "KernelArgs.h"
#include "Manifest.h"

#include <memory>
#include <vector>

namespace dsv4::rt {

class LoadedKernel {
public:
  virtual ~LoadedKernel() = default;
  // The driver writes the kernel-argument segment from `params`.
  virtual dsv4_status launch(KernelParams &params, const LaunchDims &dims,
                             void *stream) = 0;
};

// manifest.target == Amdgcn: `image` is an HSACO.
dsv4_status loadHipKernel(const std::vector<uint8_t> &image,
                          const Manifest &manifest,
                          std::unique_ptr<LoadedKernel> &out);
// manifest.target == Nvptx: `image` is PTX text.
dsv4_status loadCudaKernel(const std::vector<uint8_t> &image,
                           const Manifest &manifest,
                           std::unique_ptr<LoadedKernel> &out);

// dlopen with an environment override, reusing an already-loaded copy first
// (RTLD_NOLOAD) so the shim shares the framework's runtime instance.
// On failure returns DSV4_ERR_RUNTIME_UNAVAILABLE naming the path tried.
dsv4_status openRuntimeLibrary(const char *envVar, const char *defaultName,
                               void *&handle);

} // namespace dsv4::rt

#endif // DSV4_RUNTIME_BACKEND_H
