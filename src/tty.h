/* tty.h: ptys, poll and the console relay for lfd.c. Plain C, no
 * lua_State (like sys.h): each returns -1 with errno set on failure. */
#ifndef NSL_TTY_H
#define NSL_TTY_H

#include <poll.h>
#include <stddef.h>
#include <sys/types.h>

/* poll(2), retried after EINTR with what is left of timeout (-1: none). */
int nsl_poll_retry(struct pollfd *fds, nfds_t n, int timeout);

/* A pty pair, both ends O_NOCTTY|O_CLOEXEC (see pty(7), posix_openpt(3)),
 * the slave's path in path. On failure *step is the call that failed. */
int nsl_open_pty(int *master, int *slave, char *path, size_t size,
                 const char **step);

/* What the relay works with, and which call failed when it returns -1. */
typedef struct nsl_relay {
  int master; /* the console's pty master */
  int in;     /* fd 0, or -1 after its end of file */
  int winch;  /* a signalfd for SIGWINCH */
  int pidfd;  /* the child whose exit ends the relay, or -1 */
  const char *failed;
  int failed_fd;
} nsl_relay;

/* Copy fd 0 to master and master to fd 1, passing window-size changes on,
 * until the master hangs up or the process pid (when above 0) exits: 0, or
 * -1 with r->failed the call that failed (on r->failed_fd, or -1). */
int nsl_relay_run(nsl_relay *r, int master, pid_t pid);

#endif
