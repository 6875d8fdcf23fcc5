// dsv4-attach-target: one chip option picks the vendor. An unsupported chip is refused when
// the pass manager initializes, before any pass lowers anything (dsv4-link-hsaco checks the
// linker the same way); a kernel whose workgroup memory the chip cannot give, or whose FP8
// type the chip does not convert to, is refused here, before serialization.
// The attribute itself is upstream's nvvm-attach-target / rocdl-attach-target, run nested.
#include "dsv4/Target/Manifest.h"
#include "dsv4/Target/Chips.h"
#include "dsv4/Target/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::dsv4 {
#define GEN_PASS_DEF_DSV4ATTACHTARGET
#include "dsv4/Target/Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;
using namespace mlir::dsv4;

namespace {
/// -O3 as upstream's ROCm pipelines use; the ISA tests check what it gives.
constexpr int kOptLevel = 3;
/// PTX 8.0 is the first ISA version with every sm_90 feature.
constexpr llvm::StringLiteral kPtxFeatures = "+ptx80";

struct Dsv4AttachTargetPass : dsv4::impl::Dsv4AttachTargetBase<Dsv4AttachTargetPass> {
  using Dsv4AttachTargetBase::Dsv4AttachTargetBase;

  /// Options are checked once, before the pipeline runs (no IR is printed with the error:
  /// there is no operation to blame, only an option).
  LogicalResult initialize(MLIRContext *context) override {
    target = lookupChip(chip);
    if (!target)
      return emitError(UnknownLoc::get(context), chipProblem(chip));
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    WalkResult result = module.walk([&](gpu::GPUFuncOp kernel) {
      int64_t bytes = workgroupMemoryBytes(kernel);
      if (bytes <= target->maxWorkgroupMemoryBytes)
        return WalkResult::advance();
      mlir::emitError(kernel.getLoc())
          << "kernel '" << kernel.getName() << "' needs " << bytes
          << " bytes of workgroup memory; " << target->name << " allows "
          << target->maxWorkgroupMemoryBytes << " (lower rows-per-workgroup)";
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted() || failed(checkFp8Types(module)))
      return signalPassFailure();
    OpPassManager pipeline(ModuleOp::getOperationName());
    pipeline.addPass(makeAttachPass());
    if (failed(runPipeline(pipeline, module)))
      signalPassFailure();
  }

private:
  /// Every FP8 conversion is to the chip's own FP8 type (SPEC.md: e4m3fnuz on gfx942,
  /// e4m3fn elsewhere); the error points at the conversion, which carries the store op's
  /// location.
  LogicalResult checkFp8Types(ModuleOp module) {
    WalkResult result = module.walk([&](arith::TruncFOp trunc) {
      Type type = getElementTypeOrSelf(trunc.getType());
      if (!isa<Float8E4M3FNType, Float8E4M3FNUZType>(type))
        return WalkResult::advance();
      if (isa<Float8E4M3FNUZType>(type) == target->fnuzFp8)
        return WalkResult::advance();
      mlir::emitError(trunc.getLoc())
          << "FP8 type " << type << " is not the FP8 type of chip '" << target->name
          << "', which converts to " << (target->fnuzFp8 ? "f8E4M3FNUZ" : "f8E4M3FN");
      return WalkResult::interrupt();
    });
    return failure(result.wasInterrupted());
  }

  /// Upstream's nvvm-attach-target or rocdl-attach-target for the chip's vendor.
  std::unique_ptr<Pass> makeAttachPass() {
    if (target->amd) {
      GpuROCDLAttachTargetOptions rocdl;
      rocdl.chip = chip;
      rocdl.optLevel = kOptLevel;
      return createGpuROCDLAttachTarget(rocdl);
    }
    GpuNVVMAttachTargetOptions nvvm;
    nvvm.chip = chip;
    nvvm.features = kPtxFeatures.str();
    nvvm.optLevel = kOptLevel;
    return createGpuNVVMAttachTarget(nvvm);
  }

  const Chip *target = nullptr;
};
} // namespace
