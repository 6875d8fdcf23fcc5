//===- HipBackend.cpp - launch HSACO kernels through libamdhip64 ----------===//
//
// HIP is opened with dlopen; every symbol it needs is listed once in
// DSV4_HIP_SYMBOLS. HIP reads the code object (and refuses one for another
// chip); the module itself is Backend.h's DriverModule.
//
//===----------------------------------------------------------------------===//
#include "Backend.h"

#include "Error.h"
#include "HipDeviceProp.h"

#include <cstring>
#include <dlfcn.h>

using namespace dsv4::rt;

namespace {

using hipError = int; // hipError_t; hipSuccess == 0
using hipHandle = void *; // hipModule_t, hipFunction_t, hipStream_t, hipDeviceptr_t

// X(field, symbol, return type, parameter list); the module calls under the
// names DriverModule uses.
#define DSV4_HIP_SYMBOLS(X)                                                    \
  X(hipGetErrorString, hipGetErrorString, const char *, (hipError))            \
  X(hipGetDevice, hipGetDevice, hipError, (int *))                             \
  X(hipGetDevicePropertiesR0600, hipGetDevicePropertiesR0600, hipError, (void *, int)) \
  X(hipModuleLoadData, hipModuleLoadData, hipError, (hipHandle *, const void *)) \
  X(getFunction, hipModuleGetFunction, hipError, (hipHandle *, hipHandle, const char *)) \
  X(getGlobal, hipModuleGetGlobal, hipError, (hipHandle *, size_t *, hipHandle, const char *)) \
  X(copyToHost, hipMemcpyDtoH, hipError, (void *, hipHandle, size_t))          \
  X(funcAttribute, hipFuncGetAttribute, hipError, (int *, int, hipHandle))     \
  X(launchKernel, hipModuleLaunchKernel, hipError,                             \
    (hipHandle, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,    \
     unsigned, hipHandle, void **, void **))                                   \
  X(unloadModule, hipModuleUnload, hipError, (hipHandle))

struct HipApi {
  DSV4_HIP_SYMBOLS(DSV4_DECLARE_SYMBOL)
  using DevicePtr = hipHandle;
  const char *message(hipError e) const {
    const char *s = hipGetErrorString(e);
    return s ? s : "unknown HIP error";
  }
  // HIP modules are not bound to a context.
  dsv4_status makeCurrent(void *) const { return DSV4_OK; }
};

dsv4_status resolveHip(void *library, HipApi &api) {
  const char *missingSymbol = "HIP runtime lacks symbol '%s' (HIP 6 or newer needed)";
  DSV4_HIP_SYMBOLS(DSV4_RESOLVE_SYMBOL)
  return DSV4_OK;
}

// The current device's gcnArchName without feature suffixes ("gfx942").
dsv4_status deviceChip(const HipApi &hip, std::string &chip) {
  int device = 0;
  DSV4_TRY(check(hip, hip.hipGetDevice(&device), DSV4_ERR_RUNTIME_UNAVAILABLE, "hipGetDevice"));
  alignas(16) char props[DSV4_HIP_DEVICE_PROP_BUFFER_SIZE] = {};
  DSV4_TRY(check(hip, hip.hipGetDevicePropertiesR0600(props, device),
                 DSV4_ERR_RUNTIME_UNAVAILABLE,
                 "hipGetDevicePropertiesR0600(device " + std::to_string(device) + ")"));
  // "gfx942" from "gfx942:sramecc+:xnack-".
  const char *arch = props + DSV4_HIP_GCN_ARCH_NAME_OFFSET;
  chip.assign(arch, strnlen(arch, DSV4_HIP_NAME_SIZE));
  chip = chip.substr(0, chip.find(':'));
  // Anything else means the struct layout is not the one mirrored here.
  if (chip.rfind("gfx", 0) != 0)
    return fail(DSV4_ERR_RUNTIME_UNAVAILABLE,
                "device %d: gcnArchName reads '%s', not a gfx target "
                "(unexpected hipDeviceProp_tR0600 layout)", device, chip.c_str());
  return DSV4_OK;
}

/// hipModuleLoadData takes no size: HIP finds the ELF's extent from its header's table
/// offsets, so an image whose program or section header table lies past its end (cut short
/// or corrupted; found by the loader fuzzer) is refused before HIP reads past it. The caller
/// has seen the ELF magic; fields are little-endian, as in every AMDGPU code object.
bool elfTablesInside(const std::vector<uint8_t> &image) {
  auto field = [&](size_t at, size_t bytes) {
    uint64_t value = 0;
    std::memcpy(&value, image.data() + at, bytes);
    return value;
  };
  auto inside = [&](uint64_t offset, uint64_t count, uint64_t entryBytes) {
    return offset <= image.size() && count * entryBytes <= image.size() - offset;
  };
  constexpr size_t kElf64HeaderBytes = 64;
  return image.size() >= kElf64HeaderBytes && image[4] == 2 /* ELFCLASS64 */ &&
         inside(field(0x20, 8), field(0x38, 2), field(0x36, 2)) && // program headers
         inside(field(0x28, 8), field(0x3c, 2), field(0x3a, 2));   // section headers
}

} // namespace

dsv4_status dsv4::rt::loadHipModule(const std::vector<uint8_t> &image,
                                    std::unique_ptr<LoadedModule> &out) {
  const HipApi *hip;
  DSV4_TRY(loadRuntimeApi("DSV4_HIP_LIBRARY", "libamdhip64.so", resolveHip, hip));
  std::string chip;
  DSV4_TRY(deviceChip(*hip, chip));
  if (!elfTablesInside(image))
    return fail(DSV4_ERR_LOAD_FAILED, "the code object is not a complete ELF64 file (a header "
                "table lies past its %zu bytes)", image.size());
  hipHandle module = nullptr;
  DSV4_TRY(check(*hip, hip->hipModuleLoadData(&module, image.data()), DSV4_ERR_LOAD_FAILED,
                 "hipModuleLoadData"));
  out = std::make_unique<DriverModule<HipApi>>(*hip, module, nullptr, chip);
  return DSV4_OK;
}
