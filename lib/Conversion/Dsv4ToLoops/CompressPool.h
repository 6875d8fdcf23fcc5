// The compress step in front of the epilogue (SPEC.md "The compress step in front") as scalar
// loops: which items produce a row, and the softmax pooling of an item's window. Shared by
// dsv4.compress_pool and dsv4.fused_compress_store, so the chain and the fused op agree bit
// for bit.
#ifndef DSV4_CONVERSION_DSV4TOLOOPS_COMPRESSPOOL_H
#define DSV4_CONVERSION_DSV4TOLOOPS_COMPRESSPOOL_H

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::dsv4 {

/// The paged state cache and how its windows are shaped: `state` (memref<?xBSx2Wxf32>) and
/// `blockTable` (memref<?x?xi32>), W = coff * headDim floats of kv then of score per row.
struct StateWindows {
  Value state;
  Value blockTable;
  int64_t ratio;
  int64_t coff;
  int64_t headDim;
  int64_t blockSize;

  /// n, the positions of one window.
  int64_t windowSize() const { return coff * ratio; }
};

/// An item of the compress step: request `request` (i32, token_req[t]) at position
/// `position` (i64). `produces` (i1) is true when it is a window's last token, 0 <= p <
/// INT32_MAX and t <= INT32_MAX (a plan row holds t, p and p + 1 as i32), its request is a row of
/// the block table and every present window position has a block there that is a block of the
/// state: nothing outside the buffers is ever read. `windowLen` (i32) counts the window's
/// present positions.
struct CompressItem {
  Value request;
  Value position;
  Value produces;
  Value windowLen;
};
CompressItem emitCompressItem(ImplicitLocOpBuilder &b, const StateWindows &windows, Value request,
                              Value position, Value t);

/// y (memref<Dxf32>) <- the per-channel softmax-weighted sum of the window of a producing
/// item: `request` (i32) and `position` (i64) as in CompressItem.
void emitPoolRow(ImplicitLocOpBuilder &b, const StateWindows &windows, Value request,
                 Value position, Value y);

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_DSV4TOLOOPS_COMPRESSPOOL_H
