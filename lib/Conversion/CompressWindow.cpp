// SPEC.md "The compress step in front": the rules the CPU loops and the kernel share (see
// CompressWindow.h).
#include "dsv4/Conversion/CompressWindow.h"
#include "dsv4/Conversion/Constants.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

using namespace mlir;
using namespace mlir::dsv4;

namespace {
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
/// Windows spanning at most this many block-table columns check them unrolled.
constexpr int64_t kMaxUnrolledColumns = 4;

Value indexOf(ImplicitLocOpBuilder &b, Value integer) {
  return arith::IndexCastOp::create(b, b.getIndexType(), integer);
}

Value cmp(ImplicitLocOpBuilder &b, arith::CmpIPredicate predicate, Value lhs, Value rhs) {
  return arith::CmpIOp::create(b, predicate, lhs, rhs);
}

Value both(ImplicitLocOpBuilder &b, Value lhs, Value rhs) {
  return arith::AndIOp::create(b, lhs, rhs);
}

Value indexConst(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIndexOp::create(b, value);
}

/// Position q (i64, >= 0) of the window's first row, p - n + 1, plus `i` (i64).
Value emitWindowPosition(ImplicitLocOpBuilder &b, const StateWindows &windows, Value position,
                         Value i) {
  Value first = arith::AddIOp::create(b, position, i64Const(b, 1 - windows.windowSize()));
  return arith::AddIOp::create(b, first, i);
}

/// The block-table column of position q (i64, >= 0), as an index.
Value emitColumn(ImplicitLocOpBuilder &b, const StateWindows &windows, Value q) {
  return indexOf(b, arith::ShRUIOp::create(b, q, i64Const(b, llvm::Log2_64(windows.blockSize))));
}

/// Whether `block` (i32) is a block of the state (i1).
Value emitBlockInState(ImplicitLocOpBuilder &b, const StateWindows &windows, Value block) {
  return both(b, cmp(b, arith::CmpIPredicate::sge, block, i32Const(b, 0)),
              cmp(b, arith::CmpIPredicate::slt, indexOf(b, block), windows.numBlocks));
}

/// Every block-table entry of columns [firstColumn, lastColumn] of row `request` names a block
/// of the state (i1); the columns and the request are known to be in the table. A window of
/// few columns checks them unrolled (columns past the last clamped to it), so their loads are
/// in flight together; a longer one loops.
Value emitBlocksInState(ImplicitLocOpBuilder &b, const StateWindows &windows, Value request,
                        Value firstColumn, Value lastColumn) {
  if (maxWindowColumns(windows) <= kMaxUnrolledColumns) {
    Value all = arith::ConstantIntOp::create(b, 1, 1);
    for (int64_t k = 0; k < maxWindowColumns(windows); ++k) {
      Value column = arith::MinUIOp::create(
          b, arith::AddIOp::create(b, firstColumn, indexConst(b, k)), lastColumn);
      all = both(b, all, emitBlockInState(b, windows, windows.loadBlockId(b, request, column)));
    }
    return all;
  }
  auto loop =
      scf::ForOp::create(b, firstColumn, arith::AddIOp::create(b, lastColumn, indexConst(b, 1)),
                         indexConst(b, 1), ValueRange{arith::ConstantIntOp::create(b, 1, 1)});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value block = windows.loadBlockId(b, request, loop.getInductionVar());
  scf::YieldOp::create(b, both(b, loop.getRegionIterArg(0), emitBlockInState(b, windows, block)));
  return loop.getResult(0);
}

Value f32Exp(ImplicitLocOpBuilder &b, Value lhs, Value rhs) {
  return math::ExpOp::create(b, arith::SubFOp::create(b, lhs, rhs));
}

Value mulAdd(ImplicitLocOpBuilder &b, Value a, Value x, Value c) {
  return arith::AddFOp::create(b, arith::MulFOp::create(b, a, x), c);
}
} // namespace

Value mlir::dsv4::emitFirstPresent(ImplicitLocOpBuilder &b, const StateWindows &windows,
                                   Value position) {
  Value fromEnd = arith::SubIOp::create(b, i64Const(b, windows.windowSize() - 1), position);
  return arith::MaxSIOp::create(b, fromEnd, i64Const(b, 0));
}

std::pair<Value, Value> mlir::dsv4::emitWindowColumns(ImplicitLocOpBuilder &b,
                                                      const StateWindows &windows,
                                                      Value position) {
  Value firstPresent = emitFirstPresent(b, windows, position);
  return {emitColumn(b, windows, emitWindowPosition(b, windows, position, firstPresent)),
          emitColumn(b, windows, position)};
}

CompressItem mlir::dsv4::emitCompressItem(ImplicitLocOpBuilder &b, const StateWindows &windows,
                                          Value request, Value position, Value t) {
  Value inRange = both(b, cmp(b, arith::CmpIPredicate::sge, position, i64Const(b, 0)),
                       cmp(b, arith::CmpIPredicate::slt, position, i64Const(b, kInt32Max)));
  // p + 1 cannot wrap: p < INT32_MAX where it matters.
  Value next = arith::AddIOp::create(b, position, i64Const(b, 1));
  Value boundary = cmp(b, arith::CmpIPredicate::eq,
                       arith::RemSIOp::create(b, next, i64Const(b, windows.ratio)), i64Const(b, 0));
  Value tFits = cmp(b, arith::CmpIPredicate::ule, t, indexConst(b, kInt32Max));
  Value requestIndex = indexOf(b, request);
  Value inTable = both(b, cmp(b, arith::CmpIPredicate::sge, request, i32Const(b, 0)),
                       cmp(b, arith::CmpIPredicate::slt, requestIndex, windows.numRequests));
  // Columns grow with the position: the last one (position p) bounds them all.
  auto [firstColumn, lastColumn] = emitWindowColumns(b, windows, position);
  Value columnsInTable = cmp(b, arith::CmpIPredicate::slt, lastColumn, windows.maxBlocks);
  Value readable =
      both(b, both(b, inRange, boundary), both(b, tFits, both(b, inTable, columnsInTable)));
  // The block ids are read only where the request and its columns are in the table.
  auto produces = scf::IfOp::create(
      b, readable,
      [&](OpBuilder &builder, Location loc) {
        ImplicitLocOpBuilder inner(loc, builder);
        scf::YieldOp::create(
            inner, emitBlocksInState(inner, windows, requestIndex, firstColumn, lastColumn));
      },
      [&](OpBuilder &builder, Location loc) {
        ImplicitLocOpBuilder inner(loc, builder);
        scf::YieldOp::create(inner, ValueRange{arith::ConstantIntOp::create(inner, 0, 1)});
      });
  Value windowLen = arith::TruncIOp::create(
      b, b.getI32Type(),
      arith::SubIOp::create(b, i64Const(b, windows.windowSize()),
                            emitFirstPresent(b, windows, position)));
  return {request, position, produces.getResult(0), windowLen};
}

WindowRow mlir::dsv4::emitWindowRow(ImplicitLocOpBuilder &b, const StateWindows &windows,
                                    Value request, Value position, Value i) {
  Value q = emitWindowPosition(b, windows, position, i);
  Value present = cmp(b, arith::CmpIPredicate::sge, q, i64Const(b, 0));
  Value read = arith::SelectOp::create(b, present, q, position);
  Value block = windows.loadBlockId(b, indexOf(b, request), emitColumn(b, windows, read));
  Value row = indexOf(b, arith::AndIOp::create(b, read, i64Const(b, windows.blockSize - 1)));
  return {present, block, row};
}

PoolSums mlir::dsv4::emitPoolStart(ImplicitLocOpBuilder &b) {
  Value zero = f32Const(b, 0.0f);
  return {f32Const(b, APFloat::getInf(APFloat::IEEEsingle(), /*Negative=*/true)), zero, zero};
}

PoolSums mlir::dsv4::emitPoolStep(ImplicitLocOpBuilder &b, const PoolSums &sums, Value kv,
                                  Value score, Value present) {
  Value max = arith::MaxNumFOp::create(b, sums.max, score);
  // An unchanged maximum keeps the sums as they are: exp(m - m) would be NaN at m = -inf.
  Value unchanged = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, sums.max, max);
  Value rescale = arith::SelectOp::create(b, unchanged, f32Const(b, 1.0f), f32Exp(b, sums.max, max));
  // A -inf score weighs 0, also while the maximum is still -inf.
  Value negativeInfinity = f32Const(b, APFloat::getInf(APFloat::IEEEsingle(), true));
  Value excluded = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, score, negativeInfinity);
  Value weight = arith::SelectOp::create(b, excluded, f32Const(b, 0.0f), f32Exp(b, score, max));
  PoolSums next{max, mulAdd(b, sums.weighted, rescale, arith::MulFOp::create(b, kv, weight)),
                mulAdd(b, sums.total, rescale, weight)};
  if (!present)
    return next;
  auto pick = [&](Value taken, Value kept) {
    return arith::SelectOp::create(b, present, taken, kept).getResult();
  };
  return {pick(next.max, sums.max), pick(next.weighted, sums.weighted),
          pick(next.total, sums.total)};
}

PoolSums mlir::dsv4::emitPoolMerge(ImplicitLocOpBuilder &b, const PoolSums &lhs,
                                   const PoolSums &rhs) {
  Value max = arith::MaxNumFOp::create(b, lhs.max, rhs.max);
  // As emitPoolStep: a part already at the maximum is kept as it is (exp(m - m) is NaN at
  // m = -inf, where both parts are empty).
  auto scale = [&](Value partMax) -> Value {
    Value unchanged = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, partMax, max);
    return arith::SelectOp::create(b, unchanged, f32Const(b, 1.0f), f32Exp(b, partMax, max));
  };
  Value lhsScale = scale(lhs.max), rhsScale = scale(rhs.max);
  return {max,
          mulAdd(b, lhs.weighted, lhsScale, arith::MulFOp::create(b, rhs.weighted, rhsScale)),
          mulAdd(b, lhs.total, lhsScale, arith::MulFOp::create(b, rhs.total, rhsScale))};
}

Value mlir::dsv4::emitPoolResult(ImplicitLocOpBuilder &b, const PoolSums &sums) {
  return arith::DivFOp::create(b, sums.weighted, sums.total);
}
