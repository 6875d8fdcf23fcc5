// Where the AMDGPU linker comes from (the chips themselves: Chips.h).
#ifndef DSV4_TARGET_TOOLKIT_H
#define DSV4_TARGET_TOOLKIT_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::dsv4 {

/// The folder that must hold `llvm/bin/ld.lld` (a ROCm tree's layout, which upstream's
/// gpu-module-to-binary expects too; dsv4-link-hsaco runs it): `option` if set, else $DSV4_TOOLKIT, else `<prefix>/lib/dsv4/toolkit` beside an
/// installed dsv4-opt, else the build's own `toolkit/`; both are linked to lld-22 by CMake.
std::string resolveToolkit(llvm::StringRef option);

/// The linker inside a toolkit folder.
std::string linkerPath(llvm::StringRef toolkit);

} // namespace mlir::dsv4

#endif // DSV4_TARGET_TOOLKIT_H
