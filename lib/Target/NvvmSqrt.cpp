// dsv4-nvvm-sqrt: libdevice's __nv_sqrtf, __nv_fabsf, __nv_fmaxf, __nv_fminf and __nv_rintf
// become llvm.intr.sqrt, fabs, maxnum, minnum and roundeven, so the PTX twin needs no libdevice
// (see Passes.td).
#include "dsv4/Transforms/Passes.h"

namespace mlir::dsv4 {
#define GEN_PASS_DEF_DSV4NVVMSQRT
#include "Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;

namespace {
constexpr StringLiteral kLibdeviceSqrt = "__nv_sqrtf";
constexpr StringLiteral kLibdeviceFabs = "__nv_fabsf";
constexpr StringLiteral kLibdeviceFmax = "__nv_fmaxf";
constexpr StringLiteral kLibdeviceFmin = "__nv_fminf";
constexpr StringLiteral kLibdeviceRint = "__nv_rintf";

/// The exact intrinsic for a libdevice call, or null for another callee.
Value replacementOf(OpBuilder &builder, LLVM::CallOp call) {
  Value operand = call.getArgOperands()[0];
  if (call.getCallee() == kLibdeviceSqrt)
    return LLVM::SqrtOp::create(builder, call.getLoc(), operand);
  if (call.getCallee() == kLibdeviceFabs)
    return LLVM::FAbsOp::create(builder, call.getLoc(), operand);
  // fmaxf is IEEE maxNum, as llvm.maxnum: a NaN operand yields the other one.
  if (call.getCallee() == kLibdeviceFmax)
    return LLVM::MaxNumOp::create(builder, call.getLoc(), operand, call.getArgOperands()[1]);
  if (call.getCallee() == kLibdeviceFmin)
    return LLVM::MinNumOp::create(builder, call.getLoc(), operand, call.getArgOperands()[1]);
  // rintf rounds in the default mode, to nearest even (the e2m1 and FP8 written-out rounding).
  if (call.getCallee() == kLibdeviceRint)
    return LLVM::RoundEvenOp::create(builder, call.getLoc(), operand);
  return Value();
}

struct Dsv4NvvmSqrtPass : dsv4::impl::Dsv4NvvmSqrtBase<Dsv4NvvmSqrtPass> {
  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    module.walk([&](LLVM::CallOp call) {
      OpBuilder builder(call);
      Value replacement = replacementOf(builder, call);
      if (!replacement)
        return;
      call.replaceAllUsesWith(ValueRange{replacement});
      call.erase();
    });
    for (StringLiteral callee :
         {kLibdeviceSqrt, kLibdeviceFabs, kLibdeviceFmax, kLibdeviceFmin, kLibdeviceRint})
      if (auto declaration = module.lookupSymbol<LLVM::LLVMFuncOp>(callee))
        declaration.erase();
  }
};
} // namespace
