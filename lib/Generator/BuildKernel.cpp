// From a kernel spec to the unfused dsv4 chain that dsv4-compile fuses into one kernel.
#include "dsv4/Generator/BuildKernel.h"
#include "dsv4/ABI/KernelABI.h"
#include "dsv4/Dialect/Dsv4/IR/CacheLayout.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace mlir::dsv4;

/// Columns of a work-items tensor: (row, position).
static constexpr int64_t kItemFields = 2;

float mlir::dsv4::defaultScale(int64_t headDim) {
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(headDim)));
}

/// An f32 spelled as its 8 hex bit digits: exact, and valid inside a symbol name.
static std::string bitsOf(float value) {
  return llvm::formatv("{0:x-8}", llvm::bit_cast<uint32_t>(value)).str();
}

std::string mlir::dsv4::kernelName(KernelSpecAttr spec) {
  std::string name;
  llvm::raw_string_ostream os(name);
  os << "dsv4_" << stringifyPositionSource(spec.getMode()) << "_r" << spec.getRatio()
     << (spec.rotates() ? "" : "_norot") << "_d" << spec.getHeadDim() << "_r"
     << spec.getRopeDim() << "_" << dtypeName(spec.getKvType());
  if (!spec.getWeightType().isF32())
    os << "_w" << dtypeName(spec.getWeightType());
  float eps = spec.getEps().getValue().convertToFloat();
  if (eps != kDefaultEps)
    os << "_eps" << bitsOf(eps);
  if (spec.rotates()) {
    float scale = spec.getScale().getValue().convertToFloat();
    if (scale != defaultScale(spec.getHeadDim()))
      os << "_s" << bitsOf(scale);
  }
  if (spec.compresses())
    os << "_b" << *spec.getStateBlockSize() << (spec.getOverlap() ? "_ov" : "");
  if (spec.stores()) {
    os << "_" << stringifyCacheLayout(*spec.getLayout()) << "_p" << *spec.getPageSize();
    if (Type fp8 = spec.getFp8Type())
      os << "_" << (isa<Float8E4M3FNUZType>(fp8) ? "fnuz" : "fn");
    if (spec.getOutLocType())
      os << "_o32";
  }
  return name;
}

/// The body of a store kernel: dsv4.fused_store itself, not a chain. The unfused chain's rows
/// have kv's type (bf16 kv rounds them before the quantization), while a store quantizes the
/// f32 row: only the fused op says that for every kv type.
static Value buildStore(OpBuilder &b, Location loc, KernelSpecAttr spec, ValueRange args) {
  TypeAttr fp8 = spec.getFp8Type() ? TypeAttr::get(spec.getFp8Type()) : TypeAttr();
  return FusedStoreOp::create(b, loc, args[4].getType(), spec.getMode(), *spec.getLayout(),
                              args[0], args[1], args[2], args[3], args[4], args[5],
                              spec.getRatio(), spec.getEps().getValue(), spec.getRopeDim(),
                              spec.getScale(), *spec.getPageSize(), fp8);
}

/// The items op of `mode` over `handle`.
static Value buildItems(OpBuilder &b, Location loc, PositionSource mode, Type itemsType,
                        Value handle, Value freqs, IntegerAttr ratio) {
  switch (mode) {
  case PositionSource::decode:
    return DecodeItemsOp::create(b, loc, itemsType, handle, freqs, ratio);
  case PositionSource::sglang_decode:
    return SglangDecodeItemsOp::create(b, loc, itemsType, handle, freqs, ratio);
  case PositionSource::sglang_extend:
    return SglangExtendItemsOp::create(b, loc, itemsType, handle, freqs, ratio);
  default:
    return PrefillItemsOp::create(b, loc, itemsType, handle, freqs, ratio);
  }
}

/// A compress kernel: (state, block_table, token_req, positions, weight, freqs, cache, out_loc)
/// -> cache holding dsv4.fused_compress_store, the order of the compress kernel's signature.
static func::FuncOp buildCompress(OpBuilder &b, Location loc, KernelSpecAttr spec,
                                  llvm::StringRef name) {
  const int64_t dyn = ShapedType::kDynamic;
  int64_t coff = spec.getOverlap() ? 2 : 1;
  auto stateType = RankedTensorType::get(
      {dyn, *spec.getStateBlockSize(), 2 * coff * spec.getHeadDim()}, b.getF32Type());
  auto cacheType = RankedTensorType::get({dyn}, b.getI8Type());
  SmallVector<Type> params = {stateType,
                              RankedTensorType::get({dyn, dyn}, b.getI32Type()),
                              RankedTensorType::get({dyn}, b.getI32Type()),
                              RankedTensorType::get({dyn}, b.getI64Type()),
                              RankedTensorType::get({spec.getHeadDim()}, spec.getWeightType()),
                              RankedTensorType::get({dyn, spec.getRopeDim()}, b.getF32Type()),
                              cacheType,
                              RankedTensorType::get({dyn}, b.getI64Type())};
  auto func = func::FuncOp::create(b, loc, name, b.getFunctionType(params, {cacheType}));
  OpBuilder::InsertionGuard guard(b);
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  ValueRange args = body->getArguments();
  TypeAttr fp8 = spec.getFp8Type() ? TypeAttr::get(spec.getFp8Type()) : TypeAttr();
  Value cache = FusedCompressStoreOp::create(
      b, loc, cacheType, *spec.getLayout(), args[0], args[1], args[2], args[3], args[4], args[5],
      args[6], args[7], spec.getRatio(), spec.getOverlap(), spec.getEps().getValue(),
      spec.getRopeDim(), spec.getScale(), *spec.getPageSize(), fp8);
  func::ReturnOp::create(b, loc, cache);
  return func;
}

func::FuncOp mlir::dsv4::buildKernel(OpBuilder &b, Location loc, KernelSpecAttr spec,
                                     llvm::StringRef name) {
  if (spec.compresses())
    return buildCompress(b, loc, spec, name);
  const int64_t dyn = ShapedType::kDynamic;
  int64_t headDim = spec.getHeadDim();
  auto kvType = RankedTensorType::get({dyn, headDim}, spec.getKvType());
  auto weightType = RankedTensorType::get({headDim}, spec.getWeightType());
  auto freqsType = RankedTensorType::get({dyn, spec.getRopeDim()}, b.getF32Type());
  bool decode = spec.getMode() == PositionSource::decode;
  auto handleType = decode ? RankedTensorType::get({dyn}, b.getI32Type())
                           : RankedTensorType::get({dyn, kNumPlanFields}, b.getI32Type());
  auto itemsType = RankedTensorType::get({dyn, kItemFields}, b.getI32Type());

  SmallVector<Type> params = {kvType, weightType, freqsType, handleType};
  Type result = kvType;
  if (spec.stores()) {
    result = RankedTensorType::get({dyn}, b.getI8Type());
    Type slots = spec.getOutLocType() ? spec.getOutLocType() : b.getI64Type();
    params.append({result, RankedTensorType::get({dyn}, slots)});
  }
  auto func = func::FuncOp::create(b, loc, name, b.getFunctionType(params, {result}));
  OpBuilder::InsertionGuard guard(b);
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  if (spec.stores()) {
    func::ReturnOp::create(b, loc, buildStore(b, loc, spec, body->getArguments()));
    return func;
  }
  Value kv = body->getArgument(0), weight = body->getArgument(1),
        freqs = body->getArgument(2), handle = body->getArgument(3);
  IntegerAttr ratio = b.getI64IntegerAttr(spec.getRatio());
  Value items = buildItems(b, loc, spec.getMode(), itemsType, handle, freqs, ratio);
  Value y = RmsNormOp::create(b, loc, kvType, kv, items, weight, spec.getEps());
  y = RopeOp::create(b, loc, kvType, y, items, freqs, b.getI64IntegerAttr(spec.getRopeDim()));
  if (spec.rotates())
    y = HadamardOp::create(b, loc, kvType, y, items, spec.getScale());
  func::ReturnOp::create(b, loc, y);
  return func;
}
