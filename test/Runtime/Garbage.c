/* Garbage.c - dsv4-runtime-garbage: hostile manifests must fail, never crash.
 *
 * Usage: dsv4-runtime-garbage MANIFEST.json
 * Every proper prefix of the manifest and a fixed pseudo-random set of byte
 * corruptions of it go through the loader (code objects are HIP's to read).
 * Each copy is its own exact-size allocation, so a sanitizer or guard page
 * sees any read past the end. Prints counts; a crash fails the test. */
#include "ReadFile.h"
#include "dsv4/Runtime/dsv4_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rngState = 12345;
static uint32_t nextRandom(void) {
  rngState = rngState * 1664525u + 1013904223u;
  return rngState >> 8;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MANIFEST.json\n", argv[0]);
    return 2;
  }
  size_t jsonSize;
  unsigned char *json = (unsigned char *)readFile(argv[1], &jsonSize);
  if (!json) {
    printf("error: cannot read inputs\n");
    return 1;
  }

  const int flips = 20000;
  /* Any proper prefix of a JSON object is invalid JSON (the trailing
   * newline is dropped first: without it the object is still complete). */
  while (jsonSize > 0 && (json[jsonSize - 1] == '\n' || json[jsonSize - 1] == ' '))
    json[--jsonSize] = '\0';
  int badManifest = 0;
  const char image[] = "not a code object";
  for (size_t n = 0; n < jsonSize; ++n) {
    char *copy = malloc(n + 1);
    memcpy(copy, json, n);
    copy[n] = '\0';
    dsv4_module *mod = NULL;
    if (dsv4_module_load_data(image, sizeof(image), copy, &mod) == DSV4_ERR_BAD_MANIFEST)
      ++badManifest;
    dsv4_module_unload(mod);
    free(copy);
  }
  printf("manifest prefixes: %zu tried, %d rejected as DSV4_ERR_BAD_MANIFEST\n",
         jsonSize, badManifest);

  for (int i = 0; i < flips; ++i) {
    char *copy = malloc(jsonSize + 1);
    memcpy(copy, json, jsonSize + 1);
    copy[nextRandom() % jsonSize] = (char)(nextRandom() | 1); /* never NUL */
    dsv4_module *mod = NULL;
    (void)dsv4_module_load_data(image, sizeof(image), copy, &mod);
    dsv4_module_unload(mod);
    free(copy);
  }
  printf("manifest corruptions: %d tried, no crash\n", flips);
  free(json);
  return 0;
}
