// The position rule of SPEC.md as arith ops (see include/dsv4/Conversion/WorkItems.h).
#include "dsv4/Conversion/WorkItems.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::dsv4;

namespace {
Value i32Const(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIntOp::create(b, b.getI32Type(), value);
}

/// Marks the item skipped (row -1, position 0) unless `valid`.
WorkItem selectValid(ImplicitLocOpBuilder &b, Value valid, Value row, Value position) {
  return {arith::SelectOp::create(b, valid, row, i32Const(b, -1)),
          arith::SelectOp::create(b, valid, position, i32Const(b, 0))};
}
} // namespace

WorkItem mlir::dsv4::emitDecodeItem(ImplicitLocOpBuilder &b, Value index, Value seqLen,
                                    int64_t ratio, Value numPositions) {
  Value ratioValue = i32Const(b, ratio);
  Value last = arith::SubIOp::create(b, seqLen, i32Const(b, 1));
  Value position = arith::MulIOp::create(
      b, arith::FloorDivSIOp::create(b, last, ratioValue), ratioValue);
  // seqLen >= 1 makes the position non-negative, so only the upper bound needs a check.
  Value notPadding = arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, seqLen, i32Const(b, 0));
  Value inTable = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, position, numPositions);
  return selectValid(b, arith::AndIOp::create(b, notPadding, inTable), index, position);
}

WorkItem mlir::dsv4::emitPrefillItem(ImplicitLocOpBuilder &b, Value planRow,
                                     Value planPosition, int64_t ratio, Value numPositions) {
  Value position = arith::AddIOp::create(b, planPosition, i32Const(b, 1 - ratio));
  Value zero = i32Const(b, 0);
  Value rowValid = arith::CmpIOp::create(b, arith::CmpIPredicate::sge, planRow, zero);
  Value aboveZero = arith::CmpIOp::create(b, arith::CmpIPredicate::sge, position, zero);
  Value inTable = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, position, numPositions);
  Value valid = arith::AndIOp::create(b, rowValid, arith::AndIOp::create(b, aboveZero, inTable));
  return selectValid(b, valid, planRow, position);
}

Value mlir::dsv4::emitRowActive(ImplicitLocOpBuilder &b, Value row, Value numRows) {
  Value zero = arith::ConstantOp::create(b, b.getZeroAttr(row.getType()));
  return arith::AndIOp::create(b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, row, zero),
                               arith::CmpIOp::create(b, arith::CmpIPredicate::slt, row, numRows));
}
