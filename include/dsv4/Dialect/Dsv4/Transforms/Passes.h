// The dsv4 dialect's own passes (generated from Passes.td beside this header).
#ifndef DSV4_DIALECT_DSV4_TRANSFORMS_PASSES_H
#define DSV4_DIALECT_DSV4_TRANSFORMS_PASSES_H

#include "dsv4/Dialect/Dsv4/IR/Dsv4.h"
#include "mlir/Pass/Pass.h"


namespace mlir::dsv4 {

#define GEN_PASS_DECL
#include "dsv4/Dialect/Dsv4/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dsv4/Dialect/Dsv4/Transforms/Passes.h.inc"

} // namespace mlir::dsv4

#endif // DSV4_DIALECT_DSV4_TRANSFORMS_PASSES_H
