//===- HipBackend.cpp - launch HSACO kernels through libamdhip64 ----------===//
//
// Before touching HIP, the code object's own metadata is read and checked
// against the manifest (chip, kernel name, argument layout), so a wrong file
// fails the same way on a machine without a GPU. HIP is then opened with
// dlopen; every symbol it needs is listed once in DSV4_HIP_SYMBOLS.
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

// `extra` keys of hipModuleLaunchKernel (hip_runtime_api.h).
void *const kHipLaunchParamBufferPointer = reinterpret_cast<void *>(0x01);
void *const kHipLaunchParamBufferSize = reinterpret_cast<void *>(0x02);
void *const kHipLaunchParamEnd = reinterpret_cast<void *>(0x03);

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
  HipKernel(const HipApi &hip, hipHandle module, hipHandle function,
            KernelInfo info, std::string target)
      : hip(hip), module(module), function(function), info(std::move(info)),
        target(std::move(target)) {}
  ~HipKernel() override { (void)hip.hipModuleUnload(module); }

  dsv4_status launch(const AbiValues &values, const LaunchDims &dims,
                     void *stream) override {
    // Per thread, so concurrent launches of one module on several streams do
    // not share a buffer; HIP copies it before hipModuleLaunchKernel returns.
    thread_local std::vector<uint8_t> buffer;
    packKernargs(info, values, dims, buffer);
    size_t size = buffer.size();
    void *extra[] = {kHipLaunchParamBufferPointer, buffer.data(),
                     kHipLaunchParamBufferSize, &size, kHipLaunchParamEnd};
    hipError e = hip.hipModuleLaunchKernel(
        function, dims.grid[0], dims.grid[1], dims.grid[2], dims.block[0],
        dims.block[1], dims.block[2], /*sharedMemBytes=*/0, stream,
        /*kernelParams=*/nullptr, extra);
    if (e)
      return fail(DSV4_ERR_LAUNCH_FAILED, "hipModuleLaunchKernel('%s') failed: %s",
                  info.name.c_str(), hipMessage(hip, e));
    return DSV4_OK;
  }

  const KernelInfo *kernargLayout(std::string &targetOut) const override {
    targetOut = target;
    return &info;
  }

private:
  const HipApi &hip;
  hipHandle module, function;
  KernelInfo info;
  std::string target;
};

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
  chip = chipOf(std::string(arch, strnlen(arch, 256)));
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
  CodeObjectMetadata meta;
  if (dsv4_status st = readAmdgpuMetadata(image.data(), image.size(), meta))
    return st;
  std::string objectChip = chipOf(meta.target);
  if (!meta.target.empty() && objectChip != manifest.chip)
    return fail(DSV4_ERR_ARCH_MISMATCH,
                "code object is for %s (amdhsa.target '%s'), the manifest says %s",
                objectChip.c_str(), meta.target.c_str(), manifest.chip.c_str());
  const KernelInfo *kernel = meta.findKernel(manifest.kernel);
  if (!kernel)
    return fail(DSV4_ERR_KERNEL_NOT_FOUND,
                "kernel '%s' (from the manifest) is not in the code object's "
                "metadata (%zu kernel(s), first '%s')",
                manifest.kernel.c_str(), meta.kernels.size(),
                meta.kernels.empty() ? "" : meta.kernels[0].name.c_str());
  if (dsv4_status st = checkKernelLayout(*kernel, manifest))
    return st;

  const HipApi *hip;
  if (dsv4_status st = getHip(hip))
    return st;
  std::string chip;
  if (dsv4_status st = deviceChip(*hip, chip))
    return st;
  if (chip != manifest.chip)
    return fail(DSV4_ERR_ARCH_MISMATCH,
                "device is %s, kernel '%s' was compiled for %s", chip.c_str(),
                manifest.kernel.c_str(), manifest.chip.c_str());
  hipHandle module = nullptr, function = nullptr;
  if (hipError e = hip->hipModuleLoadData(&module, image.data()))
    return fail(DSV4_ERR_LOAD_FAILED, "hipModuleLoadData failed: %s",
                hipMessage(*hip, e));
  if (hipError e = hip->hipModuleGetFunction(&function, module, kernel->name.c_str())) {
    (void)hip->hipModuleUnload(module);
    return fail(DSV4_ERR_KERNEL_NOT_FOUND, "hipModuleGetFunction('%s') failed: %s",
                kernel->name.c_str(), hipMessage(*hip, e));
  }
  out = std::make_unique<HipKernel>(*hip, module, function, *kernel, meta.target);
  return DSV4_OK;
}
