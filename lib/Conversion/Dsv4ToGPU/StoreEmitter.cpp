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
/// e2m1 values likewise, eight to a word: four v_cvt_scalef32_pk_fp4_f32 fill it on gfx950
/// (dsv4-lower-e2m1).
constexpr int64_t kE2m1Word = 8;

class StoreEmitter {
public:
  StoreEmitter(ImplicitLocOpBuilder &b, KernelSpecAttr store, const LaneRow &row,
               Value cache, const SlotAddress &slot)
      : b(b), store(store), row(row), cache(cache), slot(slot),
        geometry(getCacheGeometry(*store.getLayout())),
        codeType(getCodeType(b.getContext(), geometry, store.getFp8Type())),
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
  KernelSpecAttr store;
  const LaneRow &row;
  Value cache;
  const SlotAddress &slot;
  CacheGeometry geometry;
  Type codeType;
  int blockBits;
  /// What the quantization reads: the row, or its bf16 rounding for ue8m0 scales.
  SmallVector<Value> inputs;
  /// Per block key (registerOffset >> blockBits): the amax, then its BlockScale: the scale as
  /// stored (f32, or the exponent as i32) and how the block's codes are computed (the
  /// multiplier of f32 and ue8m0 scales, or mx's scaled conversion).
  std::map<int64_t, Value> amax;
  std::map<int64_t, BlockScale> blocks;

  /// One scale byte per block (ue8m0 or mx), rather than an f32.
  bool byteScales() const { return geometry.scaleFormat != ScaleFormat::f32; }
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
    return std::gcd(std::gcd(geometry.pageBytes(*store.getPageSize()), geometry.rowBytes),
                    kAccessBytes);
  }
  int64_t scaleAlignment() const {
    return std::gcd(std::gcd(rowAlignment(), geometry.rowBytes * *store.getPageSize()),
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
      inputs.push_back(roundsToBf16First(geometry.scaleFormat) ? emitRoundToBf16(b, value)
                                                                : value);
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
      // A block (at most 128 channels) fits the 32 lanes of a row part at 4 or more values a
      // lane: its shuffles never leave the subgroup.
      assert((int64_t(1) << k) < dsv4_abi::kShuffleLanes && "a scale block spans row parts");
      for (auto &[key, value] : amax)
        value = arith::MaxNumFOp::create(b, value, row.shuffleXor(value, int64_t(1) << k));
    }
  }

  void computeScales() {
    for (auto &[key, blockAmax] : amax)
      blocks[key] = emitBlockScale(b, blockAmax, geometry.scaleFormat, codeType);
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

  /// The run at register `reg`: FP8 bytes or e2m1 pairs for quantized channels, bf16 for the
  /// tail.
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
      Value multiplier = vector::BroadcastOp::create(b, chunkType, blocks.at(keyOf(reg)).inverse);
      for (int64_t e = 0; e < width; e += chunk) {
        Value values = vector::FromElementsOp::create(b, chunkType,
                                                      ArrayRef(inputs).slice(reg + e, chunk));
        Value scaled = arith::MulFOp::create(b, values, multiplier);
        // The chip's conversion: rounds to nearest even and saturates (the back ends see to it).
        Value fp8 = arith::TruncFOp::create(b, VectorType::get({chunk}, store.getFp8Type()), scaled);
        Value bytes = arith::BitcastOp::create(b, VectorType::get({chunk}, b.getI8Type()), fp8);
        Value at = arith::AddIOp::create(b, start, index(e));
        storeBytes(bytes, cacheIndex(slot.row, at), std::min<int64_t>(chunk, rowAlignment()));
      }
    };
    auto storeE2m1 = [&] {
      int64_t chunk = std::min(width, kE2m1Word);
      const MxConversion &conversion = blocks.at(keyOf(reg)).mx;
      Value prescale = vector::BroadcastOp::create(
          b, VectorType::get({chunk}, b.getF32Type()), conversion.prescale);
      // The conversion divides by 2^(exponent - 127): its E8M0 scale byte is the exponent.
      Type e8m0 = b.getType<Float8E8M0FNUType>();
      Value scaleByte = arith::BitcastOp::create(
          b, e8m0, arith::TruncIOp::create(b, b.getI8Type(), conversion.exponent));
      Value scales =
          vector::BroadcastOp::create(b, VectorType::get({chunk}, e8m0), scaleByte);
      for (int64_t e = 0; e < width; e += chunk) {
        Value values = vector::FromElementsOp::create(
            b, VectorType::get({chunk}, b.getF32Type()), ArrayRef(inputs).slice(reg + e, chunk));
        Value scaled = arith::MulFOp::create(b, values, prescale);
        // The chip's scaled conversion where it has one (dsv4-lower-e2m1): nearest even,
        // saturated to +-6.
        Value codes = arith::ScalingTruncFOp::create(b, VectorType::get({chunk}, codeType),
                                                     scaled, scales, /*roundingmode=*/nullptr,
                                                     /*fastmath=*/nullptr);
        Value bytes =
            vector::BitCastOp::create(b, VectorType::get({chunk / 2}, b.getI8Type()), codes);
        // Channel c's code is in byte c / 2 of the token's row.
        Value at = arith::DivUIOp::create(b, arith::AddIOp::create(b, start, index(e)),
                                          index(2));
        storeBytes(bytes, cacheIndex(slot.row, at),
                   std::min<int64_t>(chunk / 2, rowAlignment()));
      }
    };
    auto storeTail = [&] {
      // bf16 of the f32 row. Where it is finished already, taken from the bf16-rounded
      // inputs, which round to the same bits, so that the f32 row need not stay live (VGPRs)
      // until the stores.
      Value finished = row.tailRun
                           ? vector::FromElementsOp::create(
                                 b, VectorType::get({width}, b.getF32Type()), row.tailRun(reg))
                           : run(inputs);
      Value bf16 =
          arith::TruncFOp::create(b, VectorType::get({width}, b.getBF16Type()), finished);
      Value bytes =
          vector::BitCastOp::create(b, VectorType::get({2 * width}, b.getI8Type()), bf16);
      // Byte quantized + 2 * (channel - quantized) of the token's row.
      Value at = arith::SubIOp::create(
          b, arith::MulIOp::create(b, start, index(2)), index(geometry.quantized));
      storeBytes(bytes, cacheIndex(slot.row, at), std::min<int64_t>(2 * width, rowAlignment()));
    };
    auto storeCodes = [&] {
      geometry.codes == CodeFormat::e2m1 ? storeE2m1() : storeFp8();
    };
    branch(allBelow(offset, geometry.quantized), [&]() -> Value {
      return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, start,
                                   index(geometry.quantized));
    }, storeCodes, storeTail);
  }

  /// One lane per block writes its scale: the one holding the block's first channel.
  void storeScales() {
    Value mask = index(geometry.block - 1);
    Value first = arith::CmpIOp::create(
        b, arith::CmpIPredicate::eq, arith::AndIOp::create(b, row.laneOffset, mask), index(0));
    auto ifFirst = scf::IfOp::create(b, first, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifFirst.thenBlock()->getTerminator());
    for (auto &[key, block] : blocks) {
      int64_t offset = key << blockBits;
      Value blockIndex = arith::ShRUIOp::create(
          b, arith::AddIOp::create(b, row.laneOffset, index(offset)), index(blockBits));
      branch(allBelow(offset, geometry.quantized), [&]() -> Value {
        return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, blockIndex,
                                     index(geometry.numBlocks()));
      }, [&] { storeScale(block.scale, blockIndex); }, [] {});
    }
  }

  void storeScale(Value value, Value blockIndex) {
    if (byteScales()) {
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

void mlir::dsv4::emitCacheStore(ImplicitLocOpBuilder &b, KernelSpecAttr store,
                                const LaneRow &row, Value cache, const SlotAddress &slot,
                                Value stores) {
  StoreEmitter(b, store, row, cache, slot).emit(stores);
}
