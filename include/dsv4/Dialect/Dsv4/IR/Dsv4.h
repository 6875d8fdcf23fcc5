// The dsv4 dialect, its attributes and its ops (generated from the .td files beside this header).
#ifndef DSV4_DIALECT_DSV4_H
#define DSV4_DIALECT_DSV4_H

#include "dsv4/ABI/Limits.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dsv4/Dialect/Dsv4/IR/Dsv4OpsDialect.h.inc"
#include "dsv4/Dialect/Dsv4/IR/Dsv4Enums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dsv4/Dialect/Dsv4/IR/Dsv4Attrs.h.inc"

#define GET_OP_CLASSES
#include "dsv4/Dialect/Dsv4/IR/Dsv4Ops.h.inc"

namespace mlir::dsv4 {
/// A kernel's element type as its name, its manifest and docs spell it: f32, bf16, f16, or
/// an FP8 type's MLIR name (f8E4M3FN, f8E4M3FNUZ).
std::string dtypeName(Type type);
} // namespace mlir::dsv4

#endif // DSV4_DIALECT_DSV4_H
