// Toolkit (linker) lookup and the list of chips dsv4 targets.
#include "dsv4/Target/Toolkit.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"

#include <cstdlib>

using namespace mlir;

std::string dsv4::resolveToolkit(llvm::StringRef option) {
  if (!option.empty())
    return option.str();
  if (const char *fromEnv = std::getenv("DSV4_TOOLKIT"); fromEnv && *fromEnv)
    return fromEnv;
  return DSV4_DEFAULT_TOOLKIT;
}

std::string dsv4::linkerPath(llvm::StringRef toolkit) {
  llvm::SmallString<256> path(toolkit);
  llvm::sys::path::append(path, "llvm", "bin", "ld.lld");
  return std::string(path);
}

bool dsv4::isKnownAmdChip(llvm::StringRef chip) {
  return chip == "gfx942" || chip == "gfx950";
}

bool dsv4::isKnownNvidiaChip(llvm::StringRef chip) {
  unsigned version = 0;
  return chip.consume_front("sm_") && !chip.getAsInteger(10, version) && version >= 70;
}
