// dsv4-plan-kernels: attaches to each fused op the plan (#dsv4.plan) convert-dsv4-to-gpu
// emits: the shape table's (KernelShape.cpp), each option overriding its part, within the
// chips' limits. A plan already in the IR (pinned by hand, as IREE pins lowering_config) is
// kept; the dialect has verified it against the op's spec.
#include "KernelShape.h"
#include "dsv4/ABI/Limits.h"
#include "dsv4/Conversion/Passes.h"
#include "dsv4/Target/Chips.h"

namespace mlir::dsv4 {
#define GEN_PASS_DEF_DSV4PLANKERNELS
#include "dsv4/Conversion/Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;
using namespace mlir::dsv4;

namespace {
/// The shape's workgroup, in rows of `lanes`; a kernel exchanging through LDS (rows * D
/// f32 values) gets few enough rows to fit every supported chip, so D=4096 compiled with
/// default options still loads on sm_90 (48 KiB).
int64_t defaultRows(const KernelShape &shape, int64_t lanes, bool throughLds, int64_t headDim) {
  int64_t rows = shape.workgroupSize() / lanes;
  if (throughLds)
    rows = std::min(rows, minWorkgroupMemoryBytes() / (headDim * int64_t(sizeof(float))));
  return std::max<int64_t>(1, rows);
}

struct Dsv4PlanKernelsPass : dsv4::impl::Dsv4PlanKernelsBase<Dsv4PlanKernelsPass> {
  using Dsv4PlanKernelsBase::Dsv4PlanKernelsBase;

  void runOnOperation() override {
    WalkResult walk = getOperation().walk([&](Operation *op) {
      if (!isa<FusedEpilogueOp, FusedStoreOp, FusedCompressStoreOp>(op) || op->hasAttr(Dsv4Dialect::kPlanAttrName))
        return WalkResult::advance();
      FailureOr<KernelPlanAttr> plan = choosePlan(op, KernelSpecAttr::get(op));
      if (failed(plan))
        return WalkResult::interrupt();
      op->setAttr(Dsv4Dialect::kPlanAttrName, *plan);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      signalPassFailure();
  }

private:
  /// A compress kernel keeps 3 pooling sums a channel and the loads of its window rows: with
  /// at most 8 channels a lane (the indexer), 8 waves per SIMD hold them in 64 VGPRs and the
  /// scheduler keeps as many loads in flight as that leaves (gfx942: 63 VGPRs, no scratch).
  /// 16 channels a lane (the main cache, D=512 at 32 lanes) do not fit: no occupancy asked.
  static int64_t compressOccupancy(KernelSpecAttr spec, int64_t valuesPerLane) {
    constexpr int64_t kMaxChannelsAtFullOccupancy = 8;
    return spec.compresses() && valuesPerLane <= kMaxChannelsAtFullOccupancy
               ? dsv4_abi::kMaxWavesPerSimd
               : 0;
  }

  /// A compress window longer than kMaxUnsplitWindow rows (ratio 128) is split over
  /// kWindowSplit row slots of one workgroup: one slot would pool it in a chain of 64 round
  /// trips (177 µs for one token on an H200), 8 slots in 8 each; their partial sums take
  /// 8 x 3 x D f32 of LDS (48 KiB at D=512, the most a CUDA kernel has statically).
  static int64_t windowSplit(KernelSpecAttr spec) {
    constexpr int64_t kMaxUnsplitWindow = 16;
    constexpr int64_t kWindowSplit = 8;
    int64_t windowRows = (spec.getOverlap() ? 2 : 1) * spec.getRatio();
    return spec.compresses() && windowRows > kMaxUnsplitWindow && windowRows % kWindowSplit == 0
               ? kWindowSplit
               : 1;
  }

  /// The plan of fused op `op` for `spec`, checked by #dsv4.plan's verifier.
  FailureOr<KernelPlanAttr> choosePlan(Operation *op, KernelSpecAttr spec) {
    int64_t headDim = spec.getHeadDim();
    int64_t vectorWidth = KernelPlanAttr::fullAccessWidth(spec.getKvType());
    // Prefill-sized calls: many rows, bandwidth-bound (KernelShape.cpp).
    bool manyRows = spec.getMode() == PositionSource::prefill ||
                    spec.getMode() == PositionSource::sglang_extend;
    KernelShape shape =
        chooseKernelShape(headDim, vectorWidth, spec.rotates(), manyRows, spec.compresses());
    ExchangeSchedule asked = shape.schedule;
    if (!schedule.empty()) {
      std::optional<ExchangeSchedule> parsed = symbolizeExchangeSchedule(schedule);
      if (!parsed || *parsed == ExchangeSchedule::None)
        return op->emitError() << "unknown schedule '" << schedule
                               << "'; expected 'grouped', 'per-stage' or 'shuffle'";
      asked = *parsed;
    }
    // A kernel that does not rotate exchanges nothing, whatever schedule was asked for.
    ExchangeSchedule chosen = spec.rotates() ? asked : ExchangeSchedule::None;
    // A schedule asked for by option may need more values per lane than the table's shape
    // gives (grouped at D=128): the default lanes then shrink to leave each lane enough.
    int64_t minValues = KernelPlanAttr::minRunsPerLane(chosen) * vectorWidth;
    int64_t lanes = lanesPerRow ? lanesPerRow.getValue()
                                : std::max<int64_t>(1, std::min(shape.lanes, headDim / minValues));
    auto emitError = [&]() { return op->emitError() << "plan: "; };
    // The rows default divides by the lanes: check them first.
    if (failed(KernelPlanAttr::verify(emitError, lanes, 1, vectorWidth, chosen, 0, 0, 1)))
      return failure();
    bool throughLds = spec.rotates() && lanes > 1 && chosen != ExchangeSchedule::Shuffle;
    int64_t split = windowSplit(spec);
    int64_t rows = rowsPerWorkgroup ? rowsPerWorkgroup.getValue()
                   : split > 1      ? split
                                    : defaultRows(shape, lanes, throughLds, headDim);
    // Rows asked for by option win; the split keeps the part of it that divides them.
    while (rows % split)
      split /= 2;
    // A row over more lanes than it has 16-byte runs moves a lane's share in one access.
    vectorWidth = KernelPlanAttr::accessWidth(spec.getKvType(), headDim, lanes);
    // rows * D * 4 cannot overflow once the verifier bounds rows by the workgroup size.
    if (failed(KernelPlanAttr::verify(emitError, lanes, rows, vectorWidth, chosen, 0, 0, split)))
      return failure();
    int64_t ldsBytes = (throughLds ? KernelPlanAttr::exchangeLdsBytes(rows, headDim) : 0) +
                       KernelPlanAttr::splitLdsBytes(split, headDim) +
                       KernelPlanAttr::rowPartsLdsBytes(rows, lanes);
    auto plan = KernelPlanAttr::get(&getContext(), lanes, rows, vectorWidth, chosen, ldsBytes,
                                    compressOccupancy(spec, headDim / lanes), split);
    if (failed(plan.verifyFor(spec, emitError)))
      return failure();
    return plan;
  }
};
} // namespace
