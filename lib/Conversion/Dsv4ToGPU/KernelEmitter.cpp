// The body of one dsv4 kernel (see KernelEmitter.h).
#include "KernelEmitter.h"
#include "StoreEmitter.h"
#include "dsv4/ABI/KernelABI.h"
#include "dsv4/Conversion/CompressWindow.h"
#include "dsv4/Conversion/RmsNorm.h"
#include "dsv4/Conversion/WorkItems.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <map>

using namespace mlir;
using namespace mlir::dsv4;

namespace {
/// LDS traffic is f32 in runs of four: one 16-byte ds_read/ds_write per run.
constexpr int64_t kLdsRun = 4;
/// f32 state values of a lane a compress kernel keeps in flight (kv and score runs of the
/// window rows it loads before pooling them). At the plan's full occupancy (64 VGPRs: the
/// indexer, 4 channels a lane) 16: two rows at a time, 63 VGPRs on gfx942 with no scratch
/// (the whole 8-row window in flight took 100; with 8 waves asked it spilled 50 VGPRs).
/// Without an occupancy asked (the main cache, 16 channels a lane) 64: two rows at a time.
constexpr int64_t kStateValuesInFlightAtFullOccupancy = 16;
constexpr int64_t kStateValuesInFlight = 64;
/// A window spanning at most this many block-table columns has their block ids loaded once
/// (2 for ratio 4 and 3 for ratio 128 at 64-row state blocks); more (tiny blocks) load a
/// row's id with the row.
constexpr int64_t kMaxHoistedColumns = 4;
/// A multiply and the add that takes its product may become one fma: one rounding fewer (SPEC.md
/// allows more accuracy, never less) and one instruction fewer on the issue-bound large batches
/// and the latency-bound chains alike. (The norm's products feed no add.)
constexpr auto kContract = arith::FastMathFlags::contract;

/// Builds the body of one kernel; `x` holds the lane's row values, indexed by register.
class KernelEmitter {
public:
  KernelEmitter(ImplicitLocOpBuilder &b, const KernelToEmit &config, gpu::GPUFuncOp func)
      : b(b), config(config), func(func) {}

  void emit() {
    if (config.spec.compresses())
      readCompressArguments();
    else
      readArguments();
    computeWorkItem();
    // Every global load is issued before any arithmetic, so the row, the weight and the
    // freqs row (which waits only for the item's position) are in flight together.
    if (config.spec.compresses()) {
      // The weight and the freqs row wait only for the item: in flight during the pooling,
      // unless the plan bounds the registers (the indexer at 8 waves spilled 8 VGPRs so).
      bool early = !config.plan.getWavesPerSimd();
      if (early) {
        loadWeight();
        loadRotations();
      }
      poolWindow();
      if (!early) {
        loadWeight();
        loadRotations();
      }
    } else {
      loadRow();
      loadWeight();
      loadRotations();
    }
    applyRmsNorm(config.spec.rotates() ? config.spec.getScale().getValue().convertToFloat()
                                       : 1.0f);
    if (!ropeAtTailStore())
      applyRope();
    RowLayout layout = natural();
    if (config.spec.rotates()) {
      ButterflyPlan plan = planButterflies(natural(), config.pinnedBits(), config.plan.getSchedule());
      if (config.plan.exchangesThroughLds())
        swizzle = chooseLdsSwizzle(plan, natural(), llvm::Log2_64(kLdsRun));
      applyHadamard(plan);
      layout = plan.finalLayout;
    }
    if (config.spec.stores())
      storeToCache(layout);
    else
      storeRow(layout);
    gpu::ReturnOp::create(b);
  }

private:
  ImplicitLocOpBuilder &b;
  KernelToEmit config;
  gpu::GPUFuncOp func;
  /// LDS: the exchange slots, a split window's partial sums, the row parts' sums of squares.
  Value kv, weight, freqs, handle, lds, windowPartials, rowPartSums;
  Value numItems, numRows, kvRowStride, numPositions, freqsRowStride, planRowStride;
  /// Store kernels: the out_loc and cache buffers, the cache's size in bytes (i64), the
  /// item's slot (i64, -1 for none) and whether a decode item is on a boundary.
  Value outLocs, cache, cacheBytes, outLoc, boundary;
  /// Compress kernels: the state cache, its block table, the items' requests and positions,
  /// and the (index) sizes and strides that address them; the item's request (i32) and
  /// position (i64).
  Value state, blockTable, tokenReqs, itemPositions;
  Value stateBlockStride, stateRowStride, blockTableRowStride, numBlocks, numRequests, maxBlocks;
  Value request, itemPosition;
  /// `readable`: the row may be loaded (in bounds); `active`: it is updated and stored.
  /// `rowSlot`: the workgroup's row slot the thread works in (index); `rowSlotBase`: that
  /// slot's first f32 in the exchange LDS.
  Value lane, rowSlot, rowSlotBase, readable, active, rowBase, position;
  /// Which part of a split window this row slot pools (index; 0 without a split): only part 0
  /// stores the item.
  Value windowPart;
  /// The subgroup size as i32, every shuffle's width (see shuffleXor).
  Value subgroupWidth;
  SmallVector<Value> x, weightValues;
  LdsSwizzle swizzle;
  /// The rotation of a run that reaches the RoPE tail in some lane: (cos, sin) per pair, and
  /// per pair whether it is in this lane's tail (elsewhere its values pass through as they
  /// are: a rotation by (1, 0) would turn a value beside an infinity into NaN, and -0 into 0).
  struct Rotation {
    SmallVector<Value> cosSin;
    SmallVector<Value> inTail;
  };
  /// Keyed by the run's register.
  llvm::SmallDenseMap<int64_t, Rotation> rotations;

  RowLayout natural() const {
    return naturalLayout(config.indexBits(), config.laneBits(), config.pinnedBits());
  }
  Value index(int64_t value) { return arith::ConstantIndexOp::create(b, value); }
  Value i32(int64_t value) { return arith::ConstantIntOp::create(b, b.getI32Type(), value); }
  Value f32(float value) {
    return arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(value));
  }
  Value toIndex(Value i32Value) {
    return arith::IndexCastOp::create(b, b.getIndexType(), i32Value);
  }

  void readArguments() {
    auto args = func.getArguments();
    kv = args[kKvArg], weight = args[kWeightArg], freqs = args[kFreqsArg];
    handle = args[kHandleArg], numItems = args[kNumItemsArg], numRows = args[kNumRowsArg];
    kvRowStride = toIndex(args[kKvRowStrideArg]);
    numPositions = args[kNumPositionsArg];
    freqsRowStride = toIndex(args[kFreqsRowStrideArg]);
    planRowStride = toIndex(args[kPlanRowStrideArg]);
    if (config.spec.stores()) {
      outLocs = args[kOutLocArg], cache = args[kCacheArg], cacheBytes = args[kCacheBytesArg];
    }
    readWorkgroupBuffers();
  }

  /// The LDS attributions in convert-dsv4-to-gpu's order (KernelEmitter.h) and the subgroup
  /// width every shuffle names.
  void readWorkgroupBuffers() {
    auto buffers = func.getWorkgroupAttributions();
    if (config.plan.exchangesThroughLds())
      lds = buffers.front();
    if (config.plan.getWindowSplit() > 1)
      windowPartials = buffers[config.plan.exchangesThroughLds() ? 1 : 0];
    if (config.plan.getRowParts() > 1)
      rowPartSums = buffers.back();
    subgroupWidth = arith::IndexCastOp::create(b, b.getI32Type(),
                                               gpu::SubgroupSizeOp::create(b, IntegerAttr()));
  }

  void readCompressArguments() {
    auto args = func.getArguments();
    state = args[kCompressStateArg], blockTable = args[kCompressBlockTableArg];
    tokenReqs = args[kCompressTokenReqArg], itemPositions = args[kCompressPositionsArg];
    weight = args[kCompressWeightArg], freqs = args[kCompressFreqsArg];
    outLocs = args[kCompressOutLocArg], cache = args[kCompressCacheArg];
    cacheBytes = args[kCompressCacheBytesArg];
    numItems = args[kCompressNumItemsArg], numPositions = args[kCompressNumPositionsArg];
    freqsRowStride = toIndex(args[kCompressFreqsRowStrideArg]);
    stateBlockStride = toIndex(args[kCompressStateBlockStrideArg]);
    stateRowStride = toIndex(args[kCompressStateRowStrideArg]);
    blockTableRowStride = toIndex(args[kCompressBlockTableRowStrideArg]);
    numBlocks = toIndex(args[kCompressNumBlocksArg]);
    numRequests = toIndex(args[kCompressNumRequestsArg]);
    maxBlocks = toIndex(args[kCompressMaxBlocksArg]);
    readWorkgroupBuffers();
  }

  /// The state's windows as SPEC.md shapes them; the block table is a flat buffer whose rows
  /// are block_table_row_stride apart.
  StateWindows stateWindows() {
    int64_t coff = config.spec.getOverlap() ? 2 : 1;
    auto loadBlockId = [this](ImplicitLocOpBuilder &builder, Value row, Value column) {
      Value at = arith::AddIOp::create(
          builder, arith::MulIOp::create(builder, row, blockTableRowStride), column);
      return memref::LoadOp::create(builder, blockTable, ValueRange{at}).getResult();
    };
    return {config.spec.getRatio(), coff, config.spec.getHeadDim(),
            *config.spec.getStateBlockSize(), numBlocks, numRequests, maxBlocks, loadBlockId};
  }

  /// Emits `cond ? then() : otherwise` for values of fixed types (an scf.if with results).
  SmallVector<Value> ifElse(Value cond, function_ref<SmallVector<Value>()> thenValues,
                            ArrayRef<Value> otherwise) {
    SmallVector<Type> types = llvm::map_to_vector(otherwise, [](Value v) { return v.getType(); });
    auto ifOp = scf::IfOp::create(b, types, cond, /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      scf::YieldOp::create(b, thenValues());
      b.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(b, otherwise);
    }
    return SmallVector<Value>(ifOp.getResults());
  }

  /// Thread -> (row slot, lane) -> work item -> (active, row, position). Threads of skipped
  /// items stay alive: every thread must reach every barrier.
  void computeWorkItem() {
    Value thread = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
    Value block = gpu::BlockIdOp::create(b, gpu::Dimension::x);
    lane = arith::RemUIOp::create(b, thread, index(config.plan.getLanesPerRow()));
    rowSlot = arith::DivUIOp::create(b, thread, index(config.plan.getLanesPerRow()));
    rowSlotBase = arith::MulIOp::create(b, rowSlot, index(config.spec.getHeadDim()));
    // The slots of a split window share one item (KernelPlan's window_split).
    int64_t split = config.plan.getWindowSplit();
    windowPart = arith::RemUIOp::create(b, rowSlot, index(split));
    Value item = arith::AddIOp::create(
        b, arith::MulIOp::create(b, block, index(config.plan.getItemsPerWorkgroup())),
        arith::DivUIOp::create(b, rowSlot, index(split)));
    // Compared as 64-bit indices: blocks * rows may pass INT32_MAX, and a truncated item
    // index would wrap negative and pass the check. Below num_items it fits in i32.
    Value inRange = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, item, toIndex(numItems));
    Value itemI32 = arith::IndexCastOp::create(b, b.getI32Type(), item);
    int64_t ratio = config.spec.getRatio();
    WorkItem workItem;
    // Item m's slot is out_loc[m], loaded beside its handle row; an sglang_extend item's is
    // out_loc[ragged_id], which waits for the row.
    bool slotByItem = config.spec.getMode() != PositionSource::sglang_extend;
    if (config.spec.stores() && slotByItem)
      outLoc = loadSlot(inRange, item);
    if (config.spec.compresses()) {
      workItem = computeCompressItem(inRange, item);
    } else {
      HandleRow handleRow = loadHandleRow(inRange, item, itemI32);
      workItem = emitHandleItem(b, handleRow, itemI32, ratio, numPositions);
      if (config.spec.stores() && handleRow.seqLen)
        boundary = emitIsBoundary(b, handleRow.seqLen, ratio);
      if (config.spec.stores() && !slotByItem) {
        // out_loc has num_items entries; a ragged id past them names no slot.
        Value raggedId = toIndex(handleRow.outLocIndex);
        Value named = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, raggedId,
                                            toIndex(numItems));
        outLoc = loadSlot(arith::AndIOp::create(b, inRange, named), raggedId);
      }
    }
    active = emitRowActive(b, workItem.row, config.spec.compresses() ? numItems : numRows);
    Value row = workItem.row;
    readable = active;
    if (rowIsItem(config.spec.getMode())) {
      // Item m of these kinds names row m whatever its handle row says: reading the (in-bounds)
      // row does not wait for the handle load, which takes one global round trip off the
      // critical path. Skipped items are still only stored when active.
      row = itemI32;
      readable = arith::AndIOp::create(
          b, inRange, arith::CmpIOp::create(b, arith::CmpIPredicate::slt, itemI32, numRows));
    }
    if (!config.spec.compresses())
      rowBase = arith::MulIOp::create(b, toIndex(row), kvRowStride);
    position = toIndex(workItem.position);
  }

  /// The handle row of `item` (index; its i32 `itemI32`): the columns its kind reads, loaded
  /// when the item is in range (seq_lens[item], or plan[item * plan_row_stride + column]);
  /// an item past the handle reads -1 columns, which every kind skips.
  HandleRow loadHandleRow(Value inRange, Value item, Value itemI32) {
    PositionSource source = config.spec.getMode();
    SmallVector<HandleColumn> columns = handleColumnsRead(source);
    SmallVector<Value> loaded = ifElse(inRange, [&]() -> SmallVector<Value> {
      if (source == PositionSource::decode)
        return {memref::LoadOp::create(b, handle, ValueRange{item})};
      Value base = arith::MulIOp::create(b, item, planRowStride);
      return llvm::map_to_vector(columns, [&](HandleColumn read) -> Value {
        Value at = arith::AddIOp::create(b, base, index(read.column));
        return memref::LoadOp::create(b, handle, ValueRange{at});
      });
    }, llvm::map_to_vector(columns, [&](HandleColumn read) { return i32(read.missing); }));
    return emitHandleRow(b, source, itemI32, loaded);
  }

  /// out_loc[at] (index) as i64 (an i32 slot sign-extended) when `named`, else -1: no slot.
  Value loadSlot(Value named, Value at) {
    return ifElse(named, [&]() -> SmallVector<Value> {
      return {toI64Slot(b, memref::LoadOp::create(b, outLocs, ValueRange{at}))};
    }, {arith::ConstantIntOp::create(b, b.getI64Type(), -1)})[0];
  }

  /// Kinds whose item m names row m whatever its handle row says.
  static bool rowIsItem(PositionSource source) {
    return source == PositionSource::decode || source == PositionSource::sglang_decode ||
           source == PositionSource::sglang_extend;
  }

  /// A compress item: token_req[t] and positions[t] read when t is an item, pooled when it
  /// ends a window whose blocks are all in the buffers; its prefill plan row (t, p) gives
  /// the epilogue's RoPE position p + 1 - ratio, as dsv4.compress_pool's plan does.
  WorkItem computeCompressItem(Value inRange, Value item) {
    SmallVector<Value> read = ifElse(inRange, [&]() -> SmallVector<Value> {
      return {memref::LoadOp::create(b, tokenReqs, ValueRange{item}),
              memref::LoadOp::create(b, itemPositions, ValueRange{item})};
    }, {i32(-1), arith::ConstantIntOp::create(b, b.getI64Type(), -1)});
    CompressItem compress = emitCompressItem(b, stateWindows(), read[0], read[1], item);
    request = compress.request, itemPosition = compress.position;
    Value planRow = arith::SelectOp::create(
        b, compress.produces, arith::IndexCastOp::create(b, b.getI32Type(), item), i32(-1));
    Value planPosition = arith::SelectOp::create(
        b, compress.produces, arith::TruncIOp::create(b, b.getI32Type(), compress.position),
        i32(0));
    return emitPrefillItem(b, planRow, planPosition, config.spec.getRatio(), numPositions);
  }

  /// Index bits held by the lane id, as an index value.
  Value laneOffset(const RowLayout &layout) {
    Value offset = index(0);
    for (auto [k, bit] : llvm::enumerate(layout.laneBits)) {
      Value laneBit = arith::AndIOp::create(
          b, arith::ShRUIOp::create(b, lane, index(k)), index(1));
      offset = arith::OrIOp::create(b, offset, arith::ShLIOp::create(b, laneBit, index(bit)));
    }
    return offset;
  }

  /// Runs start at multiples of their own size (KernelPlanAttr::runAlignment): the runtime
  /// checks the base alignments and row-stride multiples the manifest states.
  static int64_t runAlignment(VectorType type) {
    return KernelPlanAttr::runAlignment(type.getElementType(), type.getNumElements());
  }
  Value vectorLoad(VectorType type, Value memref, Value at) {
    return vector::LoadOp::create(b, type, memref, ValueRange{at}, /*nontemporal=*/false,
                                  llvm::MaybeAlign(runAlignment(type)));
  }
  void vectorStore(Value vector, Value memref, Value at) {
    vector::StoreOp::create(b, vector, memref, ValueRange{at}, /*nontemporal=*/false,
                            llvm::MaybeAlign(runAlignment(cast<VectorType>(vector.getType()))));
  }
  SmallVector<Value> toF32Scalars(Value vector) {
    auto type = cast<VectorType>(vector.getType());
    if (!type.getElementType().isF32())
      vector = arith::ExtFOp::create(b, VectorType::get(type.getShape(), b.getF32Type()), vector);
    SmallVector<Value> scalars;
    for (int64_t e = 0; e < type.getNumElements(); ++e)
      scalars.push_back(vector::ExtractOp::create(b, vector, e));
    return scalars;
  }

  /// The run of `vectorWidth` values starting at register `reg` of the natural layout.
  Value naturalRunOffset(Value laneBase, int64_t reg) {
    return arith::AddIOp::create(b, laneBase, index(natural().registerOffset(reg)));
  }

  /// One 16-byte load per run; rows of skipped items are not read (zeros instead).
  void loadRow() {
    int64_t width = config.plan.getVectorWidth();
    auto kvVector = VectorType::get({width}, config.spec.getKvType());
    Value laneBase = laneOffset(natural());
    SmallVector<Value> zeros;
    for (int64_t reg = 0; reg < config.valuesPerLane(); reg += width)
      zeros.push_back(arith::ConstantOp::create(b, kvVector, b.getZeroAttr(kvVector)));
    SmallVector<Value> runs = ifElse(readable, [&]() {
      SmallVector<Value> loaded;
      for (int64_t reg = 0; reg < config.valuesPerLane(); reg += width)
        loaded.push_back(vectorLoad(kvVector, kv,
                                    arith::AddIOp::create(b, rowBase,
                                                          naturalRunOffset(laneBase, reg))));
      return loaded;
    }, zeros);
    for (Value run : runs)
      llvm::append_range(x, toF32Scalars(run));
  }

  /// The item's window pooled into `x` (zeros for a skipped item, whose state is not read):
  /// the window rows are loaded in groups (rowsInFlight), each group's loads issued before its
  /// pooling; a window of at most two groups is unrolled, a longer one loops over the groups.
  void poolWindow() {
    StateWindows windows = stateWindows();
    int64_t split = config.plan.getWindowSplit();
    int64_t partRows = windows.windowSize() / split;
    int64_t perRow = 2 * config.valuesPerLane();
    SmallVector<Value> identity;
    for (const PoolSums &s : SmallVector<PoolSums>(config.valuesPerLane(), emitPoolStart(b)))
      identity.append({s.max, s.weighted, s.total});
    SmallVector<Value> partial = ifElse(active, [&]() {
      // Window rows then find their block among ids loaded once, not by a load each.
      if (maxWindowColumns(windows) <= kMaxHoistedColumns)
        windows.loadBlockId = hoistedBlockIds(windows);
      SmallVector<PoolSums> sums(config.valuesPerLane(), emitPoolStart(b));
      Value first = arith::MulIOp::create(b, windowPart, index(partRows));
      if (split == 1 && partRows * perRow <= 2 * stateValuesInFlight()) {
        for (int64_t i = 0; i < partRows; i += rowsInFlight(windows))
          poolRows(windows, index(i), rowsInFlight(windows), sums);
      } else {
        poolRowLoop(windows, first, partRows, sums);
      }
      SmallVector<Value> flat;
      for (const PoolSums &s : sums)
        flat.append({s.max, s.weighted, s.total});
      return flat;
    }, identity);
    SmallVector<PoolSums> sums;
    for (int64_t k = 0; k < config.valuesPerLane(); ++k)
      sums.push_back({partial[3 * k], partial[3 * k + 1], partial[3 * k + 2]});
    if (split > 1)
      sums = mergeWindowParts(sums);
    // A skipped item's row is zeros, as an unsplit kernel leaves it.
    x.clear();
    for (const PoolSums &s : sums)
      x.push_back(arith::SelectOp::create(b, active, emitPoolResult(b, s), f32(0.0f)));
  }

  /// The partial sums of every part of the item's window, merged in part order: each slot
  /// writes its lane's sums to its part's LDS rows, a barrier, then every slot reads all parts
  /// (the same order in each, so every slot ends with the same row). Every thread reaches the
  /// barrier, skipped items' slots with empty sums.
  SmallVector<PoolSums> mergeWindowParts(ArrayRef<PoolSums> sums) {
    int64_t headDim = config.spec.getHeadDim();
    int64_t width = config.plan.getVectorWidth();
    auto runType = VectorType::get({width}, b.getF32Type());
    // The item's parts are consecutive slots: their LDS rows are those of the item's part 0.
    Value itemBase = arith::SubIOp::create(b, rowSlot, windowPart);
    Value laneBase = laneOffset(natural());
    auto at = [&](Value part, int64_t field, int64_t reg) {
      Value row = arith::AddIOp::create(
          b, arith::MulIOp::create(b, part, index(3)), index(field));
      return arith::AddIOp::create(b, arith::MulIOp::create(b, row, index(headDim)),
                                   naturalRunOffset(laneBase, reg));
    };
    auto fieldOf = [](const PoolSums &s, int64_t field) {
      return field == 0 ? s.max : field == 1 ? s.weighted : s.total;
    };
    for (int64_t field = 0; field < 3; ++field)
      for (int64_t reg = 0; reg < config.valuesPerLane(); reg += width) {
        SmallVector<Value> run;
        for (int64_t e = 0; e < width; ++e)
          run.push_back(fieldOf(sums[reg + e], field));
        vectorStore(vector::FromElementsOp::create(b, runType, run), windowPartials,
                    at(rowSlot, field, reg));
      }
    gpu::BarrierOp::create(b);
    SmallVector<PoolSums> merged;
    for (int64_t part = 0; part < config.plan.getWindowSplit(); ++part) {
      Value partSlot = arith::AddIOp::create(b, itemBase, index(part));
      SmallVector<SmallVector<Value>> fields(3);
      for (int64_t field = 0; field < 3; ++field)
        for (int64_t reg = 0; reg < config.valuesPerLane(); reg += width)
          llvm::append_range(fields[field],
                             toF32Scalars(vectorLoad(runType, windowPartials,
                                                     at(partSlot, field, reg))));
      for (int64_t k = 0; k < config.valuesPerLane(); ++k) {
        PoolSums other{fields[0][k], fields[1][k], fields[2][k]};
        if (part == 0)
          merged.push_back(other);
        else
          merged[k] = emitPoolMerge(b, merged[k], other);
      }
    }
    return merged;
  }

  /// The block ids of the item's window columns, loaded up front (inside the active region,
  /// where every column from the first to the last is in the table), and a loadBlockId that
  /// picks a row's among them: the loads of a group of rows then wait for no block-table load.
  /// Columns past the last are clamped to it (never read past the table).
  std::function<Value(ImplicitLocOpBuilder &, Value, Value)>
  hoistedBlockIds(const StateWindows &windows) {
    auto [firstColumn, lastColumn] = emitWindowColumns(b, windows, itemPosition);
    Value requestIndex = toIndex(request);
    SmallVector<Value> ids;
    for (int64_t k = 0; k < maxWindowColumns(windows); ++k) {
      Value column = arith::MinUIOp::create(
          b, arith::AddIOp::create(b, firstColumn, index(k)), lastColumn);
      ids.push_back(windows.loadBlockId(b, requestIndex, column));
    }
    return [ids, firstColumn](ImplicitLocOpBuilder &builder, Value, Value column) {
      Value k = arith::SubIOp::create(builder, column, firstColumn);
      Value id = ids[0];
      for (auto [j, candidate] : llvm::enumerate(ArrayRef(ids).drop_front()))
        id = arith::SelectOp::create(
            builder,
            arith::CmpIOp::create(builder, arith::CmpIPredicate::eq, k,
                                  arith::ConstantIndexOp::create(builder, int64_t(j) + 1)),
            candidate, id);
      return id;
    };
  }

  int64_t stateValuesInFlight() const {
    return config.plan.getWavesPerSimd() ? kStateValuesInFlightAtFullOccupancy
                                         : kStateValuesInFlight;
  }

  /// Window rows loaded together: a power of two dividing the window, and under overlap its
  /// halves (a group reads one half of its state rows).
  int64_t rowsInFlight(const StateWindows &windows) {
    int64_t limit = std::max<int64_t>(1, stateValuesInFlight() / (2 * config.valuesPerLane()));
    int64_t rows = 1;
    while (rows * 2 <= limit && windows.ratio % (rows * 2) == 0)
      rows *= 2;
    return rows;
  }

  /// A loop over groups of window rows first..first+count-1 (first an index value), the
  /// pooling sums carried.
  void poolRowLoop(const StateWindows &windows, Value first, int64_t count,
                   SmallVector<PoolSums> &sums) {
    int64_t group = rowsInFlight(windows);
    SmallVector<Value> carried;
    for (const PoolSums &s : sums)
      carried.append({s.max, s.weighted, s.total});
    auto loop = scf::ForOp::create(b, first, arith::AddIOp::create(b, first, index(count)),
                                   index(group), carried);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    ValueRange args = loop.getRegionIterArgs();
    for (auto [k, s] : llvm::enumerate(sums))
      s = {args[3 * k], args[3 * k + 1], args[3 * k + 2]};
    poolRows(windows, loop.getInductionVar(), group, sums);
    SmallVector<Value> next;
    for (const PoolSums &s : sums)
      next.append({s.max, s.weighted, s.total});
    scf::YieldOp::create(b, next);
    b.setInsertionPointAfter(loop);
    for (auto [k, s] : llvm::enumerate(sums))
      s = {loop.getResult(3 * k), loop.getResult(3 * k + 1), loop.getResult(3 * k + 2)};
  }

  /// Window rows first..first+count-1 (first an index value; the group lies in one half of
  /// an overlapping window): every run's kv and score loaded, then pooled in row order.
  void poolRows(const StateWindows &windows, Value first, int64_t count,
                SmallVector<PoolSums> &sums) {
    int64_t width = config.plan.getVectorWidth();
    auto runType = VectorType::get({width}, b.getF32Type());
    Value laneBase = laneOffset(natural());
    // Under overlap the window's last `ratio` rows read the state row's second half.
    Value kvOffset = index(windows.kvOffset(0));
    if (windows.coff == 2)
      kvOffset = arith::SelectOp::create(
          b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, first, index(windows.ratio)),
          index(windows.kvOffset(windows.ratio)), kvOffset);
    Value scoreShift = index(windows.scoreOffset(0) - windows.kvOffset(0));
    struct Loaded {
      Value present;
      SmallVector<Value> kv, score;
    };
    SmallVector<Loaded> rows;
    for (int64_t r = 0; r < count; ++r) {
      Value i = arith::IndexCastOp::create(b, b.getI64Type(),
                                           arith::AddIOp::create(b, first, index(r)));
      WindowRow row = emitWindowRow(b, windows, request, itemPosition, i);
      Value rowStart = arith::AddIOp::create(
          b, arith::MulIOp::create(b, toIndex(row.block), stateBlockStride),
          arith::MulIOp::create(b, row.rowInBlock, stateRowStride));
      Value kvStart = arith::AddIOp::create(b, rowStart, kvOffset);
      Loaded loaded{row.present, {}, {}};
      for (int64_t reg = 0; reg < config.valuesPerLane(); reg += width) {
        Value at = arith::AddIOp::create(b, kvStart, naturalRunOffset(laneBase, reg));
        llvm::append_range(loaded.kv, toF32Scalars(vectorLoad(runType, state, at)));
        llvm::append_range(loaded.score,
                           toF32Scalars(vectorLoad(runType, state,
                                                   arith::AddIOp::create(b, at, scoreShift))));
      }
      rows.push_back(std::move(loaded));
    }
    for (const Loaded &row : rows)
      for (auto [s, kv, score] : llvm::zip(sums, row.kv, row.score))
        s = emitPoolStep(b, s, kv, score, row.present);
  }

  /// Sum of squares over the lane, then a xor-butterfly over the lanes of the row's 32-lane
  /// part (every lane ends with the same bits: f32 addition is commutative), then the parts'
  /// sums added through LDS. The lane's sum runs in register order, one fma a value (kContract):
  /// a pairwise tree took the 16-value prefill kernels from 19.2 to 20.8 us at 65536 rows
  /// (H200, issue 24; BENCHMARKS.md) for no decode gain that one run could tell apart.
  Value rowSumOfSquares() {
    Value sum = f32(0.0f);
    for (Value value : x)
      sum = arith::AddFOp::create(b, sum, arith::MulFOp::create(b, value, value, kContract),
                                  kContract);
    // Xor offsets below the part's lanes never leave its aligned group of lanes.
    int64_t partLanes = config.plan.getLanesPerRow() / config.plan.getRowParts();
    for (int64_t offset = 1; offset < partLanes; offset *= 2)
      sum = arith::AddFOp::create(b, sum, shuffleXor(sum, offset));
    return config.plan.getRowParts() > 1 ? sumRowParts(sum, partLanes) : sum;
  }

  /// The row's sum from its parts' (`partSum` in every lane of a part of `partLanes`): the
  /// part's first lane writes it to the row's LDS slots, a barrier, and every lane adds the
  /// slots in part order, so every lane of the row ends with the same bits. Written once,
  /// read once: no second barrier. Every thread reaches the barrier (computeWorkItem).
  Value sumRowParts(Value partSum, int64_t partLanes) {
    int64_t parts = config.plan.getRowParts();
    Value rowSlots = arith::MulIOp::create(b, rowSlot, index(parts));
    Value part = arith::DivUIOp::create(b, lane, index(partLanes));
    Value firstLane = arith::CmpIOp::create(
        b, arith::CmpIPredicate::eq, arith::RemUIOp::create(b, lane, index(partLanes)),
        index(0));
    auto ifFirst = scf::IfOp::create(b, firstLane, /*withElseRegion=*/false);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(ifFirst.thenBlock()->getTerminator());
      memref::StoreOp::create(b, partSum, rowPartSums,
                              ValueRange{arith::AddIOp::create(b, rowSlots, part)});
    }
    gpu::BarrierOp::create(b);
    SmallVector<Value> sums =
        toF32Scalars(vectorLoad(VectorType::get({parts}, b.getF32Type()), rowPartSums, rowSlots));
    Value sum = sums.front();
    for (Value next : ArrayRef(sums).drop_front())
      sum = arith::AddFOp::create(b, sum, next);
    return sum;
  }

  /// gpu.shuffle xor over the whole subgroup. Its width is the number of lanes that take part,
  /// counted from lane 0 of the subgroup; a lane at or above it gets no value (GPU dialect;
  /// NVVM builds its member mask from it). A width of 32 would leave lanes 32..63 of a wave64
  /// without a value (convert-gpu-to-host at subgroup size 64 shows it).
  Value shuffleXor(Value value, int64_t offset) {
    return gpu::ShuffleOp::create(b, value, i32(offset), subgroupWidth, gpu::ShuffleMode::XOR)
        .getShuffleResult();
  }

  /// x * (r * outputScale) * weight. The RoPE and the Hadamard transform are linear, so the
  /// Hadamard's output scale rides on the norm's factor: one multiply a row rather than one a
  /// value after the last stage (large batches are issue-bound).
  void applyRmsNorm(float outputScale) {
    Value inverseRms = emitInverseRms(b, rowSumOfSquares(), config.spec.getHeadDim(),
                                      config.spec.getEps().getValue());
    if (outputScale != 1.0f)
      inverseRms = arith::MulFOp::create(b, inverseRms, f32(outputScale));
    for (auto [value, w] : llvm::zip(x, weightValues))
      value = arith::MulFOp::create(b, arith::MulFOp::create(b, value, inverseRms), w);
  }

  /// The weight at the lane's positions, one 16-byte (or 8-byte, bf16) load per run.
  void loadWeight() {
    int64_t width = config.plan.getVectorWidth();
    auto weightVector = VectorType::get({width}, config.spec.getWeightType());
    Value laneBase = laneOffset(natural());
    for (int64_t reg = 0; reg < config.valuesPerLane(); reg += width)
      llvm::append_range(weightValues, toF32Scalars(vectorLoad(
                                           weightVector, weight, naturalRunOffset(laneBase, reg))));
  }

  /// The rotation of the run at register `reg`: (cos, sin) pairs read from freqs[position] in
  /// the rotated tail of an active item, (1, 0) elsewhere (where applyRope keeps the values).
  Rotation loadRotation(Value laneBase, int64_t reg) {
    int64_t width = config.plan.getVectorWidth();
    int64_t tailStart = config.spec.getHeadDim() - config.spec.getRopeDim();
    Value runIndex = naturalRunOffset(laneBase, reg);
    SmallVector<Value> identity;
    for (int64_t e = 0; e < width; ++e)
      identity.push_back(f32(e % 2 == 0 ? 1.0f : 0.0f));
    Value rowStart = arith::MulIOp::create(b, position, freqsRowStride);
    auto inTail = [&](Value at) {
      return arith::AndIOp::create(
          b, active, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, at, index(tailStart)));
    };
    auto freqsAt = [&](Value at) {
      return arith::AddIOp::create(b, rowStart,
                                   arith::SubIOp::create(b, at, index(tailStart)));
    };
    Rotation rotation;
    if (config.vectorFreqs()) {
      Value runInTail = inTail(runIndex);
      rotation.cosSin = ifElse(runInTail, [&]() {
        return toF32Scalars(vectorLoad(VectorType::get({width}, b.getF32Type()), freqs,
                                       freqsAt(runIndex)));
      }, identity);
      rotation.inTail.assign(width / 2, runInTail);
      return rotation;
    }
    for (int64_t e = 0; e < width; e += 2) {
      Value at = arith::AddIOp::create(b, runIndex, index(e));
      Value pairInTail = inTail(at);
      llvm::append_range(rotation.cosSin, ifElse(pairInTail, [&]() -> SmallVector<Value> {
        Value cosAt = freqsAt(at);
        Value sinAt = arith::AddIOp::create(b, cosAt, index(1));
        return {memref::LoadOp::create(b, freqs, ValueRange{cosAt}),
                memref::LoadOp::create(b, freqs, ValueRange{sinAt})};
      }, {identity[0], identity[1]}));
      rotation.inTail.push_back(pairInTail);
    }
    return rotation;
  }

  void loadRotations() {
    int64_t width = config.plan.getVectorWidth();
    int64_t tailStart = config.spec.getHeadDim() - config.spec.getRopeDim();
    int64_t runSpan = config.plan.getLanesPerRow() * width; // indices one run covers across the row's lanes
    Value laneBase = laneOffset(natural());
    for (int64_t reg = 0; reg < config.valuesPerLane(); reg += width)
      if (natural().registerOffset(reg) + runSpan > tailStart) // some lane's run reaches it
        rotations[reg] = loadRotation(laneBase, reg);
  }

  /// The run of `x` at register `reg` with the RoPE applied to its pairs in the tail.
  SmallVector<Value> ropeRun(int64_t reg) {
    int64_t width = config.plan.getVectorWidth();
    SmallVector<Value> run(ArrayRef<Value>(x).slice(reg, width));
    auto found = rotations.find(reg);
    if (found == rotations.end())
      return run;
    const Rotation &rotation = found->second;
    // Each rotated value is a multiply and an fma (kContract).
    auto product = [&](Value u, Value v) { return arith::MulFOp::create(b, u, v, kContract); };
    for (int64_t e = 0; e < width; e += 2) {
      Value re = run[e], im = run[e + 1];
      Value c = rotation.cosSin[e], s = rotation.cosSin[e + 1];
      Value rotatedRe = arith::SubFOp::create(b, product(re, c), product(im, s), kContract);
      Value rotatedIm = arith::AddFOp::create(b, product(re, s), product(im, c), kContract);
      // SPEC.md: channels before the tail pass through.
      Value inTail = rotation.inTail[e / 2];
      run[e] = arith::SelectOp::create(b, inTail, rotatedRe, re);
      run[e + 1] = arith::SelectOp::create(b, inTail, rotatedIm, im);
    }
    return run;
  }

  void applyRope() {
    int64_t width = config.plan.getVectorWidth();
    for (int64_t reg = 0; reg < config.valuesPerLane(); reg += width)
      llvm::copy(ropeRun(reg), x.begin() + reg);
  }

  /// A store kernel whose layout keeps the rope channels as a bf16 tail (the main cache, no
  /// rotation) quantizes only channels the RoPE passes through, so their scales and codes need
  /// not wait for the freqs row, which waits for the item's position (a second dependent
  /// load): the tail is rotated where it is stored, and the warps without it skip the RoPE.
  /// H200 (BENCHMARKS.md, issue 24): the main store decode kernel 71.2 -> 69.3 us at 65536
  /// rows; no change at 1-256 rows.
  bool ropeAtTailStore() const {
    return config.spec.stores() && !config.spec.rotates() &&
           getCacheGeometry(*config.spec.getLayout()).tail > 0;
  }

  void butterfliesOnRegisterBit(int k) {
    int64_t stride = int64_t(1) << k;
    for (int64_t reg = 0; reg < config.valuesPerLane(); ++reg) {
      if (reg & stride)
        continue;
      Value lo = x[reg], hi = x[reg + stride];
      x[reg] = arith::AddFOp::create(b, lo, hi);
      x[reg + stride] = arith::SubFOp::create(b, lo, hi);
    }
  }

  /// The lane's part of the swizzled LDS index of `layout`: its lane offset XOR the swizzle
  /// bits the lane bits contribute (the swizzle is linear, so register offsets add theirs).
  Value swizzledLaneOffset(const RowLayout &layout) {
    Value offset = laneOffset(layout);
    for (int j = 0; j < LdsSwizzle::kBits; ++j) {
      Value parity = index(0);
      for (auto [k, bit] : llvm::enumerate(layout.laneBits))
        if (swizzle.masks[j] & (int64_t(1) << bit))
          parity = arith::XOrIOp::create(b, parity, arith::ShRUIOp::create(b, lane, index(k)));
      Value flip = arith::ShLIOp::create(b, arith::AndIOp::create(b, parity, index(1)),
                                         index(LdsSwizzle::kFirstBit + j));
      offset = arith::XOrIOp::create(b, offset, flip);
    }
    return offset;
  }

  /// Where the run at register `reg` of `layout` lives in the row's LDS slot.
  Value ldsAddress(Value swizzledLane, const RowLayout &layout, int64_t reg) {
    int64_t offset = layout.registerOffset(reg);
    Value at = arith::XOrIOp::create(b, swizzledLane, index(offset ^ swizzle.xorBits(offset)));
    return arith::AddIOp::create(b, rowSlotBase, at);
  }

  /// Writes every value to the row's LDS slot in `layout`, in 16-byte runs.
  void writeToLds(const RowLayout &layout) {
    Value swizzledLane = swizzledLaneOffset(layout);
    auto runType = VectorType::get({kLdsRun}, b.getF32Type());
    for (int64_t reg = 0; reg < config.valuesPerLane(); reg += kLdsRun) {
      Value run = vector::FromElementsOp::create(b, runType, ArrayRef(x).slice(reg, kLdsRun));
      vectorStore(run, lds, ldsAddress(swizzledLane, layout, reg));
    }
  }

  /// Reads the values at `layout`'s positions, the lane's part given already swizzled.
  SmallVector<Value> readFromLds(const RowLayout &layout, Value swizzledLane) {
    auto runType = VectorType::get({kLdsRun}, b.getF32Type());
    SmallVector<Value> values;
    for (int64_t reg = 0; reg < config.valuesPerLane(); reg += kLdsRun)
      llvm::append_range(values, toF32Scalars(vectorLoad(
          runType, lds, ldsAddress(swizzledLane, layout, reg))));
    return values;
  }

  /// Lane `lane ^ 2^laneBit` holds the other half of every butterfly of this stage: the
  /// lower lane keeps the sum, the upper one the difference. Both are value * sign + other
  /// with the lane's sign (+1 lower, -1 upper), contractible into one fma: the product is
  /// exact, so fused or not it gives the bits of value + other and other - value, in one
  /// instruction a value where an add, a subtract and a select took two or three (large
  /// batches are issue-bound on these stages). (math.fma would become a libdevice call.)
  void combineWithPartner(int laneBit, ArrayRef<Value> partner) {
    Value upper = arith::CmpIOp::create(
        b, arith::CmpIPredicate::ne, arith::AndIOp::create(b, lane, index(int64_t(1) << laneBit)),
        index(0));
    Value sign = arith::SelectOp::create(b, upper, f32(-1.0f), f32(1.0f));
    for (auto [value, other] : llvm::zip(x, partner))
      value = arith::AddFOp::create(b, arith::MulFOp::create(b, value, sign, kContract), other,
                                    kContract);
  }

  /// A cross-lane stage inside the subgroup: no LDS, no barrier.
  void shuffleStage(int laneBit) {
    SmallVector<Value> partner;
    for (Value value : x)
      partner.push_back(shuffleXor(value, int64_t(1) << laneBit));
    combineWithPartner(laneBit, partner);
  }

  /// The butterfly stages of `plan`; the output scale is applyRmsNorm's.
  void applyHadamard(const ButterflyPlan &plan) {
    RowLayout layout = natural();
    bool ldsInUse = false;
    for (const ButterflyStep &step : plan.steps) {
      if (step.kind == ButterflyStep::Kind::Registers) {
        for (int k : step.registerBits)
          butterfliesOnRegisterBit(k);
        continue;
      }
      if (step.kind == ButterflyStep::Kind::Shuffle) {
        shuffleStage(step.laneBit);
        continue;
      }
      // The previous exchange's reads must finish before its slots are overwritten.
      if (ldsInUse)
        gpu::BarrierOp::create(b);
      writeToLds(layout);
      // Every lane's writes must land before any lane reads its partners' values.
      gpu::BarrierOp::create(b);
      ldsInUse = true;
      if (step.kind == ButterflyStep::Kind::Relayout) {
        x = readFromLds(step.layout, swizzledLaneOffset(step.layout));
        layout = step.layout;
        continue;
      }
      int laneIndexBit = layout.laneBits[step.laneBit];
      int64_t partnerBit = int64_t(1) << laneIndexBit;
      Value partnerBase = arith::XOrIOp::create(
          b, swizzledLaneOffset(layout), index(partnerBit ^ swizzle.xorBits(partnerBit)));
      combineWithPartner(step.laneBit, readFromLds(layout, partnerBase));
    }
  }

  /// One 16-byte store per run of `vectorWidth` values, rounded to kv's type once.
  void storeRow(const RowLayout &layout) {
    auto ifActive = scf::IfOp::create(b, active, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifActive.thenBlock()->getTerminator());
    int64_t width = config.plan.getVectorWidth();
    Value base = arith::AddIOp::create(b, rowBase, laneOffset(layout));
    auto f32Vector = VectorType::get({width}, b.getF32Type());
    for (int64_t reg = 0; reg < config.valuesPerLane(); reg += width) {
      Value run = vector::FromElementsOp::create(b, f32Vector, ArrayRef(x).slice(reg, width));
      if (!config.spec.getKvType().isF32())
        run = arith::TruncFOp::create(b, VectorType::get({width}, config.spec.getKvType()), run);
      vectorStore(run, kv, arith::AddIOp::create(b, base, index(layout.registerOffset(reg))));
    }
  }

  /// Quantizes the finished row (kv is not written) into the item's cache slot, when the
  /// item stores: active, a slot inside the cache, and in decode a boundary.
  void storeToCache(const RowLayout &layout) {
    CacheGeometry geometry = getCacheGeometry(*config.spec.getLayout());
    ImplicitLocOpBuilder storeBuilder(config.op->getLoc(), b);
    SlotAddress slot =
        emitSlotAddress(storeBuilder, geometry, *config.spec.getPageSize(), outLoc, cacheBytes);
    Value stores = arith::AndIOp::create(b, active, slot.stores);
    if (config.plan.getWindowSplit() > 1)
      stores = arith::AndIOp::create(
          b, stores, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, windowPart, index(0)));
    if (boundary)
      stores = arith::AndIOp::create(b, stores, boundary);
    auto shuffle = [&](Value value, int64_t offset) { return shuffleXor(value, offset); };
    // Called where the store step builds (inside its branches), not where `b` stands.
    auto tailRun = [&](int64_t reg) {
      OpBuilder::InsertionGuard guard(b);
      b.restoreInsertionPoint(storeBuilder.saveInsertionPoint());
      return ropeRun(reg);
    };
    LaneRow row{layout, x, config.plan.getVectorWidth(), laneOffset(layout), shuffle,
                ropeAtTailStore() ? function_ref<SmallVector<Value>(int64_t)>(tailRun) : nullptr};
    emitCacheStore(storeBuilder, config.spec, row, cache, slot, stores);
  }
};

} // namespace

void mlir::dsv4::emitKernelBody(ImplicitLocOpBuilder &b, const KernelToEmit &config,
                                gpu::GPUFuncOp kernel) {
  KernelEmitter(b, config, kernel).emit();
}
