// FP8 quantization of a row and the byte stores of a cache slot (see QuantizeStore.h). The FP8
// rounding is written out in integer arithmetic: LLVM has no FP8 type, and arith.truncf to
// FP8 neither saturates nor lowers on the host.
#include "QuantizeStore.h"

#include "LoopBuilders.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::dsv4;

namespace {
constexpr int kF32MantissaBits = 23;
constexpr int kF32Bias = 127;
/// SPEC.md: a block's amax is raised to this before it becomes a scale.
constexpr float kMinAmax = 1e-4f;

Value i32Const(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIntOp::create(b, b.getI32Type(), value);
}

Value i64Const(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIntOp::create(b, b.getI64Type(), value);
}

Value f32Const(ImplicitLocOpBuilder &b, APFloat value) {
  return arith::ConstantFloatOp::create(b, b.getF32Type(), value);
}

Value f32Const(ImplicitLocOpBuilder &b, float value) { return f32Const(b, APFloat(value)); }

Value bitsOf(ImplicitLocOpBuilder &b, Value f32) {
  return arith::BitcastOp::create(b, b.getI32Type(), f32);
}

/// The FP8 byte of f32 `v`: round to nearest even, saturate to +-FP8_MAX, NaN to the type's
/// NaN, and -0 to the type's negative zero (plain zero where it has none, as in fnuz).
Value emitToFp8(ImplicitLocOpBuilder &b, Value v, Type fp8) {
  const llvm::fltSemantics &sem = cast<FloatType>(fp8).getFloatSemantics();
  int bias = 1 - llvm::APFloat::semanticsMinExponent(sem);
  int mantissaBits = llvm::APFloat::semanticsPrecision(sem) - 1;
  int shift = kF32MantissaBits - mantissaBits;
  Value magnitudeIn = math::AbsFOp::create(b, v);
  Value clamped = arith::MinNumFOp::create(b, magnitudeIn, f32Const(b, getFp8Max(fp8)));

  // Subnormal results: whole multiples of the smallest subnormal 2^(1 - bias - mantissaBits),
  // counted by an exact power-of-two scaling and a round-half-even to integer.
  Value units = arith::MulFOp::create(
      b, clamped, f32Const(b, std::ldexp(1.0f, bias - 1 + mantissaBits)));
  Value subnormal =
      arith::FPToUIOp::create(b, b.getI32Type(), math::RoundEvenOp::create(b, units));
  // Normal results: round the f32 mantissa to `mantissaBits` (half to even), then rebias.
  Value bits = bitsOf(b, clamped);
  Value lsb = arith::AndIOp::create(b, arith::ShRUIOp::create(b, bits, i32Const(b, shift)),
                                    i32Const(b, 1));
  Value rounded = arith::AddIOp::create(
      b, bits, arith::AddIOp::create(b, lsb, i32Const(b, (1 << (shift - 1)) - 1)));
  Value normal = arith::SubIOp::create(b, arith::ShRUIOp::create(b, rounded, i32Const(b, shift)),
                                       i32Const(b, (kF32Bias - bias) << mantissaBits));
  Value isSubnormal = arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, clamped,
                                            f32Const(b, std::ldexp(1.0f, 1 - bias)));
  Value magnitude = arith::SelectOp::create(b, isSubnormal, subnormal, normal);

  auto codeOf = [&](APFloat value) { return int64_t(value.bitcastToAPInt().getZExtValue()); };
  Value negative =
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, bitsOf(b, v), i32Const(b, 0));
  Value isZero = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, magnitude, i32Const(b, 0));
  Value signBit = arith::SelectOp::create(
      b, isZero, i32Const(b, codeOf(APFloat::getZero(sem, /*Negative=*/true))),
      i32Const(b, 0x80));
  Value withSign = arith::OrIOp::create(
      b, magnitude, arith::SelectOp::create(b, negative, signBit, i32Const(b, 0)));
  Value isNan = arith::CmpFOp::create(b, arith::CmpFPredicate::UNO, v, v);
  Value code =
      arith::SelectOp::create(b, isNan, i32Const(b, codeOf(APFloat::getNaN(sem))), withSign);
  return arith::TruncIOp::create(b, b.getI8Type(), code);
}

/// f32(bf16_rne(v)): the one bf16 rounding of the framework's main-layout path.
Value roundToBf16(ImplicitLocOpBuilder &b, Value v) {
  Value bf16 = arith::TruncFOp::create(b, b.getBF16Type(), v);
  return arith::ExtFOp::create(b, b.getF32Type(), bf16);
}

/// The ue8m0 exponent of 2^(e-127) >= s for positive finite f32 `s` (i32).
Value ue8m0RoundUp(ImplicitLocOpBuilder &b, Value s) {
  Value bits = bitsOf(b, s);
  Value exponent = arith::ShRUIOp::create(b, bits, i32Const(b, kF32MantissaBits));
  Value mantissa = arith::AndIOp::create(b, bits, i32Const(b, (1 << kF32MantissaBits) - 1));
  Value inexact = arith::CmpIOp::create(b, arith::CmpIPredicate::ne, mantissa, i32Const(b, 0));
  return arith::AddIOp::create(b, exponent, arith::ExtUIOp::create(b, b.getI32Type(), inexact));
}

/// The byte offset `offset` (i64) as an index.
Value asIndex(ImplicitLocOpBuilder &b, Value offset) {
  return arith::IndexCastOp::create(b, b.getIndexType(), offset);
}

/// Writes the `count` little-endian bytes of integer `value` at byte `offset` (i64).
void storeBytes(ImplicitLocOpBuilder &b, Value cache, Value offset, Value value, int count) {
  if (value.getType().isInteger(8)) {
    memref::StoreOp::create(b, value, cache, asIndex(b, offset));
    return;
  }
  for (int k = 0; k < count; ++k) {
    Value shifted = arith::ShRUIOp::create(
        b, value, arith::ConstantIntOp::create(b, value.getType(), 8 * k));
    Value at = arith::AddIOp::create(b, offset, i64Const(b, k));
    memref::StoreOp::create(b, arith::TruncIOp::create(b, b.getI8Type(), shifted), cache,
                            asIndex(b, at));
  }
}

Value plusIndex(ImplicitLocOpBuilder &b, Value offset, Value index) {
  return arith::AddIOp::create(b, offset,
                               arith::IndexCastOp::create(b, b.getI64Type(), index));
}
} // namespace

void mlir::dsv4::emitQuantizeRow(ImplicitLocOpBuilder &b, Value x, Value codes, Value scales,
                                 ScaleFormat format, int64_t numBlocks, int64_t block,
                                 Type fp8) {
  bool ue8m0 = format == ScaleFormat::ue8m0;
  forEach(b, indexConst(b, numBlocks), [&](Value w) {
    Value first = arith::MulIOp::create(b, w, indexConst(b, block));
    auto channel = [&](Value i) -> Value { return arith::AddIOp::create(b, first, i); };
    auto input = [&](Value i) -> Value {
      Value value = memref::LoadOp::create(b, x, channel(i));
      return ue8m0 ? roundToBf16(b, value) : value;
    };
    auto amaxLoop = scf::ForOp::create(b, indexConst(b, 0), indexConst(b, block),
                                       indexConst(b, 1), ValueRange{f32Const(b, 0.0f)});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(amaxLoop.getBody());
      // maxNum: a NaN channel leaves amax alone (SPEC.md).
      Value amax = arith::MaxNumFOp::create(
          b, amaxLoop.getRegionIterArg(0),
          math::AbsFOp::create(b, input(amaxLoop.getInductionVar())));
      scf::YieldOp::create(b, amax);
    }
    Value floored = arith::MaxNumFOp::create(b, amaxLoop.getResult(0), f32Const(b, kMinAmax));
    Value scale = arith::DivFOp::create(b, floored, f32Const(b, getFp8Max(fp8)));
    Value inverse;
    if (ue8m0) {
      Value exponent = ue8m0RoundUp(b, scale);
      // 2^(127 - e) as f32 bits: biased exponent 254 - e, no mantissa.
      Value inverseBits = arith::ShLIOp::create(
          b, arith::SubIOp::create(b, i32Const(b, 2 * kF32Bias), exponent),
          i32Const(b, kF32MantissaBits));
      inverse = arith::BitcastOp::create(b, b.getF32Type(), inverseBits);
      memref::StoreOp::create(b, arith::TruncIOp::create(b, b.getI8Type(), exponent), scales, w);
    } else {
      inverse = arith::DivFOp::create(b, f32Const(b, 1.0f), scale);
      memref::StoreOp::create(b, scale, scales, w);
    }
    forEach(b, indexConst(b, block), [&](Value i) {
      Value scaled = arith::MulFOp::create(b, input(i), inverse);
      memref::StoreOp::create(b, emitToFp8(b, scaled, fp8), codes, channel(i));
    });
  });
}

SlotAddress mlir::dsv4::emitSlotAddress(ImplicitLocOpBuilder &b, const CacheGeometry &geometry,
                                        int64_t pageSize, Value outLoc, Value cacheBytes) {
  Value page = arith::ShRSIOp::create(b, outLoc, i64Const(b, llvm::Log2_64(pageSize)));
  Value token = arith::AndIOp::create(b, outLoc, i64Const(b, pageSize - 1));
  Value pageBase = arith::MulIOp::create(b, page, i64Const(b, geometry.pageBytes(pageSize)));
  Value rowInPage = arith::MulIOp::create(b, token, i64Const(b, geometry.rowBytes));
  Value scalesInPage = arith::AddIOp::create(
      b, i64Const(b, geometry.rowBytes * pageSize),
      arith::MulIOp::create(b, token, i64Const(b, geometry.scaleStride)));
  // The scales are a token's last bytes. Compared without forming page * pageBytes, which
  // overflows for a huge out_loc.
  Value end = arith::AddIOp::create(b, scalesInPage, i64Const(b, geometry.scaleBytes()));
  Value size = arith::IndexCastOp::create(b, b.getI64Type(), cacheBytes);
  Value endFits = arith::CmpIOp::create(b, arith::CmpIPredicate::sle, end, size);
  Value lastPage = arith::DivSIOp::create(b, arith::SubIOp::create(b, size, end),
                                          i64Const(b, geometry.pageBytes(pageSize)));
  Value pageFits = arith::CmpIOp::create(b, arith::CmpIPredicate::sle, page, lastPage);
  Value valid = arith::CmpIOp::create(b, arith::CmpIPredicate::sge, outLoc, i64Const(b, 0));
  Value stores = arith::AndIOp::create(b, valid, arith::AndIOp::create(b, endFits, pageFits));
  return {arith::AddIOp::create(b, pageBase, rowInPage),
          arith::AddIOp::create(b, pageBase, scalesInPage), stores};
}

void mlir::dsv4::emitStoreToken(ImplicitLocOpBuilder &b, Value cache, const SlotAddress &slot,
                                const CacheGeometry &geometry, Value codes, Value scales,
                                Value x) {
  forEach(b, indexConst(b, geometry.quantized), [&](Value c) {
    Value code = memref::LoadOp::create(b, codes, c);
    memref::StoreOp::create(b, code, cache, asIndex(b, plusIndex(b, slot.row, c)));
  });
  forEach(b, indexConst(b, geometry.tail), [&](Value r) {
    Value channel = arith::AddIOp::create(b, r, indexConst(b, geometry.quantized));
    Value value = memref::LoadOp::create(b, x, channel);
    Value bf16 = arith::TruncFOp::create(b, b.getBF16Type(), value);
    Value bits = arith::BitcastOp::create(b, b.getI16Type(), bf16);
    Value at = plusIndex(b, arith::AddIOp::create(b, slot.row, i64Const(b, geometry.quantized)),
                         arith::MulIOp::create(b, r, indexConst(b, 2)));
    storeBytes(b, cache, at, bits, 2);
  });
  int bytesPerScale = geometry.scaleFormat == ScaleFormat::f32 ? 4 : 1;
  forEach(b, indexConst(b, geometry.numBlocks()), [&](Value w) {
    Value scale = memref::LoadOp::create(b, scales, w);
    if (bytesPerScale == 4)
      scale = bitsOf(b, scale);
    Value at = plusIndex(b, slot.scales, arith::MulIOp::create(b, w, indexConst(b, bytesPerScale)));
    storeBytes(b, cache, at, scale, bytesPerScale);
  });
}

Value mlir::dsv4::emitIsBoundary(ImplicitLocOpBuilder &b, Value seqLen, int64_t ratio) {
  Value remainder = arith::RemSIOp::create(b, seqLen, i32Const(b, ratio));
  return arith::CmpIOp::create(b, arith::CmpIPredicate::eq, remainder, i32Const(b, 0));
}
