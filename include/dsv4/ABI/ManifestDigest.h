/* ManifestDigest.h - the digest that ties a code object's embedded manifest to the compiler's
 * output: dsv4-embed-manifest stores it beside the manifest, the runtime refuses a manifest whose
 * bytes do not give it back (docs/ABI.md). Plain C, so the compiler, the runtime and the C test
 * programs compute it with the same code (test inputs written in Python compute it themselves).
 *
 * It is a checksum, not a signature: it catches a manifest edited or corrupted after
 * compilation (a same-size edit of head_dim, ratio or the layout would otherwise load), not a
 * forger who rewrites both globals. */
#ifndef DSV4_ABI_MANIFESTDIGEST_H
#define DSV4_ABI_MANIFESTDIGEST_H

#include <stddef.h>
#include <stdint.h>

/* The constant global beside the manifest's: DSV4_MANIFEST_DIGEST_BYTES bytes, the digest of
 * the manifest text (the bytes before its NUL), least significant byte first. */
#define DSV4_MANIFEST_DIGEST_SYMBOL "dsv4_manifest_digest"
#define DSV4_MANIFEST_DIGEST_BYTES 8

/* 64-bit FNV-1a of `length` bytes at `text`. */
static inline uint64_t dsv4_manifest_digest(const char *text, size_t length) {
  uint64_t digest = 0xcbf29ce484222325ull; /* the FNV-1a offset basis */
  for (size_t i = 0; i < length; ++i) {
    digest ^= (unsigned char)text[i];
    digest *= 0x100000001b3ull; /* the FNV 64-bit prime */
  }
  return digest;
}

/* The global's bytes for `digest`, and back. */
static inline void dsv4_manifest_digest_to_bytes(uint64_t digest,
                                                 unsigned char bytes[DSV4_MANIFEST_DIGEST_BYTES]) {
  for (int i = 0; i < DSV4_MANIFEST_DIGEST_BYTES; ++i)
    bytes[i] = (unsigned char)(digest >> (8 * i));
}
static inline uint64_t
dsv4_manifest_digest_from_bytes(const unsigned char bytes[DSV4_MANIFEST_DIGEST_BYTES]) {
  uint64_t digest = 0;
  for (int i = 0; i < DSV4_MANIFEST_DIGEST_BYTES; ++i)
    digest |= (uint64_t)bytes[i] << (8 * i);
  return digest;
}

#endif /* DSV4_ABI_MANIFESTDIGEST_H */
