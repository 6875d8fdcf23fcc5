/* LaunchArgsLayout.c - dsv4-launch-args-layout [compress]: print dsv4_launch_args (or, with
 * "compress", dsv4_compress_launch_args) as C lays it out, one "name offset size" line per
 * field, then "size N". python.test compares the Python wrapper's ctypes structures with
 * this. The fields come from the tables the structs' own come from (KernelArgs.def,
 * LaunchFacts.def). */
#include "dsv4/Runtime/dsv4_runtime.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define FIELD(type, name)                                                      \
  printf("%s %zu %zu\n", #name, offsetof(type, name), sizeof(((type *)0)->name));

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "compress")) {
#define DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind) FIELD(dsv4_compress_launch_args, name)
#include "dsv4/ABI/KernelArgs.def"
#define DSV4_LAUNCH_FACT(type, name) FIELD(dsv4_compress_launch_args, name)
#define DSV4_KV_LAUNCH_FACT(type, name)
#define DSV4_COMPRESS_LAUNCH_FACT(type, name) FIELD(dsv4_compress_launch_args, name)
#include "dsv4/ABI/LaunchFacts.def"
    printf("size %zu\n", sizeof(dsv4_compress_launch_args));
    return 0;
  }
#define DSV4_KERNEL_ARG(Name, name, kind) FIELD(dsv4_launch_args, name)
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) FIELD(dsv4_launch_args, name)
#include "dsv4/ABI/KernelArgs.def"
#define DSV4_LAUNCH_FACT(type, name) FIELD(dsv4_launch_args, name)
#include "dsv4/ABI/LaunchFacts.def"
  printf("size %zu\n", sizeof(dsv4_launch_args));
  return 0;
}
