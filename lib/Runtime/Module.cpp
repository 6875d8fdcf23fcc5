//===- Module.cpp - the public C API of the dsv4 runtime shim -------------===//
//
// A dsv4_module is a loaded code object plus the manifest embedded in it,
// checked against what the driver reports. Entry points clear the thread's
// message, never throw across the C boundary, and turn allocation failure
// into a status.
//
//===----------------------------------------------------------------------===//
#include "dsv4/Runtime/dsv4_runtime.h"

#include "Backend.h"
#include "Error.h"
#include "Manifest.h"
#include "dsv4/ABI/Manifest.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace dsv4::rt;

struct dsv4_module {
  Manifest manifest;
  std::unique_ptr<LoadedModule> gpu;
};

namespace {

// Far above any dsv4 code object (tens of kilobytes), far below what would
// hurt to allocate.
constexpr off_t kMaxFileBytes = 64 << 20;

// Reads a regular file of at most kMaxFileBytes. A device, FIFO or folder
// fails at once: O_NONBLOCK keeps a FIFO without writer from blocking open().
dsv4_status readFile(const std::string &path, std::vector<uint8_t> &out) {
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return fail(DSV4_ERR_IO, "cannot open '%s': %s", path.c_str(), std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { close(fd); }
  } closer{fd};
  struct stat info;
  if (fstat(fd, &info) != 0)
    return fail(DSV4_ERR_IO, "cannot stat '%s': %s", path.c_str(), std::strerror(errno));
  if (!S_ISREG(info.st_mode))
    return fail(DSV4_ERR_IO, "'%s' is not a regular file", path.c_str());
  if (info.st_size > kMaxFileBytes)
    return fail(DSV4_ERR_IO, "'%s' has %lld bytes, more than the %lld a code object may "
                "have", path.c_str(), static_cast<long long>(info.st_size),
                static_cast<long long>(kMaxFileBytes));
  out.resize(static_cast<size_t>(info.st_size));
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return fail(DSV4_ERR_IO, "cannot read '%s': %s", path.c_str(),
                  n < 0 ? std::strerror(errno) : "the file shrank while being read");
    done += static_cast<size_t>(n);
  }
  return DSV4_OK;
}

// The digest the compiler stored beside the manifest.
dsv4_status readDigest(LoadedModule &gpu, uint64_t &digest) {
  std::string bytes;
  DSV4_TRY(gpu.readGlobal(dsv4_abi::kManifestDigestSymbol, DSV4_MANIFEST_DIGEST_BYTES, bytes));
  if (bytes.size() != DSV4_MANIFEST_DIGEST_BYTES)
    return fail(DSV4_ERR_BAD_MANIFEST, "global '%s' has %zu bytes, expected %d",
                dsv4_abi::kManifestDigestSymbol, bytes.size(), DSV4_MANIFEST_DIGEST_BYTES);
  digest = dsv4_manifest_digest_from_bytes(reinterpret_cast<const unsigned char *>(bytes.data()));
  return DSV4_OK;
}

// The manifest embedded in the loaded code object, up to its NUL, checked against its digest.
dsv4_status readManifest(LoadedModule &gpu, Manifest &manifest) {
  std::string text;
  DSV4_TRY(gpu.readGlobal(dsv4_abi::kManifestSymbol, dsv4_abi::kMaxManifestBytes, text));
  size_t end = text.find('\0');
  if (end == std::string::npos)
    return fail(DSV4_ERR_BAD_MANIFEST, "global '%s' is not NUL-terminated",
                dsv4_abi::kManifestSymbol);
  uint64_t digest = 0;
  DSV4_TRY(readDigest(gpu, digest));
  return parseManifest(std::string_view(text).substr(0, end), digest, manifest);
}

// Every manifest fact the device and driver can confirm.
dsv4_status checkAgainstKernel(const Manifest &m, const std::string &deviceChip,
                               const KernelFacts &facts) {
  if (deviceChip != m.chip)
    return fail(DSV4_ERR_ARCH_MISMATCH, "device is %s, kernel '%s' was compiled for %s",
                deviceChip.c_str(), m.kernel.c_str(), m.chip.c_str());
  auto mismatch = [&](const char *key, long long inManifest, long long inObject) {
    return fail(DSV4_ERR_MISMATCH, "kernel '%s': manifest %s is %lld, the code object's is %lld",
                m.kernel.c_str(), key, inManifest, inObject);
  };
  // The kernel declares its block size (known_block_size), so the driver's
  // limit is exactly the size it was built for.
  if (facts.maxThreadsPerBlock != m.workgroupSize)
    return mismatch(dsv4_abi::kWorkgroupSizeKey, m.workgroupSize, facts.maxThreadsPerBlock);
  if (facts.sharedBytes != m.ldsBytes)
    return mismatch(dsv4_abi::kLdsBytesKey, m.ldsBytes, facts.sharedBytes);
  return DSV4_OK;
}

// An ELF image is an HSACO for HIP; anything else is PTX text for CUDA.
dsv4_status loadModule(const std::vector<uint8_t> &image, dsv4_module **out) {
  if (image.empty())
    return fail(DSV4_ERR_LOAD_FAILED, "code object image is empty");
  auto mod = std::make_unique<dsv4_module>();
  bool elf = image.size() >= 4 && std::memcmp(image.data(), "\x7f" "ELF", 4) == 0;
  DSV4_TRY(elf ? loadHipModule(image, mod->gpu) : loadCudaModule(image, mod->gpu));
  DSV4_TRY(readManifest(*mod->gpu, mod->manifest));
  KernelFacts facts;
  DSV4_TRY(mod->gpu->findKernel(mod->manifest.kernel, facts));
  DSV4_TRY(checkAgainstKernel(mod->manifest, mod->gpu->deviceChip, facts));
  *out = mod.release();
  return DSV4_OK;
}

// Runs `body`, mapping C++ exceptions (only bad_alloc is possible) to a status.
template <typename F> dsv4_status guarded(F body) {
  clearError();
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return fail(DSV4_ERR_OUT_OF_MEMORY, "out of host memory");
  } catch (...) {
    return fail(DSV4_ERR_INVALID_ARGUMENT, "unexpected C++ exception");
  }
}

} // namespace

extern "C" dsv4_status dsv4_module_load_file(const char *binaryPath, dsv4_module **out) {
  return guarded([&]() -> dsv4_status {
    if (!out || !binaryPath)
      return fail(DSV4_ERR_INVALID_ARGUMENT,
                  "dsv4_module_load_file: binary_path and out must not be NULL");
    *out = nullptr;
    std::vector<uint8_t> image;
    DSV4_TRY(readFile(binaryPath, image));
    return loadModule(image, out);
  });
}

extern "C" dsv4_status dsv4_module_load_data(const void *image, size_t size,
                                             dsv4_module **out) {
  return guarded([&]() -> dsv4_status {
    if (!out || !image)
      return fail(DSV4_ERR_INVALID_ARGUMENT,
                  "dsv4_module_load_data: image and out must not be NULL");
    *out = nullptr;
    const auto *bytes = static_cast<const uint8_t *>(image);
    return loadModule(std::vector<uint8_t>(bytes, bytes + size), out);
  });
}

extern "C" void dsv4_module_unload(dsv4_module *mod) { delete mod; }

namespace {
/// One launch: `check` compares the call with the manifest and fills the kernel's argument
/// values (`Values`), which `Params` lays out as kernelParams; no launch for no work.
template <typename Values, typename Params, typename Args, typename Check>
dsv4_status checkedLaunch(const char *entry, dsv4_module *mod, const Args *args, void *stream,
                          Check check) {
  return guarded([&]() -> dsv4_status {
    if (!mod || !args)
      return fail(DSV4_ERR_INVALID_ARGUMENT, "%s: module and args must not be NULL", entry);
    Values values;
    LaunchDims dims;
    bool launchNeeded;
    DSV4_TRY(check(mod->manifest, *args, values, dims, launchNeeded));
    if (!launchNeeded)
      return DSV4_OK;
    Params params(values);
    return mod->gpu->launch(params.pointers, dims, stream);
  });
}
} // namespace

extern "C" dsv4_status dsv4_launch(dsv4_module *mod, const dsv4_launch_args *args,
                                   void *stream) {
  return checkedLaunch<KernelArgValues, KernelParams>("dsv4_launch", mod, args, stream,
                                                      checkLaunch);
}

extern "C" dsv4_status dsv4_launch_compress(dsv4_module *mod,
                                            const dsv4_compress_launch_args *args,
                                            void *stream) {
  return checkedLaunch<CompressKernelArgValues, CompressKernelParams>(
      "dsv4_launch_compress", mod, args, stream, checkCompressLaunch);
}

// Getters tolerate NULL so a ctypes caller cannot crash the process.
#define DSV4_GETTER(type, name, expr, fallback)                                \
  extern "C" type dsv4_module_##name(const dsv4_module *mod) {                 \
    return mod ? (expr) : (fallback);                                          \
  }
DSV4_GETTER(const char *, kernel_name, mod->manifest.kernel.c_str(), "")
DSV4_GETTER(const char *, target, mod->manifest.targetTriple.c_str(), "")
DSV4_GETTER(const char *, chip, mod->manifest.chip.c_str(), "")
DSV4_GETTER(const char *, mode, mod->manifest.mode.c_str(), "")
DSV4_GETTER(int32_t, handle_kind, mod->manifest.handleKind, 0)
DSV4_GETTER(int, rotate, mod->manifest.rotate, 0)
DSV4_GETTER(int64_t, head_dim, mod->manifest.headDim, 0)
DSV4_GETTER(int64_t, rope_dim, mod->manifest.ropeDim, 0)
DSV4_GETTER(int32_t, kv_dtype, mod->manifest.kvDtype, 0)
DSV4_GETTER(int32_t, weight_dtype, mod->manifest.weightDtype, 0)
DSV4_GETTER(int64_t, workgroup_size, mod->manifest.workgroupSize, 0)
DSV4_GETTER(int64_t, rows_per_workgroup, mod->manifest.rowsPerWorkgroup, 0)
DSV4_GETTER(float, eps, mod->manifest.epsF, 0.0f)
DSV4_GETTER(int64_t, page_size, mod->manifest.pageSize, 0)
DSV4_GETTER(int32_t, out_loc_dtype, mod->manifest.outLocDtype, 0)
DSV4_GETTER(int64_t, ratio, mod->manifest.ratio, 0)
DSV4_GETTER(float, scale, mod->manifest.scaleF, 0.0f)
DSV4_GETTER(int32_t, layout, mod->manifest.layout, 0)
DSV4_GETTER(int, overlap, mod->manifest.overlap, 0)
DSV4_GETTER(int64_t, state_block_size, mod->manifest.stateBlockSize, 0)
#undef DSV4_GETTER
