/* FakeHip.c - a stand-in libamdhip64.so for CPU tests of the HIP back end.
 *
 * Implements exactly the symbols the shim dlsyms and records every call to
 * the file named by $DSV4_FAKE_HIP_LOG, the kernel-argument buffer as a hex
 * dump, so tests can check the packing byte by byte.
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

FAKE_API int hipModuleLoadData(void **module, const void *image) {
  FILE *log = openLog();
  int ok = !shouldFail("load") && memcmp(image, "\x7f" "ELF", 4) == 0;
  if (log) {
    fprintf(log, "hipModuleLoadData -> %s\n", ok ? "ok" : "hipErrorInvalidImage");
    fclose(log);
  }
  if (!ok)
    return hipErrorInvalidImage;
  *module = &fakeModule;
  return hipSuccess;
}

FAKE_API int hipModuleGetFunction(void **function, void *module, const char *name) {
  FILE *log = openLog();
  if (log) {
    fprintf(log, "hipModuleGetFunction %s\n", name);
    fclose(log);
  }
  if (module != &fakeModule || shouldFail("function"))
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

/* Accepts only the `extra` form the shim must use:
 * {BUFFER_POINTER, buf, BUFFER_SIZE, &size, END}, kernelParams == NULL. */
FAKE_API int hipModuleLaunchKernel(void *function, unsigned gx, unsigned gy,
                                   unsigned gz, unsigned bx, unsigned by,
                                   unsigned bz, unsigned shared, void *stream,
                                   void **kernelParams, void **extra) {
  FILE *log = openLog();
  int wellFormed = function == &fakeFunction && !kernelParams && extra &&
                   extra[0] == (void *)1 && extra[2] == (void *)2 &&
                   extra[4] == (void *)3 && extra[1] && extra[3];
  if (log) {
    fprintf(log, "hipModuleLaunchKernel grid=%u,%u,%u block=%u,%u,%u shared=%u stream=%p\n",
            gx, gy, gz, bx, by, bz, shared, stream);
    if (!wellFormed) {
      fprintf(log, "malformed launch (function, kernelParams or extra)\n");
    } else {
      const uint8_t *buf = (const uint8_t *)extra[1];
      size_t size = *(const size_t *)extra[3];
      fprintf(log, "kernarg size=%zu\n", size);
      for (size_t i = 0; i < size; i += 16) {
        fprintf(log, "%04zx:", i);
        for (size_t j = i; j < i + 16 && j < size; ++j)
          fprintf(log, " %02x", buf[j]);
        fprintf(log, "\n");
      }
    }
    fclose(log);
  }
  if (!wellFormed)
    return hipErrorInvalidValue;
  return shouldFail("launch") ? hipErrorLaunchFailure : hipSuccess;
}
