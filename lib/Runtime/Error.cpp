//===- Error.cpp - thread-local failure message for the C API -------------===//
//
// A fixed thread-local buffer: formatting a message never allocates, so even
// an out-of-memory path can report itself.
//
//===----------------------------------------------------------------------===//
#include "Error.h"

#include <cstdarg>
#include <cstdio>

namespace {
thread_local char lastError[1024];
} // namespace

dsv4_status dsv4::rt::fail(dsv4_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(lastError, sizeof(lastError), fmt, ap);
  va_end(ap);
  return status;
}

void dsv4::rt::clearError() { lastError[0] = '\0'; }

extern "C" const char *dsv4_last_error(void) { return lastError; }

extern "C" const char *dsv4_status_name(dsv4_status status) {
  switch (status) {
  case DSV4_OK: return "DSV4_OK";
  case DSV4_ERR_INVALID_ARGUMENT: return "DSV4_ERR_INVALID_ARGUMENT";
  case DSV4_ERR_RUNTIME_UNAVAILABLE: return "DSV4_ERR_RUNTIME_UNAVAILABLE";
  case DSV4_ERR_LOAD_FAILED: return "DSV4_ERR_LOAD_FAILED";
  case DSV4_ERR_ARCH_MISMATCH: return "DSV4_ERR_ARCH_MISMATCH";
  case DSV4_ERR_KERNEL_NOT_FOUND: return "DSV4_ERR_KERNEL_NOT_FOUND";
  case DSV4_ERR_MISMATCH: return "DSV4_ERR_MISMATCH";
  case DSV4_ERR_MISALIGNED: return "DSV4_ERR_MISALIGNED";
  case DSV4_ERR_LAUNCH_FAILED: return "DSV4_ERR_LAUNCH_FAILED";
  case DSV4_ERR_IO: return "DSV4_ERR_IO";
  case DSV4_ERR_BAD_MANIFEST: return "DSV4_ERR_BAD_MANIFEST";
  case DSV4_ERR_OUT_OF_MEMORY: return "DSV4_ERR_OUT_OF_MEMORY";
  }
  return "DSV4_ERR_?";
}
