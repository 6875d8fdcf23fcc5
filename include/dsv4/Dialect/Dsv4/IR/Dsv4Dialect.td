// The dsv4 dialect: the DeepSeek-V4 KV-compressor epilogue (RMSNorm, RoPE, Hadamard).
#ifndef DSV4_DIALECT
#define DSV4_DIALECT

include "mlir/IR/OpBase.td"

def Dsv4_Dialect : Dialect {
  let name = "dsv4";
  let summary = "The DeepSeek-V4 KV-compressor epilogue: RMSNorm, RoPE, Walsh-Hadamard.";
  let description = [{
    Ops on tensors (value semantics) that describe the epilogue applied in place to the
    compressed KV rows of DeepSeek-V4: a work-item op turns the serving framework's handle
    (decode `seq_lens` or a prefill plan) into `(row, position)` pairs, and the row ops
    `rms_norm`, `rope` and `hadamard` update exactly the rows those items name. `dsv4-fuse`
    merges a chain into `dsv4.fused_epilogue`, which lowers to one GPU kernel.
  }];
  let cppNamespace = "::mlir::dsv4";
  // #dsv4.spec and #dsv4.plan (Dsv4Attrs.td).
  let useDefaultAttributePrinterParser = 1;
  // A fused op's `dsv4.plan` is checked against the op's spec wherever it comes from.
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    /// The discardable attribute holding a fused op's #dsv4.plan (dsv4-plan-kernels).
    static constexpr ::llvm::StringLiteral kPlanAttrName = "dsv4.plan";
  }];
}

class Dsv4_Op<string mnemonic, list<Trait> traits = []> :
    Op<Dsv4_Dialect, mnemonic, traits>;

#endif // DSV4_DIALECT
