/* FakeHip.c - a stand-in libamdhip64.so for CPU tests of the HIP back end.
 *
 * Implements exactly the symbols the shim dlsyms, answering from the code object
 * it is given (its .dynsym for functions and globals, its metadata note for
 * kernel attributes), and records the module calls to
 * the file named by $DSV4_FAKE_HIP_LOG, with the value of each kernel
 * argument it receives through kernelParams, named by the ABI table
 * (dsv4/ABI/KernelArgs.def: the compress list for a module whose embedded manifest has
 * "mode":"compress", else the store list), so tests check what a kernel would see.
 *   DSV4_FAKE_HIP_ARCH  gcnArchName to report (default gfx942:sramecc+:xnack-)
 *   DSV4_FAKE_HIP_FAIL  "load", "function" or "launch": that call fails
 * Built twice; DSV4_FAKE_HIP_PRE6 leaves out hipGetDevicePropertiesR0600. */
#include "HipDeviceProp.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_API __attribute__((visibility("default")))

enum { hipSuccess = 0, hipErrorInvalidValue = 1, hipErrorInvalidImage = 200,
       hipErrorNotFound = 500, hipErrorLaunchFailure = 719 };


static FILE *openLog(void) {
  const char *path = getenv("DSV4_FAKE_HIP_LOG");
  return path && *path ? fopen(path, "a") : NULL;
}

static int shouldFail(const char *call) {
  const char *f = getenv("DSV4_FAKE_HIP_FAIL");
  return f && strcmp(f, call) == 0;
}

FAKE_API const char *hipGetErrorString(int error) {
  switch (error) {
  case hipSuccess: return "no error";
  case hipErrorInvalidValue: return "invalid argument";
  case hipErrorInvalidImage: return "device kernel image is invalid";
  case hipErrorNotFound: return "named symbol not found";
  case hipErrorLaunchFailure: return "unspecified launch failure";
  }
  return "unknown error";
}

FAKE_API int hipGetDevice(int *device) {
  *device = 0;
  return hipSuccess;
}

#ifndef DSV4_FAKE_HIP_PRE6
FAKE_API int hipGetDevicePropertiesR0600(void *props, int device) {
  const char *arch = getenv("DSV4_FAKE_HIP_ARCH");
  char *p = (char *)props;
  (void)device;
  snprintf(p + DSV4_HIP_NAME_OFFSET, DSV4_HIP_NAME_SIZE, "dsv4 fake HIP device");
  snprintf(p + DSV4_HIP_GCN_ARCH_NAME_OFFSET, DSV4_HIP_NAME_SIZE, "%s",
           arch ? arch : "gfx942:sramecc+:xnack-");
  return hipSuccess;
}
#endif

/* A loaded module: a copy of the image, whose size a shared-object ELF64 gives by its section
 * header table (ld.lld puts it last; the shim has checked the table lies inside the image). */
typedef struct FakeModule {
  unsigned char *image;
  size_t size;
  char kernel[256]; /* the function looked up; its address is the function handle */
} FakeModule;

static uint64_t field(const FakeModule *m, uint64_t at, unsigned bytes) {
  uint64_t value = 0;
  if (at <= m->size && bytes <= m->size - at)
    memcpy(&value, m->image + at, bytes);
  return value;
}

FAKE_API int hipModuleLoadData(void **module, const void *image) {
  FILE *log = openLog();
  int ok = !shouldFail("load") && memcmp(image, "\x7f" "ELF", 4) == 0;
  if (log) {
    fprintf(log, "hipModuleLoadData -> %s\n", ok ? "ok" : "hipErrorInvalidImage");
    fclose(log);
  }
  if (!ok)
    return hipErrorInvalidImage;
  FakeModule *m = calloc(1, sizeof(FakeModule));
  const unsigned char *bytes = image;
  uint64_t shoff, shentsize = 0, shnum = 0;
  memcpy(&shoff, bytes + 0x28, 8);
  memcpy(&shentsize, bytes + 0x3a, 2);
  memcpy(&shnum, bytes + 0x3c, 2);
  m->size = (size_t)(shoff + shentsize * shnum);
  m->image = malloc(m->size ? m->size : 1);
  memcpy(m->image, image, m->size);
  *module = m;
  return hipSuccess;
}

/* The file offset and size of the .dynsym symbol `name` (the symbols HIP resolves); 0 if none.
 * Every read is bounded: the loader fuzzer hands over corrupted images. */
static uint64_t findSymbol(const FakeModule *m, const char *name, uint64_t *size) {
  uint64_t shoff = field(m, 0x28, 8), shentsize = field(m, 0x3a, 2), shnum = field(m, 0x3c, 2);
  for (uint64_t i = 0; i < shnum; ++i) {
    uint64_t sh = shoff + i * shentsize;
    if (field(m, sh + 4, 4) != 11 /* SHT_DYNSYM */)
      continue;
    uint64_t strtab = shoff + field(m, sh + 40, 4) * shentsize, strings = field(m, strtab + 24, 8);
    uint64_t at = field(m, sh + 24, 8), end = at + field(m, sh + 32, 8);
    for (; at + 24 <= end && at + 24 <= m->size; at += 24) {
      uint64_t nameAt = strings + field(m, at, 4), n = strlen(name) + 1;
      if (nameAt > m->size || n > m->size - nameAt || memcmp(m->image + nameAt, name, n))
        continue;
      uint64_t value = field(m, at + 8, 8);
      *size = field(m, at + 16, 8);
      for (uint64_t j = 0; j < shnum; ++j) { /* the section holding the address */
        uint64_t s = shoff + j * shentsize, addr = field(m, s + 16, 8);
        if (field(m, s + 4, 4) != 8 /* SHT_NOBITS */ && value >= addr &&
            value - addr < field(m, s + 32, 8))
          return field(m, s + 24, 8) + (value - addr);
      }
    }
  }
  return 0;
}

FAKE_API int hipModuleGetFunction(void **function, void *module, const char *name) {
  FILE *log = openLog();
  FakeModule *m = module;
  uint64_t size;
  if (log) {
    fprintf(log, "hipModuleGetFunction %s\n", name);
    fclose(log);
  }
  if (shouldFail("function") || !findSymbol(m, name, &size))
    return hipErrorNotFound;
  snprintf(m->kernel, sizeof m->kernel, "%s", name);
  *function = m->kernel;
  return hipSuccess;
}

/* The "device address" of a global is its place in the module's copy of the image. */
FAKE_API int hipModuleGetGlobal(void **address, size_t *bytes, void *module, const char *name) {
  FakeModule *m = module;
  uint64_t size = 0, at = findSymbol(m, name, &size);
  if (!at || at > m->size || size > m->size - at)
    return hipErrorNotFound;
  *address = m->image + at;
  *bytes = (size_t)size;
  return hipSuccess;
}

FAKE_API int hipMemcpyDtoH(void *dst, void *src, size_t bytes) {
  memcpy(dst, src, bytes);
  return hipSuccess;
}

/* A msgpack unsigned integer at `at` (fixint, uint8, uint16, uint32), or -1. */
static long msgpackUint(const FakeModule *m, uint64_t at) {
  uint64_t tag = field(m, at, 1);
  if (tag < 0x80)
    return (long)tag;
  unsigned n = tag == 0xcc ? 1 : tag == 0xcd ? 2 : tag == 0xce ? 4 : 0;
  long value = 0;
  for (unsigned i = 0; i < n; ++i)
    value = value << 8 | (long)field(m, at + 1 + i, 1);
  return n ? value : -1;
}

/* The metadata note's `key` of the kernel named `name`: keys of a kernel's map are sorted, so
 * .group_segment_fixed_size and .max_flat_workgroup_size come before its .name. */
static long kernelMetadata(const FakeModule *m, const char *name, const char *key) {
  unsigned char needle[300] = "\xa5.name";
  size_t n = strlen(name), k = strlen(key), len = 6;
  if (n > 255 || k > 31)
    return -1;
  if (n >= 32)
    needle[len++] = 0xd9; /* str8 */
  needle[len++] = (unsigned char)(n < 32 ? 0xa0 | n : n);
  memcpy(needle + len, name, n);
  len += n;
  for (size_t at = len; at <= m->size; ++at) {
    if (memcmp(m->image + at - len, needle, len))
      continue;
    for (size_t back = at - len; back > k + 1; --back)
      if (m->image[back - k - 1] == (0xa0 | k) && !memcmp(m->image + back - k, key, k))
        return msgpackUint(m, back);
  }
  return -1;
}

/* hipFuncAttributeMaxThreadsPerBlock (0) and hipFuncAttributeSharedSizeBytes (1), from the
 * code object's metadata note as HIP reads them. */
FAKE_API int hipFuncGetAttribute(int *value, int attribute, void *function) {
  FakeModule *m = (FakeModule *)((char *)function - offsetof(FakeModule, kernel));
  long found = kernelMetadata(m, m->kernel, attribute == 0   ? ".max_flat_workgroup_size"
                                            : attribute == 1 ? ".group_segment_fixed_size"
                                                             : "");
  if (found < 0)
    return hipErrorInvalidValue;
  *value = (int)found;
  return hipSuccess;
}

FAKE_API int hipModuleUnload(void *module) {
  FakeModule *m = module;
  FILE *log = openLog();
  if (log) {
    fprintf(log, "hipModuleUnload\n");
    fclose(log);
  }
  free(m->image);
  free(m);
  return hipSuccess;
}
/* Whether the module's embedded manifest (the global dsv4_manifest) is a compress kernel's:
 * its text holds "mode", a colon and "compress", with or without blanks between. */
static int isCompressModule(const FakeModule *m) {
  uint64_t size = 0, at = findSymbol(m, "dsv4_manifest", &size);
  const char key[] = "\"mode\"", value[] = "\"compress\"";
  if (!at || at > m->size || size > m->size - at)
    return 0;
  for (uint64_t i = at; i + sizeof key - 1 <= at + size; ++i) {
    if (memcmp(m->image + i, key, sizeof key - 1))
      continue;
    uint64_t j = i + sizeof key - 1;
    while (j < at + size && (m->image[j] == ' ' || m->image[j] == ':'))
      ++j;
    return j + sizeof value - 1 <= at + size && !memcmp(m->image + j, value, sizeof value - 1);
  }
  return 0;
}

/* Accepts only the form the shim must use: kernelParams, no `extra`. */
FAKE_API int hipModuleLaunchKernel(void *function, unsigned gx, unsigned gy,
                                   unsigned gz, unsigned bx, unsigned by,
                                   unsigned bz, unsigned shared, void *stream,
                                   void **kernelParams, void **extra) {
  FILE *log = openLog();
  int wellFormed = function && kernelParams && !extra;
  if (log) {
    fprintf(log, "hipModuleLaunchKernel grid=%u,%u,%u block=%u,%u,%u shared=%u stream=%p\n",
            gx, gy, gz, bx, by, bz, shared, stream);
    if (!wellFormed) {
      fprintf(log, "malformed launch (function, kernelParams or extra)\n");
    } else {
      void **param = kernelParams;
#define LOG_ptr(name, p) fprintf(log, " %s=0x%llx", name, (unsigned long long)*(const uint64_t *)(p))
#define LOG_i32(name, p) fprintf(log, " %s=%d", name, *(const int32_t *)(p))
#define LOG_i64(name, p) fprintf(log, " %s=%lld", name, *(const long long *)(p))
      fprintf(log, "params:");
      if (isCompressModule((FakeModule *)((char *)function - offsetof(FakeModule, kernel)))) {
#define DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind) LOG_##kind(#name, *param++);
#include "dsv4/ABI/KernelArgs.def"
      } else {
#define DSV4_KERNEL_ARG(Name, name, kind) LOG_##kind(#name, *param++);
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) DSV4_KERNEL_ARG(Name, name, kind)
#include "dsv4/ABI/KernelArgs.def"
      }
      fprintf(log, "\n");
    }
    fclose(log);
  }
  if (!wellFormed)
    return hipErrorInvalidValue;
  return shouldFail("launch") ? hipErrorLaunchFailure : hipSuccess;
}
