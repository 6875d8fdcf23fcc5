// The quantization (FP8 or e2m1) of one f32 row and the bytes of one cache slot, as scalar loops: the
// CPU reference of SPEC.md "Storing into the paged caches", shared by dsv4.quantize,
// dsv4.paged_store and dsv4.fused_store so the chain and the fused op write the same bytes.
#ifndef DSV4_CONVERSION_DSV4TOLOOPS_QUANTIZESTORE_H
#define DSV4_CONVERSION_DSV4TOLOOPS_QUANTIZESTORE_H

#include "dsv4/Conversion/CacheStore.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::dsv4 {

/// Quantizes channels [0, numBlocks * block) of the f32 row `x` (memref<Dxf32>): the bits of
/// `codeType` (FP8 or f4E2M1FN, one code per i8) into `codes` (memref<Cxi8>), one scale per
/// block into `scales` (memref<Bxf32> for the f32 format, memref<Bxi8> of ue8m0 exponents
/// otherwise).
void emitQuantizeRow(ImplicitLocOpBuilder &b, Value x, Value codes, Value scales,
                     ScaleFormat format, int64_t numBlocks, int64_t block, Type codeType);

/// Writes one token into `cache` (memref<?xi8>): `codes` (one a byte, or two a byte for
/// e2m1) and `scales` as emitQuantizeRow leaves them, then the channels of `x` after the
/// quantized ones as bf16.
void emitStoreToken(ImplicitLocOpBuilder &b, Value cache, const SlotAddress &slot,
                    const CacheGeometry &geometry, Value codes, Value scales, Value x);

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_DSV4TOLOOPS_QUANTIZESTORE_H
