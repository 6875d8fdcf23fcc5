// Manifest.h - the manifest's format tag and keys as C++ constants, for the compiler's writer
// and the runtime's reader alike (plain C++17, no LLVM).
#ifndef DSV4_ABI_MANIFEST_H
#define DSV4_ABI_MANIFEST_H

namespace dsv4_abi {

/// The value of the "format" key; a reader refuses any other.
inline constexpr char kManifestFormat[] = "dsv4-manifest-1";

#define DSV4_MANIFEST_KEY(Id, key) inline constexpr char k##Id##Key[] = #key;
#include "dsv4/ABI/ManifestKeys.def"

} // namespace dsv4_abi

#endif // DSV4_ABI_MANIFEST_H
