//===- HipBackend.cpp - launch HSACO kernels through libamdhip64 ----------===//
//
// HIP is opened with dlopen; every symbol it needs is listed once in
// DSV4_HIP_SYMBOLS. HIP reads the code object (and refuses one for another
// chip) and, at launch, lays out the kernel arguments (kernelParams).
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
using hipHandle = void *; // hipModule_t, hipFunction_t, hipStream_t, hipDeviceptr_t
// hipFunction_attribute values.
constexpr int kAttrMaxThreadsPerBlock = 0, kAttrSharedSizeBytes = 1;

// X(name, return type, parameter list)
#define DSV4_HIP_SYMBOLS(X)                                                    \
  X(hipGetErrorString, const char *, (hipError))                              \
  X(hipGetDevice, hipError, (int *))                                           \
  X(hipGetDevicePropertiesR0600, hipError, (void *, int))                      \
  X(hipModuleLoadData, hipError, (hipHandle *, const void *))                  \
  X(hipModuleGetFunction, hipError, (hipHandle *, hipHandle, const char *))    \
  X(hipModuleGetGlobal, hipError, (hipHandle *, size_t *, hipHandle, const char *)) \
  X(hipMemcpyDtoH, hipError, (void *, hipHandle, size_t))                      \
  X(hipFuncGetAttribute, hipError, (int *, int, hipHandle))                    \
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

class HipModule final : public LoadedModule {
public:
  HipModule(const HipApi &hip, hipHandle module) : hip(hip), module(module) {}
  ~HipModule() override { (void)hip.hipModuleUnload(module); }

  dsv4_status readGlobal(const char *name, size_t maxBytes, std::string &out) override {
    hipHandle address = nullptr;
    size_t bytes = 0;
    if (hipError e = hip.hipModuleGetGlobal(&address, &bytes, module, name))
      return fail(DSV4_ERR_BAD_MANIFEST, "the code object has no global '%s': "
                  "hipModuleGetGlobal failed: %s", name, hipMessage(hip, e));
    if (bytes > maxBytes)
      return fail(DSV4_ERR_BAD_MANIFEST, "global '%s' has %zu bytes, more than %zu", name,
                  bytes, maxBytes);
    out.resize(bytes);
    if (hipError e = hip.hipMemcpyDtoH(out.data(), address, bytes))
      return fail(DSV4_ERR_LOAD_FAILED, "hipMemcpyDtoH('%s') failed: %s", name,
                  hipMessage(hip, e));
    return DSV4_OK;
  }

  dsv4_status findKernel(const std::string &kernel, KernelFacts &facts) override {
    name = kernel;
    if (hipError e = hip.hipModuleGetFunction(&function, module, name.c_str()))
      return fail(DSV4_ERR_KERNEL_NOT_FOUND, "hipModuleGetFunction('%s') failed: %s",
                  name.c_str(), hipMessage(hip, e));
    hipError e = hip.hipFuncGetAttribute(&facts.maxThreadsPerBlock, kAttrMaxThreadsPerBlock,
                                         function);
    if (!e)
      e = hip.hipFuncGetAttribute(&facts.sharedBytes, kAttrSharedSizeBytes, function);
    if (e)
      return fail(DSV4_ERR_LOAD_FAILED, "hipFuncGetAttribute('%s') failed: %s", name.c_str(),
                  hipMessage(hip, e));
    return DSV4_OK;
  }

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
  hipHandle module, function = nullptr;
  std::string name;
};

// "gfx942" from "gfx942:sramecc+:xnack-".
std::string chipOf(const char *arch) {
  std::string chip(arch, strnlen(arch, DSV4_HIP_NAME_SIZE));
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

/// hipModuleLoadData takes no size: the driver reads the ELF by its header's table
/// offsets. An image whose program or section header table reaches past its end (a
/// truncated or corrupted file; found by the loader fuzzer) is refused before HIP reads
/// past it. Little-endian fields, as every AMDGPU code object has.
bool elfTablesInside(const std::vector<uint8_t> &image) {
  constexpr size_t kElf64HeaderSize = 64;
  if (image.size() < kElf64HeaderSize || std::memcmp(image.data(), "\x7f" "ELF", 4) != 0 ||
      image[4] != 2 /* ELFCLASS64 */)
    return false;
  auto field = [&](size_t at, size_t bytes) {
    uint64_t value = 0;
    std::memcpy(&value, image.data() + at, bytes);
    return value;
  };
  auto inside = [&](uint64_t offset, uint64_t bytes) {
    return offset <= image.size() && bytes <= image.size() - offset;
  };
  return inside(field(0x20, 8), field(0x36, 2) * field(0x38, 2)) && // program headers
         inside(field(0x28, 8), field(0x3a, 2) * field(0x3c, 2));   // section headers
}

} // namespace

dsv4_status dsv4::rt::loadHipModule(const std::vector<uint8_t> &image,
                                    std::unique_ptr<LoadedModule> &out) {
  const HipApi *hip;
  DSV4_TRY(getHip(hip));
  std::string chip;
  DSV4_TRY(deviceChip(*hip, chip));
  if (!elfTablesInside(image))
    return fail(DSV4_ERR_LOAD_FAILED, "the code object is not a complete ELF64 file (a header "
                "table lies past its %zu bytes)", image.size());
  hipHandle module = nullptr;
  if (hipError e = hip->hipModuleLoadData(&module, image.data()))
    return fail(DSV4_ERR_LOAD_FAILED, "hipModuleLoadData failed: %s", hipMessage(*hip, e));
  out = std::make_unique<HipModule>(*hip, module);
  out->deviceChip = chip;
  return DSV4_OK;
}
