// Named pipelines of dsv4-opt: `dsv4-cpu-reference` (JIT-runnable host code) and
// `dsv4-compile` (dsv4 ops to a code object file and its manifest).
#include "dsv4/Pipelines/Pipelines.h"
#include "dsv4/Conversion/Passes.h"
#include "dsv4/Dialect/Dsv4/Transforms/Passes.h"
#include "dsv4/Target/Chips.h"
#include "dsv4/Target/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
struct CompileOptions : PassPipelineOptions<CompileOptions> {
  // Neither has a default: a wrong chip's object loads nowhere, and a default folder would be
  // inside whatever tree the compiler runs in (the source tree's out/ is the kernel library).
  Option<std::string> chip{*this, "chip", llvm::cl::desc("gfx942 | gfx950 | sm_90 (required)")};
  Option<std::string> outputDir{
      *this, "output-dir",
      llvm::cl::desc("Folder for code objects and manifests (required unless write=false)")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("bin (HSACO; the AMD default) or isa (assembly; the only PTX form)"),
      llvm::cl::init("")};
  Option<std::string> toolkit{*this, "toolkit",
                              llvm::cl::desc("Folder holding llvm/bin/ld.lld"),
                              llvm::cl::init("")};
  Option<unsigned> linkTimeout{*this, "link-timeout",
                               llvm::cl::desc("Seconds the AMDGPU linker may run"),
                               llvm::cl::init(60)};
  Option<int64_t> lanesPerRow{*this, "lanes-per-row", llvm::cl::desc("See dsv4-plan-kernels"),
                              llvm::cl::init(0)};
  Option<int64_t> rowsPerWorkgroup{*this, "rows-per-workgroup",
                                   llvm::cl::desc("See dsv4-plan-kernels"), llvm::cl::init(0)};
  Option<std::string> schedule{*this, "schedule",
                               llvm::cl::desc("grouped | per-stage | shuffle (see "
                                              "dsv4-plan-kernels)"),
                               llvm::cl::init("")};
  Option<bool> write{*this, "write", llvm::cl::desc("Write the objects to output-dir"),
                     llvm::cl::init(true)};
};

bool isAmdChip(StringRef chip) {
  const dsv4::Chip *known = dsv4::lookupChip(chip);
  return known && known->amd;
}

/// The gpu-module-to-binary format for `options`: HSACO (`bin`) or assembly (`isa`) on AMD,
/// PTX (`isa`) on NVIDIA (a cubin would need the CUDA toolkit's ptxas). Anything else would
/// write a file no loader takes, e.g. LLVM bitcode under a .hsaco name.
FailureOr<std::string> binaryFormat(const CompileOptions &options,
                                    function_ref<LogicalResult(const Twine &)> errorHandler) {
  bool amd = isAmdChip(options.chip);
  if (options.format.empty())
    return std::string(amd ? "bin" : "isa");
  if (options.format == "isa" || (amd && options.format == "bin"))
    return std::string(options.format);
  (void)errorHandler("dsv4-compile: unsupported format '" + options.format + "' for chip '" +
                     options.chip + "': expected " + (amd ? "bin or isa" : "isa"));
  return failure();
}

/// convert-gpu-to-nvvm has no pattern for gpu.subgroup_size in LLVM 22 (ROCDL has); an NVIDIA
/// warp is 32 lanes. A step of the NVIDIA back end only, like dsv4-nvvm-sqrt, so the kernel
/// itself stays vendor-neutral; not a registered pass, since nothing else should run it.
struct NvvmWarpSize : PassWrapper<NvvmWarpSize, OperationPass<gpu::GPUModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(NvvmWarpSize)
  static constexpr int64_t kWarpSize = 32;

  void runOnOperation() override {
    getOperation().walk([](gpu::SubgroupSizeOp op) {
      OpBuilder b(op);
      op.getResult().replaceAllUsesWith(arith::ConstantIndexOp::create(b, op.getLoc(), kWarpSize));
      op.erase();
    });
  }
};

/// Fused dsv4 ops -> planned -> one gpu.func per kernel -> ROCDL or NVVM -> code object files.
LogicalResult buildCompilePipeline(OpPassManager &pm, const CompileOptions &options,
                                   function_ref<LogicalResult(const Twine &)> errorHandler) {
  if (std::string problem = dsv4::chipProblem(options.chip); !problem.empty())
    return errorHandler(problem);
  FailureOr<std::string> format = binaryFormat(options, errorHandler);
  if (failed(format))
    return failure();
  pm.addPass(dsv4::createDsv4Fuse());
  dsv4::Dsv4PlanKernelsOptions plan;
  plan.lanesPerRow = options.lanesPerRow;
  plan.rowsPerWorkgroup = options.rowsPerWorkgroup;
  plan.schedule = options.schedule;
  pm.addPass(dsv4::createDsv4PlanKernels(plan));
  pm.addPass(dsv4::createConvertDsv4ToGPU());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(dsv4::createDsv4AttachTarget({options.chip}));
  // The manifest goes into the code object itself, so the runtime reads it from there.
  pm.addPass(dsv4::createDsv4EmbedManifest());
  OpPassManager &device = pm.nest<gpu::GPUModuleOp>();
  device.addPass(createSCFToControlFlowPass());
  // e2m1 conversions (the MXFP4 indexer cache): gfx950's instruction, or written out.
  device.addPass(dsv4::createDsv4LowerE2m1({options.chip}));
  // Bare pointers: a buffer is one kernel argument, the ABI the runtime packs.
  if (isAmdChip(options.chip)) {
    // FP8 truncations to v_cvt_pk_fp8_f32, clamped to +-FP8_MAX first (SPEC.md saturates).
    ArithToAMDGPUConversionPassOptions fp8;
    fp8.chipset = options.chip;
    fp8.saturateFP8Truncf = true;
    device.addPass(createArithToAMDGPUConversionPass(fp8));
    ConvertGpuOpsToROCDLOpsOptions rocdl;
    rocdl.chipset = options.chip;
    rocdl.useBarePtrCallConv = true;
    device.addPass(createConvertGpuOpsToROCDLOps(rocdl));
  } else {
    ConvertGpuOpsToNVVMOpsOptions nvvm;
    nvvm.useBarePtrCallConv = true;
    device.addPass(std::make_unique<NvvmWarpSize>());
    device.addPass(dsv4::createDsv4NvvmFp8());
    device.addPass(createConvertGpuOpsToNVVMOps(nvvm));
    device.addPass(dsv4::createDsv4NvvmSqrt());
  }
  pm.addPass(createReconcileUnrealizedCastsPass());
  // An HSACO is linked by dsv4-link-hsaco, which bounds the linker's time; upstream's own
  // link step (format=bin) would wait for it forever.
  bool link = *format == "bin";
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = link ? "isa" : *format;
  pm.addPass(createGpuModuleToBinaryPass(binary));
  if (link)
    pm.addPass(dsv4::createDsv4LinkHsaco({options.toolkit, options.linkTimeout}));
  if (options.write)
    pm.addPass(dsv4::createDsv4WriteCodeObjects({options.outputDir}));
  return success();
}

/// The memref type among `types` whose memory space the host lowering cannot map (anything
/// but none or an integer, such as #gpu.address_space<global>), or null.
Type findDeviceMemRef(TypeRange types) {
  for (Type type : types) {
    Attribute space;
    if (auto memref = dyn_cast<MemRefType>(type))
      space = memref.getMemorySpace();
    else if (auto unranked = dyn_cast<UnrankedMemRefType>(type))
      space = unranked.getMemorySpace();
    if (space && !isa<IntegerAttr>(space))
      return type;
  }
  return {};
}

/// dsv4-cpu-reference lowers host code: GPU code still in the module (a gpu.module, or a memref
/// in a GPU address space, which convert-to-llvm's type conversion fails on and then crashes)
/// is refused at its op, with the pass that makes it host code. Not a registered pass: a step
/// of this pipeline only, like NvvmWarpSize of the compile pipeline.
struct RefuseDeviceCode : PassWrapper<RefuseDeviceCode, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(RefuseDeviceCode)

  void runOnOperation() override {
    constexpr llvm::StringLiteral advice =
        ": dsv4-cpu-reference lowers host code only (run convert-gpu-to-host first)";
    // Outermost first: a gpu.module is named, not the first op inside it.
    WalkResult result = getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
      // The location alone: the op itself may be a whole gpu.module.
      if (isa<gpu::GPUDialect>(op->getDialect())) {
        emitError(op->getLoc()) << "'" << op->getName() << "' is GPU code" << advice;
        return WalkResult::interrupt();
      }
      SmallVector<Type> types(op->getResultTypes());
      for (Region &region : op->getRegions())
        for (Block &block : region)
          llvm::append_range(types, block.getArgumentTypes());
      if (auto function = dyn_cast<FunctionOpInterface>(op)) {
        llvm::append_range(types, function.getArgumentTypes());
        llvm::append_range(types, function.getResultTypes());
      }
      if (Type memref = findDeviceMemRef(types)) {
        emitError(op->getLoc()) << "'" << op->getName() << "' has " << memref
                                << ", whose memory space has no host lowering" << advice;
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

/// dsv4 ops on tensors -> LLVM dialect for mlir-runner, without fusing (tests run both).
void buildCpuReferencePipeline(OpPassManager &pm) {
  pm.addPass(std::make_unique<RefuseDeviceCode>());
  pm.addPass(dsv4::createConvertDsv4ToLoops());
  // Folds each op's to_buffer of the previous op's to_tensor: the caller of a chain of N ops
  // then holds no tensor between them, and one-shot-bufferize's analysis, superlinear in
  // them, has nothing left to do there (2,000 hadamard ops: 0.7 s without, 0.01 s with).
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createConvertElementwiseToLinalgPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}
} // namespace

void dsv4::registerDsv4Pipelines() {
  PassPipelineRegistration<>(
      "dsv4-cpu-reference",
      "Lower dsv4 ops (fused or not) to LLVM-dialect host code that mlir-runner executes",
      buildCpuReferencePipeline);
  // Registered without PassPipelineRegistration: its builder cannot refuse options, and a
  // bad option must fail before any pass runs.
  registerPassPipeline(
      "dsv4-compile",
      "Compile dsv4 ops (fused or not) to one kernel per function: an HSACO for gfx942/gfx950 "
      "or PTX for sm_90, written to output-dir with a JSON manifest",
      [](OpPassManager &pm, StringRef optionsString,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        CompileOptions options;
        if (failed(options.parseFromString(optionsString)))
          return failure();
        return buildCompilePipeline(pm, options, errorHandler);
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> optionsHandler) {
        optionsHandler(CompileOptions());
      });
}
