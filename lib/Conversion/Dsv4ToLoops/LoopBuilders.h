// Small builders the CPU reference lowering shares between its files.
#ifndef DSV4_CONVERSION_DSV4TOLOOPS_LOOPBUILDERS_H
#define DSV4_CONVERSION_DSV4TOLOOPS_LOOPBUILDERS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::dsv4 {

inline Value indexConst(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIndexOp::create(b, value);
}

inline Value toF32(ImplicitLocOpBuilder &b, Value value) {
  return value.getType().isF32() ? value : arith::ExtFOp::create(b, b.getF32Type(), value);
}

/// Emits `for (i = 0; i < upper; ++i) body(i)`.
inline void forEach(ImplicitLocOpBuilder &b, Value upper, function_ref<void(Value)> body) {
  auto loop = scf::ForOp::create(b, indexConst(b, 0), upper, indexConst(b, 1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(loop.getBody()->getTerminator());
  body(loop.getInductionVar());
}

/// Emits `if (condition) body()`.
inline void ifThen(ImplicitLocOpBuilder &b, Value condition, function_ref<void()> body) {
  auto ifOp = scf::IfOp::create(b, condition, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  body();
}

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_DSV4TOLOOPS_LOOPBUILDERS_H
