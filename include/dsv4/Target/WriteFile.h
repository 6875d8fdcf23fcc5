// Writing a file whole, for the passes that write code objects and linker inputs.
#ifndef DSV4_TARGET_WRITEFILE_H
#define DSV4_TARGET_WRITEFILE_H

#include "llvm/ADT/StringRef.h"

#include <system_error>

namespace mlir::dsv4 {

/// Writes `contents` to `path`. On an error (a full disk, a write past the file size limit)
/// the partial file is removed and the error returned: a raw_fd_ostream left with the error
/// would abort the compiler in its destructor ("LLVM ERROR: IO failure on output stream").
std::error_code writeFileWhole(llvm::StringRef path, llvm::StringRef contents);

} // namespace mlir::dsv4

#endif // DSV4_TARGET_WRITEFILE_H
