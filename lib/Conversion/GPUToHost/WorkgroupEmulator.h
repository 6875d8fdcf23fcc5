// Turns one gpu.func kernel into a host func.func that runs its workgroups one after the other
// and, inside a workgroup, each piece of the kernel between two synchronizations for every
// thread in turn (convert-gpu-to-host, include/dsv4/Conversion/Passes.td).
#ifndef DSV4_CONVERSION_GPUTOHOST_WORKGROUPEMULATOR_H
#define DSV4_CONVERSION_GPUTOHOST_WORKGROUPEMULATOR_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace mlir::dsv4 {

struct EmulationOptions {
  /// Lanes per subgroup: 64 (AMD wave64) or 32 (NVIDIA warp).
  int64_t subgroupSize = 64;
  /// Report conflicting workgroup-memory accesses within one barrier interval.
  bool checkRaces = true;
};

/// The host function of `kernel`, not inserted anywhere: the kernel's parameters (memrefs in
/// the default memory space) and then the grid size along x. Fails with an error at the op
/// the emulation cannot run.
FailureOr<func::FuncOp> emulateKernel(gpu::GPUFuncOp kernel, const EmulationOptions &options);

/// The host type of a kernel value: memrefs lose their GPU address space.
Type hostType(Type type);

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_GPUTOHOST_WORKGROUPEMULATOR_H
