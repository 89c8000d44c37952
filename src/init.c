/* init.c: pid 1 of a container, as `docker run --init` has it.
 *
 * nsl.container forks the command, then replaces itself with a sealed
 * in-memory copy of nsl running this loop: no Lua, a few pages of memory,
 * and no path from the container back to the host's nsl binary through
 * /proc/1/exe (CVE-2019-5736). The command is held at a gate until then,
 * so it never sees a pid 1 that is still the host's nsl. */
#include "init.h"

#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* What nsl.container blocks before the fork: keep the two lists equal. */
static const int forwarded[] = {SIGHUP,  SIGINT,  SIGQUIT,  SIGTERM,
                                SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};

/* Reap everything that has ended; child's status in *status when it is
 * among them. */
static int reap(pid_t child, int *status) {
  int st, found = 0;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
    if (pid == child) {
      *status = st;
      found = 1;
    }
  return found;
}

/* Let the child held at the gate go on: one byte. Should the write fail,
 * the child reads EOF and ends itself, and the init reports its status. */
static void release(int gate) {
  if (gate < 0)
    return;
  ssize_t rc = write(gate, "g", 1);
  (void)rc;
  close(gate);
}

int nsl_init_main(pid_t child, int gate) {
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
    sigaddset(&set, forwarded[i]);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd < 0)
    return 125; /* the gate closes at exit: the child ends at EOF */
  release(gate);
  int status;
  /* the child may have ended before the signalfd existed */
  if (reap(child, &status))
    goto done;
  for (;;) {
    struct signalfd_siginfo si;
    ssize_t n = read(sfd, &si, sizeof si);
    if (n < 0 && errno == EINTR)
      continue;
    if (n != sizeof si)
      return 125;
    if (si.ssi_signo != SIGCHLD)
      kill(child, (int)si.ssi_signo);
    else if (reap(child, &status))
      break;
  }
done:
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
