// Where the AMDGPU linker comes from, and the chips dsv4 can compile for.
#ifndef DSV4_TARGET_TOOLKIT_H
#define DSV4_TARGET_TOOLKIT_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace mlir::dsv4 {

/// The folder that must hold `llvm/bin/ld.lld` (a ROCm tree's layout, which upstream's
/// gpu-module-to-binary expects too; dsv4-link-hsaco runs it): `option` if set, else $DSV4_TOOLKIT, else `<prefix>/lib/dsv4/toolkit` beside an
/// installed dsv4-opt, else the build's own `toolkit/`; both are linked to lld-22 by CMake.
std::string resolveToolkit(llvm::StringRef option);

/// The linker inside a toolkit folder.
std::string linkerPath(llvm::StringRef toolkit);

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

#endif // DSV4_TARGET_TOOLKIT_H
