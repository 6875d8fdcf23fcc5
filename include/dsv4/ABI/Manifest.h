// Manifest.h - the manifest's format tag and keys as C++ constants, for the compiler's writer
// and the runtime's reader alike (plain C++17, no LLVM).
#ifndef DSV4_ABI_MANIFEST_H
#define DSV4_ABI_MANIFEST_H

#include "dsv4/ABI/ManifestDigest.h"

namespace dsv4_abi {

/// The value of the "format" key; a reader refuses any other.
inline constexpr char kManifestFormat[] = "dsv4-manifest-1";

/// The constant global of every dsv4 code object that holds its manifest: the JSON text,
/// NUL-terminated, in the global address space, so the runtime reads it through
/// hipModuleGetGlobal / cuModuleGetGlobal from the object it loaded.
inline constexpr char kManifestSymbol[] = "dsv4_manifest";
/// The most bytes that global may have (a manifest is about 1 KB): the compiler refuses a
/// larger one, the runtime reads no more.
inline constexpr unsigned long kMaxManifestBytes = 64 * 1024;
/// The global beside it that holds the manifest's digest (ManifestDigest.h).
inline constexpr char kManifestDigestSymbol[] = DSV4_MANIFEST_DIGEST_SYMBOL;

#define DSV4_MANIFEST_KEY(Id, key) inline constexpr char k##Id##Key[] = #key;
#include "dsv4/ABI/ManifestKeys.def"

} // namespace dsv4_abi

#endif // DSV4_ABI_MANIFEST_H
