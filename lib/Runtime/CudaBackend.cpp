//===- CudaBackend.cpp - launch PTX kernels through the CUDA driver -------===//
//
// The driver JIT-compiles the PTX in the current context (the framework's,
// normally; the primary context if the thread has none), with an error-log
// buffer so a rejected PTX says why; the module itself is Backend.h's
// DriverModule. The _v2 entry points are the ones cuda.h maps
// cuModuleGetGlobal and cuMemcpyDtoH to (64-bit CUdeviceptr).
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

// X(field, symbol, return type, parameter list); the module calls under the
// names DriverModule uses.
#define DSV4_CUDA_SYMBOLS(X)                                                   \
  X(cuGetErrorString, cuGetErrorString, CUresult, (CUresult, const char **))   \
  X(cuInit, cuInit, CUresult, (unsigned))                                      \
  X(cuCtxGetCurrent, cuCtxGetCurrent, CUresult, (CUhandle *))                  \
  X(cuCtxSetCurrent, cuCtxSetCurrent, CUresult, (CUhandle))                    \
  X(cuCtxGetDevice, cuCtxGetDevice, CUresult, (CUdevice *))                    \
  X(cuDeviceGet, cuDeviceGet, CUresult, (CUdevice *, int))                     \
  X(cuDeviceGetAttribute, cuDeviceGetAttribute, CUresult, (int *, int, CUdevice)) \
  X(cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRetain, CUresult, (CUhandle *, CUdevice)) \
  X(cuModuleLoadDataEx, cuModuleLoadDataEx, CUresult,                          \
    (CUhandle *, const void *, unsigned, int *, void **))                      \
  X(getFunction, cuModuleGetFunction, CUresult, (CUhandle *, CUhandle, const char *)) \
  X(getGlobal, cuModuleGetGlobal_v2, CUresult, (CUdeviceptr *, size_t *, CUhandle, const char *)) \
  X(copyToHost, cuMemcpyDtoH_v2, CUresult, (void *, CUdeviceptr, size_t))     \
  X(funcAttribute, cuFuncGetAttribute, CUresult, (int *, int, CUhandle))       \
  X(launchKernel, cuLaunchKernel, CUresult,                                    \
    (CUhandle, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,     \
     unsigned, CUhandle, void **, void **))                                    \
  X(unloadModule, cuModuleUnload, CUresult, (CUhandle))

struct CudaApi {
  DSV4_CUDA_SYMBOLS(DSV4_DECLARE_SYMBOL)
  using DevicePtr = CUdeviceptr;
  const char *message(CUresult r) const {
    const char *s = nullptr;
    return cuGetErrorString(r, &s) == 0 && s ? s : "unknown CUDA error";
  }
  // A module belongs to the context it was loaded in; a thread with no
  // current context (a fresh worker thread) gets that one.
  dsv4_status makeCurrent(CUhandle context) const {
    CUhandle current = nullptr;
    DSV4_TRY(check(*this, cuCtxGetCurrent(&current), DSV4_ERR_LAUNCH_FAILED, "cuCtxGetCurrent"));
    return current ? DSV4_OK
                   : check(*this, cuCtxSetCurrent(context), DSV4_ERR_LAUNCH_FAILED,
                           "cuCtxSetCurrent");
  }
};

// cuda.h enum values used here.
constexpr int kAttrComputeCapabilityMajor = 75;
constexpr int kAttrComputeCapabilityMinor = 76;
constexpr int kJitErrorLogBuffer = 5, kJitErrorLogBufferSize = 6;

dsv4_status resolveCuda(void *library, CudaApi &api) {
  const char *missingSymbol = "CUDA driver lacks symbol '%s'";
  DSV4_CUDA_SYMBOLS(DSV4_RESOLVE_SYMBOL)
  return DSV4_OK;
}

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
                cu->message(r), errorLog[0] ? errorLog : "(empty JIT log)");
  out = std::make_unique<DriverModule<CudaApi>>(*cu, module, context, chip);
  return DSV4_OK;
}
