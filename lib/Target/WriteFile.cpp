// See include/dsv4/Target/WriteFile.h.
#include "dsv4/Target/WriteFile.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

std::error_code mlir::dsv4::writeFileWhole(llvm::StringRef path, llvm::StringRef contents) {
  std::error_code error;
  llvm::raw_fd_ostream file(path, error);
  if (error)
    return error;
  file << contents;
  file.close();
  if (!file.has_error())
    return {};
  error = file.error();
  file.clear_error();
  llvm::sys::fs::remove(path);
  return error;
}
