// The chips dsv4 compiles for and what each one's code may use: one table (lib/Target/Chips.cpp)
// that the planner, the lowerings, the target attachment and dsv4-gen all read.
#ifndef DSV4_TARGET_CHIPS_H
#define DSV4_TARGET_CHIPS_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace mlir::dsv4 {

/// A chip dsv4 compiles and tests for.
struct Chip {
  llvm::StringLiteral name;
  bool amd; // ROCDL/HSACO; otherwise NVVM/PTX
  /// The most static workgroup (LDS / shared) memory a kernel may declare: the loader
  /// rejects a code object above it.
  int64_t maxWorkgroupMemoryBytes;
  /// The FP8 type of the chip's conversion instructions: f8E4M3FNUZ (gfx942) or f8E4M3FN.
  bool fnuzFp8;
  /// Whether the chip converts f32 to e2m1 with an E8M0 scale in one instruction (gfx950:
  /// v_cvt_scalef32_pk_fp4_f32); elsewhere the rounding is written out.
  bool scaledFp4;
};

/// The chip named `name`, or nullptr when dsv4 does not support it.
const Chip *lookupChip(llvm::StringRef name);
/// Why `name` is no chip to compile for ("no chip given: ..." or "unknown chip ...", naming
/// the supported ones); empty when it is one. No chip is a default: the wrong one (gfx942's
/// FP8 type on a gfx950) would load nowhere or compute wrong bytes.
std::string chipProblem(llvm::StringRef name);
/// The smallest workgroup-memory limit of the supported chips: what a kernel compiled with
/// default options may use so that it loads everywhere.
int64_t minWorkgroupMemoryBytes();
/// The supported chips for messages: "gfx942, gfx950, sm_90".
std::string supportedChips();

/// Whether every target takes `name` as a kernel's symbol and the writer as a file name
/// (`<name>.<chip>.<ext>`): ASCII letters, digits and '_', not starting with a digit (PTX
/// rejects '-', ' ' and non-ASCII; '/' or '..' would leave the output folder), and not one
/// of the names PTX reserves: '_' alone (an identifier starting with '_' needs a second
/// character) and its predefined constant WARP_SZ. ptxas rejects both.
bool isValidKernelName(llvm::StringRef name);
/// The rule above for messages: "use ASCII letters, ...".
extern const char kKernelNameRule[];

} // namespace mlir::dsv4

#endif // DSV4_TARGET_CHIPS_H
