/* Loads a code object through the installed shim and prints the status and message it got. */
#include <dsv4/Runtime/dsv4_runtime.h>
#include <stdio.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: consumer BINARY\n");
    return 2;
  }
  dsv4_module *mod = NULL;
  dsv4_status status = dsv4_module_load_file(argv[1], &mod);
  printf("%s: %s\n", dsv4_status_name(status), status ? dsv4_last_error() : "loaded");
  if (mod)
    dsv4_module_unload(mod);
  return status == DSV4_OK ? 0 : 1;
}
