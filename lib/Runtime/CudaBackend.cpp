//===- CudaBackend.cpp - launch PTX kernels through the CUDA driver -------===//
//
// The driver JIT-compiles the PTX in the current context (the framework's,
// normally; the primary context if the thread has none), with error-log
// buffers so a rejected PTX says why. The _v2 entry points are the ones
// cuda.h maps cuModuleGetGlobal and cuMemcpyDtoH to (64-bit CUdeviceptr).
//
//===----------------------------------------------------------------------===//
#include "Backend.h"

#include "Error.h"

#include <dlfcn.h>

using namespace dsv4::rt;

namespace {

using CUresult = int; // CUDA_SUCCESS == 0
using CUhandle = void *; // CUcontext, CUmodule, CUfunction, CUstream
using CUdevice = int;
using CUdeviceptr = unsigned long long;

// X(name, return type, parameter list)
#define DSV4_CUDA_SYMBOLS(X)                                                   \
  X(cuGetErrorString, CUresult, (CUresult, const char **))                     \
  X(cuInit, CUresult, (unsigned))                                              \
  X(cuCtxGetCurrent, CUresult, (CUhandle *))                                   \
  X(cuCtxSetCurrent, CUresult, (CUhandle))                                     \
  X(cuCtxGetDevice, CUresult, (CUdevice *))                                    \
  X(cuDeviceGet, CUresult, (CUdevice *, int))                                  \
  X(cuDeviceGetAttribute, CUresult, (int *, int, CUdevice))                    \
  X(cuDevicePrimaryCtxRetain, CUresult, (CUhandle *, CUdevice))                \
  X(cuModuleLoadDataEx, CUresult,                                              \
    (CUhandle *, const void *, unsigned, int *, void **))                      \
  X(cuModuleGetFunction, CUresult, (CUhandle *, CUhandle, const char *))       \
  X(cuModuleUnload, CUresult, (CUhandle))                                      \
  X(cuModuleGetGlobal_v2, CUresult, (CUdeviceptr *, size_t *, CUhandle, const char *)) \
  X(cuMemcpyDtoH_v2, CUresult, (void *, CUdeviceptr, size_t))                  \
  X(cuFuncGetAttribute, CUresult, (int *, int, CUhandle))                      \
  X(cuLaunchKernel, CUresult,                                                  \
    (CUhandle, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,     \
     unsigned, CUhandle, void **, void **))

struct CudaApi {
#define DSV4_DECLARE(name, ret, params) ret(*name) params = nullptr;
  DSV4_CUDA_SYMBOLS(DSV4_DECLARE)
#undef DSV4_DECLARE
};

// cuda.h enum values used here.
constexpr int kAttrComputeCapabilityMajor = 75;
constexpr int kAttrComputeCapabilityMinor = 76;
constexpr int kJitErrorLogBuffer = 5, kJitErrorLogBufferSize = 6;
constexpr int kFuncMaxThreadsPerBlock = 0, kFuncSharedSizeBytes = 1;

dsv4_status resolveCuda(void *library, CudaApi &api) {
#define DSV4_LOAD(name, ret, params)                                           \
  if (!(api.name = reinterpret_cast<ret(*) params>(dlsym(library, #name))))    \
    return fail(DSV4_ERR_RUNTIME_UNAVAILABLE, "CUDA driver lacks symbol '" #name "'");
  DSV4_CUDA_SYMBOLS(DSV4_LOAD)
#undef DSV4_LOAD
  return DSV4_OK;
}

const char *cuMessage(const CudaApi &cu, CUresult r) {
  const char *s = nullptr;
  if (cu.cuGetErrorString(r, &s) != 0 || !s)
    return "unknown CUDA error";
  return s;
}

// DSV4_OK, or `status` with "<call> failed: <CUDA's message>".
dsv4_status check(const CudaApi &cu, CUresult r, dsv4_status status, const std::string &call) {
  return r ? fail(status, "%s failed: %s", call.c_str(), cuMessage(cu, r)) : DSV4_OK;
}

class CudaModule final : public LoadedModule {
public:
  CudaModule(const CudaApi &cu, CUhandle context, CUhandle module)
      : cu(cu), context(context), module(module) {}
  ~CudaModule() override { (void)cu.cuModuleUnload(module); }

  dsv4_status readGlobal(const char *name, size_t maxBytes, std::string &out) override {
    CUdeviceptr address = 0;
    size_t bytes = 0;
    DSV4_TRY(check(cu, cu.cuModuleGetGlobal_v2(&address, &bytes, module, name),
                   DSV4_ERR_BAD_MANIFEST, "the code object has no global '" +
                   std::string(name) + "': cuModuleGetGlobal"));
    if (bytes > maxBytes)
      return fail(DSV4_ERR_BAD_MANIFEST, "global '%s' has %zu bytes, more than %zu", name,
                  bytes, maxBytes);
    out.resize(bytes);
    return check(cu, cu.cuMemcpyDtoH_v2(out.data(), address, bytes), DSV4_ERR_LOAD_FAILED,
                 "cuMemcpyDtoH('" + std::string(name) + "')");
  }

  dsv4_status findKernel(const std::string &kernel, KernelFacts &facts) override {
    name = kernel;
    DSV4_TRY(check(cu, cu.cuModuleGetFunction(&function, module, name.c_str()),
                   DSV4_ERR_KERNEL_NOT_FOUND, "cuModuleGetFunction('" + name + "')"));
    CUresult r = cu.cuFuncGetAttribute(&facts.maxThreadsPerBlock, kFuncMaxThreadsPerBlock,
                                       function);
    if (!r)
      r = cu.cuFuncGetAttribute(&facts.sharedBytes, kFuncSharedSizeBytes, function);
    return check(cu, r, DSV4_ERR_LOAD_FAILED, "cuFuncGetAttribute('" + name + "')");
  }

  dsv4_status launch(KernelParams &params, const LaunchDims &dims,
                     void *stream) override {
    // A module belongs to the context it was loaded in; a thread with no
    // current context (a fresh worker thread) gets that one.
    CUhandle current = nullptr;
    DSV4_TRY(check(cu, cu.cuCtxGetCurrent(&current), DSV4_ERR_LAUNCH_FAILED, "cuCtxGetCurrent"));
    if (!current)
      DSV4_TRY(check(cu, cu.cuCtxSetCurrent(context), DSV4_ERR_LAUNCH_FAILED,
                     "cuCtxSetCurrent('" + name + "')"));
    CUresult r = cu.cuLaunchKernel(function, dims.grid[0], dims.grid[1],
                                   dims.grid[2], dims.block[0], dims.block[1],
                                   dims.block[2], /*sharedMemBytes=*/0, stream,
                                   params.pointers, /*extra=*/nullptr);
    return check(cu, r, DSV4_ERR_LAUNCH_FAILED, "cuLaunchKernel('" + name + "')");
  }

private:
  const CudaApi &cu;
  CUhandle context, module, function = nullptr;
  std::string name;
};

// Makes sure the thread has a context and returns it with its device's chip.
dsv4_status currentContext(const CudaApi &cu, CUhandle &context, std::string &chip) {
  constexpr dsv4_status kUnavailable = DSV4_ERR_RUNTIME_UNAVAILABLE;
  DSV4_TRY(check(cu, cu.cuInit(0), kUnavailable, "cuInit"));
  CUdevice device = 0;
  DSV4_TRY(check(cu, cu.cuCtxGetCurrent(&context), kUnavailable, "cuCtxGetCurrent"));
  if (context) {
    DSV4_TRY(check(cu, cu.cuCtxGetDevice(&device), kUnavailable, "cuCtxGetDevice"));
  } else {
    // The same context the runtime API (and so PyTorch) would create.
    DSV4_TRY(check(cu, cu.cuDeviceGet(&device, 0), kUnavailable, "cuDeviceGet(0)"));
    DSV4_TRY(check(cu, cu.cuDevicePrimaryCtxRetain(&context, device), kUnavailable,
                   "cuDevicePrimaryCtxRetain"));
    DSV4_TRY(check(cu, cu.cuCtxSetCurrent(context), kUnavailable, "cuCtxSetCurrent"));
  }
  int major = 0, minor = 0;
  DSV4_TRY(check(cu, cu.cuDeviceGetAttribute(&major, kAttrComputeCapabilityMajor, device),
                 kUnavailable, "cuDeviceGetAttribute"));
  DSV4_TRY(check(cu, cu.cuDeviceGetAttribute(&minor, kAttrComputeCapabilityMinor, device),
                 kUnavailable, "cuDeviceGetAttribute"));
  chip = "sm_" + std::to_string(major) + std::to_string(minor);
  return DSV4_OK;
}

} // namespace

dsv4_status dsv4::rt::loadCudaModule(const std::vector<uint8_t> &image,
                                     std::unique_ptr<LoadedModule> &out) {
  // The driver reads PTX as a C string: it must end in NUL and hold no other.
  std::string ptx(image.begin(), image.end());
  while (!ptx.empty() && ptx.back() == '\0')
    ptx.pop_back();
  if (ptx.find('\0') != std::string::npos || ptx.find(".version") == std::string::npos)
    return fail(DSV4_ERR_LOAD_FAILED, "PTX image is not PTX text (binary data or no .version)");
  const CudaApi *cu;
  DSV4_TRY(loadRuntimeApi("DSV4_CUDA_LIBRARY", "libcuda.so.1", resolveCuda, cu));
  CUhandle context = nullptr;
  std::string chip;
  DSV4_TRY(currentContext(*cu, context, chip));
  char errorLog[4096] = {};
  int options[] = {kJitErrorLogBuffer, kJitErrorLogBufferSize};
  void *values[] = {errorLog, reinterpret_cast<void *>(sizeof(errorLog))};
  CUhandle module = nullptr;
  if (CUresult r = cu->cuModuleLoadDataEx(&module, ptx.c_str(), 2, options, values))
    return fail(DSV4_ERR_LOAD_FAILED, "cuModuleLoadDataEx failed: %s: %s",
                cuMessage(*cu, r), errorLog[0] ? errorLog : "(empty JIT log)");
  out = std::make_unique<CudaModule>(*cu, context, module);
  out->deviceChip = chip;
  return DSV4_OK;
}
