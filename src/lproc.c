/* lproc.c: processes, namespaces and signals. */
#include "lnsl.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The /proc/self/ns names. */
static const nsl_Flag namespace_flags[] = {
    {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"mnt", CLONE_NEWNS},
    {"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID}, {"time", CLONE_NEWTIME},
    {"user", CLONE_NEWUSER},     {"uts", CLONE_NEWUTS}, {NULL, 0}};

/* unshare(2) also takes back what a thread shares with its parent. */
static const nsl_Flag unshare_flags[] = {{"cgroup", CLONE_NEWCGROUP},
                                         {"files", CLONE_FILES},
                                         {"fs", CLONE_FS},
                                         {"ipc", CLONE_NEWIPC},
                                         {"mnt", CLONE_NEWNS},
                                         {"net", CLONE_NEWNET},
                                         {"pid", CLONE_NEWPID},
                                         {"sysvsem", CLONE_SYSVSEM},
                                         {"time", CLONE_NEWTIME},
                                         {"user", CLONE_NEWUSER},
                                         {"uts", CLONE_NEWUTS},
                                         {NULL, 0}};

/* Push the words of a failed call's flags and return them, keeping errno
 * for the nsl_fail that follows (pushing may allocate). */
static const char *flag_words(lua_State *L, unsigned long flags,
                              const nsl_Flag *words) {
  int err = errno;
  const char *s = nsl_pushflagnames(L, flags, words);
  errno = err;
  return s;
}

/* ---- signals: one parser for every binding that takes them --------------- */

/* A set of signals at arg: "all", one signal, or a list of them. glibc's
 * sigaddset refuses its own internal signals (32, 33): they stay out. */
static void check_sigset(lua_State *L, int arg, sigset_t *set) {
  sigemptyset(set);
  if (lua_type(L, arg) == LUA_TSTRING &&
      strcmp(lua_tostring(L, arg), "all") == 0) {
    sigfillset(set);
  } else if (lua_type(L, arg) == LUA_TTABLE) {
    lua_Integer n = (lua_Integer)nsl_checklen(L, arg, NSL_LEN_MAX);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_geti(L, arg, i);
      sigaddset(set, nsl_checksignal(L, -1, arg, 1));
      lua_pop(L, 1);
    }
  } else {
    sigaddset(set, nsl_checksignal(L, arg, arg, 1));
  }
}

/* A signal's name without SIG ("CHLD"), or its number (real-time ones). */
static void push_signal(lua_State *L, int sig) {
  const char *name = sigabbrev_np(sig);
  if (name)
    lua_pushstring(L, name);
  else
    lua_pushinteger(L, sig);
}

/* The same as a string, for messages. */
static const char *signal_label(lua_State *L, int sig) {
  const char *name = sigabbrev_np(sig);
  return name ? lua_pushstring(L, name) : lua_pushfstring(L, "%d", sig);
}

static void push_sigset(lua_State *L, const sigset_t *set) {
  lua_newtable(L);
  for (int sig = 1; sig < NSIG; sig++)
    if (sigismember(set, sig) == 1) {
      push_signal(L, sig);
      lua_rawseti(L, -2, luaL_len(L, -2) + 1);
    }
}

/* ---- processes ----------------------------------------------------------- */

/* opts = { pidfd = true }: check it all before forking. */
static int check_clone_opts(lua_State *L, int arg) {
  static const char *const known[] = {"pidfd", NULL};
  if (!nsl_checkoptions(L, arg, known))
    return 0;
  lua_getfield(L, arg, "pidfd");
  int want = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return want;
}

static int l_clone(lua_State *L) {
  unsigned long flags = nsl_optflags(L, 1, namespace_flags, "namespace");
  int want_pidfd = check_clone_opts(L, 2);
  int pidfd = -1, *slot = want_pidfd ? nsl_newfd(L) : NULL;
  pid_t pid = nsl_sys_clone(flags, want_pidfd ? &pidfd : NULL);
  if (pid < 0)
    return nsl_fail(L, "clone '%s'", flag_words(L, flags, namespace_flags));
  lua_pushinteger(L, pid);
  if (pid == 0 || !want_pidfd)
    return 1;
  nsl_own(L, slot, pidfd);
  lua_insert(L, -2); /* pid, pidfd */
  return 2;
}

static int l__exit(lua_State *L) { _exit((int)luaL_optinteger(L, 1, 0)); }

/* execve(2), or execvpe(3) with search_path. env nil keeps environ. */
static int do_exec(lua_State *L, const char *call, int search_path) {
  const char *path = luaL_checkstring(L, 1);
  int keep_env = lua_isnoneornil(L, 3); /* before argv's userdata is pushed */
  char **argv = nsl_checkstrings(L, 2, 0, NULL);
  char **envp = keep_env ? environ : nsl_checkstrings(L, 3, 1, NULL);
  if (search_path)
    execvpe(path, argv, envp);
  else
    execve(path, argv, envp);
  return nsl_fail(L, "%s '%s'", call, path);
}

static int l_exec(lua_State *L) { return do_exec(L, "exec", 0); }

/* spawn's opts: sigmask (the signals blocked in the new process; default
 * this process's) and setsid (a session of its own). */
static short check_spawn_opts(lua_State *L, int arg, sigset_t *mask) {
  static const char *const known[] = {"setsid", "sigmask", NULL};
  short flags = 0;
  if (!nsl_checkoptions(L, arg, known))
    return 0;
  if (lua_getfield(L, arg, "sigmask") != LUA_TNIL) {
    check_sigset(L, lua_gettop(L), mask);
    flags |= POSIX_SPAWN_SETSIGMASK;
  }
  if (lua_getfield(L, arg, "setsid") != LUA_TNIL && lua_toboolean(L, -1))
    flags |= POSIX_SPAWN_SETSID;
  lua_pop(L, 2);
  return flags;
}

/* posix_spawn(3): glibc's is clone(CLONE_VM | CLONE_VFORK) + execve, so
 * nothing of this process is copied and neither side takes copy-on-write
 * faults after: the cheapest way for a process with a Lua heap to start
 * another program. An exec failure comes back here, as a failed exec. */
static int l_spawn(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  sigset_t mask;
  short flags = check_spawn_opts(L, 4, &mask); /* before argv's userdata */
  int keep_env = lua_isnoneornil(L, 3);
  char **argv = nsl_checkstrings(L, 2, 0, NULL);
  char **envp = keep_env ? environ : nsl_checkstrings(L, 3, 1, NULL);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, flags);
  if (flags & POSIX_SPAWN_SETSIGMASK)
    posix_spawnattr_setsigmask(&attr, &mask);
  pid_t pid;
  int rc = posix_spawn(&pid, path, NULL, &attr, argv, envp);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    errno = rc;
    return nsl_fail(L, "spawn '%s'", path);
  }
  lua_pushinteger(L, pid);
  return 1;
}

static int l_execp(lua_State *L) { return do_exec(L, "execp", 1); }

static int l_exec_sealed(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int keep_env = lua_isnoneornil(L, 3);
  char **argv = nsl_checkstrings(L, 2, 0, NULL);
  char **envp = keep_env ? environ : nsl_checkstrings(L, 3, 1, NULL);
  int fd = nsl_sys_sealed_copy(path);
  if (fd < 0)
    return nsl_fail(L, "exec_sealed '%s'", path);
  syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
  int err = errno;
  close(fd);
  errno = err;
  return nsl_fail(L, "exec_sealed '%s'", path);
}

static int l_getpgid(lua_State *L) {
  pid_t pid = nsl_optpid(L, 1, 0, 0);
  pid_t pgid = getpgid(pid);
  if (pgid < 0)
    return nsl_fail(L, "getpgid %d", (int)pid);
  lua_pushinteger(L, pgid);
  return 1;
}

static int l_getpgrp(lua_State *L) {
  lua_pushinteger(L, getpgrp());
  return 1;
}

static int l_getpid(lua_State *L) {
  lua_pushinteger(L, getpid());
  return 1;
}

static int l_getppid(lua_State *L) {
  lua_pushinteger(L, getppid());
  return 1;
}

static int l_gettid(lua_State *L) {
  lua_pushinteger(L, gettid());
  return 1;
}

/* One process only: 0 and negatives are groups or every process to kill(2),
 * and a slip there with KILL as root ends the machine. */
static int l_kill(lua_State *L) {
  pid_t pid = nsl_checkpid(L, 1, 1);
  int sig = nsl_checksignal(L, 2, 2, 0); /* 0 only checks that pid exists */
  const char *label = signal_label(L, sig);
  if (kill(pid, sig) != 0)
    return nsl_fail(L, "kill %d '%s'", (int)pid, label);
  return nsl_ok(L);
}

static int l_setpgid(lua_State *L) {
  pid_t pid = nsl_checkpid(L, 1, 0), pgid = nsl_checkpid(L, 2, 0);
  if (setpgid(pid, pgid) != 0)
    return nsl_fail(L, "setpgid %d %d", (int)pid, (int)pgid);
  return nsl_ok(L);
}

static int l_setsid(lua_State *L) {
  pid_t sid = setsid();
  if (sid < 0)
    return nsl_fail(L, "setsid");
  lua_pushinteger(L, sid);
  return 1;
}

static int l_tcgetpgrp(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  pid_t pgid = tcgetpgrp(fd);
  if (pgid < 0)
    return nsl_fail(L, "tcgetpgrp %d", fd);
  lua_pushinteger(L, pgid);
  return 1;
}

/* A caller in a background group gets SIGTTOU unless it blocks or ignores
 * it: see tcsetpgrp(3). A job-control shell blocks it. */
static int l_tcsetpgrp(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  pid_t pgid = nsl_checkpid(L, 2, 1);
  if (tcsetpgrp(fd, pgid) != 0)
    return nsl_fail(L, "tcsetpgrp %d %d", fd, (int)pgid);
  return nsl_ok(L);
}

static const nsl_Flag wait_flags[] = {{"continued", WCONTINUED},
                                      {"nohang", WNOHANG},
                                      {"untraced", WUNTRACED},
                                      {NULL, 0}};

/* pid -1 is any child, 0 or -pgid a group's (waitpid(2)); INT_MIN has no
 * group to name. */
static int l_wait(lua_State *L) {
  pid_t pid = nsl_optpid(L, 1, -INT_MAX, -1);
  int options = (int)nsl_optflags(L, 2, wait_flags, "wait option");
  int status;
  pid_t got;
  do
    got = waitpid(pid, &status, options);
  while (got < 0 && errno == EINTR);
  if (got < 0)
    return nsl_fail(L, "wait %d", (int)pid);
  lua_pushinteger(L, got);
  if (got == 0) /* nohang and nothing to report */
    return 1;
  if (WIFEXITED(status)) {
    lua_pushliteral(L, "exited");
    lua_pushinteger(L, WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    lua_pushliteral(L, "killed");
    lua_pushinteger(L, WTERMSIG(status));
  } else if (WIFSTOPPED(status)) {
    lua_pushliteral(L, "stopped");
    lua_pushinteger(L, WSTOPSIG(status));
  } else {
    lua_pushliteral(L, "continued");
    lua_pushinteger(L, 0);
  }
  return 3;
}

/* ---- namespaces and names ------------------------------------------------ */

static int l_gethostname(lua_State *L) {
  char name[HOST_NAME_MAX + 1];
  if (gethostname(name, sizeof name) != 0)
    return nsl_fail(L, "gethostname");
  name[HOST_NAME_MAX] = '\0'; /* not terminated if truncated: gethostname(2) */
  lua_pushstring(L, name);
  return 1;
}

static int l_setdomainname(lua_State *L) {
  size_t len;
  const char *name = luaL_checklstring(L, 1, &len);
  if (setdomainname(name, len) != 0)
    return nsl_fail(L, "setdomainname '%s'", name);
  return nsl_ok(L);
}

static int l_sethostname(lua_State *L) {
  size_t len;
  const char *name = luaL_checklstring(L, 1, &len);
  if (sethostname(name, len) != 0)
    return nsl_fail(L, "sethostname '%s'", name);
  return nsl_ok(L);
}

static int setns_fail(lua_State *L, const char *target, int nstype) {
  if (nstype == 0)
    return nsl_fail(L, "setns %s", target);
  const char *words = flag_words(L, (unsigned long)nstype, namespace_flags);
  return nsl_fail(L, "setns %s '%s'", target, words);
}

/* fd: a /proc/PID/ns/NAME fd or a pidfd (then nstype is a set of words);
 * a path is opened and closed here. */
static int l_setns(lua_State *L) {
  int nstype = (int)nsl_optflags(L, 2, namespace_flags, "namespace");
  if (lua_type(L, 1) == LUA_TSTRING) {
    const char *path = lua_tostring(L, 1);
    const char *target = lua_pushfstring(L, "'%s'", path);
    int fd = nsl_sys_open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
      return setns_fail(L, target, nstype);
    int rc = setns(fd, nstype), err = errno;
    close(fd);
    errno = err;
    return rc != 0 ? setns_fail(L, target, nstype) : nsl_ok(L);
  }
  int fd = nsl_checkfd(L, 1);
  const char *target = lua_pushfstring(L, "%d", fd);
  if (setns(fd, nstype) != 0)
    return setns_fail(L, target, nstype);
  return nsl_ok(L);
}

static int l_unshare(lua_State *L) {
  unsigned long flags = nsl_optflags(L, 1, unshare_flags, "namespace");
  if (unshare((int)flags) != 0)
    return nsl_fail(L, "unshare '%s'", flag_words(L, flags, unshare_flags));
  return nsl_ok(L);
}

/* ---- signal delivery ----------------------------------------------------- */

static const nsl_Flag nonblock_flags[] = {{"nonblock", O_NONBLOCK}, {NULL, 0}};

static int l_pidfd_open(lua_State *L) {
  pid_t pid = nsl_checkpid(L, 1, 1);
  unsigned flags = (unsigned)nsl_optflags(L, 2, nonblock_flags, "pidfd flag");
  int *slot = nsl_newfd(L);
  int fd = pidfd_open(pid, flags); /* always close-on-exec */
  if (fd < 0)
    return nsl_fail(L, "pidfd_open %d", (int)pid);
  nsl_own(L, slot, fd);
  return 1;
}

static int l_pidfd_send_signal(lua_State *L) {
  int pidfd = nsl_checkfd(L, 1);
  int sig = nsl_checksignal(L, 2, 2, 0);
  const char *label = signal_label(L, sig);
  if (pidfd_send_signal(pidfd, sig, NULL, 0) != 0)
    return nsl_fail(L, "pidfd_send_signal %d '%s'", pidfd, label);
  return nsl_ok(L);
}

/* One struct signalfd_siginfo: the signal and who sent it (for CHLD, the
 * child). Signals queue in the kernel, so a read may follow many. */
static int l_read_signal(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  struct signalfd_siginfo si;
  ssize_t got;
  do
    got = read(fd, &si, sizeof si);
  while (got < 0 && errno == EINTR);
  if (got >= 0 && got != (ssize_t)sizeof si)
    errno = EINVAL; /* end of file or a short read: not a signalfd */
  if (got != (ssize_t)sizeof si)
    return nsl_fail(L, "read_signal %d", fd);
  push_signal(L, (int)si.ssi_signo);
  lua_pushinteger(L, (lua_Integer)si.ssi_pid);
  return 2;
}

static int l_signalfd(lua_State *L) {
  sigset_t set;
  check_sigset(L, 1, &set);
  int flags = (int)nsl_optflags(L, 2, nonblock_flags, "signalfd flag");
  int *slot = nsl_newfd(L);
  /* the signals must also be blocked (sigprocmask), or they are delivered
   * as usual and never read: see signalfd(2) */
  int fd = signalfd(-1, &set, SFD_CLOEXEC | (flags ? SFD_NONBLOCK : 0));
  if (fd < 0)
    return nsl_fail(L, "signalfd");
  nsl_own(L, slot, fd);
  return 1;
}

static int l_sigprocmask(lua_State *L) {
  static const char *const hows[] = {"block", "unblock", "setmask", NULL};
  static const int how_values[] = {SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK};
  int how = how_values[luaL_checkoption(L, 1, NULL, hows)];
  sigset_t set, old;
  check_sigset(L, 2, &set);
  if (sigprocmask(how, &set, &old) != 0)
    return nsl_fail(L, "sigprocmask '%s'", lua_tostring(L, 1));
  lua_pushboolean(L, 1);
  push_sigset(L, &old);
  return 2;
}

/* The C library's words for a signal: what a message about a process
 * killed by it says (sigdescr_np, not the locale's strsignal). */
static int l_strsignal(lua_State *L) {
  const char *text = sigdescr_np(nsl_checksignal(L, 1, 1, 1));
  lua_pushstring(L, text ? text : "Unknown signal");
  return 1;
}

/* ---- the container's init ------------------------------------------------ */

/* The static nsl-init (src/init.c), carried in the core as bytes by
 * init_blob.S: nsl and nsl/core.so alike. */
extern const char nsl_init_blob[], nsl_init_blob_end[];

/* Execute a sealed in-memory copy of nsl-init with argv and envp: returns
 * only on failure, with errno. */
static void exec_init_blob(char **argv, char **envp) {
  int fd = nsl_sys_sealed_memfd(nsl_init_blob,
                                (size_t)(nsl_init_blob_end - nsl_init_blob));
  if (fd < 0)
    return;
  syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
  nsl_sys_close_keep_errno(fd);
}

/* The fd at stack index idx, an option's value (what) of argument arg: a
 * number or an fd object; else an argument error that names the option. */
static int opt_fd(lua_State *L, int idx, int arg, const char *what) {
  if (lua_type(L, idx) == LUA_TNUMBER) {
    int isnum;
    lua_Integer n = lua_tointegerx(L, idx, &isnum);
    if (isnum && n >= 0 && n <= INT_MAX)
      return (int)n;
  } else if (luaL_testudata(L, idx, NSL_FD)) {
    return nsl_checkfd(L, idx);
  }
  return luaL_argerror(L, arg, lua_pushfstring(L, "%s is not an fd", what));
}

/* The fd at key of the options table at arg (its number or object), min
 * and up; -1 when the key is nil. */
static int init_fd(lua_State *L, int arg, const char *key, int min) {
  int fd = -1;
  if (lua_getfield(L, arg, key) != LUA_TNIL) {
    fd = opt_fd(L, lua_gettop(L), arg, key);
    if (fd < min)
      luaL_argerror(L, arg, lua_pushfstring(L, "%s %d is stdio", key, fd));
  }
  lua_pop(L, 1);
  return fd;
}

/* Append "-o N" to the init's argv (v, at *k); the number's text stays on
 * the stack in the table at strings. */
static void init_opt(lua_State *L, int strings, char **v, size_t *k,
                     const char *opt, const char *text) {
  v[(*k)++] = (char *)opt;
  lua_pushstring(L, text);
  v[(*k)++] = (char *)lua_tostring(L, -1);
  lua_rawseti(L, strings, (lua_Integer)luaL_len(L, strings) + 1);
}

static void init_fd_opt(lua_State *L, int strings, char **v, size_t *k,
                        const char *opt, int fd) {
  char text[16];
  snprintf(text, sizeof text, "%d", fd);
  init_opt(L, strings, v, k, opt, text);
}

/* init_exec(path, argv [, env [, opts]]): become the container's init from a
 * sealed in-memory copy of nsl-init, so that nothing in the container can
 * reach the host's nsl or lua5.4 through /proc/1/exe (CVE-2019-5736). The
 * init forks path with argv and env, holds it until it has dropped its own
 * capabilities, then forwards signals, reaps and exits as the command did.
 * opts: report (fd for "CODE message" when the command cannot start), tty
 * (the command's terminal), pass_fds (ascending fds it keeps besides
 * stdio), rootfs (named in the report), status (fd for the command's exit
 * code, one byte, once the init has no child left: before its own exit,
 * which tears the namespaces down), pdeathsig (the signal the init gets
 * when its parent dies, set again after the exec, which may clear it).
 * Returns only on failure. */
static int l_init_exec(lua_State *L) {
  static const char *const known[] = {
      "pass_fds", "pdeathsig", "report", "rootfs", "status", "tty", NULL};
  const char *path = luaL_checkstring(L, 1);
  int keep_env = lua_isnoneornil(L, 3);
  int has_opts = nsl_checkoptions(L, 4, known);
  size_t nargs, nkeep = 0;
  char **args = nsl_checkstrings(L, 2, 0, &nargs);
  luaL_argcheck(L, nargs > 0, 2, "no argv[0]");
  char **envp = keep_env ? environ : nsl_checkstrings(L, 3, 1, NULL);
  if (has_opts && lua_getfield(L, 4, "pass_fds") != LUA_TNIL) {
    if (!lua_istable(L, -1))
      return luaL_argerror(L, 4, "pass_fds is not a list of fds");
    nkeep = lua_rawlen(L, -1);
    luaL_argcheck(L, nkeep <= 64, 4, "pass_fds: more than 64 fds");
  } else if (!has_opts) {
    lua_pushnil(L);
  }
  int pass = lua_gettop(L);
  /* nsl-init, 6 options, a -k per fd, --, path, argv, NULL */
  char **v =
      lua_newuserdatauv(L, (14 + 2 * nkeep + 2 + nargs + 1) * sizeof *v, 1);
  lua_newtable(L); /* the option values' texts */
  lua_setiuservalue(L, -2, 1);
  lua_getiuservalue(L, -1, 1);
  int strings = lua_gettop(L);
  size_t k = 0;
  v[k++] = "nsl-init";
  int fds[3] = {-1, -1, -1};
  if (has_opts) {
    fds[0] = init_fd(L, 4, "report", 3);
    fds[1] = init_fd(L, 4, "tty", 0);
    fds[2] = init_fd(L, 4, "status", 3);
    if (fds[0] >= 0)
      init_fd_opt(L, strings, v, &k, "-r", fds[0]);
    if (fds[1] >= 0)
      init_fd_opt(L, strings, v, &k, "-t", fds[1]);
    if (fds[2] >= 0)
      init_fd_opt(L, strings, v, &k, "-s", fds[2]);
    if (lua_getfield(L, 4, "pdeathsig") != LUA_TNIL)
      init_fd_opt(L, strings, v, &k, "-p",
                  nsl_checksignal(L, lua_gettop(L), 4, 1));
    lua_pop(L, 1);
    int last = 2;
    for (size_t i = 1; i <= nkeep; i++) {
      lua_geti(L, pass, (lua_Integer)i);
      int fd = opt_fd(L, lua_gettop(L), 4, "an item of pass_fds");
      lua_pop(L, 1);
      if (fd <= last)
        return luaL_argerror(
            L, 4, "pass_fds: fds from 3 up, each once, in ascending order");
      last = fd;
      init_fd_opt(L, strings, v, &k, "-k", fd);
    }
    if (lua_getfield(L, 4, "rootfs") != LUA_TNIL)
      init_opt(L, strings, v, &k, "-R", luaL_checkstring(L, -1));
    lua_pop(L, 1);
  }
  v[k++] = "--";
  v[k++] = (char *)path;
  for (size_t i = 0; i <= nargs; i++)
    v[k++] = args[i]; /* with argv's NULL */
  /* everything is checked: now the fds go through the exec */
  for (int i = 0; i < 3; i++)
    if (fds[i] >= 0 && fcntl(fds[i], F_SETFD, 0) != 0)
      return nsl_fail(L, "init exec: fcntl %d", fds[i]);
  for (size_t i = 1; i <= nkeep; i++) {
    lua_geti(L, pass, (lua_Integer)i);
    int fd = opt_fd(L, lua_gettop(L), 4, "an item of pass_fds");
    lua_pop(L, 1);
    if (fcntl(fd, F_SETFD, 0) != 0)
      return nsl_fail(L, "init exec: fcntl %d", fd);
  }
  exec_init_blob(v, envp);
  return nsl_fail(L, "init exec for '%s'", path);
}

/* wait_exec(pid [, status]): become nsl's waiting parent, a sealed copy of
 * nsl-init in its wait mode (nsl_wait_main): it passes signals on to pid
 * (the container's init, or its command without one: a child of this
 * process) until status (the init's status pipe) gives the command's code,
 * or without status until pid ends, and exits with the code. This
 * process's Lua heap goes with the exec, while the command runs, not at
 * its exit. Every C stream is flushed first. Returns only on failure. */
static int l_wait_exec(lua_State *L) {
  lua_Integer pid = luaL_checkinteger(L, 1);
  luaL_argcheck(L, pid > 0 && pid <= INT_MAX, 1, "not a pid");
  int status = lua_isnoneornil(L, 2) ? -1 : opt_fd(L, 2, 2, "status");
  luaL_argcheck(L, status < 0 || status > 2, 2, "status is stdio");
  char pid_text[16], fd_text[16];
  snprintf(pid_text, sizeof pid_text, "%d", (int)pid);
  snprintf(fd_text, sizeof fd_text, "%d", status);
  char *v[] = {"nsl-wait", "-w", pid_text, "-s", fd_text, NULL};
  if (status < 0)
    v[3] = NULL; /* no -s */
  if (status >= 0 && fcntl(status, F_SETFD, 0) != 0)
    return nsl_fail(L, "wait exec: fcntl %d", status);
  fflush(NULL); /* what the script wrote, before its buffers go */
  exec_init_blob(v, environ);
  int err = errno;
  if (status >= 0)
    fcntl(status, F_SETFD, FD_CLOEXEC);
  errno = err;
  return nsl_fail(L, "wait exec for pid %d", (int)pid);
}

const nsl_Reg nsl_proc_lib[] = {
    {"_exit", l__exit, "_exit([code])",
     "_exit(2): end this process now, without Lua's or C's cleanup"},
    {"clone", l_clone, "clone(namespaces [, opts]) -> pid [, pidfd] | 0",
     "fork into new namespaces (user mnt pid uts ipc net cgroup time) with "
     "clone3(2): 0 in the child; opts {pidfd=true} adds a pidfd"},
    {"exec", l_exec, "exec(path, argv [, env])",
     "execve(2): argv[1] is argv[0], env a list of K=V and/or a map (nil: "
     "this environment); returns only on failure"},
    {"exec_sealed", l_exec_sealed, "exec_sealed(path, argv [, env])",
     "execute a sealed in-memory copy of path (memfd + execveat), so that the "
     "process cannot reach the original file"},
    {"execp", l_execp, "execp(file, argv [, env])",
     "execvpe(3): exec searching PATH for file; returns only on failure"},
    {"init_exec", l_init_exec, "init_exec(path, argv [, env [, opts]])",
     "become the container's init (a sealed copy of nsl-init), which starts "
     "path once it has dropped its own capabilities, forwards signals, reaps "
     "and exits as it does; opts: report, tty, pass_fds, rootfs, status, "
     "pdeathsig"},
    {"wait_exec", l_wait_exec, "wait_exec(pid [, status])",
     "become a small waiter (a sealed nsl-init) that passes signals on to pid "
     "(the container's init or command) until the init's status pipe gives "
     "the code, or pid ends, and exits with the code"},
    {"gethostname", l_gethostname, "gethostname() -> name",
     "gethostname(2): the host name of this uts namespace"},
    {"getpgid", l_getpgid, "getpgid([pid]) -> pgid",
     "getpgid(2): the process group of pid (default this process)"},
    {"getpgrp", l_getpgrp, "getpgrp() -> pgid",
     "getpgrp(2): this process's process group"},
    {"getpid", l_getpid, "getpid() -> pid",
     "getpid(2): this process's pid in its pid namespace"},
    {"getppid", l_getppid, "getppid() -> pid",
     "getppid(2): the parent's pid (0 if it is outside our pid namespace)"},
    {"gettid", l_gettid, "gettid() -> tid", "gettid(2): this thread's id"},
    {"kill", l_kill, "kill(pid, sig) -> true",
     "kill(2): send sig (a number or a name: TERM, SIGTERM, 0 to probe) to "
     "the one process pid > 0, never a group"},
    {"pidfd_open", l_pidfd_open, "pidfd_open(pid [, flags]) -> pidfd",
     "pidfd_open(2): an fd object for a process (flags: nonblock)"},
    {"pidfd_send_signal", l_pidfd_send_signal,
     "pidfd_send_signal(pidfd, sig) -> true",
     "pidfd_send_signal(2): signal the process behind a pidfd, race-free"},
    {"read_signal", l_read_signal, "read_signal(fd) -> sig, pid",
     "read(2) one signalfd_siginfo: the signal's name (or number) and the "
     "sender's pid"},
    {"setdomainname", l_setdomainname, "setdomainname(name) -> true",
     "setdomainname(2): the NIS domain name of this uts namespace"},
    {"sethostname", l_sethostname, "sethostname(name) -> true",
     "sethostname(2): the host name of this uts namespace"},
    {"setns", l_setns, "setns(fd_or_path [, namespaces]) -> true",
     "setns(2): join the namespace of a /proc/PID/ns/* fd or path, or the "
     "named ones of a pidfd's process"},
    {"setpgid", l_setpgid, "setpgid(pid, pgid) -> true",
     "setpgid(2): move pid (0: this process) into group pgid (0: its own)"},
    {"setsid", l_setsid, "setsid() -> sid",
     "setsid(2): start a new session without a controlling terminal"},
    {"signalfd", l_signalfd, "signalfd(signals [, flags]) -> fd",
     "signalfd(2) for a list of signals (or \"all\"), close-on-exec; block "
     "them first with sigprocmask"},
    {"sigprocmask", l_sigprocmask, "sigprocmask(how, signals) -> true, old",
     "sigprocmask(2): how is block|unblock|setmask; old lists the previous "
     "mask"},
    {"spawn", l_spawn, "spawn(path, argv [, env [, opts]]) -> pid",
     "posix_spawn(3): start path in a new process without copying this one; "
     "opts {sigmask = signals blocked in it, setsid = true}"},
    {"strsignal", l_strsignal, "strsignal(sig) -> text",
     "sigdescr_np(3): the C library's description of a signal (a number or "
     "a name), as \"Bad system call\" for SYS"},
    {"tcgetpgrp", l_tcgetpgrp, "tcgetpgrp(fd) -> pgid",
     "tcgetpgrp(3): the foreground process group of the terminal fd"},
    {"tcsetpgrp", l_tcsetpgrp, "tcsetpgrp(fd, pgid) -> true",
     "tcsetpgrp(3): make pgid the terminal's foreground group (block TTOU "
     "when in the background)"},
    {"unshare", l_unshare, "unshare(namespaces) -> true",
     "unshare(2): move into new namespaces (and files fs sysvsem)"},
    {"wait", l_wait, "wait([pid [, options]]) -> pid, how, code",
     "waitpid(2): pid -1 (default) any child, 0 or -pgid a group's; how is "
     "exited|killed|stopped|continued; nohang gives 0 when none is ready"},
    {NULL, NULL, NULL, NULL}};

/* signals = { TERM = 15, ..., [15] = "TERM" }: both directions. */
void nsl_push_signals(lua_State *L) {
  lua_createtable(L, NSIG, NSIG);
  for (int sig = 1; sig < NSIG; sig++) {
    const char *name = sigabbrev_np(sig);
    if (!name)
      continue;
    lua_pushinteger(L, sig);
    lua_setfield(L, -2, name);
    lua_pushstring(L, name);
    lua_rawseti(L, -2, sig);
  }
}
