// Registration of the dsv4 dialect and the generated op/enum definitions.
#include "dsv4/Dialect/Dsv4.h"

using namespace mlir;
using namespace mlir::dsv4;

#include "Dsv4OpsDialect.cpp.inc"
#include "Dsv4Enums.cpp.inc"

void Dsv4Dialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "Dsv4Ops.cpp.inc"
      >();
}
