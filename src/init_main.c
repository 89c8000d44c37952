/* init_main.c: nsl-init, the container's pid 1, a static program so that it
 * runs in any root (see init.c). nsl carries it inside (init_blob.S). */
#include <stdlib.h>

#include "init.h"

int main(int argc, char **argv) {
  return argc == 2 ? nsl_init_main((pid_t)atoi(argv[1])) : 125;
}
