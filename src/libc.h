/* libc.h: what glibc declares and musl does not, so that nsl builds with
 * either. glibc (2.36) has wrappers for the new mount API and pidfds and
 * names errnos and signals; musl (1.2.3) has none of them: here they are
 * system calls and tables (libc.c). With glibc it only includes
 * <sys/pidfd.h>. */
#ifndef NSL_LIBC_H
#define NSL_LIBC_H

#include <sys/types.h> /* defines __GLIBC__ with glibc */

#ifdef __GLIBC__
#include <sys/pidfd.h>
#else
#include <fcntl.h>
#include <linux/mount.h> /* glibc's <sys/mount.h> has these */
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

static inline int fsopen(const char *fs, unsigned int flags) {
  return (int)syscall(SYS_fsopen, fs, flags);
}
static inline int fsconfig(int fd, unsigned int cmd, const char *key,
                           const void *value, int aux) {
  return (int)syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}
static inline int fsmount(int fd, unsigned int flags, unsigned int attr) {
  return (int)syscall(SYS_fsmount, fd, flags, attr);
}
static inline int move_mount(int from_dirfd, const char *from, int to_dirfd,
                             const char *to, unsigned int flags) {
  return (int)syscall(SYS_move_mount, from_dirfd, from, to_dirfd, to, flags);
}
static inline int open_tree(int dirfd, const char *path, unsigned int flags) {
  return (int)syscall(SYS_open_tree, dirfd, path, flags);
}
static inline int mount_setattr(int dirfd, const char *path, unsigned int flags,
                                struct mount_attr *attr, size_t size) {
  return (int)syscall(SYS_mount_setattr, dirfd, path, flags, attr, size);
}
static inline int pidfd_open(pid_t pid, unsigned int flags) {
  return (int)syscall(SYS_pidfd_open, pid, flags);
}
static inline int pidfd_send_signal(int pidfd, int sig, siginfo_t *info,
                                    unsigned int flags) {
  return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags);
}

/* The C library's words for a signal: musl's do not depend on the locale. */
static inline const char *sigdescr_np(int sig) { return strsignal(sig); }

/* "ENOENT" for ENOENT, NULL for a number that has no name. */
const char *strerrorname_np(int err);
/* "TERM" for SIGTERM, NULL for a real-time or unknown signal. */
const char *sigabbrev_np(int sig);
#endif

#endif
