// The RMSNorm's inverse root, shared by the CPU reference and the kernel (RmsNorm.h).
#include "dsv4/Conversion/RmsNorm.h"
#include "dsv4/Conversion/Constants.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;

Value dsv4::emitInverseRms(ImplicitLocOpBuilder &b, Value sumOfSquares, int64_t headDim,
                           APFloat eps) {
  Value mean = arith::DivFOp::create(b, sumOfSquares, f32Const(b, float(headDim)));
  Value root = math::SqrtOp::create(b, arith::AddFOp::create(b, mean, f32Const(b, eps)));
  return arith::DivFOp::create(b, f32Const(b, 1.0f), root);
}
