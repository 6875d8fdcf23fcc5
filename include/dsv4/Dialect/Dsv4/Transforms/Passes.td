// The dsv4 dialect's own rewrites: the fusion of op chains into fused ops.
#ifndef DSV4_DIALECT_DSV4_TRANSFORMS_PASSES
#define DSV4_DIALECT_DSV4_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def Dsv4Fuse : Pass<"dsv4-fuse"> {
  let summary = "Fuse rms_norm -> rope (-> hadamard) chains into dsv4.fused_epilogue, and "
                "an epilogue's quantize -> paged_store into dsv4.fused_store";
  let description = [{
    Replaces each chain `rms_norm -> rope -> hadamard` (or `rms_norm -> rope`) over the same
    work items, whose items come from `decode_items`/`prefill_items` over the rope's freqs, by
    one `dsv4.fused_epilogue`. A chain is left alone when an intermediate has another user
    (the hadamard is then left out, or nothing fuses), the ops sit in different blocks, the
    ops name different work items, or the items do not come from an items op over the rope's
    own freqs (the fused op must know the position source). The fused op keeps intermediates
    in f32: for f32 kv it computes the same bits as the chain; for bf16/f16 kv it drops the
    chain's two intermediate roundings, which only makes it more accurate (SPEC.md).

    Then a `fused_epilogue` whose rows only `quantize` and `paged_store` read, stored over
    the items of the same handle, ratio and freqs, becomes one `dsv4.fused_store` carrying the
    layout, page size and FP8 type; the in-place kv write disappears with it. An epilogue
    whose rows have another reader stays.
  }];
  let dependentDialects = ["::mlir::dsv4::Dsv4Dialect"];
}

#endif // DSV4_DIALECT_DSV4_TRANSFORMS_PASSES
