//===- Module.cpp - the public C API of the dsv4 runtime shim -------------===//
//
// A dsv4_module is a checked manifest plus the back end's loaded kernel.
// Entry points clear the thread's message, never throw across the C
// boundary, and turn allocation failure into a status.
//
//===----------------------------------------------------------------------===//
#include "dsv4/Runtime/dsv4_runtime.h"

#include "Backend.h"
#include "Error.h"
#include "KernargLayout.h"
#include "LaunchCheck.h"
#include "Manifest.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

using namespace dsv4::rt;

struct dsv4_module {
  Manifest manifest;
  std::unique_ptr<LoadedKernel> kernel;
};

namespace {

dsv4_status readFile(const std::string &path, std::vector<uint8_t> &out) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return fail(DSV4_ERR_IO, "cannot open '%s': %s", path.c_str(), std::strerror(errno));
  out.clear();
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), f)) > 0)
    out.insert(out.end(), chunk, chunk + n);
  bool bad = std::ferror(f);
  std::fclose(f);
  if (bad)
    return fail(DSV4_ERR_IO, "cannot read '%s'", path.c_str());
  return DSV4_OK;
}

// "dir/k.gfx942.hsaco" -> "dir/k.gfx942.json" (only the file name's last
// extension is replaced; a name without one gets ".json" appended).
std::string defaultManifestPath(const std::string &binary) {
  size_t slash = binary.rfind('/');
  size_t dot = binary.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
    return binary + ".json";
  return binary.substr(0, dot) + ".json";
}

dsv4_status loadModule(std::vector<uint8_t> image, const std::string &manifestJson,
                       dsv4_module **out) {
  auto mod = std::make_unique<dsv4_module>();
  if (dsv4_status st = parseManifest(manifestJson, mod->manifest))
    return st;
  if (image.empty())
    return fail(DSV4_ERR_LOAD_FAILED, "code object image is empty");
  dsv4_status st = mod->manifest.target == Target::Amdgcn
                       ? loadHipKernel(image, mod->manifest, mod->kernel)
                       : loadCudaKernel(image, mod->manifest, mod->kernel);
  if (st)
    return st;
  *out = mod.release();
  return DSV4_OK;
}

// Runs `body`, mapping C++ exceptions (only bad_alloc is possible) to a status.
template <typename F> dsv4_status guarded(F body) {
  clearError();
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return fail(DSV4_ERR_INVALID_ARGUMENT, "out of host memory");
  } catch (...) {
    return fail(DSV4_ERR_INVALID_ARGUMENT, "unexpected C++ exception");
  }
}

} // namespace

extern "C" dsv4_status dsv4_module_load_file(const char *binaryPath,
                                             const char *manifestPath,
                                             dsv4_module **out) {
  return guarded([&]() -> dsv4_status {
    if (!out || !binaryPath)
      return fail(DSV4_ERR_INVALID_ARGUMENT,
                  "dsv4_module_load_file: binary_path and out must not be NULL");
    *out = nullptr;
    std::string manifest = manifestPath ? manifestPath : defaultManifestPath(binaryPath);
    std::vector<uint8_t> json, image;
    if (dsv4_status st = readFile(manifest, json))
      return st;
    if (dsv4_status st = readFile(binaryPath, image))
      return st;
    return loadModule(std::move(image), std::string(json.begin(), json.end()), out);
  });
}

extern "C" dsv4_status dsv4_module_load_data(const void *image, size_t size,
                                             const char *manifestJson,
                                             dsv4_module **out) {
  return guarded([&]() -> dsv4_status {
    if (!out || !image || !manifestJson)
      return fail(DSV4_ERR_INVALID_ARGUMENT,
                  "dsv4_module_load_data: image, manifest_json and out must not be NULL");
    *out = nullptr;
    const auto *bytes = static_cast<const uint8_t *>(image);
    return loadModule(std::vector<uint8_t>(bytes, bytes + size), manifestJson, out);
  });
}

extern "C" void dsv4_module_unload(dsv4_module *mod) { delete mod; }

extern "C" dsv4_status dsv4_launch(dsv4_module *mod, const dsv4_launch_args *args,
                                   void *stream) {
  return guarded([&]() -> dsv4_status {
    if (!mod || !args)
      return fail(DSV4_ERR_INVALID_ARGUMENT, "dsv4_launch: module and args must not be NULL");
    AbiValues values;
    LaunchDims dims;
    bool launchNeeded;
    if (dsv4_status st = checkLaunch(mod->manifest, *args, values, dims, launchNeeded))
      return st;
    if (!launchNeeded)
      return DSV4_OK;
    return mod->kernel->launch(values, dims, stream);
  });
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
#undef DSV4_GETTER

extern "C" dsv4_status dsv4_module_kernarg_layout(const dsv4_module *mod,
                                                  dsv4_kernarg_layout *out) {
  return guarded([&]() -> dsv4_status {
    if (!mod || !out)
      return fail(DSV4_ERR_INVALID_ARGUMENT,
                  "dsv4_module_kernarg_layout: module and out must not be NULL");
    std::string target;
    const KernelInfo *info = mod->kernel->kernargLayout(target);
    if (!info)
      return fail(DSV4_ERR_INVALID_ARGUMENT,
                  "kernel '%s' is PTX: only HSACO modules have a kernarg layout",
                  mod->manifest.kernel.c_str());
    return fillKernargLayout(*info, target, *out);
  });
}
