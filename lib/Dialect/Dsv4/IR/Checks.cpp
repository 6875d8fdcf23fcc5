// The shared limit checks (see Checks.h).
#include "Checks.h"
#include "dsv4/ABI/Limits.h"

#include "mlir/IR/BuiltinTypeInterfaces.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;

std::string dsv4::sizeString(int64_t size) {
  return ShapedType::isDynamic(size) ? "?" : std::to_string(size);
}

LogicalResult dsv4::checkHeadDim(EmitError emitError, int64_t headDim) {
  using dsv4_abi::kMaxHeadDim;
  using dsv4_abi::kMinHeadDim;
  if (ShapedType::isDynamic(headDim) || headDim < kMinHeadDim || headDim > kMaxHeadDim ||
      !llvm::isPowerOf2_64(headDim))
    return emitError() << "head dim must be a power of two in [" << kMinHeadDim << ", "
                       << kMaxHeadDim << "], got " << sizeString(headDim);
  return success();
}

LogicalResult dsv4::checkRopeDim(EmitError emitError, int64_t ropeDim, int64_t headDim) {
  if (ropeDim < 2 || ropeDim > headDim || ropeDim % 2 != 0)
    return emitError() << "rope_dim must be even and in [2, " << headDim << "], got "
                       << ropeDim;
  return success();
}

LogicalResult dsv4::checkEps(EmitError emitError, const llvm::APFloat &eps) {
  if (!eps.isFiniteNonZero() || eps.isNegative())
    return emitError() << "eps must be positive and finite, got " << eps.convertToDouble();
  return success();
}

LogicalResult dsv4::checkScale(EmitError emitError, const llvm::APFloat &scale) {
  if (!scale.isFinite())
    return emitError() << "scale must be finite, got " << scale.convertToDouble();
  return success();
}

LogicalResult dsv4::checkRatio(EmitError emitError, int64_t ratio) {
  if (ratio < 1 || ratio > dsv4_abi::kMaxRatio)
    return emitError() << "ratio must be in [1, " << dsv4_abi::kMaxRatio << "], got " << ratio;
  return success();
}

LogicalResult dsv4::checkPageSize(EmitError emitError, int64_t pageSize) {
  if (pageSize < 1 || pageSize > dsv4_abi::kMaxPageSize || !llvm::isPowerOf2_64(pageSize))
    return emitError() << "page_size must be a power of two in [1, " << dsv4_abi::kMaxPageSize
                       << "], got " << pageSize;
  return success();
}

LogicalResult dsv4::checkStateBlockSize(EmitError emitError, int64_t blockSize) {
  if (blockSize < 1 || blockSize > dsv4_abi::kMaxPageSize || !llvm::isPowerOf2_64(blockSize))
    return emitError() << "state block size must be a static power of two in [1, "
                       << dsv4_abi::kMaxPageSize << "], got " << sizeString(blockSize);
  return success();
}
