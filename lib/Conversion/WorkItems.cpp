// The position rule of SPEC.md as arith ops (see include/dsv4/Conversion/WorkItems.h).
#include "dsv4/Conversion/WorkItems.h"
#include "dsv4/ABI/KernelABI.h"
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
  // There seqLen - 1 >= 0, so SPEC.md's floor division is the unsigned one: a mask for a
  // power-of-two ratio (4 and 128 in DeepSeek-V4) where the signed floor took a dozen
  // instructions on the way from seq_len to the freqs row. A padding row's wrapped value
  // is discarded below.
  Value ratioValue = i32Const(b, ratio);
  Value last = arith::SubIOp::create(b, seqLen, i32Const(b, 1));
  Value position = arith::MulIOp::create(
      b, arith::DivUIOp::create(b, last, ratioValue), ratioValue);
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

SmallVector<HandleColumn> mlir::dsv4::handleColumnsRead(PositionSource source) {
  switch (source) {
  case PositionSource::prefill:
    return {{kPlanRowField, -1}, {kPlanPositionField, 0}};
  case PositionSource::sglang_decode:
    return {{kSglangDecodeSeqLenField, 0},
            {kSglangDecodeWriteLocField, 0},
            {kSglangDecodeReadPage0Field, 0}};
  case PositionSource::sglang_extend:
    return {{kSglangExtendSeqLenField, -1}, {kSglangExtendRaggedIdBufferLenField, 0}};
  default:
    return {{0, 0}};
  }
}

HandleRow mlir::dsv4::emitHandleRow(ImplicitLocOpBuilder &b, PositionSource source, Value index,
                                    ArrayRef<Value> columns) {
  auto negative = [&](Value v) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::slt, v, i32Const(b, 0));
  };
  switch (source) {
  case PositionSource::prefill:
    return {Value(), columns[0], columns[1], index};
  case PositionSource::sglang_decode: {
    // sglang skips a row whose state it planned no location for; seq_len 0 is skipped too.
    Value unplanned = arith::OrIOp::create(b, negative(columns[1]), negative(columns[2]));
    return {arith::SelectOp::create(b, unplanned, i32Const(b, 0), columns[0]), Value(), Value(),
            index};
  }
  case PositionSource::sglang_extend: {
    // seq_len is a u32: 0xFFFFFFFF (invalid) and every value past INT32_MAX read negative.
    // position seq_len - ratio is the prefill rule's (seq_len - 1) + 1 - ratio.
    Value row = arith::SelectOp::create(b, negative(columns[0]), i32Const(b, -1), index);
    Value last = arith::SubIOp::create(b, columns[0], i32Const(b, 1));
    Value raggedId = arith::AndIOp::create(b, columns[1], i32Const(b, 0xFFFF));
    return {Value(), row, last, raggedId};
  }
  default:
    return {columns[0], Value(), Value(), index};
  }
}

WorkItem mlir::dsv4::emitHandleItem(ImplicitLocOpBuilder &b, const HandleRow &row, Value index,
                                    int64_t ratio, Value numPositions) {
  if (row.seqLen)
    return emitDecodeItem(b, index, row.seqLen, ratio, numPositions);
  return emitPrefillItem(b, row.planRow, row.planPosition, ratio, numPositions);
}

Value mlir::dsv4::emitRowActive(ImplicitLocOpBuilder &b, Value row, Value numRows) {
  Value zero = arith::ConstantOp::create(b, b.getZeroAttr(row.getType()));
  return arith::AndIOp::create(b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, row, zero),
                               arith::CmpIOp::create(b, arith::CmpIPredicate::slt, row, numRows));
}
