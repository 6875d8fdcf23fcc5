//===- DynamicLibrary.cpp - open the vendor runtime at run time -----------===//
//
// Shared by both back ends. The handle is never closed: the vendor runtimes
// keep global state (devices, contexts) that must outlive every module.
//
//===----------------------------------------------------------------------===//
#include "Backend.h"

#include "Error.h"

#include <cstdlib>
#include <dlfcn.h>

dsv4_status dsv4::rt::openRuntimeLibrary(const char *envVar,
                                         const char *defaultName,
                                         void *&handle) {
  const char *override = std::getenv(envVar);
  const char *path = override && *override ? override : defaultName;
  handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (!handle)
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle)
    return DSV4_OK;
  const char *why = dlerror();
  return fail(DSV4_ERR_RUNTIME_UNAVAILABLE, "cannot load '%s' (%s %s): %s",
              path, override && *override ? "set by" : "override with", envVar,
              why ? why : "unknown dlopen error");
}
