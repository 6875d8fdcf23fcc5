// Quantization of a row and the byte stores of a cache slot (see QuantizeStore.h); the
// arithmetic itself (FP8 and e2m1 rounding, ue8m0, slot addresses) is
// dsv4/Conversion/CacheStore.h.
#include "QuantizeStore.h"

#include "LoopBuilders.h"
#include "dsv4/Conversion/Constants.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::dsv4;

namespace {
Value bitsOf(ImplicitLocOpBuilder &b, Value f32) {
  return arith::BitcastOp::create(b, b.getI32Type(), f32);
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
                                 Type codeType) {
  forEach(b, indexConst(b, numBlocks), [&](Value w) {
    Value first = arith::MulIOp::create(b, w, indexConst(b, block));
    auto channel = [&](Value i) -> Value { return arith::AddIOp::create(b, first, i); };
    auto input = [&](Value i) -> Value {
      Value value = memref::LoadOp::create(b, x, channel(i));
      return roundsToBf16First(format) ? emitRoundToBf16(b, value) : value;
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
    BlockScale blockScale = emitBlockScale(b, amaxLoop.getResult(0), format, codeType);
    Value scale = format == ScaleFormat::f32
                      ? blockScale.scale
                      : arith::TruncIOp::create(b, b.getI8Type(), blockScale.scale);
    memref::StoreOp::create(b, scale, scales, w);
    // f32 and ue8m0 multiply by the block's inverse; mx converts as the kernels' scaled
    // conversion does (emitMxConversion).
    forEach(b, indexConst(b, block), [&](Value i) {
      Value value = input(i);
      Value code;
      if (blockScale.inverse) {
        code = emitCodeBits(b, arith::MulFOp::create(b, value, blockScale.inverse), codeType);
      } else {
        value = arith::MulFOp::create(b, value, blockScale.mx.prescale);
        code = emitScaledCodeBits(b, value, blockScale.mx.exponent, codeType);
      }
      memref::StoreOp::create(b, code, codes, channel(i));
    });
  });
}

void mlir::dsv4::emitStoreToken(ImplicitLocOpBuilder &b, Value cache, const SlotAddress &slot,
                                const CacheGeometry &geometry, Value codes, Value scales,
                                Value x) {
  if (geometry.codes == CodeFormat::e2m1) {
    // Byte k: code 2k in the low nibble, code 2k + 1 in the high one.
    forEach(b, indexConst(b, geometry.codeBytes()), [&](Value k) {
      Value even = arith::MulIOp::create(b, k, indexConst(b, 2));
      Value odd = arith::AddIOp::create(b, even, indexConst(b, 1));
      Value low = memref::LoadOp::create(b, codes, even);
      Value high = memref::LoadOp::create(b, codes, odd);
      Value byte = arith::OrIOp::create(
          b, low, arith::ShLIOp::create(b, high, arith::ConstantIntOp::create(b, b.getI8Type(), 4)));
      memref::StoreOp::create(b, byte, cache, asIndex(b, plusIndex(b, slot.row, k)));
    });
  } else {
    forEach(b, indexConst(b, geometry.quantized), [&](Value c) {
      Value code = memref::LoadOp::create(b, codes, c);
      memref::StoreOp::create(b, code, cache, asIndex(b, plusIndex(b, slot.row, c)));
    });
  }
  forEach(b, indexConst(b, geometry.tail), [&](Value r) {
    Value channel = arith::AddIOp::create(b, r, indexConst(b, geometry.quantized));
    Value value = memref::LoadOp::create(b, x, channel);
    Value bf16 = arith::TruncFOp::create(b, b.getBF16Type(), value);
    Value bits = arith::BitcastOp::create(b, b.getI16Type(), bf16);
    Value at = plusIndex(b, arith::AddIOp::create(b, slot.row, i64Const(b, geometry.codeBytes())),
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
