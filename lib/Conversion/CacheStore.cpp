// The store arithmetic of SPEC.md (see include/dsv4/Conversion/CacheStore.h). Every helper is
// elementwise, so the kernel's runs and the loops' scalars share it.
#include "dsv4/Conversion/CacheStore.h"
#include "dsv4/Conversion/Constants.h"
#include "dsv4/Conversion/Ue8m0Quotient.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::dsv4;

namespace {
/// `element` shaped like `like`: itself for a scalar, a vector of the same shape otherwise.
Type shapedLike(Value like, Type element) {
  if (auto vector = dyn_cast<VectorType>(like.getType()))
    return VectorType::get(vector.getShape(), element);
  return element;
}

/// A constant (splat for a vector) of `value` in the shape of `like`.
Value constantLike(ImplicitLocOpBuilder &b, Value like, TypedAttr value) {
  Type type = shapedLike(like, value.getType());
  if (auto vector = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(b, DenseElementsAttr::get(vector, value));
  return arith::ConstantOp::create(b, value);
}

Value i32Like(ImplicitLocOpBuilder &b, Value like, int64_t value) {
  return constantLike(b, like, b.getI32IntegerAttr(value));
}

Value f32Like(ImplicitLocOpBuilder &b, Value like, APFloat value) {
  return constantLike(b, like, b.getF32FloatAttr(value.convertToFloat()));
}

Value bitsOf(ImplicitLocOpBuilder &b, Value f32) {
  return arith::BitcastOp::create(b, shapedLike(f32, b.getI32Type()), f32);
}
} // namespace

Value mlir::dsv4::emitCodeBits(ImplicitLocOpBuilder &b, Value v, Type codeType) {
  const llvm::fltSemantics &sem = cast<FloatType>(codeType).getFloatSemantics();
  int bias = 1 - llvm::APFloat::semanticsMinExponent(sem);
  int mantissaBits = llvm::APFloat::semanticsPrecision(sem) - 1;
  int shift = kF32MantissaFieldBits - mantissaBits;
  Value magnitudeIn = math::AbsFOp::create(b, v);
  Value clamped =
      arith::MinNumFOp::create(b, magnitudeIn, f32Like(b, v, getQuantizedMax(codeType)));

  // Subnormal results: whole multiples of the smallest subnormal 2^(1 - bias - mantissaBits),
  // counted by an exact power-of-two scaling and a round-half-even to integer.
  Value units = arith::MulFOp::create(
      b, clamped, f32Like(b, v, APFloat(std::ldexp(1.0f, bias - 1 + mantissaBits))));
  Value subnormal = arith::FPToUIOp::create(b, shapedLike(v, b.getI32Type()),
                                            math::RoundEvenOp::create(b, units));
  // Normal results: round the f32 mantissa to `mantissaBits` (half to even), then rebias.
  Value bits = bitsOf(b, clamped);
  Value lsb = arith::AndIOp::create(b, arith::ShRUIOp::create(b, bits, i32Like(b, v, shift)),
                                    i32Like(b, v, 1));
  Value rounded = arith::AddIOp::create(
      b, bits, arith::AddIOp::create(b, lsb, i32Like(b, v, (1 << (shift - 1)) - 1)));
  Value normal =
      arith::SubIOp::create(b, arith::ShRUIOp::create(b, rounded, i32Like(b, v, shift)),
                            i32Like(b, v, (kF32ExponentBias - bias) << mantissaBits));
  Value isSubnormal = arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, clamped,
                                            f32Like(b, v, APFloat(std::ldexp(1.0f, 1 - bias))));
  Value magnitude = arith::SelectOp::create(b, isSubnormal, subnormal, normal);

  auto codeOf = [&](APFloat value) { return int64_t(value.bitcastToAPInt().getZExtValue()); };
  Value negative =
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, bitsOf(b, v), i32Like(b, v, 0));
  Value isZero =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, magnitude, i32Like(b, v, 0));
  int64_t sign = int64_t(1) << (llvm::APFloat::semanticsSizeInBits(sem) - 1);
  Value signBit = arith::SelectOp::create(
      b, isZero, i32Like(b, v, codeOf(APFloat::getZero(sem, /*Negative=*/true))),
      i32Like(b, v, sign));
  Value withSign = arith::OrIOp::create(
      b, magnitude, arith::SelectOp::create(b, negative, signBit, i32Like(b, v, 0)));
  Value isNan = arith::CmpFOp::create(b, arith::CmpFPredicate::UNO, v, v);
  APFloat nan = llvm::APFloat::semanticsHasNaN(sem) ? APFloat::getNaN(sem)
                                                     : APFloat::getLargest(sem);
  Value code = arith::SelectOp::create(b, isNan, i32Like(b, v, codeOf(nan)), withSign);
  return arith::TruncIOp::create(b, shapedLike(v, b.getI8Type()), code);
}

Value mlir::dsv4::emitRoundToBf16(ImplicitLocOpBuilder &b, Value v) {
  Value bf16 = arith::TruncFOp::create(b, shapedLike(v, b.getBF16Type()), v);
  return arith::ExtFOp::create(b, shapedLike(v, b.getF32Type()), bf16);
}

Value mlir::dsv4::emitUe8m0OfQuotient(ImplicitLocOpBuilder &b, Value amax, APFloat max) {
  Ue8m0Divisor divisor = ue8m0DivisorOf(max.convertToFloat());
  Value bits = bitsOf(b, amax);
  Value exponent = arith::SubIOp::create(
      b, arith::ShRUIOp::create(b, bits, i32Like(b, amax, kF32MantissaFieldBits)),
      i32Like(b, amax, divisor.exponentField - kF32ExponentBias));
  Value mantissa = arith::AndIOp::create(b, bits, i32Like(b, amax, kF32MantissaMask));
  Value above = arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, mantissa,
                                      i32Like(b, amax, divisor.mantissa));
  Value finite = arith::AddIOp::create(
      b, exponent, arith::ExtUIOp::create(b, shapedLike(amax, b.getI32Type()), above));
  Value infinite = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, bits,
                                         i32Like(b, amax, kF32InfinityBits));
  return arith::SelectOp::create(b, infinite, i32Like(b, amax, kInfiniteUe8m0), finite);
}

Value mlir::dsv4::emitUe8m0Inverse(ImplicitLocOpBuilder &b, Value exponent) {
  // f32 bits of 2^(127 - e): up to e = 253, biased exponent 254 - e and no mantissa; from 254
  // (an amax of 2^127 and more, or infinite: e = 255) the subnormal 2^-127 = 0x00400000
  // shifted right by e - 254. The shift is clamped at 0 so that neither side is poison.
  Value normalBits = arith::ShLIOp::create(
      b, arith::SubIOp::create(b, i32Like(b, exponent, 2 * kF32ExponentBias), exponent),
      i32Like(b, exponent, kF32MantissaFieldBits));
  int64_t firstSubnormal = 2 * kF32ExponentBias;
  Value shift = arith::MaxSIOp::create(
      b, arith::SubIOp::create(b, exponent, i32Like(b, exponent, firstSubnormal)),
      i32Like(b, exponent, 0));
  Value subnormalBits = arith::ShRUIOp::create(
      b, i32Like(b, exponent, int64_t(1) << (kF32MantissaFieldBits - 1)), shift);
  Value subnormal = arith::CmpIOp::create(b, arith::CmpIPredicate::sge, exponent,
                                          i32Like(b, exponent, firstSubnormal));
  Value inverseBits = arith::SelectOp::create(b, subnormal, subnormalBits, normalBits);
  return arith::BitcastOp::create(b, shapedLike(exponent, b.getF32Type()), inverseBits);
}

MxConversion mlir::dsv4::emitMxConversion(ImplicitLocOpBuilder &b, Value exponent) {
  Value converted =
      arith::MinUIOp::create(b, exponent, i32Like(b, exponent, kMaxConvertExponent));
  // f32 bits of 2^(converted - exponent): biased exponent 127 + converted - exponent.
  Value prescaleBits = arith::ShLIOp::create(
      b,
      arith::SubIOp::create(
          b, arith::AddIOp::create(b, converted, i32Like(b, exponent, kF32ExponentBias)), exponent),
      i32Like(b, exponent, kF32MantissaFieldBits));
  return {converted,
          arith::BitcastOp::create(b, shapedLike(exponent, b.getF32Type()), prescaleBits)};
}

BlockScale mlir::dsv4::emitBlockScale(ImplicitLocOpBuilder &b, Value amax, ScaleFormat format,
                                      Type codeType) {
  Value floored = arith::MaxNumFOp::create(b, amax, f32Like(b, amax, APFloat(kMinAmax)));
  APFloat max = getQuantizedMax(codeType);
  BlockScale block;
  switch (format) {
  case ScaleFormat::f32:
    block.scale = arith::DivFOp::create(b, floored, f32Like(b, amax, max));
    block.inverse = arith::DivFOp::create(b, f32Like(b, amax, APFloat(1.0f)), block.scale);
    break;
  case ScaleFormat::ue8m0:
    block.scale = emitUe8m0OfQuotient(b, floored, max);
    block.inverse = emitUe8m0Inverse(b, block.scale);
    break;
  case ScaleFormat::mx:
    block.scale = emitUe8m0OfQuotient(b, floored, max);
    block.mx = emitMxConversion(b, block.scale);
    break;
  }
  return block;
}

Value mlir::dsv4::emitScaledCodeBits(ImplicitLocOpBuilder &b, Value x, Value exponent,
                                     Type codeType) {
  return emitCodeBits(b, arith::MulFOp::create(b, x, emitUe8m0Inverse(b, exponent)), codeType);
}

namespace {
/// Bytes of e2m1 codes (i8 each, a 1-D vector of even length): element 2k in the low nibble
/// of byte k, 2k+1 in the high one (SPEC.md's order).
Value packNibbles(ImplicitLocOpBuilder &b, Value codes) {
  int64_t count = cast<VectorType>(codes.getType()).getNumElements();
  SmallVector<int64_t> even, odd;
  for (int64_t k = 0; k < count / 2; ++k) {
    even.push_back(2 * k);
    odd.push_back(2 * k + 1);
  }
  Value low = vector::ShuffleOp::create(b, codes, codes, even);
  Value high = vector::ShuffleOp::create(b, codes, codes, odd);
  return arith::OrIOp::create(
      b, low, arith::ShLIOp::create(b, high, constantLike(b, high, b.getI8IntegerAttr(4))));
}
} // namespace

void mlir::dsv4::expandE2m1Conversions(Operation *root) {
  SmallVector<arith::ScalingTruncFOp> conversions;
  root->walk([&](arith::ScalingTruncFOp op) {
    if (isa<Float4E2M1FNType>(getElementTypeOrSelf(op.getType())))
      conversions.push_back(op);
  });
  for (arith::ScalingTruncFOp op : conversions) {
    ImplicitLocOpBuilder b(op.getLoc(), op);
    Value scale = op.getScale();
    Value scaleBits = arith::BitcastOp::create(b, shapedLike(scale, b.getI8Type()), scale);
    Value exponent = arith::ExtUIOp::create(b, shapedLike(scale, b.getI32Type()), scaleBits);
    Value codes = emitScaledCodeBits(b, op.getIn(), exponent, getElementTypeOrSelf(op.getType()));
    for (Operation *user : llvm::make_early_inc_range(op->getUsers())) {
      auto bitcast = dyn_cast<vector::BitCastOp>(user);
      if (!bitcast || !getElementTypeOrSelf(bitcast.getType()).isInteger(8))
        continue;
      bitcast.replaceAllUsesWith(packNibbles(b, codes));
      bitcast.erase();
    }
    Value nibbles = arith::TruncIOp::create(b, shapedLike(codes, b.getIntegerType(4)), codes);
    op.replaceAllUsesWith(arith::BitcastOp::create(b, op.getType(), nibbles).getResult());
    op.erase();
  }
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
  // The scales are a token's last bytes: the slot fits when page * pageBytes + end <=
  // cache_bytes. A page above INT64_MAX / pageBytes (a huge out_loc) fits no cache; below it
  // the product does not overflow, so no division is needed. (A negative page's product may
  // wrap; `valid` rejects it.)
  int64_t pageBytes = geometry.pageBytes(pageSize);
  Value end = arith::AddIOp::create(b, scalesInPage, i64Const(b, geometry.scaleBytes()));
  Value endFits = arith::CmpIOp::create(b, arith::CmpIPredicate::sle, end, cacheBytes);
  Value pageInRange = arith::CmpIOp::create(
      b, arith::CmpIPredicate::sle, page,
      i64Const(b, std::numeric_limits<int64_t>::max() / pageBytes));
  Value pageFits = arith::CmpIOp::create(b, arith::CmpIPredicate::sle, pageBase,
                                         arith::SubIOp::create(b, cacheBytes, end));
  Value valid = arith::CmpIOp::create(b, arith::CmpIPredicate::sge, outLoc, i64Const(b, 0));
  Value stores = arith::AndIOp::create(
      b, arith::AndIOp::create(b, valid, pageInRange),
      arith::AndIOp::create(b, endFits, pageFits));
  return {arith::AddIOp::create(b, pageBase, rowInPage),
          arith::AddIOp::create(b, pageBase, scalesInPage), stores};
}

Value mlir::dsv4::toI64Slot(ImplicitLocOpBuilder &b, Value slot) {
  if (slot.getType().isInteger(64))
    return slot;
  return arith::ExtSIOp::create(b, b.getI64Type(), slot);
}

Value mlir::dsv4::emitIsBoundary(ImplicitLocOpBuilder &b, Value seqLen, int64_t ratio) {
  Value ratioValue = arith::ConstantIntOp::create(b, b.getI32Type(), ratio);
  Value remainder = arith::RemSIOp::create(b, seqLen, ratioValue);
  return arith::CmpIOp::create(b, arith::CmpIPredicate::eq, remainder,
                               arith::ConstantIntOp::create(b, b.getI32Type(), 0));
}
