// convert-dsv4-to-loops: every dsv4 op as scf/memref/arith/math loops on the host, the CPU
// reference that integration tests JIT-run. A row op copies kv, then for each active item
// widens the row into an f32 scratch row, applies its step(s), and stores the row rounded once.
// The fused op applies the same steps in sequence, so an f32 chain and its fusion agree bit
// for bit. The store ops write their bytes through QuantizeStore.h, the compress ops pool their
// windows through CompressPool.h. Each op's loops end up in a private function that its caller
// calls (ItemLoopOutliner), shared by ops that lower alike.
#include "CompressPool.h"
#include "LoopBuilders.h"
#include "QuantizeStore.h"

#include "dsv4/ABI/KernelABI.h"
#include "dsv4/Conversion/Constants.h"
#include "dsv4/Conversion/Passes.h"
#include "dsv4/Conversion/RmsNorm.h"
#include "dsv4/Conversion/WorkItems.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::dsv4 {
#define GEN_PASS_DEF_CONVERTDSV4TOLOOPS
#include "dsv4/Conversion/Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;
using namespace mlir::dsv4;

namespace {
//===----------------------------------------------------------------------===//
// Small builders
//===----------------------------------------------------------------------===//

Value fromF32(ImplicitLocOpBuilder &b, Value value, Type type) {
  return type.isF32() ? value : arith::TruncFOp::create(b, type, value);
}

/// The tensor's contents as a read-only memref (bufferization bridges it later).
Value toBuffer(ImplicitLocOpBuilder &b, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
  return bufferization::ToBufferOp::create(b, memrefType, tensor, /*read_only=*/true);
}

Value toTensor(ImplicitLocOpBuilder &b, Value buffer, Type tensorType) {
  return bufferization::ToTensorOp::create(b, tensorType, buffer, /*restrict=*/true,
                                           /*writable=*/true);
}

/// A fresh buffer of `like`'s shape, holding a copy of `source` when given.
Value allocLike(ImplicitLocOpBuilder &b, RankedTensorType like, Value sizedBy) {
  auto type = MemRefType::get(like.getShape(), like.getElementType());
  SmallVector<Value> dynamicSizes;
  for (auto [dim, size] : llvm::enumerate(like.getShape()))
    if (ShapedType::isDynamic(size))
      dynamicSizes.push_back(memref::DimOp::create(b, sizedBy, dim));
  return memref::AllocOp::create(b, type, dynamicSizes);
}

Value dimAsI32(ImplicitLocOpBuilder &b, Value buffer, int64_t dim) {
  Value size = memref::DimOp::create(b, buffer, dim);
  return arith::IndexCastOp::create(b, b.getI32Type(), size);
}

Value toIndex(ImplicitLocOpBuilder &b, Value i32) {
  return arith::IndexCastOp::create(b, b.getIndexType(), i32);
}

//===----------------------------------------------------------------------===//
// One function per op
//===----------------------------------------------------------------------===//

/// Marks the scf.execute_region that holds the item loop of one dsv4 op; its value names the
/// op. The pass moves each into a private function of its own once all ops are converted.
constexpr llvm::StringLiteral kOutlineAttrName = "dsv4.outline";

/// Emits `body()` (scratch buffers and the item loop of `op`) in a region that is outlined
/// later. Left inline, a chain of N ops makes one function that grows with N, and upstream's
/// later passes (linalg-to-loops, scf-to-cf, convert-to-llvm, ...) take superlinear time and
/// memory in the size of one function: 4,000 hadamard ops took over a minute and 2.6 GB. Scratch
/// allocated inside also keeps the caller's stack from growing with N.
void inOutlinedRegion(ImplicitLocOpBuilder &b, Operation *op, function_ref<void()> body) {
  auto region = scf::ExecuteRegionOp::create(b, TypeRange{});
  region->setAttr(kOutlineAttrName, b.getStringAttr(op->getName().stripDialect()));
  OpBuilder::InsertionGuard guard(b);
  b.createBlock(&region.getRegion());
  scf::YieldOp::create(b);
  b.setInsertionPointToStart(&region.getRegion().front());
  body();
}

/// A hash of what `function` computes: its signature and every op of its body, without
/// locations or the values an op uses (isRegionEquivalentTo compares those).
llvm::hash_code hashBody(func::FuncOp function) {
  llvm::hash_code hash = llvm::hash_value(function.getFunctionType().getAsOpaquePointer());
  function.getBody().walk([&](Operation *op) {
    hash = llvm::hash_combine(
        hash, OperationEquivalence::computeHash(op, OperationEquivalence::ignoreHashValue,
                                                OperationEquivalence::ignoreHashValue,
                                                OperationEquivalence::IgnoreLocations));
  });
  return hash;
}

/// Moves every marked region into a private function `dsv4_<op>[_<k>]` and calls it there;
/// ops that lower to the same code (a chain of hadamard ops of one scale) share one function. A region outside a function of the module itself (nowhere to put a function
/// beside it) is inlined where it is.
class ItemLoopOutliner {
public:
  explicit ItemLoopOutliner(ModuleOp module)
      : module(module), rewriter(module.getContext()), symbols(module) {}

  void run() {
    SmallVector<scf::ExecuteRegionOp> regions;
    module.walk([&](scf::ExecuteRegionOp region) {
      if (region->hasAttr(kOutlineAttrName))
        regions.push_back(region);
    });
    for (scf::ExecuteRegionOp region : regions) {
      auto caller = region->getParentOfType<func::FuncOp>();
      if (caller && caller->getParentOp() == module)
        outline(region);
      Block &body = region.getRegion().front();
      rewriter.eraseOp(body.getTerminator());
      rewriter.inlineBlockBefore(&body, region);
      rewriter.eraseOp(region);
    }
  }

private:
  void outline(scf::ExecuteRegionOp region) {
    StringRef kind = region->getAttrOfType<StringAttr>(kOutlineAttrName).getValue();
    func::CallOp call;
    // Named once it is known to be new, so that the names of shared functions are dense.
    FailureOr<func::FuncOp> callee =
        outlineSingleBlockRegion(rewriter, region.getLoc(), region.getRegion(), kind, &call);
    // Fails only for a region of several blocks; inOutlinedRegion builds one.
    assert(succeeded(callee) && "an item loop region has one block");
    SmallVector<func::FuncOp> &sameHash = functionsByHash[hashBody(*callee)];
    for (func::FuncOp existing : sameHash) {
      if (existing.getFunctionType() == callee->getFunctionType() &&
          OperationEquivalence::isRegionEquivalentTo(&existing.getBody(), &callee->getBody(),
                                                     OperationEquivalence::IgnoreLocations)) {
        call.setCallee(existing.getSymName());
        rewriter.eraseOp(*callee);
        return;
      }
    }
    std::string name = uniqueName(kind);
    callee->setSymName(name);
    call.setCallee(name);
    callee->setPrivate();
    symbols.insert(*callee);
    sameHash.push_back(*callee);
  }

  /// `dsv4_<kind>`, with a suffix if that is taken.
  std::string uniqueName(StringRef kind) {
    std::string base = ("dsv4_" + kind).str();
    std::string name = base;
    for (unsigned &k = nextSuffix[base]; symbols.lookup(name); ++k)
      name = base + "_" + std::to_string(k);
    return name;
  }

  ModuleOp module;
  IRRewriter rewriter;
  SymbolTable symbols;
  llvm::StringMap<unsigned> nextSuffix; // per base name: no rescan of taken suffixes
  llvm::DenseMap<llvm::hash_code, SmallVector<func::FuncOp>> functionsByHash;
};

//===----------------------------------------------------------------------===//
// The three steps on one f32 row `x` (memref<Dxf32>)
//===----------------------------------------------------------------------===//

/// x <- x * (1 / sqrt(sum(x^2) / D + eps)) * weight.
void emitRmsNorm(ImplicitLocOpBuilder &b, Value x, Value weight, APFloat eps, int64_t headDim) {
  Value zero = arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(0.0f));
  auto sum = scf::ForOp::create(b, indexConst(b, 0), indexConst(b, headDim),
                                indexConst(b, 1), ValueRange{zero});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(sum.getBody());
    Value xi = memref::LoadOp::create(b, x, sum.getInductionVar());
    Value acc = arith::AddFOp::create(b, sum.getRegionIterArg(0),
                                      arith::MulFOp::create(b, xi, xi));
    scf::YieldOp::create(b, acc);
  }
  Value inverseRms = emitInverseRms(b, sum.getResult(0), headDim, eps);
  forEach(b, indexConst(b, headDim), [&](Value i) {
    Value xi = memref::LoadOp::create(b, x, i);
    Value wi = toF32(b, memref::LoadOp::create(b, weight, i));
    Value yi = arith::MulFOp::create(b, arith::MulFOp::create(b, xi, inverseRms), wi);
    memref::StoreOp::create(b, yi, x, i);
  });
}

/// Rotates the interleaved pairs of the last ropeDim channels by freqs[position].
void emitRope(ImplicitLocOpBuilder &b, Value x, Value freqs, Value position, int64_t headDim,
              int64_t ropeDim) {
  Value p = toIndex(b, position);
  forEach(b, indexConst(b, ropeDim / 2), [&](Value j) {
    Value twoJ = arith::MulIOp::create(b, j, indexConst(b, 2));
    Value twoJ1 = arith::AddIOp::create(b, twoJ, indexConst(b, 1));
    Value re = arith::AddIOp::create(b, twoJ, indexConst(b, headDim - ropeDim));
    Value im = arith::AddIOp::create(b, re, indexConst(b, 1));
    Value xr = memref::LoadOp::create(b, x, re);
    Value xi = memref::LoadOp::create(b, x, im);
    Value c = memref::LoadOp::create(b, freqs, ValueRange{p, twoJ});
    Value s = memref::LoadOp::create(b, freqs, ValueRange{p, twoJ1});
    Value yr = arith::SubFOp::create(b, arith::MulFOp::create(b, xr, c),
                                     arith::MulFOp::create(b, xi, s));
    Value yi = arith::AddFOp::create(b, arith::MulFOp::create(b, xr, s),
                                     arith::MulFOp::create(b, xi, c));
    memref::StoreOp::create(b, yr, x, re);
    memref::StoreOp::create(b, yi, x, im);
  });
}

/// log2(D) butterfly stages in Sylvester order, then the scale.
void emitHadamard(ImplicitLocOpBuilder &b, Value x, APFloat scale, int64_t headDim) {
  for (int64_t stride = 1; stride < headDim; stride *= 2) {
    forEach(b, indexConst(b, headDim / 2), [&](Value k) {
      // The k-th index with bit log2(stride) clear: insert a zero bit at that position.
      Value high = arith::MulIOp::create(
          b, arith::DivUIOp::create(b, k, indexConst(b, stride)), indexConst(b, 2 * stride));
      Value lo = arith::AddIOp::create(b, high,
                                       arith::RemUIOp::create(b, k, indexConst(b, stride)));
      Value hi = arith::AddIOp::create(b, lo, indexConst(b, stride));
      Value a = memref::LoadOp::create(b, x, lo);
      Value c = memref::LoadOp::create(b, x, hi);
      memref::StoreOp::create(b, arith::AddFOp::create(b, a, c), x, lo);
      memref::StoreOp::create(b, arith::SubFOp::create(b, a, c), x, hi);
    });
  }
  Value scaleValue = arith::ConstantFloatOp::create(b, b.getF32Type(), scale);
  forEach(b, indexConst(b, headDim), [&](Value i) {
    Value xi = memref::LoadOp::create(b, x, i);
    memref::StoreOp::create(b, arith::MulFOp::create(b, xi, scaleValue), x, i);
  });
}

//===----------------------------------------------------------------------===//
// The row loop shared by every row op and the fused op
//===----------------------------------------------------------------------===//

using ItemAt = function_ref<WorkItem(Value index)>;
using RowSteps = function_ref<void(Value row, Value position)>;

/// row <- f32(buffer[rowIndex, :]).
void loadRow(ImplicitLocOpBuilder &b, Value buffer, Value rowIndex, Value row, int64_t width) {
  forEach(b, indexConst(b, width), [&](Value i) {
    Value value = memref::LoadOp::create(b, buffer, ValueRange{rowIndex, i});
    memref::StoreOp::create(b, toF32(b, value), row, i);
  });
}

/// Returns kv with `steps` applied to the f32 copy of every active item's row.
Value emitRowLoop(ImplicitLocOpBuilder &b, Operation *op, Value kv, Value numItems,
                  ItemAt itemAt, RowSteps steps) {
  auto kvType = cast<RankedTensorType>(kv.getType());
  int64_t headDim = kvType.getDimSize(1);
  Type elementType = kvType.getElementType();
  Value input = toBuffer(b, kv);
  Value out = allocLike(b, kvType, input);
  memref::CopyOp::create(b, input, out);
  Value numRows = memref::DimOp::create(b, out, 0);
  inOutlinedRegion(b, op, [&] {
    Value row = memref::AllocaOp::create(b, MemRefType::get({headDim}, b.getF32Type()));
    forEach(b, numItems, [&](Value index) {
      WorkItem item = itemAt(index);
      Value rowIndex = toIndex(b, item.row);
      ifThen(b, emitRowActive(b, rowIndex, numRows), [&] {
        loadRow(b, out, rowIndex, row, headDim);
        steps(row, item.position);
        forEach(b, indexConst(b, headDim), [&](Value i) {
          Value value = memref::LoadOp::create(b, row, i);
          memref::StoreOp::create(b, fromF32(b, value, elementType), out,
                                  ValueRange{rowIndex, i});
        });
      });
    });
  });
  return toTensor(b, out, kvType);
}

/// Items already materialized as an [M, 2] tensor of (row, position).
Value emitRowLoopOverItems(ImplicitLocOpBuilder &b, Operation *op, Value kv, Value items,
                           RowSteps steps) {
  Value itemsBuffer = toBuffer(b, items);
  Value numItems = memref::DimOp::create(b, itemsBuffer, 0);
  return emitRowLoop(b, op, kv, numItems, [&](Value m) -> WorkItem {
    return {memref::LoadOp::create(b, itemsBuffer, ValueRange{m, indexConst(b, 0)}),
            memref::LoadOp::create(b, itemsBuffer, ValueRange{m, indexConst(b, 1)})};
  }, steps);
}

/// Row `index` of a handle buffer of `source` (seq_lens [B] or a plan [M, 4]).
HandleRow loadHandleRow(ImplicitLocOpBuilder &b, PositionSource source, Value handle,
                        Value index) {
  bool plan = cast<MemRefType>(handle.getType()).getRank() == 2;
  SmallVector<Value> columns;
  for (HandleColumn read : handleColumnsRead(source))
    columns.push_back(plan ? memref::LoadOp::create(
                                 b, handle, ValueRange{index, indexConst(b, read.column)})
                           : memref::LoadOp::create(b, handle, index));
  return emitHandleRow(b, source, arith::IndexCastOp::create(b, b.getI32Type(), index),
                       columns);
}

/// The item at `index` of a handle buffer of `source`.
WorkItem loadItem(ImplicitLocOpBuilder &b, PositionSource source, Value handle, Value index,
                  int64_t ratio, Value numPositions) {
  return emitHandleItem(b, loadHandleRow(b, source, handle, index),
                        arith::IndexCastOp::create(b, b.getI32Type(), index), ratio,
                        numPositions);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

int64_t headDimOf(Value kv) { return cast<RankedTensorType>(kv.getType()).getDimSize(1); }

template <typename ItemsOp, PositionSource Source>
struct ItemsOpLowering : OpRewritePattern<ItemsOp> {
  using OpRewritePattern<ItemsOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(ItemsOp op, PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value handle = toBuffer(b, op.getHandle());
    Value numPositions = dimAsI32(b, toBuffer(b, op.getFreqs()), 0);
    auto itemsType = cast<RankedTensorType>(op.getType());
    Value items = allocLike(b, itemsType, handle);
    inOutlinedRegion(b, op, [&] {
      forEach(b, memref::DimOp::create(b, handle, 0), [&](Value m) {
        WorkItem item = loadItem(b, Source, handle, m, op.getRatio(), numPositions);
        memref::StoreOp::create(b, item.row, items, ValueRange{m, indexConst(b, 0)});
        memref::StoreOp::create(b, item.position, items, ValueRange{m, indexConst(b, 1)});
      });
    });
    rewriter.replaceOp(op, toTensor(b, items, itemsType));
    return success();
  }
};

/// The per-row step of each row op, as a callback for emitRowLoop. Buffers are taken here,
/// outside the loop.
std::function<void(Value, Value)> rowStep(ImplicitLocOpBuilder &b, RmsNormOp op) {
  Value weight = toBuffer(b, op.getWeight());
  return [&b, weight, eps = op.getEps(), headDim = headDimOf(op.getKv())](Value x, Value) {
    emitRmsNorm(b, x, weight, eps, headDim);
  };
}

std::function<void(Value, Value)> rowStep(ImplicitLocOpBuilder &b, RopeOp op) {
  Value freqs = toBuffer(b, op.getFreqs());
  Value numPositions = dimAsI32(b, freqs, 0);
  // Items that are an argument, not an items op's, may name a position outside the table (a
  // row of freqs past its end): the item is skipped, as an items op would have skipped it.
  return [&b, freqs, numPositions, headDim = headDimOf(op.getKv()),
          ropeDim = op.getRopeDim()](Value x, Value position) {
    ifThen(b, emitRowActive(b, position, numPositions),
           [&] { emitRope(b, x, freqs, position, headDim, ropeDim); });
  };
}

std::function<void(Value, Value)> rowStep(ImplicitLocOpBuilder &b, HadamardOp op) {
  return [&b, scale = op.getScale(), headDim = headDimOf(op.getKv())](Value x, Value) {
    emitHadamard(b, x, scale, headDim);
  };
}

template <typename RowOp>
struct RowOpLowering : OpRewritePattern<RowOp> {
  using OpRewritePattern<RowOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(RowOp op, PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    std::function<void(Value, Value)> step = rowStep(b, op);
    rewriter.replaceOp(op, emitRowLoopOverItems(b, op, op.getKv(), op.getItems(), step));
    return success();
  }
};

/// norm -> rope -> (hadamard) of a fused op on the f32 row `x` of `headDim` channels.
template <typename FusedOp>
void emitEpilogueSteps(ImplicitLocOpBuilder &b, FusedOp op, int64_t headDim, Value weight,
                       Value freqs, Value x, Value position) {
  emitRmsNorm(b, x, weight, op.getEps(), headDim);
  emitRope(b, x, freqs, position, headDim, op.getRopeDim());
  if (FloatAttr scale = op.getScaleAttr())
    emitHadamard(b, x, scale.getValue(), headDim);
}

struct FusedEpilogueLowering : OpRewritePattern<FusedEpilogueOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(FusedEpilogueOp op, PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value weight = toBuffer(b, op.getWeight());
    Value freqs = toBuffer(b, op.getFreqs());
    Value handle = toBuffer(b, op.getHandle());
    Value numPositions = dimAsI32(b, freqs, 0);
    auto itemAt = [&](Value m) {
      return loadItem(b, op.getSource(), handle, m, op.getRatio(), numPositions);
    };
    Value result = emitRowLoop(b, op, op.getKv(), memref::DimOp::create(b, handle, 0), itemAt,
                               [&](Value x, Value position) {
      emitEpilogueSteps(b, op, headDimOf(op.getKv()), weight, freqs, x, position);
    });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Quantization and the paged store
//===----------------------------------------------------------------------===//

/// f32 row, codes (one a byte) and scales scratch of one token, allocated once per op.
struct TokenScratch {
  Value row;
  Value codes;
  Value scales;
};

TokenScratch allocTokenScratch(ImplicitLocOpBuilder &b, int64_t width, int64_t channels,
                               int64_t numBlocks, ScaleFormat format) {
  Type scaleType = format == ScaleFormat::f32 ? Type(b.getF32Type()) : b.getI8Type();
  return {memref::AllocaOp::create(b, MemRefType::get({width}, b.getF32Type())),
          memref::AllocaOp::create(b, MemRefType::get({channels}, b.getI8Type())),
          memref::AllocaOp::create(b, MemRefType::get({numBlocks}, scaleType))};
}

/// The element of `codeType` (FP8 or f4E2M1FN) whose bits are the i8 `code`, and back.
Value elementOfCode(ImplicitLocOpBuilder &b, Value code, Type codeType) {
  auto bits = b.getIntegerType(codeType.getIntOrFloatBitWidth());
  if (bits.getWidth() != 8)
    code = arith::TruncIOp::create(b, bits, code);
  return arith::BitcastOp::create(b, codeType, code);
}
Value codeOfElement(ImplicitLocOpBuilder &b, Value element) {
  auto bits = b.getIntegerType(element.getType().getIntOrFloatBitWidth());
  Value code = arith::BitcastOp::create(b, bits, element);
  return bits.getWidth() == 8 ? code : arith::ExtUIOp::create(b, b.getI8Type(), code);
}

/// A copy of the cache, the buffer a store op writes and returns.
Value copyCache(ImplicitLocOpBuilder &b, Value cache) {
  Value input = toBuffer(b, cache);
  Value out = allocLike(b, cast<RankedTensorType>(cache.getType()), input);
  memref::CopyOp::create(b, input, out);
  return out;
}

/// Item `m` stores: its row is in range, its slot fits, and a decode item is on a boundary.
Value emitItemStores(ImplicitLocOpBuilder &b, const HandleRow &row, int64_t ratio,
                     Value rowIndex, Value numRows, const SlotAddress &slot) {
  Value stores = arith::AndIOp::create(b, emitRowActive(b, rowIndex, numRows), slot.stores);
  if (!row.seqLen)
    return stores;
  return arith::AndIOp::create(b, stores, emitIsBoundary(b, row.seqLen, ratio));
}

struct QuantizeLowering : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeOp op, PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value rows = toBuffer(b, op.getRows());
    auto valuesType = cast<RankedTensorType>(op.getValues().getType());
    auto scalesType = cast<RankedTensorType>(op.getScales().getType());
    Value values = allocLike(b, valuesType, rows);
    Value scales = allocLike(b, scalesType, rows);
    int64_t width = headDimOf(op.getRows()), channels = valuesType.getDimSize(1);
    int64_t numBlocks = scalesType.getDimSize(1);
    Type codeType = valuesType.getElementType();
    inOutlinedRegion(b, op, [&] {
      TokenScratch token =
          allocTokenScratch(b, width, channels, numBlocks, op.getScaleFormat());
      forEach(b, memref::DimOp::create(b, rows, 0), [&](Value n) {
        loadRow(b, rows, n, token.row, width);
        emitQuantizeRow(b, token.row, token.codes, token.scales, op.getScaleFormat(), numBlocks,
                        op.getBlock(), codeType);
        forEach(b, indexConst(b, channels), [&](Value c) {
          Value code = memref::LoadOp::create(b, token.codes, c);
          memref::StoreOp::create(b, elementOfCode(b, code, codeType), values, ValueRange{n, c});
        });
        forEach(b, indexConst(b, numBlocks), [&](Value w) {
          memref::StoreOp::create(b, memref::LoadOp::create(b, token.scales, w), scales,
                                  ValueRange{n, w});
        });
      });
    });
    SmallVector<Value> results = {toTensor(b, values, valuesType),
                                  toTensor(b, scales, scalesType)};
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// `buffer[t]` as i64 (i32 slots sign-extended), or -1 (padding, no slot) past its end: with
/// dynamic sizes positions may be shorter than token_req at run time, and an sglang_extend
/// item names any entry of out_loc.
Value loadI64OrNone(ImplicitLocOpBuilder &b, Value buffer, Value t) {
  Value inside = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, t,
                                       memref::DimOp::create(b, buffer, 0));
  auto load = scf::IfOp::create(
      b, inside,
      [&](OpBuilder &builder, Location loc) {
        ImplicitLocOpBuilder inner(loc, builder);
        Value value = memref::LoadOp::create(inner, buffer, t);
        scf::YieldOp::create(inner, ValueRange{toI64Slot(inner, value)});
      },
      [&](OpBuilder &builder, Location loc) {
        scf::YieldOp::create(
            builder, loc,
            ValueRange{arith::ConstantIntOp::create(builder, loc, builder.getI64Type(), -1)});
      });
  return load.getResult(0);
}

/// The store loop that dsv4.paged_store, dsv4.fused_store and dsv4.fused_compress_store
/// share: for each of `numItems` items that out_loc names, `itemOf(m)` names its row; where the item stores
/// (emitItemStores of `source`, with a row below `numRows`), `fillToken` leaves the token's
/// f32 row, codes and scales in the scratch, and the token goes to slot out_loc[m] of a copy
/// of the cache, which replaces `op`.
template <typename StoreOp>
void lowerPagedStore(ImplicitLocOpBuilder &b, PatternRewriter &rewriter, StoreOp op,
                     PositionSource source, Value handle, Value numRows, Value numItems,
                     function_ref<WorkItem(Value m)> itemOf,
                     function_ref<void(const WorkItem &, Value rowIndex, const TokenScratch &)>
                         fillToken) {
  CacheGeometry geometry = getCacheGeometry(op.getLayout());
  Value outLoc = toBuffer(b, op.getOutLoc());
  // out_loc's length may differ from the items' at run time with dynamic sizes (the verifier
  // agrees to any dynamic size): an item past its end stores nothing, and so does an
  // sglang_extend item whose ragged id names no entry (loadI64OrNone).
  numItems = arith::MinUIOp::create(b, numItems, memref::DimOp::create(b, outLoc, 0));
  Value cache = copyCache(b, op.getCache());
  Value cacheBytes = arith::IndexCastOp::create(b, b.getI64Type(),
                                                memref::DimOp::create(b, cache, 0));
  inOutlinedRegion(b, op, [&] {
    TokenScratch token = allocTokenScratch(b, geometry.headDim(), geometry.quantized,
                                           geometry.numBlocks(), geometry.scaleFormat);
    forEach(b, numItems, [&](Value m) {
      WorkItem item = itemOf(m);
      Value rowIndex = toIndex(b, item.row);
      // Without a handle (the compress op's own plan rows) an item stores at its own entry.
      HandleRow row = handle ? loadHandleRow(b, source, handle, m)
                             : HandleRow{Value(), Value(), Value(),
                                         arith::IndexCastOp::create(b, b.getI32Type(), m)};
      Value slotIndex = loadI64OrNone(b, outLoc, toIndex(b, row.outLocIndex));
      SlotAddress slot = emitSlotAddress(b, geometry, op.getPageSize(), slotIndex, cacheBytes);
      Value stores = emitItemStores(b, row, op.getRatio(), rowIndex, numRows, slot);
      ifThen(b, stores, [&] {
        fillToken(item, rowIndex, token);
        emitStoreToken(b, cache, slot, geometry, token.codes, token.scales, token.row);
      });
    });
  });
  rewriter.replaceOp(op, toTensor(b, cache, op.getType()));
}

struct PagedStoreLowering : OpRewritePattern<PagedStoreOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PagedStoreOp op, PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    CacheGeometry geometry = getCacheGeometry(op.getLayout());
    Value values = toBuffer(b, op.getValues());
    Value scales = toBuffer(b, op.getScales());
    Value items = toBuffer(b, op.getItems());
    auto itemOf = [&](Value m) {
      return WorkItem{memref::LoadOp::create(b, items, ValueRange{m, indexConst(b, 0)}),
                      Value()};
    };
    // A row is read from rows, values and scales: with dynamic sizes they may differ at run
    // time, and an item past any of them stores nothing rather than reading past it.
    Value rows = toBuffer(b, op.getRows());
    Value numRows = arith::MinUIOp::create(
        b, memref::DimOp::create(b, rows, 0),
        arith::MinUIOp::create(b, memref::DimOp::create(b, values, 0),
                               memref::DimOp::create(b, scales, 0)));
    // The token is the quantize op's: its codes and scales are copied, not recomputed.
    auto fillToken = [&](const WorkItem &, Value rowIndex, const TokenScratch &token) {
      loadRow(b, rows, rowIndex, token.row, geometry.headDim());
      forEach(b, indexConst(b, geometry.quantized), [&](Value c) {
        Value value = memref::LoadOp::create(b, values, ValueRange{rowIndex, c});
        memref::StoreOp::create(b, codeOfElement(b, value), token.codes, c);
      });
      forEach(b, indexConst(b, geometry.numBlocks()), [&](Value w) {
        memref::StoreOp::create(
            b, memref::LoadOp::create(b, scales, ValueRange{rowIndex, w}), token.scales, w);
      });
    };
    lowerPagedStore(b, rewriter, op, op.getSource(), toBuffer(b, op.getHandle()), numRows,
                    memref::DimOp::create(b, items, 0), itemOf, fillToken);
    return success();
  }
};

struct FusedStoreLowering : OpRewritePattern<FusedStoreOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(FusedStoreOp op, PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    CacheGeometry geometry = getCacheGeometry(op.getLayout());
    Value kv = toBuffer(b, op.getKv());
    Value weight = toBuffer(b, op.getWeight());
    Value freqs = toBuffer(b, op.getFreqs());
    Value handle = toBuffer(b, op.getHandle());
    Value numPositions = dimAsI32(b, freqs, 0);
    auto itemOf = [&](Value m) {
      return loadItem(b, op.getSource(), handle, m, op.getRatio(), numPositions);
    };
    // The token is computed here: the epilogue on the loaded row, then its quantization.
    auto fillToken = [&](const WorkItem &item, Value rowIndex, const TokenScratch &token) {
      loadRow(b, kv, rowIndex, token.row, geometry.headDim());
      emitEpilogueSteps(b, op, geometry.headDim(), weight, freqs, token.row, item.position);
      emitQuantizeRow(b, token.row, token.codes, token.scales, geometry.scaleFormat,
                      geometry.numBlocks(), geometry.block,
                      getCodeType(op.getContext(), geometry, op.getFp8Type().value_or(Type())));
    };
    lowerPagedStore(b, rewriter, op, op.getSource(), handle, memref::DimOp::create(b, kv, 0),
                    memref::DimOp::create(b, handle, 0), itemOf, fillToken);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// The compress step in front
//===----------------------------------------------------------------------===//

/// The state buffer of a compress op and its windows.
template <typename CompressOp>
std::pair<Value, StateWindows> getState(ImplicitLocOpBuilder &b, CompressOp op) {
  Value state = toBuffer(b, op.getState());
  return {state, getStateWindows(b, state, toBuffer(b, op.getBlockTable()),
                                 int64_t(op.getRatio()), op.coff(), op.headDim())};
}

/// The item of token `t` (below token_req's length): its request and position, and whether it
/// produces a row.
CompressItem loadCompressItem(ImplicitLocOpBuilder &b, const StateWindows &windows,
                              Value tokenReq, Value positions, Value t) {
  return emitCompressItem(b, windows, memref::LoadOp::create(b, tokenReq, t),
                          loadI64OrNone(b, positions, t), t);
}

/// The prefill plan row of an item: (t, request, p, window_len), or (-1, request, -1, 0)
/// when it produces no row.
std::array<Value, kNumPlanFields> planRowOf(ImplicitLocOpBuilder &b, const CompressItem &item,
                                            Value t) {
  auto orElse = [&](Value value, int64_t skipped) -> Value {
    return arith::SelectOp::create(b, item.produces, value, i32Const(b, skipped));
  };
  Value position = arith::TruncIOp::create(b, b.getI32Type(), item.position);
  return {orElse(arith::IndexCastOp::create(b, b.getI32Type(), t), -1), item.request,
          orElse(position, -1), orElse(item.windowLen, 0)};
}

struct CompressPoolLowering : OpRewritePattern<CompressPoolOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CompressPoolOp op, PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    // Named, not bound: lambdas below capture them (C++17 cannot capture a binding).
    std::pair<Value, StateWindows> stateWindows = getState(b, op);
    Value state = stateWindows.first;
    const StateWindows &windows = stateWindows.second;
    Value tokenReq = toBuffer(b, op.getTokenReq());
    Value positions = toBuffer(b, op.getPositions());
    auto rowsType = cast<RankedTensorType>(op.getRows().getType());
    auto planType = cast<RankedTensorType>(op.getPlan().getType());
    Value rows = allocLike(b, rowsType, tokenReq);
    Value plan = allocLike(b, planType, tokenReq);
    int64_t headDim = windows.headDim;
    inOutlinedRegion(b, op, [&] {
      Value y = memref::AllocaOp::create(b, MemRefType::get({headDim}, b.getF32Type()));
      forEach(b, memref::DimOp::create(b, tokenReq, 0), [&](Value t) {
        CompressItem item = loadCompressItem(b, windows, tokenReq, positions, t);
        // An item that produces no row leaves a zero row.
        forEach(b, indexConst(b, headDim),
                [&](Value c) { memref::StoreOp::create(b, f32Const(b, 0.0f), y, c); });
        ifThen(b, item.produces,
               [&] { emitPoolRow(b, windows, state, item.request, item.position, y); });
        forEach(b, indexConst(b, headDim), [&](Value c) {
          memref::StoreOp::create(b, memref::LoadOp::create(b, y, c), rows, ValueRange{t, c});
        });
        for (auto [field, value] : llvm::enumerate(planRowOf(b, item, t)))
          memref::StoreOp::create(b, value, plan, ValueRange{t, indexConst(b, field)});
      });
    });
    SmallVector<Value> results = {toTensor(b, rows, rowsType), toTensor(b, plan, planType)};
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// dsv4.compress_pool then dsv4.fused_store prefill of its rows and plan, per item: the plan
/// row decides the RoPE position and whether it stores, the pooled row is the token's.
struct FusedCompressStoreLowering : OpRewritePattern<FusedCompressStoreOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(FusedCompressStoreOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    CacheGeometry geometry = getCacheGeometry(op.getLayout());
    // Named, not bound: lambdas below capture them (C++17 cannot capture a binding).
    std::pair<Value, StateWindows> stateWindows = getState(b, op);
    Value state = stateWindows.first;
    const StateWindows &windows = stateWindows.second;
    Value tokenReq = toBuffer(b, op.getTokenReq());
    Value positions = toBuffer(b, op.getPositions());
    Value weight = toBuffer(b, op.getWeight());
    Value freqs = toBuffer(b, op.getFreqs());
    Value numPositions = dimAsI32(b, freqs, 0);
    // With dynamic sizes the two may differ at run time (and out_loc: lowerPagedStore): the
    // items past any of them store nothing.
    Value numTokens = memref::DimOp::create(b, tokenReq, 0);
    Value numItems =
        arith::MinUIOp::create(b, numTokens, memref::DimOp::create(b, positions, 0));
    auto itemOf = [&](Value t) {
      std::array<Value, kNumPlanFields> planRow =
          planRowOf(b, loadCompressItem(b, windows, tokenReq, positions, t), t);
      return emitPrefillItem(b, planRow[kPlanRowField], planRow[kPlanPositionField],
                             op.getRatio(), numPositions);
    };
    // The item stores: its request and position are read again for the pooling.
    auto fillToken = [&](const WorkItem &item, Value t, const TokenScratch &token) {
      emitPoolRow(b, windows, state, memref::LoadOp::create(b, tokenReq, t),
                  memref::LoadOp::create(b, positions, t), token.row);
      emitEpilogueSteps(b, op, geometry.headDim(), weight, freqs, token.row, item.position);
      emitQuantizeRow(b, token.row, token.codes, token.scales, geometry.scaleFormat,
                      geometry.numBlocks(), geometry.block,
                      getCodeType(op.getContext(), geometry, op.getFp8Type().value_or(Type())));
    };
    // Prefill items store by their plan row alone: there is no handle to read.
    lowerPagedStore(b, rewriter, op, PositionSource::prefill, /*handle=*/Value(), numTokens,
                    numItems, itemOf, fillToken);
    return success();
  }
};

struct ConvertDsv4ToLoopsPass
    : dsv4::impl::ConvertDsv4ToLoopsBase<ConvertDsv4ToLoopsPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    patterns.add<ItemsOpLowering<DecodeItemsOp, PositionSource::decode>,
                 ItemsOpLowering<PrefillItemsOp, PositionSource::prefill>,
                 ItemsOpLowering<SglangDecodeItemsOp, PositionSource::sglang_decode>,
                 ItemsOpLowering<SglangExtendItemsOp, PositionSource::sglang_extend>,
                 RowOpLowering<RmsNormOp>, RowOpLowering<RopeOp>, RowOpLowering<HadamardOp>,
                 FusedEpilogueLowering, QuantizeLowering, PagedStoreLowering,
                 FusedStoreLowering, CompressPoolLowering, FusedCompressStoreLowering>(context);
    ConversionTarget target(*context);
    target.addIllegalDialect<Dsv4Dialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target, std::move(patterns))))
      return signalPassFailure();
    ItemLoopOutliner(getOperation()).run();
  }
};
} // namespace
