// The limit checks that the ops' verifiers and #dsv4.spec's share: each limit of
// include/dsv4/ABI/Limits.h is checked in one place and worded the same wherever it fails.
#ifndef DSV4_LIB_DIALECT_CHECKS_H
#define DSV4_LIB_DIALECT_CHECKS_H

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/APFloat.h"

#include <string>

namespace mlir::dsv4 {

using EmitError = function_ref<InFlightDiagnostic()>;

/// A static size, or `?` for a dynamic one.
std::string sizeString(int64_t size);

/// D: a power of two in [kMinHeadDim, kMaxHeadDim].
LogicalResult checkHeadDim(EmitError emitError, int64_t headDim);
/// R: even, in [2, D].
LogicalResult checkRopeDim(EmitError emitError, int64_t ropeDim, int64_t headDim);
LogicalResult checkEps(EmitError emitError, const llvm::APFloat &eps);
LogicalResult checkScale(EmitError emitError, const llvm::APFloat &scale);
/// seq_lens and plan positions are i32, so the kernels compute positions with an i32 ratio.
LogicalResult checkRatio(EmitError emitError, int64_t ratio);
/// A power of two (the slot splits by shift and mask) small enough that a page's bytes
/// cannot overflow.
LogicalResult checkPageSize(EmitError emitError, int64_t pageSize);
/// The state cache's rows per block: a power of two (a position splits into block and row by
/// shift and mask, as a cache slot does), bounded like a page.
LogicalResult checkStateBlockSize(EmitError emitError, int64_t blockSize);

} // namespace mlir::dsv4

#endif // DSV4_LIB_DIALECT_CHECKS_H
