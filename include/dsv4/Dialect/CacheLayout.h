// The byte geometry of the paged caches (SPEC.md, "Storing into the paged caches"): the one
// place the verifiers, the CPU reference and the kernels read it from.
#ifndef DSV4_DIALECT_CACHELAYOUT_H
#define DSV4_DIALECT_CACHELAYOUT_H

#include "dsv4/Dialect/Dsv4.h"

namespace mlir::dsv4 {

/// One token of a layout: `quantized` FP8 channels in blocks of `block`, then `tail` bf16
/// channels, in a row of `rowBytes`; its scales take `scaleStride` bytes after the rows of
/// its page. A page is padded to a multiple of `pageAlign` bytes.
struct CacheGeometry {
  int64_t quantized;
  int64_t block;
  int64_t tail;
  ScaleFormat scaleFormat;
  int64_t rowBytes;
  int64_t scaleStride;
  int64_t pageAlign;

  int64_t headDim() const { return quantized + tail; }
  int64_t numBlocks() const { return quantized / block; }
  /// Bytes of the scales one token writes (the main layout leaves its 8th byte alone).
  int64_t scaleBytes() const {
    return scaleFormat == ScaleFormat::f32 ? 4 * numBlocks() : numBlocks();
  }
  /// Bytes of one page of `pageSize` tokens: the rows, then the scales, then padding.
  int64_t pageBytes(int64_t pageSize) const {
    int64_t used = (rowBytes + scaleStride) * pageSize;
    return (used + pageAlign - 1) / pageAlign * pageAlign;
  }
};

inline CacheGeometry getCacheGeometry(CacheLayout layout) {
  switch (layout) {
  case CacheLayout::indexer:
    // 128 B of FP8, then one f32 scale per token: 132 * page_size bytes a page.
    return {/*quantized=*/128, /*block=*/128, /*tail=*/0, ScaleFormat::f32,
            /*rowBytes=*/128, /*scaleStride=*/4, /*pageAlign=*/1};
  case CacheLayout::main:
    // 448 B of FP8 and 128 B of bf16 rope, 8 scale bytes a token; pages are whole rows.
    return {/*quantized=*/448, /*block=*/64, /*tail=*/64, ScaleFormat::ue8m0,
            /*rowBytes=*/576, /*scaleStride=*/8, /*pageAlign=*/576};
  }
  llvm_unreachable("unknown cache layout");
}

/// FP8_MAX, the largest finite value of an FP8 type: 448 for f8E4M3FN, 240 for f8E4M3FNUZ.
inline APFloat getFp8Max(Type fp8) {
  APFloat largest = APFloat::getLargest(cast<FloatType>(fp8).getFloatSemantics());
  bool losesInfo;
  largest.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &losesInfo);
  return largest;
}

} // namespace mlir::dsv4

#endif // DSV4_DIALECT_CACHELAYOUT_H
