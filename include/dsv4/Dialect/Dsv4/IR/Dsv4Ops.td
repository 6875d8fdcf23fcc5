// The ops of the dsv4 dialect: work items, the three row ops, the fused epilogue, and the
// quantization (FP8 or e2m1) and paged-cache store that follow it (alone or fused); the
// compress step in front of them (window pooling over a paged state cache, alone or fused).
#ifndef DSV4_OPS
#define DSV4_OPS

include "Dsv4Dialect.td"
include "Dsv4Attrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints (SPEC.md: the element types each buffer may have)
//===----------------------------------------------------------------------===//

def Dsv4_KvTensor : TensorRankOf<[F32, BF16, F16], [2]>;
def Dsv4_WeightTensor : TensorRankOf<[F32, BF16], [1]>;
def Dsv4_FreqsTensor : TensorRankOf<[F32], [2]>;
def Dsv4_ItemsTensor : TensorRankOf<[I32], [2]>;
def Dsv4_SeqLensTensor : TensorRankOf<[I32], [1]>;
def Dsv4_PlanTensor : TensorRankOf<[I32], [2]>;
def Dsv4_HandleTensor : TensorRankOf<[I32], [1, 2]>;
// The paged-cache store (SPEC.md "Storing into the paged caches").
def Dsv4_Fp8 : AnyTypeOf<[F8E4M3FN, F8E4M3FNUZ]>;
def Dsv4_FinishedRows : TensorRankOf<[F32], [2]>;
// Quantized channels: FP8, or e2m1 (the MXFP4 indexer cache, two a byte).
def Dsv4_CodesTensor : TensorRankOf<[Dsv4_Fp8, F4E2M1FN], [2]>;
def Dsv4_ScalesTensor : TensorRankOf<[F32, I8], [2]>;
def Dsv4_CacheTensor : TensorRankOf<[I8], [1]>;
// A store's slots: i64, or i32 where the framework keeps them so (sglang before int64 slots).
def Dsv4_OutLocTensor : TensorRankOf<[I32, I64], [1]>;
def Dsv4_CompressOutLocTensor : TensorRankOf<[I64], [1]>;
// The compress step (SPEC.md "The compress step in front").
def Dsv4_StateTensor : TensorRankOf<[F32], [3]>;
def Dsv4_BlockTableTensor : TensorRankOf<[I32], [2]>;
def Dsv4_TokenReqTensor : TensorRankOf<[I32], [1]>;
def Dsv4_PositionsTensor : TensorRankOf<[I64], [1]>;

//===----------------------------------------------------------------------===//
// Work items
//===----------------------------------------------------------------------===//

class Dsv4_ItemsOp<string mnemonic, Type handleType>
    : Dsv4_Op<mnemonic, [Pure]> {
  let arguments = (ins handleType:$handle, Dsv4_FreqsTensor:$freqs, I64Attr:$ratio);
  let results = (outs Dsv4_ItemsTensor:$items);
  let assemblyFormat = [{
    $handle `,` $freqs attr-dict `:` type($handle) `,` type($freqs) `->` type($items)
  }];
  let hasVerifier = 1;
}

def Dsv4_DecodeItemsOp : Dsv4_ItemsOp<"decode_items", Dsv4_SeqLensTensor> {
  let summary = "work items of a decode step: one per batch entry";
  let description = [{
    Item `b` names kv row `b` at position `floor((seq_lens[b] - 1) / ratio) * ratio`.
    It is skipped (row `-1`) when `seq_lens[b] <= 0` (padding) or the position lies outside
    the rows of `freqs`. The result is `[B, 2]` of `(row, position)`.

    ```mlir
    %items = dsv4.decode_items %seq_lens, %freqs {ratio = 4 : i64}
        : tensor<?xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
    ```
  }];
}

def Dsv4_PrefillItemsOp : Dsv4_ItemsOp<"prefill_items", Dsv4_PlanTensor> {
  let summary = "work items of a prefill step: one per plan row";
  let description = [{
    `plan` is `[M, 4]` of `(row, batch_id, position, window_len)`. Item `m` names kv row
    `plan[m, 0]` at position `plan[m, 2] + 1 - ratio`; it is skipped (row `-1`) when the row
    is negative or the position lies outside the rows of `freqs`.

    ```mlir
    %items = dsv4.prefill_items %plan, %freqs {ratio = 4 : i64}
        : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
    ```
  }];
}

def Dsv4_SglangDecodeItemsOp : Dsv4_ItemsOp<"sglang_decode_items", Dsv4_PlanTensor> {
  let summary = "work items of sglang's decode plans, read in place";
  let description = [{
    `plan` is sglang's `DecodePlan` array (`[B, 16]` bytes) viewed as `[B, 4]` i32 of
    `(seq_len, write_loc, read_page_0, read_page_1)`. Item `b` is the decode item of row `b`
    and `seq_len` (`dsv4.decode_items`), skipped as well when `write_loc` or `read_page_0` is
    negative (a row sglang planned no state for).

    ```mlir
    %items = dsv4.sglang_decode_items %plan, %freqs {ratio = 4 : i64}
        : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
    ```
  }];
}

def Dsv4_SglangExtendItemsOp : Dsv4_ItemsOp<"sglang_extend_items", Dsv4_PlanTensor> {
  let summary = "work items of sglang's extend (compress) plans, read in place";
  let description = [{
    `plan` is sglang's `CompressPlan` array (`[M, 16]` bytes) viewed as `[M, 4]` i32 of
    `(seq_len, ragged_id | buffer_len << 16, read_page_0, read_page_1)`. Item `m` names kv row
    `m` at position `seq_len - ratio`; it is skipped when `seq_len` is `0xFFFFFFFF` (sglang's
    invalid plan) or any other value past INT32_MAX, or the position lies outside the rows of
    `freqs`. A store of these items writes slot `out_loc[ragged_id]`.

    ```mlir
    %items = dsv4.sglang_extend_items %plan, %freqs {ratio = 4 : i64}
        : tensor<?x4xi32>, tensor<?x64xf32> -> tensor<?x2xi32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Row ops: each returns kv with the rows named by active items updated.
//===----------------------------------------------------------------------===//

class Dsv4_RowOp<string mnemonic, list<Trait> traits = []>
    : Dsv4_Op<mnemonic, !listconcat(traits, [Pure, AllTypesMatch<["kv", "result"]>])> {
  let results = (outs Dsv4_KvTensor:$result);
  let hasVerifier = 1;
}

def Dsv4_RmsNormOp : Dsv4_RowOp<"rms_norm"> {
  let summary = "RMSNorm of the rows named by work items";
  let description = [{
    For each active item, `y = x * rsqrt(mean(x^2) + eps) * weight` on its row, computed in
    f32 and rounded to kv's element type. Rows of skipped items and rows no item names are
    returned unchanged.

    ```mlir
    %y = dsv4.rms_norm %kv[%items], %weight {eps = 1.0e-06 : f32}
        : tensor<?x512xf32>, tensor<?x2xi32>, tensor<512xf32>
    ```
  }];
  let arguments = (ins Dsv4_KvTensor:$kv, Dsv4_ItemsTensor:$items,
                       Dsv4_WeightTensor:$weight, F32Attr:$eps);
  let assemblyFormat = [{
    $kv `[` $items `]` `,` $weight attr-dict `:` type($kv) `,` type($items) `,` type($weight)
  }];
}

def Dsv4_RopeOp : Dsv4_RowOp<"rope"> {
  let summary = "interleaved RoPE on the last rope_dim channels of the named rows";
  let description = [{
    For each active item at position `p`, the last `rope_dim` channels of its row are taken as
    `rope_dim / 2` interleaved complex pairs and multiplied by `freqs[p]` (cos, sin
    interleaved). The other channels pass through.

    ```mlir
    %y = dsv4.rope %kv[%items], %freqs {rope_dim = 64 : i64}
        : tensor<?x512xf32>, tensor<?x2xi32>, tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Dsv4_KvTensor:$kv, Dsv4_ItemsTensor:$items,
                       Dsv4_FreqsTensor:$freqs, I64Attr:$rope_dim);
  let assemblyFormat = [{
    $kv `[` $items `]` `,` $freqs attr-dict `:` type($kv) `,` type($items) `,` type($freqs)
  }];
}

def Dsv4_HadamardOp : Dsv4_RowOp<"hadamard"> {
  let summary = "scaled Walsh-Hadamard transform of the named rows";
  let description = [{
    For each active item, its row becomes `scale * H_D x` with `H_D` the natural-order
    (Sylvester) Hadamard matrix, `H_D[i][k] = (-1)^popcount(i & k)`.

    ```mlir
    %y = dsv4.hadamard %kv[%items] {scale = 0.0441941738 : f32}
        : tensor<?x512xf32>, tensor<?x2xi32>
    ```
  }];
  let arguments = (ins Dsv4_KvTensor:$kv, Dsv4_ItemsTensor:$items, F32Attr:$scale);
  let assemblyFormat = [{
    $kv `[` $items `]` attr-dict `:` type($kv) `,` type($items)
  }];
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// The fused epilogue
//===----------------------------------------------------------------------===//

def Dsv4_FusedEpilogueOp : Dsv4_Op<"fused_epilogue",
    [Pure, AllTypesMatch<["kv", "result"]>]> {
  let summary = "RMSNorm, RoPE and (optionally) Hadamard of the handle's rows, in one op";
  let description = [{
    What `dsv4.decode_items`/`dsv4.prefill_items` (by `source`, with `ratio`), then
    `dsv4.rms_norm`, `dsv4.rope` and, when `scale` is present, `dsv4.hadamard` compute,
    keeping every intermediate in f32 and rounding to kv's element type once. `handle` is
    `seq_lens` (`[B]`, decode) or the plan (`[M, 4]`, prefill). This is the unit that becomes
    one GPU kernel.

    ```mlir
    %y = dsv4.fused_epilogue decode %kv, %weight, %freqs, %seq_lens
        {eps = 1.0e-06 : f32, ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0441941738 : f32}
        : tensor<?x512xf32>, tensor<512xf32>, tensor<?x64xf32>, tensor<?xi32>
    ```
  }];
  let arguments = (ins Dsv4_PositionSource:$source, Dsv4_KvTensor:$kv,
                       Dsv4_WeightTensor:$weight, Dsv4_FreqsTensor:$freqs,
                       Dsv4_HandleTensor:$handle, I64Attr:$ratio, F32Attr:$eps,
                       I64Attr:$rope_dim, OptionalAttr<F32Attr>:$scale);
  let results = (outs Dsv4_KvTensor:$result);
  let assemblyFormat = [{
    $source $kv `,` $weight `,` $freqs `,` $handle attr-dict `:`
    type($kv) `,` type($weight) `,` type($freqs) `,` type($handle)
  }];
  let extraClassDeclaration = [{
    /// True when the op ends with the Hadamard rotation (norm + rope + hadamard).
    bool rotates() { return getScale().has_value(); }
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Quantization (FP8 or e2m1) and the paged-cache store
//===----------------------------------------------------------------------===//

def Dsv4_QuantizeOp : Dsv4_Op<"quantize", [Pure]> {
  let summary = "FP8 or e2m1 quantization of the leading channels of every row, one scale "
                "per block";
  let description = [{
    `values` holds the leading `C` channels of each `[N, D]` row of `rows` (C <= D, the width
    of `values`) as the element type of `values`: FP8 (`f8E4M3FN`, MAX = FP8_MAX = 448, or
    `f8E4M3FNUZ`, 240) or e2m1 (`f4E2M1FN`, MAX 6), in blocks of `block` channels with one
    scale each (`scales` is `[N, C / block]`; both results have the row count of `rows`,
    dynamic where it is). Per block: `amax` is the maxNum of `|x|` (a NaN does not poison it),
    and `q = rne_sat(x * inv)`, rounded to nearest even and saturated to +-MAX; a NaN stays
    NaN in FP8, and becomes +MAX in e2m1, which has no NaN.
    - `f32`: `scales` are f32, `s = max(amax, 1e-4) / MAX`, `inv = 1 / s` (f32).
    - `ue8m0`: `x` is first rounded to bf16 (the framework's path); `scales` are i8 bytes
      `e = ue8m0_round_up(max(amax, 1e-4) / MAX)` and `inv = 2^(127 - e)`.
    - `mx`: as `ue8m0`, of `x` itself (no bf16 rounding).

    ```mlir
    %q, %s = dsv4.quantize ue8m0 %rows {block = 64 : i64}
        : tensor<?x512xf32> -> tensor<?x448xf8E4M3FN>, tensor<?x7xi8>
    %q4, %s4 = dsv4.quantize mx %rows {block = 32 : i64}
        : tensor<?x128xf32> -> tensor<?x128xf4E2M1FN>, tensor<?x4xi8>
    ```
  }];
  let arguments = (ins Dsv4_ScaleFormat:$scale_format, Dsv4_FinishedRows:$rows,
                       I64Attr:$block);
  let results = (outs Dsv4_CodesTensor:$values, Dsv4_ScalesTensor:$scales);
  let assemblyFormat = [{
    $scale_format $rows attr-dict `:` type($rows) `->` type($values) `,` type($scales)
  }];
  let hasVerifier = 1;
}

def Dsv4_PagedStoreOp : Dsv4_Op<"paged_store",
    [Pure, AllTypesMatch<["cache", "result"]>]> {
  let summary = "scatter quantized rows into a paged cache";
  let description = [{
    Returns `cache` (a flat byte buffer) with the bytes of each storing item written in the
    `layout` of SPEC.md: item `m` (row `items[m, 0]`) stores at slot `out_loc[m]`
    (`sglang_extend`: `out_loc[ragged_id]` of its plan row, when below M), page
    `out_loc >> log2(page_size)`, token `out_loc & (page_size - 1)`, when it is active
    (row >= 0, and below the row count of `rows`, `values` and `scales` alike), `out_loc >= 0`,
    for `decode` and `sglang_decode` a boundary (`seq_len % ratio == 0`), and its bytes lie
    inside the cache.
    `page_size` is a power of two of at most 2^20 (include/dsv4/ABI/Limits.h). `values` and
    `scales` come from `dsv4.quantize` of `rows` (FP8 for `indexer` and `main`, `f4E2M1FN` for
    `indexer_mxfp4`, stored two a byte, low nibble first); the `main` layout also stores the
    channels of `rows` after the quantized ones as bf16. No other byte changes.

    ```mlir
    %c = dsv4.paged_store decode indexer %q, %s, %rows into %cache[%out_loc]
        items %items, %seq_lens {page_size = 64 : i64, ratio = 4 : i64}
        : tensor<?x128xf8E4M3FN>, tensor<?x1xf32>, tensor<?x128xf32>, tensor<?xi8>,
          tensor<?xi64>, tensor<?x2xi32>, tensor<?xi32>
    ```
  }];
  let arguments = (ins Dsv4_PositionSource:$source, Dsv4_CacheLayout:$layout,
                       Dsv4_CodesTensor:$values, Dsv4_ScalesTensor:$scales,
                       Dsv4_FinishedRows:$rows, Dsv4_CacheTensor:$cache,
                       Dsv4_OutLocTensor:$out_loc, Dsv4_ItemsTensor:$items,
                       Dsv4_HandleTensor:$handle, I64Attr:$page_size, I64Attr:$ratio);
  let results = (outs Dsv4_CacheTensor:$result);
  let assemblyFormat = [{
    $source $layout $values `,` $scales `,` $rows `into` $cache `[` $out_loc `]`
    `items` $items `,` $handle attr-dict `:` type($values) `,` type($scales) `,` type($rows)
    `,` type($cache) `,` type($out_loc) `,` type($items) `,` type($handle)
  }];
  let hasVerifier = 1;
}

def Dsv4_FusedStoreOp : Dsv4_Op<"fused_store",
    [Pure, AllTypesMatch<["cache", "result"]>]> {
  let summary = "the fused epilogue, quantization and paged store, in one op";
  let description = [{
    What `dsv4.fused_epilogue` computes for each item, kept in f32, then `dsv4.quantize`
    (scale format and block of `layout`; FP8 type `fp8_type` for the FP8 layouts `indexer`
    and `main`, which need it, while `indexer_mxfp4` quantizes to e2m1 and takes none) and
    `dsv4.paged_store` of the finished row into `cache` at `out_loc`. kv itself is not
    written. This is the unit that becomes one GPU kernel.

    ```mlir
    %c = dsv4.fused_store decode indexer %kv, %weight, %freqs, %seq_lens into %cache[%out_loc]
        {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, page_size = 64 : i64, ratio = 4 : i64,
         rope_dim = 64 : i64, scale = 0.0883883461 : f32}
        : tensor<?x128xf32>, tensor<128xf32>, tensor<?x64xf32>, tensor<?xi32>, tensor<?xi8>,
          tensor<?xi64>
    ```
  }];
  let arguments = (ins Dsv4_PositionSource:$source, Dsv4_CacheLayout:$layout,
                       Dsv4_KvTensor:$kv, Dsv4_WeightTensor:$weight,
                       Dsv4_FreqsTensor:$freqs, Dsv4_HandleTensor:$handle,
                       Dsv4_CacheTensor:$cache, Dsv4_OutLocTensor:$out_loc,
                       I64Attr:$ratio, F32Attr:$eps, I64Attr:$rope_dim,
                       OptionalAttr<F32Attr>:$scale, I64Attr:$page_size,
                       OptionalAttr<TypeAttrOf<Dsv4_Fp8>>:$fp8_type);
  let results = (outs Dsv4_CacheTensor:$result);
  let assemblyFormat = [{
    $source $layout $kv `,` $weight `,` $freqs `,` $handle `into` $cache `[` $out_loc `]`
    attr-dict `:` type($kv) `,` type($weight) `,` type($freqs) `,` type($handle) `,`
    type($cache) `,` type($out_loc)
  }];
  let extraClassDeclaration = [{
    /// True when the epilogue ends with the Hadamard rotation.
    bool rotates() { return getScale().has_value(); }
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// The compress step in front: window pooling over a paged state cache
//===----------------------------------------------------------------------===//

// The operands and attributes every compress op shares: the state cache addressed through the
// block table, one item per token, and the window's shape.
class Dsv4_CompressOp<string mnemonic, list<Trait> traits = []>
    : Dsv4_Op<mnemonic, !listconcat(traits, [Pure])> {
  code compressClassDeclaration = [{
    /// Window rows per state position: 2 when windows overlap (ratio 4), else 1.
    int64_t coff() { return getOverlap() ? 2 : 1; }
    /// D, the width of a pooled row: the state row holds 2 * coff * D floats.
    int64_t headDim() {
      return cast<RankedTensorType>(getState().getType()).getDimSize(2) / (2 * coff());
    }
  }];
  let hasVerifier = 1;
}

def Dsv4_CompressPoolOp : Dsv4_CompressOp<"compress_pool"> {
  let summary = "softmax-pool each window of a paged state cache into one row per token";
  let description = [{
    SPEC.md "The compress step in front". `state` is `[num_blocks, block_size, 2W]` f32, each
    row `kv` (W floats) then `score` (W floats), `W = coff * D` (`coff = 2` with `overlap`,
    else 1); token `q` of request `r` is row `q % block_size` of block
    `block_table[r][q / block_size]`. Item `t` (request `token_req[t]`, position
    `positions[t] = p`) produces a row when `(p + 1) % ratio == 0`: over the window of
    `n = coff * ratio` positions `q_i = p - n + 1 + i` (absent below 0), channel `c` of window
    row `i` reads `kv[c]`, `score[c]` (with `overlap` and `i >= ratio`: `kv[D + c]`,
    `score[D + c]`), and `rows[t, c]` is the softmax-weighted sum
    `sum_i kv_i[c] * exp(s_i[c] - m_c) / sum_i exp(s_i[c] - m_c)`, `m_c = maxNum_i s_i[c]`,
    in f32. The state is only read.

    `plan[t]` is the prefill plan row of the item, `(row, batch_id, position, window_len)` =
    `(t, token_req[t], p, present window positions)`, so `dsv4.prefill_items` of it gives the
    epilogue's RoPE position `p + 1 - ratio`. An item produces no row (its `rows[t]` is zero,
    its plan row `(-1, token_req[t], -1, 0)`) when it is not a window's last token, when
    `p < 0`, `p >= INT32_MAX` or `t > INT32_MAX` (the plan holds `t`, `p` and
    `window_len <= p + 1` as i32), when its request is outside `block_table`, or when a
    present position's block is outside `block_table`'s row or its block id outside
    `[0, num_blocks)`: nothing is read outside the buffers. Scores of -inf weigh 0; a channel
    whose present scores are all -inf, or hold +inf or NaN, is NaN, as the formula gives.

    ```mlir
    %rows, %plan = dsv4.compress_pool %state[%block_table], %token_req, %positions
        {overlap, ratio = 4 : i64}
        : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>
        -> tensor<?x128xf32>, tensor<?x4xi32>
    ```
  }];
  let arguments = (ins Dsv4_StateTensor:$state, Dsv4_BlockTableTensor:$block_table,
                       Dsv4_TokenReqTensor:$token_req, Dsv4_PositionsTensor:$positions,
                       I64Attr:$ratio, UnitAttr:$overlap);
  let results = (outs Dsv4_FinishedRows:$rows, Dsv4_PlanTensor:$plan);
  let assemblyFormat = [{
    $state `[` $block_table `]` `,` $token_req `,` $positions attr-dict `:` type($state) `,`
    type($block_table) `,` type($token_req) `,` type($positions) `->` type($rows) `,`
    type($plan)
  }];
  let extraClassDeclaration = compressClassDeclaration;
}

def Dsv4_FusedCompressStoreOp : Dsv4_CompressOp<"fused_compress_store",
    [AllTypesMatch<["cache", "result"]>]> {
  let summary = "window pooling, the epilogue, quantization and the paged store, in one op";
  let description = [{
    What `dsv4.compress_pool` computes for each item, then `dsv4.fused_store prefill` of its
    rows and plan: the epilogue at RoPE position `p + 1 - ratio` (the item is skipped when that
    lies outside `freqs`), quantization in `layout` and the store at `out_loc[t]` (skipped when
    negative or outside the cache), every intermediate in f32. Only the cache is written.

    ```mlir
    %c = dsv4.fused_compress_store indexer %state[%block_table], %token_req, %positions,
        %weight, %freqs into %cache[%out_loc]
        {eps = 1.0e-06 : f32, fp8_type = f8E4M3FN, overlap, page_size = 64 : i64,
         ratio = 4 : i64, rope_dim = 64 : i64, scale = 0.0883883461 : f32}
        : tensor<?x64x512xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi64>,
          tensor<128xf32>, tensor<?x64xf32>, tensor<?xi8>, tensor<?xi64>
    ```
  }];
  let arguments = (ins Dsv4_CacheLayout:$layout, Dsv4_StateTensor:$state,
                       Dsv4_BlockTableTensor:$block_table, Dsv4_TokenReqTensor:$token_req,
                       Dsv4_PositionsTensor:$positions, Dsv4_WeightTensor:$weight,
                       Dsv4_FreqsTensor:$freqs, Dsv4_CacheTensor:$cache,
                       Dsv4_CompressOutLocTensor:$out_loc, I64Attr:$ratio, UnitAttr:$overlap,
                       F32Attr:$eps, I64Attr:$rope_dim, OptionalAttr<F32Attr>:$scale,
                       I64Attr:$page_size, OptionalAttr<TypeAttrOf<Dsv4_Fp8>>:$fp8_type);
  let results = (outs Dsv4_CacheTensor:$result);
  let assemblyFormat = [{
    $layout $state `[` $block_table `]` `,` $token_req `,` $positions `,` $weight `,` $freqs
    `into` $cache `[` $out_loc `]` attr-dict `:` type($state) `,` type($block_table) `,`
    type($token_req) `,` type($positions) `,` type($weight) `,` type($freqs) `,`
    type($cache) `,` type($out_loc)
  }];
  let extraClassDeclaration = compressClassDeclaration # [{
    /// True when the epilogue ends with the Hadamard rotation.
    bool rotates() { return getScale().has_value(); }
  }];
}

#endif // DSV4_OPS
