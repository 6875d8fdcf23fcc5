// Attributes of the dsv4 dialect: where a row's RoPE position comes from.
#ifndef DSV4_ATTRS
#define DSV4_ATTRS

include "mlir/IR/EnumAttr.td"

// Printed as a bare keyword in op formats: `dsv4.fused_epilogue decode ...`.
def Dsv4_PositionSource : I32EnumAttr<"PositionSource",
    "where a work item's RoPE position comes from", [
      I32EnumAttrCase<"decode", 0>,
      I32EnumAttrCase<"prefill", 1>
    ]> {
  let cppNamespace = "::mlir::dsv4";
}

#endif // DSV4_ATTRS
