// The shape table (see KernelShape.h).
//
// V is the values one 16-byte access moves (4 f32, 8 bf16/f16). A row never spans more than
// 32 lanes, so it lives in one subgroup on wave64 (gfx942, gfx950) and warp32 (the NVIDIA
// twin) alike, and the sum of squares is a shuffle reduction there: the chip does not change
// the choice, and the kernel stays vendor-neutral.
//
// | rotate | D          | lanes per row    | rows per workgroup | schedule | LDS        |
// |--------|------------|------------------|--------------------|----------|------------|
// | no     | any        | min(32, D / V)   | 128 / lanes        | (none)   | none       |
// | yes    | <= 256     | min(32, D / V)   | 128 / lanes        | shuffle  | none       |
// | yes, prefill | <= 256 | min(32, D / 16) | 128 / lanes      | shuffle  | none       |
// | yes    | 512, 1024  | min(32, D / 4V)  | 128 / lanes        | grouped  | rows*D*4 B |
// | yes    | >= 2048    | 32               | 4                  | shuffle  | none       |
//
// Why:
// - Decode (1-256 rows) is latency-bound: the widest spread inside one subgroup gives each
//   lane the fewest dependent instructions, and a shuffle exchange needs no barrier. The
//   production kernels (indexer D=128 rotate, main D=512 no rotate) use no LDS at all, so LDS
//   never limits their occupancy (8 waves per SIMD on gfx942 needs <= 4 KiB per 128 threads).
// - Shuffle stages cost laneBits * D / lanes shuffles per lane: 20 for D=128 f32 but 80 for
//   D=512. There the grouped LDS schedule (3 exchanges, BENCHMARKS.md's tuned shape: four runs
//   per lane, 128-thread workgroups, two wave64s so s_barrier stays real) is kept.
// - Prefill (thousands of rows) is bound by issue and bandwidth: 16 values a lane (two bf16
//   runs, four f32 ones) take shuffle stages off every value and spread each row's fixed
//   work (position, slot, reductions) over four rows a warp. Indexer bf16 at 65536 rows, H100,
//   cold: 13.95 us with 8 lanes x 16 rows against 15.62 us with 16 x 8 (copy 12.82;
//   BENCHMARKS.md, "Indexer bf16 shapes"); the f32 indexer store, H200: 15.59 us with 8 x 16
//   against 18.77 with 16 x 8 (floor 13.34; "Store kernels at large batches"). 8 lanes cost
//   decode 0.1 us at 1-256 rows, so only prefill kernels take it.
// - From D=2048 the grouped slot (4 rows * D * 4 B >= 32 KiB per workgroup) would leave fewer
//   than 2 waves per SIMD on gfx942's 64 KiB; shuffles use no LDS.
#include "KernelShape.h"

#include <algorithm>

using namespace mlir::dsv4;

namespace {
/// One 128-thread workgroup: two wave64s on AMD (s_barrier stays real), four warps on NVIDIA.
constexpr int64_t kWorkgroupSize = 128;
/// A row's lanes stay inside the smallest subgroup (warp32).
constexpr int64_t kMaxLanes = 32;
/// Rotating rows of at most this many values exchange by shuffle.
constexpr int64_t kMaxShuffleOnlyDim = 256;
/// From this many values the grouped LDS slot no longer fits 2 waves per SIMD on gfx942.
constexpr int64_t kMinLdsBoundDim = 2048;
/// 16-byte runs per lane in the grouped shape; values per lane in the prefill shuffle shape.
constexpr int64_t kGroupedRunsPerLane = 4;
constexpr int64_t kPrefillShuffleValuesPerLane = 16;
} // namespace

KernelShape mlir::dsv4::chooseKernelShape(int64_t headDim, int64_t vectorWidth, bool rotate,
                                          bool prefill) {
  bool grouped = rotate && headDim > kMaxShuffleOnlyDim && headDim < kMinLdsBoundDim;
  bool prefillShuffle = rotate && prefill && headDim <= kMaxShuffleOnlyDim;
  int64_t valuesPerLane = grouped          ? kGroupedRunsPerLane * vectorWidth
                          : prefillShuffle ? std::max(kPrefillShuffleValuesPerLane, vectorWidth)
                                           : vectorWidth;
  int64_t lanes = std::clamp<int64_t>(headDim / valuesPerLane, 1, kMaxLanes);
  return {lanes, std::max<int64_t>(1, kWorkgroupSize / lanes),
          grouped ? ExchangeSchedule::Grouped : ExchangeSchedule::Shuffle};
}
