// Attributes of the dsv4 dialect: where a row's RoPE position comes from, how a finished row
// is quantized and laid out in a paged cache (SPEC.md, "Storing into the paged caches"), and
// a kernel's configuration: the spec a user asks for and the plan the compiler derives.
#ifndef DSV4_ATTRS
#define DSV4_ATTRS

include "Dsv4Dialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

// Printed as a bare keyword in op formats: `dsv4.fused_epilogue decode ...`.
def Dsv4_PositionSource : I32EnumAttr<"PositionSource",
    "where a work item's RoPE position comes from", [
      I32EnumAttrCase<"decode", 0>,
      I32EnumAttrCase<"prefill", 1>,
      // A compress item (dsv4.fused_compress_store): token_req[t] and positions[t] = p, whose
      // window the kernel pools itself; the RoPE position is p + 1 - ratio, as a prefill
      // plan row (t, r, p, len) gives it. Only the compress op and its spec take it.
      I32EnumAttrCase<"compress", 2>,
      // sglang's own plans read in place (include/dsv4/ABI/Handle.def): a DecodePlan per
      // batch entry (item b names row b, a decode item of its seq_len), a CompressPlan per
      // extend row (item m names row m at position seq_len - ratio and stores at
      // out_loc[ragged_id]).
      I32EnumAttrCase<"sglang_decode", 3>,
      I32EnumAttrCase<"sglang_extend", 4>
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
// layout lives in one place, include/dsv4/Dialect/Dsv4/IR/CacheLayout.h.
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

// How the Hadamard butterfly stages whose partners sit in other lanes exchange values
// (lib/Conversion/Dsv4ToGPU/ButterflySchedule.h plans them); `none` for a kernel that does
// not rotate and so exchanges nothing.
def Dsv4_ExchangeSchedule : I32EnumAttr<"ExchangeSchedule",
    "how a row's lanes exchange values for the Hadamard transform", [
      // LDS exchanges that move as many undone index bits into registers as fit.
      I32EnumAttrCase<"Grouped", 0, "grouped">,
      // One LDS exchange per cross-lane stage (the reference's shape).
      I32EnumAttrCase<"PerStage", 1, "per-stage">,
      // gpu.shuffle xor: no LDS, no barrier.
      I32EnumAttrCase<"Shuffle", 2, "shuffle">,
      I32EnumAttrCase<"None", 3, "none">
    ]> {
  let cppNamespace = "::mlir::dsv4";
}

// `per-stage` is no bare keyword: printed as a string where it must be, which the parser
// takes too (a bare `per-stage` would not parse back).
def Dsv4_ExchangeScheduleParameter : EnumParameter<Dsv4_ExchangeSchedule> {
  let printer = "$_printer.printKeywordOrString(stringifyExchangeSchedule($_self))";
}

class Dsv4_Attr<string name, string attrMnemonic> : AttrDef<Dsv4_Dialect, name> {
  let mnemonic = attrMnemonic;
}

def Dsv4_KernelSpecAttr : Dsv4_Attr<"KernelSpec", "spec"> {
  let summary = "what a kernel is asked to compute";
  let description = [{
    The configuration a user chooses (dsv4-gen's options; a fused op's attributes and
    types): position `mode`, `head_dim` D, `rope_dim` R, the kv and weight element types,
    the compress `ratio`, `eps`, the Hadamard `scale` (absent: the kernel does not rotate),
    and for a store kernel the cache `layout`, `page_size`, for an FP8 layout the
    `fp8_type`, and `out_loc_type = i32` where its slots are i32 (absent: i64, so that one
    kernel has one spelling; a compress kernel's are i64). A compress kernel (`mode = compress`, always a store) also names the state
    cache's rows per block, `state_block_size`, and whether its windows `overlap` (then each
    state row holds 4D floats, else 2D); its kv type is the state's, f32. The verifier holds the limits of include/dsv4/ABI/Limits.h; the fused ops'
    verifiers call it, so a spec that verifies builds ops that verify.

    ```mlir
    #dsv4.spec<mode = decode, head_dim = 128, rope_dim = 64, kv_type = bf16,
               weight_type = f32, ratio = 4, eps = 1.0e-06 : f32,
               scale = 0.0883883461 : f32, layout = indexer, page_size = 64,
               fp8_type = f8E4M3FN>
    ```
  }];
  let parameters = (ins
    EnumParameter<Dsv4_PositionSource>:$mode,
    "int64_t":$head_dim,
    "int64_t":$rope_dim,
    "Type":$kv_type,
    "Type":$weight_type,
    "int64_t":$ratio,
    "FloatAttr":$eps,
    OptionalParameter<"FloatAttr">:$scale,
    OptionalParameter<"std::optional<CacheLayout>">:$layout,
    OptionalParameter<"std::optional<int64_t>">:$page_size,
    OptionalParameter<"Type">:$fp8_type,
    OptionalParameter<"std::optional<int64_t>">:$state_block_size,
    DefaultValuedParameter<"bool", "false">:$overlap,
    OptionalParameter<"Type">:$out_loc_type
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Whether the kernel ends with the Hadamard rotation.
    bool rotates() const { return bool(getScale()); }
    /// Whether it stores into a paged cache (dsv4.fused_store) rather than in place.
    bool stores() const { return getLayout().has_value(); }
    /// Whether it pools its rows from a paged state cache (dsv4.fused_compress_store).
    bool compresses() const { return getMode() == PositionSource::compress; }
    /// The spec of fused op `op` (dsv4.fused_epilogue, dsv4.fused_store or
    /// dsv4.fused_compress_store).
    static KernelSpecAttr get(Operation *op);
  }];
}

def Dsv4_KernelPlanAttr : Dsv4_Attr<"KernelPlan", "plan"> {
  let summary = "how a kernel computes its spec: lanes, workgroup, vectors, schedule, LDS";
  let description = [{
    What dsv4-plan-kernels derives from a spec (the shape table, option overrides and chip
    limits) and convert-dsv4-to-gpu emits: `lanes_per_row` threads own one row (a power of
    two; at most 32, one subgroup on wave64 and warp32, when the row rotates: its butterflies
    shuffle; up to the workgroup otherwise, the sum of squares of each 32-lane part meeting the
    others' in LDS), `rows_per_workgroup` rows a
    workgroup, `vector_width` values moved by each access (16 bytes, or a lane's whole share
    of the row when that is smaller), the butterfly
    `schedule`, the workgroup memory the exchanges take (`lds_bytes`), and the occupancy the
    AMD back end must keep (`waves_per_simd`, 1-8; 0, the default: none asked). A compress
    kernel asks for 8: its unrolled window would otherwise have every state load in flight
    at once (100 VGPRs for the indexer) where 64 VGPRs hold what latency needs.
    `window_split` row slots share one item of a compress kernel (1, the default: each slot
    its own): each pools a part of the item's window, the parts' softmax sums are combined
    through LDS, and one slot stores. A 128-row window is one chain of 64 round trips in one
    slot, 8 in each of 8.

    ```mlir
    #dsv4.plan<lanes_per_row = 8, rows_per_workgroup = 16, vector_width = 4,
               schedule = grouped, lds_bytes = 32768>
    ```
  }];
  let parameters = (ins
    "int64_t":$lanes_per_row,
    "int64_t":$rows_per_workgroup,
    "int64_t":$vector_width,
    Dsv4_ExchangeScheduleParameter:$schedule,
    "int64_t":$lds_bytes,
    DefaultValuedParameter<"int64_t", "0">:$waves_per_simd,
    DefaultValuedParameter<"int64_t", "1">:$window_split
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getWorkgroupSize() const { return getLanesPerRow() * getRowsPerWorkgroup(); }
    /// Items a workgroup computes, and threads an item takes (the manifest's rows per
    /// workgroup and lanes per row: the launch geometry the runtime computes from them).
    int64_t getItemsPerWorkgroup() const { return getRowsPerWorkgroup() / getWindowSplit(); }
    int64_t getThreadsPerItem() const { return getLanesPerRow() * getWindowSplit(); }
    /// LDS of the exchanges (a slot of f32 per row) and of the split's partial sums (three
    /// f32 a channel per part).
    static int64_t exchangeLdsBytes(int64_t rows, int64_t headDim) {
      return rows * headDim * int64_t(sizeof(float));
    }
    static int64_t splitLdsBytes(int64_t split, int64_t headDim) {
      return split > 1 ? split * 3 * headDim * int64_t(sizeof(float)) : 0;
    }
    /// The 32-lane parts (dsv4_abi::kShuffleLanes) a row spans, and the LDS their sums of
    /// squares meet in: one f32 a part of each row, when there are several.
    static int64_t rowParts(int64_t lanes) {
      return lanes > dsv4_abi::kShuffleLanes ? lanes / dsv4_abi::kShuffleLanes : 1;
    }
    int64_t getRowParts() const { return rowParts(getLanesPerRow()); }
    static int64_t rowPartsLdsBytes(int64_t rows, int64_t lanes) {
      return rowParts(lanes) > 1 ? rows * rowParts(lanes) * int64_t(sizeof(float)) : 0;
    }
    /// Whether the Hadamard exchanges go through the workgroup's LDS.
    bool exchangesThroughLds() const {
      return getLanesPerRow() > 1 && (getSchedule() == ExchangeSchedule::Grouped ||
                                      getSchedule() == ExchangeSchedule::PerStage);
    }
    /// The checks that need the spec too: the vector width of its kv type, each lane
    /// holding enough values for the schedule, the schedule `none` exactly when the spec
    /// does not rotate, and the LDS a slot of rows * D f32 takes.
    LogicalResult verifyFor(KernelSpecAttr spec,
                            function_ref<InFlightDiagnostic()> emitError) const;
    /// The 16-byte runs a lane must hold: a grouped exchange brings lane bits into unpinned
    /// register bits, so it needs two; partner and shuffle stages work on any number.
    static int64_t minRunsPerLane(ExchangeSchedule schedule);
    /// The values one 16-byte access of `kvType` moves (V of the shape table).
    static int64_t fullAccessWidth(Type kvType);
    /// The values one access of a lane moves: a 16-byte access of `kvType`, or the lane's
    /// whole share of a `headDim`-wide row over `lanes` lanes where that is smaller (a row
    /// spread over more lanes than it has 16-byte runs).
    static int64_t accessWidth(Type kvType, int64_t headDim, int64_t lanes);
    /// The byte alignment a run of `values` elements of `elementType` starts at: its own
    /// size, at most one 16-byte access. The kernel's loads and stores assume it; the
    /// manifest asks it of the buffers.
    static int64_t runAlignment(Type elementType, int64_t values);
  }];
}

def Dsv4_KernelRecordAttr : Dsv4_Attr<"KernelRecord", "kernel"> {
  let summary = "what a kernel's manifest states: its spec, its plan, what its code requires";
  let description = [{
    convert-dsv4-to-gpu records one for each kernel it emits, in the module's `dsv4.kernels`
    dictionary under the kernel's name (the gpu.module is gone once it is a gpu.binary): the
    kernel's `#dsv4.spec` and `#dsv4.plan`, and what its emitted code requires of the
    buffers: the byte alignment of the rows' base (kv, or a compress kernel's state) and the
    multiple, in elements, of their row stride; those of weight and freqs; a store kernel's
    cache alignment (0: no cache). dsv4-embed-manifest adds the workgroup memory the kernel
    declares (`lds_bytes`). The manifest writer (lib/Target/Manifest.cpp) spells it with the
    keys of include/dsv4/ABI/ManifestKeys.def (docs/ABI.md).

    ```mlir
    #dsv4.kernel<spec = #dsv4.spec<...>, plan = #dsv4.plan<...>, row_align = 16,
                 row_stride_multiple = 4, weight_align = 16, freqs_align = 16,
                 freqs_row_stride_multiple = 4, cache_align = 16, lds_bytes = 0>
    ```
  }];
  let parameters = (ins
    "KernelSpecAttr":$spec,
    "KernelPlanAttr":$plan,
    "int64_t":$row_align,
    "int64_t":$row_stride_multiple,
    "int64_t":$weight_align,
    "int64_t":$freqs_align,
    "int64_t":$freqs_row_stride_multiple,
    DefaultValuedParameter<"int64_t", "0">:$cache_align,
    OptionalParameter<"std::optional<int64_t>">:$lds_bytes
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let extraClassDeclaration = [{
    /// This record with the LDS bytes its compiled kernel declares (dsv4-embed-manifest knows
    /// them once the kernel exists).
    KernelRecordAttr withLdsBytes(int64_t bytes) const {
      return KernelRecordAttr::get(getContext(), getSpec(), getPlan(), getRowAlign(),
                                   getRowStrideMultiple(), getWeightAlign(), getFreqsAlign(),
                                   getFreqsRowStrideMultiple(), getCacheAlign(), bytes);
    }
  }];
}

#endif // DSV4_ATTRS
