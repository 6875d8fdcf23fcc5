// Registration of the dsv4 dialect and the generated op/enum/attribute definitions.
#include "dsv4/Dialect/Dsv4/IR/Dsv4.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::dsv4;

#include "dsv4/Dialect/Dsv4/IR/Dsv4OpsDialect.cpp.inc"
#include "dsv4/Dialect/Dsv4/IR/Dsv4Enums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dsv4/Dialect/Dsv4/IR/Dsv4Attrs.cpp.inc"

void Dsv4Dialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dsv4/Dialect/Dsv4/IR/Dsv4Attrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dsv4/Dialect/Dsv4/IR/Dsv4Ops.cpp.inc"
      >();
}

LogicalResult Dsv4Dialect::verifyOperationAttribute(Operation *op, NamedAttribute attribute) {
  if (attribute.getName() != kPlanAttrName)
    return success();
  auto plan = dyn_cast<KernelPlanAttr>(attribute.getValue());
  if (!plan || !isa<FusedEpilogueOp, FusedStoreOp, FusedCompressStoreOp>(op))
    return op->emitOpError() << "'" << kPlanAttrName
                             << "' must be a #dsv4.plan on dsv4.fused_epilogue, dsv4.fused_store or "
                                "dsv4.fused_compress_store";
  // The spec is the op's: its own verifier runs first (it bounds D and the kv type).
  if (failed(op->getName().verifyInvariants(op)))
    return failure();
  return plan.verifyFor(KernelSpecAttr::get(op),
                        [op]() { return op->emitOpError() << "plan: "; });
}
