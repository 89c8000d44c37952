-- nsl.seccomp_default: the default seccomp profile of nsl containers, as
-- data (see nsl.seccomp for the fields). Copy this file, change it, and
-- run `nsl run busybox.lua --seccomp ./my-profile.lua`.
--
-- It is the OCI/Docker default profile (moby's profiles/seccomp/default.json,
-- the one podman writes into config.json) as of Docker Engine 25.0: that of
-- 24.0 without io_uring_setup, io_uring_enter and io_uring_register (moby
-- PR #46762: io_uring's operations bypass the filter, and it is a known
-- path out of containers). The syscalls moby added later (cachestat,
-- fchmodat2, map_shadow_stack, futex_wake/wait/requeue: PR #47341) are not
-- here. Everything else gets EPERM, and the list below is its allow list,
-- with these choices:
--   * its arch-specific entries (arch_prctl, modify_ldt, set_tls, ...) are
--     in the one list: libseccomp only adds a syscall on the architectures
--     that have it, which is what the profile's "includes.arches" say;
--   * names this libseccomp does not know are skipped (skip_unknown);
--   * the extras Docker adds for a container with more capabilities
--     (CAP_SYS_ADMIN: mount, unshare, setns, clone of namespaces, ...;
--     CAP_SYS_MODULE, CAP_SYS_TIME, CAP_SYS_PTRACE, CAP_SYS_NICE, CAP_BPF,
--     ...) are left out: nsl applies one profile whatever the capabilities.
--     chroot is in, as CAP_SYS_CHROOT is in Docker's default capability set;
--   * as in Docker without CAP_SYS_ADMIN: clone only without CLONE_NEW*
--     flags, clone3 fails with ENOSYS (so that libc falls back to clone,
--     whose flags a filter can see), unshare and setns are refused;
--   * added to Docker's: TIOCSTI (push input into a terminal) and TIOCLINUX
--     (its console relative, which can do the same) are refused, comparing
--     only the low 32 bits of the request (CVE-2019-10063).
-- s390's clone takes its flags second: Docker's s390 rule is not here.
local v = require("nsl.core").seccomp_values

-- CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|
-- CLONE_NEWPID|CLONE_NEWNET (2114060288 in Docker's profile)
local CLONE_NEW = v.CLONE_NEWNS | v.CLONE_NEWCGROUP | v.CLONE_NEWUTS | v.CLONE_NEWIPC |
  v.CLONE_NEWUSER | v.CLONE_NEWPID | v.CLONE_NEWNET

return {
  default = "errno EPERM",
  -- Docker's archMap: a 64-bit system also runs its 32-bit programs
  arches = {
    x86_64 = { "x86", "x32" },
    aarch64 = { "arm" },
    mips64 = { "mips", "mips64n32" },
    mips64n32 = { "mips", "mips64" },
    mipsel64 = { "mipsel", "mipsel64n32" },
    mipsel64n32 = { "mipsel", "mipsel64" },
    s390x = { "s390" },
  },
  skip_unknown = true,
  -- a binary tree of syscall numbers rather than a list: a syscall passes
  -- about 9 comparisons instead of up to 350
  optimize = 2,
  allow = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset",
    "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
    "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
    "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect",
    "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
    "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
    "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group",
    "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
    "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64",
    "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr",
    "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futex", "futex_time64", "futex_waitv", "futimesat", "getcpu", "getcwd",
    "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid",
    "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid",
    "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
    "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list",
    "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid",
    "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch",
    "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl",
    "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get",
    "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat",
    "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr",
    "lstat", "lstat64", "madvise", "membarrier", "memfd_create", "memfd_secret",
    "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall",
    "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
    "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
    "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
    "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect",
    "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe",
    "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64",
    "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6",
    "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
    "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
    "remap_file_pages", "removexattr", "rename", "renameat", "renameat2",
    "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
    "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
    "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
    "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
    "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl",
    "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
    "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid",
    "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer",
    "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32",
    "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list",
    "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32",
    "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack",
    "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair",
    "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat",
    "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time",
    "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
    "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
    "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64",
    "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink",
    "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice",
    "wait4", "waitid", "waitpid", "write", "writev",
    -- Docker: from kernel 4.8, where seccomp is checked again after a tracer
    "process_vm_readv", "process_vm_writev", "ptrace",
    -- Docker: per architecture
    "sync_file_range2", "swapcontext", "arm_fadvise64_64", "arm_sync_file_range",
    "breakpoint", "cacheflush", "set_tls", "arch_prctl", "modify_ldt",
    "s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr",
    "riscv_flush_icache",
    -- Docker with CAP_SYS_CHROOT, which its default capabilities have
    "chroot",
  },
  rules = {
    -- not AF_VSOCK sockets
    { "socket", args = { { 0, "ne", v.AF_VSOCK } } },
    -- PER_LINUX, UNAME26, PER_LINUX32, UNAME26|PER_LINUX32, and the query
    { "personality", args = { { 0, "eq", 0x0 } } },
    { "personality", args = { { 0, "eq", 0x0008 } } },
    { "personality", args = { { 0, "eq", 0x20000 } } },
    { "personality", args = { { 0, "eq", 0x20008 } } },
    { "personality", args = { { 0, "eq", 0xffffffff } } },
    -- fork and threads, not new namespaces
    { "clone", args = { { 0, "masked_eq", CLONE_NEW, 0 } } },
    { "clone3", action = "errno ENOSYS" },
    -- no typing into the terminal: the low 32 bits are the request
    { "ioctl", action = "errno EPERM", args = { { 1, "masked_eq", 0xffffffff, v.TIOCSTI } } },
    { "ioctl", action = "errno EPERM", args = { { 1, "masked_eq", 0xffffffff, v.TIOCLINUX } } },
  },
}
