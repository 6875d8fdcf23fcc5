// The host side of a dsv4 kernel in IR, for callers inside the module (the CPU emulation
// tests): what the runtime shim does in C (docs/ABI.md, "Launch geometry"). dsv4-host-launch
// emits it.
#ifndef DSV4_CONVERSION_DSV4TOGPU_HOSTLAUNCH_H
#define DSV4_CONVERSION_DSV4TOGPU_HOSTLAUNCH_H

#include "dsv4/Dialect/Dsv4/IR/Dsv4.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::dsv4 {

/// Replaces the body of `function` (kv, weight, freqs, handle) -> kv by a launch of `kernel`,
/// the kernel of `spec` compiled by `plan`,
/// on a copy of kv: the scalar parameters from the tensors' shapes, ceil(items / rows)
/// workgroups (none for no items), and the copy returned as the new kv. A store kernel's
/// function, (kv, weight, freqs, handle, cache, out_loc) -> cache, launches on a copy of the
/// cache and returns it.
void emitHostLaunch(func::FuncOp function, gpu::GPUFuncOp kernel, KernelSpecAttr spec,
                    KernelPlanAttr plan);

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_DSV4TOGPU_HOSTLAUNCH_H
