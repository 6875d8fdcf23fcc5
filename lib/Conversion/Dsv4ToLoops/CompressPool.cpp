// SPEC.md "The compress step in front" as scalar loops (see CompressPool.h): which items
// produce a row, and the softmax pooling of their windows over the paged state cache.
#include "CompressPool.h"

#include "LoopBuilders.h"
#include "dsv4/Conversion/Constants.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

using namespace mlir;
using namespace mlir::dsv4;

namespace {
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

Value indexOf(ImplicitLocOpBuilder &b, Value integer) {
  return arith::IndexCastOp::create(b, b.getIndexType(), integer);
}

Value cmp(ImplicitLocOpBuilder &b, arith::CmpIPredicate predicate, Value lhs, Value rhs) {
  return arith::CmpIOp::create(b, predicate, lhs, rhs);
}

Value both(ImplicitLocOpBuilder &b, Value lhs, Value rhs) {
  return arith::AndIOp::create(b, lhs, rhs);
}

/// The first window row at a position >= 0, max(0, n - 1 - p) (i64, for p >= 0): the rows
/// before it are absent.
Value emitFirstPresent(ImplicitLocOpBuilder &b, const StateWindows &windows, Value position) {
  Value fromEnd = arith::SubIOp::create(b, i64Const(b, windows.windowSize() - 1), position);
  return arith::MaxSIOp::create(b, fromEnd, i64Const(b, 0));
}

/// Position q (i64, >= 0) of the window's first row, p - n + 1, plus `i`.
Value emitWindowPosition(ImplicitLocOpBuilder &b, const StateWindows &windows, Value position,
                         Value i) {
  Value first = arith::AddIOp::create(b, position, i64Const(b, 1 - windows.windowSize()));
  return arith::AddIOp::create(b, first, i);
}

/// The block-table column of position q (i64, >= 0), as an index.
Value emitColumn(ImplicitLocOpBuilder &b, const StateWindows &windows, Value q) {
  return indexOf(b, arith::ShRUIOp::create(b, q, i64Const(b, llvm::Log2_64(windows.blockSize))));
}

/// Every block-table entry of columns [firstColumn, lastColumn] of row `request` names a block
/// of the state (i1); the columns and the request are known to be in the table.
Value emitBlocksInState(ImplicitLocOpBuilder &b, const StateWindows &windows, Value request,
                        Value firstColumn, Value lastColumn) {
  Value numBlocks = memref::DimOp::create(b, windows.state, 0);
  auto loop =
      scf::ForOp::create(b, firstColumn, arith::AddIOp::create(b, lastColumn, indexConst(b, 1)),
                         indexConst(b, 1), ValueRange{arith::ConstantIntOp::create(b, 1, 1)});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value block =
      memref::LoadOp::create(b, windows.blockTable, ValueRange{request, loop.getInductionVar()});
  Value valid = both(b, cmp(b, arith::CmpIPredicate::sge, block, i32Const(b, 0)),
                     cmp(b, arith::CmpIPredicate::slt, indexOf(b, block), numBlocks));
  scf::YieldOp::create(b, both(b, loop.getRegionIterArg(0), valid));
  return loop.getResult(0);
}
} // namespace

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
                       cmp(b, arith::CmpIPredicate::slt, requestIndex,
                           memref::DimOp::create(b, windows.blockTable, 0)));
  // Columns grow with the position: the last one (position p) bounds them all.
  Value firstPresent = emitFirstPresent(b, windows, position);
  Value firstColumn =
      emitColumn(b, windows, emitWindowPosition(b, windows, position, firstPresent));
  Value lastColumn = emitColumn(b, windows, position);
  Value columnsInTable = cmp(b, arith::CmpIPredicate::slt, lastColumn,
                             memref::DimOp::create(b, windows.blockTable, 1));
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
      b, b.getI32Type(), arith::SubIOp::create(b, i64Const(b, windows.windowSize()), firstPresent));
  return {request, position, produces.getResult(0), windowLen};
}

void mlir::dsv4::emitPoolRow(ImplicitLocOpBuilder &b, const StateWindows &windows, Value request,
                             Value position, Value y) {
  int64_t n = windows.windowSize(), headDim = windows.headDim;
  int64_t width = windows.coff * headDim; // W: score starts at float W of a state row
  Value requestIndex = indexOf(b, request);
  Value firstPresent = indexOf(b, emitFirstPresent(b, windows, position));
  Value end = indexConst(b, n);
  Value one = indexConst(b, 1);
  forEach(b, indexConst(b, headDim), [&](Value c) {
    // (kv, score) of channel c of window row i.
    auto load = [&](Value i) -> std::pair<Value, Value> {
      Value q = emitWindowPosition(b, windows, position,
                                   arith::IndexCastOp::create(b, b.getI64Type(), i));
      Value block =
          indexOf(b, memref::LoadOp::create(b, windows.blockTable,
                                            ValueRange{requestIndex, emitColumn(b, windows, q)}));
      Value row = indexOf(b, arith::AndIOp::create(b, q, i64Const(b, windows.blockSize - 1)));
      Value channel = c;
      if (windows.coff == 2) {
        // Overlap: the window's last `ratio` rows read the state row's second half.
        Value own = cmp(b, arith::CmpIPredicate::sge, i, indexConst(b, windows.ratio));
        channel = arith::AddIOp::create(
            b, c, arith::SelectOp::create(b, own, indexConst(b, headDim), indexConst(b, 0)));
      }
      Value scoreChannel = arith::AddIOp::create(b, channel, indexConst(b, width));
      return {memref::LoadOp::create(b, windows.state, ValueRange{block, row, channel}),
              memref::LoadOp::create(b, windows.state, ValueRange{block, row, scoreChannel})};
    };
    // m = maxNum of the present scores (a producing item has at least its own ratio rows).
    Value negativeInfinity = f32Const(b, APFloat::getInf(APFloat::IEEEsingle(), true));
    auto maxLoop = scf::ForOp::create(b, firstPresent, end, one, ValueRange{negativeInfinity});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(maxLoop.getBody());
      Value score = load(maxLoop.getInductionVar()).second;
      scf::YieldOp::create(
          b, ValueRange{arith::MaxNumFOp::create(b, maxLoop.getRegionIterArg(0), score)});
    }
    Value max = maxLoop.getResult(0);
    Value zero = f32Const(b, 0.0f);
    auto sumLoop = scf::ForOp::create(b, firstPresent, end, one, ValueRange{zero, zero});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(sumLoop.getBody());
      auto [kv, score] = load(sumLoop.getInductionVar());
      Value weight = math::ExpOp::create(b, arith::SubFOp::create(b, score, max));
      Value weighted = arith::AddFOp::create(b, sumLoop.getRegionIterArg(0),
                                             arith::MulFOp::create(b, kv, weight));
      Value total = arith::AddFOp::create(b, sumLoop.getRegionIterArg(1), weight);
      scf::YieldOp::create(b, ValueRange{weighted, total});
    }
    memref::StoreOp::create(b, arith::DivFOp::create(b, sumLoop.getResult(0), sumLoop.getResult(1)),
                            y, c);
  });
}
