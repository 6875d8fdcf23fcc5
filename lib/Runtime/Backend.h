//===- Backend.h - the interface both GPU back ends implement ---*- C++ -*-===//
//
// A back end loads a code object into a LoadedModule, which reads back the
// manifest embedded in it, looks up the kernel with the facts the driver
// reports about it, and launches it. Each lives in its own file and opens
// its vendor runtime with dlopen, so neither SDK is needed to build.
//
//===----------------------------------------------------------------------===//
#ifndef DSV4_RUNTIME_BACKEND_H
#define DSV4_RUNTIME_BACKEND_H

#include "Error.h"
#include "KernelArgs.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace dsv4::rt {

// What the driver reports about a loaded kernel, checked against the manifest.
struct KernelFacts {
  int maxThreadsPerBlock = 0, sharedBytes = 0; // static LDS / shared memory bytes
};

class LoadedModule {
public:
  virtual ~LoadedModule() = default;
  // The bytes of the global variable `name`, refused past `maxBytes`.
  virtual dsv4_status readGlobal(const char *name, size_t maxBytes, std::string &out) = 0;
  // Looks up `kernel` (DSV4_ERR_KERNEL_NOT_FOUND) and reads its facts.
  virtual dsv4_status findKernel(const std::string &kernel, KernelFacts &facts) = 0;
  // The driver writes the kernel-argument segment from `params`.
  virtual dsv4_status launch(KernelParams &params, const LaunchDims &dims, void *stream) = 0;
  std::string deviceChip; // "gfx942", "sm_90"
};

// `image` is an HSACO (ELF).
dsv4_status loadHipModule(const std::vector<uint8_t> &image, std::unique_ptr<LoadedModule> &out);
// `image` is PTX text.
dsv4_status loadCudaModule(const std::vector<uint8_t> &image, std::unique_ptr<LoadedModule> &out);

// dlopen with an environment override, reusing an already-loaded copy first
// (RTLD_NOLOAD) so the shim shares the framework's runtime instance.
// On failure returns DSV4_ERR_RUNTIME_UNAVAILABLE naming the path tried.
dsv4_status openRuntimeLibrary(const char *envVar, const char *defaultName,
                               void *&handle);

// The vendor runtime's symbol table, filled once by `resolve` (a dlsym per
// symbol); a failed attempt is retried on the next load, since the
// environment may have been fixed in between.
template <typename Api>
dsv4_status loadRuntimeApi(const char *envVar, const char *defaultName,
                           dsv4_status (*resolve)(void *library, Api &api), const Api *&out) {
  static std::mutex mutex;
  static Api api;
  static bool ready = false;
  std::lock_guard<std::mutex> lock(mutex);
  if (!ready) {
    void *library;
    DSV4_TRY(openRuntimeLibrary(envVar, defaultName, library));
    DSV4_TRY(resolve(library, api));
    ready = true;
  }
  out = &api;
  return DSV4_OK;
}

} // namespace dsv4::rt

#endif // DSV4_RUNTIME_BACKEND_H
