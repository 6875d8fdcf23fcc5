// Race checking of workgroup memory for convert-gpu-to-host (see RaceCheck.h). Threads run one
// after the other between two barriers, so a conflict never shows as a wrong value by itself:
// the shadow records who touched each element since the last barrier instead.
#include "RaceCheck.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::dsv4;

namespace {
/// What a conflicting access found, as the i32 `kind` the check loop carries.
enum RaceKind : int64_t { kNoRace = 0, kReadAfterWrite, kWriteAfterRead, kWriteAfterWrite };
constexpr int64_t kNoThread = -1;
constexpr int64_t kNoReader = std::numeric_limits<int32_t>::max();

Value i32(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIntOp::create(b, loc, b.getI32Type(), value);
}
Value index(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}
Value cmp(OpBuilder &b, Location loc, arith::CmpIPredicate predicate, Value lhs, Value rhs) {
  return arith::CmpIOp::create(b, loc, predicate, lhs, rhs);
}

/// Fills the i32 buffer `buffer` of `size` elements with `value`.
void fill(OpBuilder &b, Location loc, Value buffer, int64_t size, int64_t value) {
  Value v = i32(b, loc, value);
  scf::ForOp::create(b, loc, index(b, loc, 0), index(b, loc, size), index(b, loc, 1),
                     ValueRange{}, [&](OpBuilder &nb, Location nl, Value e, ValueRange) {
                       memref::StoreOp::create(nb, nl, v, buffer, ValueRange{e});
                       scf::YieldOp::create(nb, nl);
                     });
}

/// The first element an access touches, in the buffer's row-major order, and how many
/// consecutive elements it touches.
std::pair<Value, int64_t> accessedRange(OpBuilder &b, Location loc, Operation *access) {
  Value memref = getAccessedMemRef(access);
  auto type = cast<MemRefType>(memref.getType());
  ValueRange indices;
  int64_t count = 1;
  if (auto load = dyn_cast<memref::LoadOp>(access))
    indices = load.getIndices();
  else if (auto store = dyn_cast<memref::StoreOp>(access))
    indices = store.getIndices();
  else if (auto load = dyn_cast<vector::LoadOp>(access))
    indices = load.getIndices(), count = load.getVectorType().getNumElements();
  else {
    auto store = cast<vector::StoreOp>(access);
    indices = store.getIndices(), count = store.getVectorType().getNumElements();
  }
  Value linear = index(b, loc, 0);
  int64_t stride = 1;
  for (int64_t d = type.getRank() - 1; d >= 0; --d) {
    Value term = arith::MulIOp::create(b, loc, indices[d], index(b, loc, stride));
    linear = arith::AddIOp::create(b, loc, linear, term);
    stride *= type.getDimSize(d);
  }
  return {linear, count};
}
} // namespace

Value mlir::dsv4::getAccessedMemRef(Operation *op) {
  if (auto load = dyn_cast<memref::LoadOp>(op))
    return load.getMemRef();
  if (auto store = dyn_cast<memref::StoreOp>(op))
    return store.getMemRef();
  if (auto load = dyn_cast<vector::LoadOp>(op))
    return load.getVectorType().getRank() == 1 ? load.getBase() : Value();
  if (auto store = dyn_cast<vector::StoreOp>(op))
    return store.getVectorType().getRank() == 1 ? store.getBase() : Value();
  return Value();
}

void RaceChecker::allocate(OpBuilder &b, Location loc, ArrayRef<Value> buffers) {
  for (auto [number, buffer] : llvm::enumerate(buffers)) {
    int64_t size = cast<MemRefType>(buffer.getType()).getNumElements();
    auto type = MemRefType::get({size}, b.getI32Type());
    shadows[buffer] = {int64_t(number), size, memref::AllocOp::create(b, loc, type),
                       memref::AllocOp::create(b, loc, type),
                       memref::AllocOp::create(b, loc, type)};
  }
  reported = memref::AllocOp::create(b, loc, MemRefType::get({numSites}, b.getI1Type()));
  Value no = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
  for (int64_t site = 0; site < numSites; ++site)
    memref::StoreOp::create(b, loc, no, reported, ValueRange{index(b, loc, site)});
}

void RaceChecker::resetInterval(OpBuilder &b, Location loc) {
  for (auto &[buffer, shadow] : shadows) {
    fill(b, loc, shadow.writer, shadow.size, kNoThread);
    fill(b, loc, shadow.readMin, shadow.size, kNoReader);
    fill(b, loc, shadow.readMax, shadow.size, kNoThread);
  }
}

void RaceChecker::deallocate(OpBuilder &b, Location loc) {
  for (auto &[buffer, shadow] : shadows)
    for (Value v : {shadow.writer, shadow.readMin, shadow.readMax})
      memref::DeallocOp::create(b, loc, v);
  memref::DeallocOp::create(b, loc, reported);
}

void RaceChecker::instrument(Operation *access, Operation *original, int64_t site,
                             Value thread, Value workgroup) {
  const Shadow &shadow = shadows.at(getAccessedMemRef(access));
  bool isWrite = isa<memref::StoreOp, vector::StoreOp>(access);
  Location loc = access->getLoc();
  OpBuilder b(access);
  auto [first, count] = accessedRange(b, loc, access);
  Value me = arith::IndexCastOp::create(b, loc, b.getI32Type(), thread);
  Value none = i32(b, loc, kNoThread);
  using P = arith::CmpIPredicate;
  // Per element: (kind, other thread, element) of the last conflict found.
  auto loop = scf::ForOp::create(
      b, loc, first, arith::AddIOp::create(b, loc, first, index(b, loc, count)),
      index(b, loc, 1), ValueRange{i32(b, loc, kNoRace), none, index(b, loc, 0)},
      [&](OpBuilder &nb, Location nl, Value e, ValueRange found) {
        auto load = [&](Value buffer) {
          return memref::LoadOp::create(nb, nl, buffer, ValueRange{e}).getResult();
        };
        auto select = [&](Value c, Value x, Value y) {
          return arith::SelectOp::create(nb, nl, c, x, y).getResult();
        };
        Value writer = load(shadow.writer);
        Value readMin = load(shadow.readMin), readMax = load(shadow.readMax);
        Value otherWriter = arith::AndIOp::create(nb, nl, cmp(nb, nl, P::ne, writer, none),
                                                  cmp(nb, nl, P::ne, writer, me));
        Value kind = found[0], other = found[1], element = found[2];
        if (!isWrite) {
          kind = select(otherWriter, i32(nb, nl, kReadAfterWrite), kind);
          other = select(otherWriter, writer, other);
          element = select(otherWriter, e, element);
          memref::StoreOp::create(nb, nl, arith::MinSIOp::create(nb, nl, readMin, me),
                                  shadow.readMin, ValueRange{e});
          memref::StoreOp::create(nb, nl, arith::MaxSIOp::create(nb, nl, readMax, me),
                                  shadow.readMax, ValueRange{e});
        } else {
          // Some thread read it (readMax set) and not only this one (min or max differs).
          Value otherReader = arith::AndIOp::create(
              nb, nl, cmp(nb, nl, P::ne, readMax, none),
              arith::OrIOp::create(nb, nl, cmp(nb, nl, P::ne, readMin, me),
                                   cmp(nb, nl, P::ne, readMax, me)));
          Value reader = select(cmp(nb, nl, P::ne, readMin, me), readMin, readMax);
          Value conflict = arith::OrIOp::create(nb, nl, otherWriter, otherReader);
          kind = select(otherWriter, i32(nb, nl, kWriteAfterWrite),
                        select(otherReader, i32(nb, nl, kWriteAfterRead), kind));
          other = select(otherWriter, writer, select(otherReader, reader, other));
          element = select(conflict, e, element);
          memref::StoreOp::create(nb, nl, me, shadow.writer, ValueRange{e});
        }
        scf::YieldOp::create(nb, nl, ValueRange{kind, other, element});
      });
  Value kind = loop.getResult(0);
  Value race = cmp(b, loc, P::ne, kind, i32(b, loc, kNoRace));
  auto ifRace = scf::IfOp::create(b, loc, race, /*withElseRegion=*/false);
  b.setInsertionPointToStart(ifRace.thenBlock());
  Value siteIndex = index(b, loc, site);
  Value done = memref::LoadOp::create(b, loc, reported, ValueRange{siteIndex});
  auto ifFirst = scf::IfOp::create(
      b, loc, arith::XOrIOp::create(b, loc, done,
                                    arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1)),
      /*withElseRegion=*/false);
  b.setInsertionPointToStart(ifFirst.thenBlock());
  printRace(b, loc, original, site, shadow, isWrite, kind, thread, workgroup,
            loop.getResult(2), loop.getResult(1));
  memref::StoreOp::create(b, loc, arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1),
                          reported, ValueRange{siteIndex});
}

/// One line: "RACE <kind> in @kernel: thread T of workgroup W <reads|writes> element E of
/// workgroup buffer B, which thread O <wrote|read> in this barrier interval (access #N,
/// <op>, at <loc>)".
void RaceChecker::printRace(OpBuilder &b, Location loc, Operation *original, int64_t site,
                            const Shadow &shadow, bool isWrite, Value kind, Value thread,
                            Value workgroup, Value element, Value other) {
  auto str = [&](const std::string &text) { vector::PrintOp::create(b, loc, text); };
  auto num = [&](Value v) {
    vector::PrintOp::create(b, loc, v, vector::PrintPunctuation::NoPunctuation);
  };
  // The kind decides two words; an scf.if picks them for writes (WAR or WAW).
  auto both = [&](StringRef whenWaw, StringRef otherwise) {
    if (!isWrite)
      return str(otherwise.str());
    Value waw = cmp(b, loc, arith::CmpIPredicate::eq, kind, i32(b, loc, kWriteAfterWrite));
    auto pick = scf::IfOp::create(b, loc, waw, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(pick.thenBlock());
    str(whenWaw.str());
    b.setInsertionPointToStart(pick.elseBlock());
    str(otherwise.str());
  };
  std::string where;
  llvm::raw_string_ostream os(where);
  os << " in this barrier interval (access #" << site << ", " << original->getName()
     << ", at " << original->getLoc() << ")";
  str("RACE ");
  both("write-after-write", isWrite ? "write-after-read" : "read-after-write");
  str(" in @" + kernelName + ": thread ");
  num(thread);
  str(" of workgroup ");
  num(workgroup);
  str(isWrite ? " writes element " : " reads element ");
  num(element);
  str(" of workgroup buffer " + std::to_string(shadow.index) + ", which thread ");
  num(other);
  both(" wrote", isWrite ? " read" : " wrote");
  str(where);
  vector::PrintOp::create(b, loc, vector::PrintPunctuation::NewLine);
}
