// convert-gpu-to-host: every kernel of every gpu.module becomes a host function
// (WorkgroupEmulator.h) and every gpu.launch_func a call of it, so that mlir-runner executes
// the kernel's own IR on the CPU.
#include "WorkgroupEmulator.h"
#include "dsv4/ABI/KernelABI.h"
#include "dsv4/Conversion/CacheStore.h"
#include "dsv4/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::dsv4 {
#define GEN_PASS_DEF_CONVERTGPUTOHOST
#include "dsv4/Conversion/Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;
using namespace mlir::dsv4;

namespace {
struct HostKernel {
  func::FuncOp function;
  int64_t blockSize;
};

/// `value` is the constant `expected`.
bool isConstant(Value value, int64_t expected) {
  std::optional<int64_t> constant = getConstantIntValue(value);
  return constant && *constant == expected;
}

/// The kernel's FP8 conversions (arith.truncf to an 8-bit float, which the chips do in one
/// instruction and the host cannot lower) become the written-out rounding of CacheStore.h,
/// the CPU reference's own. A bitcast of the result back to i8 takes the bits directly.
void lowerFp8Truncs(gpu::GPUFuncOp kernel) {
  SmallVector<arith::TruncFOp> truncs;
  kernel.walk([&](arith::TruncFOp trunc) {
    if (getElementTypeOrSelf(trunc.getType()).getIntOrFloatBitWidth() == 8)
      truncs.push_back(trunc);
  });
  for (arith::TruncFOp trunc : truncs) {
    ImplicitLocOpBuilder b(trunc.getLoc(), trunc);
    Value bits = emitCodeBits(b, trunc.getIn(), getElementTypeOrSelf(trunc.getType()));
    for (Operation *user : llvm::make_early_inc_range(trunc->getUsers())) {
      auto bitcast = dyn_cast<arith::BitcastOp>(user);
      if (bitcast && bitcast.getType() == bits.getType()) {
        bitcast.replaceAllUsesWith(bits);
        bitcast.erase();
      }
    }
    trunc.replaceAllUsesWith(arith::BitcastOp::create(b, trunc.getType(), bits).getResult());
    trunc.erase();
  }
}

/// The launch as a call: operands in a GPU address space are cast back to the default one.
LogicalResult lowerLaunch(gpu::LaunchFuncOp launch, HostKernel host) {
  auto fail = [&](const Twine &why) -> LogicalResult {
    return launch.emitError() << "the host emulation of @" << host.function.getName()
                              << " cannot run this launch: " << why;
  };
  if (launch.getAsyncToken() || !launch.getAsyncDependencies().empty())
    return fail("it is asynchronous");
  if (launch.getDynamicSharedMemorySize() || launch.hasClusterSize())
    return fail("it asks for dynamic shared memory or clusters");
  gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
  if (!isConstant(block.x, host.blockSize) || !isConstant(block.y, 1) || !isConstant(block.z, 1))
    return fail("its block size must be the constant known_block_size (" +
                Twine(host.blockSize) + ", 1, 1)");
  gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
  if (!isConstant(grid.y, 1) || !isConstant(grid.z, 1))
    return fail("only a grid along x is emulated");
  OpBuilder b(launch);
  SmallVector<Value> operands;
  SmallVector<Operation *> casts;
  for (auto [operand, type] : llvm::zip(launch.getKernelOperands(),
                                        host.function.getArgumentTypes())) {
    Value value = operand;
    if (value.getType() != type) {
      auto cast = value.getDefiningOp<memref::MemorySpaceCastOp>();
      if (cast && cast.getSource().getType() == type) {
        value = cast.getSource();
        casts.push_back(cast);
      } else {
        value = memref::MemorySpaceCastOp::create(b, launch.getLoc(), type, value);
      }
    }
    operands.push_back(value);
  }
  operands.push_back(grid.x);
  func::CallOp::create(b, launch.getLoc(), host.function, operands);
  launch.erase();
  for (Operation *cast : casts)
    if (cast->use_empty())
      cast->erase();
  return success();
}

struct ConvertGPUToHostPass : dsv4::impl::ConvertGPUToHostBase<ConvertGPUToHostPass> {
  using ConvertGPUToHostBase::ConvertGPUToHostBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (subgroupSize != 32 && subgroupSize != 64) {
      module.emitError() << "subgroup-size must be 64 (AMD wave64) or 32 (NVIDIA warp), not "
                         << subgroupSize.getValue();
      return signalPassFailure();
    }
    EmulationOptions options{subgroupSize, checkRaces};
    // Host functions are built first and inserted once the gpu.modules are gone, so that a
    // kernel keeps its name when its module had the same one.
    DenseMap<SymbolRefAttr, HostKernel> hosts;
    SmallVector<func::FuncOp> functions;
    SmallVector<gpu::GPUModuleOp> gpuModules(module.getOps<gpu::GPUModuleOp>());
    for (gpu::GPUModuleOp gpuModule : gpuModules) {
      for (auto kernel : gpuModule.getOps<gpu::GPUFuncOp>()) {
        if (!kernel.isKernel()) {
          kernel.emitError("only kernels are emulated; device functions are not");
          return signalPassFailure();
        }
        lowerFp8Truncs(kernel);
        // The e2m1 conversions likewise (v_cvt_scalef32_pk_fp4_f32 on gfx950).
        expandE2m1Conversions(kernel);
        FailureOr<func::FuncOp> host = emulateKernel(kernel, options);
        if (failed(host))
          return signalPassFailure();
        auto name = SymbolRefAttr::get(SymbolTable::getSymbolName(gpuModule),
                                       {FlatSymbolRefAttr::get(SymbolTable::getSymbolName(kernel))});
        hosts[name] = {*host, kernel.getKnownBlockSizeAttr()[0]};
        functions.push_back(*host);
      }
    }
    SymbolTable symbols(module);
    for (gpu::GPUModuleOp gpuModule : gpuModules)
      symbols.erase(gpuModule);
    for (func::FuncOp function : functions)
      symbols.insert(function);
    // The kernels' records (#dsv4.kernel) are for the manifest writer of code objects, and none
    // is written for a kernel that now runs on the host; mlir-runner could not even read them.
    module->removeAttr(kKernelsAttrName);
    SmallVector<gpu::LaunchFuncOp> launches;
    module.walk([&](gpu::LaunchFuncOp launch) { launches.push_back(launch); });
    for (gpu::LaunchFuncOp launch : launches) {
      auto host = hosts.find(launch.getKernel());
      if (host == hosts.end()) {
        launch.emitError() << "launches " << launch.getKernel()
                           << ", which is not a kernel of a gpu.module of this module";
        return signalPassFailure();
      }
      if (failed(lowerLaunch(launch, host->second)))
        return signalPassFailure();
    }
  }
};
} // namespace
