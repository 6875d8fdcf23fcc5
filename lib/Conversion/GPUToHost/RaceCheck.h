// Race checking of workgroup memory while convert-gpu-to-host runs a workgroup thread by
// thread: per element, the last writer and the range of readers since the last barrier.
#ifndef DSV4_CONVERSION_GPUTOHOST_RACECHECK_H
#define DSV4_CONVERSION_GPUTOHOST_RACECHECK_H

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::dsv4 {

/// The accesses the emulation checks: memref.load/store and vector.load/store of 1-D vectors.
/// Returns the memref `op` reads or writes through, or null for any other op.
Value getAccessedMemRef(Operation *op);

class RaceChecker {
public:
  /// `kernelName` and the access sites (numbered in the kernel's walk order) name races.
  RaceChecker(StringRef kernelName, int64_t numSites)
      : kernelName(kernelName.str()), numSites(numSites) {}

  /// Allocates the shadow of each host workgroup buffer and the "already reported" flags.
  void allocate(OpBuilder &b, Location loc, ArrayRef<Value> buffers);
  /// Starts a barrier interval: no element has been written or read in it.
  void resetInterval(OpBuilder &b, Location loc);
  void deallocate(OpBuilder &b, Location loc);

  /// Checks and records the access `access` (a clone of the kernel's `original`, access site
  /// `site`) by thread `thread` of workgroup `workgroup`, before it runs.
  void instrument(Operation *access, Operation *original, int64_t site, Value thread,
                  Value workgroup);

private:
  struct Shadow {
    int64_t index;      // the buffer's number, in attribution order
    int64_t size;       // elements
    Value writer;       // i32 thread that wrote the element in this interval, or -1
    Value readMin;      // i32 smallest thread that read it in this interval, or INT32_MAX
    Value readMax;      // i32 largest thread that read it in this interval, or -1
  };
  void printRace(OpBuilder &b, Location loc, Operation *original, int64_t site,
                 const Shadow &shadow, bool isWrite, Value kind, Value thread,
                 Value workgroup, Value element, Value other);

  std::string kernelName;
  int64_t numSites;
  llvm::DenseMap<Value, Shadow> shadows;
  Value reported; // i1 per access site: its first race is printed, later ones are not
};

} // namespace mlir::dsv4

#endif // DSV4_CONVERSION_GPUTOHOST_RACECHECK_H
