// dsv4-schedule-check: prints the butterfly plan and LDS swizzle convert-dsv4-to-gpu would
// use for a row shape, and checks the swizzle's two promises (a permutation of the row's
// slot; fewer bank-group collisions than none). Usage:
//   dsv4-schedule-check HEAD_DIM LANES VECTOR_WIDTH grouped|per-stage|shuffle
#include "ButterflySchedule.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <vector>

using namespace mlir::dsv4;

namespace {
constexpr int kLdsRunBits = 2; // LDS traffic moves 4 floats (16 bytes) at a time

void printBits(llvm::StringRef name, llvm::ArrayRef<int> bits) {
  llvm::outs() << " " << name << " [";
  llvm::interleave(bits, llvm::outs(), " ");
  llvm::outs() << "]";
}

void printLayout(llvm::StringRef what, const RowLayout &layout) {
  llvm::outs() << what << ":";
  printBits("registers", layout.registerBits);
  printBits("lanes", layout.laneBits);
  llvm::outs() << "\n";
}

bool isPermutation(const LdsSwizzle &swizzle, int64_t headDim) {
  std::vector<bool> seen(headDim);
  for (int64_t index = 0; index < headDim; ++index) {
    int64_t address = index ^ swizzle.xorBits(index);
    if (address < 0 || address >= headDim || seen[address])
      return false;
    seen[address] = true;
  }
  return true;
}
} // namespace

int main(int argc, char **argv) {
  if (argc != 5) {
    llvm::errs() << "usage: dsv4-schedule-check HEAD_DIM LANES VECTOR_WIDTH grouped|per-stage|shuffle\n";
    return 2;
  }
  int64_t headDim = std::atoll(argv[1]), lanes = std::atoll(argv[2]);
  int64_t width = std::atoll(argv[3]);
  std::optional<ExchangeSchedule> schedule = symbolizeExchangeSchedule(argv[4]);
  if (!schedule || *schedule == ExchangeSchedule::None || !llvm::isPowerOf2_64(headDim) || !llvm::isPowerOf2_64(lanes) ||
      !llvm::isPowerOf2_64(width) || lanes * width * KernelPlanAttr::minRunsPerLane(*schedule) > headDim) {
    llvm::errs() << "bad shape\n";
    return 2;
  }
  RowLayout start = naturalLayout(llvm::Log2_64(headDim), llvm::Log2_64(lanes),
                                  llvm::Log2_64(width));
  ButterflyPlan plan = planButterflies(start, llvm::Log2_64(width), *schedule);
  printLayout("load", start);
  for (const ButterflyStep &step : plan.steps) {
    if (step.kind == ButterflyStep::Kind::Registers) {
      llvm::outs() << "stages on register bits";
      for (int k : step.registerBits)
        llvm::outs() << " " << k;
      llvm::outs() << "\n";
    } else if (step.kind == ButterflyStep::Kind::Relayout) {
      printLayout("exchange to", step.layout);
    } else if (step.kind == ButterflyStep::Kind::Partner) {
      llvm::outs() << "exchange with the partner across lane bit " << step.laneBit << "\n";
    } else {
      llvm::outs() << "shuffle with the partner across lane bit " << step.laneBit << "\n";
    }
  }
  printLayout("store", plan.finalLayout);
  llvm::outs() << "exchanges " << plan.numExchanges() << "\n";
  if (plan.numExchanges() == 0)
    return 0; // nothing goes through LDS: no swizzle to check
  LdsSwizzle swizzle = chooseLdsSwizzle(plan, start, kLdsRunBits);
  llvm::outs() << "bank collisions unswizzled " << ldsBankCollisions({}, plan, start, kLdsRunBits)
               << " swizzled " << ldsBankCollisions(swizzle, plan, start, kLdsRunBits) << "\n";
  llvm::outs() << "swizzle is a permutation: "
               << (isPermutation(swizzle, headDim) ? "yes" : "no") << "\n";
  return 0;
}
