// Limits.h - the bounds of the sizes a kernel's arithmetic multiplies, as C++ constants for
// the dialect's verifiers, dsv4-gen and the runtime's manifest reader alike (plain C++17, no
// LLVM). A value inside them cannot overflow the kernels' 64-bit byte offsets or 32-bit
// positions; SPEC.md states them.
#ifndef DSV4_ABI_LIMITS_H
#define DSV4_ABI_LIMITS_H

#include <cstdint>

namespace dsv4_abi {

/// D: a power of two in [kMinHeadDim, kMaxHeadDim] (the kernel emitter's row shapes).
inline constexpr int64_t kMinHeadDim = 64;
inline constexpr int64_t kMaxHeadDim = 4096;

/// The compress ratio: seq_lens and plan positions are i32, so the kernels divide them by an
/// i32 ratio.
inline constexpr int64_t kMaxRatio = 2147483647;

/// Tokens per cache page: a power of two of at most 2^20. A page of the largest layout (584
/// bytes a token) then stays below 2^30 bytes: its size and the offsets inside it cannot
/// overflow, while 2^54 tokens a page already wrapped the 64-bit page size to a negative one.
inline constexpr int64_t kMaxPageSize = int64_t(1) << 20;

/// Lanes that exchange by gpu.shuffle: widths above 32 do not exist on warp32 machines, and
/// the kernel must run there. A rotating kernel's row stays inside them (its butterflies
/// shuffle); a row that does not rotate may span several such parts, up to the workgroup, and
/// their partial sums of squares meet in LDS.
inline constexpr int64_t kShuffleLanes = 32;

/// Threads of one workgroup: the limit of every supported chip.
inline constexpr int64_t kMaxWorkgroupSize = 1024;

/// Waves a SIMD of gfx942/gfx950 holds at most (64 VGPRs each): a plan's occupancy bound.
inline constexpr int64_t kMaxWavesPerSimd = 8;

/// Every global access of a kv row is 16 bytes wide.
inline constexpr int64_t kAccessBytes = 16;

} // namespace dsv4_abi

#endif // DSV4_ABI_LIMITS_H
