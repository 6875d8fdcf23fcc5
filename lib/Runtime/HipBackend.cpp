//===- HipBackend.cpp - launch HSACO kernels through libamdhip64 ----------===//
//
// HIP is opened with dlopen; every symbol it needs is listed once in
// DSV4_HIP_SYMBOLS. HIP reads the code object and, at launch, lays out the
// kernel arguments (kernelParams), hidden ones included.
//
//===----------------------------------------------------------------------===//
#include "Backend.h"

#include "Error.h"
#include "HipDeviceProp.h"

#include <cstring>
#include <dlfcn.h>
#include <mutex>

using namespace dsv4::rt;

namespace {

using hipError = int; // hipError_t; hipSuccess == 0
using hipHandle = void *; // hipModule_t, hipFunction_t, hipStream_t

// X(name, return type, parameter list)
#define DSV4_HIP_SYMBOLS(X)                                                    \
  X(hipGetErrorString, const char *, (hipError))                              \
  X(hipGetDevice, hipError, (int *))                                           \
  X(hipGetDevicePropertiesR0600, hipError, (void *, int))                      \
  X(hipModuleLoadData, hipError, (hipHandle *, const void *))                  \
  X(hipModuleGetFunction, hipError, (hipHandle *, hipHandle, const char *))    \
  X(hipModuleLaunchKernel, hipError,                                           \
    (hipHandle, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,    \
     unsigned, hipHandle, void **, void **))                                   \
  X(hipModuleUnload, hipError, (hipHandle))

struct HipApi {
#define DSV4_DECLARE(name, ret, params) ret(*name) params = nullptr;
  DSV4_HIP_SYMBOLS(DSV4_DECLARE)
#undef DSV4_DECLARE
};

// The symbol table, filled once; a failed attempt is retried on the next
// load (the environment may have been fixed in between).
dsv4_status getHip(const HipApi *&out) {
  static std::mutex mutex;
  static HipApi api;
  static bool ready = false;
  std::lock_guard<std::mutex> lock(mutex);
  if (!ready) {
    void *lib;
    if (dsv4_status st = openRuntimeLibrary("DSV4_HIP_LIBRARY", "libamdhip64.so", lib))
      return st;
    HipApi loaded;
#define DSV4_LOAD(name, ret, params)                                           \
  loaded.name = reinterpret_cast<ret(*) params>(dlsym(lib, #name));            \
  if (!loaded.name)                                                            \
    return fail(DSV4_ERR_RUNTIME_UNAVAILABLE,                                  \
                "HIP runtime lacks symbol '" #name "' (HIP 6 or newer needed)");
    DSV4_HIP_SYMBOLS(DSV4_LOAD)
#undef DSV4_LOAD
    api = loaded;
    ready = true;
  }
  out = &api;
  return DSV4_OK;
}

const char *hipMessage(const HipApi &hip, hipError e) {
  const char *s = hip.hipGetErrorString(e);
  return s ? s : "unknown HIP error";
}

class HipKernel final : public LoadedKernel {
public:
  HipKernel(const HipApi &hip, hipHandle module, hipHandle function, std::string name)
      : hip(hip), module(module), function(function), name(std::move(name)) {}
  ~HipKernel() override { (void)hip.hipModuleUnload(module); }

  dsv4_status launch(KernelParams &params, const LaunchDims &dims,
                     void *stream) override {
    // Like Triton's and IREE's HIP launchers: HIP lays out the arguments.
    hipError e = hip.hipModuleLaunchKernel(
        function, dims.grid[0], dims.grid[1], dims.grid[2], dims.block[0],
        dims.block[1], dims.block[2], /*sharedMemBytes=*/0, stream, params.pointers,
        /*extra=*/nullptr);
    if (e)
      return fail(DSV4_ERR_LAUNCH_FAILED, "hipModuleLaunchKernel('%s') failed: %s",
                  name.c_str(), hipMessage(hip, e));
    return DSV4_OK;
  }

private:
  const HipApi &hip;
  hipHandle module, function;
  std::string name;
};

// "gfx942" from "gfx942:sramecc+:xnack-".
std::string chipOf(const char *arch) {
  std::string chip(arch, strnlen(arch, 256));
  return chip.substr(0, chip.find(':'));
}

// The current device's gcnArchName without feature suffixes ("gfx942").
dsv4_status deviceChip(const HipApi &hip, std::string &chip) {
  int device = 0;
  if (hipError e = hip.hipGetDevice(&device))
    return fail(DSV4_ERR_RUNTIME_UNAVAILABLE, "hipGetDevice failed: %s",
                hipMessage(hip, e));
  alignas(16) char props[DSV4_HIP_DEVICE_PROP_BUFFER_SIZE] = {};
  if (hipError e = hip.hipGetDevicePropertiesR0600(props, device))
    return fail(DSV4_ERR_RUNTIME_UNAVAILABLE,
                "hipGetDevicePropertiesR0600(device %d) failed: %s", device,
                hipMessage(hip, e));
  const char *arch = props + DSV4_HIP_GCN_ARCH_NAME_OFFSET;
  chip = chipOf(arch);
  // Anything else means the struct layout is not the one mirrored here.
  if (chip.rfind("gfx", 0) != 0)
    return fail(DSV4_ERR_RUNTIME_UNAVAILABLE,
                "device %d: gcnArchName reads '%s', not a gfx target "
                "(unexpected hipDeviceProp_tR0600 layout)", device, chip.c_str());
  return DSV4_OK;
}

} // namespace

dsv4_status dsv4::rt::loadHipKernel(const std::vector<uint8_t> &image,
                                    const Manifest &manifest,
                                    std::unique_ptr<LoadedKernel> &out) {
  const HipApi *hip;
  DSV4_TRY(getHip(hip));
  std::string chip;
  DSV4_TRY(deviceChip(*hip, chip));
  if (chip != manifest.chip)
    return fail(DSV4_ERR_ARCH_MISMATCH,
                "device is %s, kernel '%s' was compiled for %s", chip.c_str(),
                manifest.kernel.c_str(), manifest.chip.c_str());
  hipHandle module = nullptr, function = nullptr;
  if (hipError e = hip->hipModuleLoadData(&module, image.data()))
    return fail(DSV4_ERR_LOAD_FAILED, "hipModuleLoadData failed: %s",
                hipMessage(*hip, e));
  if (hipError e = hip->hipModuleGetFunction(&function, module, manifest.kernel.c_str())) {
    (void)hip->hipModuleUnload(module);
    return fail(DSV4_ERR_KERNEL_NOT_FOUND, "hipModuleGetFunction('%s') failed: %s",
                manifest.kernel.c_str(), hipMessage(*hip, e));
  }
  out = std::make_unique<HipKernel>(*hip, module, function, manifest.kernel);
  return DSV4_OK;
}
