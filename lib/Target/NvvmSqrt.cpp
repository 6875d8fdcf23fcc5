// dsv4-nvvm-sqrt: libdevice's __nv_sqrtf, __nv_fabsf, __nv_fmaxf, __nv_fminf, __nv_rintf and
// __nv_expf become llvm.intr.sqrt, fabs, maxnum, minnum, roundeven and exp, so the PTX twin
// needs no libdevice (see Passes.td).
#include "dsv4/Target/Passes.h"

namespace mlir::dsv4 {
#define GEN_PASS_DEF_DSV4NVVMSQRT
#include "dsv4/Target/Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;

namespace {
constexpr StringLiteral kLibdeviceSqrt = "__nv_sqrtf";
constexpr StringLiteral kLibdeviceFabs = "__nv_fabsf";
constexpr StringLiteral kLibdeviceFmax = "__nv_fmaxf";
constexpr StringLiteral kLibdeviceFmin = "__nv_fminf";
constexpr StringLiteral kLibdeviceRint = "__nv_rintf";
constexpr StringLiteral kLibdeviceExp = "__nv_expf";

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
  // The compress step's softmax weights: NVPTX has no llvm.exp (it wants a libcall) but lowers
  // llvm.exp2 to ex2.approx, so exp(x) = exp2(x * log2(e)), as AMDGPU expands llvm.exp for
  // v_exp_f32 (about 2 ulp; the pooled rows are then quantized to FP8 or e2m1).
  if (call.getCallee() == kLibdeviceExp) {
    Value log2e = LLVM::ConstantOp::create(builder, call.getLoc(), builder.getF32Type(),
                                           builder.getF32FloatAttr(float(M_LOG2E)));
    Value scaled = LLVM::FMulOp::create(builder, call.getLoc(), operand, log2e);
    return LLVM::Exp2Op::create(builder, call.getLoc(), scaled);
  }
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
         {kLibdeviceSqrt, kLibdeviceFabs, kLibdeviceFmax, kLibdeviceFmin, kLibdeviceRint,
          kLibdeviceExp})
      if (auto declaration = module.lookupSymbol<LLVM::LLVMFuncOp>(callee))
        declaration.erase();
  }
};
} // namespace
