/* ReadFile.h - the test programs' one file reader: the whole file in a fresh
 * allocation with a NUL after it (so JSON text can be used as a string), or
 * NULL; *size is the byte count without the NUL. */
#ifndef DSV4_TEST_RUNTIME_READFILE_H
#define DSV4_TEST_RUNTIME_READFILE_H

#include <stdio.h>
#include <stdlib.h>

static char *readFile(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *data = malloc(n > 0 ? (size_t)n + 1 : 1);
  *size = data && n > 0 ? fread(data, 1, (size_t)n, f) : 0;
  if (data)
    data[*size] = '\0';
  fclose(f);
  return data;
}

#endif
