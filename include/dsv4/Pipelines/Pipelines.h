// The dsv4 pass pipelines: dsv4-compile (dsv4 ops to code objects on disk) and
// dsv4-cpu-pipeline (the CPU reference), built from every layer's passes.
#ifndef DSV4_PIPELINES_PIPELINES_H
#define DSV4_PIPELINES_PIPELINES_H

namespace mlir::dsv4 {

/// Registers `dsv4-compile` and `dsv4-cpu-pipeline` (lib/Pipelines/Pipelines.cpp).
void registerDsv4Pipelines();

} // namespace mlir::dsv4

#endif // DSV4_PIPELINES_PIPELINES_H
