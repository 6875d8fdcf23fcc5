// dsv4-fuse: rms_norm -> rope (-> hadamard) becomes one dsv4.fused_epilogue, a
// fused_epilogue -> quantize -> paged_store becomes one dsv4.fused_store, and a compress_pool
// whose rows and plan feed a fused_store becomes one dsv4.fused_compress_store.
#include "dsv4/Dialect/Dsv4/IR/CacheLayout.h"
#include "dsv4/Dialect/Dsv4/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::dsv4 {
#define GEN_PASS_DEF_DSV4FUSE
#include "dsv4/Dialect/Dsv4/Transforms/Passes.h.inc"
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

/// The source of `items` when an `ItemsOp` made them from the same freqs.
template <typename ItemsOp>
std::optional<PositionSourceInfo> sourceOf(Value items, Value freqs, PositionSource source) {
  auto op = items.getDefiningOp<ItemsOp>();
  if (!op || op.getFreqs() != freqs)
    return std::nullopt;
  return PositionSourceInfo{source, op.getHandle(), int64_t(op.getRatio())};
}

/// The fused op must carry the position source, so the items must come straight from an
/// items op over the same freqs the rope reads.
FailureOr<PositionSourceInfo> getPositionSource(Value items, Value freqs) {
  for (std::optional<PositionSourceInfo> info :
       {sourceOf<DecodeItemsOp>(items, freqs, PositionSource::decode),
        sourceOf<PrefillItemsOp>(items, freqs, PositionSource::prefill),
        sourceOf<SglangDecodeItemsOp>(items, freqs, PositionSource::sglang_decode),
        sourceOf<SglangExtendItemsOp>(items, freqs, PositionSource::sglang_extend)})
    if (info)
      return *info;
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

/// Every user of `value` is `a` or `b`.
bool onlyUsedBy(Value value, Operation *a, Operation *b) {
  return llvm::all_of(value.getUsers(), [&](Operation *user) { return user == a || user == b; });
}

struct FuseEpilogueQuantizeStore : OpRewritePattern<PagedStoreOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PagedStoreOp store, PatternRewriter &rewriter) const override {
    auto epilogue = store.getRows().getDefiningOp<FusedEpilogueOp>();
    if (!epilogue)
      return rewriter.notifyMatchFailure(store, "rows do not come from a fused_epilogue");
    auto quantize = store.getValues().getDefiningOp<QuantizeOp>();
    if (!quantize || quantize.getScales() != store.getScales() ||
        quantize.getRows() != store.getRows())
      return rewriter.notifyMatchFailure(store, "values and scales are not a quantize of rows");
    // The fused op writes only the cache: the in-place rows and the FP8 tensors must have no
    // reader besides the chain.
    if (!onlyUsedBy(epilogue.getResult(), quantize, store) ||
        !onlyUsedBy(quantize.getValues(), store, store) ||
        !onlyUsedBy(quantize.getScales(), store, store))
      return rewriter.notifyMatchFailure(store, "an intermediate has another user");
    if (epilogue->getBlock() != store->getBlock() || quantize->getBlock() != store->getBlock())
      return rewriter.notifyMatchFailure(store, "the chain spans blocks");
    FailureOr<PositionSourceInfo> items =
        getPositionSource(store.getItems(), epilogue.getFreqs());
    if (failed(items) || items->source != epilogue.getSource() ||
        items->source != store.getSource() || items->handle != epilogue.getHandle() ||
        items->handle != store.getHandle() || items->ratio != int64_t(epilogue.getRatio()) ||
        items->ratio != int64_t(store.getRatio()))
      return rewriter.notifyMatchFailure(store, "the store's items are not the epilogue's");
    CacheGeometry geometry = getCacheGeometry(store.getLayout());
    if (geometry.tail != 0 && int64_t(epilogue.getRopeDim()) != geometry.tail)
      return rewriter.notifyMatchFailure(store, "the bf16 tail is not the rope channels");
    // The fused op quantizes as its layout does; a quantize in another format (ue8m0 rounds
    // to bf16 first, mx does not) or block computes other bytes.
    if (quantize.getScaleFormat() != geometry.scaleFormat ||
        int64_t(quantize.getBlock()) != geometry.block)
      return rewriter.notifyMatchFailure(store, "the quantize is not the layout's");

    Type codeType = cast<RankedTensorType>(quantize.getValues().getType()).getElementType();
    TypeAttr fp8 = geometry.codes == CodeFormat::fp8 ? TypeAttr::get(codeType) : TypeAttr();
    auto fused = FusedStoreOp::create(
        rewriter, store.getLoc(), store.getType(), epilogue.getSource(), store.getLayout(),
        epilogue.getKv(), epilogue.getWeight(), epilogue.getFreqs(), epilogue.getHandle(),
        store.getCache(), store.getOutLoc(), epilogue.getRatio(), epilogue.getEps(),
        epilogue.getRopeDim(), epilogue.getScaleAttr(), store.getPageSize(), fp8);
    rewriter.replaceOp(store, fused.getResult());
    rewriter.eraseOp(quantize);
    rewriter.eraseOp(epilogue);
    return success();
  }
};

/// The pool's rows are the store's kv and its plan the store's prefill handle: the store's
/// items are the pool's, at RoPE position p + 1 - ratio of the same ratio.
struct FuseCompressStore : OpRewritePattern<FusedStoreOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(FusedStoreOp store, PatternRewriter &rewriter) const override {
    auto pool = store.getKv().getDefiningOp<CompressPoolOp>();
    if (!pool)
      return rewriter.notifyMatchFailure(store, "kv does not come from a compress_pool");
    if (store.getSource() != PositionSource::prefill || store.getHandle() != pool.getPlan() ||
        store.getRatio() != pool.getRatio())
      return rewriter.notifyMatchFailure(store, "the store's items are not the pool's plan");
    // The fused op writes only the cache: the pooled rows and the plan must have no reader
    // besides the store.
    if (!onlyUsedBy(pool.getRows(), store, store) || !onlyUsedBy(pool.getPlan(), store, store))
      return rewriter.notifyMatchFailure(store, "the rows or the plan have another user");
    if (pool->getBlock() != store->getBlock())
      return rewriter.notifyMatchFailure(store, "the chain spans blocks");
    if (!cast<RankedTensorType>(store.getOutLoc().getType()).getElementType().isInteger(64))
      return rewriter.notifyMatchFailure(store, "a compress store's out_loc is i64");

    auto fused = FusedCompressStoreOp::create(
        rewriter, store.getLoc(), store.getType(), store.getLayout(), pool.getState(),
        pool.getBlockTable(), pool.getTokenReq(), pool.getPositions(), store.getWeight(),
        store.getFreqs(), store.getCache(), store.getOutLoc(), pool.getRatio(), pool.getOverlap(),
        store.getEps(), store.getRopeDim(), store.getScaleAttr(), store.getPageSize(),
        store.getFp8TypeAttr());
    rewriter.replaceOp(store, fused.getResult());
    rewriter.eraseOp(pool);
    return success();
  }
};

struct Dsv4FusePass : dsv4::impl::Dsv4FuseBase<Dsv4FusePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseNormRopeHadamard, FuseEpilogueQuantizeStore, FuseCompressStore>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
