// The compress step in front of the epilogue (SPEC.md "The compress step in front"), the parts
// the CPU loops and the GPU kernel share: which items produce a row, where each window row
// lives in the paged state cache, and the per-channel softmax pooling, emitted as arith ops.
// Both lowerings implement each rule once, and pool in the same order (window rows 0..n-1).
#ifndef DSV4_CONVERSION_COMPRESSWINDOW_H
#define DSV4_CONVERSION_COMPRESSWINDOW_H

#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <functional>

namespace mlir::dsv4 {

/// The block table of the paged state cache and the windows' shape. W = coff * headDim floats
/// of kv then of score per state row; `blockSize` rows per block.
struct StateWindows {
  int64_t ratio;
  int64_t coff;
  int64_t headDim;
  int64_t blockSize;
  /// Sizes (index): blocks of the state, rows (requests) and columns of the block table.
  Value numBlocks;
  Value numRequests;
  Value maxBlocks;
  /// Emits the block id (i32) at (request, column) of the block table (index values inside
  /// it): a ranked memref on the CPU, a flat buffer with a row stride in the kernel.
  std::function<Value(ImplicitLocOpBuilder &, Value, Value)> loadBlockId;

  /// n, the positions of one window.
  int64_t windowSize() const { return coff * ratio; }
  /// The float of a state row where window row `i` reads channel 0 of its kv: under overlap
  /// the window's last `ratio` rows read the row's second half (SPEC.md).
  int64_t kvOffset(int64_t i) const { return coff == 2 && i >= ratio ? headDim : 0; }
  /// The float where the score of the same channel starts: W further.
  int64_t scoreOffset(int64_t i) const { return kvOffset(i) + coff * headDim; }
};

/// An item of the compress step: request `request` (i32, token_req[t]) at position
/// `position` (i64). `produces` (i1) is true when it is a window's last token, 0 <= p <
/// INT32_MAX and t <= INT32_MAX (a plan row holds t, p and p + 1 as i32), its request is a row
/// of the block table and every present window position has a block there that is a block of
/// the state: nothing outside the buffers is ever read. `windowLen` (i32) counts the window's
/// present positions.
struct CompressItem {
  Value request;
  Value position;
  Value produces;
  Value windowLen;
};
CompressItem emitCompressItem(ImplicitLocOpBuilder &b, const StateWindows &windows, Value request,
                              Value position, Value t);

/// The first window row at a position >= 0, max(0, n - 1 - p) (i64, for p >= 0): the rows
/// before it are absent.
Value emitFirstPresent(ImplicitLocOpBuilder &b, const StateWindows &windows, Value position);

/// The block-table columns (index) of an item's first present window position and of its
/// last one, `position` (i64, >= 0): every present window row lies between them.
std::pair<Value, Value> emitWindowColumns(ImplicitLocOpBuilder &b, const StateWindows &windows,
                                          Value position);

/// At most this many columns of a window (n rows, blocks of `blockSize`): ceil((n - 1) /
/// blockSize) + 1.
inline int64_t maxWindowColumns(const StateWindows &windows) {
  return (windows.windowSize() - 1 + windows.blockSize - 1) / windows.blockSize + 1;
}

/// Where window row `i` (i64) of an item at `position` (i64) lives: the block id (i32) and the
/// row inside the block (index). A row before the first present one is absent; it is read at
/// the item's own position instead (present in every producing item), so that a kernel may
/// load every row of the window unconditionally and drop the absent ones.
struct WindowRow {
  Value present;
  Value block;
  Value rowInBlock;
};
WindowRow emitWindowRow(ImplicitLocOpBuilder &b, const StateWindows &windows, Value request,
                        Value position, Value i);

/// The per-channel softmax of a window in one pass: the running maximum score (f32, maxNum),
/// the sum of kv * exp(score - max) and of exp(score - max). Each step rescales what is summed
/// when the maximum grows; -inf scores weigh 0 exactly as in the two-pass formula, and a
/// channel whose present scores are all -inf, or hold +inf or NaN, ends NaN as the formula does.
struct PoolSums {
  Value max;
  Value weighted;
  Value total;
};
PoolSums emitPoolStart(ImplicitLocOpBuilder &b);
/// Adds window row (kv, score) where `present` (i1, or null: always) holds.
PoolSums emitPoolStep(ImplicitLocOpBuilder &b, const PoolSums &sums, Value kv, Value score,
                      Value present);
/// The sums of two parts of one window, as if pooled in one pass (a part whose maximum is
/// below the other's is rescaled by exp of the difference; an equal maximum keeps it).
PoolSums emitPoolMerge(ImplicitLocOpBuilder &b, const PoolSums &lhs, const PoolSums &rhs);
/// The pooled channel: weighted / total.
Value emitPoolResult(ImplicitLocOpBuilder &b, const PoolSums &sums);

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_COMPRESSWINDOW_H
