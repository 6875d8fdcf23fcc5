/* LoaderFuzz.c - dsv4-loader-fuzz: a mutation fuzzer for the shim's loader and launch checks.
 *
 * Usage: dsv4-loader-fuzz ITERATIONS SEED OBJECT [OBJECT ...]
 * Each iteration takes one code object and mutates it: its bytes (flips, truncation,
 * insertions) or, in place, the manifest embedded in it (edge values in place of JSON
 * numbers, dropped keys, byte flips; the text keeps its length, padded with spaces, so the
 * object stays loadable), loads it with dsv4_module_load_data, reads every getter, and makes launches whose arguments are mutated
 * from a valid set. Uses only the public C API (dsv4_runtime.h) so it outlives any rewrite
 * of the shim. Every buffer is an exact-size allocation, so a sanitizer sees any overrun. A
 * crash or sanitizer report fails the test; the counts printed show the paths were reached. */
#include "ReadFile.h"
#include "dsv4/Runtime/dsv4_runtime.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rngState;
static uint32_t nextRandom(void) {
  rngState = rngState * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(rngState >> 33);
}

typedef struct Blob {
  unsigned char *data;
  size_t size;
} Blob;

static const char *const kJsonEdges[] = {
    "0", "-1", "1", "3", "4096", "2147483647", "2147483648", "-2147483649",
    "4294967296", "9223372036854775807", "18446744073709551616", "1e-50", "1e308", "1e999",
    "-0.0", "0.5", "nan", "\"\"", "\"x\"", "true", "null", "[]", "{}", "\"../x\""};
static const int64_t kIntEdges[] = {0, -1, 1, 3, 4, 16, 17, 64, 128, 512, 4095,
                                    INT32_MAX, (int64_t)INT32_MAX + 1, INT32_MIN,
                                    (int64_t)INT32_MIN - 1, INT64_MAX, INT64_MIN};

static Blob copyOf(const Blob *b) {
  Blob c = {malloc(b->size + 1), b->size};
  memcpy(c.data, b->data, b->size);
  c.data[b->size] = '\0';
  return c;
}

/* Replaces [at, at+len) of b by `with` (a fresh exact-size buffer, NUL after the end). */
static void splice(Blob *b, size_t at, size_t len, const char *with, size_t withLen) {
  Blob out = {malloc(b->size - len + withLen + 1), b->size - len + withLen};
  memcpy(out.data, b->data, at);
  memcpy(out.data + at, with, withLen);
  memcpy(out.data + at + withLen, b->data + at + len, b->size - at - len);
  out.data[out.size] = '\0';
  free(b->data);
  *b = out;
}

static void mutateBytes(Blob *b) {
  if (b->size == 0)
    return;
  switch (nextRandom() % 4) {
  case 0: /* a few bytes changed */
    for (int i = 1 + nextRandom() % 4; i > 0; --i)
      b->data[nextRandom() % b->size] = (unsigned char)(nextRandom() | 1);
    break;
  case 1: /* truncated */
    b->size = nextRandom() % b->size;
    b->data[b->size] = '\0';
    break;
  case 2: { /* a range zeroed (NUL inside a manifest included) */
    size_t at = nextRandom() % b->size, len = 1 + nextRandom() % 64;
    memset(b->data + at, 0, at + len > b->size ? b->size - at : len);
    break;
  }
  default: { /* bytes inserted */
    char junk[8];
    for (int i = 0; i < 8; ++i)
      junk[i] = (char)(nextRandom() | 1);
    splice(b, nextRandom() % b->size, 0, junk, 1 + nextRandom() % 8);
  }
  }
}

/* A JSON value (number, string, true/false/null) replaced by an edge value, or one
 * "key": value member dropped. */
static void mutateJson(Blob *b) {
  size_t colons[256], n = 0;
  for (size_t i = 0; i < b->size && n < 256; ++i)
    if (b->data[i] == ':')
      colons[n++] = i;
  if (n == 0)
    return mutateBytes(b);
  size_t start = colons[nextRandom() % n] + 1, end = start;
  while (end < b->size && b->data[end] == ' ')
    ++end;
  if (end < b->size && (b->data[end] == '[' || b->data[end] == '{'))
    return mutateBytes(b);
  if (end < b->size && b->data[end] == '"')
    for (++end; end < b->size && b->data[end] != '"'; ++end)
      ;
  while (end < b->size && b->data[end] != ',' && b->data[end] != '\n' && b->data[end] != '}')
    ++end;
  if (nextRandom() % 4 == 0) { /* drop the member: back to the key's opening quote */
    size_t key = start - 1;
    while (key > 0 && b->data[key - 1] != '\n' && b->data[key - 1] != '{')
      --key;
    if (end < b->size && b->data[end] == ',')
      ++end;
    return splice(b, key, end - key, "", 0);
  }
  const char *edge = kJsonEdges[nextRandom() % (sizeof kJsonEdges / sizeof *kJsonEdges)];
  splice(b, start, end - start, edge, strlen(edge));
}

static void *alignedBuffer(size_t bytes) { return aligned_alloc(16, (bytes + 15) / 16 * 16); }

/* Mutates the manifest embedded as plain text in `object` (an HSACO's .rodata) in place. */
static void mutateEmbeddedManifest(Blob *object) {
  static const char start[] = "{\"format\":";
  unsigned char *at = NULL;
  for (size_t i = 0; !at && i + sizeof start - 1 <= object->size; ++i)
    if (!memcmp(object->data + i, start, sizeof start - 1))
      at = object->data + i;
  if (!at)
    return mutateBytes(object);
  size_t length = strnlen((const char *)at, object->size - (size_t)(at - object->data));
  Blob manifest = {malloc(length + 1), length};
  memcpy(manifest.data, at, length);
  manifest.data[length] = '\0';
  (nextRandom() % 3 ? mutateJson : mutateBytes)(&manifest);
  memset(at, ' ', length);
  memcpy(at, manifest.data, manifest.size < length ? manifest.size : length);
  free(manifest.data);
}

/* Launches with a valid argument set, then with one field changed to an edge value. */
static int fuzzLaunches(dsv4_module *mod) {
  int launched = 0;
  int64_t headDim = dsv4_module_head_dim(mod), ropeDim = dsv4_module_rope_dim(mod);
  if (headDim <= 0 || headDim > 4096 || ropeDim <= 0 || ropeDim > headDim)
    return 0;
  enum { kRows = 4, kPositions = 8 };
  int32_t kvType = dsv4_module_kv_dtype(mod), weightType = dsv4_module_weight_dtype(mod);
  void *kv = alignedBuffer((size_t)kRows * headDim * 4); /* f32, the widest kv type */
  void *weight = alignedBuffer((size_t)headDim * 4);
  void *freqs = alignedBuffer((size_t)kPositions * ropeDim * 4);
  int32_t *handle = alignedBuffer(kRows * 4 * sizeof(int32_t));
  memset(handle, 0, kRows * 4 * sizeof(int32_t));
  for (int round = 0; round < 4; ++round) {
    dsv4_launch_args a = {0};
    a.kv = kv, a.kv_dtype = kvType, a.num_rows = kRows, a.kv_row_stride = headDim;
    a.weight = weight, a.weight_dtype = weightType, a.weight_len = headDim;
    a.eps = dsv4_module_eps(mod);
    a.freqs = freqs, a.num_positions = kPositions, a.freqs_row_stride = ropeDim;
    a.freqs_width = ropeDim, a.handle = handle;
    a.handle_kind = dsv4_module_handle_kind(mod), a.num_items = kRows, a.plan_row_stride = 4;
    a.head_dim = headDim;
    if (round > 0) {
      int64_t edge = kIntEdges[nextRandom() % (sizeof kIntEdges / sizeof *kIntEdges)];
      switch (nextRandom() % 12) {
      case 0: a.num_rows = edge; break;
      case 1: a.kv_row_stride = edge; break;
      case 2: a.weight_len = edge; break;
      case 3: a.num_positions = edge; break;
      case 4: a.freqs_row_stride = edge; break;
      case 5: a.freqs_width = edge; break;
      case 6: a.num_items = edge; break;
      case 7: a.plan_row_stride = edge; break;
      case 8: a.head_dim = edge; break;
      case 9: a.kv_dtype = (int32_t)edge; a.handle_kind = (int32_t)(edge >> 1); break;
      case 10: a.eps = (float)edge * 1e-30f; break;
      default: /* a null or misaligned buffer */
        if (nextRandom() % 2)
          a.kv = NULL;
        else
          a.freqs = (char *)freqs + 4 * (1 + nextRandom() % 3);
      }
    }
    launched += dsv4_launch(mod, &a, NULL) == DSV4_OK;
  }
  free(kv), free(weight), free(freqs), free(handle);
  return launched;
}

/* Every getter, so a half-initialized module is read in full. */
static void readGetters(const dsv4_module *mod) {
  volatile size_t sink = strlen(dsv4_module_kernel_name(mod)) + strlen(dsv4_module_target(mod)) +
                         strlen(dsv4_module_chip(mod)) + strlen(dsv4_module_mode(mod));
  sink += (size_t)dsv4_module_workgroup_size(mod) + (size_t)dsv4_module_rows_per_workgroup(mod);
  sink += (size_t)dsv4_module_rotate(mod);
  (void)sink;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s ITERATIONS SEED OBJECT [OBJECT ...]\n", argv[0]);
    return 2;
  }
  long iterations = strtol(argv[1], NULL, 10);
  rngState = strtoull(argv[2], NULL, 10);
  int count = argc - 3;
  Blob *objects = calloc(count, sizeof(Blob));
  for (int p = 0; p < count; ++p) {
    objects[p].data = (unsigned char *)readFile(argv[3 + p], &objects[p].size);
    if (!objects[p].data) {
      fprintf(stderr, "error: cannot read %s\n", argv[3 + p]);
      return 1;
    }
  }
  long loaded = 0, launched = 0, originalsLoaded = 0;
  for (long i = 0; i < iterations; ++i) {
    int p = i < count ? (int)i : (int)(nextRandom() % count);
    Blob object = copyOf(&objects[p]);
    if (i >= count) /* the first `count` inputs are the objects as built */
      (nextRandom() % 2 ? mutateBytes : mutateEmbeddedManifest)(&object);
    dsv4_module *mod = NULL;
    if (dsv4_module_load_data(object.data, object.size, &mod) == DSV4_OK) {
      ++loaded;
      originalsLoaded += i < count;
      readGetters(mod);
      launched += fuzzLaunches(mod);
    } else if (!dsv4_last_error()[0]) {
      fprintf(stderr, "error: a failed load left no message (iteration %ld)\n", i);
      return 1;
    }
    dsv4_module_unload(mod);
    free(object.data);
  }
  printf("%ld inputs: %ld loaded (%ld of %d unmutated objects), %ld launches accepted\n",
         iterations, loaded, originalsLoaded, count, launched);
  for (int p = 0; p < count; ++p)
    free(objects[p].data);
  free(objects);
  return 0;
}
