/* tty.c: ptys and the console relay (see tty.h). Plain C, no lua_State. */
#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/major.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int nsl_poll_retry(struct pollfd *fds, nfds_t n, int timeout) {
  long long deadline = now_ms() + timeout;
  for (;;) {
    int rc = poll(fds, n, timeout);
    if (rc >= 0 || errno != EINTR)
      return rc;
    if (timeout > 0) {
      long long left = deadline - now_ms();
      timeout = left > 0 ? (int)left : 0;
    }
  }
}

static ssize_t read_retry(int fd, char *buf, size_t len) {
  ssize_t got;
  do
    got = read(fd, buf, len);
  while (got < 0 && errno == EINTR);
  return got;
}

/* All of buf, through short writes and EINTR. */
static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t put = write(fd, buf, len);
    if (put < 0 && errno == EINTR)
      continue;
    if (put < 0)
      return -1;
    buf += put;
    len -= (size_t)put;
  }
  return 0;
}

/* The slave of master: from the master itself (TIOCGPTPEER), so that
 * whatever a container put at path (a symlink, another devpts) is never
 * opened; on kernels before 4.13 by path, refused (EXDEV) unless it is the
 * master's own pty by device number. */
static int open_peer(int master, const char *path) {
  int flags = O_RDWR | O_NOCTTY | O_CLOEXEC, n, fd, err;
  struct stat st;
  fd = ioctl(master, TIOCGPTPEER, flags);
  if (fd >= 0 || (errno != EINVAL && errno != ENOTTY))
    return fd;
  if (ioctl(master, TIOCGPTN, &n) != 0)
    return -1;
  if ((fd = open(path, flags | O_NOFOLLOW)) < 0)
    return -1;
  if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
      st.st_rdev == makedev(UNIX98_PTY_SLAVE_MAJOR, (unsigned)n))
    return fd;
  err = fstat(fd, &st) == 0 ? EXDEV : errno;
  close(fd);
  errno = err;
  return -1;
}

int nsl_open_pty(int *master, int *slave, char *path, size_t size,
                 const char **step) {
  int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), err;
  if (m < 0)
    return *step = "posix_openpt", -1;
  if (grantpt(m) != 0)
    *step = "grantpt";
  else if (unlockpt(m) != 0)
    *step = "unlockpt";
  else if ((err = ptsname_r(m, path, size)) != 0)
    *step = "ptsname_r", errno = err;
  else if ((*slave = open_peer(m, path)) < 0)
    *step = "open";
  else
    return *master = m, 0;
  err = errno;
  close(m);
  errno = err;
  return -1;
}

/* ---- the console relay ----------------------------------------------------
 */

static int relay_fail(nsl_relay *r, const char *call, int fd) {
  r->failed = call;
  r->failed_fd = fd;
  return -1;
}

/* The master gets fd 0's window size, when fd 0 is a terminal. */
static void copy_winsize(int master) {
  struct winsize ws;
  if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
    ioctl(master, TIOCSWINSZ, &ws);
}

/* Consume the queued SIGWINCHs (the signalfd is non-blocking), then pass
 * the size on once. */
static int relay_winch(nsl_relay *r) {
  struct signalfd_siginfo si;
  while (read(r->winch, &si, sizeof si) == (ssize_t)sizeof si)
    ;
  copy_winsize(r->master);
  return 0;
}

/* fd 0 -> master. 0 to go on, 1 when the master hung up, -1 on error.
 * End of file, or EIO from a hung-up terminal, stops reading fd 0 only. */
static int relay_in(nsl_relay *r) {
  char buf[4096];
  ssize_t got = read_retry(r->in, buf, sizeof buf);
  if (got == 0 || (got < 0 && errno == EIO))
    return r->in = -1, 0;
  if (got < 0)
    return errno == EAGAIN ? 0 : relay_fail(r, "read", r->in);
  if (write_all(r->master, buf, (size_t)got) != 0)
    return errno == EIO ? 1 : relay_fail(r, "write", r->master);
  return 0;
}

/* master -> fd 1. 0 to go on, 1 when the master hung up (read gives EIO
 * once no slave fd is open: see pty(7)), -1 on error. */
static int relay_out(nsl_relay *r) {
  char buf[4096];
  ssize_t got = read_retry(r->master, buf, sizeof buf);
  if (got == 0 || (got < 0 && errno == EIO))
    return 1;
  if (got < 0)
    return errno == EAGAIN ? 0 : relay_fail(r, "read", r->master);
  if (write_all(STDOUT_FILENO, buf, (size_t)got) != 0)
    return relay_fail(r, "write", STDOUT_FILENO);
  return 0;
}

/* The child exited: copy what the master holds without waiting for more.
 * A pty's poll flushes the pending input first (n_tty_poll), so what the
 * child wrote before it exited is there. */
static int relay_drain(nsl_relay *r) {
  struct pollfd p = {r->master, POLLIN, 0};
  int rc = 0;
  while (rc == 0 && nsl_poll_retry(&p, 1, 0) > 0)
    rc = relay_out(r);
  return rc < 0 ? -1 : 0;
}

static int relay_loop(nsl_relay *r) {
  for (;;) {
    struct pollfd p[4] = {{r->winch, POLLIN, 0},
                          {r->in, POLLIN, 0},
                          {r->master, POLLIN, 0},
                          {r->pidfd, POLLIN, 0}};
    if (nsl_poll_retry(p, 4, -1) < 0)
      return relay_fail(r, "poll", -1);
    int rc = 0;
    /* the size first: the input read next may be a reaction to it */
    if (p[0].revents)
      rc = relay_winch(r);
    if (rc == 0 && p[1].revents)
      rc = relay_in(r);
    if (rc == 0 && p[2].revents)
      rc = relay_out(r);
    if (rc == 0 && p[3].revents)
      return relay_drain(r);
    if (rc != 0)
      return rc < 0 ? -1 : 0;
  }
}

/* SIGWINCH is blocked and read from a signalfd while the relay runs, and
 * the signal mask is restored after. */
int nsl_relay_run(nsl_relay *r, int master, pid_t pid) {
  *r = (nsl_relay){master, STDIN_FILENO, -1, -1, NULL, -1};
  if (pid > 0 && (r->pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0)
    return relay_fail(r, "pidfd_open", pid);
  sigset_t winch, old;
  sigemptyset(&winch);
  sigaddset(&winch, SIGWINCH);
  sigprocmask(SIG_BLOCK, &winch, &old);
  int rc;
  r->winch = signalfd(-1, &winch, SFD_CLOEXEC | SFD_NONBLOCK);
  if (r->winch < 0) {
    rc = relay_fail(r, "signalfd", -1);
  } else {
    copy_winsize(master);
    rc = relay_loop(r);
  }
  int err = errno;
  if (r->winch >= 0)
    close(r->winch);
  if (r->pidfd >= 0)
    close(r->pidfd);
  sigprocmask(SIG_SETMASK, &old, NULL);
  errno = err;
  return rc;
}
