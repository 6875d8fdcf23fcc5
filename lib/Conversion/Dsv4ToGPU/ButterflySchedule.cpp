// Butterfly schedules over a row spread across lanes (see ButterflySchedule.h).
#include "ButterflySchedule.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/ErrorHandling.h"

#include <algorithm>

using namespace mlir::dsv4;

int64_t RowLayout::registerOffset(int64_t reg) const {
  int64_t offset = 0;
  for (auto [k, bit] : llvm::enumerate(registerBits))
    if (reg & (int64_t(1) << k))
      offset |= int64_t(1) << bit;
  return offset;
}

RowLayout mlir::dsv4::naturalLayout(int indexBits, int laneBits, int pinnedBits) {
  RowLayout layout;
  for (int bit = 0; bit < indexBits; ++bit) {
    bool isLaneBit = bit >= pinnedBits && bit < pinnedBits + laneBits;
    (isLaneBit ? layout.laneBits : layout.registerBits).push_back(bit);
  }
  return layout;
}

int ButterflyPlan::numExchanges() const {
  return llvm::count_if(steps, [](const ButterflyStep &step) {
    return step.kind == ButterflyStep::Kind::Relayout ||
           step.kind == ButterflyStep::Kind::Partner;
  });
}

namespace {
bool contains(const llvm::SmallVector<int> &bits, int bit) {
  return llvm::is_contained(bits, bit);
}

/// The next layout of the grouped schedule: pinned bits stay, then the undone bits, then the
/// previous unpinned register bits fill the slots; every other bit goes to the lane id.
RowLayout nextGroupedLayout(const RowLayout &layout, int pinnedBits,
                            const llvm::SmallVector<int> &undone) {
  size_t slots = layout.registerBits.size();
  RowLayout next;
  next.registerBits.append(layout.registerBits.begin(),
                           layout.registerBits.begin() + pinnedBits);
  for (int bit : undone)
    if (next.registerBits.size() < slots)
      next.registerBits.push_back(bit);
  for (int bit : llvm::drop_begin(layout.registerBits, pinnedBits))
    if (next.registerBits.size() < slots)
      next.registerBits.push_back(bit);
  int indexBits = layout.registerBits.size() + layout.laneBits.size();
  for (int bit = 0; bit < indexBits; ++bit)
    if (!contains(next.registerBits, bit))
      next.laneBits.push_back(bit);
  return next;
}

/// Stages on the register bits of `layout` not done yet; marks them done.
void addRegisterStages(ButterflyPlan &plan, const RowLayout &layout,
                       llvm::SmallVector<int> &done) {
  ButterflyStep step{ButterflyStep::Kind::Registers, {}, layout, 0};
  for (auto [k, bit] : llvm::enumerate(layout.registerBits))
    if (!contains(done, bit)) {
      step.registerBits.push_back(k);
      done.push_back(bit);
    }
  if (!step.registerBits.empty())
    plan.steps.push_back(step);
}
} // namespace

ButterflyPlan mlir::dsv4::planButterflies(const RowLayout &start, int pinnedBits,
                                          ExchangeSchedule schedule) {
  ButterflyPlan plan;
  llvm::SmallVector<int> done;
  RowLayout layout = start;
  addRegisterStages(plan, layout, done);
  if (schedule != ExchangeSchedule::Grouped) {
    auto kind = schedule == ExchangeSchedule::Shuffle ? ButterflyStep::Kind::Shuffle
                                                      : ButterflyStep::Kind::Partner;
    for (int k = 0, e = layout.laneBits.size(); k < e; ++k)
      plan.steps.push_back({kind, {}, layout, k});
  } else {
    while (true) {
      llvm::SmallVector<int> undone;
      for (int bit : layout.laneBits)
        if (!contains(done, bit))
          undone.push_back(bit);
      if (undone.empty())
        break;
      layout = nextGroupedLayout(layout, pinnedBits, undone);
      plan.steps.push_back({ButterflyStep::Kind::Relayout, {}, layout, 0});
      addRegisterStages(plan, layout, done);
    }
  }
  plan.finalLayout = layout;
  return plan;
}

int64_t LdsSwizzle::xorBits(int64_t index) const {
  int64_t bits = 0;
  for (int j = 0; j < kBits; ++j)
    bits |= int64_t(llvm::popcount(uint64_t(index & masks[j])) & 1) << (kFirstBit + j);
  return bits;
}

namespace {
/// Lanes whose 16-byte LDS accesses are served together (a quarter of a warp32).
constexpr int kLanesPerPhase = 8;
/// Index bits the swizzle may read: the four above the bank-group bits.
constexpr int kSwizzleSourceBits = 4;

/// The most distinct runs eight consecutive lanes put in one bank group, over the layouts.
int collisions(const LdsSwizzle &swizzle, llvm::ArrayRef<RowLayout> layouts, int runBits) {
  int worst = 0;
  for (const RowLayout &layout : layouts) {
    int64_t lanes = int64_t(1) << layout.laneBits.size();
    for (int64_t reg = 0; reg < (int64_t(1) << layout.registerBits.size()); reg += 1 << runBits)
      for (int64_t first = 0; first < lanes; first += kLanesPerPhase) {
        std::array<int, 1 << LdsSwizzle::kBits> perGroup = {};
        for (int64_t lane = first; lane < std::min(lanes, first + kLanesPerPhase); ++lane) {
          int64_t index = layout.registerOffset(reg);
          for (auto [k, bit] : llvm::enumerate(layout.laneBits))
            if (lane & (int64_t(1) << k))
              index |= int64_t(1) << bit;
          int64_t address = index ^ swizzle.xorBits(index);
          int group = (address >> LdsSwizzle::kFirstBit) & ((1 << LdsSwizzle::kBits) - 1);
          worst = std::max(worst, ++perGroup[group]);
        }
      }
  }
  return worst;
}

/// Every layout the plan writes to or reads from LDS.
llvm::SmallVector<RowLayout> ldsLayouts(const ButterflyPlan &plan, const RowLayout &start) {
  llvm::SmallVector<RowLayout> layouts = {start};
  for (const ButterflyStep &step : plan.steps)
    if (step.kind == ButterflyStep::Kind::Relayout)
      layouts.push_back(step.layout);
  return layouts;
}
} // namespace

int mlir::dsv4::ldsBankCollisions(const LdsSwizzle &swizzle, const ButterflyPlan &plan,
                                  const RowLayout &start, int runBits) {
  return collisions(swizzle, ldsLayouts(plan, start), runBits);
}

LdsSwizzle mlir::dsv4::chooseLdsSwizzle(const ButterflyPlan &plan, const RowLayout &start,
                                        int runBits) {
  llvm::SmallVector<RowLayout> layouts = ldsLayouts(plan, start);
  int indexBits = start.registerBits.size() + start.laneBits.size();
  int sourceBits = std::clamp(indexBits - (LdsSwizzle::kFirstBit + LdsSwizzle::kBits), 0,
                              kSwizzleSourceBits);
  int64_t choices = int64_t(1) << sourceBits;
  int sourceShift = LdsSwizzle::kFirstBit + LdsSwizzle::kBits;
  LdsSwizzle best;
  int bestCollisions = collisions(best, layouts, runBits);
  for (int64_t m0 = 0; m0 < choices && bestCollisions > 1; ++m0)
    for (int64_t m1 = 0; m1 < choices && bestCollisions > 1; ++m1)
      for (int64_t m2 = 0; m2 < choices && bestCollisions > 1; ++m2) {
        LdsSwizzle candidate;
        candidate.masks = {m0 << sourceShift, m1 << sourceShift, m2 << sourceShift};
        int candidateCollisions = collisions(candidate, layouts, runBits);
        if (candidateCollisions < bestCollisions) {
          best = candidate;
          bestCollisions = candidateCollisions;
        }
      }
  return best;
}
