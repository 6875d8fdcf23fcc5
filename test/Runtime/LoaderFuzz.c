/* LoaderFuzz.c - dsv4-loader-fuzz: a mutation fuzzer for the shim's loader and launch checks.
 *
 * Usage: dsv4-loader-fuzz ITERATIONS SEED OBJECT [OBJECT ...]
 * The first ITERATIONS count the objects as built; every later one takes one object and
 * mutates its bytes (flips, truncation, insertions) or, in place, the manifest embedded in it
 * (edge values in place of JSON numbers, dropped keys, byte flips; the text keeps its length,
 * padded with spaces, so the object stays loadable). A manifest mutation is an edit, which
 * leaves the digest beside it alone, or a forgery, which rewrites the digest to match (so the
 * parser sees the mutated text). Each input is loaded with dsv4_module_load_data, every getter
 * is read, and launches are made: the call made for the module (from its getters), mutations of
 * it (one field of dsv4_launch_args, or of dsv4_compress_launch_args for a compress kernel, set
 * to an edge value), and the call made for another of the objects, as a library entry holding
 * the wrong code object would make it (through the other object's entry point).
 *
 * Beyond "no crash, no sanitizer report, a message of its own for every failed load (not the
 * catch-all for an escaped exception)", it checks:
 *  - an edited object that loads is its original: the same getters, the same answer to every
 *    call (else a fact the object cannot confirm was taken from an edited manifest);
 *  - a call made for another configuration is refused unless it states the module's own
 *    facts (else another configuration's kernel launches without an error).
 * Uses only the public C API (dsv4_runtime.h) and the ABI headers, so it outlives any rewrite
 * of the shim. Every buffer is an exact-size allocation, so a sanitizer sees any overrun. The
 * counts printed show the paths were reached. */
#include "ReadFile.h"
#include "dsv4/ABI/ManifestDigest.h"
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
    "-0.0", "0.5", "nan", "\"\"", "\"x\"", "true", "null", "[]", "{}", "\"../x\"",
    "\"main\"", "\"indexer\"", "\"prefill\"", "\"bf16\"", "128", "false"};
static const int64_t kIntEdges[] = {0, -1, 1, 2, 3, 4, 16, 17, 64, 128, 512, 4095,
                                    INT32_MAX, (int64_t)INT32_MAX + 1, INT32_MIN,
                                    (int64_t)INT32_MIN - 1, INT64_MAX, INT64_MIN};
#define COUNT(array) (sizeof array / sizeof *array)

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
  const char *edge = kJsonEdges[nextRandom() % COUNT(kJsonEdges)];
  splice(b, start, end - start, edge, strlen(edge));
}

static unsigned char *find(const Blob *b, const void *what, size_t size) {
  for (size_t i = 0; i + size <= b->size; ++i)
    if (!memcmp(b->data + i, what, size))
      return b->data + i;
  return NULL;
}

/* How mutateEmbeddedManifest changed an object. */
typedef enum { kBytesMutated, kManifestEdited, kManifestForged } Mutation;

/* Mutates the manifest embedded as plain text in `object` (an HSACO's .rodata) in place; to
 * `forge` is to also rewrite the digest global to the mutated text's. A PTX holds the manifest
 * as numbers: its bytes are mutated instead. */
static Mutation mutateEmbeddedManifest(Blob *object, int forge) {
  static const char start[] = "{\"format\":";
  unsigned char *at = find(object, start, sizeof start - 1);
  if (!at) {
    mutateBytes(object);
    return kBytesMutated;
  }
  size_t length = strnlen((const char *)at, object->size - (size_t)(at - object->data));
  unsigned char digest[DSV4_MANIFEST_DIGEST_BYTES];
  dsv4_manifest_digest_to_bytes(dsv4_manifest_digest((const char *)at, length), digest);
  unsigned char *digestAt = find(object, digest, sizeof digest);
  Blob manifest = {malloc(length + 1), length};
  memcpy(manifest.data, at, length);
  manifest.data[length] = '\0';
  (nextRandom() % 3 ? mutateJson : mutateBytes)(&manifest);
  memset(at, ' ', length);
  memcpy(at, manifest.data, manifest.size < length ? manifest.size : length);
  free(manifest.data);
  if (!forge || !digestAt)
    return kManifestEdited;
  dsv4_manifest_digest_to_bytes(dsv4_manifest_digest((const char *)at,
                                                     strnlen((const char *)at, length)),
                                digestAt);
  return kManifestForged;
}

/* What a module's getters say. The strings live as long as the module. */
typedef struct Facts {
  const char *kernel, *target, *chip, *mode;
  int32_t handleKind, kvDtype, weightDtype, layout, outLocDtype;
  int rotate;
  int64_t headDim, ropeDim, workgroupSize, rowsPerWorkgroup, pageSize, ratio;
  float eps, scale;
  int overlap;             /* a compress kernel's, like its state block size */
  int64_t stateBlockSize;
} Facts;

static Facts factsOf(const dsv4_module *mod) {
  Facts f = {dsv4_module_kernel_name(mod), dsv4_module_target(mod), dsv4_module_chip(mod),
             dsv4_module_mode(mod), dsv4_module_handle_kind(mod), dsv4_module_kv_dtype(mod),
             dsv4_module_weight_dtype(mod), dsv4_module_layout(mod),
             dsv4_module_out_loc_dtype(mod), dsv4_module_rotate(mod),
             dsv4_module_head_dim(mod), dsv4_module_rope_dim(mod),
             dsv4_module_workgroup_size(mod), dsv4_module_rows_per_workgroup(mod),
             dsv4_module_page_size(mod), dsv4_module_ratio(mod), dsv4_module_eps(mod),
             dsv4_module_scale(mod), dsv4_module_overlap(mod),
             dsv4_module_state_block_size(mod)};
  return f;
}

/* The first fact in which two modules differ, or NULL. */
static const char *differingFact(const Facts *a, const Facts *b) {
#define DIFFERS(f) if (a->f != b->f) return #f;
#define DIFFERS_STRING(f) if (strcmp(a->f, b->f)) return #f;
  DIFFERS_STRING(kernel) DIFFERS_STRING(target) DIFFERS_STRING(chip) DIFFERS_STRING(mode)
  DIFFERS(handleKind) DIFFERS(kvDtype) DIFFERS(weightDtype) DIFFERS(layout) DIFFERS(outLocDtype)
  DIFFERS(rotate)
  DIFFERS(headDim) DIFFERS(ropeDim) DIFFERS(workgroupSize) DIFFERS(rowsPerWorkgroup)
  DIFFERS(pageSize) DIFFERS(ratio) DIFFERS(eps) DIFFERS(scale) DIFFERS(overlap)
  DIFFERS(stateBlockSize)
#undef DIFFERS
#undef DIFFERS_STRING
  return NULL;
}

/* Whether the calls made for `a` and for `b` state the same facts (LaunchFacts.def; the scale
 * counts only for a kernel that rotates, docs/ABI.md). */
static int sameCallFacts(const Facts *a, const Facts *b) {
  return a->kvDtype == b->kvDtype && a->weightDtype == b->weightDtype &&
         a->handleKind == b->handleKind && a->eps == b->eps && a->headDim == b->headDim &&
         a->ropeDim == b->ropeDim && a->pageSize == b->pageSize && a->ratio == b->ratio &&
         a->rotate == b->rotate && (!a->rotate || a->scale == b->scale) &&
         a->layout == b->layout && a->outLocDtype == b->outLocDtype &&
         a->overlap == b->overlap && a->stateBlockSize == b->stateBlockSize;
}

enum { kRows = 4, kPositions = 8, kCacheBytes = 4096, kMaxHeadDim = 4096,
       kMaxStateFloats = 1 << 20 };

static int isCompress(const Facts *f) { return f->handleKind == DSV4_HANDLE_COMPRESS_TOKENS; }
/* A compress kernel's state row: 2W floats. */
static int64_t stateWidth(const Facts *f) { return (f->overlap ? 4 : 2) * f->headDim; }

/* The buffers of a call for `f`, each an exact-size allocation: a compress kernel's state is
 * one block, its block table one request of kRows blocks (all of them that block). */
typedef struct Buffers {
  void *kv, *weight, *freqs, *handle, *outLoc, *cache, *state, *blockTable, *positions;
} Buffers;

static void *alignedBuffer(size_t bytes) { return aligned_alloc(16, (bytes + 15) / 16 * 16); }

/* Whether `f` is sane enough to allocate for (a forged manifest may say anything). */
static int callable(const Facts *f) {
  return f->headDim > 0 && f->headDim <= kMaxHeadDim && f->ropeDim > 0 &&
         f->ropeDim <= f->headDim &&
         (!isCompress(f) || (f->stateBlockSize > 0 &&
                             f->stateBlockSize <= kMaxStateFloats / stateWidth(f)));
}

static Buffers allocate(const Facts *f) {
  Buffers b = {alignedBuffer((size_t)kRows * f->headDim * 4), /* f32, the widest kv type */
               alignedBuffer((size_t)f->headDim * 4),
               alignedBuffer((size_t)kPositions * f->ropeDim * 4),
               alignedBuffer(kRows * 4 * sizeof(int32_t)), alignedBuffer(kRows * sizeof(int64_t)),
               alignedBuffer(kCacheBytes),
               isCompress(f) ? alignedBuffer((size_t)(f->stateBlockSize * stateWidth(f)) * 4)
                             : NULL,
               alignedBuffer(kRows * sizeof(int32_t)), alignedBuffer(kRows * sizeof(int64_t))};
  memset(b.handle, 0, kRows * 4 * sizeof(int32_t));
  memset(b.blockTable, 0, kRows * sizeof(int32_t));
  return b;
}

static void release(Buffers *b) {
  free(b->kv), free(b->weight), free(b->freqs), free(b->handle), free(b->outLoc), free(b->cache);
  free(b->state), free(b->blockTable), free(b->positions);
}

/* A call through either entry point: dsv4_launch_compress's for a compress kernel. */
typedef struct Call {
  int compress;
  dsv4_launch_args kv;
  dsv4_compress_launch_args c;
} Call;

/* The valid call a caller makes for a kernel with facts `f`. */
static Call callFor(const Facts *f, const Buffers *b) {
  Call call;
  memset(&call, 0, sizeof call);
  if ((call.compress = isCompress(f))) {
    dsv4_compress_launch_args *c = &call.c;
    c->state = b->state, c->state_dtype = f->kvDtype, c->num_blocks = 1;
    c->state_width = c->state_row_stride = stateWidth(f);
    c->state_block_size = f->stateBlockSize, c->overlap = f->overlap;
    c->state_block_stride = f->stateBlockSize * c->state_row_stride;
    c->block_table = b->blockTable, c->num_requests = 1;
    c->max_blocks = c->block_table_row_stride = kRows;
    c->token_req = b->handle, c->positions = b->positions, c->num_items = kRows;
    c->weight = b->weight, c->weight_dtype = f->weightDtype, c->weight_len = f->headDim;
    c->freqs = b->freqs, c->num_positions = kPositions, c->freqs_row_stride = f->ropeDim;
    c->freqs_width = f->ropeDim, c->handle_kind = f->handleKind, c->head_dim = f->headDim;
    c->eps = f->eps, c->ratio = f->ratio, c->rotate = f->rotate, c->scale = f->scale;
    c->layout = f->layout, c->page_size = f->pageSize;
    c->out_loc = b->outLoc, c->cache = b->cache, c->cache_bytes = kCacheBytes;
    return call;
  }
  dsv4_launch_args *a = &call.kv;
  a->kv = b->kv, a->kv_dtype = f->kvDtype, a->num_rows = kRows, a->kv_row_stride = f->headDim;
  a->weight = b->weight, a->weight_dtype = f->weightDtype, a->weight_len = f->headDim;
  a->freqs = b->freqs, a->num_positions = kPositions, a->freqs_row_stride = f->ropeDim;
  a->freqs_width = f->ropeDim, a->handle = b->handle, a->handle_kind = f->handleKind;
  a->num_items = kRows, a->plan_row_stride = 4, a->head_dim = f->headDim, a->eps = f->eps;
  a->ratio = f->ratio, a->rotate = f->rotate, a->scale = f->scale, a->layout = f->layout;
  if ((a->page_size = f->pageSize))
    a->out_loc = b->outLoc, a->cache = b->cache, a->cache_bytes = kCacheBytes,
    a->out_loc_dtype = f->outLocDtype;
  return call;
}

static dsv4_status launch(dsv4_module *mod, const Call *call) {
  return call->compress ? dsv4_launch_compress(mod, &call->c, NULL)
                        : dsv4_launch(mod, &call->kv, NULL);
}

/* The float next to `x`, up or down: eps and scale must match exactly. */
static float nextFloat(float x, int up) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  bits += up ? 1 : -1;
  memcpy(&x, &bits, sizeof x);
  return x;
}

/* One field of the call, any of its struct's tables', set to an edge value: a pointer NULL or
 * misaligned, a size or enum an edge integer, a float its neighbour. */
enum {
  kCallFields = 0
#define DSV4_KERNEL_ARG(Name, name, kind) +1
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) +1
#include "dsv4/ABI/KernelArgs.def"
#define DSV4_LAUNCH_FACT(type, name) +1
#include "dsv4/ABI/LaunchFacts.def"
};
enum {
  kCompressCallFields = 0
#define DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind) +1
#include "dsv4/ABI/KernelArgs.def"
#define DSV4_LAUNCH_FACT(type, name) +1
#define DSV4_KV_LAUNCH_FACT(type, name)
#define DSV4_COMPRESS_LAUNCH_FACT(type, name) +1
#include "dsv4/ABI/LaunchFacts.def"
};
#define MUTATE(name, value) if (at++ == field) { a->name = value; return; }
#define ptr(name) MUTATE(name, nextRandom() % 2 ? NULL : (void *)((uintptr_t)a->name + 4 * (1 + nextRandom() % 3)))
#define i32(name) MUTATE(name, edge)
#define i64(name) MUTATE(name, edge)
#define int64_t_FACT(name) MUTATE(name, edge)
#define int32_t_FACT(name) MUTATE(name, (int32_t)edge)
#define float_FACT(name) MUTATE(name, nextFloat(a->name, nextRandom() % 2))
static void mutateKvCall(dsv4_launch_args *a) {
  int64_t edge = kIntEdges[nextRandom() % COUNT(kIntEdges)];
  unsigned field = nextRandom() % kCallFields, at = 0;
#define DSV4_KERNEL_ARG(Name, name, kind) kind(name)
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) kind(name)
#include "dsv4/ABI/KernelArgs.def"
#define DSV4_LAUNCH_FACT(type, name) type##_FACT(name)
#include "dsv4/ABI/LaunchFacts.def"
}
static void mutateCompressCall(dsv4_compress_launch_args *a) {
  int64_t edge = kIntEdges[nextRandom() % COUNT(kIntEdges)];
  unsigned field = nextRandom() % kCompressCallFields, at = 0;
#define DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind) kind(name)
#include "dsv4/ABI/KernelArgs.def"
#define DSV4_LAUNCH_FACT(type, name) type##_FACT(name)
#define DSV4_KV_LAUNCH_FACT(type, name)
#define DSV4_COMPRESS_LAUNCH_FACT(type, name) type##_FACT(name)
#include "dsv4/ABI/LaunchFacts.def"
}
#undef MUTATE
#undef ptr
#undef i32
#undef i64
#undef int64_t_FACT
#undef int32_t_FACT
#undef float_FACT

static void mutateCall(Call *call) {
  if (call->compress)
    mutateCompressCall(&call->c);
  else
    mutateKvCall(&call->kv);
}

typedef struct Counts {
  long loaded, originalsLoaded, launched, editsRefused, forgeriesLoaded, otherCallsRefused;
} Counts;

static int failed(const char *what, long iteration) {
  fprintf(stderr, "error: %s (iteration %ld)\n", what, iteration);
  return 1;
}

/* The call made for `own` and mutations of it on `mod`; an edited object's `original` must
 * answer each alike. Then the call made for one of `objects`, which must be refused unless
 * its facts are `own`'s. Returns non-zero on a finding. */
static int fuzzLaunches(dsv4_module *mod, const Facts *own, dsv4_module *original,
                        const Facts *objects, int count, long iteration, Counts *counts) {
  if (!callable(own))
    return 0;
  Buffers b = allocate(own);
  int finding = 0;
  for (int round = 0; round < 4 && !finding; ++round) {
    Call a = callFor(own, &b);
    if (round > 0)
      mutateCall(&a);
    dsv4_status st = launch(mod, &a);
    counts->launched += st == DSV4_OK;
    if (original && launch(original, &a) != st)
      finding = failed("an edited object answers a call unlike its original", iteration);
  }
  release(&b);
  const Facts *other = &objects[nextRandom() % count];
  if (finding || !callable(other))
    return finding;
  b = allocate(other);
  Call a = callFor(other, &b);
  if (launch(mod, &a) != DSV4_OK)
    ++counts->otherCallsRefused;
  else if (!sameCallFacts(own, other)) {
    fprintf(stderr, "error: a call made for '%s' launched '%s'\n", other->kernel, own->kernel);
    finding = failed("another configuration's kernel launched", iteration);
  }
  release(&b);
  return finding;
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
  dsv4_module **originals = calloc(count, sizeof(dsv4_module *));
  Facts *facts = calloc(count, sizeof(Facts));
  for (int p = 0; p < count; ++p) {
    objects[p].data = (unsigned char *)readFile(argv[3 + p], &objects[p].size);
    if (!objects[p].data) {
      fprintf(stderr, "error: cannot read %s\n", argv[3 + p]);
      return 1;
    }
    /* The objects as built are the oracle for their mutants. */
    if (dsv4_module_load_data(objects[p].data, objects[p].size, &originals[p]) != DSV4_OK) {
      fprintf(stderr, "error: %s does not load: %s\n", argv[3 + p], dsv4_last_error());
      return 1;
    }
    facts[p] = factsOf(originals[p]);
  }
  Counts counts = {0};
  int finding = 0;
  for (long i = 0; i < iterations && !finding; ++i) {
    int p = i < count ? (int)i : (int)(nextRandom() % count);
    Blob object = copyOf(&objects[p]);
    Mutation mutation = kBytesMutated;
    if (i >= count) { /* the first `count` inputs are the objects as built */
      unsigned kind = nextRandom() % 3;
      if (kind == 0)
        mutateBytes(&object);
      else
        mutation = mutateEmbeddedManifest(&object, /*forge=*/kind == 2);
    }
    int forged = mutation == kManifestForged;
    dsv4_module *mod = NULL;
    if (dsv4_module_load_data(object.data, object.size, &mod) == DSV4_OK) {
      ++counts.loaded;
      counts.originalsLoaded += i < count;
      counts.forgeriesLoaded += forged;
      Facts own = factsOf(mod);
      const char *fact = forged ? NULL : differingFact(&own, &facts[p]);
      if (fact) {
        fprintf(stderr, "error: an edited '%s' loads with another %s\n", facts[p].kernel, fact);
        finding = failed("a fact of an edited manifest was believed", i);
      } else {
        finding = fuzzLaunches(mod, &own, forged ? NULL : originals[p], facts, count, i,
                               &counts);
      }
    } else if (!dsv4_last_error()[0]) {
      finding = failed("a failed load left no message", i);
    } else if (!strncmp(dsv4_last_error(), "unexpected", 10)) {
      fprintf(stderr, "error: %s\n", dsv4_last_error());
      finding = failed("an exception escaped the loader", i);
    } else {
      counts.editsRefused += mutation == kManifestEdited;
    }
    dsv4_module_unload(mod);
    free(object.data);
  }
  printf("%ld inputs: %ld loaded (%ld of %d unmutated objects), %ld launches accepted; "
         "%ld manifest edits refused, %ld forged manifests loaded; %ld calls made for another "
         "object refused\n",
         iterations, counts.loaded, counts.originalsLoaded, count, counts.launched,
         counts.editsRefused, counts.forgeriesLoaded, counts.otherCallsRefused);
  for (int p = 0; p < count; ++p) {
    dsv4_module_unload(originals[p]);
    free(objects[p].data);
  }
  free(objects), free(originals), free(facts);
  return finding;
}
