// The lowerings of dsv4 ops (generated from Passes.td beside this header).
#ifndef DSV4_CONVERSION_PASSES_H
#define DSV4_CONVERSION_PASSES_H

#include "dsv4/Dialect/Dsv4/IR/Dsv4.h"
#include "mlir/Dialect/AMDGPU/IR/AMDGPUDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"


namespace mlir::dsv4 {

#define GEN_PASS_DECL
#include "dsv4/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dsv4/Conversion/Passes.h.inc"

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_PASSES_H
