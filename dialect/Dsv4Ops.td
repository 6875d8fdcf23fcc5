// The ops of the dsv4 dialect: work items, the three row ops, and the fused epilogue.
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

#endif // DSV4_OPS
