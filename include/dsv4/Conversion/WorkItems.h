// How a work item's (row, position) is derived from the framework's handle (SPEC.md,
// "Position of a work item"), emitted as arith ops. Shared by the CPU loops and the GPU kernel
// so both lowerings implement the rule once.
#ifndef DSV4_CONVERSION_WORKITEMS_H
#define DSV4_CONVERSION_WORKITEMS_H

#include "dsv4/Dialect/Dsv4/IR/Dsv4.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::dsv4 {

/// A work item: `row` (i32) is -1 when the item is skipped; `position` (i32) is then 0.
struct WorkItem {
  Value row;
  Value position;
};

/// `ratio` must be in [1, INT32_MAX] (the ops' verifiers); neither rule wraps in i32.
/// Decode: item `index` (i32) names row `index` at floor((seqLen - 1) / ratio) * ratio; it is
/// skipped when seqLen <= 0 or the position is not below numPositions (i32).
WorkItem emitDecodeItem(ImplicitLocOpBuilder &b, Value index, Value seqLen, int64_t ratio,
                        Value numPositions);

/// Prefill: the plan row (planRow, planPosition) names row planRow at planPosition + 1 -
/// ratio; skipped when planRow < 0 or the position is outside [0, numPositions).
WorkItem emitPrefillItem(ImplicitLocOpBuilder &b, Value planRow, Value planPosition,
                         int64_t ratio, Value numPositions);

/// What one handle row says, whatever its kind (include/dsv4/ABI/Handle.def), as i32 values:
/// the decode rule's seqLen, or the prefill rule's (planRow, planPosition), and the out_loc
/// entry a store of the item writes.
struct HandleRow {
  Value seqLen;       // decode, sglang_decode; null otherwise
  Value planRow;      // prefill, sglang_extend; null otherwise
  Value planPosition; // prefill, sglang_extend; null otherwise
  Value outLocIndex;  // the item's index; sglang_extend: the row's ragged id
};

/// An i32 column of a handle row that a kind reads, and the value that stands for it when the
/// item has no row (past the handle): one its kind skips.
struct HandleColumn {
  unsigned column;
  int32_t missing;
};

/// The columns of a handle row `source` reads, in the order emitHandleRow takes them
/// (decode: its seq_lens entry, column 0 of a one-column row).
SmallVector<HandleColumn> handleColumnsRead(PositionSource source);

/// The row of item `index` (i32) from the `columns` handleColumnsRead names.
HandleRow emitHandleRow(ImplicitLocOpBuilder &b, PositionSource source, Value index,
                        ArrayRef<Value> columns);

/// The work item of handle row `row` of item `index`: emitDecodeItem or emitPrefillItem.
WorkItem emitHandleItem(ImplicitLocOpBuilder &b, const HandleRow &row, Value index,
                        int64_t ratio, Value numPositions);

/// True when the item's row is updated: skipped items (row -1) and rows past kv's `numRows`
/// are left untouched. `row` and `numRows` share one integer type (i32 in the kernel, index in
/// the CPU loops).
Value emitRowActive(ImplicitLocOpBuilder &b, Value row, Value numRows);

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_WORKITEMS_H
