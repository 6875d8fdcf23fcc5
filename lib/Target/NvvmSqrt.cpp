// dsv4-nvvm-sqrt: libdevice's __nv_sqrtf becomes llvm.intr.sqrt, so the PTX twin needs no
// libdevice (see Passes.td).
#include "dsv4/Transforms/Passes.h"

namespace mlir::dsv4 {
#define GEN_PASS_DEF_DSV4NVVMSQRT
#include "Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;

namespace {
constexpr StringLiteral kLibdeviceSqrt = "__nv_sqrtf";

struct Dsv4NvvmSqrtPass : dsv4::impl::Dsv4NvvmSqrtBase<Dsv4NvvmSqrtPass> {
  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    module.walk([&](LLVM::CallOp call) {
      if (call.getCallee() != kLibdeviceSqrt)
        return;
      OpBuilder builder(call);
      Value root = LLVM::SqrtOp::create(builder, call.getLoc(), call.getArgOperands()[0]);
      call.replaceAllUsesWith(ValueRange{root});
      call.erase();
    });
    if (auto declaration = module.lookupSymbol<LLVM::LLVMFuncOp>(kLibdeviceSqrt))
      declaration.erase();
  }
};
} // namespace
