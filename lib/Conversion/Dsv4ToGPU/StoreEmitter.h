// The store step of a store kernel: the finished f32 row, spread over the lanes of its row,
// quantized (FP8 or e2m1) and written into one slot of the paged cache (SPEC.md "Storing into
// the paged caches"). KernelEmitter.cpp calls it in place of the kv store.
#ifndef DSV4_CONVERSION_DSV4TOGPU_STOREEMITTER_H
#define DSV4_CONVERSION_DSV4TOGPU_STOREEMITTER_H

#include "KernelEmitter.h"
#include "dsv4/Conversion/CacheStore.h"

namespace mlir::dsv4 {

/// One lane's part of a finished row.
struct LaneRow {
  /// Which row index each register and lane bit stands for.
  RowLayout layout;
  /// The lane's f32 values, by register; runs of `runWidth` registers are contiguous.
  ArrayRef<Value> values;
  int64_t runWidth;
  /// The lane's part of every index of `layout` (index type).
  Value laneOffset;
  /// gpu.shuffle xor over the subgroup by `offset` (below the row's lane count).
  function_ref<Value(Value, int64_t)> shuffleXor;
  /// Where the RoPE is left to the tail's stores (KernelEmitter's ropeAtTailStore): the
  /// finished f32 run at a register of the tail; `values` then hold the row before the RoPE,
  /// which is what the quantized channels are. Null: `values` are finished.
  function_ref<SmallVector<Value>(int64_t)> tailRun = nullptr;
};

/// Quantizes `row` per the store spec `store` and, where `stores` (i1) holds, writes its bytes at `slot` of
/// `cache` (a global i8 memref). The amax reductions run in every lane (they shuffle), the
/// writes only in storing ones.
void emitCacheStore(ImplicitLocOpBuilder &b, KernelSpecAttr store, const LaneRow &row,
                    Value cache, const SlotAddress &slot, Value stores);

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_DSV4TOGPU_STOREEMITTER_H
