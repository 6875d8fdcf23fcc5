/* LaunchArgsLayout.c - dsv4-launch-args-layout: print dsv4_launch_args as C
 * lays it out, one "name offset size" line per field, then "size N".
 * python.test compares the Python wrapper's ctypes structure with this. The
 * fields come from the tables the struct's own come from (KernelArgs.def,
 * LaunchFacts.def). */
#include "dsv4/Runtime/dsv4_runtime.h"

#include <stddef.h>
#include <stdio.h>

#define FIELD(name)                                                            \
  printf("%s %zu %zu\n", #name, offsetof(dsv4_launch_args, name),              \
         sizeof(((dsv4_launch_args *)0)->name));

int main(void) {
#define DSV4_KERNEL_ARG(Name, name, kind) FIELD(name)
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) FIELD(name)
#include "dsv4/ABI/KernelArgs.def"
#define DSV4_LAUNCH_FACT(type, name) FIELD(name)
#include "dsv4/ABI/LaunchFacts.def"
  printf("size %zu\n", sizeof(dsv4_launch_args));
  return 0;
}
