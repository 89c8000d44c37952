/* init.h: the container's tiny init (pid 1), nsl-init. */
#ifndef NSL_INIT_H
#define NSL_INIT_H

#include <stddef.h>

/* The command the init starts, and what it needs of the caller. */
struct nsl_init_command {
  const char *path;  /* executed as it is: the caller looked it up */
  char *const *argv; /* NULL-terminated; the environment is the init's */
  int report;        /* "CODE message" goes here when the exec fails, or -1 */
  int tty;           /* the command's terminal and stdio, or -1 */
  const int *keep;   /* fds the command gets besides stdio, ascending */
  int nkeep;
  const char *rootfs; /* named in the report, or NULL */
  int status;         /* the command's status (a byte) goes here, or -1 */
  int pdeathsig;      /* the signal for the parent's death, or 0 */
  char *args;         /* the init's own argument text (blanked before the */
  size_t args_len;    /* status goes out), or NULL */
};

/* Fork the command and hold it at a gate until this process has dropped
 * every capability it has (the command keeps its own) and closed every fd
 * it inherited but stdio, then pass the forwarded signals on to it, reap
 * every process that ends, and return its status in shell convention
 * (128+N for signal N); that status also goes to cmd->status as one byte
 * when no child is left. The caller blocked the signals before it executed
 * the init (see nsl.container's run_init), so none is lost before this
 * starts. */
int nsl_init_main(const struct nsl_init_command *cmd);

/* nsl's own process once the container's command runs (nsl.core's
 * wait_exec): pass the forwarded signals on to init (the container's
 * init, or its command without one: this process's child) until status
 * gives the command's code, one byte, and return it; on EOF, or without a
 * status fd (-1), reap init and return its own status, in shell
 * convention. The caller blocked the signals before its exec, as for
 * nsl_init_main. */
int nsl_wait_main(int init, int status);

#endif
