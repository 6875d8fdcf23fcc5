// Where the AMDGPU linker comes from, and the chips dsv4 can compile for.
#ifndef DSV4_TARGET_TOOLKIT_H
#define DSV4_TARGET_TOOLKIT_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::dsv4 {

/// The folder that must hold `llvm/bin/ld.lld` (the layout gpu-module-to-binary expects of
/// a ROCm tree): `option` if set, else $DSV4_TOOLKIT, else the build's own `toolkit/`, which
/// CMake links to lld-22.
std::string resolveToolkit(llvm::StringRef option);

/// The linker inside a toolkit folder.
std::string linkerPath(llvm::StringRef toolkit);

/// gfx942 / gfx950: AMD chips this back end is built and tested for.
bool isKnownAmdChip(llvm::StringRef chip);
/// sm_XY with XY >= 70: the NVIDIA twin (PTX).
bool isKnownNvidiaChip(llvm::StringRef chip);

} // namespace mlir::dsv4

#endif // DSV4_TARGET_TOOLKIT_H
