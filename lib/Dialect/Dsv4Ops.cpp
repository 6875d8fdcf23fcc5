// Verifiers and canonicalizations of the dsv4 ops. Every message here has a case in
// test/Dialect/Dsv4/invalid.mlir.
#include "dsv4/Dialect/Dsv4.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::dsv4;

#define GET_OP_CLASSES
#include "Dsv4Ops.cpp.inc"

namespace {
constexpr int64_t kMinHeadDim = 64;
constexpr int64_t kMaxHeadDim = 4096;

/// Prints a static size, or `?` for a dynamic one.
std::string sizeString(int64_t size) {
  return ShapedType::isDynamic(size) ? "?" : std::to_string(size);
}

/// The head dim of kv when it is valid; otherwise emits the error and returns failure.
FailureOr<int64_t> verifyHeadDim(Operation *op, Value kv) {
  int64_t dim = cast<RankedTensorType>(kv.getType()).getDimSize(1);
  if (ShapedType::isDynamic(dim) || dim < kMinHeadDim || dim > kMaxHeadDim ||
      !llvm::isPowerOf2_64(dim))
    return op->emitOpError() << "head dim must be a power of two in [" << kMinHeadDim
                             << ", " << kMaxHeadDim << "], got " << sizeString(dim);
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

LogicalResult verifyRope(Operation *op, int64_t ropeDim, Value freqs, int64_t headDim) {
  if (ropeDim < 2 || ropeDim > headDim || ropeDim % 2 != 0)
    return op->emitOpError() << "rope_dim must be even and in [2, " << headDim << "], got "
                             << ropeDim;
  int64_t width = cast<RankedTensorType>(freqs.getType()).getDimSize(1);
  if (width != ropeDim)
    return op->emitOpError() << "freqs width " << sizeString(width)
                             << " does not match rope_dim " << ropeDim;
  return success();
}

LogicalResult verifyEps(Operation *op, APFloat eps) {
  if (!eps.isFiniteNonZero() || eps.isNegative())
    return op->emitOpError() << "eps must be positive and finite, got "
                             << eps.convertToDouble();
  return success();
}

LogicalResult verifyScale(Operation *op, APFloat scale) {
  if (!scale.isFinite())
    return op->emitOpError() << "scale must be finite, got " << scale.convertToDouble();
  return success();
}

/// seq_lens and plan positions are i32, so the kernels compute positions with an i32 ratio.
LogicalResult verifyRatio(Operation *op, int64_t ratio) {
  constexpr int64_t kMaxRatio = std::numeric_limits<int32_t>::max();
  if (ratio < 1 || ratio > kMaxRatio)
    return op->emitOpError() << "ratio must be in [1, " << kMaxRatio << "], got " << ratio;
  return success();
}

LogicalResult verifyPlan(Operation *op, Value plan) {
  auto type = cast<RankedTensorType>(plan.getType());
  if (type.getRank() != 2 || type.getDimSize(1) != 4)
    return op->emitOpError()
           << "plan must be [M, 4] of (row, batch_id, position, window_len), got " << type;
  return success();
}

/// Work-item ops: one item per handle row, ratio >= 1.
LogicalResult verifyItemsOp(Operation *op, Value handle, Value items, int64_t ratio) {
  if (failed(verifyRatio(op, ratio)) || failed(verifyItems(op, items)))
    return failure();
  int64_t handleRows = cast<RankedTensorType>(handle.getType()).getDimSize(0);
  int64_t itemRows = cast<RankedTensorType>(items.getType()).getDimSize(0);
  if (!ShapedType::isDynamic(handleRows) && !ShapedType::isDynamic(itemRows) &&
      handleRows != itemRows)
    return op->emitOpError() << "item count " << itemRows << " does not match handle rows "
                             << handleRows;
  return success();
}
} // namespace

LogicalResult DecodeItemsOp::verify() {
  return verifyItemsOp(*this, getHandle(), getItems(), getRatio());
}

LogicalResult PrefillItemsOp::verify() {
  if (failed(verifyPlan(*this, getHandle())))
    return failure();
  return verifyItemsOp(*this, getHandle(), getItems(), getRatio());
}

LogicalResult RmsNormOp::verify() {
  FailureOr<int64_t> headDim = verifyHeadDim(*this, getKv());
  if (failed(headDim) || failed(verifyItems(*this, getItems())) ||
      failed(verifyWeight(*this, getWeight(), *headDim)))
    return failure();
  return verifyEps(*this, getEps());
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
  return verifyScale(*this, getScale());
}

LogicalResult FusedEpilogueOp::verify() {
  FailureOr<int64_t> headDim = verifyHeadDim(*this, getKv());
  if (failed(headDim) || failed(verifyWeight(*this, getWeight(), *headDim)) ||
      failed(verifyRope(*this, getRopeDim(), getFreqs(), *headDim)) ||
      failed(verifyEps(*this, getEps())) || failed(verifyRatio(*this, getRatio())))
    return failure();
  if (FloatAttr scale = getScaleAttr(); scale && failed(verifyScale(*this, scale.getValue())))
    return failure();
  auto handleType = cast<RankedTensorType>(getHandle().getType());
  if (getSource() == PositionSource::decode && handleType.getRank() != 1)
    return emitOpError() << "decode handle must be seq_lens [B], got " << handleType;
  if (getSource() == PositionSource::prefill)
    return verifyPlan(*this, getHandle());
  return success();
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
