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

// The entry points, which every message names.
constexpr char kLaunch[] = "dsv4_launch";
constexpr char kLaunchCompress[] = "dsv4_launch_compress";

// The i32 plan, seq_lens, token_req and block table are read as i32; four of them form a
// plan row.
constexpr int64_t kI32Align = 4;
constexpr int64_t kI64Align = 8; // out_loc slots, positions
constexpr int64_t kPlanFields = 0
#define DSV4_PLAN_FIELD(Name, name) +1
#include "dsv4/ABI/Handle.def"
    ;
// ABI.md: decode kernels ignore plan_row_stride; 4 is passed.
constexpr int64_t kDecodePlanRowStride = 4;

dsv4_status checkI32(const char *entry, const char *field, int64_t v) {
  if (v < 0 || v > INT32_MAX)
    return fail(DSV4_ERR_INVALID_ARGUMENT, "%s: %s = %lld is outside [0, 2^31-1]", entry, field,
                static_cast<long long>(v));
  return DSV4_OK;
}

dsv4_status checkAligned(const char *entry, const char *field, const void *p, int64_t align) {
  if (reinterpret_cast<uintptr_t>(p) % static_cast<uintptr_t>(align))
    return fail(DSV4_ERR_MISALIGNED, "%s: %s pointer %p is not %lld-byte aligned", entry, field,
                p, static_cast<long long>(align));
  return DSV4_OK;
}

dsv4_status checkMinimum(const char *entry, const char *field, int64_t value, int64_t minimum,
                         const char *what) {
  if (value < minimum)
    return fail(DSV4_ERR_INVALID_ARGUMENT, "%s: %s = %lld is less than the %s %lld", entry,
                field, static_cast<long long>(value), what, static_cast<long long>(minimum));
  return DSV4_OK;
}

// A stride of at least `minimum` elements (`what` names that length) and a multiple of
// `multiple`.
dsv4_status checkStride(const char *entry, const char *field, int64_t stride, int64_t minimum,
                        int64_t multiple, const char *what = "row length") {
  DSV4_TRY(checkMinimum(entry, field, stride, minimum, what));
  if (stride % multiple)
    return fail(DSV4_ERR_MISALIGNED, "%s: %s = %lld is not a multiple of %lld elements", entry,
                field, static_cast<long long>(stride), static_cast<long long>(multiple));
  return DSV4_OK;
}

const char *handleName(int32_t kind) {
  switch (kind) {
#define DSV4_PLAN_FIELD(Name, name)
#define DSV4_HANDLE_KIND(Name, value, mode, what)                                              \
  case value:                                                                                  \
    return what;
#include "dsv4/ABI/Handle.def"
  default:
    return "invalid handle kind";
  }
}

// The kernel of the other entry point is refused before its facts are read: a compress kernel
// takes another argument list, which the other struct does not hold.
dsv4_status checkEntry(const char *entry, const Manifest &m, bool compressEntry) {
  if (m.compress == compressEntry)
    return DSV4_OK;
  return fail(DSV4_ERR_MISMATCH, "%s: kernel '%s' is %s kernel; launch it with %s", entry,
              m.kernel.c_str(), m.compress ? "a compress" : m.store ? "a store" : "an in-place",
              m.compress ? kLaunchCompress : kLaunch);
}

// The facts every call states (LaunchFacts.def's DSV4_LAUNCH_FACT, page_size apart) against
// the manifest, with the dtype of the rows it reads (`rows`: kv, or a compress kernel's
// state): a call made for another configuration (a ratio-128 layer given a ratio-4 kernel)
// would run and compute something else.
template <typename Args>
dsv4_status checkFacts(const char *entry, const Manifest &m, const Args &a, const char *rows,
                       int32_t rowsDtype) {
  const char *k = m.kernel.c_str();
  if (rowsDtype != m.kvDtype)
    return fail(DSV4_ERR_MISMATCH, "%s: %s dtype is %s, kernel '%s' takes %s", entry, rows,
                dtypeName(rowsDtype), k, dtypeName(m.kvDtype));
  if (a.weight_dtype != m.weightDtype)
    return fail(DSV4_ERR_MISMATCH, "%s: weight dtype is %s, kernel '%s' takes %s", entry,
                dtypeName(a.weight_dtype), k, dtypeName(m.weightDtype));
  if (a.head_dim != m.headDim)
    return fail(DSV4_ERR_MISMATCH, "%s: head_dim is %lld, kernel '%s' has %lld", entry,
                static_cast<long long>(a.head_dim), k, static_cast<long long>(m.headDim));
  if (a.weight_len != m.headDim)
    return fail(DSV4_ERR_MISMATCH, "%s: weight has %lld elements, kernel '%s' has head_dim %lld",
                entry, static_cast<long long>(a.weight_len), k,
                static_cast<long long>(m.headDim));
  if (a.freqs_width != m.ropeDim)
    return fail(DSV4_ERR_MISMATCH,
                "%s: freqs rows have %lld floats, kernel '%s' has rope_dim %lld", entry,
                static_cast<long long>(a.freqs_width), k, static_cast<long long>(m.ropeDim));
  // Exact: eps is a compile-time constant of the kernel, and a different
  // value would silently compute a different function.
  if (a.eps != m.epsF)
    return fail(DSV4_ERR_MISMATCH, "%s: eps is %.9g, kernel '%s' was compiled with %.9g", entry,
                static_cast<double>(a.eps), k, static_cast<double>(m.epsF));
  if (a.handle_kind != m.handleKind)
    return fail(DSV4_ERR_MISMATCH, "%s: handle is a %s, kernel '%s' is %s", entry,
                handleName(a.handle_kind), k, m.mode.c_str());
  if (a.ratio != m.ratio)
    return fail(DSV4_ERR_MISMATCH, "%s: ratio is %lld, kernel '%s' was compiled for %lld", entry,
                static_cast<long long>(a.ratio), k, static_cast<long long>(m.ratio));
  if (a.rotate != (m.rotate ? 1 : 0))
    return fail(DSV4_ERR_MISMATCH, "%s: rotate is %d, kernel '%s' has %d", entry,
                static_cast<int>(a.rotate), k, m.rotate ? 1 : 0);
  // Exact, like eps; a kernel that does not rotate never multiplies by its scale.
  if (m.rotate && a.scale != m.scaleF)
    return fail(DSV4_ERR_MISMATCH, "%s: scale is %.9g, kernel '%s' was compiled with %.9g",
                entry, static_cast<double>(a.scale), k, static_cast<double>(m.scaleF));
  if (a.layout != m.layout)
    return fail(DSV4_ERR_MISMATCH, "%s: layout is %s, kernel '%s' is %s", entry,
                layoutName(a.layout), k, layoutName(m.layout));
  return DSV4_OK;
}

dsv4_status checkPageSize(const char *entry, const Manifest &m, int64_t pageSize) {
  if (pageSize != m.pageSize)
    return fail(DSV4_ERR_MISMATCH, "%s: page_size is %lld, kernel '%s' stores pages of %lld "
                "tokens", entry, static_cast<long long>(pageSize), m.kernel.c_str(),
                static_cast<long long>(m.pageSize));
  return DSV4_OK;
}

// A compress call's own facts (DSV4_COMPRESS_LAUNCH_FACT, its dtype apart).
dsv4_status checkCompressFacts(const Manifest &m, const dsv4_compress_launch_args &a) {
  const char *k = m.kernel.c_str();
  if (a.overlap != (m.overlap ? 1 : 0))
    return fail(DSV4_ERR_MISMATCH, "%s: overlap is %d, kernel '%s' has %d", kLaunchCompress,
                static_cast<int>(a.overlap), k, m.overlap ? 1 : 0);
  if (a.state_block_size != m.stateBlockSize)
    return fail(DSV4_ERR_MISMATCH, "%s: state_block_size is %lld, kernel '%s' reads blocks of "
                "%lld rows", kLaunchCompress, static_cast<long long>(a.state_block_size), k,
                static_cast<long long>(m.stateBlockSize));
  if (a.state_width != m.stateWidth)
    return fail(DSV4_ERR_MISMATCH, "%s: state rows have %lld elements, kernel '%s' reads %lld "
                "(2W, W = %s)", kLaunchCompress, static_cast<long long>(a.state_width), k,
                static_cast<long long>(m.stateWidth), m.overlap ? "2D" : "D");
  return DSV4_OK;
}

// Every scalar kernel argument of a list: an i32 fits in i32, an i64 size is non-negative.
#define DSV4_CHECK_ptr(name)
#define DSV4_CHECK_i32(name) DSV4_TRY(checkI32(entry, #name, a.name));
#define DSV4_CHECK_i64(name) DSV4_TRY(checkMinimum(entry, #name, a.name, 0, "smallest size"));
dsv4_status checkScalars(const char *entry, const dsv4_launch_args &a) {
#define DSV4_KERNEL_ARG(Name, name, kind) DSV4_CHECK_##kind(name)
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) DSV4_CHECK_##kind(name)
#include "dsv4/ABI/KernelArgs.def"
  return DSV4_OK;
}

dsv4_status checkScalars(const char *entry, const dsv4_compress_launch_args &a) {
#define DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind) DSV4_CHECK_##kind(name)
#include "dsv4/ABI/KernelArgs.def"
  return DSV4_OK;
}
#undef DSV4_CHECK_ptr
#undef DSV4_CHECK_i32
#undef DSV4_CHECK_i64

// Every pointer argument of a list is non-NULL (checked once there is work); the store
// kernel's only for a store kernel.
#define DSV4_CHECK_i32(name)
#define DSV4_CHECK_i64(name)
#define DSV4_NULL_POINTER(name)                                                \
  fail(DSV4_ERR_INVALID_ARGUMENT, "%s: %s pointer is NULL", entry, #name)
dsv4_status checkPointers(const char *entry, const dsv4_launch_args &a, bool store) {
  unsigned arg = 0; // the position in the table: the store list starts at kNumKernelArgs
#define DSV4_KERNEL_ARG(Name, name, kind) DSV4_CHECK_##kind(name) ++arg;
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_CHECK_ptr(name)                                                   \
  if (!a.name && (store || arg < kNumKernelArgs))                              \
    return DSV4_NULL_POINTER(name);
#include "dsv4/ABI/KernelArgs.def"
#undef DSV4_CHECK_ptr
  return DSV4_OK;
}

dsv4_status checkPointers(const char *entry, const dsv4_compress_launch_args &a) {
#define DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind) DSV4_CHECK_##kind(name)
#define DSV4_CHECK_ptr(name)                                                   \
  if (!a.name)                                                                 \
    return DSV4_NULL_POINTER(name);
#include "dsv4/ABI/KernelArgs.def"
#undef DSV4_CHECK_ptr
  return DSV4_OK;
}
#undef DSV4_NULL_POINTER
#undef DSV4_CHECK_i32
#undef DSV4_CHECK_i64

// The checked call as the kernel receives it (every i32 is in range).
KernelArgValues kernelValues(const dsv4_launch_args &a) {
  KernelArgValues values;
#define DSV4_KERNEL_ARG(Name, name, kind) values.name = static_cast<decltype(values.name)>(a.name);
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) DSV4_KERNEL_ARG(Name, name, kind)
#include "dsv4/ABI/KernelArgs.def"
  return values;
}

CompressKernelArgValues kernelValues(const dsv4_compress_launch_args &a) {
  CompressKernelArgValues values;
#define DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind)                             \
  values.name = static_cast<decltype(values.name)>(a.name);
#include "dsv4/ABI/KernelArgs.def"
  return values;
}

// ABI.md "Launch geometry": one item per lanes_per_row lanes.
LaunchDims launchDims(const Manifest &m, int64_t numItems) {
  int64_t groups = (numItems + m.rowsPerWorkgroup - 1) / m.rowsPerWorkgroup;
  return LaunchDims{{static_cast<uint32_t>(groups), 1, 1},
                    {static_cast<uint32_t>(m.workgroupSize), 1, 1}};
}

} // namespace

// A field of the call and its name, which is the kernel argument's.
#define DSV4_FIELD(field) #field, a.field

dsv4_status dsv4::rt::checkLaunch(const Manifest &m, const dsv4_launch_args &call,
                                  KernelArgValues &values, LaunchDims &dims,
                                  bool &launchNeeded) {
  const char *entry = kLaunch;
  launchNeeded = false;
  DSV4_TRY(checkEntry(entry, m, /*compressEntry=*/false));
  DSV4_TRY(checkFacts(entry, m, call, "kv", call.kv_dtype));
  if (!m.store && (call.out_loc || call.cache || call.cache_bytes || call.page_size ||
                   call.out_loc_dtype))
    return fail(DSV4_ERR_MISMATCH, "%s: out_loc, out_loc_dtype, cache, cache_bytes and page_size "
                "are for a store kernel; kernel '%s' updates kv in place", entry,
                m.kernel.c_str());
  DSV4_TRY(checkPageSize(entry, m, call.page_size));
  // i32 slots read as i64 (or the other way) would name other slots.
  if (m.store && call.out_loc_dtype != m.outLocDtype)
    return fail(DSV4_ERR_MISMATCH, "%s: out_loc dtype is %s, kernel '%s' takes %s", entry,
                dtypeName(call.out_loc_dtype), m.kernel.c_str(), dtypeName(m.outLocDtype));
  dsv4_launch_args a = call;
  // ABI.md: decode kernels ignore plan_row_stride; 4 is passed.
  if (m.handleKind == DSV4_HANDLE_DECODE_SEQ_LENS)
    a.plan_row_stride = kDecodePlanRowStride;
  DSV4_TRY(checkScalars(entry, a));
  // SPEC.md: every item would leave its row untouched, so nothing to launch.
  if (a.num_items == 0 || a.num_rows == 0 || a.num_positions == 0)
    return DSV4_OK;

  DSV4_TRY(checkPointers(entry, a, m.store));
  DSV4_TRY(checkAligned(entry, DSV4_FIELD(kv), m.kvAlign));
  DSV4_TRY(checkAligned(entry, DSV4_FIELD(weight), m.weightAlign));
  DSV4_TRY(checkAligned(entry, DSV4_FIELD(freqs), m.freqsAlign));
  DSV4_TRY(checkAligned(entry, DSV4_FIELD(handle), kI32Align));
  DSV4_TRY(checkStride(entry, DSV4_FIELD(kv_row_stride), m.headDim, m.kvRowStrideMultiple));
  DSV4_TRY(checkStride(entry, DSV4_FIELD(freqs_row_stride), m.ropeDim,
                       m.freqsRowStrideMultiple));
  DSV4_TRY(checkMinimum(entry, DSV4_FIELD(plan_row_stride), kPlanFields, "plan fields"));
  if (m.store) {
    DSV4_TRY(checkAligned(entry, DSV4_FIELD(out_loc),
                          m.outLocDtype == DSV4_DTYPE_I32 ? kI32Align : kI64Align));
    DSV4_TRY(checkAligned(entry, DSV4_FIELD(cache), m.cacheAlign));
  }
  values = kernelValues(a);
  dims = launchDims(m, a.num_items);
  launchNeeded = true;
  return DSV4_OK;
}

dsv4_status dsv4::rt::checkCompressLaunch(const Manifest &m, const dsv4_compress_launch_args &a,
                                          CompressKernelArgValues &values, LaunchDims &dims,
                                          bool &launchNeeded) {
  const char *entry = kLaunchCompress;
  launchNeeded = false;
  DSV4_TRY(checkEntry(entry, m, /*compressEntry=*/true));
  DSV4_TRY(checkFacts(entry, m, a, "state", a.state_dtype));
  DSV4_TRY(checkPageSize(entry, m, a.page_size));
  DSV4_TRY(checkCompressFacts(m, a));
  DSV4_TRY(checkScalars(entry, a));
  // The kernel bounds-checks every request, block id, position and slot it reads, so only an
  // empty batch is known to store nothing.
  if (a.num_items == 0)
    return DSV4_OK;

  DSV4_TRY(checkPointers(entry, a));
  DSV4_TRY(checkAligned(entry, DSV4_FIELD(state), m.stateAlign));
  DSV4_TRY(checkAligned(entry, DSV4_FIELD(block_table), kI32Align));
  DSV4_TRY(checkAligned(entry, DSV4_FIELD(token_req), kI32Align));
  DSV4_TRY(checkAligned(entry, DSV4_FIELD(positions), kI64Align));
  DSV4_TRY(checkAligned(entry, DSV4_FIELD(weight), m.weightAlign));
  DSV4_TRY(checkAligned(entry, DSV4_FIELD(freqs), m.freqsAlign));
  DSV4_TRY(checkAligned(entry, DSV4_FIELD(out_loc), kI64Align));
  DSV4_TRY(checkAligned(entry, DSV4_FIELD(cache), m.cacheAlign));
  // A block's rows must not run into the next block (both i32-bounded: no overflow).
  DSV4_TRY(checkStride(entry, DSV4_FIELD(state_row_stride), m.stateWidth,
                       m.stateStrideMultiple));
  DSV4_TRY(checkStride(entry, DSV4_FIELD(state_block_stride),
                       m.stateBlockSize * a.state_row_stride, m.stateStrideMultiple,
                       "block length (state_block_size rows)"));
  DSV4_TRY(checkMinimum(entry, DSV4_FIELD(block_table_row_stride), a.max_blocks,
                        "row length (max_blocks)"));
  DSV4_TRY(checkStride(entry, DSV4_FIELD(freqs_row_stride), m.ropeDim,
                       m.freqsRowStrideMultiple));
  values = kernelValues(a);
  dims = launchDims(m, a.num_items);
  launchNeeded = true;
  return DSV4_OK;
}
