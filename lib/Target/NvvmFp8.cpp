// dsv4-nvvm-fp8: FP8 truncations become the sm_89+ paired conversion (see Passes.td).
#include "dsv4/Target/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::dsv4 {
#define GEN_PASS_DEF_DSV4NVVMFP8
#include "dsv4/Target/Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;

namespace {
/// The FP8 bytes of `values` (f32), two per conversion, in order.
SmallVector<Value> convertPairs(ImplicitLocOpBuilder &b, ArrayRef<Value> values, Type fp8) {
  auto pair = VectorType::get({2}, b.getI8Type());
  SmallVector<Value> bytes;
  for (size_t i = 0; i < values.size(); i += 2) {
    Value low = values[i];
    Value high = i + 1 < values.size()
                     ? values[i + 1]
                     : arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(0.0f));
    // The vector result's element 0 comes from operand `b` (the i16's low byte).
    Value converted = NVVM::ConvertF32x2ToF8x2Op::create(
        b, pair, high, low, NVVM::FPRoundingMode::RN, NVVM::SaturationMode::SATFINITE,
        /*relu=*/false, fp8);
    for (int64_t e = 0; e < 2 && i + e < values.size(); ++e)
      bytes.push_back(vector::ExtractOp::create(b, converted, e));
  }
  return bytes;
}

struct Dsv4NvvmFp8Pass : dsv4::impl::Dsv4NvvmFp8Base<Dsv4NvvmFp8Pass> {
  void runOnOperation() override {
    SmallVector<arith::TruncFOp> truncs;
    getOperation().walk([&](arith::TruncFOp trunc) {
      if (getElementTypeOrSelf(trunc.getType()).getIntOrFloatBitWidth() == 8)
        truncs.push_back(trunc);
    });
    for (arith::TruncFOp trunc : truncs)
      if (failed(lower(trunc)))
        return signalPassFailure();
  }

  LogicalResult lower(arith::TruncFOp trunc) {
    Type fp8 = getElementTypeOrSelf(trunc.getType());
    if (!isa<Float8E4M3FNType>(fp8) || !getElementTypeOrSelf(trunc.getIn()).isF32())
      return trunc.emitError() << "NVIDIA converts f32 to f8E4M3FN only, not "
                               << getElementTypeOrSelf(trunc.getIn()) << " to " << fp8;
    ImplicitLocOpBuilder b(trunc.getLoc(), trunc);
    auto vectorType = dyn_cast<VectorType>(trunc.getType());
    if (vectorType && vectorType.getRank() != 1)
      return trunc.emitError("only scalar and 1-D FP8 truncations are lowered");
    SmallVector<Value> values;
    if (vectorType)
      for (int64_t e = 0; e < vectorType.getNumElements(); ++e)
        values.push_back(vector::ExtractOp::create(b, trunc.getIn(), e));
    else
      values.push_back(trunc.getIn());
    SmallVector<Value> bytes = convertPairs(b, values, fp8);
    Value result =
        vectorType ? Value(vector::FromElementsOp::create(
                         b, VectorType::get(vectorType.getShape(), b.getI8Type()), bytes))
                   : bytes.front();
    trunc.replaceAllUsesWith(arith::BitcastOp::create(b, trunc.getType(), result).getResult());
    trunc.erase();
    return success();
  }
};
} // namespace
