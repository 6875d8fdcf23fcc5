//===- LaunchCheck.cpp - validate a call against the manifest -------------===//
//
// Order matters: what is wrong with the call itself (types, sizes, the
// configuration it relies on) is reported even for an empty call, since it is
// a bug in the caller either way; pointers and alignment only once there is
// work, because an empty framework tensor may legitimately have a null data
// pointer.
//
//===----------------------------------------------------------------------===//
#include "KernelArgs.h"
#include "Manifest.h"

#include "Error.h"

using namespace dsv4::rt;

namespace {

// The i32 plan and seq_lens are read as i32; four of them form a plan row.
constexpr int64_t kHandleAlign = 4;
constexpr int64_t kOutLocAlign = 8; // i64 slots
constexpr int64_t kPlanFields = 4;
// ABI.md: decode kernels ignore plan_row_stride; 4 is passed.
constexpr int64_t kDecodePlanRowStride = 4;

dsv4_status checkI32(const char *field, int64_t v) {
  if (v < 0 || v > INT32_MAX)
    return fail(DSV4_ERR_INVALID_ARGUMENT,
                "dsv4_launch: %s = %lld is outside [0, 2^31-1]", field,
                static_cast<long long>(v));
  return DSV4_OK;
}

dsv4_status checkAligned(const char *field, const void *p, int64_t align) {
  if (reinterpret_cast<uintptr_t>(p) % static_cast<uintptr_t>(align))
    return fail(DSV4_ERR_MISALIGNED,
                "dsv4_launch: %s pointer %p is not %lld-byte aligned", field, p,
                static_cast<long long>(align));
  return DSV4_OK;
}

dsv4_status checkMinimum(const char *field, int64_t value, int64_t minimum,
                         const char *what) {
  if (value < minimum)
    return fail(DSV4_ERR_INVALID_ARGUMENT, "dsv4_launch: %s = %lld is less than the %s %lld",
                field, static_cast<long long>(value), what, static_cast<long long>(minimum));
  return DSV4_OK;
}

dsv4_status checkStride(const char *field, int64_t stride, int64_t minimum,
                        int64_t multiple) {
  DSV4_TRY(checkMinimum(field, stride, minimum, "row length"));
  if (stride % multiple)
    return fail(DSV4_ERR_MISALIGNED,
                "dsv4_launch: %s = %lld is not a multiple of %lld elements", field,
                static_cast<long long>(stride), static_cast<long long>(multiple));
  return DSV4_OK;
}

// Indexed by dsv4_handle_kind.
constexpr const char *kHandleNames[] = {"invalid handle kind", "decode seq_lens", "prefill plan"};

const char *handleName(int32_t kind) {
  return kind > 0 && kind <= DSV4_HANDLE_PREFILL_PLAN ? kHandleNames[kind] : kHandleNames[0];
}

// Every fact of LaunchFacts.def against the manifest: a call made for another configuration
// (a ratio-128 layer given a ratio-4 kernel) would run and compute something else.
dsv4_status checkFacts(const Manifest &m, const dsv4_launch_args &a) {
  const char *k = m.kernel.c_str();
  if (a.kv_dtype != m.kvDtype)
    return fail(DSV4_ERR_MISMATCH, "dsv4_launch: kv dtype is %s, kernel '%s' takes %s",
                dtypeName(a.kv_dtype), k, dtypeName(m.kvDtype));
  if (a.weight_dtype != m.weightDtype)
    return fail(DSV4_ERR_MISMATCH, "dsv4_launch: weight dtype is %s, kernel '%s' takes %s",
                dtypeName(a.weight_dtype), k, dtypeName(m.weightDtype));
  if (a.head_dim != m.headDim)
    return fail(DSV4_ERR_MISMATCH, "dsv4_launch: head_dim is %lld, kernel '%s' has %lld",
                static_cast<long long>(a.head_dim), k, static_cast<long long>(m.headDim));
  if (a.weight_len != m.headDim)
    return fail(DSV4_ERR_MISMATCH,
                "dsv4_launch: weight has %lld elements, kernel '%s' has head_dim %lld",
                static_cast<long long>(a.weight_len), k, static_cast<long long>(m.headDim));
  if (a.freqs_width != m.ropeDim)
    return fail(DSV4_ERR_MISMATCH,
                "dsv4_launch: freqs rows have %lld floats, kernel '%s' has rope_dim %lld",
                static_cast<long long>(a.freqs_width), k, static_cast<long long>(m.ropeDim));
  // Exact: eps is a compile-time constant of the kernel, and a different
  // value would silently compute a different function.
  if (a.eps != m.epsF)
    return fail(DSV4_ERR_MISMATCH,
                "dsv4_launch: eps is %.9g, kernel '%s' was compiled with %.9g",
                static_cast<double>(a.eps), k, static_cast<double>(m.epsF));
  if (a.handle_kind != m.handleKind)
    return fail(DSV4_ERR_MISMATCH, "dsv4_launch: handle is a %s, kernel '%s' is %s",
                handleName(a.handle_kind), k, m.mode.c_str());
  if (a.ratio != m.ratio)
    return fail(DSV4_ERR_MISMATCH, "dsv4_launch: ratio is %lld, kernel '%s' was compiled for "
                "%lld", static_cast<long long>(a.ratio), k, static_cast<long long>(m.ratio));
  if (a.rotate != (m.rotate ? 1 : 0))
    return fail(DSV4_ERR_MISMATCH, "dsv4_launch: rotate is %d, kernel '%s' has %d",
                static_cast<int>(a.rotate), k, m.rotate ? 1 : 0);
  // Exact, like eps; a kernel that does not rotate never multiplies by its scale.
  if (m.rotate && a.scale != m.scaleF)
    return fail(DSV4_ERR_MISMATCH,
                "dsv4_launch: scale is %.9g, kernel '%s' was compiled with %.9g",
                static_cast<double>(a.scale), k, static_cast<double>(m.scaleF));
  if (a.layout != m.layout)
    return fail(DSV4_ERR_MISMATCH, "dsv4_launch: layout is %s, kernel '%s' is %s",
                layoutName(a.layout), k, layoutName(m.layout));
  if (!m.store && (a.out_loc || a.cache || a.cache_bytes || a.page_size))
    return fail(DSV4_ERR_MISMATCH, "dsv4_launch: out_loc, cache, cache_bytes and page_size "
                "are for a store kernel; kernel '%s' updates kv in place", k);
  if (a.page_size != m.pageSize)
    return fail(DSV4_ERR_MISMATCH, "dsv4_launch: page_size is %lld, kernel '%s' stores pages "
                "of %lld tokens", static_cast<long long>(a.page_size), k,
                static_cast<long long>(m.pageSize));
  return DSV4_OK;
}

// Every kernel argument of the ABI table: pointers must be non-NULL, scalars
// fit in i32 (i64 sizes are non-negative). The pointer checks only run once
// there is work, the store kernel's only for a store kernel.
dsv4_status checkScalars(const dsv4_launch_args &a) {
#define DSV4_KERNEL_ARG(Name, name, kind) DSV4_CHECK_##kind(name)
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) DSV4_CHECK_##kind(name)
#define DSV4_CHECK_ptr(name)
#define DSV4_CHECK_i32(name) DSV4_TRY(checkI32(#name, a.name));
#define DSV4_CHECK_i64(name) DSV4_TRY(checkMinimum(#name, a.name, 0, "smallest size"));
#include "dsv4/ABI/KernelArgs.def"
#undef DSV4_CHECK_ptr
#undef DSV4_CHECK_i32
#undef DSV4_CHECK_i64
  return DSV4_OK;
}

dsv4_status checkPointers(const dsv4_launch_args &a, bool store) {
  unsigned arg = 0; // the position in the table: the store list starts at kNumKernelArgs
#define DSV4_KERNEL_ARG(Name, name, kind) DSV4_CHECK_##kind(name) ++arg;
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_CHECK_ptr(name)                                                   \
  if (!a.name && (store || arg < kNumKernelArgs))                              \
    return fail(DSV4_ERR_INVALID_ARGUMENT, "dsv4_launch: %s pointer is NULL", #name);
#define DSV4_CHECK_i32(name)
#define DSV4_CHECK_i64(name)
#include "dsv4/ABI/KernelArgs.def"
#undef DSV4_CHECK_ptr
#undef DSV4_CHECK_i32
#undef DSV4_CHECK_i64
  return DSV4_OK;
}

// The checked call as the kernel receives it (every i32 is in range).
KernelArgValues kernelValues(const dsv4_launch_args &a) {
  KernelArgValues values;
#define DSV4_KERNEL_ARG(Name, name, kind) values.name = static_cast<decltype(values.name)>(a.name);
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) DSV4_KERNEL_ARG(Name, name, kind)
#include "dsv4/ABI/KernelArgs.def"
  return values;
}

} // namespace

dsv4_status dsv4::rt::checkLaunch(const Manifest &m, const dsv4_launch_args &call,
                                  KernelArgValues &values, LaunchDims &dims,
                                  bool &launchNeeded) {
  launchNeeded = false;
  DSV4_TRY(checkFacts(m, call));
  bool prefill = m.handleKind == DSV4_HANDLE_PREFILL_PLAN;
  dsv4_launch_args a = call;
  // ABI.md: decode kernels ignore plan_row_stride; 4 is passed.
  if (!prefill)
    a.plan_row_stride = kDecodePlanRowStride;
  DSV4_TRY(checkScalars(a));
  // SPEC.md: every item would leave its row untouched, so nothing to launch.
  if (a.num_items == 0 || a.num_rows == 0 || a.num_positions == 0)
    return DSV4_OK;

  DSV4_TRY(checkPointers(a, m.store));
// A field of the call and its name, which is the kernel argument's.
#define DSV4_FIELD(field) #field, a.field
  DSV4_TRY(checkAligned(DSV4_FIELD(kv), m.kvAlign));
  DSV4_TRY(checkAligned(DSV4_FIELD(weight), m.weightAlign));
  DSV4_TRY(checkAligned(DSV4_FIELD(freqs), m.freqsAlign));
  DSV4_TRY(checkAligned(DSV4_FIELD(handle), kHandleAlign));
  DSV4_TRY(checkStride(DSV4_FIELD(kv_row_stride), m.headDim, m.kvRowStrideMultiple));
  DSV4_TRY(checkStride(DSV4_FIELD(freqs_row_stride), m.ropeDim, m.freqsRowStrideMultiple));
  DSV4_TRY(checkMinimum(DSV4_FIELD(plan_row_stride), kPlanFields, "plan fields"));
  if (m.store) {
    DSV4_TRY(checkAligned(DSV4_FIELD(out_loc), kOutLocAlign));
    DSV4_TRY(checkAligned(DSV4_FIELD(cache), m.cacheAlign));
  }
#undef DSV4_FIELD
  values = kernelValues(a);

  // ABI.md "Launch geometry": one row per lanes_per_row lanes.
  int64_t groups = (a.num_items + m.rowsPerWorkgroup - 1) / m.rowsPerWorkgroup;
  dims = LaunchDims{{static_cast<uint32_t>(groups), 1, 1},
                    {static_cast<uint32_t>(m.workgroupSize), 1, 1}};
  launchNeeded = true;
  return DSV4_OK;
}
