/* lsock.c: AF_UNIX sockets, as far as a runtime needs them: an OCI
 * client's --console-socket takes the pty master as an SCM_RIGHTS message
 * (see unix(7) and cmsg(3)); systemd's NOTIFY_SOCKET takes datagrams
 * (sd_notify(3)). */
#include "lnsl.h"
#include "sys.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- plain helpers ------------------------------------------------------- */

/* sockaddr_un for path; -1 with ENAMETOOLONG when it does not fit, EINVAL
 * for "" (an address of no name would be the abstract, autobound one). */
static int unix_address(const char *path, struct sockaddr_un *sa,
                        socklen_t *len) {
  size_t n = strlen(path);
  if (n == 0)
    return errno = EINVAL, -1;
  if (n >= sizeof sa->sun_path)
    return errno = ENAMETOOLONG, -1;
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  memcpy(sa->sun_path, path, n + 1);
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
  return 0;
}

/* A SOCK_STREAM socket connected to (or, with server, bound to and
 * listening at) path; -1 and errno on failure. */
static int unix_socket(const char *path, int server) {
  struct sockaddr_un sa;
  socklen_t len;
  if (unix_address(path, &sa, &len) != 0)
    return -1;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  int rc = server ? bind(fd, (struct sockaddr *)&sa, len)
                  : connect(fd, (struct sockaddr *)&sa, len);
  if (rc == 0 && server)
    rc = listen(fd, 16);
  if (rc != 0) {
    int err = errno;
    close(fd);
    return errno = err, -1;
  }
  return fd;
}

/* A SOCK_DGRAM socket with flags (SOCK_NONBLOCK), bound to path unless it
 * is NULL; -1 and errno on failure, *step naming the call that failed. */
static int unix_dgram(const char *path, int flags, const char **step) {
  struct sockaddr_un sa;
  socklen_t len;
  *step = "bind";
  if (path && unix_address(path, &sa, &len) != 0)
    return -1;
  *step = "socket";
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | flags, 0);
  if (fd < 0 || !path)
    return fd;
  *step = "bind";
  if (bind(fd, (struct sockaddr *)&sa, len) != 0) {
    int err = errno;
    close(fd);
    return errno = err, -1;
  }
  return fd;
}

/* ---- bindings ------------------------------------------------------------ */

static int l_unix_connect(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int *slot = nsl_newfd(L);
  int fd = unix_socket(path, 0);
  if (fd < 0)
    return nsl_fail(L, "connect '%s'", path);
  nsl_own(L, slot, fd);
  return 1;
}

static int l_unix_listen(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int *slot = nsl_newfd(L);
  int fd = unix_socket(path, 1);
  if (fd < 0)
    return nsl_fail(L, "listen '%s'", path);
  nsl_own(L, slot, fd);
  return 1;
}

static const nsl_Flag dgram_flags[] = {{"nonblock", SOCK_NONBLOCK}, {NULL, 0}};

static int l_unix_dgram(lua_State *L) {
  const char *path = luaL_optstring(L, 1, NULL);
  int flags = (int)nsl_optflags(L, 2, dgram_flags, "socket flag");
  int *slot = nsl_newfd(L);
  const char *step;
  int fd = unix_dgram(path, flags, &step);
  if (fd < 0)
    return path ? nsl_fail(L, "%s '%s'", step, path)
                : nsl_fail(L, "socket AF_UNIX SOCK_DGRAM");
  nsl_own(L, slot, fd);
  return 1;
}

/* SO_SNDTIMEO of sock: how long a blocking send waits for room. */
static int send_timeout(int sock, double seconds) {
  struct timeval tv = {
      (time_t)seconds,
      (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6)};
  if (tv.tv_sec == 0 && tv.tv_usec == 0)
    tv.tv_usec = 1; /* 0 would mean: wait for ever */
  return setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int l_sendto(lua_State *L) {
  int sock = nsl_checkfd(L, 1);
  const char *path = luaL_checkstring(L, 2);
  size_t len;
  const char *data = luaL_checklstring(L, 3, &len);
  double timeout = luaL_optnumber(L, 4, -1);
  luaL_argcheck(L, lua_isnoneornil(L, 4) || (timeout >= 0 && timeout < 1e9), 4,
                "timeout must be a number of seconds from 0");
  struct sockaddr_un sa;
  socklen_t salen;
  if (unix_address(path, &sa, &salen) != 0)
    return nsl_fail(L, "sendto '%s'", path);
  if (timeout >= 0 && send_timeout(sock, timeout) != 0)
    return nsl_fail(L, "setsockopt %d SO_SNDTIMEO", sock);
  ssize_t n;
  do
    n = sendto(sock, data, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return nsl_fail(L, "sendto '%s'", path);
  lua_pushinteger(L, n);
  return 1;
}

/* One whole datagram: its length first (MSG_PEEK|MSG_TRUNC answers the
 * datagram's, not the buffer's, see unix(7)), then the datagram. */
static int l_recv(lua_State *L) {
  int sock = nsl_checkfd(L, 1);
  ssize_t n;
  do
    n = recv(sock, NULL, 0, MSG_PEEK | MSG_TRUNC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return nsl_fail(L, "recv %d", sock);
  luaL_Buffer b;
  char *buf = luaL_buffinitsize(L, &b, (size_t)n + 1);
  ssize_t got;
  do
    got = recv(sock, buf, (size_t)n + 1, MSG_DONTWAIT);
  while (got < 0 && errno == EINTR);
  if (got < 0)
    return nsl_fail(L, "recv %d", sock);
  luaL_pushresultsize(&b, (size_t)got);
  return 1;
}

static int l_accept(lua_State *L) {
  int sock = nsl_checkfd(L, 1);
  int *slot = nsl_newfd(L);
  int fd;
  do
    fd = accept4(sock, NULL, NULL, SOCK_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return nsl_fail(L, "accept %d", sock);
  nsl_own(L, slot, fd);
  return 1;
}

static int l_socketpair(lua_State *L) {
  int *first = nsl_newfd(L), *second = nsl_newfd(L);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return nsl_fail(L, "socketpair");
  nsl_own(L, first, sv[0]);
  nsl_own(L, second, sv[1]);
  return 2;
}

static int l_send_fd(lua_State *L) {
  int sock = nsl_checkfd(L, 1);
  int fd = nsl_checkfd(L, 2);
  size_t len;
  /* a stream socket carries the fd only with at least one byte */
  const char *data = luaL_optlstring(L, 3, "/dev/ptmx", &len);
  luaL_argcheck(L, len > 0, 3, "data must not be empty");
  if (nsl_sys_send_fd(sock, fd, data, len) < 0)
    return nsl_fail(L, "send_fd %d on %d", fd, sock);
  return nsl_ok(L);
}

static int l_recv_fd(lua_State *L) {
  int sock = nsl_checkfd(L, 1);
  int *slot = nsl_newfd(L);
  char buf[4096];
  int fd;
  ssize_t n = nsl_sys_recv_fd(sock, buf, sizeof buf, &fd);
  if (n < 0)
    return nsl_fail(L, "recv_fd %d", sock);
  if (fd < 0) {
    errno = EBADMSG;
    return nsl_fail(L, "recv_fd %d: no fd in the message", sock);
  }
  nsl_own(L, slot, fd);
  lua_pushlstring(L, buf, (size_t)n);
  return 2;
}

const nsl_Reg nsl_sock_lib[] = {
    {"accept", l_accept, "accept(sock) -> fd",
     "accept4(2) a connection on a listening socket (close-on-exec)"},
    {"recv", l_recv, "recv(sock) -> data",
     "recv(2) one whole datagram, however long (its length peeked first "
     "with MSG_PEEK|MSG_TRUNC); \"\" for an empty one"},
    {"recv_fd", l_recv_fd, "recv_fd(sock) -> fd, data",
     "recvmsg(2) one message and the fd it carries (SCM_RIGHTS, "
     "close-on-exec)"},
    {"send_fd", l_send_fd, "send_fd(sock, fd [, data]) -> true",
     "sendmsg(2) fd as SCM_RIGHTS with data (default \"/dev/ptmx\"), as an "
     "OCI runtime hands the pty master to --console-socket"},
    {"sendto", l_sendto, "sendto(sock, path, data [, timeout]) -> n",
     "sendto(2) data as one datagram to the AF_UNIX socket at path (a "
     "sd_notify(3) message to NOTIFY_SOCKET); timeout: seconds a blocking "
     "sock waits for room in a full queue (SO_SNDTIMEO), then EAGAIN"},
    {"socketpair", l_socketpair, "socketpair() -> fd1, fd2",
     "socketpair(2) AF_UNIX SOCK_STREAM (close-on-exec): two connected ends, "
     "to pass fds between processes"},
    {"unix_connect", l_unix_connect, "unix_connect(path) -> fd",
     "socket(2) AF_UNIX SOCK_STREAM and connect(2) to path (close-on-exec)"},
    {"unix_dgram", l_unix_dgram, "unix_dgram([path [, flags]]) -> fd",
     "socket(2) AF_UNIX SOCK_DGRAM (close-on-exec; flags: nonblock), bound "
     "(bind(2)) to path when given; nsl.recv takes one whole datagram"},
    {"unix_listen", l_unix_listen, "unix_listen(path) -> fd",
     "socket(2) AF_UNIX SOCK_STREAM, bind(2) to path and listen(2) "
     "(close-on-exec)"},
    {NULL, NULL, NULL, NULL}};
