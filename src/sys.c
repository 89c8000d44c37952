/* sys.c: plain C helpers shared by the binding areas (see sys.h). */
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

pid_t nsl_sys_clone(unsigned long flags, int *pidfd) {
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = flags | (pidfd ? CLONE_PIDFD : 0);
  args.pidfd = (unsigned long long)(uintptr_t)pidfd;
  args.exit_signal = SIGCHLD;
  /* stack 0: the child runs on a copy of the parent's stack, like fork */
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid >= 0 || errno != ENOSYS)
    return (pid_t)pid;
  if (flags & CLONE_NEWTIME) /* its bit is CSIGNAL's for the old clone */
    return errno = EINVAL, -1;
  if (pidfd)
    *pidfd = -1;
  return (pid_t)syscall(SYS_clone,
                        (flags | SIGCHLD) | (pidfd ? CLONE_PIDFD : 0), NULL,
                        pidfd, NULL, NULL);
}

int nsl_sys_pivot_root(const char *new_root, const char *put_old) {
  return (int)syscall(SYS_pivot_root, new_root, put_old);
}

int nsl_sys_openat2(int dirfd, const char *path, int flags, mode_t mode,
                    unsigned long long resolve) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (unsigned long long)flags;
  /* O_TMPFILE includes O_DIRECTORY's bit: test it whole, or every
   * O_DIRECTORY open would pass a mode and get EINVAL */
  how.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0;
  how.resolve = resolve;
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static int copy_all(int from, int to, off_t size) {
  while (size > 0) {
    ssize_t n = sendfile(to, from, NULL, (size_t)size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n == 0 ? (errno = EIO, -1) : -1;
    size -= n;
  }
  return 0;
}

int nsl_sys_sealed_copy(const char *path) {
  int src = nsl_sys_open(path, O_RDONLY | O_CLOEXEC, 0);
  if (src < 0)
    return -1;
  struct stat st;
  int fd = -1, err;
  if (fstat(src, &st) != 0)
    goto out;
  fd = memfd_create("nsl", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    goto out;
  if (copy_all(src, fd, st.st_size) != 0 || fchmod(fd, 0555) != 0 ||
      fcntl(fd, F_ADD_SEALS,
            F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) {
    err = errno;
    close(fd);
    errno = err;
    fd = -1;
  }
out:
  err = errno;
  close(src);
  errno = err;
  return fd;
}

int nsl_sys_sealed_memfd(const void *data, size_t len) {
  int fd = memfd_create("nsl", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return -1;
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      goto fail;
    p += n;
    len -= (size_t)n;
  }
  if (fchmod(fd, 0555) == 0 &&
      fcntl(fd, F_ADD_SEALS,
            F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) == 0)
    return fd;
fail:;
  int err = errno;
  close(fd);
  errno = err;
  return -1;
}

void nsl_sys_close_keep_errno(int fd) {
  int err = errno;
  if (fd >= 0)
    close(fd);
  errno = err;
}

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452 /* Linux 6.6; one number on every architecture */
#endif

int nsl_sys_chmod_fd(int fd, mode_t mode) {
  if (syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH) == 0)
    return 0;
  if (errno != ENOSYS)
    return -1;
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  return chmod(proc, mode);
}

ssize_t nsl_sys_send_fd(int sock, int fd, const void *data, size_t len) {
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = {(void *)data, len};
  struct msghdr msg = {.msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
  memset(control.buf, 0, sizeof control.buf);
  if (fd < 0) { /* the bytes alone */
    msg.msg_control = NULL;
    msg.msg_controllen = 0;
  }
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  if (cmsg) {
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  ssize_t n;
  do
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n;
}

ssize_t nsl_sys_recv_fd(int sock, void *buf, size_t size, int *fd) {
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = {buf, size};
  struct msghdr msg = {.msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
  ssize_t n;
  do
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  *fd = -1;
  if (n < 0)
    return n;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      memcpy(fd, CMSG_DATA(c), sizeof(int));
  return n;
}
