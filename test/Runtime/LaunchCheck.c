/* LaunchCheck.c - dsv4-launch-check: load a module, make one launch.
 *
 * Usage: dsv4-launch-check [--data] [--entry=launch|compress] BINARY [field=value ...]
 * The manifest is the one embedded in BINARY; --data loads through
 * dsv4_module_load_data instead of _load_file. The launch goes through
 * dsv4_launch_compress for a compress kernel, else dsv4_launch; --entry names
 * the other entry point instead.
 * Fields are those of the entry's struct (dsv4_launch_args or
 * dsv4_compress_launch_args); unset fields default to a valid call for the
 * loaded manifest (with a cache when the kernel stores). Prints one "load:" and
 * one "launch:" line (status and message) plus the manifest getters; exits 0
 * whatever the status, so tests check the printed outcome with FileCheck. */
#include "ReadFile.h"
#include "dsv4/Runtime/dsv4_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An enum field's value: the name of a dtype, handle kind or layout, else a number. */
static int32_t parseEnum(const char *s) {
  if (!strcmp(s, "f32")) return DSV4_DTYPE_F32;
  if (!strcmp(s, "bf16")) return DSV4_DTYPE_BF16;
  if (!strcmp(s, "f16")) return DSV4_DTYPE_F16;
  if (!strcmp(s, "i32")) return DSV4_DTYPE_I32;
  if (!strcmp(s, "i64")) return DSV4_DTYPE_I64;
  if (!strcmp(s, "decode")) return DSV4_HANDLE_DECODE_SEQ_LENS;
  if (!strcmp(s, "prefill")) return DSV4_HANDLE_PREFILL_PLAN;
  if (!strcmp(s, "compress")) return DSV4_HANDLE_COMPRESS_TOKENS;
  if (!strcmp(s, "in-place")) return DSV4_LAYOUT_IN_PLACE;
  if (!strcmp(s, "indexer")) return DSV4_LAYOUT_INDEXER;
  if (!strcmp(s, "main")) return DSV4_LAYOUT_MAIN;
  return atoi(s);
}

/* setField and setCompressField apply "field=value" (the name's n characters and the value
 * v) to a call, each field from the tables its struct's own come from; 0 for an unknown field. */
#define SET(f, value) if (n == strlen(#f) && !strncmp(arg, #f, n)) { a->f = value; return 1; }
#define ptr(f) SET(f, (void *)(uintptr_t)strtoull(v, NULL, 0))
#define i32(f) SET(f, strtoll(v, NULL, 0))
#define i64(f) SET(f, strtoll(v, NULL, 0))
#define int64_t_FACT(f) SET(f, strtoll(v, NULL, 0))
#define int32_t_FACT(f) SET(f, parseEnum(v))
#define float_FACT(f) SET(f, strtof(v, NULL))

static int setField(dsv4_launch_args *a, const char *arg, size_t n, const char *v) {
#define DSV4_KERNEL_ARG(Name, name, kind) kind(name)
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) kind(name)
#include "dsv4/ABI/KernelArgs.def"
#define DSV4_LAUNCH_FACT(type, name) type##_FACT(name)
#include "dsv4/ABI/LaunchFacts.def"
  return 0;
}

static int setCompressField(dsv4_compress_launch_args *a, const char *arg, size_t n,
                            const char *v) {
#define DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind) kind(name)
#include "dsv4/ABI/KernelArgs.def"
#define DSV4_LAUNCH_FACT(type, name) type##_FACT(name)
#define DSV4_KV_LAUNCH_FACT(type, name)
#define DSV4_COMPRESS_LAUNCH_FACT(type, name) type##_FACT(name)
#include "dsv4/ABI/LaunchFacts.def"
  return 0;
}
#undef SET
#undef ptr
#undef i32
#undef i64
#undef int64_t_FACT
#undef int32_t_FACT
#undef float_FACT

/* A valid call of `mod` through dsv4_launch. */
static void validCall(dsv4_module *mod, dsv4_launch_args *a) {
  memset(a, 0, sizeof(*a));
  a->kv = (void *)(uintptr_t)0x7f0000010000ull;
  a->weight = (void *)(uintptr_t)0x7f0000020000ull;
  a->freqs = (void *)(uintptr_t)0x7f0000030000ull;
  a->handle = (void *)(uintptr_t)0x7f0000040000ull;
  a->kv_dtype = dsv4_module_kv_dtype(mod);
  a->weight_dtype = dsv4_module_weight_dtype(mod);
  a->head_dim = a->weight_len = a->kv_row_stride = dsv4_module_head_dim(mod);
  a->freqs_width = a->freqs_row_stride = dsv4_module_rope_dim(mod);
  a->eps = dsv4_module_eps(mod);
  a->handle_kind = dsv4_module_handle_kind(mod);
  a->ratio = dsv4_module_ratio(mod);
  a->rotate = dsv4_module_rotate(mod);
  a->scale = dsv4_module_scale(mod);
  a->layout = dsv4_module_layout(mod);
  a->num_rows = 8;
  a->num_positions = 16;
  a->num_items = 3;
  a->plan_row_stride = 4;
  /* A store kernel's cache: two pages of 132-byte tokens, slots per item. */
  if ((a->page_size = dsv4_module_page_size(mod))) {
    a->out_loc_dtype = dsv4_module_out_loc_dtype(mod);
    a->out_loc = (void *)(uintptr_t)0x7f0000050000ull;
    a->cache = (void *)(uintptr_t)0x7f0000060000ull;
    a->cache_bytes = 2 * 132 * a->page_size;
  }
}

/* A valid call of `mod` through dsv4_launch_compress: 8 blocks of contiguous state rows, a
 * block table of 2 requests by 4 blocks, 3 items, the cache as above. */
static void validCompressCall(dsv4_module *mod, dsv4_compress_launch_args *a) {
  memset(a, 0, sizeof(*a));
  a->state = (void *)(uintptr_t)0x7f0000010000ull;
  a->weight = (void *)(uintptr_t)0x7f0000020000ull;
  a->freqs = (void *)(uintptr_t)0x7f0000030000ull;
  a->block_table = (void *)(uintptr_t)0x7f0000040000ull;
  a->out_loc = (void *)(uintptr_t)0x7f0000050000ull;
  a->cache = (void *)(uintptr_t)0x7f0000060000ull;
  a->token_req = (void *)(uintptr_t)0x7f0000070000ull;
  a->positions = (void *)(uintptr_t)0x7f0000080000ull;
  a->state_dtype = dsv4_module_kv_dtype(mod);
  a->weight_dtype = dsv4_module_weight_dtype(mod);
  a->head_dim = a->weight_len = dsv4_module_head_dim(mod);
  a->freqs_width = a->freqs_row_stride = dsv4_module_rope_dim(mod);
  a->eps = dsv4_module_eps(mod);
  a->handle_kind = dsv4_module_handle_kind(mod);
  a->ratio = dsv4_module_ratio(mod);
  a->rotate = dsv4_module_rotate(mod);
  a->scale = dsv4_module_scale(mod);
  a->layout = dsv4_module_layout(mod);
  a->overlap = dsv4_module_overlap(mod);
  a->state_block_size = dsv4_module_state_block_size(mod);
  a->state_width = a->state_row_stride = (a->overlap ? 4 : 2) * a->head_dim;
  a->state_block_stride = a->state_block_size * a->state_row_stride;
  a->num_blocks = 8;
  a->num_requests = 2;
  a->max_blocks = a->block_table_row_stride = 4;
  a->num_positions = 16;
  a->num_items = 3;
  a->page_size = dsv4_module_page_size(mod);
  a->cache_bytes = 2 * 132 * a->page_size;
}

int main(int argc, char **argv) {
  int first = 1, useData = 0, entry = -1; /* -1: the kernel's own, 0: dsv4_launch, 1: compress */
  for (; first < argc && !strncmp(argv[first], "--", 2); ++first) {
    if (!strcmp(argv[first], "--data"))
      useData = 1;
    else if (!strcmp(argv[first], "--entry=launch"))
      entry = 0;
    else if (!strcmp(argv[first], "--entry=compress"))
      entry = 1;
    else
      break;
  }
  if (argc < first + 1 || !strncmp(argv[first], "--", 2)) {
    fprintf(stderr, "usage: %s [--data] [--entry=launch|compress] BINARY [field=value ...]\n",
            argv[0]);
    return 2;
  }
  const char *binary = argv[first];
  dsv4_module *mod = NULL;
  dsv4_status st;
  if (useData) {
    size_t imageSize = 0;
    char *image = readFile(binary, &imageSize);
    st = image ? dsv4_module_load_data(image, imageSize, &mod) : DSV4_ERR_IO;
    free(image);
  } else {
    st = dsv4_module_load_file(binary, &mod);
  }
  printf("load: %s: %s\n", dsv4_status_name(st), dsv4_last_error());
  if (st != DSV4_OK)
    return 0;
  printf("module: kernel=%s target=%s chip=%s mode=%s rotate=%d head_dim=%lld "
         "rope_dim=%lld kv_dtype=%d weight_dtype=%d workgroup_size=%lld "
         "rows_per_workgroup=%lld eps=%.9g ratio=%lld scale=%.9g layout=%d page_size=%lld "
         "overlap=%d state_block_size=%lld\n",
         dsv4_module_kernel_name(mod), dsv4_module_target(mod),
         dsv4_module_chip(mod), dsv4_module_mode(mod), dsv4_module_rotate(mod),
         (long long)dsv4_module_head_dim(mod), (long long)dsv4_module_rope_dim(mod),
         dsv4_module_kv_dtype(mod), dsv4_module_weight_dtype(mod),
         (long long)dsv4_module_workgroup_size(mod),
         (long long)dsv4_module_rows_per_workgroup(mod), (double)dsv4_module_eps(mod),
         (long long)dsv4_module_ratio(mod), (double)dsv4_module_scale(mod),
         dsv4_module_layout(mod), (long long)dsv4_module_page_size(mod),
         dsv4_module_overlap(mod), (long long)dsv4_module_state_block_size(mod));
  if (entry < 0)
    entry = dsv4_module_handle_kind(mod) == DSV4_HANDLE_COMPRESS_TOKENS;

  /* A valid call for this module; the command line then breaks it. */
  dsv4_launch_args a;
  dsv4_compress_launch_args c;
  validCall(mod, &a);
  validCompressCall(mod, &c);
  for (int i = first + 1; i < argc; ++i) {
    const char *eq = strchr(argv[i], '=');
    size_t n = eq ? (size_t)(eq - argv[i]) : 0;
    if (!eq || !(entry ? setCompressField(&c, argv[i], n, eq + 1)
                       : setField(&a, argv[i], n, eq + 1))) {
      fprintf(stderr, "unknown field '%s'\n", argv[i]);
      dsv4_module_unload(mod);
      return 2;
    }
  }
  /* A recognizable stream handle, so the fake HIP's log shows it came through. */
  void *stream = (void *)(uintptr_t)0x5157;
  st = entry ? dsv4_launch_compress(mod, &c, stream) : dsv4_launch(mod, &a, stream);
  printf("launch: %s: %s\n", dsv4_status_name(st), dsv4_last_error());
  dsv4_module_unload(mod);
  return 0;
}
