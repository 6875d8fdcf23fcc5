// The softmax pooling of the compress step (SPEC.md "The compress step in front") as scalar
// loops over a ranked state memref, on the rules of dsv4/Conversion/CompressWindow.h. Shared by
// dsv4.compress_pool and dsv4.fused_compress_store, so the chain and the fused op agree bit
// for bit.
#ifndef DSV4_CONVERSION_DSV4TOLOOPS_COMPRESSPOOL_H
#define DSV4_CONVERSION_DSV4TOLOOPS_COMPRESSPOOL_H

#include "dsv4/Conversion/CompressWindow.h"

namespace mlir::dsv4 {

/// The windows of `state` (memref<?xBSx2Wxf32>) through `blockTable` (memref<?x?xi32>).
StateWindows getStateWindows(ImplicitLocOpBuilder &b, Value state, Value blockTable,
                             int64_t ratio, int64_t coff, int64_t headDim);

/// y (memref<Dxf32>) <- the per-channel softmax-weighted sum of the window of a producing
/// item: `request` (i32) and `position` (i64) as in CompressItem.
void emitPoolRow(ImplicitLocOpBuilder &b, const StateWindows &windows, Value state, Value request,
                 Value position, Value y);

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_DSV4TOLOOPS_COMPRESSPOOL_H
