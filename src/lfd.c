/* lfd.c: fds as Lua values, pipes, read/write/close; ttys (ptys, raw
 * mode, window sizes), poll, and the console relay (the plain C of ptys
 * and the relay is tty.c). */
#include "lnsl.h"
#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

/* An fd object: closes on collection and at the end of a <close> variable.
 * fd is -1 once closed or released. */
typedef struct nsl_fd {
  int fd;
} nsl_fd;

int *nsl_newfd(lua_State *L) {
  nsl_fd *p = lua_newuserdatauv(L, sizeof *p, 0);
  p->fd = -1;
  luaL_setmetatable(L, NSL_FD);
  return &p->fd;
}

/* The owners: registry[OWNERS][fd] = the owner's fd slot (a light
 * userdata), strong so that an object waiting for its finalizer still
 * counts; the finalizer removes it. */
#define OWNERS "nsl.fd owners"

static void push_owners(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, OWNERS);
}

void nsl_own(lua_State *L, int *slot, int fd) {
  *slot = fd; /* first: if recording raises, the object still closes it */
  push_owners(L);
  lua_pushlightuserdata(L, slot);
  lua_rawseti(L, -2, fd);
  lua_pop(L, 1);
}

int *nsl_owner(lua_State *L, int fd) {
  push_owners(L);
  lua_rawgeti(L, -1, fd);
  int *slot = lua_touserdata(L, -1);
  lua_pop(L, 2);
  /* an entry whose object has let go of the number is stale */
  return slot && *slot == fd ? slot : NULL;
}

void nsl_disown(lua_State *L, int *slot) {
  if (*slot >= 0 && nsl_owner(L, *slot) == slot) {
    push_owners(L);
    lua_pushnil(L);
    lua_rawseti(L, -2, *slot);
    lua_pop(L, 1);
  }
  *slot = -1;
}

static nsl_fd *check_fd_object(lua_State *L, int arg) {
  return luaL_checkudata(L, arg, NSL_FD);
}

int nsl_checkfd(lua_State *L, int arg) {
  if (lua_type(L, arg) == LUA_TNUMBER) {
    lua_Integer fd = luaL_checkinteger(L, arg);
    luaL_argcheck(L, fd >= 0 && fd <= 0x7fffffff, arg, "fd out of range");
    return (int)fd;
  }
  nsl_fd *p = luaL_testudata(L, arg, NSL_FD);
  if (p == NULL)
    luaL_typeerror(L, arg, "fd or integer");
  luaL_argcheck(L, p->fd >= 0, arg, "fd is closed");
  return p->fd;
}

/* ---- bindings ------------------------------------------------------------ */

/* A number that an object owns closes the object too: else it would close
 * whatever has the number by the time it is collected. */
static int l_close(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  int *owner = nsl_owner(L, fd);
  if (owner)
    nsl_disown(L, owner); /* closed even if close fails: see close(2), EINTR */
  if (close(fd) != 0)
    return nsl_fail(L, "close %d", fd);
  return nsl_ok(L);
}

/* An fd object is returned as it is, and a number that already has an owner
 * is refused: two owners would each close the number, the second time
 * whatever has it by then. */
static int l_fd(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  if (lua_type(L, 1) != LUA_TNUMBER) {
    lua_settop(L, 1);
    return 1;
  }
  if (nsl_owner(L, fd))
    luaL_argerror(L, 1,
                  lua_pushfstring(L,
                                  "fd %d already has an owner: use it, or "
                                  "release it first",
                                  fd));
  nsl_own(L, nsl_newfd(L), fd);
  return 1;
}

static const nsl_Flag pipe_flags[] = {{"cloexec", O_CLOEXEC},
                                      {"direct", O_DIRECT},
                                      {"nonblock", O_NONBLOCK},
                                      {NULL, 0}};

static int l_pipe(lua_State *L) {
  /* close-on-exec unless asked otherwise: nothing leaks into a container */
  int flags = lua_isnoneornil(L, 1)
                  ? O_CLOEXEC
                  : (int)nsl_optflags(L, 1, pipe_flags, "pipe flag");
  int *rslot = nsl_newfd(L), *wslot = nsl_newfd(L);
  int fds[2];
  if (pipe2(fds, flags) != 0)
    return nsl_fail(L, "pipe");
  nsl_own(L, rslot, fds[0]);
  nsl_own(L, wslot, fds[1]);
  return 2;
}

/* The most one read() takes: n is a bound, not a buffer size (a count of
 * 1 TiB was an allocation of 1 TiB, and "not enough memory"); read(2) may
 * return less than asked in any case. */
#define READ_MAX ((lua_Integer)1 << 20)

static int l_read(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  lua_Integer n = luaL_optinteger(L, 2, LUAL_BUFFERSIZE);
  luaL_argcheck(L, n > 0, 2, "count must be positive");
  if (n > READ_MAX)
    n = READ_MAX;
  luaL_Buffer b;
  char *buf = luaL_buffinitsize(L, &b, (size_t)n);
  ssize_t got;
  do
    got = read(fd, buf, (size_t)n);
  while (got < 0 && errno == EINTR);
  if (got < 0)
    return nsl_fail(L, "read %d", fd);
  luaL_pushresultsize(&b, (size_t)got);
  return 1;
}

static int l_write(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  ssize_t put;
  do
    put = write(fd, s, len);
  while (put < 0 && errno == EINTR);
  if (put < 0)
    return nsl_fail(L, "write %d", fd);
  lua_pushinteger(L, put);
  return 1;
}

/* ---- copies and fd flags ------------------------------------------------- */

static const nsl_Flag close_range_flags[] = {{"cloexec", CLOSE_RANGE_CLOEXEC},
                                             {"unshare", CLOSE_RANGE_UNSHARE},
                                             {NULL, 0}};

/* Objects that own fds in the range are not told: close_range is for a
 * child about to exec. */
static int l_close_range(lua_State *L) {
  lua_Integer first = luaL_checkinteger(L, 1);
  lua_Integer last = luaL_optinteger(L, 2, (lua_Integer)~0U);
  unsigned flags =
      (unsigned)nsl_optflags(L, 3, close_range_flags, "close_range flag");
  luaL_argcheck(L, first >= 0 && first <= (lua_Integer)~0U, 1,
                "fd out of range");
  luaL_argcheck(L, last >= first && last <= (lua_Integer)~0U, 2,
                "fd out of range");
  if (syscall(SYS_close_range, (unsigned)first, (unsigned)last, flags) != 0)
    return nsl_fail(L, "close_range %d..%d", (int)first, (int)last);
  return nsl_ok(L);
}

static int l_dup(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  int *slot = nsl_newfd(L);
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0)
    return nsl_fail(L, "dup %d", fd);
  nsl_own(L, slot, copy);
  return 1;
}

static int l_dup2(lua_State *L) {
  int oldfd = nsl_checkfd(L, 1), newfd = nsl_checkfd(L, 2);
  /* dup3 refuses oldfd == newfd (EINVAL, see dup(2)): then the copy is
   * oldfd itself, made inheritable as dup3's copy would be */
  int rc = oldfd == newfd ? fcntl(oldfd, F_SETFD, 0) : dup3(oldfd, newfd, 0);
  if (rc < 0)
    return nsl_fail(L, "dup2 %d %d", oldfd, newfd);
  lua_pushinteger(L, newfd);
  return 1;
}

static int l_set_cloexec(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  int on = 1;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TBOOLEAN);
    on = lua_toboolean(L, 2);
  }
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0 ||
      fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC) < 0)
    return nsl_fail(L, "set_cloexec %d %s", fd, on ? "true" : "false");
  return nsl_ok(L);
}

/* ---- ttys ---------------------------------------------------------------- */

static int l_isatty(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  int yes = isatty(fd);
  /* ENOTTY (EINVAL on some old kernels) just means no */
  if (!yes && errno != ENOTTY && errno != EINVAL)
    return nsl_fail(L, "isatty %d", fd);
  lua_pushboolean(L, yes);
  return 1;
}

static int l_ttyname(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  char path[PATH_MAX];
  int err = ttyname_r(fd, path, sizeof path); /* the errno, not -1 */
  if (err != 0) {
    errno = err;
    return nsl_fail(L, "ttyname %d", fd);
  }
  lua_pushstring(L, path);
  return 1;
}

static int l_openpty(lua_State *L) {
  int master, slave;
  char path[PATH_MAX];
  const char *step;
  int *mslot = nsl_newfd(L), *sslot = nsl_newfd(L);
  if (nsl_open_pty(&master, &slave, path, sizeof path, &step) != 0)
    return strcmp(step, "open") == 0 ? nsl_fail(L, "openpty: open '%s'", path)
                                     : nsl_fail(L, "openpty: %s", step);
  nsl_own(L, mslot, master);
  nsl_own(L, sslot, slave);
  lua_pushstring(L, path);
  return 3;
}

static int l_tty_raw(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  struct termios saved, raw;
  if (tcgetattr(fd, &saved) != 0)
    return nsl_fail(L, "tty_raw %d", fd);
  raw = saved;
  cfmakeraw(&raw);
  if (tcsetattr(fd, TCSADRAIN, &raw) != 0)
    return nsl_fail(L, "tty_raw %d", fd);
  lua_pushlstring(L, (const char *)&saved, sizeof saved);
  return 1;
}

static int l_tty_restore(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  struct termios saved;
  luaL_argcheck(L, len == sizeof saved, 2, "not a state saved by tty_raw");
  memcpy(&saved, s, sizeof saved);
  if (tcsetattr(fd, TCSADRAIN, &saved) != 0)
    return nsl_fail(L, "tty_restore %d", fd);
  return nsl_ok(L);
}

static int l_get_winsize(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  struct winsize ws;
  if (ioctl(fd, TIOCGWINSZ, &ws) != 0)
    return nsl_fail(L, "get_winsize %d", fd);
  lua_pushinteger(L, ws.ws_row);
  lua_pushinteger(L, ws.ws_col);
  return 2;
}

static int l_set_winsize(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  lua_Integer rows = luaL_checkinteger(L, 2), cols = luaL_checkinteger(L, 3);
  luaL_argcheck(L, rows >= 0 && rows <= 0xffff, 2, "rows out of range");
  luaL_argcheck(L, cols >= 0 && cols <= 0xffff, 3, "cols out of range");
  struct winsize ws = {(unsigned short)rows, (unsigned short)cols, 0, 0};
  if (ioctl(fd, TIOCSWINSZ, &ws) != 0)
    return nsl_fail(L, "set_winsize %d to %dx%d", fd, (int)rows, (int)cols);
  return nsl_ok(L);
}

static int l_set_ctty(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  /* 0: do not steal it from another session (that needs CAP_SYS_ADMIN
   * and 1), see ioctl_tty(2) */
  if (ioctl(fd, TIOCSCTTY, 0) != 0)
    return nsl_fail(L, "set_ctty %d", fd);
  return nsl_ok(L);
}

/* ---- poll and relay ------------------------------------------------------ */

/* poll(2)'s events; single bits, in the order revents are printed. */
static const nsl_Flag poll_events[] = {{"in", POLLIN},     {"pri", POLLPRI},
                                       {"out", POLLOUT},   {"rdhup", POLLRDHUP},
                                       {"err", POLLERR},   {"hup", POLLHUP},
                                       {"nval", POLLNVAL}, {NULL, 0}};

/* The fd at stack index idx, item i of the list at arg. */
static int to_fd(lua_State *L, int idx, int arg, lua_Integer i) {
  nsl_fd *p = luaL_testudata(L, idx, NSL_FD);
  if (p && p->fd >= 0)
    return p->fd;
  if (lua_isinteger(L, idx) && lua_tointeger(L, idx) >= 0 &&
      lua_tointeger(L, idx) <= 0x7fffffff)
    return (int)lua_tointeger(L, idx);
  return luaL_argerror(
      L, arg,
      lua_pushfstring(L, "item %I is %s, not an open fd", i,
                      p ? "a closed fd" : luaL_typename(L, idx)));
}

/* poll({fd, ...}, timeout_ms [, events]) -> revents, n: revents[i] is
 * false for fds[i] not ready, else its words ("in", "in|hup", "nval");
 * n is poll's count. timeout -1 (the default) waits for ever. */
static int l_poll(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer timeout = luaL_optinteger(L, 2, -1);
  luaL_argcheck(L, timeout >= -1 && timeout <= INT_MAX, 2,
                "timeout out of range");
  short events = lua_isnoneornil(L, 3)
                     ? POLLIN
                     : (short)nsl_optflags(L, 3, poll_events, "poll event");
  lua_Integer n = (lua_Integer)nsl_checklen(L, 1, NSL_LEN_MAX);
  struct pollfd *p = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *p, 0);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_geti(L, 1, i);
    p[i - 1] = (struct pollfd){to_fd(L, -1, 1, i), events, 0};
    lua_pop(L, 1);
  }
  int ready = nsl_poll_retry(p, (nfds_t)n, (int)timeout);
  if (ready < 0)
    return nsl_fail(L, "poll");
  lua_createtable(L, (int)n, 0);
  for (lua_Integer i = 0; i < n; i++) {
    if (p[i].revents)
      nsl_pushflagnames(L, (unsigned short)p[i].revents, poll_events);
    else
      lua_pushboolean(L, 0);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushinteger(L, ready);
  return 2;
}

/* relay's options: { pid = n }. */
static pid_t check_relay_opts(lua_State *L, int arg) {
  static const char *const known[] = {"pid", NULL};
  if (!nsl_checkoptions(L, arg, known) ||
      lua_getfield(L, arg, "pid") == LUA_TNIL)
    return 0;
  luaL_argcheck(L,
                lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0 &&
                    lua_tointeger(L, -1) <= 0x7fffffff,
                arg, "pid must be a positive integer");
  pid_t pid = (pid_t)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return pid;
}

/* The console loop (nsl_relay_run, tty.c): true once the master hangs up or
 * opts.pid exits; nil, "relay: write 1: ...", errno when a step fails. The
 * caller closes its own copy of the slave first, or the master never hangs up.
 */
static int l_relay(lua_State *L) {
  int master = nsl_checkfd(L, 1);
  pid_t pid = check_relay_opts(L, 2);
  nsl_relay r;
  if (nsl_relay_run(&r, master, pid) != 0)
    return r.failed_fd >= 0 ? nsl_fail(L, "relay: %s %d", r.failed, r.failed_fd)
                            : nsl_fail(L, "relay: %s", r.failed);
  return nsl_ok(L);
}

const nsl_Reg nsl_fd_lib[] = {
    {"close", l_close, "close(fd) -> true",
     "close an fd (object or number); an fd object is closed for good"},
    {"close_range", l_close_range,
     "close_range(first [, last [, flags]]) -> true",
     "close_range(2): close fds first..last (default: all above); flags "
     "cloexec unshare"},
    {"dup", l_dup, "dup(fd) -> fd",
     "a close-on-exec copy of fd as an fd object (fcntl F_DUPFD_CLOEXEC)"},
    {"dup2", l_dup2, "dup2(oldfd, newfd) -> newfd",
     "dup3(2) without flags, so the copy at newfd is inherited across exec"},
    {"fd", l_fd, "fd(n) -> fd",
     "wrap an fd number in an fd object that closes on collection and with "
     "<close>; an fd object is returned as it is, an owned number refused"},
    {"get_winsize", l_get_winsize, "get_winsize(fd) -> rows, cols",
     "a terminal's window size (ioctl TIOCGWINSZ)"},
    {"isatty", l_isatty, "isatty(fd) -> bool",
     "is fd a terminal (isatty(3)); a bad fd is an error, not false"},
    {"openpty", l_openpty, "openpty() -> master, slave, path",
     "a new pty pair, both ends O_NOCTTY|O_CLOEXEC fd objects "
     "(posix_openpt, grantpt, unlockpt)"},
    {"pipe", l_pipe, "pipe([flags]) -> rfd, wfd",
     "pipe2(2); flags are cloexec (default) nonblock direct"},
    {"poll", l_poll, "poll(fds, timeout_ms [, events]) -> revents, n",
     "poll(2) a list of fds for events (default \"in\"); revents[i] is false "
     "or words like \"in|hup\""},
    {"read", l_read, "read(fd [, n]) -> string",
     "read(2) up to n bytes (default a buffer, at most 1 MiB a call); \"\" "
     "at end of file"},
    {"relay", l_relay, "relay(master [, {pid=n}]) -> true",
     "console loop: fd 0 -> master -> fd 1, SIGWINCH passed on, until the "
     "master hangs up or pid exits"},
    {"set_cloexec", l_set_cloexec, "set_cloexec(fd [, on]) -> true",
     "set (default) or clear FD_CLOEXEC on fd (fcntl F_SETFD)"},
    {"set_ctty", l_set_ctty, "set_ctty(fd) -> true",
     "make the terminal fd this session's controlling tty (ioctl TIOCSCTTY "
     "0); needs setsid first"},
    {"set_winsize", l_set_winsize, "set_winsize(fd, rows, cols) -> true",
     "set a terminal's window size (ioctl TIOCSWINSZ)"},
    {"tty_raw", l_tty_raw, "tty_raw(fd) -> saved",
     "put a terminal in raw mode (cfmakeraw, tcsetattr TCSADRAIN); saved is "
     "for tty_restore"},
    {"tty_restore", l_tty_restore, "tty_restore(fd, saved) -> true",
     "put back the terminal state tty_raw saved (tcsetattr TCSADRAIN)"},
    {"ttyname", l_ttyname, "ttyname(fd) -> path",
     "the path of the terminal at fd (ttyname_r(3))"},
    {"write", l_write, "write(fd, s) -> n",
     "write(2) s, returning the bytes "
     "written"},
    {NULL, NULL, NULL, NULL}};

/* ---- the fd object ---------------------------------------------------------
 */

static int l_fd_gc(lua_State *L) {
  nsl_fd *p = check_fd_object(L, 1);
  int fd = p->fd;
  nsl_disown(L, &p->fd);
  if (fd >= 0)
    close(fd);
  return 0;
}

static int l_fd_fileno(lua_State *L) {
  nsl_fd *p = check_fd_object(L, 1);
  if (p->fd < 0)
    luaL_pushfail(L);
  else
    lua_pushinteger(L, p->fd);
  return 1;
}

/* The open fd of an fd object, an error when it is closed. */
static int open_fd_of(lua_State *L) {
  nsl_fd *p = check_fd_object(L, 1);
  luaL_argcheck(L, p->fd >= 0, 1, "fd is closed");
  return p->fd;
}

/* fchown(2): the file this fd has open, whatever its path now names. */
static int l_fd_chown(lua_State *L) {
  int fd = open_fd_of(L);
  uid_t uid = nsl_optid(L, 2, "uid"); /* nil leaves it as it is */
  gid_t gid = nsl_optid(L, 3, "gid");
  if (fchown(fd, uid, gid) != 0)
    return nsl_fail(L, "fchown fd %d to %d:%d", fd, (int)uid, (int)gid);
  return nsl_ok(L);
}

static int l_fd_chmod(lua_State *L) {
  int fd = open_fd_of(L);
  mode_t mode = nsl_checkmode(L, 2);
  if (fchmod(fd, mode) != 0)
    return nsl_fail(L, "fchmod fd %d to %04o", fd, (unsigned)mode);
  return nsl_ok(L);
}

/* The number, which the object no longer closes (for passing it on). */
static int l_fd_release(lua_State *L) {
  nsl_fd *p = check_fd_object(L, 1);
  luaL_argcheck(L, p->fd >= 0, 1, "fd is closed");
  lua_pushinteger(L, p->fd);
  nsl_disown(L, &p->fd);
  return 1;
}

static int l_fd_tostring(lua_State *L) {
  nsl_fd *p = check_fd_object(L, 1);
  if (p->fd < 0)
    lua_pushliteral(L, "fd (closed)");
  else
    lua_pushfstring(L, "fd %d", p->fd);
  return 1;
}

const nsl_Reg nsl_fd_methods[] = {
    {"chmod", l_fd_chmod, "fd:chmod(mode) -> true",
     "fchmod(2) of the open file; mode is an integer or an octal string"},
    {"chown", l_fd_chown, "fd:chown(uid [, gid]) -> true",
     "fchown(2) of the open file; nil keeps the uid or gid"},
    {"close", l_close, NULL, NULL},
    {"fileno", l_fd_fileno, "fd:fileno() -> n | nil",
     "the fd's number, or nil once it is closed"},
    {"read", l_read, NULL, NULL},
    {"release", l_fd_release, "fd:release() -> n",
     "the fd's number, which the object no longer closes (to pass it on)"},
    {"write", l_write, NULL, NULL},
    {NULL, NULL, NULL, NULL}};

void nsl_fd_open(lua_State *L) {
  static const luaL_Reg meta[] = {{"__close", l_fd_gc},
                                  {"__gc", l_fd_gc},
                                  {"__index", NULL},
                                  {"__tostring", l_fd_tostring},
                                  {NULL, NULL}};
  if (luaL_newmetatable(L, NSL_FD)) {
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    nsl_setmethods(L, nsl_fd_methods, 0);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  if (lua_getfield(L, LUA_REGISTRYINDEX, OWNERS) != LUA_TTABLE) {
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, OWNERS);
  }
  lua_pop(L, 1);
}
