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

dsv4_status resolveHip(void *library, HipApi &api) {
#define DSV4_LOAD(name, ret, params)                                           \
  if (!(api.name = reinterpret_cast<ret(*) params>(dlsym(library, #name))))    \
    return fail(DSV4_ERR_RUNTIME_UNAVAILABLE,                                  \
                "HIP runtime lacks symbol '" #name "' (HIP 6 or newer needed)");
  DSV4_HIP_SYMBOLS(DSV4_LOAD)
#undef DSV4_LOAD
  return DSV4_OK;
}

// DSV4_OK, or `status` with "<call> failed: <HIP's message>".
dsv4_status check(const HipApi &hip, hipError e, dsv4_status status, const std::string &call) {
  const char *why = e ? hip.hipGetErrorString(e) : nullptr;
  return e ? fail(status, "%s failed: %s", call.c_str(), why ? why : "unknown HIP error")
           : DSV4_OK;
}

class HipModule final : public LoadedModule {
public:
  HipModule(const HipApi &hip, hipHandle module) : hip(hip), module(module) {}
  ~HipModule() override { (void)hip.hipModuleUnload(module); }

  dsv4_status readGlobal(const char *name, size_t maxBytes, std::string &out) override {
    hipHandle address = nullptr;
    size_t bytes = 0;
    DSV4_TRY(check(hip, hip.hipModuleGetGlobal(&address, &bytes, module, name),
                   DSV4_ERR_BAD_MANIFEST, "the code object has no global '" +
                   std::string(name) + "': hipModuleGetGlobal"));
    if (bytes > maxBytes)
      return fail(DSV4_ERR_BAD_MANIFEST, "global '%s' has %zu bytes, more than %zu", name,
                  bytes, maxBytes);
    out.resize(bytes);
    return check(hip, hip.hipMemcpyDtoH(out.data(), address, bytes), DSV4_ERR_LOAD_FAILED,
                 "hipMemcpyDtoH('" + std::string(name) + "')");
  }

  dsv4_status findKernel(const std::string &kernel, KernelFacts &facts) override {
    name = kernel;
    DSV4_TRY(check(hip, hip.hipModuleGetFunction(&function, module, name.c_str()),
                   DSV4_ERR_KERNEL_NOT_FOUND, "hipModuleGetFunction('" + name + "')"));
    hipError e = hip.hipFuncGetAttribute(&facts.maxThreadsPerBlock, kAttrMaxThreadsPerBlock,
                                         function);
    if (!e)
      e = hip.hipFuncGetAttribute(&facts.sharedBytes, kAttrSharedSizeBytes, function);
    return check(hip, e, DSV4_ERR_LOAD_FAILED, "hipFuncGetAttribute('" + name + "')");
  }

  dsv4_status launch(KernelParams &params, const LaunchDims &dims,
                     void *stream) override {
    // Like Triton's and IREE's HIP launchers: HIP lays out the arguments.
    hipError e = hip.hipModuleLaunchKernel(
        function, dims.grid[0], dims.grid[1], dims.grid[2], dims.block[0],
        dims.block[1], dims.block[2], /*sharedMemBytes=*/0, stream, params.pointers,
        /*extra=*/nullptr);
    return check(hip, e, DSV4_ERR_LAUNCH_FAILED, "hipModuleLaunchKernel('" + name + "')");
  }

private:
  const HipApi &hip;
  hipHandle module, function = nullptr;
  std::string name;
};

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
  out = std::make_unique<HipModule>(*hip, module);
  out->deviceChip = chip;
  return DSV4_OK;
}
