// dsv4-attach-target: one chip option picks the vendor; unknown chips and a missing linker
// are diagnostics here, before serialization would fail less clearly. The attribute itself
// is upstream's nvvm-attach-target / rocdl-attach-target, run as a nested pipeline.
#include "dsv4/Target/Toolkit.h"
#include "dsv4/Transforms/Passes.h"

#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/FileSystem.h"

namespace mlir::dsv4 {
#define GEN_PASS_DEF_DSV4ATTACHTARGET
#include "Passes.h.inc"
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

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<std::unique_ptr<Pass>> attach = makeAttachPass(module);
    if (failed(attach))
      return signalPassFailure();
    OpPassManager pipeline(ModuleOp::getOperationName());
    pipeline.addPass(std::move(*attach));
    if (failed(runPipeline(pipeline, module)))
      signalPassFailure();
  }

  /// dsv4's checks of the chip and the linker, then upstream's nvvm-attach-target or
  /// rocdl-attach-target for the chip's vendor.
  FailureOr<std::unique_ptr<Pass>> makeAttachPass(ModuleOp module) {
    if (isKnownNvidiaChip(chip)) {
      GpuNVVMAttachTargetOptions nvvm;
      nvvm.chip = chip;
      nvvm.features = kPtxFeatures.str();
      nvvm.optLevel = kOptLevel;
      return createGpuNVVMAttachTarget(nvvm);
    }
    if (!isKnownAmdChip(chip))
      return module.emitError() << "unknown chip '" << chip
                                << "': dsv4 compiles for gfx942 and gfx950 (AMD) and sm_70 or "
                                   "newer (the NVIDIA twin, PTX)";
    std::string linker = linkerPath(resolveToolkit(toolkit));
    if (!llvm::sys::fs::can_execute(linker))
      return module.emitError() << "cannot find the AMDGPU linker: '" << linker
                                << "' is missing or not executable (install lld-22, or pass "
                                   "toolkit=<dir> / set DSV4_TOOLKIT to a folder holding "
                                   "llvm/bin/ld.lld)";
    GpuROCDLAttachTargetOptions rocdl;
    rocdl.chip = chip;
    rocdl.optLevel = kOptLevel;
    return createGpuROCDLAttachTarget(rocdl);
  }
};
} // namespace
