// dsv4-lower-e2m1: the kernels' e2m1 conversions for one chip (see Passes.td).
#include "dsv4/Conversion/CacheStore.h"
#include "dsv4/Conversion/Passes.h"
#include "dsv4/Conversion/Ue8m0Quotient.h"
#include "dsv4/Target/Chips.h"

#include "mlir/Dialect/AMDGPU/IR/AMDGPUDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <numeric>

namespace mlir::dsv4 {
#define GEN_PASS_DEF_DSV4LOWERE2M1
#include "dsv4/Conversion/Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;
using namespace mlir::dsv4;

namespace {
/// Codes a 32-bit word holds: what one amdgpu.packed_scaled_trunc chain fills.
constexpr int64_t kCodesPerWord = 8;

/// The byte view of `conversion`'s codes: its one user, a vector.bitcast to i8.
vector::BitCastOp bytesOf(arith::ScalingTruncFOp conversion) {
  if (!conversion->hasOneUse())
    return nullptr;
  auto bitcast = dyn_cast<vector::BitCastOp>(*conversion->getUsers().begin());
  return bitcast && getElementTypeOrSelf(bitcast.getType()).isInteger(8) ? bitcast : nullptr;
}

/// 2^(e - 127) as an f32 for an E8M0 scale `scale`: its bits are e, those of the f32's
/// exponent field, which is all v_cvt_scalef32_pk_fp4_f32 reads of its scale operand.
Value scaleAsF32(ImplicitLocOpBuilder &b, Value scale) {
  Value byte = arith::BitcastOp::create(b, b.getI8Type(), scale);
  Value exponent = arith::ExtUIOp::create(b, b.getI32Type(), byte);
  Value bits = arith::ShLIOp::create(
      b, exponent, arith::ConstantIntOp::create(b, b.getI32Type(), kF32MantissaFieldBits));
  return arith::BitcastOp::create(b, b.getF32Type(), bits);
}

/// The bytes of `values` (f32, a 1-D vector of even length) converted by the chip: a word of
/// eight codes per amdgpu.packed_scaled_trunc chain (pair k into codes 2k, 2k + 1), as bytes.
Value convertByInstruction(ImplicitLocOpBuilder &b, Value values, Value scale) {
  int64_t count = cast<VectorType>(values.getType()).getNumElements();
  auto wordType = VectorType::get({kCodesPerWord}, b.getType<Float4E2M1FNType>());
  auto wordBytes = VectorType::get({kCodesPerWord / 2}, b.getI8Type());
  Value bytes;
  for (int64_t first = 0; first < count; first += kCodesPerWord) {
    int64_t codes = std::min(kCodesPerWord, count - first);
    Value word;
    for (int64_t pair = 0; pair < codes / 2; ++pair) {
      int64_t at = first + 2 * pair;
      Value source = vector::FromElementsOp::create(
          b, VectorType::get({2}, b.getF32Type()),
          ValueRange{vector::ExtractOp::create(b, values, at),
                     vector::ExtractOp::create(b, values, at + 1)});
      word = amdgpu::PackedScaledTruncOp::create(b, wordType, source, scale, pair, word);
    }
    // Shuffles, not strided slices: the ROCDL lowering has no pattern for the latter.
    Value chunk = vector::BitCastOp::create(b, wordBytes, word);
    if (codes < kCodesPerWord) {
      SmallVector<int64_t> leading(codes / 2);
      std::iota(leading.begin(), leading.end(), 0);
      chunk = vector::ShuffleOp::create(b, chunk, chunk, leading);
    }
    if (!bytes) {
      bytes = chunk;
      continue;
    }
    int64_t have = cast<VectorType>(bytes.getType()).getNumElements();
    SmallVector<int64_t> order(have + codes / 2);
    std::iota(order.begin(), order.end(), 0);
    bytes = vector::ShuffleOp::create(b, bytes, chunk, order);
  }
  return bytes;
}

struct Dsv4LowerE2m1Pass : dsv4::impl::Dsv4LowerE2m1Base<Dsv4LowerE2m1Pass> {
  using Dsv4LowerE2m1Base::Dsv4LowerE2m1Base;

  void runOnOperation() override {
    const Chip *target = lookupChip(chip);
    if (!target) {
      getOperation().emitError() << "dsv4-lower-e2m1: unknown chip '" << chip.getValue()
                                 << "': dsv4 compiles for " << supportedChips();
      return signalPassFailure();
    }
    if (!target->scaledFp4) {
      expandE2m1Conversions(getOperation());
      return;
    }
    SmallVector<arith::ScalingTruncFOp> conversions;
    getOperation().walk([&](arith::ScalingTruncFOp op) {
      if (isa<Float4E2M1FNType>(getElementTypeOrSelf(op.getType())))
        conversions.push_back(op);
    });
    for (arith::ScalingTruncFOp op : conversions)
      if (failed(lowerByInstruction(op)))
        return signalPassFailure();
  }

  /// The store kernel's shape only: f32 values of a 1-D vector of even length, one scale
  /// broadcast to all of them, the codes taken as bytes.
  LogicalResult lowerByInstruction(arith::ScalingTruncFOp op) {
    auto type = dyn_cast<VectorType>(op.getIn().getType());
    auto broadcast = op.getScale().getDefiningOp<vector::BroadcastOp>();
    vector::BitCastOp bitcast = bytesOf(op);
    if (!type || type.getRank() != 1 || type.getNumElements() % 2 != 0 ||
        !type.getElementType().isF32() || !broadcast ||
        isa<VectorType>(broadcast.getSource().getType()) || !bitcast)
      return op.emitError("dsv4-lower-e2m1 lowers f32 pairs (a 1-D vector) with one broadcast "
                          "scale, taken as bytes by a vector.bitcast; not this conversion");
    ImplicitLocOpBuilder b(op.getLoc(), op);
    Value bytes = convertByInstruction(b, op.getIn(), scaleAsF32(b, broadcast.getSource()));
    bitcast.replaceAllUsesWith(bytes);
    bitcast.erase();
    op.erase();
    if (broadcast->use_empty())
      broadcast.erase();
    return success();
  }
};
} // namespace
