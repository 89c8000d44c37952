/* init_main.c: nsl-init, the container's pid 1, a static program so that it
 * runs in any root (see init.c). nsl carries it inside (init_blob.S).
 *
 * usage: nsl-init [-r FD] [-t FD] [-k FD]... [-p SIG] [-s FD] [-R ROOTFS] --
 * PATH ARGV0 [ARG...] -r FD      the report fd: "CODE message" when the command
 * cannot start -p SIG     the signal this init gets when its parent dies (an
 * exec may clear it: set again first thing) -s FD      the status fd: the
 * command's exit code, one byte, once no other process is left (before this
 * init's own exit) -t FD      the command's terminal: its stdio and controlling
 * tty -k FD      an fd the command keeps besides stdio (ascending; up to 64) -R
 * ROOTFS  the root named in the report The command's environment is the init's.
 *
 * usage: nsl-wait -w PID [-s FD]
 * nsl's own process once the container's command runs (nsl.core's
 * wait_exec): passes signals on to PID (the init, or the command itself
 * without one) until the status fd FD gives the command's code, or without
 * it until PID ends, and exits with the code (see nsl_wait_main).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

#define MAX_KEEP 64

static void say(const char *s) {
  ssize_t rc = write(STDERR_FILENO, s, strlen(s));
  (void)rc; /* nothing better to do when stderr is gone */
}

/* An fd from its decimal text, min and up, or -1. */
static int parse_fd(const char *s, int min) {
  char *end;
  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  long n = strtol(s, &end, 10);
  if (errno != 0 || *end != '\0' || n < min || n > INT_MAX)
    return -1;
  return (int)n;
}

static int usage(const char *what, const char *arg) {
  say("nsl-init: ");
  say(what);
  if (arg) {
    say(" '");
    say(arg);
    say("'");
  }
  say("\nusage: nsl-init [-r FD] [-t FD] [-k FD]... [-p SIG] [-s FD] [-R "
      "ROOTFS] -- PATH ARGV0 [ARG...]\n"
      "       nsl-wait -w PID [-s FD]\n");
  return 125;
}

int main(int argc, char **argv) {
  static int keep[MAX_KEEP];
  struct nsl_init_command cmd = {
      .report = -1, .tty = -1, .keep = keep, .status = -1, .pdeathsig = 0};
  int init = -1; /* -w: nsl-wait's */
  int i = 1;
  for (; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
    const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (!val)
      return usage("no value for", opt);
    if (strcmp(opt, "-r") == 0) {
      /* the report is not stdio: that is the command's */
      if ((cmd.report = parse_fd(val, 3)) < 0)
        return usage("bad report fd", val);
    } else if (strcmp(opt, "-t") == 0) {
      if ((cmd.tty = parse_fd(val, 0)) < 0)
        return usage("bad terminal fd", val);
    } else if (strcmp(opt, "-k") == 0) {
      int fd = parse_fd(val, 3);
      if (fd < 0 || (cmd.nkeep > 0 && fd <= keep[cmd.nkeep - 1]))
        return usage("bad fd to keep (3 and up, ascending)", val);
      if (cmd.nkeep == MAX_KEEP)
        return usage("too many fds to keep", val);
      keep[cmd.nkeep++] = fd;
    } else if (strcmp(opt, "-p") == 0) {
      if ((cmd.pdeathsig = parse_fd(val, 1)) < 0 || cmd.pdeathsig >= 65)
        return usage("bad parent-death signal", val);
    } else if (strcmp(opt, "-s") == 0) {
      if ((cmd.status = parse_fd(val, 3)) < 0)
        return usage("bad status fd", val);
    } else if (strcmp(opt, "-w") == 0) {
      if ((init = parse_fd(val, 1)) < 0)
        return usage("bad init pid", val);
    } else if (strcmp(opt, "-R") == 0) {
      cmd.rootfs = val;
    } else {
      return usage("unknown option", opt);
    }
  }
  if (init > 0) {
    if (i < argc)
      return usage("-w takes no command", NULL);
    return nsl_wait_main(init, cmd.status);
  }
  if (i + 2 >= argc || argv[i + 1][0] == '\0')
    return usage("no command", NULL);
  cmd.path = argv[i + 1];
  cmd.argv = argv + i + 2;
  /* the argument strings lie end to end (execve(2)'s stack) */
  cmd.args = argv[0];
  cmd.args_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) - argv[0]);
  return nsl_init_main(&cmd);
}
