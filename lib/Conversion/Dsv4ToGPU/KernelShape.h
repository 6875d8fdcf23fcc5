// The kernel shape convert-dsv4-to-gpu picks for a configuration when no option overrides it:
// the one place that maps (D, R, kv dtype, rotate, mode) to lanes per row, rows per workgroup and
// exchange schedule. KernelShape.cpp documents the table and where its numbers come from.
#ifndef DSV4_CONVERSION_DSV4TOGPU_KERNELSHAPE_H
#define DSV4_CONVERSION_DSV4TOGPU_KERNELSHAPE_H

#include "ButterflySchedule.h"

#include <cstdint>

namespace mlir::dsv4 {

struct KernelShape {
  int64_t lanes, rows;
  ExchangeSchedule schedule;

  int64_t workgroupSize() const { return lanes * rows; }
};

/// The default shape of a kernel whose kv rows are `headDim` values moved `vectorWidth` per
/// 16-byte access; `rotate` says whether it runs the Hadamard transform, `prefill` whether its
/// items come from a prefill plan (thousands of rows per call) rather than decode, `compress`
/// whether it pools a window of the compressor's state first.
KernelShape chooseKernelShape(int64_t headDim, int64_t vectorWidth, bool rotate, bool prefill,
                              bool compress);

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_DSV4TOGPU_KERNELSHAPE_H
