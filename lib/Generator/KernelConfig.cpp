// From a kernel configuration to the unfused dsv4 chain that dsv4-compile fuses into one kernel.
#include "dsv4/Generator/KernelConfig.h"
#include "dsv4/ABI/Limits.h"
#include "dsv4/Dialect/CacheLayout.h"
#include "dsv4/Dialect/Dsv4.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace mlir::dsv4;

using dsv4_abi::kMaxHeadDim;
using dsv4_abi::kMaxPageSize;
using dsv4_abi::kMaxRatio;
using dsv4_abi::kMinHeadDim;
/// Columns of the prefill plan: (row, batch_id, position, window_len).
static constexpr int64_t kPlanFields = 4;
/// Columns of a work-items tensor: (row, position).
static constexpr int64_t kItemFields = 2;

/// D^-0.5 rounded once to f32, the scale that keeps the Hadamard transform orthonormal.
static float defaultScale(int64_t headDim) {
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(headDim)));
}

float KernelConfig::effectiveScale() const { return scale ? *scale : defaultScale(headDim); }

/// "indexer, main or indexer_mxfp4": every layout, for messages.
static std::string layoutNames() {
  std::string names;
  for (uint32_t value = 0; value <= getMaxEnumValForCacheLayout(); ++value) {
    if (value)
      names += value == getMaxEnumValForCacheLayout() ? " or " : ", ";
    names += stringifyCacheLayout(*symbolizeCacheLayout(value)).str();
  }
  return names;
}

/// Whether the store configuration `c` quantizes to FP8 (and so has an FP8 type).
static bool quantizesToFp8(const KernelConfig &c) {
  return getCacheGeometry(*symbolizeCacheLayout(*c.layout)).codes == CodeFormat::fp8;
}

/// The store part of a configuration: the layout fixes D and the bf16 tail (R).
static std::string validateStore(const KernelConfig &c) {
  std::string message;
  llvm::raw_string_ostream os(message);
  std::optional<CacheLayout> layout = symbolizeCacheLayout(*c.layout);
  if (!layout)
    return "layout '" + *c.layout + "' is not " + layoutNames();
  CacheGeometry geometry = getCacheGeometry(*layout);
  if (c.headDim != geometry.headDim())
    os << "the " << *c.layout << " layout stores rows of " << geometry.headDim()
       << " channels, not " << c.headDim;
  else if (geometry.tail != 0 && c.ropeDim != geometry.tail)
    os << "the " << *c.layout << " layout keeps the last " << geometry.tail
       << " channels as bf16 rope channels, not " << c.ropeDim;
  else if (c.pageSize < 1 || c.pageSize > kMaxPageSize || !llvm::isPowerOf2_64(c.pageSize))
    os << "page size " << c.pageSize << " is not a power of two in [1, " << kMaxPageSize << "]";
  else if (geometry.codes == CodeFormat::fp8 && c.fp8 != "fn" && c.fp8 != "fnuz")
    os << "fp8 '" << c.fp8 << "' is not fn or fnuz";
  return message;
}

std::string mlir::dsv4::validate(const KernelConfig &c) {
  std::string message;
  llvm::raw_string_ostream os(message);
  if (c.mode != "decode" && c.mode != "prefill")
    os << "mode '" << c.mode << "' is not decode or prefill";
  else if (!llvm::isPowerOf2_64(c.headDim) || c.headDim < kMinHeadDim || c.headDim > kMaxHeadDim)
    os << "head dim " << c.headDim << " is not a power of two in [" << kMinHeadDim << ", "
       << kMaxHeadDim << "]";
  else if (c.ropeDim < 2 || c.ropeDim % 2 != 0 || c.ropeDim > c.headDim)
    os << "rope dim " << c.ropeDim << " is not even in [2, " << c.headDim << "]";
  else if (c.kvDtype != "f32" && c.kvDtype != "bf16" && c.kvDtype != "f16")
    os << "kv dtype '" << c.kvDtype << "' is not f32, bf16 or f16";
  else if (c.weightDtype != "f32" && c.weightDtype != "bf16")
    os << "weight dtype '" << c.weightDtype << "' is not f32 or bf16";
  else if (!(c.eps > 0.0f) || !std::isfinite(c.eps))
    os << "eps " << llvm::format("%g", c.eps) << " is not a positive finite number";
  else if (c.ratio < 1 || c.ratio > kMaxRatio)
    os << "ratio " << c.ratio << " is not in [1, " << kMaxRatio << "]";
  else if (c.scale && !std::isfinite(*c.scale))
    os << "scale " << llvm::format("%g", *c.scale) << " is not finite";
  else if (c.scale && !c.rotate)
    os << "a scale is given but rotate is off (the scale multiplies the Hadamard output)";
  else if (c.layout)
    os << validateStore(c);
  return message;
}

/// An f32 spelled as its 8 hex bit digits: exact, and valid inside a symbol name.
static std::string bitsOf(float value) {
  return llvm::formatv("{0:x-8}", llvm::bit_cast<uint32_t>(value)).str();
}

std::string mlir::dsv4::kernelName(const KernelConfig &c) {
  std::string name;
  llvm::raw_string_ostream os(name);
  os << "dsv4_" << c.mode << "_r" << c.ratio << (c.rotate ? "" : "_norot") << "_d" << c.headDim
     << "_r" << c.ropeDim << "_" << c.kvDtype;
  if (c.weightDtype != "f32")
    os << "_w" << c.weightDtype;
  if (c.eps != kDefaultEps)
    os << "_eps" << bitsOf(c.eps);
  if (c.scale && *c.scale != defaultScale(c.headDim))
    os << "_s" << bitsOf(*c.scale);
  if (c.layout) {
    os << "_" << *c.layout << "_p" << c.pageSize;
    if (quantizesToFp8(c))
      os << "_" << c.fp8;
  }
  return name;
}

static Type elementType(Builder &b, llvm::StringRef dtype) {
  if (dtype == "bf16")
    return b.getBF16Type();
  if (dtype == "f16")
    return b.getF16Type();
  return b.getF32Type();
}

/// The body of a store kernel: dsv4.fused_store itself, not a chain. The unfused chain's rows
/// have kv's type (bf16 kv rounds them before the quantization), while a store quantizes the
/// f32 row: only the fused op says that for every kv type.
static Value buildStore(OpBuilder &b, Location loc, const KernelConfig &c, ValueRange args) {
  TypeAttr fp8;
  if (quantizesToFp8(c))
    fp8 = TypeAttr::get(c.fp8 == "fnuz" ? Type(b.getType<Float8E4M3FNUZType>())
                                        : Type(b.getType<Float8E4M3FNType>()));
  PositionSource source = c.mode == "decode" ? PositionSource::decode : PositionSource::prefill;
  return FusedStoreOp::create(
      b, loc, args[4].getType(), source, *symbolizeCacheLayout(*c.layout), args[0], args[1],
      args[2], args[3], args[4], args[5], c.ratio, APFloat(c.eps), c.ropeDim,
      c.rotate ? b.getF32FloatAttr(c.effectiveScale()) : FloatAttr(), c.pageSize, fp8);
}

func::FuncOp mlir::dsv4::buildKernel(OpBuilder &b, Location loc, const KernelConfig &c,
                                     llvm::StringRef name) {
  const int64_t dyn = ShapedType::kDynamic;
  auto kvType = RankedTensorType::get({dyn, c.headDim}, elementType(b, c.kvDtype));
  auto weightType = RankedTensorType::get({c.headDim}, elementType(b, c.weightDtype));
  auto freqsType = RankedTensorType::get({dyn, c.ropeDim}, b.getF32Type());
  bool decode = c.mode == "decode";
  auto handleType = decode ? RankedTensorType::get({dyn}, b.getI32Type())
                           : RankedTensorType::get({dyn, kPlanFields}, b.getI32Type());
  auto itemsType = RankedTensorType::get({dyn, kItemFields}, b.getI32Type());

  SmallVector<Type> params = {kvType, weightType, freqsType, handleType};
  Type result = kvType;
  if (c.layout) {
    result = RankedTensorType::get({dyn}, b.getI8Type());
    params.append({result, RankedTensorType::get({dyn}, b.getI64Type())});
  }
  auto func = func::FuncOp::create(b, loc, name, b.getFunctionType(params, {result}));
  OpBuilder::InsertionGuard guard(b);
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  if (c.layout) {
    func::ReturnOp::create(b, loc, buildStore(b, loc, c, body->getArguments()));
    return func;
  }
  Value kv = body->getArgument(0), weight = body->getArgument(1),
        freqs = body->getArgument(2), handle = body->getArgument(3);
  IntegerAttr ratio = b.getI64IntegerAttr(c.ratio);
  Value items = decode ? DecodeItemsOp::create(b, loc, itemsType, handle, freqs, ratio).getResult()
                       : PrefillItemsOp::create(b, loc, itemsType, handle, freqs, ratio).getResult();
  Value y = RmsNormOp::create(b, loc, kvType, kv, items, weight, b.getF32FloatAttr(c.eps));
  y = RopeOp::create(b, loc, kvType, y, items, freqs, b.getI64IntegerAttr(c.ropeDim));
  if (c.rotate)
    y = HadamardOp::create(b, loc, kvType, y, items, b.getF32FloatAttr(c.effectiveScale()));
  func::ReturnOp::create(b, loc, y);
  return func;
}
