// Where each bit of a row index lives while lanes of one row cooperate on a Hadamard
// transform, and the order of butterfly stages and LDS exchanges that a schedule implies.
// No IR (only the dialect's ExchangeSchedule enum): KernelEmitter.cpp turns a plan into ops.
#ifndef DSV4_CONVERSION_DSV4TOGPU_BUTTERFLYSCHEDULE_H
#define DSV4_CONVERSION_DSV4TOGPU_BUTTERFLYSCHEDULE_H

#include "dsv4/Dialect/Dsv4/IR/Dsv4.h"

#include "llvm/ADT/SmallVector.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace mlir::dsv4 {

/// Maps (lane, register) to an index of the row: bit k of the register number is index bit
/// registerBits[k]; bit k of the lane id is index bit laneBits[k]. The lowest `pinnedBits`
/// register bits always map to index bits 0.. so that runs of 2^pinnedBits registers are
/// contiguous in memory (16-byte loads and stores).
struct RowLayout {
  llvm::SmallVector<int> registerBits;
  llvm::SmallVector<int> laneBits;

  /// The part of the index a register number contributes.
  int64_t registerOffset(int64_t reg) const;
  bool operator==(const RowLayout &other) const {
    return registerBits == other.registerBits && laneBits == other.laneBits;
  }
};

/// The layout of the 16-byte loads: lane l, register r = c * V + e holds index
/// (c * lanes + l) * V + e, so consecutive lanes read consecutive 16-byte pieces.
RowLayout naturalLayout(int indexBits, int laneBits, int pinnedBits);


/// One step of the transform.
struct ButterflyStep {
  enum class Kind {
    /// Butterflies on the register bits `registerBits` (all in-lane).
    Registers,
    /// Write every value to LDS in the current layout, barrier, read back in `layout`.
    Relayout,
    /// Write to LDS, barrier, read the value of lane `lane ^ (1 << laneBit)` and combine:
    /// one cross-lane stage per exchange.
    Partner,
    /// Read the value of lane `lane ^ (1 << laneBit)` by a subgroup shuffle and combine: no
    /// LDS, no barrier (the row's lanes are in one subgroup).
    Shuffle,
  };
  Kind kind;
  llvm::SmallVector<int> registerBits;
  RowLayout layout;
  int laneBit = 0;
};

struct ButterflyPlan {
  llvm::SmallVector<ButterflyStep> steps;
  /// The layout the values are in after the last step (what the store uses).
  RowLayout finalLayout;
  /// Exchanges through LDS (each one barrier-separated write and read).
  int numExchanges() const;
};

/// Plans all index bits of `start` as stages. Grouped: stages on register bits, then one
/// relayout that brings as many undone bits into the unpinned register slots as fit; repeat.
/// That is ceil(laneBits / (registerBits - pinnedBits)) exchanges, the fewest for a layout
/// that keeps 16-byte runs. PerStage: one partner exchange per lane bit. Shuffle: one
/// shuffle stage per lane bit, no LDS. `schedule` is not None.
ButterflyPlan planButterflies(const RowLayout &start, int pinnedBits, ExchangeSchedule schedule);

/// An XOR swizzle of the LDS slot of a row. Eight lanes' 16-byte runs are served together;
/// a run's bank group is index bits [2, 5). Bit 2 + j of an index is XORed with the parity
/// of the index bits in masks[j] (all above bit 4, so the map is a permutation of the slot),
/// chosen so that no eight consecutive lanes of any layout share a bank group.
struct LdsSwizzle {
  static constexpr int kFirstBit = 2, kBits = 3;
  std::array<int64_t, kBits> masks = {0, 0, 0};

  /// The bits the swizzle XORs into `index` (index ^ xorBits(index) is the address).
  int64_t xorBits(int64_t index) const;
};

/// The most distinct LDS runs (of 2^runBits floats) that eight consecutive lanes put in one
/// bank group, over every layout `plan` writes or reads: 1 means no collision.
int ldsBankCollisions(const LdsSwizzle &swizzle, const ButterflyPlan &plan,
                      const RowLayout &start, int runBits);

/// The swizzle (over index bits 5..8) with the fewest bank-group collisions.
LdsSwizzle chooseLdsSwizzle(const ButterflyPlan &plan, const RowLayout &start, int runBits);

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_DSV4TOGPU_BUTTERFLYSCHEDULE_H
