// dsv4-host-launch: the launch of a dsv4 kernel from IR (see HostLaunch.h). Parameter
// positions come from KernelABI.h, like the kernel's own signature.
#include "HostLaunch.h"
#include "dsv4/ABI/KernelABI.h"
#include "dsv4/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::dsv4 {
#define GEN_PASS_DEF_DSV4HOSTLAUNCH
#include "dsv4/Conversion/Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;
using namespace mlir::dsv4;

namespace {
/// The buffer of `tensor`, read-only.
Value toBuffer(ImplicitLocOpBuilder &b, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  return bufferization::ToBufferOp::create(
      b, MemRefType::get(type.getShape(), type.getElementType()), tensor, /*read_only=*/true);
}

/// `buffer` (contiguous) as the kernel parameter type `param`: flat, in global memory.
Value asParameter(ImplicitLocOpBuilder &b, Value buffer, Type param) {
  auto paramType = cast<MemRefType>(param);
  auto flat = MemRefType::get(paramType.getShape(), paramType.getElementType());
  Value cast = memref::ReinterpretCastOp::create(
      b, flat, buffer, b.getIndexAttr(0), {b.getIndexAttr(paramType.getDimSize(0))},
      {b.getIndexAttr(1)});
  return memref::MemorySpaceCastOp::create(b, paramType, cast);
}

Value i32Of(ImplicitLocOpBuilder &b, Value index) {
  return arith::IndexCastOp::create(b, b.getI32Type(), index);
}

/// A copy of `tensor`'s buffer, which the kernel writes and the function returns.
Value copyOf(ImplicitLocOpBuilder &b, Value tensor) {
  Value input = toBuffer(b, tensor);
  auto type = cast<MemRefType>(input.getType());
  Value output = memref::AllocOp::create(
      b, type,
      type.isDynamicDim(0) ? ValueRange{tensor::DimOp::create(b, tensor, 0)} : ValueRange{});
  memref::CopyOp::create(b, input, output);
  return output;
}

Value dimOf(ImplicitLocOpBuilder &b, Value tensor, int64_t d) {
  return tensor::DimOp::create(b, tensor, d);
}

/// Parameters of an in-place or store kernel from the function's (kv, weight, freqs, handle
/// [, cache, out_loc]); the in-place kernel updates a copy of kv, a store kernel a copy of the
/// cache (kv is only read). Returns that copy; `numItems` is the handle's length.
Value inPlaceOrStoreArgs(ImplicitLocOpBuilder &b, Block &body, KernelSpecAttr spec,
                         TypeRange params, SmallVector<Value> &args, Value &numItems) {
  Value kv = body.getArgument(0), weight = body.getArgument(1);
  Value freqs = body.getArgument(2), handle = body.getArgument(3);
  args.resize(numKernelArgs(spec.stores()));
  Value output;
  if (spec.stores()) {
    Value cache = body.getArgument(4), outLoc = body.getArgument(5);
    output = copyOf(b, cache);
    args[kKvArg] = asParameter(b, toBuffer(b, kv), params[kKvArg]);
    args[kOutLocArg] = asParameter(b, toBuffer(b, outLoc), params[kOutLocArg]);
    args[kCacheArg] = asParameter(b, output, params[kCacheArg]);
    args[kCacheBytesArg] = arith::IndexCastOp::create(b, b.getI64Type(), dimOf(b, cache, 0));
  } else {
    output = copyOf(b, kv);
    args[kKvArg] = asParameter(b, output, params[kKvArg]);
  }
  args[kWeightArg] = asParameter(b, toBuffer(b, weight), params[kWeightArg]);
  args[kFreqsArg] = asParameter(b, toBuffer(b, freqs), params[kFreqsArg]);
  args[kHandleArg] = asParameter(b, toBuffer(b, handle), params[kHandleArg]);
  numItems = dimOf(b, handle, 0);
  args[kNumItemsArg] = i32Of(b, numItems);
  args[kNumRowsArg] = i32Of(b, dimOf(b, kv, 0));
  args[kKvRowStrideArg] = i32Of(b, arith::ConstantIndexOp::create(b, spec.getHeadDim()));
  args[kNumPositionsArg] = i32Of(b, dimOf(b, freqs, 0));
  args[kFreqsRowStrideArg] = i32Of(b, dimOf(b, freqs, 1));
  // Decode kernels ignore the plan row stride; docs/ABI.md asks for 4 there.
  bool isPlan = cast<RankedTensorType>(handle.getType()).getRank() == 2;
  Value planRowStride =
      isPlan ? dimOf(b, handle, 1) : Value(arith::ConstantIndexOp::create(b, 4));
  args[kPlanRowStrideArg] = i32Of(b, planRowStride);
  return output;
}

/// Parameters of a compress kernel from the function's (state, block_table, token_req,
/// positions, weight, freqs, cache, out_loc), every tensor contiguous; the kernel writes a
/// copy of the cache, which is returned. `numItems` is token_req's length.
Value compressArgs(ImplicitLocOpBuilder &b, Block &body, TypeRange params,
                   SmallVector<Value> &args, Value &numItems) {
  Value state = body.getArgument(0), blockTable = body.getArgument(1);
  Value tokenReq = body.getArgument(2), positions = body.getArgument(3);
  Value weight = body.getArgument(4), freqs = body.getArgument(5);
  Value cache = body.getArgument(6), outLoc = body.getArgument(7);
  args.resize(kNumCompressKernelArgs);
  Value output = copyOf(b, cache);
  auto buffer = [&](unsigned arg, Value tensor) {
    args[arg] = asParameter(b, toBuffer(b, tensor), params[arg]);
  };
  buffer(kCompressStateArg, state);
  buffer(kCompressBlockTableArg, blockTable);
  buffer(kCompressTokenReqArg, tokenReq);
  buffer(kCompressPositionsArg, positions);
  buffer(kCompressWeightArg, weight);
  buffer(kCompressFreqsArg, freqs);
  buffer(kCompressOutLocArg, outLoc);
  args[kCompressCacheArg] = asParameter(b, output, params[kCompressCacheArg]);
  auto stateType = cast<RankedTensorType>(state.getType());
  int64_t rowStride = stateType.getDimSize(2);
  numItems = dimOf(b, tokenReq, 0);
  args[kCompressNumItemsArg] = i32Of(b, numItems);
  args[kCompressNumBlocksArg] = i32Of(b, dimOf(b, state, 0));
  args[kCompressStateBlockStrideArg] =
      arith::ConstantIntOp::create(b, b.getI64Type(), stateType.getDimSize(1) * rowStride);
  args[kCompressStateRowStrideArg] = i32Of(b, arith::ConstantIndexOp::create(b, rowStride));
  args[kCompressNumRequestsArg] = i32Of(b, dimOf(b, blockTable, 0));
  args[kCompressMaxBlocksArg] = i32Of(b, dimOf(b, blockTable, 1));
  args[kCompressBlockTableRowStrideArg] = i32Of(b, dimOf(b, blockTable, 1));
  args[kCompressNumPositionsArg] = i32Of(b, dimOf(b, freqs, 0));
  args[kCompressFreqsRowStrideArg] = i32Of(b, dimOf(b, freqs, 1));
  args[kCompressCacheBytesArg] = arith::IndexCastOp::create(b, b.getI64Type(), dimOf(b, cache, 0));
  return output;
}
} // namespace

void mlir::dsv4::emitHostLaunch(func::FuncOp function, gpu::GPUFuncOp kernel,
                                KernelSpecAttr spec, KernelPlanAttr plan) {
  Block &body = function.front();
  body.clear();
  ImplicitLocOpBuilder b(function.getLoc(), OpBuilder::atBlockEnd(&body));
  TypeRange params = kernel.getArgumentTypes();
  SmallVector<Value> args;
  Value numItems;
  // The function returns the kernel's output: a new kv or cache.
  Value output = spec.compresses() ? compressArgs(b, body, params, args, numItems)
                                   : inPlaceOrStoreArgs(b, body, spec, params, args, numItems);
  Value one = arith::ConstantIndexOp::create(b, 1);
  Value grid = arith::CeilDivUIOp::create(
      b, numItems, arith::ConstantIndexOp::create(b, plan.getItemsPerWorkgroup()));
  Value block = arith::ConstantIndexOp::create(b, plan.getWorkgroupSize());
  // No items: no launch (a GPU refuses an empty grid).
  Value any = arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, numItems,
                                    arith::ConstantIndexOp::create(b, 0));
  auto ifAny = scf::IfOp::create(b, any, /*withElseRegion=*/false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifAny.thenBlock());
    gpu::LaunchFuncOp::create(b, kernel, gpu::KernelDim3{grid, one, one},
                              gpu::KernelDim3{block, one, one},
                              /*dynamicSharedMemorySize=*/Value(), args);
  }
  Value result = bufferization::ToTensorOp::create(b, function.getResultTypes()[0], output,
                                                   b.getUnitAttr(), b.getUnitAttr());
  func::ReturnOp::create(b, result);
}

namespace {
struct Dsv4HostLaunchPass : dsv4::impl::Dsv4HostLaunchBase<Dsv4HostLaunchPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto function : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      auto launches = function->getAttrOfType<SymbolRefAttr>(kLaunchesAttrName);
      if (!launches)
        continue;
      auto kernel = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(module, launches);
      // convert-dsv4-to-gpu kept the body: `return fused(args)`, the op holding the plan.
      auto ret = cast<func::ReturnOp>(function.front().getTerminator());
      Operation *op = ret.getNumOperands() == 1 ? ret.getOperand(0).getDefiningOp() : nullptr;
      auto plan = op ? op->getAttrOfType<KernelPlanAttr>(Dsv4Dialect::kPlanAttrName)
                     : KernelPlanAttr();
      if (!kernel || !plan) {
        function.emitError() << "'" << kLaunchesAttrName << "' names no kernel that "
                             << "convert-dsv4-to-gpu emitted from this function's body";
        return signalPassFailure();
      }
      emitHostLaunch(function, kernel, KernelSpecAttr::get(op), plan);
      function->removeAttr(kLaunchesAttrName);
    }
  }
};
} // namespace
