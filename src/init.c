/* init.c: pid 1 of a container, as `docker run --init` has it.
 *
 * nsl.container replaces its Lua process with a sealed in-memory copy of
 * nsl-init running this: no Lua, a few pages of memory, and no path from the
 * container back to the host's nsl binary through /proc/1/exe
 * (CVE-2019-5736). The init forks the command itself, so that nothing of
 * the container runs before pid 1 is this program, and holds it at a gate
 * until the init has dropped its capabilities: the command never shares
 * its uid with a privileged pid 1. Forking this small process instead of
 * the Lua one copies a few pages, not the whole Lua heap. */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

/* What nsl.container blocks before the exec: keep the two lists equal. */
static const int forwarded[] = {SIGHUP,  SIGINT,  SIGQUIT,  SIGTERM,
                                SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};

/* Append s to the text at buf (size bytes, used *len), as far as it fits:
 * no printf, which would triple the init's size (it is copied at every
 * start). */
static void append(char *buf, size_t size, size_t *len, const char *s) {
  while (*s && *len + 1 < size)
    buf[(*len)++] = *s++;
  buf[*len] = '\0';
}

/* "CODE what[ 'path']: strerror(err)" to the report fd, one write (the
 * reader reads once), with " (in rootfs R)" for the command's exec; nothing
 * without a report fd. */
static void report(const struct nsl_init_command *cmd, int code,
                   const char *what, int err, int of_command) {
  char text[4096];
  size_t len = 0;
  if (cmd->report < 0)
    return;
  append(text, sizeof text, &len,
         code == 125   ? "125 "
         : code == 126 ? "126 "
                       : "127 ");
  append(text, sizeof text, &len, what);
  if (of_command) {
    append(text, sizeof text, &len, " '");
    append(text, sizeof text, &len, cmd->path);
    append(text, sizeof text, &len, "'");
  }
  append(text, sizeof text, &len, ": ");
  append(text, sizeof text, &len, strerror(err));
  if (of_command && cmd->rootfs) {
    append(text, sizeof text, &len, " (in rootfs ");
    append(text, sizeof text, &len, cmd->rootfs);
    append(text, sizeof text, &len, ")");
  }
  ssize_t rc = write(cmd->report, text, len);
  (void)rc; /* nothing better to do when the reader is gone */
}

/* close_range(2) with flags over every fd from 3 up but keep (n fds,
 * ascending): 0 or -1 with errno. */
static int close_ranges(const int *keep, int n, unsigned flags) {
  unsigned first = 3;
  for (int i = 0; i < n; i++) {
    if (keep[i] < (int)first)
      continue; /* stdio, -1 for none, or a repeat */
    unsigned fd = (unsigned)keep[i];
    if (fd > first && syscall(SYS_close_range, first, fd - 1, flags) != 0)
      return -1;
    first = fd + 1;
  }
  return (int)syscall(SYS_close_range, first, ~0U, flags);
}

static int kept(int fd, const int *keep, int n) {
  for (int i = 0; i < n; i++)
    if (keep[i] == fd)
      return 1;
  return 0;
}

/* getdents64(2)'s record (<dirent.h>'s would need opendir, and malloc). */
struct fd_entry {
  uint64_t ino;
  int64_t off;
  unsigned short reclen;
  unsigned char type;
  char name[];
};

/* The fd that name (a /proc/self/fd entry) is, or -1 for "." and "..". */
static int fd_of(const char *name) {
  int fd = 0;
  const char *c = name;
  for (; *c >= '0' && *c <= '9' && fd < 1 << 24; c++)
    fd = fd * 10 + (*c - '0');
  return *c || c == name ? -1 : fd;
}

/* Close (flags 0) or mark close-on-exec every fd from 3 up but keep, as
 * /proc/self/fd lists them: 0 or -1 with errno. A close releases the fd
 * whatever it returns; a mark may find the fd closed since the listing. */
static int close_each(const int *keep, int n, unsigned flags) {
  int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return -1;
  char buf[4096];
  long got;
  int failed = 0;
  while (!failed && (got = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0)
    for (long at = 0; at < got && !failed;) {
      const struct fd_entry *e = (const void *)(buf + at);
      at += e->reclen;
      int fd = fd_of(e->name);
      if (fd < 3 || fd == dir || kept(fd, keep, n))
        continue;
      if (!(flags & CLOSE_RANGE_CLOEXEC))
        close(fd);
      else if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 && errno != EBADF)
        failed = 1;
    }
  int err = errno;
  close(dir);
  errno = err;
  return failed || got < 0 ? -1 : 0;
}

/* close_ranges, or where close_range is refused (a kernel before 5.11, or
 * a seccomp profile written for one, which runc and crun run) close_each,
 * as runc falls back. */
static int close_except(const int *keep, int n, unsigned flags) {
  if (close_ranges(keep, n, flags) == 0)
    return 0;
  return close_each(keep, n, flags);
}

/* Mark every fd from 3 up close-on-exec but cmd->keep, so that only stdio
 * and those reach the command (CVE-2024-21626 was a leaked fd). */
static int close_on_exec(const struct nsl_init_command *cmd) {
  for (int i = 0; i < cmd->nkeep; i++)
    if (fcntl(cmd->keep[i], F_SETFD, 0) != 0)
      return -1;
  return close_except(cmd->keep, cmd->nkeep, CLOSE_RANGE_CLOEXEC);
}

/* The command's side of the fork: wait at the gate, then become it. */
static _Noreturn void run_command(const struct nsl_init_command *cmd,
                                  int gate) {
  char go;
  /* one byte: go; EOF without it: the init gave up (and said why) */
  if (read(gate, &go, 1) != 1 || go != 'g')
    _exit(125);
  close(gate);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (cmd->tty >= 0) {
    setsid(); /* a session of its own, whose controlling tty is the pty */
    for (int fd = 0; fd <= 2; fd++)
      if (dup2(cmd->tty, fd) < 0) {
        report(cmd, 125, "init: dup2 the terminal", errno, 0);
        _exit(125);
      }
    if (ioctl(0, TIOCSCTTY, 0) != 0) {
      report(cmd, 125, "init: TIOCSCTTY", errno, 0);
      _exit(125);
    }
  }
  if (close_on_exec(cmd) != 0) {
    report(cmd, 125, "close_on_exec", errno, 0);
    _exit(125);
  }
  execve(cmd->path, cmd->argv, environ);
  int err = errno, code = err == ENOENT ? 127 : 126;
  report(cmd, code, "exec", err, 1);
  _exit(code);
}

/* Drop every capability of this process, the bounding set first where
 * CAP_SETPCAP allows (a non-root init may not, and never executes
 * anything that could gain from it). Only those still in it: a read costs
 * the kernel nothing, a drop a copy of the credentials, and the container
 * usually kept 14 of 41. */
static int drop_capabilities(void) {
  int in;
  for (int cap = 0; (in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0)) >= 0; cap++)
    if (in && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
      break; /* EPERM; the reads end at EINVAL past the last capability */
  /* capset(2)'s header and data, version 3 (<linux/capability.h>, which
   * musl-gcc does not see) */
  struct {
    uint32_t version;
    int pid;
  } head = {0x20080522, 0};
  struct {
    uint32_t effective, permitted, inheritable;
  } none[2];
  memset(none, 0, sizeof none);
  return (int)syscall(SYS_capset, &head, none);
}

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

/* Close every fd of the init from 3 up but its own (n, any order, -1 for
 * none): what nsl inherited from its caller would otherwise stay open in
 * pid 1, where the container's root could open it through /proc/1/fd (a
 * host directory, CVE-2024-21626's way out). The command's fds go too: its
 * copies are its own. */
static int close_inherited(int *own, int n) {
  for (int i = 1; i < n; i++) /* sort: n is 4 */
    for (int j = i; j > 0 && own[j - 1] > own[j]; j--) {
      int t = own[j];
      own[j] = own[j - 1];
      own[j - 1] = t;
    }
  return close_except(own, n, 0);
}

/* Start the command, held at a gate until this process has no capability
 * and no inherited fd left; its pid, or -1 when it could not (reported). */
static pid_t start(const struct nsl_init_command *cmd, int sfd) {
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) != 0) {
    report(cmd, 125, "init: pipe", errno, 0);
    return -1;
  }
  pid_t child = fork();
  if (child < 0) {
    report(cmd, 125, "init: fork", errno, 0);
    return -1;
  }
  if (child == 0) {
    close(gate[1]);
    run_command(cmd, gate[0]);
  }
  close(gate[0]);
  /* the caller's terminal stays out of pid 1, whose fds the command may
   * open through /proc/1/fd: the container's own pty replaces it */
  if (cmd->tty >= 0)
    for (int fd = 0; fd <= 2; fd++)
      if (dup2(cmd->tty, fd) < 0) {
        report(cmd, 125, "init: dup2 the terminal", errno, 0);
        goto refuse;
      }
  int own[4] = {sfd, gate[1], cmd->report, cmd->status};
  /* fail closed: no command beside a privileged init or one that holds
   * what the command must not reach */
  if (close_inherited(own, 4) != 0) {
    report(cmd, 125, "init: close_range", errno, 0);
    goto refuse;
  }
  if (drop_capabilities() != 0) {
    report(cmd, 125, "init: drop capabilities: capset", errno, 0);
    goto refuse;
  }
  ssize_t rc = write(gate[1], "g", 1);
  (void)rc; /* should it fail, the command reads EOF and ends with 125 */
  close(gate[1]);
  if (cmd->report >= 0)
    close(cmd->report); /* the command's copy closes at its exec */
  return child;
refuse:
  kill(child, SIGKILL);
  close(gate[1]); /* EOF: the command ends itself */
  return -1;
}

/* The command's status (one byte) to cmd->status once this init is the
 * last process it knows of: every child reaped, so nothing of the
 * container runs any more (a process that joined the pid namespace from
 * outside ends with this init all the same). The caller may then go on
 * while the kernel tears the namespaces down in this process's exit. The
 * init's arguments are blanked first: nothing reads the command's text in
 * /proc/1/cmdline once the caller has gone on. */
static void report_status(const struct nsl_init_command *cmd, int code) {
  if (cmd->status < 0 || waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
    return; /* a child is left: the caller waits for the exit, which ends it */
  if (cmd->args)
    memset(cmd->args, 0, cmd->args_len);
  unsigned char byte = (unsigned char)code;
  ssize_t rc = write(cmd->status, &byte, 1);
  (void)rc; /* without it, the caller waits for this process's exit */
}

/* Block the forwarded signals and SIGCHLD, and return a signalfd for them
 * (or -1 with errno). */
static int watch_signals(void) {
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
    sigaddset(&set, forwarded[i]);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL);
  return signalfd(-1, &set, SFD_CLOEXEC);
}

/* The status of a process that ended, in shell convention. */
static int shell_code(int st) {
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int nsl_init_main(const struct nsl_init_command *cmd) {
  /* out of the container's reach: a process of the same uid could else
   * open this init's fds through /proc/1/fd (the status pipe: a forged
   * code ending nsl early) or ptrace it; the command, a fresh exec, is
   * dumpable again */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    report(cmd, 125, "init: prctl PR_SET_DUMPABLE", errno, 0);
    return 125;
  }
  /* the parent-death signal again: a change of ids before the exec, or the
   * exec itself (capabilities gained), cleared it; a parent that died before
   * this has closed the report's read end */
  if (cmd->pdeathsig > 0 && prctl(PR_SET_PDEATHSIG, cmd->pdeathsig) != 0) {
    report(cmd, 125, "init: prctl PR_SET_PDEATHSIG", errno, 0);
    return 125;
  }
  struct pollfd reader = {.fd = cmd->report, .events = POLLOUT};
  if (cmd->report >= 0 && poll(&reader, 1, 0) == 1 &&
      (reader.revents & POLLERR))
    return 125;
  int sfd = watch_signals();
  if (sfd < 0) {
    report(cmd, 125, "init: signalfd", errno, 0);
    return 125;
  }
  pid_t child = start(cmd, sfd);
  if (child < 0) {
    while (wait(NULL) > 0)
      ; /* the command, killed at the gate */
    return 125;
  }
  int status;
  /* the child may have ended before this loop reads the signalfd */
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
done:;
  int code = shell_code(status);
  report_status(cmd, code);
  return code;
}

int nsl_wait_main(int init, int status) {
  int sfd = watch_signals(); /* -1: no signal passed on, the same wait */
  for (;;) {
    struct pollfd fds[2] = {{status, POLLIN, 0}, {sfd, POLLIN, 0}};
    int st;
    if (status < 0) { /* EOF, or no status fd: the child's own end decides */
      pid_t got = waitpid(init, &st, sfd < 0 ? 0 : WNOHANG);
      if (got == init)
        return shell_code(st);
      if (got < 0 && errno != EINTR)
        return 125; /* no such child: nothing left to wait for */
    } else if (poll(fds, sfd < 0 ? 1 : 2, -1) < 0) {
      continue; /* EINTR */
    } else if (fds[0].revents) {
      unsigned char code;
      ssize_t n = read(status, &code, 1);
      if (n == 1)
        return code;
      if (n == 0 || errno != EINTR)
        status = -1;
      continue;
    }
    struct signalfd_siginfo si;
    if (sfd >= 0 && read(sfd, &si, sizeof si) == sizeof si &&
        si.ssi_signo != SIGCHLD)
      kill(init, (int)si.ssi_signo);
  }
}
