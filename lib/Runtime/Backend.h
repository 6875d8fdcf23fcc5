//===- Backend.h - the interface both GPU back ends implement ---*- C++ -*-===//
//
// A back end loads a code object into a LoadedModule, which reads back the
// manifest embedded in it, looks up the kernel with the facts the driver
// reports about it, and launches it. HIP and CUDA differ only in their
// symbol tables, so one DriverModule serves both. Each back end opens its
// vendor runtime with dlopen, so neither SDK is needed to build.
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
  // The driver writes the kernel-argument segment from `params`, the kernelParams array of
  // the kernel's list (KernelParams, CompressKernelParams).
  virtual dsv4_status launch(void **params, const LaunchDims &dims, void *stream) = 0;
  std::string deviceChip; // "gfx942", "sm_90"
};

// `image` is an HSACO (ELF).
dsv4_status loadHipModule(const std::vector<uint8_t> &image, std::unique_ptr<LoadedModule> &out);
// `image` is PTX text.
dsv4_status loadCudaModule(const std::vector<uint8_t> &image, std::unique_ptr<LoadedModule> &out);

// DSV4_OK, or `status` with "<call> failed: <the driver's message>".
template <typename Api>
dsv4_status check(const Api &api, int result, dsv4_status status, const std::string &call) {
  return result ? fail(status, "%s failed: %s", call.c_str(), api.message(result)) : DSV4_OK;
}

// Function attributes, the same values in HIP (hipFunction_attribute) and CUDA.
constexpr int kMaxThreadsPerBlockAttr = 0, kSharedSizeBytesAttr = 1;

// A module loaded through `Api`, a back end's symbol table: its module calls
// under shared names (getGlobal, copyToHost, getFunction, funcAttribute,
// launchKernel, unloadModule), each with its symbol in `<call>Name`, plus
// DevicePtr, message() and makeCurrent() (CUDA's context; nothing on HIP).
template <typename Api> class DriverModule final : public LoadedModule {
public:
  DriverModule(const Api &api, void *module, void *context, std::string chip)
      : api(api), module(module), context(context) {
    deviceChip = std::move(chip);
  }
  ~DriverModule() override { (void)api.unloadModule(module); }

  dsv4_status readGlobal(const char *global, size_t maxBytes, std::string &out) override {
    typename Api::DevicePtr address{};
    size_t bytes = 0;
    DSV4_TRY(check(api, api.getGlobal(&address, &bytes, module, global), DSV4_ERR_BAD_MANIFEST,
                   "the code object has no global '" + std::string(global) + "': " +
                       Api::getGlobalName));
    if (bytes > maxBytes)
      return fail(DSV4_ERR_BAD_MANIFEST, "global '%s' has %zu bytes, more than %zu", global,
                  bytes, maxBytes);
    out.resize(bytes);
    return check(api, api.copyToHost(out.data(), address, bytes), DSV4_ERR_LOAD_FAILED,
                 std::string(Api::copyToHostName) + "('" + global + "')");
  }

  dsv4_status findKernel(const std::string &kernel, KernelFacts &facts) override {
    name = kernel;
    DSV4_TRY(check(api, api.getFunction(&function, module, name.c_str()),
                   DSV4_ERR_KERNEL_NOT_FOUND, std::string(Api::getFunctionName) + "('" + name + "')"));
    int result = api.funcAttribute(&facts.maxThreadsPerBlock, kMaxThreadsPerBlockAttr, function);
    if (!result)
      result = api.funcAttribute(&facts.sharedBytes, kSharedSizeBytesAttr, function);
    return check(api, result, DSV4_ERR_LOAD_FAILED,
                 std::string(Api::funcAttributeName) + "('" + name + "')");
  }

  dsv4_status launch(void **params, const LaunchDims &dims, void *stream) override {
    DSV4_TRY(api.makeCurrent(context));
    // Like Triton's and IREE's launchers: the driver lays out the arguments.
    int result = api.launchKernel(function, dims.grid[0], dims.grid[1], dims.grid[2],
                                  dims.block[0], dims.block[1], dims.block[2],
                                  /*sharedMemBytes=*/0, stream, params,
                                  /*extra=*/nullptr);
    return check(api, result, DSV4_ERR_LAUNCH_FAILED,
                 std::string(Api::launchKernelName) + "('" + name + "')");
  }

private:
  const Api &api;
  void *module, *context, *function = nullptr;
  std::string name;
};

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

// The members of a symbol table, from X(field, symbol, return type, parameters)
// entries: the function pointer and its symbol's name; and the dlsym of each
// (a resolve function defines the message `missingSymbol`).
#define DSV4_DECLARE_SYMBOL(field, symbol, ret, params)                        \
  ret(*field) params = nullptr;                                                \
  static constexpr const char *field##Name = #symbol;
#define DSV4_RESOLVE_SYMBOL(field, symbol, ret, params)                        \
  if (!(api.field = reinterpret_cast<ret(*) params>(dlsym(library, #symbol)))) \
    return fail(DSV4_ERR_RUNTIME_UNAVAILABLE, missingSymbol, #symbol);

} // namespace dsv4::rt

#endif // DSV4_RUNTIME_BACKEND_H
