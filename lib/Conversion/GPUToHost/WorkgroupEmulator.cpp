// convert-gpu-to-host's emulation of one kernel (see WorkgroupEmulator.h). The kernel's
// top-level block is cut at every barrier and subgroup operation; the pieces run in order,
// each in a loop over the workgroup's threads. This is a restructuring of the whole function,
// not a local rewrite, so it clones the kernel's ops through an IRMapping instead of running
// conversion patterns: every op the kernel computes with is cloned unchanged.
#include "WorkgroupEmulator.h"
#include "RaceCheck.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/Utils/GPUUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/TypeSwitch.h"

#include <optional>

using namespace mlir;
using namespace mlir::dsv4;

Type mlir::dsv4::hostType(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  if (!memref || !isa_and_nonnull<gpu::AddressSpaceAttr>(memref.getMemorySpace()))
    return type;
  return MemRefType::get(memref.getShape(), memref.getElementType(), memref.getLayout());
}

namespace {
/// A piece of the top-level block that every thread runs before any thread runs the next. It
/// starts after a barrier, or at a shuffle or subgroup reduction (then its first op).
struct Segment {
  SmallVector<Operation *> ops;
  bool afterBarrier = false;
  /// Values of earlier segments it uses, and values it defines that later ones use.
  SmallVector<Value> liveIn, liveOut;
};

bool isSubgroupOp(Operation *op) { return isa<gpu::ShuffleOp, gpu::SubgroupReduceOp>(op); }

/// Ops that read the thread's place in the grid: loop values of the emulation.
bool isIdOp(Operation *op) {
  return isa<gpu::ThreadIdOp, gpu::BlockIdOp, gpu::BlockDimOp, gpu::GridDimOp, gpu::GlobalIdOp,
             gpu::LaneIdOp, gpu::SubgroupIdOp, gpu::NumSubgroupsOp, gpu::SubgroupSizeOp>(op);
}

/// Scalars and vectors of them can sit in a host buffer indexed by thread.
bool canKeepPerThread(Type type) {
  if (auto vector = dyn_cast<VectorType>(type))
    return vector.getRank() == 1 && !vector.isScalable() &&
           vector.getElementType().isIntOrIndexOrFloat();
  return type.isIntOrIndexOrFloat();
}

/// All-ones bits of `type` (NaN for floats): what the emulation gives for a value the GPU
/// dialect leaves unspecified, so that a kernel that uses one fails its numbers.
Value allOnes(OpBuilder &b, Location loc, Type type) {
  Type element = getElementTypeOrSelf(type);
  TypedAttr scalar;
  if (auto f = dyn_cast<FloatType>(element))
    scalar = b.getFloatAttr(f, APFloat(f.getFloatSemantics(), APInt::getAllOnes(f.getWidth())));
  else if (element.isIndex())
    scalar = b.getIndexAttr(-1);
  else
    scalar = b.getIntegerAttr(element, APInt::getAllOnes(element.getIntOrFloatBitWidth()));
  if (auto vector = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vector, scalar));
  return arith::ConstantOp::create(b, loc, scalar);
}

class KernelEmulator {
public:
  KernelEmulator(gpu::GPUFuncOp kernel, const EmulationOptions &options)
      : kernel(kernel), options(options), body(kernel.getBody().front()) {}

  /// Checks what the emulation needs and plans the segments; errors name the op.
  LogicalResult analyze();
  func::FuncOp build();

private:
  LogicalResult checkOp(Operation *op);
  LogicalResult checkWorkgroupMemory();
  void planSegments();
  LogicalResult planLiveValues();

  void emitSegment(OpBuilder &b, Location loc, const Segment &segment, Value workgroup,
                   Value grid);
  Value emulateIdOp(OpBuilder &b, Operation *op, Value thread, Value workgroup, Value grid);
  void emulateShuffle(OpBuilder &b, gpu::ShuffleOp op, Value thread, IRMapping &mapping);
  void emulateSubgroupReduce(OpBuilder &b, gpu::SubgroupReduceOp op, Value thread,
                             IRMapping &mapping);
  Value valueOfThread(OpBuilder &b, Location loc, Value value, Value thread, IRMapping &mapping);
  void finishClone(Operation *clone, Operation *original, Value thread, Value workgroup,
                   Value grid);
  void fillWithAllOnes(OpBuilder &b, Location loc, Value buffer);

  /// Lanes per cluster: the whole subgroup unless the op names a size.
  int64_t clusterSize(gpu::SubgroupReduceOp op) const {
    return op.getClusterSize() ? int64_t(*op.getClusterSize()) : options.subgroupSize;
  }
  Value index(OpBuilder &b, Location loc, int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }

  gpu::GPUFuncOp kernel;
  EmulationOptions options;
  Block &body;
  int64_t blockSize = 0;
  SmallVector<Operation *> constants;
  SmallVector<Segment> segments;
  /// Workgroup-memory accesses, numbered in walk order for race reports.
  DenseMap<Operation *, int64_t> accessSites;
  /// Host buffer (one element per thread) of every value kept across segments.
  DenseMap<Value, Value> perThread;
  /// The host values of the kernel's arguments, attributions and constants.
  IRMapping uniform;
  std::optional<RaceChecker> races;
};

LogicalResult KernelEmulator::analyze() {
  if (!kernel.getBody().hasOneBlock())
    return kernel.emitError("the emulation runs kernels whose body is one block "
                            "(structured control flow)");
  DenseI32ArrayAttr known = kernel.getKnownBlockSizeAttr();
  if (!known || known.size() != 3 || known[1] != 1 || known[2] != 1)
    return kernel.emitError("the emulation needs a one-dimensional known_block_size "
                            "(N, 1, 1) to size its per-thread storage");
  blockSize = known[0];
  if (!kernel.getPrivateAttributions().empty())
    return kernel.emitError("private attributions are not emulated");
  WalkResult walk = body.walk([&](Operation *op) {
    return failed(checkOp(op)) ? WalkResult::interrupt() : WalkResult::advance();
  });
  if (walk.wasInterrupted() || failed(checkWorkgroupMemory()))
    return failure();
  planSegments();
  return planLiveValues();
}

LogicalResult KernelEmulator::checkOp(Operation *op) {
  bool topLevel = op->getBlock() == &body;
  if ((isSubgroupOp(op) || isa<gpu::BarrierOp>(op)) && !topLevel)
    return op->emitError() << "'" << op->getName()
                           << "' must be in the kernel's top-level block: the emulation "
                              "runs it between two passes over all threads, which needs "
                              "uniform control flow";
  if (auto reduce = dyn_cast<gpu::SubgroupReduceOp>(op)) {
    int64_t size = clusterSize(reduce);
    int64_t span = size * reduce.getClusterStride();
    if (span > options.subgroupSize)
      return op->emitError() << "a cluster of " << size << " lanes "
                             << "with stride " << reduce.getClusterStride()
                             << " does not fit a subgroup of " << options.subgroupSize;
    if (blockSize % options.subgroupSize != 0)
      return op->emitError() << "'gpu.subgroup_reduce' needs whole subgroups: the block size "
                             << blockSize << " is not a multiple of the subgroup size "
                             << options.subgroupSize;
  }
  if (isa_and_nonnull<gpu::GPUDialect>(op->getDialect()) && !isIdOp(op) && !isSubgroupOp(op) &&
      !isa<gpu::BarrierOp, gpu::ReturnOp>(op))
    return op->emitError() << "'" << op->getName() << "' has no host emulation";
  return success();
}

LogicalResult KernelEmulator::checkWorkgroupMemory() {
  for (BlockArgument lds : kernel.getWorkgroupAttributions()) {
    auto type = cast<MemRefType>(lds.getType());
    if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
        !type.getElementType().isIntOrFloat())
      return kernel.emitError() << "workgroup attribution " << type
                                << " must have a static shape, the identity layout and "
                                   "integer or float elements";
    for (OpOperand &use : lds.getUses())
      if (getAccessedMemRef(use.getOwner()) != lds)
        return use.getOwner()->emitError()
               << "workgroup memory is emulated (and race-checked) only through "
                  "memref.load/store and vector.load/store of 1-D vectors, not '"
               << use.getOwner()->getName() << "'";
  }
  body.walk([&](Operation *op) {
    Value memref = getAccessedMemRef(op);
    if (memref && llvm::is_contained(kernel.getWorkgroupAttributions(), memref))
      accessSites.try_emplace(op, accessSites.size());
  });
  return success();
}

void KernelEmulator::planSegments() {
  segments.emplace_back();
  for (Operation &op : body.without_terminator()) {
    if (op.hasTrait<OpTrait::ConstantLike>()) {
      constants.push_back(&op);
      continue;
    }
    if (isa<gpu::BarrierOp>(op)) {
      segments.emplace_back().afterBarrier = true;
      continue;
    }
    if (isSubgroupOp(&op) && !segments.back().ops.empty())
      segments.emplace_back();
    segments.back().ops.push_back(&op);
  }
}

LogicalResult KernelEmulator::planLiveValues() {
  DenseMap<Operation *, unsigned> segmentOf;
  for (auto [number, segment] : llvm::enumerate(segments))
    for (Operation *op : segment.ops)
      segmentOf[op] = number;
  for (auto [number, segment] : llvm::enumerate(segments)) {
    for (Operation *op : segment.ops) {
      if (isIdOp(op))
        continue; // every segment computes its own (emitSegment)
      for (Value result : op->getResults()) {
        SmallVector<unsigned> users;
        for (Operation *user : result.getUsers())
          users.push_back(segmentOf.at(body.findAncestorOpInBlock(*user)));
        llvm::sort(users);
        users.erase(std::unique(users.begin(), users.end()), users.end());
        if (users.empty() || users.back() == number)
          continue;
        if (!canKeepPerThread(result.getType()))
          return op->emitError() << "a value of type " << result.getType()
                                 << " lives across a barrier or subgroup operation; the "
                                    "emulation keeps only scalars and 1-D vectors per thread";
        segment.liveOut.push_back(result);
        for (unsigned user : users)
          if (user != number)
            segments[user].liveIn.push_back(result);
      }
    }
  }
  return success();
}

Value KernelEmulator::emulateIdOp(OpBuilder &b, Operation *op, Value thread, Value workgroup,
                                  Value grid) {
  Location loc = op->getLoc();
  int64_t subgroup = options.subgroupSize;
  auto alongX = [&](gpu::Dimension dim, Value x, int64_t other) {
    return dim == gpu::Dimension::x ? x : index(b, loc, other);
  };
  return TypeSwitch<Operation *, Value>(op)
      .Case([&](gpu::ThreadIdOp id) { return alongX(id.getDimension(), thread, 0); })
      .Case([&](gpu::BlockIdOp id) { return alongX(id.getDimension(), workgroup, 0); })
      .Case([&](gpu::BlockDimOp id) {
        return alongX(id.getDimension(), index(b, loc, blockSize), 1);
      })
      .Case([&](gpu::GridDimOp id) { return alongX(id.getDimension(), grid, 1); })
      .Case([&](gpu::GlobalIdOp id) {
        Value global = arith::AddIOp::create(
            b, loc, arith::MulIOp::create(b, loc, workgroup, index(b, loc, blockSize)), thread);
        return alongX(id.getDimension(), global, 0);
      })
      .Case([&](gpu::LaneIdOp) {
        return arith::RemUIOp::create(b, loc, thread, index(b, loc, subgroup)).getResult();
      })
      .Case([&](gpu::SubgroupIdOp) {
        return arith::DivUIOp::create(b, loc, thread, index(b, loc, subgroup)).getResult();
      })
      .Case([&](gpu::NumSubgroupsOp) {
        return index(b, loc, llvm::divideCeil(blockSize, subgroup));
      })
      .Case([&](gpu::SubgroupSizeOp) { return index(b, loc, subgroup); });
}

Value KernelEmulator::valueOfThread(OpBuilder &b, Location loc, Value value, Value thread,
                                    IRMapping &mapping) {
  auto found = perThread.find(value);
  if (found == perThread.end())
    return mapping.lookup(value); // uniform: an argument or a constant
  return memref::LoadOp::create(b, loc, found->second, ValueRange{thread});
}

/// gpu.shuffle as the GPU dialect defines it: lane k at or above `width` gets valid = false;
/// otherwise the source lane (k ^ o, k + o, k - o or o) must be in [0, width) and in the
/// subgroup. An invalid result is unspecified: all-ones bits here.
void KernelEmulator::emulateShuffle(OpBuilder &b, gpu::ShuffleOp op, Value thread,
                                    IRMapping &mapping) {
  Location loc = op.getLoc();
  using P = arith::CmpIPredicate;
  Type i32 = b.getI32Type();
  Value lane = arith::RemUIOp::create(b, loc, thread, index(b, loc, options.subgroupSize));
  Value subgroupStart = arith::SubIOp::create(b, loc, thread, lane);
  Value laneI32 = arith::IndexCastOp::create(b, loc, i32, lane);
  Value offset = mapping.lookup(op.getOffset()), width = mapping.lookup(op.getWidth());
  Value source;
  switch (op.getMode()) {
  case gpu::ShuffleMode::XOR:
    source = arith::XOrIOp::create(b, loc, laneI32, offset);
    break;
  case gpu::ShuffleMode::DOWN:
    source = arith::AddIOp::create(b, loc, laneI32, offset);
    break;
  case gpu::ShuffleMode::UP:
    source = arith::SubIOp::create(b, loc, laneI32, offset);
    break;
  case gpu::ShuffleMode::IDX:
    source = offset;
    break;
  }
  auto cmp = [&](P predicate, Value lhs, Value rhs) {
    return arith::CmpIOp::create(b, loc, predicate, lhs, rhs).getResult();
  };
  auto i32Const = [&](int64_t v) { return arith::ConstantIntOp::create(b, loc, i32, v); };
  Value valid = cmp(P::slt, laneI32, width);
  valid = arith::AndIOp::create(b, loc, valid, cmp(P::sge, source, i32Const(0)));
  valid = arith::AndIOp::create(b, loc, valid, cmp(P::slt, source, width));
  valid = arith::AndIOp::create(b, loc, valid,
                                cmp(P::slt, source, i32Const(options.subgroupSize)));
  Value sourceThread = arith::AddIOp::create(
      b, loc, subgroupStart, arith::IndexCastOp::create(b, loc, b.getIndexType(), source));
  // A source lane past the last thread of a partial subgroup does not exist.
  valid = arith::AndIOp::create(b, loc, valid,
                                cmp(P::ult, sourceThread, index(b, loc, blockSize)));
  Value safeThread = arith::SelectOp::create(b, loc, valid, sourceThread, thread);
  Value value = valueOfThread(b, loc, op.getValue(), safeThread, mapping);
  Value result = arith::SelectOp::create(b, loc, valid, value,
                                         allOnes(b, loc, op.getValue().getType()));
  mapping.map(op.getShuffleResult(), result);
  mapping.map(op.getValid(), valid);
}

/// Each lane gets the reduction of its cluster, combined in the order of the xor butterfly
/// (offsets stride, 2 * stride, ...) that upstream's shuffle lowering emits: pairs of
/// neighbours first, then pairs of pairs. Every lane of the cluster gets the same bits.
void KernelEmulator::emulateSubgroupReduce(OpBuilder &b, gpu::SubgroupReduceOp op,
                                           Value thread, IRMapping &mapping) {
  Location loc = op.getLoc();
  int64_t size = clusterSize(op);
  int64_t stride = op.getClusterStride();
  Value lane = arith::RemUIOp::create(b, loc, thread, index(b, loc, options.subgroupSize));
  Value first = arith::AddIOp::create(
      b, loc,
      arith::SubIOp::create(b, loc, thread,
                            arith::RemUIOp::create(b, loc, lane, index(b, loc, size * stride))),
      arith::RemUIOp::create(b, loc, lane, index(b, loc, stride)));
  SmallVector<Value> values;
  for (int64_t k = 0; k < size; ++k)
    values.push_back(valueOfThread(
        b, loc, op.getValue(),
        arith::AddIOp::create(b, loc, first, index(b, loc, k * stride)), mapping));
  vector::CombiningKind kind = gpu::convertReductionKind(op.getOp());
  for (int64_t n = size; n > 1; n /= 2)
    for (int64_t m = 0; m < n / 2; ++m)
      values[m] = vector::makeArithReduction(b, loc, kind, values[2 * m], values[2 * m + 1]);
  mapping.map(op.getResult(), values[0]);
}

/// After cloning `original`: memrefs leave the GPU address spaces, id ops nested in regions
/// become loop values, and workgroup-memory accesses get their race check.
void KernelEmulator::finishClone(Operation *clone, Operation *original, Value thread,
                                 Value workgroup, Value grid) {
  SmallVector<Operation *> clones, originals;
  clone->walk([&](Operation *op) { clones.push_back(op); });
  original->walk([&](Operation *op) { originals.push_back(op); });
  for (auto [op, from] : llvm::zip_equal(clones, originals)) {
    for (Value result : op->getResults())
      result.setType(hostType(result.getType()));
    for (Region &region : op->getRegions())
      for (BlockArgument arg : region.getArguments())
        arg.setType(hostType(arg.getType()));
    if (isIdOp(op)) {
      OpBuilder b(op);
      op->getResult(0).replaceAllUsesWith(emulateIdOp(b, op, thread, workgroup, grid));
      op->erase();
      continue;
    }
    auto site = accessSites.find(from);
    if (races && site != accessSites.end())
      races->instrument(op, from, site->second, thread, workgroup);
  }
}

void KernelEmulator::emitSegment(OpBuilder &b, Location loc, const Segment &segment,
                                 Value workgroup, Value grid) {
  auto loop = scf::ForOp::create(b, loc, index(b, loc, 0), index(b, loc, blockSize),
                                 index(b, loc, 1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(loop.getBody()->getTerminator());
  Value thread = loop.getInductionVar();
  IRMapping mapping = uniform;
  // Ids cost less to recompute than to keep per thread.
  for (Operation &op : body)
    if (isIdOp(&op))
      mapping.map(op.getResult(0), emulateIdOp(b, &op, thread, workgroup, grid));
  for (Value value : segment.liveIn)
    mapping.map(value, memref::LoadOp::create(b, loc, perThread.at(value), ValueRange{thread}));
  for (Operation *op : segment.ops) {
    if (auto shuffle = dyn_cast<gpu::ShuffleOp>(op)) {
      emulateShuffle(b, shuffle, thread, mapping);
    } else if (auto reduce = dyn_cast<gpu::SubgroupReduceOp>(op)) {
      emulateSubgroupReduce(b, reduce, thread, mapping);
    } else if (!isIdOp(op)) {
      Operation *clone = b.clone(*op, mapping);
      finishClone(clone, op, thread, workgroup, grid);
    }
  }
  for (Value value : segment.liveOut)
    memref::StoreOp::create(b, loc, mapping.lookup(value), perThread.at(value),
                            ValueRange{thread});
}

void KernelEmulator::fillWithAllOnes(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  Value flat = buffer;
  if (type.getRank() != 1) {
    ReassociationIndices all;
    for (int64_t d = 0; d < type.getRank(); ++d)
      all.push_back(d);
    flat = memref::CollapseShapeOp::create(b, loc, buffer, ArrayRef<ReassociationIndices>(all));
  }
  Value poison = allOnes(b, loc, type.getElementType());
  scf::ForOp::create(b, loc, index(b, loc, 0), index(b, loc, type.getNumElements()),
                     index(b, loc, 1), ValueRange{},
                     [&](OpBuilder &nb, Location nl, Value e, ValueRange) {
                       memref::StoreOp::create(nb, nl, poison, flat, ValueRange{e});
                       scf::YieldOp::create(nb, nl);
                     });
}

func::FuncOp KernelEmulator::build() {
  Location loc = kernel.getLoc();
  SmallVector<Type> params = llvm::map_to_vector(kernel.getArgumentTypes(), hostType);
  OpBuilder b(kernel.getContext());
  params.push_back(b.getIndexType());
  auto host = func::FuncOp::create(loc, kernel.getName(), b.getFunctionType(params, {}));
  Block *entry = host.addEntryBlock();
  b.setInsertionPointToStart(entry);
  for (auto [arg, param] : llvm::zip(kernel.getArguments(), entry->getArguments()))
    uniform.map(arg, param);
  for (Operation *op : constants)
    b.clone(*op, uniform);
  SmallVector<Value> workgroupBuffers;
  for (auto [number, lds] : llvm::enumerate(kernel.getWorkgroupAttributions())) {
    auto align = kernel.getWorkgroupAttributionAttr(number,
                                                    LLVM::LLVMDialect::getAlignAttrName());
    auto buffer = memref::AllocOp::create(b, loc, cast<MemRefType>(hostType(lds.getType())),
                                          ValueRange{}, dyn_cast_or_null<IntegerAttr>(align));
    uniform.map(lds, buffer);
    workgroupBuffers.push_back(buffer);
  }
  for (const Segment &segment : segments)
    for (Value value : segment.liveOut)
      perThread[value] = memref::AllocOp::create(
          b, loc, MemRefType::get({blockSize}, value.getType()));
  if (options.checkRaces && !accessSites.empty()) {
    races.emplace(kernel.getName(), accessSites.size());
    races->allocate(b, loc, workgroupBuffers);
  }
  Value grid = entry->getArguments().back();
  auto workgroups = scf::ForOp::create(b, loc, index(b, loc, 0), grid, index(b, loc, 1));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(workgroups.getBody()->getTerminator());
    Value workgroup = workgroups.getInductionVar();
    // LDS holds no defined value when a workgroup starts.
    for (Value buffer : workgroupBuffers)
      fillWithAllOnes(b, loc, buffer);
    if (races)
      races->resetInterval(b, loc);
    for (const Segment &segment : segments) {
      if (segment.afterBarrier && races)
        races->resetInterval(b, loc);
      if (!segment.ops.empty())
        emitSegment(b, loc, segment, workgroup, grid);
    }
  }
  for (Value buffer : workgroupBuffers)
    memref::DeallocOp::create(b, loc, buffer);
  for (const Segment &segment : segments)
    for (Value value : segment.liveOut)
      memref::DeallocOp::create(b, loc, perThread.at(value));
  if (races)
    races->deallocate(b, loc);
  func::ReturnOp::create(b, loc);
  return host;
}
} // namespace

FailureOr<func::FuncOp> mlir::dsv4::emulateKernel(gpu::GPUFuncOp kernel,
                                                  const EmulationOptions &options) {
  KernelEmulator emulator(kernel, options);
  if (failed(emulator.analyze()))
    return failure();
  return emulator.build();
}
