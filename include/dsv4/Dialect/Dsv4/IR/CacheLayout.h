// The byte geometry of the paged caches (SPEC.md, "Storing into the paged caches"): the one
// place the verifiers, the CPU reference and the kernels read it from.
#ifndef DSV4_DIALECT_CACHELAYOUT_H
#define DSV4_DIALECT_CACHELAYOUT_H

#include "dsv4/Dialect/Dsv4/IR/Dsv4.h"

namespace mlir::dsv4 {

/// How a layout stores its quantized channels.
enum class CodeFormat {
  fp8,  ///< one byte each, in the op's FP8 type (the chip's)
  e2m1, ///< f4E2M1FN, two a byte: channel 2k in the low nibble of byte k, 2k+1 in the high
};

/// One token of a layout: `quantized` channels in blocks of `block`, stored as `codes`, then
/// `tail` bf16 channels, in a row of `rowBytes`; its scales take `scaleStride` bytes after the
/// rows of its page. A page is padded to a multiple of `pageAlign` bytes.
struct CacheGeometry {
  int64_t quantized;
  int64_t block;
  int64_t tail;
  ScaleFormat scaleFormat;
  CodeFormat codes;
  int64_t rowBytes;
  int64_t scaleStride;
  int64_t pageAlign;

  int64_t headDim() const { return quantized + tail; }
  int64_t numBlocks() const { return quantized / block; }
  /// Bytes of a token's row that the quantized channels take.
  int64_t codeBytes() const { return codes == CodeFormat::e2m1 ? quantized / 2 : quantized; }
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
    return {/*quantized=*/128, /*block=*/128, /*tail=*/0, ScaleFormat::f32, CodeFormat::fp8,
            /*rowBytes=*/128, /*scaleStride=*/4, /*pageAlign=*/1};
  case CacheLayout::main:
    // 448 B of FP8 and 128 B of bf16 rope, 8 scale bytes a token; pages are whole rows.
    return {/*quantized=*/448, /*block=*/64, /*tail=*/64, ScaleFormat::ue8m0, CodeFormat::fp8,
            /*rowBytes=*/576, /*scaleStride=*/8, /*pageAlign=*/576};
  case CacheLayout::indexer_mxfp4:
    // 64 B of e2m1 pairs, then one ue8m0 byte per block of 32: 68 * page_size bytes a page.
    return {/*quantized=*/128, /*block=*/32, /*tail=*/0, ScaleFormat::mx, CodeFormat::e2m1,
            /*rowBytes=*/64, /*scaleStride=*/4, /*pageAlign=*/1};
  }
  llvm_unreachable("unknown cache layout");
}

/// The element type of a layout's codes: `fp8` (the op's FP8 type) for an FP8 layout,
/// f4E2M1FN for an e2m1 one.
inline Type getCodeType(MLIRContext *context, const CacheGeometry &geometry, Type fp8) {
  if (geometry.codes == CodeFormat::e2m1)
    return Float4E2M1FNType::get(context);
  return fp8;
}

/// MAX, the largest finite value of a quantized type: FP8_MAX (448 for f8E4M3FN, 240 for
/// f8E4M3FNUZ), 6 for f4E2M1FN.
inline APFloat getQuantizedMax(Type codeType) {
  APFloat largest = APFloat::getLargest(cast<FloatType>(codeType).getFloatSemantics());
  bool losesInfo;
  largest.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &losesInfo);
  return largest;
}

} // namespace mlir::dsv4

#endif // DSV4_DIALECT_CACHELAYOUT_H
