// The one writer of the dsv4 manifest (docs/ABI.md): dsv4-embed-manifest puts its text into
// the code object, dsv4-write-code-objects writes the same facts plus `binary` and
// `resources` beside it for tools, so the two cannot drift.
#ifndef DSV4_TARGET_MANIFEST_H
#define DSV4_TARGET_MANIFEST_H

#include "dsv4/Dialect/Dsv4/IR/Dsv4.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir::dsv4 {

/// The target triple and chip of a `#rocdl.target` or `#nvvm.target`.
struct TargetName {
  std::string triple, chip;
};
FailureOr<TargetName> describeTarget(Attribute target);

/// Static workgroup memory (LDS / shared) `kernel` declares, in bytes.
int64_t workgroupMemoryBytes(gpu::GPUFuncOp kernel);

/// The manifest of `kernel`: the record convert-dsv4-to-gpu and dsv4-embed-manifest made,
/// the target and the ABI's argument list; `binary` and `resources` only when given (the side
/// JSON). `indent` 0 gives one compact line (the embedded text).
std::string writeManifest(StringRef kernel, const TargetName &target, KernelRecordAttr record,
                          unsigned indent, StringRef binary = {},
                          DictionaryAttr resources = {});

} // namespace mlir::dsv4

#endif // DSV4_TARGET_MANIFEST_H
