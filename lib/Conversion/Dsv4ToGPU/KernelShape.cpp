// The shape table (see KernelShape.h).
//
// V is the values one 16-byte access moves (4 f32, 8 bf16/f16). A rotating row never spans
// more than 32 lanes, so it lives in one subgroup on wave64 (gfx942, gfx950) and warp32 (the
// NVIDIA twin) alike, and its butterflies and sum of squares are shuffles there: the chip
// does not change the choice, and the kernel stays vendor-neutral. A decode row that does not
// rotate and would take more than one run a lane at 32 lanes spans one run a lane, up to the
// whole workgroup: each 32-lane part sums by shuffles, the parts through LDS.
//
// | rotate | D          | lanes per row    | rows per workgroup | schedule | LDS        |
// |--------|------------|------------------|--------------------|----------|------------|
// | no, decode | > 32 V | min(128, D / V)  | 128 / lanes        | (none)   | rows * lanes / 8 B |
// | no, other  | any    | min(32, D / V)   | 128 / lanes        | (none)   | none       |
// | yes    | <= 256     | min(32, D / V)   | 128 / lanes        | shuffle  | none       |
// | yes, prefill | <= 256 | min(32, D / 16) | 128 / lanes      | shuffle  | none       |
// | yes    | 512, 1024  | min(32, D / 4V)  | 128 / lanes        | grouped  | rows*D*4 B |
// | yes    | >= 2048    | 32               | 4                  | shuffle  | none       |
//
// Why:
// - A decode row that does not rotate (the main cache, D=512) is one dependent chain from its
//   loads to its stores, and a lane's share of it (four f32 runs at 32 lanes: the sum of
//   squares, the norm, the RoPE, and in the store kernel the amax, the scales and the FP8
//   codes) was the latency: one warp of the twin ran 552 instructions for the store kernel's
//   row (ncu, H200, issue 24), 1.20x the four-warp Triton epilogue alone. Over the whole
//   128-thread workgroup a lane keeps one 16-byte run, the four warps issue on the SM's four
//   schedulers, and the parts' sums meet in LDS behind one barrier. H200, same run
//   (BENCHMARKS.md, "Main decode rows over the workgroup"): the f32 store kernel 1.78 -> 1.60 us
//   at 1 row, the f32 in-place kernel 1.32 -> 1.22 us; 64 lanes gave 1.71 and 1.28. The price
//   is each row's fixed work (handle, slot, scale) done by four warps: the store kernel at
//   65536 decode rows, issue-bound, 51 -> 79 us (75 with the slot bound of CacheStore.cpp; the
//   prefill kernel, 32 lanes, serves such batches in 48); the in-place f32 kernel,
//   bandwidth-bound there, is unchanged. bf16 (two runs a lane at 32 lanes) spreads to 64
//   lanes, one run a lane (H200, three rounds, BENCHMARKS.md "... main bf16 rows over two
//   warps"): 0.85-0.99x the reference at 1-256 rows where 32 lanes reached 1.04x (8 rows),
//   1.18x the copy at 65536 rows (target 1.25x; 32 lanes 1.05x). 128 lanes (an 8-byte access
//   a lane) are faster at 1-64 rows but issue-bound at 65536: 1.42x the copy.
//   Prefill stays at 32 lanes (issue-bound: fewer lanes spread each row's fixed work), and so
//   do compress kernels (their window split already fills the workgroup).
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
// - A decode kernel keeps one row a row slot. Workgroups striding over tiles of rows, the next
//   tile's row loaded while this one computes, were measured (H200, BENCHMARKS.md, "Decode
//   kernels at large batches"): the same instructions a row, 61 registers instead of 39, slower
//   at every size; the large-batch decode kernels are bound by issuing instructions, not by
//   waiting on their loads.
// - From D=2048 the grouped slot (4 rows * D * 4 B >= 32 KiB per workgroup) would leave fewer
//   than 2 waves per SIMD on gfx942's 64 KiB; shuffles use no LDS.
#include "KernelShape.h"
#include "dsv4/ABI/Limits.h"

#include <algorithm>

using namespace mlir::dsv4;

namespace {
/// One 128-thread workgroup: two wave64s on AMD (s_barrier stays real), four warps on NVIDIA.
constexpr int64_t kWorkgroupSize = 128;
/// A rotating row's lanes stay inside the smallest subgroup (warp32).
constexpr int64_t kMaxLanes = dsv4_abi::kShuffleLanes;
/// A decode row that does not rotate spreads to one 16-byte run a lane (up to the whole
/// workgroup) when 32 lanes would hold more than this many runs each (D=512: four f32, two
/// bf16).
constexpr int64_t kMaxRunsBeforeSpread = 1;
constexpr int64_t kMaxSpreadLanes = kWorkgroupSize;
/// Rotating rows of at most this many values exchange by shuffle.
constexpr int64_t kMaxShuffleOnlyDim = 256;
/// From this many values the grouped LDS slot no longer fits 2 waves per SIMD on gfx942.
constexpr int64_t kMinLdsBoundDim = 2048;
/// 16-byte runs per lane in the grouped shape; values per lane in the prefill shuffle shape.
constexpr int64_t kGroupedRunsPerLane = 4;
constexpr int64_t kPrefillShuffleValuesPerLane = 16;
} // namespace

KernelShape mlir::dsv4::chooseKernelShape(int64_t headDim, int64_t vectorWidth, bool rotate,
                                          bool prefill, bool compress) {
  bool grouped = rotate && headDim > kMaxShuffleOnlyDim && headDim < kMinLdsBoundDim;
  bool prefillShuffle = rotate && prefill && headDim <= kMaxShuffleOnlyDim;
  int64_t valuesPerLane = grouped          ? kGroupedRunsPerLane * vectorWidth
                          : prefillShuffle ? std::max(kPrefillShuffleValuesPerLane, vectorWidth)
                                           : vectorWidth;
  bool spread = !rotate && !prefill && !compress &&
                headDim > kMaxRunsBeforeSpread * kMaxLanes * vectorWidth;
  int64_t lanes =
      std::clamp<int64_t>(headDim / valuesPerLane, 1, spread ? kMaxSpreadLanes : kMaxLanes);
  return {lanes, std::max<int64_t>(1, kWorkgroupSize / lanes),
          grouped ? ExchangeSchedule::Grouped : ExchangeSchedule::Shuffle};
}
