// The position rule of SPEC.md as arith ops (see include/dsv4/Conversion/WorkItems.h).
#include "dsv4/Conversion/WorkItems.h"
#include "dsv4/Conversion/Constants.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::dsv4;

namespace {
/// Prefill's position arithmetic runs in i64: `plan.position + 1 - ratio` wraps in i32 for a
/// very negative plan position (or a ratio near INT32_MAX) and would land inside the table.
Value toI64(ImplicitLocOpBuilder &b, Value i32Value) {
  return arith::ExtSIOp::create(b, b.getI64Type(), i32Value);
}

/// Marks the item skipped (row -1, position 0) unless `valid`. A valid position lies in
/// [0, numPositions), so it fits the i32 that callers index with.
WorkItem selectValid(ImplicitLocOpBuilder &b, Value valid, Value row, Value position64) {
  Value position = arith::TruncIOp::create(
      b, b.getI32Type(), arith::SelectOp::create(b, valid, position64, i64Const(b, 0)));
  return {arith::SelectOp::create(b, valid, row, i32Const(b, -1)), position};
}
} // namespace

WorkItem mlir::dsv4::emitDecodeItem(ImplicitLocOpBuilder &b, Value index, Value seqLen,
                                    int64_t ratio, Value numPositions) {
  // i32 suffices here: for seqLen >= 1 (the only case kept) 0 <= position <= seqLen - 1.
  Value ratioValue = i32Const(b, ratio);
  Value last = arith::SubIOp::create(b, seqLen, i32Const(b, 1));
  Value position = arith::MulIOp::create(
      b, arith::FloorDivSIOp::create(b, last, ratioValue), ratioValue);
  Value notPadding = arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, seqLen, i32Const(b, 0));
  Value inTable = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, position, numPositions);
  return selectValid(b, arith::AndIOp::create(b, notPadding, inTable), index,
                     toI64(b, position));
}

WorkItem mlir::dsv4::emitPrefillItem(ImplicitLocOpBuilder &b, Value planRow,
                                     Value planPosition, int64_t ratio, Value numPositions) {
  Value position =
      arith::AddIOp::create(b, toI64(b, planPosition), i64Const(b, 1 - ratio));
  Value rowValid = arith::CmpIOp::create(b, arith::CmpIPredicate::sge, planRow, i32Const(b, 0));
  Value aboveZero = arith::CmpIOp::create(b, arith::CmpIPredicate::sge, position, i64Const(b, 0));
  Value inTable = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, position,
                                        toI64(b, numPositions));
  Value valid = arith::AndIOp::create(b, rowValid, arith::AndIOp::create(b, aboveZero, inTable));
  return selectValid(b, valid, planRow, position);
}

Value mlir::dsv4::emitRowActive(ImplicitLocOpBuilder &b, Value row, Value numRows) {
  Value zero = arith::ConstantOp::create(b, b.getZeroAttr(row.getType()));
  return arith::AndIOp::create(b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, row, zero),
                               arith::CmpIOp::create(b, arith::CmpIPredicate::slt, row, numRows));
}
