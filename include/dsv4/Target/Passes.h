// The back-end passes from a gpu.module to code objects (generated from Passes.td beside this
// header).
#ifndef DSV4_TARGET_PASSES_H
#define DSV4_TARGET_PASSES_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/ROCDLDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"


namespace mlir::dsv4 {

#define GEN_PASS_DECL
#include "dsv4/Target/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dsv4/Target/Passes.h.inc"

} // namespace mlir::dsv4

#endif // DSV4_TARGET_PASSES_H
