//===- Manifest.cpp - parse and check the dsv4 manifest -------------------===//
//
// Every key of docs/ABI.md is required and type-checked here; later code may
// then trust the values (positive sizes, power-of-two alignments, known
// dtypes, the exact ABI argument list).
//
//===----------------------------------------------------------------------===//
#include "Manifest.h"

#include "Error.h"
#include "Json.h"

#include <cmath>
#include <cstring>

using namespace dsv4::rt;

const ManifestArg dsv4::rt::kAbiArgs[kNumAbiArgs] = {
    {"kv", "ptr"},           {"weight", "ptr"},
    {"freqs", "ptr"},        {"handle", "ptr"},
    {"num_items", "i32"},    {"num_rows", "i32"},
    {"kv_row_stride", "i32"}, {"num_positions", "i32"},
    {"freqs_row_stride", "i32"}, {"plan_row_stride", "i32"},
};

const char *dsv4::rt::dtypeName(int32_t dtype) {
  switch (dtype) {
  case DSV4_DTYPE_F32: return "f32";
  case DSV4_DTYPE_BF16: return "bf16";
  case DSV4_DTYPE_F16: return "f16";
  }
  return "invalid";
}

namespace {

constexpr const char *kFormat = "dsv4-manifest-1";

dsv4_status bad(const char *key, const char *what) {
  return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key '%s' %s", key, what);
}

dsv4_status getMember(const JsonValue &root, const char *key,
                      JsonValue::Kind kind, const JsonValue *&out) {
  out = root.find(key);
  if (!out)
    return bad(key, "is missing");
  if (out->kind != kind)
    return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key '%s' is %s, expected %s",
                key, jsonKindName(out->kind), jsonKindName(kind));
  return DSV4_OK;
}

dsv4_status getString(const JsonValue &root, const char *key,
                      std::string &out) {
  const JsonValue *v;
  if (dsv4_status st = getMember(root, key, JsonValue::Kind::String, v))
    return st;
  out = v->string;
  return DSV4_OK;
}

// A positive integer that fits in i32 (every size the kernel receives does).
dsv4_status getPositiveInt(const JsonValue &root, const char *key,
                           int64_t &out) {
  const JsonValue *v;
  if (dsv4_status st = getMember(root, key, JsonValue::Kind::Number, v))
    return st;
  if (!(v->number >= 1 && v->number <= 2147483647.0) ||
      std::floor(v->number) != v->number)
    return bad(key, "must be a positive integer below 2^31");
  out = static_cast<int64_t>(v->number);
  return DSV4_OK;
}

dsv4_status getPowerOfTwo(const JsonValue &root, const char *key,
                          int64_t &out) {
  if (dsv4_status st = getPositiveInt(root, key, out))
    return st;
  if (out & (out - 1))
    return bad(key, "must be a power of two");
  return DSV4_OK;
}

dsv4_status getDtype(const JsonValue &root, const char *key, bool allowF16,
                     dsv4_dtype &out) {
  std::string s;
  if (dsv4_status st = getString(root, key, s))
    return st;
  if (s == "f32")
    out = DSV4_DTYPE_F32;
  else if (s == "bf16")
    out = DSV4_DTYPE_BF16;
  else if (s == "f16" && allowF16)
    out = DSV4_DTYPE_F16;
  else
    return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key '%s' has unsupported dtype '%s'",
                key, s.c_str());
  return DSV4_OK;
}

dsv4_status parseArgs(const JsonValue &root, Manifest &m) {
  const JsonValue *args;
  if (dsv4_status st = getMember(root, "args", JsonValue::Kind::Array, args))
    return st;
  if (args->array.size() != kNumAbiArgs)
    return fail(DSV4_ERR_BAD_MANIFEST,
                "manifest: key 'args' has %zu entries, the ABI has %d",
                args->array.size(), kNumAbiArgs);
  for (size_t i = 0; i < args->array.size(); ++i) {
    const JsonValue &a = args->array[i];
    ManifestArg arg;
    if (a.kind != JsonValue::Kind::Object ||
        getString(a, "name", arg.name) != DSV4_OK ||
        getString(a, "type", arg.type) != DSV4_OK)
      return fail(DSV4_ERR_BAD_MANIFEST,
                  "manifest: key 'args[%zu]' must be {\"name\": string, \"type\": string}", i);
    // The order is the ABI: a kernel whose arguments moved would be fed the
    // wrong values, so any difference is refused rather than remapped.
    if (arg.name != kAbiArgs[i].name || arg.type != kAbiArgs[i].type)
      return fail(DSV4_ERR_BAD_MANIFEST,
                  "manifest: key 'args[%zu]' is %s:%s, the ABI has %s:%s", i,
                  arg.name.c_str(), arg.type.c_str(), kAbiArgs[i].name.c_str(),
                  kAbiArgs[i].type.c_str());
    m.args.push_back(std::move(arg));
  }
  return DSV4_OK;
}

} // namespace

dsv4_status dsv4::rt::parseManifest(std::string_view json, Manifest &m) {
  JsonValue root;
  std::string error;
  if (!parseJson(json, root, error))
    return fail(DSV4_ERR_BAD_MANIFEST, "manifest: invalid JSON: %s", error.c_str());
  if (root.kind != JsonValue::Kind::Object)
    return fail(DSV4_ERR_BAD_MANIFEST, "manifest: top level is %s, expected an object",
                jsonKindName(root.kind));
  m = Manifest();
  std::string format;
  if (dsv4_status st = getString(root, "format", format))
    return st;
  if (format != kFormat)
    return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key 'format' is '%s', expected '%s'",
                format.c_str(), kFormat);

#define DSV4_TRY(expr)                                                         \
  if (dsv4_status st = (expr))                                                 \
    return st;
  DSV4_TRY(getString(root, "kernel", m.kernel));
  DSV4_TRY(getString(root, "binary", m.binary));
  DSV4_TRY(getString(root, "target", m.targetTriple));
  DSV4_TRY(getString(root, "chip", m.chip));
  DSV4_TRY(getString(root, "mode", m.mode));
  DSV4_TRY(getString(root, "schedule", m.schedule));
  const JsonValue *v;
  DSV4_TRY(getMember(root, "rotate", JsonValue::Kind::Bool, v));
  m.rotate = v->boolean;
  DSV4_TRY(getPowerOfTwo(root, "head_dim", m.headDim));
  DSV4_TRY(getPositiveInt(root, "rope_dim", m.ropeDim));
  DSV4_TRY(getPositiveInt(root, "ratio", m.ratio));
  DSV4_TRY(getMember(root, "eps", JsonValue::Kind::Number, v));
  m.eps = v->number;
  DSV4_TRY(getMember(root, "scale", JsonValue::Kind::Number, v));
  m.scale = v->number;
  DSV4_TRY(getDtype(root, "kv_dtype", /*allowF16=*/true, m.kvDtype));
  DSV4_TRY(getDtype(root, "weight_dtype", /*allowF16=*/false, m.weightDtype));
  dsv4_dtype freqsDtype;
  DSV4_TRY(getDtype(root, "freqs_dtype", /*allowF16=*/false, freqsDtype));
  DSV4_TRY(getPositiveInt(root, "lanes_per_row", m.lanesPerRow));
  DSV4_TRY(getPositiveInt(root, "rows_per_workgroup", m.rowsPerWorkgroup));
  DSV4_TRY(getPositiveInt(root, "workgroup_size", m.workgroupSize));
  DSV4_TRY(getPowerOfTwo(root, "kv_align", m.kvAlign));
  DSV4_TRY(getPositiveInt(root, "kv_row_stride_multiple", m.kvRowStrideMultiple));
  DSV4_TRY(getPowerOfTwo(root, "weight_align", m.weightAlign));
  DSV4_TRY(getPowerOfTwo(root, "freqs_align", m.freqsAlign));
  DSV4_TRY(getPositiveInt(root, "freqs_row_stride_multiple", m.freqsRowStrideMultiple));
  DSV4_TRY(parseArgs(root, m));
#undef DSV4_TRY

  if (m.kernel.empty())
    return bad("kernel", "is empty");
  if (m.targetTriple == "amdgcn-amd-amdhsa")
    m.target = Target::Amdgcn;
  else if (m.targetTriple == "nvptx64-nvidia-cuda")
    m.target = Target::Nvptx;
  else
    return fail(DSV4_ERR_BAD_MANIFEST, "manifest: key 'target' is '%s', expected "
                "'amdgcn-amd-amdhsa' or 'nvptx64-nvidia-cuda'", m.targetTriple.c_str());
  if (m.mode == "decode")
    m.handleKind = DSV4_HANDLE_DECODE_SEQ_LENS;
  else if (m.mode == "prefill")
    m.handleKind = DSV4_HANDLE_PREFILL_PLAN;
  else
    return fail(DSV4_ERR_BAD_MANIFEST,
                "manifest: key 'mode' is '%s', expected 'decode' or 'prefill'", m.mode.c_str());
  if (freqsDtype != DSV4_DTYPE_F32)
    return bad("freqs_dtype", "must be 'f32'");
  if (m.ropeDim % 2 || m.ropeDim > m.headDim)
    return bad("rope_dim", "must be even and at most head_dim");
  if (!(m.eps > 0) || !std::isfinite(static_cast<float>(m.eps)))
    return bad("eps", "must be a positive finite float");
  m.epsF = static_cast<float>(m.eps);
  if (!std::isfinite(m.scale))
    return bad("scale", "must be finite");
  if (m.workgroupSize != m.lanesPerRow * m.rowsPerWorkgroup)
    return bad("workgroup_size", "must equal lanes_per_row * rows_per_workgroup");
  return DSV4_OK;
}
