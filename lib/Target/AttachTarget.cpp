// dsv4-attach-target: one chip option picks the vendor; unknown chips and a missing linker
// are diagnostics here, before serialization would fail less clearly.
#include "dsv4/Target/Toolkit.h"
#include "dsv4/Transforms/Passes.h"

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
    FailureOr<Attribute> target = makeTarget(module);
    if (failed(target))
      return signalPassFailure();
    module.walk([&](gpu::GPUModuleOp gpuModule) {
      gpuModule.setTargetsAttr(ArrayAttr::get(&getContext(), {*target}));
    });
  }

  FailureOr<Attribute> makeTarget(ModuleOp module) {
    MLIRContext *context = &getContext();
    if (isKnownNvidiaChip(chip))
      return Attribute(NVVM::NVVMTargetAttr::get(context, kOptLevel, "nvptx64-nvidia-cuda",
                                                 chip, kPtxFeatures));
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
    return Attribute(ROCDL::ROCDLTargetAttr::get(context, kOptLevel, "amdgcn-amd-amdhsa", chip));
  }
};
} // namespace
