// Toolkit (linker) lookup.
#include "dsv4/Target/Toolkit.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstdlib>

using namespace mlir;

/// `<prefix>/lib/dsv4/toolkit` beside an installed dsv4-opt (`<prefix>/bin`), which
/// `cmake --install` lays out; empty for a dsv4-opt run from its build tree.
static std::string installedToolkit() {
  std::string executable = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  llvm::SmallString<256> path(llvm::sys::path::parent_path(
      llvm::sys::path::parent_path(executable)));
  llvm::sys::path::append(path, "lib", "dsv4", "toolkit");
  return llvm::sys::fs::is_directory(path) ? std::string(path) : std::string();
}

std::string dsv4::resolveToolkit(llvm::StringRef option) {
  if (!option.empty())
    return option.str();
  if (const char *fromEnv = std::getenv("DSV4_TOOLKIT"); fromEnv && *fromEnv)
    return fromEnv;
  if (std::string installed = installedToolkit(); !installed.empty())
    return installed;
  return DSV4_DEFAULT_TOOLKIT;
}

std::string dsv4::linkerPath(llvm::StringRef toolkit) {
  llvm::SmallString<256> path(toolkit);
  llvm::sys::path::append(path, "llvm", "bin", "ld.lld");
  return std::string(path);
}
