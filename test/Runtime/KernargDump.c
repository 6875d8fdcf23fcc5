/* KernargDump.c - dsv4-kernarg-dump: print an HSACO's kernel-argument layout.
 *
 * Usage: dsv4-kernarg-dump FILE.hsaco
 * Prints, per kernel, what dsv4_hsaco_kernarg_layout read from the code
 * object's NT_AMDGPU_METADATA note; on failure prints the status and the
 * shim's message and exits 1. */
#include "dsv4/Runtime/dsv4_runtime.h"

#include <stdio.h>
#include <stdlib.h>

static unsigned char *readAll(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  unsigned char *data = NULL;
  size_t cap = 0;
  *size = 0;
  if (!f)
    return NULL;
  for (;;) {
    if (*size == cap) {
      unsigned char *grown = realloc(data, cap = cap ? 2 * cap : 65536);
      if (!grown)
        break;
      data = grown;
    }
    size_t n = fread(data + *size, 1, cap - *size, f);
    if (n == 0)
      break;
    *size += n;
  }
  fclose(f);
  return data;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s FILE.hsaco\n", argv[0]);
    return 2;
  }
  size_t size;
  unsigned char *image = readAll(argv[1], &size);
  if (!image) {
    printf("error: cannot read '%s'\n", argv[1]);
    return 1;
  }
  static dsv4_kernarg_layout layout;
  dsv4_status st = DSV4_OK;
  uint32_t index = 0;
  for (;; ++index) {
    st = dsv4_hsaco_kernarg_layout(image, size, index, &layout);
    if (st != DSV4_OK)
      break;
    printf("kernel %u: %s symbol=%s target=%s\n", index, layout.name,
           layout.symbol, layout.target);
    printf("  kernarg_segment_size=%u kernarg_segment_align=%u args=%u\n",
           layout.segment_size, layout.segment_align, layout.num_args);
    for (uint32_t i = 0; i < layout.num_args; ++i)
      printf("  arg %u: offset=%u size=%u %s\n", i, layout.args[i].offset,
             layout.args[i].size, layout.args[i].value_kind);
  }
  free(image);
  /* Running past the last kernel is the normal end; anything else failed. */
  if (st == DSV4_ERR_KERNEL_NOT_FOUND && index > 0)
    return 0;
  printf("error: %s: %s\n", dsv4_status_name(st), dsv4_last_error());
  return 1;
}
