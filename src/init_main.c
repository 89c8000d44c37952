/* init_main.c: nsl-init, the container's pid 1, a static program so that it
 * runs in any root (see init.c). nsl carries it inside (init_blob.S). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

/* The child's pid from its decimal text, or -1. 0 or 1 would make the init
 * forward signals to its own group or to itself (kill(2)), so only 2 and up
 * are a child. */
static pid_t parse_child(const char *s) {
  char *end;
  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  long n = strtol(s, &end, 10);
  if (errno != 0 || *end != '\0' || n < 2 || n > INT_MAX)
    return -1;
  return (pid_t)n;
}

static void say(const char *s) {
  ssize_t rc = write(STDERR_FILENO, s, strlen(s));
  (void)rc; /* nothing better to do when stderr is gone */
}

/* The gate's fd from its decimal text (3 and up: stdio is the command's
 * too), or -1. */
static int parse_gate(const char *s) {
  char *end;
  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  long n = strtol(s, &end, 10);
  if (errno != 0 || *end != '\0' || n < 3 || n > INT_MAX)
    return -1;
  return (int)n;
}

/* usage: nsl-init PID [GATE_FD] */
int main(int argc, char **argv) {
  pid_t child = argc == 2 || argc == 3 ? parse_child(argv[1]) : -1;
  if (child < 0) {
    say("nsl-init: bad pid '");
    say(argc >= 2 ? argv[1] : "");
    say("'\n");
    return 125;
  }
  int gate = argc == 3 ? parse_gate(argv[2]) : -1;
  if (argc == 3 && gate < 0) {
    say("nsl-init: bad gate fd '");
    say(argv[2]);
    say("'\n");
    return 125;
  }
  return nsl_init_main(child, gate);
}
