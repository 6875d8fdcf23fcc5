// The arithmetic of SPEC.md "Storing into the paged caches" as arith ops, shared by the CPU
// reference loops (Dsv4ToLoops), the GPU kernel (Dsv4ToGPU) and the kernel's host emulation
// (GPUToHost), so that all three write the same bytes by one definition.
#ifndef DSV4_CONVERSION_CACHESTORE_H
#define DSV4_CONVERSION_CACHESTORE_H

#include "dsv4/Dialect/Dsv4/IR/CacheLayout.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::dsv4 {

/// SPEC.md: a block's amax is raised to this before it becomes a scale.
constexpr float kMinAmax = 1e-4f;

/// The bits of `codeType` (an FP8 type, or f4E2M1FN in the low nibble) for f32 `v` (a scalar
/// or a vector; i8 of the same shape): round to nearest even, saturate to +-MAX, NaN to the
/// type's NaN (+MAX for e2m1, which has none), -0 to the type's negative zero (plain zero
/// where it has none, as in fnuz). Written out in integer arithmetic: LLVM has no FP8 or FP4
/// type, and arith.truncf to them neither saturates nor lowers on the host.
Value emitCodeBits(ImplicitLocOpBuilder &b, Value v, Type codeType);

/// Whether a scale format rounds the channels to bf16 before quantizing them (ue8m0, the
/// framework's path for the main layout).
inline bool roundsToBf16First(ScaleFormat format) { return format == ScaleFormat::ue8m0; }

/// f32(bf16_rne(v)): the one bf16 rounding of the main layout's quantized channels.
Value emitRoundToBf16(ImplicitLocOpBuilder &b, Value v);

/// A block's ue8m0 exponent `e` (i32): that of the smallest 2^(e-127) >= f32(amax / max), for
/// `amax` (f32, scalar or vector) in [kMinAmax, +inf], computed without the division:
/// ue8m0OfQuotient of Ue8m0Quotient.h (which says why it is exact), one operation for one.
Value emitUe8m0OfQuotient(ImplicitLocOpBuilder &b, Value amax, APFloat max);

/// 2^(127 - e) as an f32, the multiplier of a block whose ue8m0 exponent is `exponent` (i32,
/// 0 to 255): a normal f32 up to 253, the subnormals 2^-127 and 2^-128 for 254 and 255 (an
/// amax of 2^127 and more, or an infinite one, in the main layout).
Value emitUe8m0Inverse(ImplicitLocOpBuilder &b, Value exponent);

/// The largest exponent an mx conversion is handed: 2^(127 - e) is a normal f32 up to it, and
/// an E8M0 scale byte up to 254 is finite (255 is NaN to the chips).
constexpr int64_t kMaxConvertExponent = 253;

/// How the codes of an mx block (SPEC.md MXFP4: codes rne_sat(x * 2^(127 - e))) are
/// converted: as rne_sat((x * prescale) * 2^(127 - exponent)), which is the same number.
/// `exponent` = min(e, kMaxConvertExponent), `prescale` = 2^(exponent - e): 1 for every
/// finite amax (its e is at most 253), 1/4 for an infinite one (e = 255), which the chips'
/// scaled conversions could not take as a scale.
struct MxConversion {
  Value exponent; // i32
  Value prescale; // f32
};
MxConversion emitMxConversion(ImplicitLocOpBuilder &b, Value exponent);

/// A block's scale from its amax (SPEC.md), the step the CPU reference and the store kernels
/// share: amax floored at kMinAmax, then for f32 scales amax / MAX and its inverse, for ue8m0
/// the exponent e and 2^(127 - e), for mx the exponent and its conversion (emitMxConversion).
struct BlockScale {
  Value scale;     // the f32 scale, or the i32 exponent (ue8m0, mx)
  Value inverse;   // the f32 the block's values are multiplied by (f32, ue8m0); null for mx
  MxConversion mx; // mx only
};
BlockScale emitBlockScale(ImplicitLocOpBuilder &b, Value amax, ScaleFormat format,
                          Type codeType);

/// The codes of `codeType` (i8) for the f32 `x` (a scalar or vector) and an mx conversion
/// exponent (i32, shaped like `x`): rne_sat(x * 2^(127 - exponent)), written out. What
/// `arith.scaling_truncf` to f4E2M1FN means where the chip has no scaled FP4 conversion.
Value emitScaledCodeBits(ImplicitLocOpBuilder &b, Value x, Value exponent, Type codeType);

/// Replaces every `arith.scaling_truncf` to f4E2M1FN under `root` by the written-out
/// conversion (emitScaledCodeBits with the scale's E8M0 bits as the exponent); a
/// `vector.bitcast` of its codes to bytes becomes the explicit packing (element 2k in the low
/// nibble of byte k, 2k+1 in the high one), so no i4 vector reaches a back end.
void expandE2m1Conversions(Operation *root);

/// A slot loaded from out_loc, as the i64 emitSlotAddress takes: an i32 slot sign-extended
/// (-1 stays -1, no slot).
Value toI64Slot(ImplicitLocOpBuilder &b, Value slot);

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
