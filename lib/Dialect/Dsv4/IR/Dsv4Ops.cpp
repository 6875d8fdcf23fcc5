// Verifiers and canonicalizations of the dsv4 ops. Every message here has a case in
// test/Dialect/Dsv4/invalid.mlir.
#include "Checks.h"
#include "dsv4/ABI/KernelABI.h"
#include "dsv4/ABI/Limits.h"
#include "dsv4/Dialect/Dsv4/IR/CacheLayout.h"
#include "dsv4/Dialect/Dsv4/IR/Dsv4.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::dsv4;

#define GET_OP_CLASSES
#include "dsv4/Dialect/Dsv4/IR/Dsv4Ops.cpp.inc"

namespace {
/// Emits an error at `op`, for the shared checks of Checks.h.
auto opError(Operation *op) {
  return [op]() { return op->emitOpError(); };
}

/// The head dim of kv when it is valid; otherwise emits the error and returns failure.
FailureOr<int64_t> verifyHeadDim(Operation *op, Value kv) {
  int64_t dim = cast<RankedTensorType>(kv.getType()).getDimSize(1);
  if (failed(checkHeadDim(opError(op), dim)))
    return failure();
  return dim;
}

LogicalResult verifyItems(Operation *op, Value items) {
  auto type = cast<RankedTensorType>(items.getType());
  if (type.getDimSize(1) != 2)
    return op->emitOpError() << "items must be [M, 2] of (row, position), got " << type;
  return success();
}

LogicalResult verifyWeight(Operation *op, Value weight, int64_t headDim) {
  int64_t length = cast<RankedTensorType>(weight.getType()).getDimSize(0);
  if (length != headDim)
    return op->emitOpError() << "weight length " << sizeString(length)
                             << " does not match head dim " << headDim;
  return success();
}

LogicalResult verifyFreqs(Operation *op, Value freqs, int64_t ropeDim) {
  int64_t width = cast<RankedTensorType>(freqs.getType()).getDimSize(1);
  if (width != ropeDim)
    return op->emitOpError() << "freqs width " << sizeString(width)
                             << " does not match rope_dim " << ropeDim;
  return success();
}

LogicalResult verifyRope(Operation *op, int64_t ropeDim, Value freqs, int64_t headDim) {
  if (failed(checkRopeDim(opError(op), ropeDim, headDim)))
    return failure();
  return verifyFreqs(op, freqs, ropeDim);
}

/// The columns of a plan handle by source (Handle.def); empty for decode's seq_lens.
ArrayRef<StringLiteral> planColumns(PositionSource source) {
  switch (source) {
  case PositionSource::prefill:
    return kPlanFieldNames;
  case PositionSource::sglang_decode:
    return kSglangDecodeFieldNames;
  case PositionSource::sglang_extend:
    return kSglangExtendFieldNames;
  default:
    return {};
  }
}

/// The handle of `source`: decode's seq_lens [B], or a plan of the source's i32 columns.
LogicalResult verifyHandle(Operation *op, PositionSource source, Value handle) {
  auto type = cast<RankedTensorType>(handle.getType());
  ArrayRef<StringLiteral> columns = planColumns(source);
  if (columns.empty()) {
    if (type.getRank() != 1)
      return op->emitOpError() << "decode handle must be seq_lens [B], got " << type;
    return success();
  }
  if (type.getRank() != 2 || type.getDimSize(1) != int64_t(columns.size()))
    return op->emitOpError() << stringifyPositionSource(source) << " plan must be [M, "
                             << columns.size() << "] of (" << llvm::join(columns, ", ")
                             << "), got " << type;
  return success();
}

/// Work-item ops: one item per handle row (the result's count is the handle's, dynamic where
/// it is: a static count for a dynamic handle is a size the lowering cannot keep), ratio >= 1.
LogicalResult verifyItemsOp(Operation *op, Value handle, Value items, int64_t ratio) {
  if (failed(checkRatio(opError(op), ratio)) || failed(verifyItems(op, items)))
    return failure();
  int64_t handleRows = cast<RankedTensorType>(handle.getType()).getDimSize(0);
  int64_t itemRows = cast<RankedTensorType>(items.getType()).getDimSize(0);
  if (handleRows != itemRows)
    return op->emitOpError() << "item count " << sizeString(itemRows)
                             << " does not match handle rows " << sizeString(handleRows);
  return success();
}
} // namespace

LogicalResult DecodeItemsOp::verify() {
  return verifyItemsOp(*this, getHandle(), getItems(), getRatio());
}

LogicalResult PrefillItemsOp::verify() {
  if (failed(verifyHandle(*this, PositionSource::prefill, getHandle())))
    return failure();
  return verifyItemsOp(*this, getHandle(), getItems(), getRatio());
}

LogicalResult SglangDecodeItemsOp::verify() {
  if (failed(verifyHandle(*this, PositionSource::sglang_decode, getHandle())))
    return failure();
  return verifyItemsOp(*this, getHandle(), getItems(), getRatio());
}

LogicalResult SglangExtendItemsOp::verify() {
  if (failed(verifyHandle(*this, PositionSource::sglang_extend, getHandle())))
    return failure();
  return verifyItemsOp(*this, getHandle(), getItems(), getRatio());
}

LogicalResult RmsNormOp::verify() {
  FailureOr<int64_t> headDim = verifyHeadDim(*this, getKv());
  if (failed(headDim) || failed(verifyItems(*this, getItems())) ||
      failed(verifyWeight(*this, getWeight(), *headDim)))
    return failure();
  return checkEps(opError(*this), getEps());
}

LogicalResult RopeOp::verify() {
  FailureOr<int64_t> headDim = verifyHeadDim(*this, getKv());
  if (failed(headDim) || failed(verifyItems(*this, getItems())))
    return failure();
  return verifyRope(*this, getRopeDim(), getFreqs(), *headDim);
}

LogicalResult HadamardOp::verify() {
  FailureOr<int64_t> headDim = verifyHeadDim(*this, getKv());
  if (failed(headDim) || failed(verifyItems(*this, getItems())))
    return failure();
  return checkScale(opError(*this), getScale());
}

namespace {
/// `compress` items pool their own rows: only dsv4.fused_compress_store reads them.
LogicalResult refuseCompressSource(Operation *op) {
  return op->emitOpError() << "takes decode or prefill items; compress items belong to "
                              "dsv4.fused_compress_store";
}

/// #dsv4.spec's verifier on the spec of fused op `op`.
LogicalResult verifySpec(Operation *op, KernelSpecAttr spec) {
  return KernelSpecAttr::verify(opError(op), spec.getMode(), spec.getHeadDim(), spec.getRopeDim(),
                                spec.getKvType(), spec.getWeightType(), spec.getRatio(),
                                spec.getEps(), spec.getScale(), spec.getLayout(),
                                spec.getPageSize(), spec.getFp8Type(), spec.getStateBlockSize(),
                                spec.getOverlap(), spec.getOutLocType());
}

/// The checks the fused epilogue and the fused store share: the spec's limits (the
/// verifier of #dsv4.spec), then the operands' shapes against it.
LogicalResult verifyFusedOp(Operation *op, Value kv, Value weight, Value freqs, Value handle) {
  KernelSpecAttr spec = KernelSpecAttr::get(op);
  if (spec.compresses())
    return refuseCompressSource(op);
  if (failed(verifySpec(op, spec)) ||
      failed(verifyWeight(op, weight, spec.getHeadDim())) ||
      failed(verifyFreqs(op, freqs, spec.getRopeDim())))
    return failure();
  return verifyHandle(op, spec.getMode(), handle);
}

/// Static sizes must agree; a dynamic one agrees with anything.
LogicalResult verifySameSize(Operation *op, StringRef what, int64_t size, StringRef other,
                             int64_t otherSize) {
  if (ShapedType::isDynamic(size) || ShapedType::isDynamic(otherSize) || size == otherSize)
    return success();
  return op->emitOpError() << what << " " << size << " does not match " << other << " "
                           << otherSize;
}

int64_t dimOf(Value tensor, unsigned dim) {
  return cast<RankedTensorType>(tensor.getType()).getDimSize(dim);
}

/// A result has the row count of `rows`, dynamic where it is: a static count for dynamic rows
/// would be a size the lowering cannot keep.
LogicalResult verifyResultRows(Operation *op, StringRef what, Value result, Value rows) {
  if (dimOf(result, 0) == dimOf(rows, 0))
    return success();
  return op->emitOpError() << what << " rows " << sizeString(dimOf(result, 0))
                           << " does not match rows " << sizeString(dimOf(rows, 0));
}

/// One out_loc per item (sglang_extend items name theirs by ragged id among the same M).
LogicalResult verifyOutLocs(Operation *op, Value outLoc, Value handle) {
  return verifySameSize(op, "out_loc length", dimOf(outLoc, 0), "handle rows",
                        dimOf(handle, 0));
}

/// The layout's scale format must be the one its scales are stored in.
LogicalResult verifyScaleType(Operation *op, ScaleFormat format, Type scaleType) {
  bool matches = format == ScaleFormat::f32 ? scaleType.isF32() : scaleType.isInteger(8);
  if (!matches)
    return op->emitOpError() << stringifyScaleFormat(format) << " scales must be "
                             << (format == ScaleFormat::f32 ? "f32" : "i8") << ", got "
                             << scaleType;
  return success();
}
} // namespace

LogicalResult FusedEpilogueOp::verify() {
  return verifyFusedOp(*this, getKv(), getWeight(), getFreqs(), getHandle());
}

LogicalResult QuantizeOp::verify() {
  int64_t width = dimOf(getRows(), 1), channels = dimOf(getValues(), 1);
  int64_t block = getBlock();
  if (ShapedType::isDynamic(channels) || ShapedType::isDynamic(width) || channels > width)
    return emitOpError() << "values must hold the leading channels of the rows, got "
                         << sizeString(channels) << " of " << sizeString(width);
  if (block < 1 || channels % block != 0)
    return emitOpError() << "block " << block << " must divide the " << channels
                         << " quantized channels";
  if (dimOf(getScales(), 1) != channels / block)
    return emitOpError() << "scales must be [N, " << channels / block << "] (one per block), got "
                         << getScales().getType();
  if (failed(verifyResultRows(*this, "values", getValues(), getRows())) ||
      failed(verifyResultRows(*this, "scales", getScales(), getRows())))
    return failure();
  return verifyScaleType(*this, getScaleFormat(),
                         cast<RankedTensorType>(getScales().getType()).getElementType());
}

LogicalResult PagedStoreOp::verify() {
  CacheGeometry geometry = getCacheGeometry(getLayout());
  StringRef layout = stringifyCacheLayout(getLayout());
  if (dimOf(getValues(), 1) != geometry.quantized)
    return emitOpError() << "the " << layout << " layout stores " << geometry.quantized
                         << " quantized channels, got " << sizeString(dimOf(getValues(), 1));
  Type codeType = cast<RankedTensorType>(getValues().getType()).getElementType();
  if (isa<Float4E2M1FNType>(codeType) != (geometry.codes == CodeFormat::e2m1))
    return emitOpError() << "the " << layout << " layout stores "
                         << (geometry.codes == CodeFormat::e2m1 ? "f4E2M1FN" : "FP8")
                         << " codes, got " << codeType;
  if (dimOf(getRows(), 1) != geometry.headDim())
    return emitOpError() << "the " << layout << " layout stores rows of "
                         << geometry.headDim() << " channels, got "
                         << sizeString(dimOf(getRows(), 1));
  if (failed(verifyScaleType(*this, geometry.scaleFormat,
                             cast<RankedTensorType>(getScales().getType()).getElementType())) ||
      failed(verifySameSize(*this, "scales width", dimOf(getScales(), 1), "block count",
                            geometry.numBlocks())) ||
      failed(verifySameSize(*this, "values rows", dimOf(getValues(), 0), "rows",
                            dimOf(getRows(), 0))) ||
      failed(verifySameSize(*this, "scales rows", dimOf(getScales(), 0), "rows",
                            dimOf(getRows(), 0))) ||
      failed(checkRatio(opError(*this), getRatio())) || failed(verifyItems(*this, getItems())) ||
      failed(verifySameSize(*this, "item count", dimOf(getItems(), 0), "handle rows",
                            dimOf(getHandle(), 0))) ||
      failed(checkPageSize(opError(*this), getPageSize())) ||
      failed(verifyOutLocs(*this, getOutLoc(), getHandle())))
    return failure();
  if (getSource() == PositionSource::compress)
    return refuseCompressSource(*this);
  return verifyHandle(*this, getSource(), getHandle());
}

LogicalResult FusedStoreOp::verify() {
  if (failed(verifyFusedOp(*this, getKv(), getWeight(), getFreqs(), getHandle())))
    return failure();
  return verifyOutLocs(*this, getOutLoc(), getHandle());
}

//===----------------------------------------------------------------------===//
// The compress step
//===----------------------------------------------------------------------===//

namespace {
/// The checks every compress op makes of its state, block table and items; returns D, the
/// width of a pooled row. The block size is static, a power of two (a position splits into
/// block and row by shift and mask, as a cache slot does) of at most kMaxPageSize; a state
/// row holds kv then score, W = coff * D floats each.
FailureOr<int64_t> verifyCompressInputs(Operation *op, Value state, Value tokenReq, Value positions,
                                        int64_t ratio, int64_t coff) {
  if (failed(checkRatio(opError(op), ratio)))
    return failure();
  // A dynamic size is kDynamic, negative: refused as not a power of two.
  if (failed(checkStateBlockSize(opError(op), dimOf(state, 1))))
    return failure();
  int64_t width = dimOf(state, 2);
  int64_t headDim = ShapedType::isDynamic(width) ? width : width / (2 * coff);
  if (ShapedType::isDynamic(width) || width % (2 * coff) != 0 || headDim < dsv4_abi::kMinHeadDim ||
      headDim > dsv4_abi::kMaxHeadDim || !llvm::isPowerOf2_64(headDim))
    return op->emitOpError() << "state rows must hold kv and score of W = coff * D floats "
                                "each (coff = "
                             << coff << ", D a power of two in [" << dsv4_abi::kMinHeadDim << ", "
                             << dsv4_abi::kMaxHeadDim << "]), got " << sizeString(width) << " floats";
  if (failed(verifySameSize(op, "positions length", dimOf(positions, 0), "token_req length",
                            dimOf(tokenReq, 0))))
    return failure();
  return headDim;
}
} // namespace

LogicalResult CompressPoolOp::verify() {
  FailureOr<int64_t> headDim =
      verifyCompressInputs(*this, getState(), getTokenReq(), getPositions(), getRatio(), coff());
  if (failed(headDim))
    return failure();
  if (dimOf(getRows(), 1) != *headDim)
    return emitOpError() << "rows must be [T, " << *headDim << "] (D of the state's W = " << coff()
                         << " * D), got " << getRows().getType();
  if (failed(verifyHandle(*this, PositionSource::prefill, getPlan())))
    return failure();
  // One row and one plan row per item, dynamic where the items are (as verifyResultRows).
  for (auto [what, result] : {std::pair<StringRef, Value>{"rows", getRows()},
                              std::pair<StringRef, Value>{"plan", getPlan()}})
    if (dimOf(result, 0) != dimOf(getTokenReq(), 0))
      return emitOpError() << what << " count " << sizeString(dimOf(result, 0))
                           << " does not match token count " << sizeString(dimOf(getTokenReq(), 0));
  return success();
}

LogicalResult FusedCompressStoreOp::verify() {
  FailureOr<int64_t> headDim =
      verifyCompressInputs(*this, getState(), getTokenReq(), getPositions(), getRatio(), coff());
  KernelSpecAttr spec = KernelSpecAttr::get(*this);
  if (failed(headDim) || failed(verifySpec(*this, spec)) ||
      failed(verifyWeight(*this, getWeight(), spec.getHeadDim())) ||
      failed(verifyFreqs(*this, getFreqs(), spec.getRopeDim())))
    return failure();
  return verifySameSize(*this, "out_loc length", dimOf(getOutLoc(), 0), "token_req length",
                        dimOf(getTokenReq(), 0));
}

//===----------------------------------------------------------------------===//
// Canonicalization
//===----------------------------------------------------------------------===//

namespace {
/// H_D H_D = D I, so hadamard(hadamard(x, s1), s2) over the same items is x when
/// s1 * s2 * D == 1 up to f32 rounding of the scales (the default D^-0.5 pair). Dropping
/// both transforms only removes rounding error.
struct CancelHadamardPair : OpRewritePattern<HadamardOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(HadamardOp outer, PatternRewriter &rewriter) const override {
    auto inner = outer.getKv().getDefiningOp<HadamardOp>();
    if (!inner || inner.getItems() != outer.getItems())
      return rewriter.notifyMatchFailure(outer, "not a hadamard of a hadamard");
    double headDim = cast<RankedTensorType>(outer.getType()).getDimSize(1);
    double product = outer.getScale().convertToDouble() * inner.getScale().convertToDouble();
    // Two f32 roundings of the scales: a relative slack of a few f32 ulps.
    constexpr double kSlack = 4.0 * 0x1p-24;
    if (std::abs(product * headDim - 1.0) > kSlack)
      return rewriter.notifyMatchFailure(outer, "scales do not cancel");
    rewriter.replaceOp(outer, inner.getKv());
    return success();
  }
};
} // namespace

void HadamardOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                             MLIRContext *context) {
  results.add<CancelHadamardPair>(context);
}
