//===- Error.h - thread-local failure message for the C API ----*- C++ -*-===//
//
// Every failing path calls fail(), which records the message that
// dsv4_last_error() returns and hands the status back, so a caller can write
// `return fail(DSV4_ERR_IO, "cannot open '%s'", path);`; DSV4_TRY passes a
// failure up.
//
//===----------------------------------------------------------------------===//
#ifndef DSV4_RUNTIME_ERROR_H
#define DSV4_RUNTIME_ERROR_H

#include "dsv4/Runtime/dsv4_runtime.h"

namespace dsv4::rt {

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
dsv4_status fail(dsv4_status status, const char *fmt, ...);

// Clears the message at the start of each public entry point.
void clearError();

} // namespace dsv4::rt

// Returns from the enclosing function with `expr`'s status unless it is DSV4_OK.
#define DSV4_TRY(expr)                                                         \
  do {                                                                         \
    if (dsv4_status dsv4TryStatus = (expr))                                    \
      return dsv4TryStatus;                                                    \
  } while (false)

#endif // DSV4_RUNTIME_ERROR_H
