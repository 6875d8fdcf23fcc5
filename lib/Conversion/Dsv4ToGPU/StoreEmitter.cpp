// The quantize-and-store step of a store kernel (see StoreEmitter.h).
//
// A block of `block` channels spans index bits [0, log2(block)). Each register's value lies in
// block (registerOffset >> blockBits) | (laneOffset >> blockBits): registers with the same
// high bits share a lane-local partial amax, and a xor reduction over only the lane bits below
// blockBits leaves every lane with the amax of each of its blocks (D=512, 32 lanes: lane bit 4
// is index bit 6, so lanes 0-15 and 16-31 reduce separately, 4 partials x 4 shuffles).
#include "StoreEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <map>
#include <numeric>

using namespace mlir;
using namespace mlir::dsv4;

namespace {
/// FP8 values are converted and stored one 32-bit word at a time: two v_cvt_pk_fp8_f32 fill
/// a word in place, while convert-arith-to-amdgpu assembles wider vectors with
/// vector.insert_strided_slice, which the ROCDL lowering leaves unconverted.
constexpr int64_t kFp8Word = 4;

class StoreEmitter {
public:
  StoreEmitter(ImplicitLocOpBuilder &b, const StoreConfig &store, const LaneRow &row,
               Value cache, const SlotAddress &slot)
      : b(b), store(store), row(row), cache(cache), slot(slot),
        geometry(getCacheGeometry(store.layout)),
        blockBits(llvm::Log2_64(geometry.block)) {}

  void emit(Value stores) {
    roundInputs();
    reduceAmaxes();
    computeScales();
    auto ifStores = scf::IfOp::create(b, stores, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifStores.thenBlock()->getTerminator());
    for (int64_t reg = 0; reg < int64_t(inputs.size()); reg += row.runWidth)
      storeRun(reg);
    storeScales();
  }

private:
  ImplicitLocOpBuilder &b;
  const StoreConfig &store;
  const LaneRow &row;
  Value cache;
  const SlotAddress &slot;
  CacheGeometry geometry;
  int blockBits;
  /// What the quantization reads: the row, or its bf16 rounding for ue8m0 scales.
  SmallVector<Value> inputs;
  /// Per block key (registerOffset >> blockBits): the amax, then the multiplier and the
  /// scale as stored (f32, or the ue8m0 exponent as i32).
  std::map<int64_t, Value> amax, inverse, scale;

  bool ue8m0() const { return geometry.scaleFormat == ScaleFormat::ue8m0; }
  int64_t keyOf(int64_t reg) const { return row.layout.registerOffset(reg) >> blockBits; }
  /// The largest lane part of an index (all lane bits set).
  int64_t maxLaneOffset() const {
    int64_t offset = 0;
    for (int bit : row.layout.laneBits)
      offset |= int64_t(1) << bit;
    return offset;
  }
  /// The byte alignment every token row start has: the cache base is kAccessBytes-aligned
  /// (the manifest's cache_align) and rows start at page * pageBytes + token * rowBytes.
  int64_t rowAlignment() const {
    return std::gcd(std::gcd(geometry.pageBytes(store.pageSize), geometry.rowBytes),
                    kAccessBytes);
  }
  int64_t scaleAlignment() const {
    return std::gcd(std::gcd(rowAlignment(), geometry.rowBytes * store.pageSize),
                    geometry.scaleStride);
  }

  Value index(int64_t value) { return arith::ConstantIndexOp::create(b, value); }
  Value f32(APFloat value) { return arith::ConstantFloatOp::create(b, b.getF32Type(), value); }
  /// Byte `offset` (index) past the i64 byte offset `base`, as a cache index.
  Value cacheIndex(Value base, Value offset) {
    Value at = arith::IndexCastOp::create(b, b.getIndexType(), base);
    return arith::AddIOp::create(b, at, offset);
  }
  void storeBytes(Value vector, Value at, int64_t alignment) {
    vector::StoreOp::create(b, vector, cache, ValueRange{at}, /*nontemporal=*/false,
                            llvm::MaybeAlign(alignment));
  }

  void roundInputs() {
    for (Value value : row.values)
      inputs.push_back(ue8m0() ? emitRoundToBf16(b, value) : value);
  }

  /// maxNum throughout: a NaN value does not poison its block (SPEC.md).
  void reduceAmaxes() {
    for (auto [reg, value] : llvm::enumerate(inputs)) {
      Value magnitude = math::AbsFOp::create(b, value);
      auto [it, first] = amax.try_emplace(keyOf(reg), magnitude);
      if (!first)
        it->second = arith::MaxNumFOp::create(b, it->second, magnitude);
    }
    for (auto [k, bit] : llvm::enumerate(row.layout.laneBits)) {
      if (bit >= blockBits)
        continue; // lanes that differ here hold different blocks
      for (auto &[key, value] : amax)
        value = arith::MaxNumFOp::create(b, value, row.shuffleXor(value, int64_t(1) << k));
    }
  }

  void computeScales() {
    for (auto &[key, blockAmax] : amax) {
      Value floored = arith::MaxNumFOp::create(b, blockAmax, f32(APFloat(kMinAmax)));
      Value quotient = arith::DivFOp::create(b, floored, f32(getFp8Max(store.fp8Type)));
      if (ue8m0()) {
        scale[key] = emitUe8m0RoundUp(b, quotient);
        inverse[key] = emitUe8m0Inverse(b, scale[key]);
      } else {
        scale[key] = quotient;
        inverse[key] = arith::DivFOp::create(b, f32(APFloat(1.0f)), quotient);
      }
    }
  }

  /// `ifTrue` where `cond` holds, `ifFalse` elsewhere; a constant condition emits one side.
  void branch(std::optional<bool> known, function_ref<Value()> cond,
              function_ref<void()> ifTrue, function_ref<void()> ifFalse) {
    if (known) {
      *known ? ifTrue() : ifFalse();
      return;
    }
    auto ifOp = scf::IfOp::create(b, cond(), /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    ifTrue();
    b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
    ifFalse();
  }

  /// Whether every lane's run at register offset `offset` is below `limit`: true, false, or
  /// unknown (it depends on the lane).
  std::optional<bool> allBelow(int64_t offset, int64_t limit) const {
    if (offset + maxLaneOffset() < limit)
      return true;
    if (offset >= limit)
      return false;
    return std::nullopt;
  }

  /// The run at register `reg`: FP8 bytes for quantized channels, bf16 for the tail.
  void storeRun(int64_t reg) {
    int64_t width = row.runWidth;
    int64_t offset = row.layout.registerOffset(reg);
    Value start = arith::AddIOp::create(b, row.laneOffset, index(offset));
    auto run = [&](ArrayRef<Value> values) -> Value {
      return vector::FromElementsOp::create(b, VectorType::get({width}, b.getF32Type()),
                                            values.slice(reg, width));
    };
    auto storeFp8 = [&] {
      int64_t chunk = std::min(width, kFp8Word);
      auto chunkType = VectorType::get({chunk}, b.getF32Type());
      Value multiplier = vector::BroadcastOp::create(b, chunkType, inverse[keyOf(reg)]);
      for (int64_t e = 0; e < width; e += chunk) {
        Value values = vector::FromElementsOp::create(b, chunkType,
                                                      ArrayRef(inputs).slice(reg + e, chunk));
        Value scaled = arith::MulFOp::create(b, values, multiplier);
        // The chip's conversion: rounds to nearest even and saturates (the back ends see to it).
        Value fp8 = arith::TruncFOp::create(b, VectorType::get({chunk}, store.fp8Type), scaled);
        Value bytes = arith::BitcastOp::create(b, VectorType::get({chunk}, b.getI8Type()), fp8);
        Value at = arith::AddIOp::create(b, start, index(e));
        storeBytes(bytes, cacheIndex(slot.row, at), std::min<int64_t>(chunk, rowAlignment()));
      }
    };
    auto storeTail = [&] {
      // bf16 of the f32 row; taken from the bf16-rounded inputs, which round to the same
      // bits, so that the f32 row need not stay live (VGPRs) until the stores.
      Value bf16 = arith::TruncFOp::create(b, VectorType::get({width}, b.getBF16Type()),
                                           run(inputs));
      Value bytes =
          vector::BitCastOp::create(b, VectorType::get({2 * width}, b.getI8Type()), bf16);
      // Byte quantized + 2 * (channel - quantized) of the token's row.
      Value at = arith::SubIOp::create(
          b, arith::MulIOp::create(b, start, index(2)), index(geometry.quantized));
      storeBytes(bytes, cacheIndex(slot.row, at), std::min<int64_t>(2 * width, rowAlignment()));
    };
    branch(allBelow(offset, geometry.quantized), [&]() -> Value {
      return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, start,
                                   index(geometry.quantized));
    }, storeFp8, storeTail);
  }

  /// One lane per block writes its scale: the one holding the block's first channel.
  void storeScales() {
    Value mask = index(geometry.block - 1);
    Value first = arith::CmpIOp::create(
        b, arith::CmpIPredicate::eq, arith::AndIOp::create(b, row.laneOffset, mask), index(0));
    auto ifFirst = scf::IfOp::create(b, first, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifFirst.thenBlock()->getTerminator());
    for (auto &[key, value] : scale) {
      int64_t offset = key << blockBits;
      Value blockIndex = arith::ShRUIOp::create(
          b, arith::AddIOp::create(b, row.laneOffset, index(offset)), index(blockBits));
      branch(allBelow(offset, geometry.quantized), [&]() -> Value {
        return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, blockIndex,
                                     index(geometry.numBlocks()));
      }, [&] { storeScale(value, blockIndex); }, [] {});
    }
  }

  void storeScale(Value value, Value blockIndex) {
    if (ue8m0()) {
      Value byte = arith::TruncIOp::create(b, b.getI8Type(), value);
      memref::StoreOp::create(b, byte, cache, cacheIndex(slot.scales, blockIndex));
      return;
    }
    // f32, little-endian (both GPU families are).
    Value single = vector::BroadcastOp::create(b, VectorType::get({1}, b.getF32Type()), value);
    Value bytes = vector::BitCastOp::create(b, VectorType::get({4}, b.getI8Type()), single);
    Value at = arith::MulIOp::create(b, blockIndex, index(4));
    storeBytes(bytes, cacheIndex(slot.scales, at), std::min<int64_t>(4, scaleAlignment()));
  }
};
} // namespace

void mlir::dsv4::emitCacheStore(ImplicitLocOpBuilder &b, const StoreConfig &store,
                                const LaneRow &row, Value cache, const SlotAddress &slot,
                                Value stores) {
  StoreEmitter(b, store, row, cache, slot).emit(stores);
}
