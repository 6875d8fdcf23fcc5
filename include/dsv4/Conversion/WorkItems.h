// How a work item's (row, position) is derived from the framework's handle (SPEC.md,
// "Position of a work item"), emitted as arith ops. Shared by the CPU loops and the GPU kernel
// so both lowerings implement the rule once.
#ifndef DSV4_CONVERSION_WORKITEMS_H
#define DSV4_CONVERSION_WORKITEMS_H

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::dsv4 {

/// A work item: `row` (i32) is -1 when the item is skipped; `position` (i32) is then 0.
struct WorkItem {
  Value row;
  Value position;
};

/// Decode: item `index` (i32) names row `index` at floor((seqLen - 1) / ratio) * ratio; it is
/// skipped when seqLen <= 0 or the position is not below numPositions (i32).
WorkItem emitDecodeItem(ImplicitLocOpBuilder &b, Value index, Value seqLen, int64_t ratio,
                        Value numPositions);

/// Prefill: the plan row (planRow, planPosition) names row planRow at planPosition + 1 -
/// ratio; skipped when planRow < 0 or the position is outside [0, numPositions).
WorkItem emitPrefillItem(ImplicitLocOpBuilder &b, Value planRow, Value planPosition,
                         int64_t ratio, Value numPositions);

/// True when the item's row is updated: skipped items (row -1) and rows past kv's `numRows`
/// are left untouched. `row` and `numRows` share one integer type (i32 in the kernel, index in
/// the CPU loops).
Value emitRowActive(ImplicitLocOpBuilder &b, Value row, Value numRows);

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_WORKITEMS_H
