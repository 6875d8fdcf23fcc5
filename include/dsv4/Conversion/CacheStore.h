// The arithmetic of SPEC.md "Storing into the paged caches" as arith ops, shared by the CPU
// reference loops (Dsv4ToLoops), the GPU kernel (Dsv4ToGPU) and the kernel's host emulation
// (GPUToHost), so that all three write the same bytes by one definition.
#ifndef DSV4_CONVERSION_CACHESTORE_H
#define DSV4_CONVERSION_CACHESTORE_H

#include "dsv4/Dialect/CacheLayout.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::dsv4 {

/// SPEC.md: a block's amax is raised to this before it becomes a scale.
constexpr float kMinAmax = 1e-4f;

/// The FP8 bits of `fp8` for f32 `v` (a scalar or a vector; i8 of the same shape): round to
/// nearest even, saturate to +-FP8_MAX, NaN to the type's NaN, -0 to the type's negative zero
/// (plain zero where it has none, as in fnuz). Written out in integer arithmetic: LLVM has no
/// FP8 type, and arith.truncf to FP8 neither saturates nor lowers on the host.
Value emitFp8Bits(ImplicitLocOpBuilder &b, Value v, Type fp8);

/// f32(bf16_rne(v)): the one bf16 rounding of the main layout's quantized channels.
Value emitRoundToBf16(ImplicitLocOpBuilder &b, Value v);

/// The ue8m0 exponent `e` (i32) of the smallest 2^(e-127) >= `scale` (a positive finite f32).
Value emitUe8m0RoundUp(ImplicitLocOpBuilder &b, Value scale);

/// 2^(127 - e) as an f32, the multiplier of a block whose ue8m0 exponent is `exponent` (i32).
Value emitUe8m0Inverse(ImplicitLocOpBuilder &b, Value exponent);

/// Where slot `outLoc` (i64) puts its bytes in a cache of `cacheBytes` (i64) bytes.
struct SlotAddress {
  Value row;    // i64 byte offset of the token's row
  Value scales; // i64 byte offset of its scales
  Value stores; // i1: outLoc >= 0 and every byte of the token inside the cache
};
SlotAddress emitSlotAddress(ImplicitLocOpBuilder &b, const CacheGeometry &geometry,
                            int64_t pageSize, Value outLoc, Value cacheBytes);

/// Decode stores only on a boundary: seqLen % ratio == 0 (i32 in, i1 out).
Value emitIsBoundary(ImplicitLocOpBuilder &b, Value seqLen, int64_t ratio);

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_CACHESTORE_H
