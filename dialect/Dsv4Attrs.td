// Attributes of the dsv4 dialect: where a row's RoPE position comes from, and how a finished
// row is quantized and laid out in a paged cache (SPEC.md, "Storing into the paged caches").
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

// Printed as a bare keyword: `dsv4.quantize ue8m0 ...`.
def Dsv4_ScaleFormat : I32EnumAttr<"ScaleFormat",
    "how the scale of a block of channels is stored", [
      // The exact f32 quotient `max(amax, 1e-4) / MAX`, one per block (MAX: the largest
      // finite value of the quantized type, FP8_MAX for FP8).
      I32EnumAttrCase<"f32", 0>,
      // One byte `e`, the scale `2^(e - 127)` rounded up from that quotient; the channels are
      // rounded to bf16 first (the framework's path for the main layout).
      I32EnumAttrCase<"ue8m0", 1>,
      // One ue8m0 byte as above, of the f32 channels as they are (no bf16 rounding): the
      // microscaling (MX) scales of the MXFP4 indexer cache.
      I32EnumAttrCase<"mx", 2>
    ]> {
  let cppNamespace = "::mlir::dsv4";
}

// Printed as a bare keyword: `dsv4.paged_store decode indexer ...`. The byte geometry of each
// layout lives in one place, include/dsv4/Dialect/CacheLayout.h.
def Dsv4_CacheLayout : I32EnumAttr<"CacheLayout",
    "the byte layout of a paged cache", [
      // 128 FP8 channels, one f32 scale per row: 132 bytes per token.
      I32EnumAttrCase<"indexer", 0>,
      // 448 FP8 channels in 7 ue8m0 blocks of 64, then 64 bf16 rope channels: 584 bytes.
      I32EnumAttrCase<"main", 1>,
      // 128 e2m1 channels, two a byte, in 4 mx blocks of 32: 68 bytes per token.
      I32EnumAttrCase<"indexer_mxfp4", 2>
    ]> {
  let cppNamespace = "::mlir::dsv4";
}

#endif // DSV4_ATTRS
