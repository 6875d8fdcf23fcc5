// The dsv4 dialect, its attributes and its ops (generated from the .td files beside this header).
#ifndef DSV4_DIALECT_DSV4_H
#define DSV4_DIALECT_DSV4_H

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

#endif // DSV4_DIALECT_DSV4_H
