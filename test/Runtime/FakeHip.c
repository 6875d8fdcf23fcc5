/* FakeHip.c - a stand-in libamdhip64.so for CPU tests of the HIP back end.
 *
 * Implements exactly the symbols the shim dlsyms and records every call to
 * the file named by $DSV4_FAKE_HIP_LOG, with the value of each kernel
 * argument it receives through kernelParams, named by the ABI table
 * (dsv4/ABI/KernelArgs.def), so tests check what a kernel would see.
 *   DSV4_FAKE_HIP_ARCH  gcnArchName to report (default gfx942:sramecc+:xnack-)
 *   DSV4_FAKE_HIP_FAIL  "load", "function" or "launch": that call fails
 * Built twice; DSV4_FAKE_HIP_PRE6 leaves out hipGetDevicePropertiesR0600. */
#include "HipDeviceProp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_API __attribute__((visibility("default")))

enum { hipSuccess = 0, hipErrorInvalidValue = 1, hipErrorInvalidImage = 200,
       hipErrorNotFound = 500, hipErrorLaunchFailure = 719 };

static int fakeModule, fakeFunction; /* addresses serve as handles */

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
  dsv4_hip_device_prop_prefix *p = (dsv4_hip_device_prop_prefix *)props;
  (void)device;
  snprintf(p->name, sizeof(p->name), "dsv4 fake HIP device");
  snprintf(p->gcnArchName, sizeof(p->gcnArchName), "%s",
           arch ? arch : "gfx942:sramecc+:xnack-");
  return hipSuccess;
}
#endif

/* The loaded image and its size, which a shared-object ELF64 gives by its
 * section header table (ld.lld puts it last). */
static const unsigned char *loadedImage;
static size_t loadedSize;

static size_t elfSize(const unsigned char *image) {
  uint64_t shoff;
  uint16_t shentsize, shnum;
  memcpy(&shoff, image + 0x28, sizeof(shoff));
  memcpy(&shentsize, image + 0x3a, sizeof(shentsize));
  memcpy(&shnum, image + 0x3c, sizeof(shnum));
  return (size_t)(shoff + (uint64_t)shentsize * shnum);
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
  loadedImage = image;
  loadedSize = elfSize(image);
  *module = &fakeModule;
  return hipSuccess;
}

/* True if the image's string tables hold `name` as a whole symbol name. */
static int hasSymbol(const char *name) {
  size_t n = strlen(name) + 1;
  for (size_t at = 1; at + n <= loadedSize; ++at)
    if (loadedImage[at - 1] == '\0' && memcmp(loadedImage + at, name, n) == 0)
      return 1;
  return 0;
}

FAKE_API int hipModuleGetFunction(void **function, void *module, const char *name) {
  FILE *log = openLog();
  if (log) {
    fprintf(log, "hipModuleGetFunction %s\n", name);
    fclose(log);
  }
  if (module != &fakeModule || shouldFail("function") || !hasSymbol(name))
    return hipErrorNotFound;
  *function = &fakeFunction;
  return hipSuccess;
}

FAKE_API int hipModuleUnload(void *module) {
  FILE *log = openLog();
  if (log) {
    fprintf(log, "hipModuleUnload\n");
    fclose(log);
  }
  return module == &fakeModule ? hipSuccess : hipErrorInvalidValue;
}

/* Accepts only the form the shim must use: kernelParams, no `extra`. */
FAKE_API int hipModuleLaunchKernel(void *function, unsigned gx, unsigned gy,
                                   unsigned gz, unsigned bx, unsigned by,
                                   unsigned bz, unsigned shared, void *stream,
                                   void **kernelParams, void **extra) {
  FILE *log = openLog();
  int wellFormed = function == &fakeFunction && kernelParams && !extra;
  if (log) {
    fprintf(log, "hipModuleLaunchKernel grid=%u,%u,%u block=%u,%u,%u shared=%u stream=%p\n",
            gx, gy, gz, bx, by, bz, shared, stream);
    if (!wellFormed) {
      fprintf(log, "malformed launch (function, kernelParams or extra)\n");
    } else {
      void **param = kernelParams;
#define DSV4_KERNEL_ARG(Name, name, kind) LOG_##kind(#name, *param++);
#define LOG_ptr(name, p) fprintf(log, " %s=0x%llx", name, (unsigned long long)*(const uint64_t *)(p))
#define LOG_i32(name, p) fprintf(log, " %s=%d", name, *(const int32_t *)(p))
      fprintf(log, "params:");
#include "dsv4/ABI/KernelArgs.def"
      fprintf(log, "\n");
    }
    fclose(log);
  }
  if (!wellFormed)
    return hipErrorInvalidValue;
  return shouldFail("launch") ? hipErrorLaunchFailure : hipSuccess;
}
