// Scalar arith constants, shared by the lowerings that spell out their arithmetic (the position
// rule, the FP8 rounding and cache stores of the CPU reference and of the kernels).
#ifndef DSV4_CONVERSION_CONSTANTS_H
#define DSV4_CONVERSION_CONSTANTS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::dsv4 {

inline Value i32Const(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIntOp::create(b, b.getI32Type(), value);
}

inline Value i64Const(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIntOp::create(b, b.getI64Type(), value);
}

inline Value f32Const(ImplicitLocOpBuilder &b, APFloat value) {
  return arith::ConstantFloatOp::create(b, b.getF32Type(), value);
}

inline Value f32Const(ImplicitLocOpBuilder &b, float value) { return f32Const(b, APFloat(value)); }

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_CONSTANTS_H
