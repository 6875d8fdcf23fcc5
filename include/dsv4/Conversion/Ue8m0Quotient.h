// The ue8m0 exponent of a quotient, without the division: SPEC.md's block scale
// e = ue8m0_round_up(f32(amax / MAX)) from amax's bits alone (biased: e - 127 is the power). In the kernels it takes an IEEE
// division (a dozen instructions and a slow-path branch on the NVIDIA twin) off the dependent
// chain between a block's amax and its codes, once per block (seven a row in the main layout).
//
// Why it is exact: write amax = 2^a (1 + m) and MAX = 2^k (1 + n) with m, n in [0, 1). If
// m > n the quotient is 2^(a-k) times a number in (1, 2), which rounds to a value above 1 (its
// distance from 1 is at least 2^-23 / (1 + n) > 2^-24, half a step), so round-up gives a-k+1;
// if m = n it is exactly 2^(a-k); if m < n it is 2^(a-k-1) times a number in [2/(1+n), 2) that
// rounds below 2 (for n > 0: its distance from 2 is at least 2^-23 * 2 / (1 + n) > 2^-23, more
// than half a step; for n = 0 there is no such m), so round-up gives a-k. Both hold while the
// quotient is a normal f32: amax >= kMinAmax (1e-4) and MAX >= 6 keep it above 2^-126, and
// amax <= FLT_MAX keeps it finite. An infinite amax gives an infinite quotient, exponent 255.
// test/Conversion/ue8m0-quotient.test checks this against the division for every f32 amax
// from kMinAmax to +inf and each code type's MAX (exhaustively, ~2^30 values each).
#ifndef DSV4_CONVERSION_UE8M0QUOTIENT_H
#define DSV4_CONVERSION_UE8M0QUOTIENT_H

#include <cstdint>
#include <cstring>

namespace mlir::dsv4 {

constexpr int kF32MantissaFieldBits = 23;
constexpr uint32_t kF32MantissaMask = (uint32_t(1) << kF32MantissaFieldBits) - 1;
constexpr uint32_t kF32InfinityBits = 0x7F800000u;
constexpr int32_t kF32ExponentBias = 127;
/// The ue8m0 exponent of an infinite quotient (f32 +inf's exponent field, mantissa 0).
constexpr int32_t kInfiniteUe8m0 = 255;

/// The fields of the divisor MAX (a positive normal f32) that the exponent needs.
struct Ue8m0Divisor {
  int32_t exponentField; // biased
  uint32_t mantissa;     // the 23-bit field
};

inline uint32_t f32Bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

inline Ue8m0Divisor ue8m0DivisorOf(float max) {
  uint32_t bits = f32Bits(max);
  return {int32_t(bits >> kF32MantissaFieldBits), bits & kF32MantissaMask};
}

/// ue8m0_round_up(f32(amax / MAX)) for amax (its f32 bits) in [kMinAmax, +inf]. The emitted
/// form (emitUe8m0OfQuotient in CacheStore.h) is these operations one for one.
inline int32_t ue8m0OfQuotient(uint32_t amaxBits, Ue8m0Divisor divisor) {
  int32_t exponent = int32_t(amaxBits >> kF32MantissaFieldBits) -
                     (divisor.exponentField - kF32ExponentBias) +
                     int32_t((amaxBits & kF32MantissaMask) > divisor.mantissa);
  return amaxBits == kF32InfinityBits ? kInfiniteUe8m0 : exponent;
}

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_UE8M0QUOTIENT_H
