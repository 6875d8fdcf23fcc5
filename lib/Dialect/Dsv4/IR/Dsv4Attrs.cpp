// Verifiers of #dsv4.spec and #dsv4.plan, and the spec of a fused op. The limits come from
// Checks.h, the ones the ops' verifiers use.
#include "Checks.h"
#include "dsv4/ABI/Limits.h"
#include "dsv4/Dialect/Dsv4/IR/CacheLayout.h"
#include "dsv4/Dialect/Dsv4/IR/Dsv4.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::dsv4;

std::string mlir::dsv4::dtypeName(Type type) {
  std::string name;
  llvm::raw_string_ostream(name) << type;
  return name;
}

namespace {
/// The store part of a spec: the layout fixes D and the bf16 tail (R); an FP8 layout needs
/// the chip's FP8 type and e2m1 takes none.
LogicalResult verifyStore(EmitError emitError, CacheLayout layout, int64_t headDim,
                          int64_t ropeDim, std::optional<int64_t> pageSize, Type fp8Type) {
  CacheGeometry geometry = getCacheGeometry(layout);
  StringRef name = stringifyCacheLayout(layout);
  if (headDim != geometry.headDim())
    return emitError() << "the " << name << " layout stores rows of " << geometry.headDim()
                       << " channels, got head dim " << headDim;
  // The bf16 tail is exactly the rotated channels: the rope ones stay out of FP8.
  if (geometry.tail != 0 && ropeDim != geometry.tail)
    return emitError() << "the " << name << " layout keeps the last " << geometry.tail
                       << " channels as bf16 rope channels, got rope_dim " << ropeDim;
  bool fp8Layout = geometry.codes == CodeFormat::fp8;
  if (fp8Layout && !fp8Type)
    return emitError() << "the " << name << " layout quantizes to FP8 and needs fp8_type";
  if (!fp8Layout && fp8Type)
    return emitError() << "the " << name
                       << " layout quantizes to f4E2M1FN and takes no fp8_type, got " << fp8Type;
  if (fp8Type && !isa<Float8E4M3FNType, Float8E4M3FNUZType>(fp8Type))
    return emitError() << "fp8_type must be f8E4M3FN or f8E4M3FNUZ, got " << fp8Type;
  if (!pageSize)
    return emitError() << "a store spec needs page_size";
  return checkPageSize(emitError, *pageSize);
}
} // namespace

LogicalResult KernelSpecAttr::verify(EmitError emitError, PositionSource mode, int64_t headDim,
                                     int64_t ropeDim, Type kvType, Type weightType,
                                     int64_t ratio, FloatAttr eps, FloatAttr scale,
                                     std::optional<CacheLayout> layout,
                                     std::optional<int64_t> pageSize, Type fp8Type,
                                     std::optional<int64_t> stateBlockSize, bool overlap,
                                     Type outLocType) {
  if (failed(checkHeadDim(emitError, headDim)) ||
      failed(checkRopeDim(emitError, ropeDim, headDim)))
    return failure();
  if (!isa<Float32Type, BFloat16Type, Float16Type>(kvType))
    return emitError() << "kv type must be f32, bf16 or f16, got " << kvType;
  if (!isa<Float32Type, BFloat16Type>(weightType))
    return emitError() << "weight type must be f32 or bf16, got " << weightType;
  if (failed(checkEps(emitError, eps.getValue())) || failed(checkRatio(emitError, ratio)))
    return failure();
  if (scale && failed(checkScale(emitError, scale.getValue())))
    return failure();
  bool compress = mode == PositionSource::compress;
  if (compress != stateBlockSize.has_value())
    return emitError() << "state_block_size belongs to a compress spec, and a compress spec "
                          "needs it";
  if (overlap && !compress)
    return emitError() << "overlap belongs to a compress spec";
  // i64 slots are the default, spelled by the parameter's absence.
  if (outLocType && (!outLocType.isInteger(32) || !layout || compress))
    return emitError() << "out_loc_type is i32 or absent (i64), and only a store spec's that "
                          "does not compress; got "
                       << outLocType;
  if (compress) {
    if (!layout)
      return emitError() << "a compress spec stores: it needs a layout";
    if (!kvType.isF32())
      return emitError() << "a compress spec reads the f32 state: kv type must be f32, got "
                         << kvType;
    if (failed(checkStateBlockSize(emitError, *stateBlockSize)))
      return failure();
  }
  if (layout)
    return verifyStore(emitError, *layout, headDim, ropeDim, pageSize, fp8Type);
  if (pageSize || fp8Type)
    return emitError() << "page_size and fp8_type belong to a store spec (one with a layout)";
  return success();
}

namespace {
template <typename FusedOp>
KernelSpecAttr specOf(FusedOp op, std::optional<CacheLayout> layout,
                      std::optional<int64_t> pageSize, Type fp8Type, Type outLocType) {
  auto kvType = cast<RankedTensorType>(op.getKv().getType());
  return KernelSpecAttr::get(
      op.getContext(), op.getSource(), kvType.getDimSize(1), int64_t(op.getRopeDim()),
      kvType.getElementType(), cast<RankedTensorType>(op.getWeight().getType()).getElementType(),
      int64_t(op.getRatio()), op.getEpsAttr(), op.getScaleAttr(), layout, pageSize, fp8Type,
      std::nullopt, false, outLocType);
}

/// The compress op reads the state (f32) where the others read kv; D is the state's W / coff.
KernelSpecAttr compressSpecOf(FusedCompressStoreOp op) {
  auto state = cast<RankedTensorType>(op.getState().getType());
  return KernelSpecAttr::get(
      op.getContext(), PositionSource::compress, op.headDim(), int64_t(op.getRopeDim()),
      state.getElementType(), cast<RankedTensorType>(op.getWeight().getType()).getElementType(),
      int64_t(op.getRatio()), op.getEpsAttr(), op.getScaleAttr(), op.getLayout(),
      int64_t(op.getPageSize()), op.getFp8Type().value_or(Type()), state.getDimSize(1),
      op.getOverlap(), Type());
}
} // namespace

KernelSpecAttr KernelSpecAttr::get(Operation *op) {
  return llvm::TypeSwitch<Operation *, KernelSpecAttr>(op)
      .Case([](FusedEpilogueOp epilogue) {
        return specOf(epilogue, std::nullopt, std::nullopt, Type(), Type());
      })
      .Case([](FusedStoreOp store) {
        Type slots = cast<RankedTensorType>(store.getOutLoc().getType()).getElementType();
        return specOf(store, store.getLayout(), int64_t(store.getPageSize()),
                      store.getFp8Type().value_or(Type()), slots.isInteger(32) ? slots : Type());
      })
      .Case([](FusedCompressStoreOp compress) { return compressSpecOf(compress); })
      .Default([](Operation *) { return KernelSpecAttr(); });
}

int64_t KernelPlanAttr::minRunsPerLane(ExchangeSchedule schedule) {
  return schedule == ExchangeSchedule::Grouped ? 2 : 1;
}

int64_t KernelPlanAttr::fullAccessWidth(Type kvType) {
  return dsv4_abi::kAccessBytes / (kvType.getIntOrFloatBitWidth() / 8);
}

int64_t KernelPlanAttr::accessWidth(Type kvType, int64_t headDim, int64_t lanes) {
  return std::clamp<int64_t>(headDim / std::max<int64_t>(1, lanes), 1,
                             fullAccessWidth(kvType));
}

int64_t KernelPlanAttr::runAlignment(Type elementType, int64_t values) {
  return std::min<int64_t>(dsv4_abi::kAccessBytes,
                           values * elementType.getIntOrFloatBitWidth() / 8);
}

LogicalResult KernelPlanAttr::verify(EmitError emitError, int64_t lanesPerRow,
                                     int64_t rowsPerWorkgroup, int64_t vectorWidth,
                                     ExchangeSchedule schedule, int64_t ldsBytes,
                                     int64_t wavesPerSimd, int64_t windowSplit) {
  using dsv4_abi::kMaxWorkgroupSize;
  // A rotating row's butterflies shuffle inside one subgroup; a row that does not rotate only
  // sums across its lanes, through LDS past a subgroup.
  bool rotates = schedule != ExchangeSchedule::None;
  int64_t maxLanes = rotates ? dsv4_abi::kShuffleLanes : kMaxWorkgroupSize;
  if (lanesPerRow < 1 || lanesPerRow > maxLanes || !llvm::isPowerOf2_64(lanesPerRow))
    return emitError() << "lanes_per_row must be a power of two in [1, " << maxLanes << "]"
                       << (rotates ? " for a kernel that rotates" : "") << ", got "
                       << lanesPerRow;
  // Compared by division: rows * lanes may not fit in 64 bits.
  if (rowsPerWorkgroup < 1 || rowsPerWorkgroup > kMaxWorkgroupSize / lanesPerRow)
    return emitError() << "rows_per_workgroup " << rowsPerWorkgroup << " times lanes_per_row "
                       << lanesPerRow << " must be in [1, " << kMaxWorkgroupSize << "]";
  if (vectorWidth < 1 || vectorWidth > dsv4_abi::kAccessBytes ||
      !llvm::isPowerOf2_64(vectorWidth))
    return emitError() << "vector_width must be a power of two in [1, " << dsv4_abi::kAccessBytes
                       << "], got " << vectorWidth;
  if (ldsBytes < 0)
    return emitError() << "lds_bytes must not be negative, got " << ldsBytes;
  if (wavesPerSimd < 0 || wavesPerSimd > dsv4_abi::kMaxWavesPerSimd)
    return emitError() << "waves_per_simd must be in [0, " << dsv4_abi::kMaxWavesPerSimd
                       << "] (0: no occupancy asked), got " << wavesPerSimd;
  if (windowSplit < 1 || !llvm::isPowerOf2_64(windowSplit) || rowsPerWorkgroup % windowSplit)
    return emitError() << "window_split must be a power of two dividing rows_per_workgroup "
                       << rowsPerWorkgroup << ", got " << windowSplit;
  return success();
}

LogicalResult KernelPlanAttr::verifyFor(KernelSpecAttr spec, EmitError emitError) const {
  int64_t headDim = spec.getHeadDim();
  int64_t width = accessWidth(spec.getKvType(), headDim, getLanesPerRow());
  if (getVectorWidth() != width)
    return emitError() << "vector_width must be " << width << " (one 16-byte access of "
                       << spec.getKvType() << ", or a lane's share of the " << headDim
                       << "-wide row over " << getLanesPerRow() << " lanes), got "
                       << getVectorWidth();
  if ((getSchedule() == ExchangeSchedule::None) == spec.rotates())
    return emitError() << "schedule must be " << (spec.rotates() ? "one of grouped, per-stage or "
                                                                   "shuffle for a kernel that "
                                                                   "rotates"
                                                                 : "none for a kernel that does "
                                                                   "not rotate")
                       << ", got '" << stringifyExchangeSchedule(getSchedule()) << "'";
  // A lane rotates whole RoPE pairs: at least two values, whatever the access width.
  int64_t minValues = std::max<int64_t>(2, minRunsPerLane(getSchedule()) * width);
  if (getLanesPerRow() * minValues > headDim)
    return emitError() << "lanes_per_row " << getLanesPerRow()
                       << " must leave each lane at least " << minValues << " values of the "
                       << headDim << "-wide row (schedule '"
                       << stringifyExchangeSchedule(getSchedule()) << "')";
  if (getWindowSplit() > 1) {
    if (!spec.compresses())
      return emitError() << "window_split " << getWindowSplit()
                         << " belongs to a compress kernel (its slots share one item's window)";
    int64_t windowRows = (spec.getOverlap() ? 2 : 1) * spec.getRatio();
    if (windowRows % getWindowSplit())
      return emitError() << "window_split " << getWindowSplit() << " must divide the "
                         << windowRows << " rows of the window";
  }
  // A slot of f32 per row when the exchanges go through LDS, the split's partial sums and
  // the row parts' sums of squares.
  int64_t lds = (exchangesThroughLds() ? exchangeLdsBytes(getRowsPerWorkgroup(), headDim) : 0) +
                splitLdsBytes(getWindowSplit(), headDim) +
                rowPartsLdsBytes(getRowsPerWorkgroup(), getLanesPerRow());
  if (getLdsBytes() != lds) {
    SmallVector<std::string> uses;
    if (exchangesThroughLds())
      uses.push_back(llvm::formatv("rows_per_workgroup {0} slots of {1} f32 for the exchanges",
                                   getRowsPerWorkgroup(), headDim));
    if (getWindowSplit() > 1)
      uses.push_back(llvm::formatv("window_split {0} parts of 3 x {1} f32", getWindowSplit(),
                                   headDim));
    if (getRowParts() > 1)
      uses.push_back(llvm::formatv("rows_per_workgroup {0} x {1} f32 sums of the row's parts",
                                   getRowsPerWorkgroup(), getRowParts()));
    return emitError() << "lds_bytes must be " << lds << " ("
                       << (uses.empty() ? "nothing goes through LDS" : llvm::join(uses, ", "))
                       << "), got " << getLdsBytes();
  }
  return success();
}
