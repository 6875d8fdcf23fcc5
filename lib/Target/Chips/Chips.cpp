// The chips dsv4 targets, and the kernel-name rule every target's toolchain accepts.
#include "dsv4/Target/Chips.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;

namespace {
/// gfx942 and gfx950 (the AMD targets) and sm_90 (the NVIDIA twin the kernels are checked
/// on). Other NVIDIA chips are refused rather than guessed at: LLVM aborts on sm_XY it does
/// not know, and sm_100/sm_120 need a newer PTX ISA than the +ptx80 this back end emits.
constexpr dsv4::Chip kChips[] = {
    {"gfx942", /*amd=*/true, 64 * 1024, /*fnuzFp8=*/true, /*scaledFp4=*/false},
    {"gfx950", /*amd=*/true, 160 * 1024, /*fnuzFp8=*/false, /*scaledFp4=*/true},
    // static __shared__; more needs a dynamic opt-in. No FP4 conversion before sm_100a.
    {"sm_90", /*amd=*/false, 48 * 1024, /*fnuzFp8=*/false, /*scaledFp4=*/false},
};
} // namespace

const dsv4::Chip *dsv4::lookupChip(llvm::StringRef name) {
  for (const dsv4::Chip &chip : kChips)
    if (chip.name == name)
      return &chip;
  return nullptr;
}

int64_t dsv4::minWorkgroupMemoryBytes() {
  return llvm::min_element(kChips, [](const dsv4::Chip &a, const dsv4::Chip &b) {
           return a.maxWorkgroupMemoryBytes < b.maxWorkgroupMemoryBytes;
         })->maxWorkgroupMemoryBytes;
}

std::string dsv4::supportedChips() {
  return llvm::join(
      llvm::map_range(kChips, [](const dsv4::Chip &chip) { return chip.name; }), ", ");
}

std::string dsv4::chipProblem(llvm::StringRef name) {
  if (name.empty())
    return "no chip given: pass chip=, one of " + supportedChips();
  if (!lookupChip(name))
    return "unknown chip '" + name.str() + "': dsv4 compiles for " + supportedChips();
  return "";
}

const char dsv4::kKernelNameRule[] =
    "use ASCII letters, digits and '_', not starting with a digit, other than '_' alone and "
    "PTX's reserved WARP_SZ";

bool dsv4::isValidKernelName(llvm::StringRef name) {
  bool symbol = !name.empty() && (llvm::isAlpha(name.front()) || name.front() == '_') &&
                llvm::all_of(name, [](char c) { return llvm::isAlnum(c) || c == '_'; });
  return symbol && name != "_" && name != "WARP_SZ";
}
