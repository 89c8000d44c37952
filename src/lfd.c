/* lfd.c: fds as Lua values, pipes, read/write/close. */
#include "lnsl.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* An fd object: closes on collection and at the end of a <close> variable.
 * fd is -1 once closed or released. */
typedef struct nsl_fd {
  int fd;
} nsl_fd;

void nsl_pushfd(lua_State *L, int fd) {
  nsl_fd *p = lua_newuserdatauv(L, sizeof *p, 0);
  p->fd = fd;
  luaL_setmetatable(L, NSL_FD);
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

static int l_close(lua_State *L) {
  nsl_fd *p = luaL_testudata(L, 1, NSL_FD);
  int fd = nsl_checkfd(L, 1);
  if (p)
    p->fd = -1; /* closed even if close fails: see close(2), EINTR */
  if (close(fd) != 0)
    return nsl_fail(L, "close %d", fd);
  return nsl_ok(L);
}

static int l_fd(lua_State *L) {
  nsl_pushfd(L, nsl_checkfd(L, 1));
  return 1;
}

static const nsl_Flag pipe_flags[] = {
    {"cloexec", O_CLOEXEC}, {"direct", O_DIRECT}, {"nonblock", O_NONBLOCK},
    {NULL, 0}};

static int l_pipe(lua_State *L) {
  /* close-on-exec unless asked otherwise: nothing leaks into a container */
  int flags = lua_isnoneornil(L, 1)
                  ? O_CLOEXEC
                  : (int)nsl_optflags(L, 1, pipe_flags, "pipe flag");
  int fds[2];
  if (pipe2(fds, flags) != 0)
    return nsl_fail(L, "pipe");
  nsl_pushfd(L, fds[0]);
  nsl_pushfd(L, fds[1]);
  return 2;
}

static int l_read(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  lua_Integer n = luaL_optinteger(L, 2, LUAL_BUFFERSIZE);
  luaL_argcheck(L, n > 0, 2, "count must be positive");
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

const nsl_Reg nsl_fd_lib[] = {
    {"close", l_close, "close(fd) -> true",
     "close an fd (object or number); an fd object is closed for good"},
    {"fd", l_fd, "fd(n) -> fd", "wrap an fd number in an fd object that closes "
                                "on collection and with <close>"},
    {"pipe", l_pipe, "pipe([flags]) -> rfd, wfd",
     "pipe2(2); flags are cloexec (default) nonblock direct"},
    {"read", l_read, "read(fd [, n]) -> string",
     "read(2) up to n bytes (default a buffer); \"\" at end of file"},
    {"write", l_write, "write(fd, s) -> n", "write(2) s, returning the bytes "
                                            "written"},
    {NULL, NULL, NULL, NULL}};

/* ---- the fd object --------------------------------------------------------- */

static int fd_gc(lua_State *L) {
  nsl_fd *p = check_fd_object(L, 1);
  if (p->fd >= 0)
    close(p->fd);
  p->fd = -1;
  return 0;
}

static int fd_fileno(lua_State *L) {
  nsl_fd *p = check_fd_object(L, 1);
  if (p->fd < 0)
    luaL_pushfail(L);
  else
    lua_pushinteger(L, p->fd);
  return 1;
}

/* The number, which the object no longer closes (for passing it on). */
static int fd_release(lua_State *L) {
  nsl_fd *p = check_fd_object(L, 1);
  luaL_argcheck(L, p->fd >= 0, 1, "fd is closed");
  lua_pushinteger(L, p->fd);
  p->fd = -1;
  return 1;
}

static int fd_tostring(lua_State *L) {
  nsl_fd *p = check_fd_object(L, 1);
  if (p->fd < 0)
    lua_pushliteral(L, "fd (closed)");
  else
    lua_pushfstring(L, "fd %d", p->fd);
  return 1;
}

void nsl_fd_open(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"close", l_close},   {"fileno", fd_fileno}, {"read", l_read},
      {"release", fd_release}, {"write", l_write}, {NULL, NULL}};
  static const luaL_Reg meta[] = {{"__close", fd_gc},
                                  {"__gc", fd_gc},
                                  {"__index", NULL},
                                  {"__tostring", fd_tostring},
                                  {NULL, NULL}};
  if (luaL_newmetatable(L, NSL_FD)) {
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
}
