/* sys.h: plain C helpers used by several binding areas. No lua_State here:
 * each returns -1 with errno set on failure, and never prints or exits. */
#ifndef NSL_SYS_H
#define NSL_SYS_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/types.h>

/* fork(2) with CLONE_NEW* flags: 0 in the child, the child's pid in the
 * parent. With pidfd != NULL the parent also gets a pidfd (close-on-exec).
 * clone3 where the kernel has it (needed for CLONE_NEWTIME), clone else. */
pid_t nsl_sys_clone(unsigned long flags, int *pidfd);

int nsl_sys_pivot_root(const char *new_root, const char *put_old);

/* open(2) as openat(AT_FDCWD, ...): musl's open() follows every O_CLOEXEC
 * open with an fcntl(F_SETFD) for kernels before 2.6.23; openat does not
 * (a start opens a dozen files). */
static inline int nsl_sys_open(const char *path, int flags, mode_t mode) {
  return openat(AT_FDCWD, path, flags, mode);
}

/* openat2(2) with RESOLVE_* flags; ENOSYS where the kernel lacks it. */
int nsl_sys_openat2(int dirfd, const char *path, int flags, mode_t mode,
                    unsigned long long resolve);

/* A sealed in-memory copy of the file at path (memfd, close-on-exec):
 * nothing can write to it, so a process running it cannot be used to
 * overwrite the original (CVE-2019-5736). */
int nsl_sys_sealed_copy(const char *path);
/* The same for bytes in memory. */
int nsl_sys_sealed_memfd(const void *data, size_t len);

/* The id of the mount that the object fd refers to is on (statx(2)
 * STATX_MNT_ID, as in /proc/self/mountinfo's first field). */
int nsl_sys_mount_id(int fd, uint64_t *id);

/* close(2) an fd (or nothing for -1) keeping errno for the failure being
 * reported. */
void nsl_sys_close_keep_errno(int fd);

/* fchmodat2(2) on an O_PATH fd (Linux 6.6), else chmod(2) through the fd's
 * magic link, which names exactly that inode. */
int nsl_sys_chmod_fd(int fd, mode_t mode);

/* The bytes data[0..len) and, unless fd is -1, fd (SCM_RIGHTS) in one
 * message (sendmsg(2), no SIGPIPE). */
ssize_t nsl_sys_send_fd(int sock, int fd, const void *data, size_t len);
/* Receive one message into buf; *fd is the fd it carried (close-on-exec),
 * or -1. */
ssize_t nsl_sys_recv_fd(int sock, void *buf, size_t size, int *fd);

#endif
