// convert-dsv4-to-gpu: a function holding one dsv4.fused_epilogue becomes one gpu.func in a
// gpu.module of its own. This file checks the configuration, builds the kernel's signature and
// records what the manifest needs; KernelEmitter.cpp fills in the body.
#include "HostLaunch.h"
#include "KernelEmitter.h"
#include "dsv4/ABI/Manifest.h"
#include "dsv4/Conversion/KernelABI.h"
#include "dsv4/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

namespace mlir::dsv4 {
#define GEN_PASS_DEF_CONVERTDSV4TOGPU
#include "Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;
using namespace mlir::dsv4;

namespace {
namespace abi = ::dsv4_abi;
constexpr int64_t kMaxWorkgroupSize = 1024;
/// Defaults measured on the NVIDIA twin (BENCHMARKS.md): four 16-byte runs per lane (16 f32
/// values, 32 lanes for D=512; 32 bf16 values, 16 lanes) and 128-thread workgroups (two
/// wave64s on AMD, so s_barrier stays real) were fastest from 1 to 65536 rows. Four runs
/// leave two unpinned register bits per lane, so an exchange retires two lane bits.
constexpr int64_t kDefaultRunsPerLane = 4;
constexpr int64_t kDefaultWorkgroupSize = 128;
/// The bare-pointer calling convention (one pointer per buffer, docs/ABI.md) needs static
/// shapes, so buffers are typed by an i32-indexable bound; the runtime checks real extents.
constexpr int64_t kBufferBound = std::numeric_limits<int32_t>::max();

std::string dtypeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isBF16())
    return "bf16";
  return "f16";
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct ConvertDsv4ToGPUPass : dsv4::impl::ConvertDsv4ToGPUBase<ConvertDsv4ToGPUPass> {
  using ConvertDsv4ToGPUBase::ConvertDsv4ToGPUBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> kernels;
    WalkResult walk = module.walk([&](Operation *op) {
      if (isa<FusedEpilogueOp>(op)) {
        kernels.push_back(op->getParentOfType<func::FuncOp>());
        return WalkResult::advance();
      }
      if (isa<RmsNormOp, RopeOp, HadamardOp>(op)) {
        op->emitError() << "'" << op->getName()
                        << "' is not part of a fused epilogue; run dsv4-fuse first (only "
                           "dsv4.fused_epilogue has a GPU lowering)";
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
  /// The fused op of `function` when the function is exactly `return fused(args)`.
  FailureOr<FusedEpilogueOp> getKernelOp(func::FuncOp function) {
    auto fail = [&]() {
      return function.emitError()
             << "a kernel function must take (kv, weight, freqs, handle) and return "
                "dsv4.fused_epilogue of them, with nothing else in its body";
    };
    if (!function || function.getBlocks().size() != 1 || function.getNumArguments() != 4)
      return fail();
    auto ret = cast<func::ReturnOp>(function.front().getTerminator());
    auto op = ret.getNumOperands() == 1
                  ? ret.getOperand(0).getDefiningOp<FusedEpilogueOp>()
                  : FusedEpilogueOp();
    if (!op || !llvm::equal(op->getOperands(), function.getArguments()))
      return fail();
    for (Operation &other : function.front().without_terminator())
      if (&other != op.getOperation() && !isPure(&other))
        return fail();
    return op;
  }

  FailureOr<KernelConfig> getConfig(FusedEpilogueOp op) {
    auto kvType = cast<RankedTensorType>(op.getKv().getType());
    KernelConfig config;
    config.op = op;
    config.headDim = kvType.getDimSize(1);
    config.ropeDim = op.getRopeDim();
    config.kvType = kvType.getElementType();
    config.weightType = cast<RankedTensorType>(op.getWeight().getType()).getElementType();
    config.vectorWidth = kAccessBytes / (config.kvType.getIntOrFloatBitWidth() / 8);
    config.lanes = lanesPerRow ? lanesPerRow.getValue()
                               : std::clamp<int64_t>(config.headDim / (kDefaultRunsPerLane *
                                                                      config.vectorWidth),
                                                     1, kMaxLanesPerRow);
    config.rows = rowsPerWorkgroup ? rowsPerWorkgroup.getValue()
                                   : std::max<int64_t>(1, kDefaultWorkgroupSize / config.lanes);
    std::optional<ExchangeSchedule> parsed = parseExchangeSchedule(schedule);
    if (!parsed)
      return op.emitError() << "unknown schedule '" << schedule
                            << "'; expected 'grouped' or 'per-stage'";
    config.schedule = *parsed;
    // Each lane needs at least two 16-byte runs so an exchange can bring a bit into a
    // register without breaking a run.
    if (!llvm::isPowerOf2_64(config.lanes) || config.lanes > kMaxLanesPerRow ||
        config.lanes * config.vectorWidth * 2 > config.headDim)
      return op.emitError() << "lanes-per-row " << config.lanes
                            << " must be a power of two <= " << kMaxLanesPerRow
                            << " leaving each lane at least " << 2 * config.vectorWidth
                            << " values of the " << config.headDim << "-wide row";
    if (config.rows < 1 || config.workgroupSize() > kMaxWorkgroupSize)
      return op.emitError() << "rows-per-workgroup " << config.rows << " times lanes-per-row "
                            << config.lanes << " must be in [1, " << kMaxWorkgroupSize << "]";
    return config;
  }

  /// One gpu.module per kernel, named like it, so each becomes its own code object.
  gpu::GPUModuleOp createKernelModule(ModuleOp module, func::FuncOp function, StringRef name) {
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), UnitAttr::get(&getContext()));
    OpBuilder builder(function);
    return gpu::GPUModuleOp::create(builder, function.getLoc(), name);
  }

  /// The kernel's parameters (docs/ABI.md), buffers as flat global memrefs.
  FunctionType kernelType(const KernelConfig &config, Builder &builder) {
    auto global = gpu::AddressSpaceAttr::get(&getContext(), gpu::AddressSpace::Global);
    auto buffer = [&](Type element) {
      return MemRefType::get({kBufferBound}, element, MemRefLayoutAttrInterface(), global);
    };
    Type i32 = builder.getI32Type();
    // Every scalar of the ABI table is an i32; each buffer gets its element type here.
    SmallVector<Type> params(kNumKernelArgs, i32);
    params[kKvArg] = buffer(config.kvType);
    params[kWeightArg] = buffer(config.weightType);
    params[kFreqsArg] = buffer(builder.getF32Type());
    params[kHandleArg] = buffer(i32);
    return builder.getFunctionType(params, {});
  }

  LogicalResult convertFunction(ModuleOp module, func::FuncOp function) {
    FailureOr<FusedEpilogueOp> op = getKernelOp(function);
    if (failed(op))
      return failure();
    FailureOr<KernelConfig> config = getConfig(*op);
    if (failed(config))
      return failure();
    StringAttr name = function.getSymNameAttr();
    recordKernel(module, *config, name);
    // A function that the module itself calls keeps its callers as `<name>.host`, which
    // launches the kernel; the gpu.module takes the name.
    bool called = !SymbolTable::symbolKnownUseEmpty(function, module);
    auto hostName = StringAttr::get(&getContext(), name.getValue() + ".host");
    if (called && failed(SymbolTable::replaceAllSymbolUses(function, hostName, module)))
      return function.emitError("cannot rename the calls of the kernel function");
    function.setSymNameAttr(hostName);
    gpu::GPUModuleOp kernelModule = createKernelModule(module, function, name);
    OpBuilder builder = OpBuilder::atBlockEnd(kernelModule.getBody());
    auto workgroup = gpu::AddressSpaceAttr::get(&getContext(), gpu::AddressSpace::Workgroup);
    auto ldsType = MemRefType::get({config->rows * config->headDim}, builder.getF32Type(),
                                   MemRefLayoutAttrInterface(), workgroup);
    auto kernel = gpu::GPUFuncOp::create(builder, function.getLoc(), name,
                                         kernelType(*config, builder), TypeRange{ldsType});
    kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), builder.getUnitAttr());
    kernel.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr(
        {int32_t(config->workgroupSize()), 1, 1}));
    // 16-byte LDS accesses need a 16-byte aligned buffer.
    kernel.setWorkgroupAttributionAttr(0, LLVM::LLVMDialect::getAlignAttrName(),
                                       builder.getI64IntegerAttr(kAccessBytes));
    ImplicitLocOpBuilder b(function.getLoc(), builder);
    b.setInsertionPointToStart(&kernel.front());
    emitKernelBody(b, *config, kernel);
    if (called)
      emitHostLaunch(function, kernel, *config);
    else
      function.erase();
    return success();
  }

  /// Notes the configuration in the module's `dsv4.kernels` dictionary: the manifest
  /// writer reads it after the gpu.module has become a gpu.binary.
  void recordKernel(ModuleOp module, const KernelConfig &config, StringRef name) {
    Builder builder(&getContext());
    FusedEpilogueOp op = config.op;
    auto vectorAlign = [&](Type type) {
      return std::min<int64_t>(kAccessBytes,
                               config.vectorWidth * type.getIntOrFloatBitWidth() / 8);
    };
    SmallVector<NamedAttribute> entries = {
        builder.getNamedAttr(abi::kModeKey, builder.getStringAttr(stringifyPositionSource(op.getSource()))),
        builder.getNamedAttr(abi::kRotateKey, builder.getBoolAttr(op.rotates())),
        builder.getNamedAttr(abi::kHeadDimKey, builder.getI64IntegerAttr(config.headDim)),
        builder.getNamedAttr(abi::kRopeDimKey, builder.getI64IntegerAttr(config.ropeDim)),
        builder.getNamedAttr(abi::kRatioKey, builder.getI64IntegerAttr(op.getRatio())),
        builder.getNamedAttr(abi::kEpsKey, op.getEpsAttr()),
        builder.getNamedAttr(abi::kScaleKey, op.getScaleAttr() ? Attribute(op.getScaleAttr())
                                                        : builder.getF32FloatAttr(1.0f)),
        builder.getNamedAttr(abi::kKvDtypeKey, builder.getStringAttr(dtypeName(config.kvType))),
        builder.getNamedAttr(abi::kWeightDtypeKey,
                             builder.getStringAttr(dtypeName(config.weightType))),
        builder.getNamedAttr(abi::kFreqsDtypeKey, builder.getStringAttr("f32")),
        builder.getNamedAttr(abi::kLanesPerRowKey, builder.getI64IntegerAttr(config.lanes)),
        builder.getNamedAttr(abi::kRowsPerWorkgroupKey, builder.getI64IntegerAttr(config.rows)),
        builder.getNamedAttr(abi::kWorkgroupSizeKey, builder.getI64IntegerAttr(config.workgroupSize())),
        builder.getNamedAttr(abi::kScheduleKey, builder.getStringAttr(schedule)),
        builder.getNamedAttr(abi::kKvAlignKey, builder.getI64IntegerAttr(kAccessBytes)),
        builder.getNamedAttr(abi::kKvRowStrideMultipleKey,
                             builder.getI64IntegerAttr(config.vectorWidth)),
        builder.getNamedAttr(abi::kWeightAlignKey,
                             builder.getI64IntegerAttr(vectorAlign(config.weightType))),
        builder.getNamedAttr(abi::kFreqsAlignKey,
                             builder.getI64IntegerAttr(config.vectorFreqs() ? kAccessBytes : 4)),
        builder.getNamedAttr(abi::kFreqsRowStrideMultipleKey,
                             builder.getI64IntegerAttr(config.vectorFreqs() ? 4 : 1)),
    };
    NamedAttrList kernels(module->getAttrOfType<DictionaryAttr>(kKernelsAttrName));
    kernels.set(name, builder.getDictionaryAttr(entries));
    module->setAttr(kKernelsAttrName, kernels.getDictionary(&getContext()));
  }
};
} // namespace
