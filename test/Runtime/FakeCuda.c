/* FakeCuda.c - a stand-in libcuda.so.1 for CPU tests of the CUDA back end.
 *
 * Implements the driver calls the shim dlsyms, for an sm_90 device (or the compute
 * capability in $DSV4_FAKE_CUDA_CC, e.g. "80"). Module loading accepts any text that starts
 * with a PTX comment or directive and keeps a copy; functions, globals (with their
 * initializers) and kernel attributes (.maxntid/.reqntid, .shared sizes) are read from that
 * PTX text. A launch reads every parameter pointer it is handed, so a sanitizer sees a bad
 * one. No GPU, no log: the loader fuzzer runs it thousands of times. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_API __attribute__((visibility("default")))

enum { CUDA_SUCCESS = 0, CUDA_ERROR_INVALID_VALUE = 1, CUDA_ERROR_INVALID_IMAGE = 200,
       CUDA_ERROR_NOT_FOUND = 500 };
enum { kAttrComputeCapabilityMajor = 75, kAttrComputeCapabilityMinor = 76 };

static int fakeContext; /* its address serves as the handle */
typedef struct FakeModule {
  char *ptx;
  unsigned char *global; /* the last global read */
  const char *entry;     /* the function looked up: its `.entry name` in ptx */
} FakeModule;
static void *current;
/* The dsv4 kernel's parameter count (docs/ABI.md). */
enum { kNumParams = 10 };

FAKE_API int cuGetErrorString(int error, const char **out) {
  *out = error == CUDA_SUCCESS ? "no error" : "fake CUDA error";
  return CUDA_SUCCESS;
}

FAKE_API int cuInit(unsigned flags) { return flags ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS; }

FAKE_API int cuCtxGetCurrent(void **ctx) {
  *ctx = current;
  return CUDA_SUCCESS;
}

FAKE_API int cuCtxSetCurrent(void *ctx) {
  current = ctx;
  return CUDA_SUCCESS;
}

FAKE_API int cuCtxGetDevice(int *device) {
  *device = 0;
  return CUDA_SUCCESS;
}

FAKE_API int cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return ordinal == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

FAKE_API int cuDeviceGetAttribute(int *value, int attribute, int device) {
  const char *cc = getenv("DSV4_FAKE_CUDA_CC");
  int capability = cc && *cc ? atoi(cc) : 90;
  if (device != 0)
    return CUDA_ERROR_INVALID_VALUE;
  if (attribute == kAttrComputeCapabilityMajor)
    *value = capability / 10;
  else if (attribute == kAttrComputeCapabilityMinor)
    *value = capability % 10;
  else
    return CUDA_ERROR_INVALID_VALUE;
  return CUDA_SUCCESS;
}

FAKE_API int cuDevicePrimaryCtxRetain(void **ctx, int device) {
  *ctx = &fakeContext;
  return device == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

FAKE_API int cuModuleLoadDataEx(void **module, const void *image, unsigned numOptions,
                                int *options, void **values) {
  const char *text = (const char *)image;
  (void)options, (void)values, (void)numOptions;
  if (strncmp(text, "//", 2) != 0 && text[0] != '.')
    return CUDA_ERROR_INVALID_IMAGE;
  FakeModule *m = calloc(1, sizeof(FakeModule));
  m->ptx = strdup(text); /* the image must be NUL-terminated: a sanitizer checks the read */
  *module = m;
  return CUDA_SUCCESS;
}

/* Where `prefix name` occurs in the PTX followed by a delimiter in `after`, or NULL. */
static const char *findDeclaration(const char *ptx, const char *prefix, const char *name,
                                   const char *after) {
  size_t n = strlen(prefix) + strlen(name);
  char *needle = malloc(n + 1);
  snprintf(needle, n + 1, "%s%s", prefix, name);
  const char *at = strstr(ptx, needle);
  while (at && !(at[n] && strchr(after, at[n])))
    at = strstr(at + 1, needle);
  free(needle);
  return at;
}

FAKE_API int cuModuleGetFunction(void **function, void *module, const char *name) {
  FakeModule *m = module;
  m->entry = findDeclaration(m->ptx, ".entry ", name, "( \t\r\n");
  if (!m->entry)
    return CUDA_ERROR_NOT_FOUND;
  *function = &m->entry;
  return CUDA_SUCCESS;
}

/* `.global ... name[N] = {b0, b1, ...};`: the bytes as the driver would place them. */
FAKE_API int cuModuleGetGlobal_v2(unsigned long long *address, size_t *bytes, void *module,
                                  const char *name) {
  FakeModule *m = module;
  const char *at = findDeclaration(m->ptx, " ", name, "[");
  if (!at)
    return CUDA_ERROR_NOT_FOUND;
  at += strlen(name) + 1;
  unsigned long size = strtoul(at + 1, NULL, 10);
  if (size == 0 || size > (1u << 20))
    return CUDA_ERROR_INVALID_VALUE;
  free(m->global);
  m->global = calloc(size, 1);
  char *init = strchr(at, '{');
  const char *end = strchr(at, ';');
  for (unsigned long i = 0; init && end && init < end && i < size; ++i) {
    m->global[i] = (unsigned char)strtoul(init + 1, &init, 10);
    init = strchr(init, ',');
  }
  *address = (unsigned long long)(uintptr_t)m->global;
  *bytes = size;
  return CUDA_SUCCESS;
}

FAKE_API int cuMemcpyDtoH_v2(void *dst, unsigned long long src, size_t bytes) {
  memcpy(dst, (const void *)(uintptr_t)src, bytes);
  return CUDA_SUCCESS;
}

/* CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK (0): the .maxntid/.reqntid product before the
 * body, else 1024; CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES (1): the `.shared ... [N]` bytes. */
FAKE_API int cuFuncGetAttribute(int *value, int attribute, void *function) {
  const char *entry = *(const char **)function, *body = strchr(entry, '{');
  if (attribute == 0) {
    const char *limit = strstr(entry, "ntid ");
    *value = 1024;
    if (limit && body && limit < body) {
      long x = 1, y = 1, z = 1;
      sscanf(limit + 5, "%ld, %ld, %ld", &x, &y, &z);
      *value = (int)(x * y * z);
    }
    return CUDA_SUCCESS;
  }
  if (attribute != 1)
    return CUDA_ERROR_INVALID_VALUE;
  *value = 0;
  for (const char *at = strstr(entry, ".shared .align"); at; at = strstr(at + 1, ".shared .align")) {
    const char *size = strchr(at, '['), *eol = strchr(at, '\n');
    if (size && (!eol || size < eol))
      *value += atoi(size + 1);
  }
  return CUDA_SUCCESS;
}

FAKE_API int cuModuleUnload(void *module) {
  FakeModule *m = module;
  free(m->ptx);
  free(m->global);
  free(m);
  return CUDA_SUCCESS;
}

FAKE_API int cuLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz,
                            unsigned bx, unsigned by, unsigned bz, unsigned shared,
                            void *stream, void **params, void **extra) {
  volatile unsigned char sink = 0;
  (void)stream, (void)shared;
  if (!function || !params || extra || !gx || !gy || !gz || !bx || !by ||
      !bz || bx * by * bz > 1024)
    return CUDA_ERROR_INVALID_VALUE;
  for (int i = 0; i < kNumParams; ++i)
    sink ^= *(const unsigned char *)params[i];
  (void)sink;
  return CUDA_SUCCESS;
}
