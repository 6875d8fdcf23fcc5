//===- Manifest.h - the dsv4 manifest (docs/ABI.md) -------------*- C++ -*-===//
//
// The manifest, parsed and checked once at load so that launch-time
// validation only compares numbers.
//
//===----------------------------------------------------------------------===//
#ifndef DSV4_RUNTIME_MANIFEST_H
#define DSV4_RUNTIME_MANIFEST_H

#include "dsv4/Runtime/dsv4_runtime.h"

#include <string>
#include <string_view>

namespace dsv4::rt {

struct Manifest {
  std::string kernel, targetTriple, chip, mode;
  dsv4_handle_kind handleKind = DSV4_HANDLE_DECODE_SEQ_LENS;
  bool rotate = false;
  int64_t headDim = 0, ropeDim = 0;
  double eps = 0.0;
  // eps as the kernel holds it: the launch compares the caller's float to
  // this exactly, so 1e-6 and 1.0000001e-6 are different kernels.
  float epsF = 0.0f;
  // The rotation's scale, held like eps; the launch compares it only for a kernel that rotates
  // (one that does not never multiplies by it).
  double scale = 0.0;
  float scaleF = 0.0f;
  int64_t ratio = 0;
  dsv4_dtype kvDtype = DSV4_DTYPE_F32, weightDtype = DSV4_DTYPE_F32;
  int64_t lanesPerRow = 0, rowsPerWorkgroup = 0, workgroupSize = 0;
  int64_t kvAlign = 0, kvRowStrideMultiple = 0, weightAlign = 0;
  int64_t freqsAlign = 0, freqsRowStrideMultiple = 0, ldsBytes = 0;
  // A kernel that stores into a paged cache (the manifest has a layout): a store kernel,
  // which takes the store arguments after the in-place ones, or a compress kernel.
  bool store = false;
  dsv4_layout layout = DSV4_LAYOUT_IN_PLACE;
  int64_t pageSize = 0, cacheAlign = 0;
  // A store kernel's out_loc slots (I64 or I32); 0 in place.
  dsv4_dtype outLocDtype = static_cast<dsv4_dtype>(0);
  // A compress kernel (mode "compress") takes the compress list and reads the paged state
  // cache: rows of stateWidth = 2W elements (W = 2D when its windows overlap, else D) in
  // blocks of stateBlockSize rows. It has no kvAlign or kvRowStrideMultiple.
  bool compress = false, overlap = false;
  int64_t stateBlockSize = 0, stateAlign = 0, stateStrideMultiple = 0, stateWidth = 0;
};

// Parses and checks `json`, the manifest text of a code object whose digest global holds
// `digest` (dsv4/ABI/ManifestDigest.h): DSV4_ERR_BAD_MANIFEST names the kernel when the text
// does not give back the digest, else the offending key.
dsv4_status parseManifest(std::string_view json, uint64_t digest, Manifest &out);

const char *dtypeName(int32_t dtype);
const char *layoutName(int32_t layout);

} // namespace dsv4::rt

#endif // DSV4_RUNTIME_MANIFEST_H
