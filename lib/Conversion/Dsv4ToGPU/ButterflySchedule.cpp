// Butterfly schedules over a row spread across lanes (see ButterflySchedule.h).
#include "ButterflySchedule.h"

#include "llvm/ADT/STLExtras.h"

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

std::optional<ExchangeSchedule> mlir::dsv4::parseExchangeSchedule(const std::string &name) {
  if (name == "grouped")
    return ExchangeSchedule::Grouped;
  if (name == "per-stage")
    return ExchangeSchedule::PerStage;
  return std::nullopt;
}

int ButterflyPlan::numExchanges() const {
  return llvm::count_if(steps, [](const ButterflyStep &step) {
    return step.kind != ButterflyStep::Kind::Registers;
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
  if (schedule == ExchangeSchedule::PerStage) {
    for (int k = 0, e = layout.laneBits.size(); k < e; ++k)
      plan.steps.push_back({ButterflyStep::Kind::Partner, {}, layout, k});
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
