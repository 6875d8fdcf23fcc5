/* Garbage.c - dsv4-runtime-garbage: hostile inputs must fail, never crash.
 *
 * Usage: dsv4-runtime-garbage FILE.hsaco MANIFEST.json
 * Every proper prefix of the code object and of the manifest, and a fixed
 * pseudo-random set of byte corruptions of each, go through the readers.
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

/* Reads every kernel's layout; counts layouts that break the invariant the
 * packer relies on (each argument inside the kernarg segment). */
static int checkLayouts(const unsigned char *image, size_t size, int *accepted) {
  static dsv4_kernarg_layout layout;
  int violations = 0;
  for (uint32_t k = 0; dsv4_hsaco_kernarg_layout(image, size, k, &layout) == DSV4_OK; ++k) {
    ++*accepted;
    for (uint32_t i = 0; i < layout.num_args; ++i)
      if ((uint64_t)layout.args[i].offset + layout.args[i].size > layout.segment_size)
        ++violations;
  }
  return violations;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s FILE.hsaco MANIFEST.json\n", argv[0]);
    return 2;
  }
  size_t hsacoSize, jsonSize;
  unsigned char *hsaco = (unsigned char *)readFile(argv[1], &hsacoSize);
  unsigned char *json = (unsigned char *)readFile(argv[2], &jsonSize);
  if (!hsaco || !json) {
    printf("error: cannot read inputs\n");
    return 1;
  }

  int accepted = 0, violations = 0;
  for (size_t n = 0; n < hsacoSize; ++n) {
    unsigned char *copy = malloc(n ? n : 1);
    memcpy(copy, hsaco, n);
    violations += checkLayouts(copy, n, &accepted);
    free(copy);
  }
  printf("hsaco prefixes: %zu tried, %d accepted, %d violations\n", hsacoSize,
         accepted, violations);

  accepted = violations = 0;
  const int flips = 20000;
  for (int i = 0; i < flips; ++i) {
    unsigned char *copy = malloc(hsacoSize);
    memcpy(copy, hsaco, hsacoSize);
    for (int j = 0; j < 1 + (int)(nextRandom() % 4); ++j)
      copy[nextRandom() % hsacoSize] = (unsigned char)nextRandom();
    violations += checkLayouts(copy, hsacoSize, &accepted);
    free(copy);
  }
  printf("hsaco corruptions: %d tried, %d violations\n", flips, violations);

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
  free(hsaco);
  free(json);
  return 0;
}
