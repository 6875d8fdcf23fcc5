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
  // Indexed by dsv4_status, whose values run from 0 without gaps.
  static constexpr const char *kNames[] = {
      "DSV4_OK",           "DSV4_ERR_INVALID_ARGUMENT", "DSV4_ERR_RUNTIME_UNAVAILABLE",
      "DSV4_ERR_LOAD_FAILED", "DSV4_ERR_ARCH_MISMATCH", "DSV4_ERR_KERNEL_NOT_FOUND",
      "DSV4_ERR_MISMATCH", "DSV4_ERR_MISALIGNED",       "DSV4_ERR_LAUNCH_FAILED",
      "DSV4_ERR_IO",       "DSV4_ERR_BAD_MANIFEST",     "DSV4_ERR_OUT_OF_MEMORY"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == DSV4_ERR_OUT_OF_MEMORY + 1,
                "one name per dsv4_status");
  return status >= 0 && status <= DSV4_ERR_OUT_OF_MEMORY ? kNames[status] : "DSV4_ERR_?";
}
