// The softmax pooling of the compress step as scalar loops (see CompressPool.h).
#include "CompressPool.h"

#include "LoopBuilders.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::dsv4;

StateWindows mlir::dsv4::getStateWindows(ImplicitLocOpBuilder &b, Value state, Value blockTable,
                                         int64_t ratio, int64_t coff, int64_t headDim) {
  auto loadBlockId = [blockTable](ImplicitLocOpBuilder &builder, Value request, Value column) {
    return memref::LoadOp::create(builder, blockTable, ValueRange{request, column}).getResult();
  };
  return {ratio,
          coff,
          headDim,
          cast<MemRefType>(state.getType()).getDimSize(1),
          memref::DimOp::create(b, state, 0),
          memref::DimOp::create(b, blockTable, 0),
          memref::DimOp::create(b, blockTable, 1),
          loadBlockId};
}

void mlir::dsv4::emitPoolRow(ImplicitLocOpBuilder &b, const StateWindows &windows, Value state,
                             Value request, Value position, Value y) {
  forEach(b, indexConst(b, windows.headDim), [&](Value c) {
    PoolSums start = emitPoolStart(b);
    auto loop = scf::ForOp::create(b, indexConst(b, 0), indexConst(b, windows.windowSize()),
                                   indexConst(b, 1),
                                   ValueRange{start.max, start.weighted, start.total});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value i = loop.getInductionVar();
      WindowRow row = emitWindowRow(b, windows, request, position,
                                    arith::IndexCastOp::create(b, b.getI64Type(), i));
      Value block = arith::IndexCastOp::create(b, b.getIndexType(), row.block);
      // Under overlap the window's last `ratio` rows read the second half (kvOffset).
      Value kvChannel = c;
      if (windows.coff == 2) {
        Value own = arith::CmpIOp::create(b, arith::CmpIPredicate::sge, i,
                                          indexConst(b, windows.ratio));
        kvChannel = arith::AddIOp::create(
            b, c,
            arith::SelectOp::create(b, own, indexConst(b, windows.kvOffset(windows.ratio)),
                                    indexConst(b, windows.kvOffset(0))));
      }
      Value scoreChannel = arith::AddIOp::create(
          b, kvChannel, indexConst(b, windows.scoreOffset(0) - windows.kvOffset(0)));
      Value kv = memref::LoadOp::create(b, state, ValueRange{block, row.rowInBlock, kvChannel});
      Value score =
          memref::LoadOp::create(b, state, ValueRange{block, row.rowInBlock, scoreChannel});
      ValueRange carried = loop.getRegionIterArgs();
      PoolSums sums = emitPoolStep(b, {carried[0], carried[1], carried[2]}, kv, score,
                                   row.present);
      scf::YieldOp::create(b, ValueRange{sums.max, sums.weighted, sums.total});
    }
    PoolSums sums{loop.getResult(0), loop.getResult(1), loop.getResult(2)};
    memref::StoreOp::create(b, emitPoolResult(b, sums), y, c);
  });
}
