/* FakeCuda.c - a stand-in libcuda.so.1 for CPU tests of the CUDA back end.
 *
 * Implements the driver calls the shim dlsyms, for an sm_90 device (or the compute
 * capability in $DSV4_FAKE_CUDA_CC, e.g. "80"). Module loading accepts any text that starts
 * with a PTX comment or directive; a launch reads every parameter pointer it is handed, so a
 * sanitizer sees a bad one. No GPU, no log: the loader fuzzer runs it thousands of times. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_API __attribute__((visibility("default")))

enum { CUDA_SUCCESS = 0, CUDA_ERROR_INVALID_VALUE = 1, CUDA_ERROR_INVALID_IMAGE = 200,
       CUDA_ERROR_NOT_FOUND = 500 };
enum { kAttrComputeCapabilityMajor = 75, kAttrComputeCapabilityMinor = 76 };

static int fakeContext, fakeModule, fakeFunction; /* addresses serve as handles */
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
  (void)strlen(text); /* the image must be NUL-terminated: a sanitizer checks the read */
  *module = &fakeModule;
  return CUDA_SUCCESS;
}

FAKE_API int cuModuleGetFunction(void **function, void *module, const char *name) {
  if (module != &fakeModule || !name || !*name)
    return CUDA_ERROR_NOT_FOUND;
  *function = &fakeFunction;
  return CUDA_SUCCESS;
}

FAKE_API int cuModuleUnload(void *module) {
  return module == &fakeModule ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

FAKE_API int cuLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz,
                            unsigned bx, unsigned by, unsigned bz, unsigned shared,
                            void *stream, void **params, void **extra) {
  volatile unsigned char sink = 0;
  (void)stream, (void)shared;
  if (function != &fakeFunction || !params || extra || !gx || !gy || !gz || !bx || !by ||
      !bz || bx * by * bz > 1024)
    return CUDA_ERROR_INVALID_VALUE;
  for (int i = 0; i < kNumParams; ++i)
    sink ^= *(const unsigned char *)params[i];
  (void)sink;
  return CUDA_SUCCESS;
}
