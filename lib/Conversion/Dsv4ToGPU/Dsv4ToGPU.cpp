// convert-dsv4-to-gpu: a function holding one dsv4.fused_epilogue or dsv4.fused_store becomes
// one gpu.func in a gpu.module of its own, as the op's plan (dsv4-plan-kernels) says. This file
// builds the kernel's signature and records what the manifest needs; KernelEmitter.cpp fills
// in the body.
#include "KernelEmitter.h"
#include "dsv4/ABI/KernelABI.h"
#include "dsv4/Conversion/Passes.h"
#include "dsv4/Target/Chips.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

namespace mlir::dsv4 {
#define GEN_PASS_DEF_CONVERTDSV4TOGPU
#include "dsv4/Conversion/Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;
using namespace mlir::dsv4;

namespace {
/// The bare-pointer calling convention (one pointer per buffer, docs/ABI.md) needs static
/// shapes, so buffers are typed by an i32-indexable bound; the runtime checks real extents.
constexpr int64_t kBufferBound = std::numeric_limits<int32_t>::max();
/// Caches exceed 2 GiB: the cache is indexed by 64-bit byte offsets (cache_bytes is i64).
constexpr int64_t kCacheBound = std::numeric_limits<int64_t>::max();
/// ROCDL's occupancy attribute on a kernel, spelled here so that this vendor-neutral pass
/// does not pull in the ROCDL dialect.
constexpr llvm::StringLiteral kWavesPerEuAttrName = "rocdl.waves_per_eu";

/// The operands a kernel function must pass, in order: the fused op's tensor operands.
constexpr llvm::StringLiteral kEpilogueSignature = "(kv, weight, freqs, handle)";
constexpr llvm::StringLiteral kStoreSignature = "(kv, weight, freqs, handle, cache, out_loc)";
constexpr llvm::StringLiteral kCompressSignature =
    "(state, block_table, token_req, positions, weight, freqs, cache, out_loc)";

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct ConvertDsv4ToGPUPass : dsv4::impl::ConvertDsv4ToGPUBase<ConvertDsv4ToGPUPass> {
  using ConvertDsv4ToGPUBase::ConvertDsv4ToGPUBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // A set: a function holding two fused ops is still one kernel (converted, then erased,
    // once).
    llvm::SetVector<func::FuncOp> kernels;
    WalkResult walk = module.walk([&](Operation *op) {
      if (isa<FusedEpilogueOp, FusedStoreOp, FusedCompressStoreOp>(op)) {
        FailureOr<func::FuncOp> function = getKernelFunction(module, op);
        if (failed(function))
          return WalkResult::interrupt();
        kernels.insert(*function);
        return WalkResult::advance();
      }
      if (isa<RmsNormOp, RopeOp, HadamardOp>(op)) {
        op->emitError() << "'" << op->getName()
                        << "' is not part of a fused epilogue; run dsv4-fuse first (only "
                           "dsv4.fused_epilogue, dsv4.fused_store and dsv4.fused_compress_store have a "
                           "GPU lowering)";
        return WalkResult::interrupt();
      }
      if (isa<QuantizeOp, PagedStoreOp, CompressPoolOp>(op)) {
        op->emitError() << "'" << op->getName()
                        << "' is not part of a fused store; run dsv4-fuse first (only "
                           "dsv4.fused_epilogue, dsv4.fused_store and "
                           "dsv4.fused_compress_store have a GPU lowering)";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    for (func::FuncOp function : kernels)
      if (failed(convertFunction(module, function)))
        return signalPassFailure();
  }

private:
  /// The function that becomes the kernel of fused op `op`: its parent, a func.func directly
  /// in `module` (gpu-module-to-binary serializes only the top module's gpu.modules, so a
  /// kernel in a nested module would silently never be written).
  FailureOr<func::FuncOp> getKernelFunction(ModuleOp module, Operation *op) {
    auto function = dyn_cast<func::FuncOp>(op->getParentOp());
    if (!function || function->getParentOp() != module.getOperation())
      return op->emitError() << "'" << op->getName()
                             << "' must sit in a func.func directly inside the top-level "
                                "module: that function becomes the kernel";
    return function;
  }

  /// The fused op of `function` when the function is exactly `return fused(args)`.
  FailureOr<Operation *> getKernelOp(func::FuncOp function) {
    auto fail = [&]() {
      return mlir::emitError(function.getLoc())
             << "a kernel function must take " << kEpilogueSignature
             << " and return dsv4.fused_epilogue of them, take " << kStoreSignature
             << " and return dsv4.fused_store of them, or take " << kCompressSignature
             << " and return dsv4.fused_compress_store of them, with nothing else in its body";
    };
    if (function.getBlocks().size() != 1)
      return fail();
    auto ret = cast<func::ReturnOp>(function.front().getTerminator());
    Operation *op = ret.getNumOperands() == 1 ? ret.getOperand(0).getDefiningOp() : nullptr;
    if (!isa_and_nonnull<FusedEpilogueOp, FusedStoreOp, FusedCompressStoreOp>(op) ||
        !llvm::equal(op->getOperands(), function.getArguments()))
      return fail();
    for (Operation &other : function.front().without_terminator())
      if (&other != op && !isPure(&other))
        return fail();
    return op;
  }

  /// The plan dsv4-plan-kernels attached to fused op `op` (the dialect verified it).
  FailureOr<KernelPlanAttr> getPlan(Operation *op) {
    auto plan = op->getAttrOfType<KernelPlanAttr>(Dsv4Dialect::kPlanAttrName);
    if (!plan)
      return op->emitError() << "'" << op->getName()
                             << "' has no plan: run dsv4-plan-kernels first";
    return plan;
  }

  /// One gpu.module per kernel, named like it, so each becomes its own code object.
  gpu::GPUModuleOp createKernelModule(ModuleOp module, func::FuncOp function, StringRef name) {
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), UnitAttr::get(&getContext()));
    OpBuilder builder(function);
    return gpu::GPUModuleOp::create(builder, function.getLoc(), name);
  }

  /// The kernel's parameters (docs/ABI.md), buffers as flat global memrefs.
  FunctionType kernelType(KernelSpecAttr spec, Builder &builder) {
    if (spec.compresses())
      return compressKernelType(spec, builder);
    Type i32 = builder.getI32Type();
    // Every scalar of the in-place list is an i32; each buffer gets its element type here.
    SmallVector<Type> params(numKernelArgs(spec.stores()), i32);
    auto buffer = [&](Type element) { return globalBuffer(element, kBufferBound); };
    params[kKvArg] = buffer(spec.getKvType());
    params[kWeightArg] = buffer(spec.getWeightType());
    params[kFreqsArg] = buffer(builder.getF32Type());
    params[kHandleArg] = buffer(i32);
    if (spec.stores()) {
      params[kOutLocArg] =
          buffer(spec.getOutLocType() ? spec.getOutLocType() : builder.getI64Type());
      params[kCacheArg] = globalBuffer(builder.getI8Type(), kCacheBound);
      params[kCacheBytesArg] = builder.getI64Type();
    }
    return builder.getFunctionType(params, {});
  }

  /// A flat global memref of `bound` elements.
  MemRefType globalBuffer(Type element, int64_t bound) {
    auto global = gpu::AddressSpaceAttr::get(&getContext(), gpu::AddressSpace::Global);
    return MemRefType::get({bound}, element, MemRefLayoutAttrInterface(), global);
  }

  /// A compress kernel's parameters: the state (beyond 2^31 floats, indexed by 64-bit
  /// offsets like the cache), its block table and items, then what a store kernel takes.
  FunctionType compressKernelType(KernelSpecAttr spec, Builder &builder) {
    Type i32 = builder.getI32Type(), i64 = builder.getI64Type();
    SmallVector<Type> params(kNumCompressKernelArgs, i32);
    params[kCompressStateArg] = globalBuffer(builder.getF32Type(), kCacheBound);
    params[kCompressBlockTableArg] = globalBuffer(i32, kBufferBound);
    params[kCompressTokenReqArg] = globalBuffer(i32, kBufferBound);
    params[kCompressPositionsArg] = globalBuffer(i64, kBufferBound);
    params[kCompressWeightArg] = globalBuffer(spec.getWeightType(), kBufferBound);
    params[kCompressFreqsArg] = globalBuffer(builder.getF32Type(), kBufferBound);
    params[kCompressOutLocArg] = globalBuffer(i64, kBufferBound);
    params[kCompressCacheArg] = globalBuffer(builder.getI8Type(), kCacheBound);
    params[kCompressStateBlockStrideArg] = i64;
    params[kCompressCacheBytesArg] = i64;
    return builder.getFunctionType(params, {});
  }

  LogicalResult convertFunction(ModuleOp module, func::FuncOp function) {
    FailureOr<Operation *> op = getKernelOp(function);
    if (failed(op))
      return failure();
    KernelSpecAttr spec = KernelSpecAttr::get(*op);
    FailureOr<KernelPlanAttr> plan = getPlan(*op);
    if (failed(plan))
      return failure();
    KernelToEmit config{*op, spec, *plan};
    StringAttr name = function.getSymNameAttr();
    if (!isValidKernelName(name))
      return mlir::emitError(function.getLoc()) << "kernel name '" << name.getValue()
                                                 << "' is not a valid symbol: "
                                                 << kKernelNameRule;
    recordKernel(module, config, name);
    // A function that the module itself calls keeps its callers as `<name>.host`, which
    // dsv4-host-launch makes launch the kernel; the gpu.module takes the name.
    bool called = !SymbolTable::symbolKnownUseEmpty(function, module);
    auto hostName = StringAttr::get(&getContext(), name.getValue() + ".host");
    if (called && failed(SymbolTable::replaceAllSymbolUses(function, hostName, module)))
      return mlir::emitError(function.getLoc(), "cannot rename the calls of the kernel function");
    function.setSymNameAttr(hostName);
    gpu::GPUModuleOp kernelModule = createKernelModule(module, function, name);
    OpBuilder builder = OpBuilder::atBlockEnd(kernelModule.getBody());
    // A slot of f32 per row for a kernel that exchanges through LDS, then the partial sums
    // of a split window, then those of a row's 32-lane parts (KernelEmitter.h: workgroup
    // attributions in this order).
    SmallVector<Type> lds;
    auto workgroupBuffer = [&](int64_t bytes) {
      lds.push_back(MemRefType::get(
          {bytes / int64_t(sizeof(float))}, builder.getF32Type(), MemRefLayoutAttrInterface(),
          gpu::AddressSpaceAttr::get(&getContext(), gpu::AddressSpace::Workgroup)));
    };
    int64_t headDim = spec.getHeadDim();
    if (plan->exchangesThroughLds())
      workgroupBuffer(KernelPlanAttr::exchangeLdsBytes(plan->getRowsPerWorkgroup(), headDim));
    if (plan->getWindowSplit() > 1)
      workgroupBuffer(KernelPlanAttr::splitLdsBytes(plan->getWindowSplit(), headDim));
    if (plan->getRowParts() > 1)
      workgroupBuffer(KernelPlanAttr::rowPartsLdsBytes(plan->getRowsPerWorkgroup(),
                                                       plan->getLanesPerRow()));
    auto kernel = gpu::GPUFuncOp::create(builder, function.getLoc(), name,
                                         kernelType(spec, builder), lds);
    kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), builder.getUnitAttr());
    kernel.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr(
        {int32_t(plan->getWorkgroupSize()), 1, 1}));
    // The plan's occupancy, for the AMD back end's scheduler and register allocator
    // (amdgpu-waves-per-eu); the NVVM lowering drops the rocdl attribute.
    if (int64_t waves = plan->getWavesPerSimd())
      kernel->setAttr(kWavesPerEuAttrName, builder.getI32IntegerAttr(int32_t(waves)));
    // 16-byte LDS accesses need 16-byte aligned buffers.
    for (unsigned k = 0; k < lds.size(); ++k)
      kernel.setWorkgroupAttributionAttr(k, LLVM::LLVMDialect::getAlignAttrName(),
                                         builder.getI64IntegerAttr(kAccessBytes));
    ImplicitLocOpBuilder b(function.getLoc(), builder);
    b.setInsertionPointToStart(&kernel.front());
    emitKernelBody(b, config, kernel);
    if (called)
      function->setAttr(kLaunchesAttrName,
                        SymbolRefAttr::get(name, {FlatSymbolRefAttr::get(name)}));
    else
      function.erase();
    return success();
  }

  /// Records the kernel (#dsv4.kernel: its spec, its plan and what its code requires of the
  /// buffers) in the module's `dsv4.kernels` dictionary: the manifest writer reads it after
  /// the gpu.module has become a gpu.binary.
  void recordKernel(ModuleOp module, const KernelToEmit &config, StringRef name) {
    KernelSpecAttr spec = config.spec;
    KernelPlanAttr plan = config.plan;
    auto record = KernelRecordAttr::get(
        &getContext(), spec, plan, /*row_align=*/kAccessBytes,
        /*row_stride_multiple=*/plan.getVectorWidth(),
        /*weight_align=*/KernelPlanAttr::runAlignment(spec.getWeightType(),
                                                      plan.getVectorWidth()),
        /*freqs_align=*/config.vectorFreqs() ? kAccessBytes : 4,
        /*freqs_row_stride_multiple=*/config.vectorFreqs() ? 4 : 1,
        /*cache_align=*/spec.stores() ? kAccessBytes : 0, /*lds_bytes=*/std::nullopt);
    NamedAttrList kernels(module->getAttrOfType<DictionaryAttr>(kKernelsAttrName));
    kernels.set(name, record);
    module->setAttr(kKernelsAttrName, kernels.getDictionary(&getContext()));
  }
};
} // namespace
