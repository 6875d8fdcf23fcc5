/* Garbage.c - dsv4-runtime-garbage: hostile manifests must fail, never crash.
 *
 * Usage: dsv4-runtime-garbage STAND-IN.ptx MANIFEST.json
 * Every proper prefix of the manifest and a fixed pseudo-random set of byte
 * corruptions of it are embedded in the PTX stand-in (as dsv4-embed-manifest
 * embeds a manifest, with the digest of what is embedded, so that they reach
 * the parser) and go through the loader with the fake CUDA driver.
 * Prints counts; a crash fails the test. */
#include "ReadFile.h"
#include "dsv4/ABI/ManifestDigest.h"
#include "dsv4/Runtime/dsv4_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rngState = 12345;
static uint32_t nextRandom(void) {
  rngState = rngState * 1664525u + 1013904223u;
  return rngState >> 8;
}

static char *ptx;

/* Loads the PTX stand-in with the first `n` bytes of `manifest` embedded (then a NUL) and
 * their digest. */
static dsv4_status loadEmbedded(const char *manifest, size_t n) {
  size_t size = strlen(ptx) + 160 + 5 * (n + 1 + DSV4_MANIFEST_DIGEST_BYTES);
  char *image = malloc(size), *at = image;
  at += sprintf(at, "%s\n.visible .global .align 1 .b8 dsv4_manifest[%zu] = {", ptx, n + 1);
  for (size_t i = 0; i < n; ++i)
    at += sprintf(at, "%u, ", (unsigned char)manifest[i]);
  at += sprintf(at, "0};\n.visible .global .align 1 .b8 %s[%d] = {", DSV4_MANIFEST_DIGEST_SYMBOL,
                DSV4_MANIFEST_DIGEST_BYTES);
  unsigned char digest[DSV4_MANIFEST_DIGEST_BYTES];
  dsv4_manifest_digest_to_bytes(dsv4_manifest_digest(manifest, n), digest);
  for (int i = 0; i < DSV4_MANIFEST_DIGEST_BYTES; ++i)
    at += sprintf(at, i ? ", %u" : "%u", digest[i]);
  sprintf(at, "};\n");
  dsv4_module *mod = NULL;
  dsv4_status st = dsv4_module_load_data(image, strlen(image) + 1, &mod);
  dsv4_module_unload(mod);
  free(image);
  return st;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s STAND-IN.ptx MANIFEST.json\n", argv[0]);
    return 2;
  }
  size_t jsonSize, ptxSize;
  ptx = readFile(argv[1], &ptxSize);
  unsigned char *json = (unsigned char *)readFile(argv[2], &jsonSize);
  if (!json || !ptx) {
    printf("error: cannot read inputs\n");
    return 1;
  }

  const int flips = 20000;
  /* Any proper prefix of a JSON object is invalid JSON (the trailing
   * newline is dropped first: without it the object is still complete). */
  while (jsonSize > 0 && (json[jsonSize - 1] == '\n' || json[jsonSize - 1] == ' '))
    json[--jsonSize] = '\0';
  int badManifest = 0;
  for (size_t n = 0; n < jsonSize; ++n)
    badManifest += loadEmbedded((const char *)json, n) == DSV4_ERR_BAD_MANIFEST;
  printf("manifest prefixes: %zu tried, %d rejected as DSV4_ERR_BAD_MANIFEST\n",
         jsonSize, badManifest);

  for (int i = 0; i < flips; ++i) {
    char *copy = malloc(jsonSize + 1);
    memcpy(copy, json, jsonSize + 1);
    copy[nextRandom() % jsonSize] = (char)(nextRandom() | 1); /* never NUL */
    (void)loadEmbedded(copy, jsonSize);
    free(copy);
  }
  printf("manifest corruptions: %d tried, no crash\n", flips);
  free(json);
  free(ptx);
  return 0;
}
