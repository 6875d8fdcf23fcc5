// The RMSNorm's one scalar step, 1 / sqrt(sum(x^2) / D + eps), emitted alike by the CPU
// reference (convert-dsv4-to-loops) and the kernel (convert-dsv4-to-gpu), so the two cannot
// compute it two ways.
#ifndef DSV4_CONVERSION_RMSNORM_H
#define DSV4_CONVERSION_RMSNORM_H

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::dsv4 {

/// 1 / sqrt(sumOfSquares / headDim + eps) in f32: sqrt and the divide rather than math.rsqrt,
/// which on the GPU becomes a device-library call (__ocml_rsqrt_f32, __nv_rsqrtf) that neither
/// back end links; both are correctly rounded, on the host as on the GPU.
Value emitInverseRms(ImplicitLocOpBuilder &b, Value sumOfSquares, int64_t headDim, APFloat eps);

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_RMSNORM_H
