//===- Manifest.cpp - parse and check the dsv4 manifest -------------------===//
//
// The text must first give back the digest the compiler stored beside it:
// the code object cannot confirm head_dim, ratio or the layout by itself, so
// an edited manifest is refused rather than believed. Every key of
// docs/ABI.md that the runtime uses is then required and checked; later code
// may trust the values (positive sizes, power-of-two alignments, known dtypes
// and layouts, the exact argument list of KernelArgs.def). The schedule, which
// no launch decision depends on, is left to tools. The JSON itself is
// nlohmann-json's.
//
//===----------------------------------------------------------------------===//
#include "Manifest.h"

#include "Error.h"
#include "KernelArgs.h"
#include "dsv4/ABI/Limits.h"
#include "dsv4/ABI/Manifest.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <initializer_list>
#include <utility>

using namespace dsv4::rt;
using namespace dsv4_abi;
using nlohmann::json;

// Indexed by dsv4_dtype.
constexpr const char *kDtypeNames[] = {"invalid", "f32", "bf16", "f16", "i32", "i64"};

const char *dsv4::rt::dtypeName(int32_t dtype) {
  return dtype > 0 && dtype <= DSV4_DTYPE_I64 ? kDtypeNames[dtype] : kDtypeNames[0];
}

// Indexed by dsv4_layout: the manifest's `layout` values, and how an in-place kernel is named.
constexpr const char *kLayoutNames[] = {"invalid", "in-place", "indexer", "main",
                                       "indexer_mxfp4"};

const char *dsv4::rt::layoutName(int32_t layout) {
  return layout > 0 && layout <= DSV4_LAYOUT_INDEXER_MXFP4 ? kLayoutNames[layout] : kLayoutNames[0];
}

namespace {

constexpr int64_t kMaxI32 = 2147483647;
// The mode of a compress kernel.
constexpr char kCompressMode[] = "compress";

// Handle.def's modes, for the message that refuses another.
constexpr char kModes[] = ""
#define DSV4_PLAN_FIELD(Name, name)
#define DSV4_HANDLE_KIND(Name, value, mode, what) " '" #mode "'"
#include "dsv4/ABI/Handle.def"
    ;

// The handle kind of a kernel of `mode` (Handle.def); false for no mode of the table.
bool handleKindOf(const std::string &mode, dsv4_handle_kind &kind) {
#define DSV4_PLAN_FIELD(Name, name)
#define DSV4_HANDLE_KIND(Name, value, modeName, what)                                          \
  if (mode == #modeName) {                                                                     \
    kind = static_cast<dsv4_handle_kind>(value);                                               \
    return true;                                                                               \
  }
#include "dsv4/ABI/Handle.def"
  return false;
}

dsv4_status bad(const char *key, const char *what) {
  return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key '%s' %s", key, what);
}

// The member `key` of `object`, which must exist and have `type`.
dsv4_status getMember(const json &object, const char *key, json::value_t type,
                      const json *&out) {
  auto it = object.find(key);
  if (it == object.end())
    return bad(key, "is missing");
  // Integers come back as unsigned or signed; both are numbers to a reader.
  bool isNumber = type == json::value_t::number_float && it->is_number();
  if (it->type() != type && !isNumber)
    return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key '%s' is %s, expected %s", key,
                it->type_name(), json(type).type_name());
  out = &*it;
  return DSV4_OK;
}

dsv4_status getString(const json &object, const char *key, std::string &out) {
  const json *v;
  DSV4_TRY(getMember(object, key, json::value_t::string, v));
  out = v->get<std::string>();
  return DSV4_OK;
}

dsv4_status getNumber(const json &object, const char *key, double &out) {
  const json *v;
  DSV4_TRY(getMember(object, key, json::value_t::number_float, v));
  out = v->get<double>();
  return DSV4_OK;
}

// An integer in [minimum, 2^31) (every size the kernel receives fits in i32).
dsv4_status getInt(const json &object, const char *key, int64_t &out, int minimum = 1) {
  double v;
  DSV4_TRY(getNumber(object, key, v));
  if (!(v >= minimum && v <= kMaxI32) || std::floor(v) != v)
    return bad(key, minimum ? "must be a positive integer below 2^31"
                            : "must be a non-negative integer below 2^31");
  out = static_cast<int64_t>(v);
  return DSV4_OK;
}

dsv4_status getPowerOfTwo(const json &object, const char *key, int64_t &out) {
  DSV4_TRY(getInt(object, key, out));
  if (out & (out - 1))
    return bad(key, "must be a power of two");
  return DSV4_OK;
}

// A store kernel's slot type: "i32", or i64 where the key is absent (the compiler's default).
dsv4_status getOutLocDtype(const json &object, dsv4_dtype &out) {
  out = DSV4_DTYPE_I64;
  if (!object.contains(kOutLocDtypeKey))
    return DSV4_OK;
  std::string s;
  DSV4_TRY(getString(object, kOutLocDtypeKey, s));
  if (s != kDtypeNames[DSV4_DTYPE_I32])
    return bad(kOutLocDtypeKey, "must be 'i32' (absent: i64)");
  out = DSV4_DTYPE_I32;
  return DSV4_OK;
}

dsv4_status getDtype(const json &object, const char *key, bool allowF16,
                     dsv4_dtype &out) {
  std::string s;
  DSV4_TRY(getString(object, key, s));
  for (int dtype = DSV4_DTYPE_F32; dtype <= (allowF16 ? DSV4_DTYPE_F16 : DSV4_DTYPE_BF16); ++dtype)
    if (s == kDtypeNames[dtype]) {
      out = static_cast<dsv4_dtype>(dtype);
      return DSV4_OK;
    }
  return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key '%s' has unsupported dtype '%s'", key,
              s.c_str());
}

// A store kernel's cache layout: one of the names after "in-place" in kLayoutNames.
dsv4_status getLayout(const json &object, dsv4_layout &out) {
  std::string s;
  DSV4_TRY(getString(object, kLayoutKey, s));
  for (int layout = DSV4_LAYOUT_INDEXER; layout <= DSV4_LAYOUT_INDEXER_MXFP4; ++layout)
    if (s == kLayoutNames[layout]) {
      out = static_cast<dsv4_layout>(layout);
      return DSV4_OK;
    }
  return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key '%s' is '%s', expected '%s', '%s' or '%s'",
              kLayoutKey, s.c_str(), kLayoutNames[DSV4_LAYOUT_INDEXER],
              kLayoutNames[DSV4_LAYOUT_MAIN], kLayoutNames[DSV4_LAYOUT_INDEXER_MXFP4]);
}

// The manifest's argument list must be KernelArgs.def's, in order: a kernel
// whose arguments moved would be fed the wrong values, so any difference is
// refused rather than remapped. `names` and `kinds` are the first `count`
// entries of the list of the kernel's kind.
dsv4_status checkArgs(const json &root, const char *const *names, const char *const *kinds,
                      size_t count) {
  const json *args;
  DSV4_TRY(getMember(root, kArgsKey, json::value_t::array, args));
  if (args->size() != count)
    return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key '%s' has %zu entries, the ABI has %zu",
                kArgsKey, args->size(), count);
  for (size_t i = 0; i < count; ++i) {
    const json &a = (*args)[i];
    std::string name, kind;
    if (!a.is_object() || getString(a, kArgNameKey, name) || getString(a, kArgTypeKey, kind))
      return fail(DSV4_ERR_BAD_MANIFEST,
                  "manifest: key '%s[%zu]' must be {\"%s\": string, \"%s\": string}",
                  kArgsKey, i, kArgNameKey, kArgTypeKey);
    if (name != names[i] || kind != kinds[i])
      return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key '%s[%zu]' is %s:%s, the ABI has %s:%s",
                  kArgsKey, i, name.c_str(), kind.c_str(), names[i], kinds[i]);
  }
  return DSV4_OK;
}

// The list of an in-place (`store` false) or store kernel.
dsv4_status checkKvArgs(const json &root, bool store) {
  static constexpr const char *names[] = {
#define DSV4_KERNEL_ARG(Name, name, kind) #name,
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) #name,
#include "dsv4/ABI/KernelArgs.def"
  };
  static constexpr const char *kinds[] = {
#define DSV4_KERNEL_ARG(Name, name, kind) #kind,
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) #kind,
#include "dsv4/ABI/KernelArgs.def"
  };
  // The in-place list is the store list's first kNumKernelArgs entries.
  return checkArgs(root, names, kinds, store ? kNumStoreKernelArgs : kNumKernelArgs);
}

dsv4_status checkCompressArgs(const json &root) {
  static constexpr const char *names[] = {
#define DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind) #name,
#include "dsv4/ABI/KernelArgs.def"
  };
  static constexpr const char *kinds[] = {
#define DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind) #kind,
#include "dsv4/ABI/KernelArgs.def"
  };
  return checkArgs(root, names, kinds, kNumCompressKernelArgs);
}

dsv4_status readKeys(const json &root, Manifest &m) {
  std::string format;
  DSV4_TRY(getString(root, kFormatKey, format));
  if (format != kManifestFormat)
    return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key '%s' is '%s', expected '%s'",
                kFormatKey, format.c_str(), kManifestFormat);
  DSV4_TRY(getString(root, kKernelKey, m.kernel));
  DSV4_TRY(getString(root, kTargetKey, m.targetTriple));
  DSV4_TRY(getString(root, kChipKey, m.chip));
  DSV4_TRY(getString(root, kModeKey, m.mode));
  const json *rotate;
  DSV4_TRY(getMember(root, kRotateKey, json::value_t::boolean, rotate));
  m.rotate = rotate->get<bool>();
  DSV4_TRY(getPowerOfTwo(root, kHeadDimKey, m.headDim));
  DSV4_TRY(getInt(root, kRopeDimKey, m.ropeDim));
  DSV4_TRY(getInt(root, kRatioKey, m.ratio));
  DSV4_TRY(getNumber(root, kEpsKey, m.eps));
  DSV4_TRY(getNumber(root, kScaleKey, m.scale));
  DSV4_TRY(getDtype(root, kKvDtypeKey, /*allowF16=*/true, m.kvDtype));
  DSV4_TRY(getDtype(root, kWeightDtypeKey, /*allowF16=*/false, m.weightDtype));
  dsv4_dtype freqsDtype;
  DSV4_TRY(getDtype(root, kFreqsDtypeKey, /*allowF16=*/false, freqsDtype));
  if (freqsDtype != DSV4_DTYPE_F32)
    return bad(kFreqsDtypeKey, "must be 'f32'");
  DSV4_TRY(getInt(root, kLanesPerRowKey, m.lanesPerRow));
  DSV4_TRY(getInt(root, kRowsPerWorkgroupKey, m.rowsPerWorkgroup));
  DSV4_TRY(getInt(root, kWorkgroupSizeKey, m.workgroupSize));
  // A compress kernel reads no kv rows: its state keys stand in for these.
  m.compress = m.mode == kCompressMode;
  if (!m.compress) {
    DSV4_TRY(getPowerOfTwo(root, kKvAlignKey, m.kvAlign));
    DSV4_TRY(getInt(root, kKvRowStrideMultipleKey, m.kvRowStrideMultiple));
  }
  DSV4_TRY(getPowerOfTwo(root, kWeightAlignKey, m.weightAlign));
  DSV4_TRY(getPowerOfTwo(root, kFreqsAlignKey, m.freqsAlign));
  DSV4_TRY(getInt(root, kFreqsRowStrideMultipleKey, m.freqsRowStrideMultiple));
  DSV4_TRY(getInt(root, kLdsBytesKey, m.ldsBytes, /*minimum=*/0));
  // The layout's bytes are the kernel's own; the caller states the layout and page size. A
  // compress kernel always stores, so a missing layout is named.
  if ((m.store = m.compress || root.contains(kLayoutKey))) {
    DSV4_TRY(getLayout(root, m.layout));
    DSV4_TRY(getPowerOfTwo(root, kPageSizeKey, m.pageSize));
    DSV4_TRY(getPowerOfTwo(root, kCacheAlignKey, m.cacheAlign));
    DSV4_TRY(getOutLocDtype(root, m.outLocDtype));
  }
  if (!m.compress)
    return checkKvArgs(root, m.store);
  const json *overlap;
  DSV4_TRY(getMember(root, kOverlapKey, json::value_t::boolean, overlap));
  m.overlap = overlap->get<bool>();
  DSV4_TRY(getPowerOfTwo(root, kStateBlockSizeKey, m.stateBlockSize));
  DSV4_TRY(getPowerOfTwo(root, kStateAlignKey, m.stateAlign));
  DSV4_TRY(getInt(root, kStateStrideMultipleKey, m.stateStrideMultiple));
  return checkCompressArgs(root);
}

// What the keys must say together.
dsv4_status checkConsistent(Manifest &m) {
  if (m.kernel.empty())
    return bad(kKernelKey, "is empty");
  if (m.targetTriple != "amdgcn-amd-amdhsa" && m.targetTriple != "nvptx64-nvidia-cuda")
    return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key '%s' is '%s', expected "
                "'amdgcn-amd-amdhsa' or 'nvptx64-nvidia-cuda'", kTargetKey,
                m.targetTriple.c_str());
  if (!handleKindOf(m.mode, m.handleKind))
    return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key '%s' is '%s', expected one of:%s", kModeKey,
                m.mode.c_str(), kModes);
  if (m.headDim < kMinHeadDim || m.headDim > kMaxHeadDim)
    return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key '%s' must be in [%lld, %lld]",
                kHeadDimKey, static_cast<long long>(kMinHeadDim),
                static_cast<long long>(kMaxHeadDim));
  // The compiler refuses larger pages: their byte offsets would overflow in the kernel.
  // The compiler bounds the state's blocks as it bounds pages.
  for (auto [key, value] : {std::pair{kPageSizeKey, m.pageSize},
                            std::pair{kStateBlockSizeKey, m.stateBlockSize}})
    if (value > kMaxPageSize)
      return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key '%s' must be at most %lld", key,
                  static_cast<long long>(kMaxPageSize));
  // SPEC.md: a state row is kv then score, W elements each; W = 2D where windows overlap.
  m.stateWidth = m.compress ? (m.overlap ? 4 : 2) * m.headDim : 0;
  if (m.ropeDim % 2 || m.ropeDim > m.headDim)
    return bad(kRopeDimKey, "must be even and at most the head dim");
  if (!(m.eps > 0) || !std::isfinite(static_cast<float>(m.eps)))
    return bad(kEpsKey, "must be a positive finite float");
  m.epsF = static_cast<float>(m.eps);
  if (!std::isfinite(static_cast<float>(m.scale)))
    return bad(kScaleKey, "must be a finite float");
  m.scaleF = static_cast<float>(m.scale);
  if (m.workgroupSize != m.lanesPerRow * m.rowsPerWorkgroup)
    return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key '%s' must equal %s * %s",
                kWorkgroupSizeKey, kLanesPerRowKey, kRowsPerWorkgroupKey);
  return DSV4_OK;
}

// The manifest's kernel name for a message, if it has one.
std::string kernelNameOf(const json &root) {
  auto it = root.find(kKernelKey);
  return it != root.end() && it->is_string() ? it->get<std::string>() : "(unnamed)";
}

} // namespace

dsv4_status dsv4::rt::parseManifest(std::string_view text, uint64_t digest, Manifest &m) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception &e) { // a syntax error, or a number out of range (1e999)
    return fail(DSV4_ERR_BAD_MANIFEST, "manifest: invalid JSON: %s", e.what());
  }
  if (!root.is_object())
    return fail(DSV4_ERR_BAD_MANIFEST, "manifest: top level is %s, expected an object",
                root.type_name());
  uint64_t computed = dsv4_manifest_digest(text.data(), text.size());
  if (computed != digest)
    return fail(DSV4_ERR_BAD_MANIFEST, "manifest of kernel '%s' does not match its digest "
                "(%s is 0x%016llx, the text gives 0x%016llx): the code object was changed "
                "after compilation", kernelNameOf(root).c_str(), kManifestDigestSymbol,
                static_cast<unsigned long long>(digest),
                static_cast<unsigned long long>(computed));
  m = Manifest();
  DSV4_TRY(readKeys(root, m));
  return checkConsistent(m);
}
