/* lnet.c: the little networking a container setup needs. */
#include "lnsl.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* SIOCSIFFLAGS on a throwaway socket: a fresh network namespace has only
 * "lo", and it starts down (see network_namespaces(7)). */
static int set_if_flags(const char *name, short set, short clear) {
  struct ifreq ifr;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
  if (rc == 0) {
    ifr.ifr_flags = (short)((ifr.ifr_flags | set) & ~clear);
    rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
  }
  int err = errno;
  close(fd);
  errno = err;
  return rc;
}

static int l_if_up(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  luaL_argcheck(L, strlen(name) < IFNAMSIZ, 1, "interface name too long");
  if (set_if_flags(name, IFF_UP, 0) != 0)
    return nsl_fail(L, "if_up '%s'", name);
  return nsl_ok(L);
}

static int l_if_down(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  luaL_argcheck(L, strlen(name) < IFNAMSIZ, 1, "interface name too long");
  if (set_if_flags(name, 0, IFF_UP) != 0)
    return nsl_fail(L, "if_down '%s'", name);
  return nsl_ok(L);
}

const nsl_Reg nsl_net_lib[] = {
    {"if_down", l_if_down, "if_down(name) -> true",
     "take a network interface down (SIOCSIFFLAGS)"},
    {"if_up", l_if_up, "if_up(name) -> true",
     "bring a network interface up, like `ip link set lo up` (SIOCSIFFLAGS)"},
    {NULL, NULL, NULL, NULL}};
