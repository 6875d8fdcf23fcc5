// dsv4-fuse: rms_norm -> rope (-> hadamard) becomes one dsv4.fused_epilogue.
#include "dsv4/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::dsv4 {
#define GEN_PASS_DEF_DSV4FUSE
#include "Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;
using namespace mlir::dsv4;

namespace {
/// The position source of a fusable chain: the items op and what it was built from.
struct PositionSourceInfo {
  PositionSource source;
  Value handle;
  int64_t ratio;
};

/// The fused op must carry the position source, so the items must come straight from an
/// items op over the same freqs the rope reads.
FailureOr<PositionSourceInfo> getPositionSource(Value items, Value freqs) {
  if (auto decode = items.getDefiningOp<DecodeItemsOp>(); decode && decode.getFreqs() == freqs)
    return PositionSourceInfo{PositionSource::decode, decode.getHandle(),
                              int64_t(decode.getRatio())};
  if (auto prefill = items.getDefiningOp<PrefillItemsOp>();
      prefill && prefill.getFreqs() == freqs)
    return PositionSourceInfo{PositionSource::prefill, prefill.getHandle(),
                              int64_t(prefill.getRatio())};
  return failure();
}

/// The hadamard that can join the chain: the rope's only user, same block, same items.
HadamardOp getFusableHadamard(RopeOp rope) {
  if (!rope->hasOneUse())
    return nullptr;
  auto hadamard = dyn_cast<HadamardOp>(*rope->user_begin());
  if (!hadamard || hadamard->getBlock() != rope->getBlock() ||
      hadamard.getItems() != rope.getItems())
    return nullptr;
  return hadamard;
}

struct FuseNormRopeHadamard : OpRewritePattern<RopeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RopeOp rope, PatternRewriter &rewriter) const override {
    auto norm = rope.getKv().getDefiningOp<RmsNormOp>();
    if (!norm)
      return rewriter.notifyMatchFailure(rope, "input is not an rms_norm");
    if (!norm->hasOneUse())
      return rewriter.notifyMatchFailure(rope, "the rms_norm result has another user");
    if (norm->getBlock() != rope->getBlock())
      return rewriter.notifyMatchFailure(rope, "rms_norm and rope are in different blocks");
    if (norm.getItems() != rope.getItems())
      return rewriter.notifyMatchFailure(rope, "rms_norm and rope name different items");
    FailureOr<PositionSourceInfo> position =
        getPositionSource(rope.getItems(), rope.getFreqs());
    if (failed(position))
      return rewriter.notifyMatchFailure(rope, "items do not come from an items op");

    HadamardOp hadamard = getFusableHadamard(rope);
    Operation *last = hadamard ? hadamard.getOperation() : rope.getOperation();
    rewriter.setInsertionPoint(last);
    auto fused = FusedEpilogueOp::create(
        rewriter, last->getLoc(), norm.getType(), position->source, norm.getKv(),
        norm.getWeight(), rope.getFreqs(), position->handle, position->ratio, norm.getEps(),
        rope.getRopeDim(), hadamard ? hadamard.getScaleAttr() : FloatAttr());
    rewriter.replaceOp(last, fused.getResult());
    if (hadamard)
      rewriter.eraseOp(rope);
    rewriter.eraseOp(norm);
    return success();
  }
};

struct Dsv4FusePass : dsv4::impl::Dsv4FuseBase<Dsv4FusePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseNormRopeHadamard>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
