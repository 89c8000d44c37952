/* lid.c: identity (uids, gids, groups), capabilities (through libcap),
 * prctl switches and resource limits. */
#include "lnsl.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

/* ---- plain helpers ------------------------------------------------------- */

/* How many capabilities to look names up among: the kernel's count
 * (cap_max_bits) or, on an older kernel, the ones libcap was built with,
 * so that a script naming a newer capability gets EINVAL from the kernel
 * rather than an "unknown capability" error. */
static int known_caps(void) {
  int kernel = (int)cap_max_bits();
  return kernel > CAP_LAST_CAP + 1 ? kernel : CAP_LAST_CAP + 1;
}

/* libcap's names of the known capabilities without "cap_" (empty where
 * libcap has only a number), made once per process: cap_to_name allocates
 * a copy at every call, and a container's start looks up dozens. The
 * copies are freed together at the end: freed one by one, each was a page
 * that musl's malloc mapped and unmapped again (82 munmaps a start). */
static char cap_names[64][32];
static int cap_names_known = -1;

static int cached_cap_names(void) {
  if (cap_names_known >= 0)
    return cap_names_known;
  int n = known_caps();
  if (n > (int)(sizeof cap_names / sizeof *cap_names))
    n = (int)(sizeof cap_names / sizeof *cap_names);
  char *libcap_names[sizeof cap_names / sizeof *cap_names];
  for (int cap = 0; cap < n; cap++) {
    char *s = libcap_names[cap] = cap_to_name((cap_value_t)cap);
    if (s && strncmp(s, "cap_", 4) == 0 && strlen(s + 4) < sizeof *cap_names)
      strcpy(cap_names[cap], s + 4);
  }
  for (int cap = 0; cap < n; cap++)
    cap_free(libcap_names[cap]);
  return cap_names_known = n;
}

/* The capability called name, case-insensitive, with or without "cap_"
 * ("sys_admin", "CAP_SYS_ADMIN"), or -1. libcap's cap_from_name finds it
 * without the name cache's 41 copies, but reads a number or a list too
 * ("12", "cap_kill,cap_chown"): only a plain name is passed on. */
static int cap_lookup(const char *name) {
  if (strncasecmp(name, "cap_", 4) == 0)
    name += 4;
  char full[4 + sizeof *cap_names] = "cap_";
  size_t len = strlen(name);
  if (len == 0 || len >= sizeof *cap_names ||
      strspn(name, "abcdefghijklmnopqrstuvwxyz"
                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != len)
    return -1;
  memcpy(full + 4, name, len + 1);
  cap_value_t cap;
  if (cap_from_name(full, &cap) == 0 && (int)cap < known_caps())
    return (int)cap;
  return -1;
}

/* ---- argument helpers ---------------------------------------------------- */

/* A capability at idx (a name, see cap_lookup, or a number passed
 * through); errors name argument arg. */
static cap_value_t to_cap(lua_State *L, int idx, int arg) {
  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_Integer cap = lua_tointeger(L, idx);
    luaL_argcheck(L, lua_isinteger(L, idx) && cap >= 0 && cap < 0x10000, arg,
                  "capability out of range");
    return (cap_value_t)cap;
  }
  if (lua_type(L, idx) != LUA_TSTRING)
    luaL_typeerror(L, arg, "capability name or number");
  size_t len;
  const char *name = lua_tolstring(L, idx, &len);
  int cap = strlen(name) == len ? cap_lookup(name) : -1; /* no NUL inside */
  if (cap < 0)
    luaL_argerror(L, arg, lua_pushfstring(L, "unknown capability '%s'", name));
  return (cap_value_t)cap;
}

static cap_value_t check_cap(lua_State *L, int arg) {
  return to_cap(L, arg, arg);
}

/* Push libcap's name of cap ("cap_sys_admin"); returns it. */
static const char *push_cap_name(lua_State *L, cap_value_t cap) {
  if ((int)cap < cached_cap_names() && cap_names[cap][0])
    return lua_pushfstring(L, "cap_%s", cap_names[cap]);
  char *s = cap_to_name(cap); /* a number, or a name newer than the cache */
  if (s == NULL)
    lua_pushfstring(L, "%d", (int)cap);
  else
    lua_pushstring(L, s);
  cap_free(s);
  return lua_tostring(L, -1);
}

/* A bool switch for prctl at arg, or -1 when none was given. */
static int opt_switch(lua_State *L, int arg) {
  if (lua_isnoneornil(L, arg))
    return -1;
  luaL_checktype(L, arg, LUA_TBOOLEAN);
  return lua_toboolean(L, arg);
}

/* ---- uids and gids ------------------------------------------------------- */

static int l_getuid(lua_State *L) {
  lua_pushinteger(L, getuid());
  return 1;
}

static int l_geteuid(lua_State *L) {
  lua_pushinteger(L, geteuid());
  return 1;
}

static int l_getgid(lua_State *L) {
  lua_pushinteger(L, getgid());
  return 1;
}

static int l_getegid(lua_State *L) {
  lua_pushinteger(L, getegid());
  return 1;
}

static int push_ids(lua_State *L, id_t r, id_t e, id_t s) {
  lua_pushinteger(L, r);
  lua_pushinteger(L, e);
  lua_pushinteger(L, s);
  return 3;
}

static int l_getresuid(lua_State *L) {
  uid_t r, e, s;
  if (getresuid(&r, &e, &s) != 0)
    return nsl_fail(L, "getresuid");
  return push_ids(L, r, e, s);
}

static int l_getresgid(lua_State *L) {
  gid_t r, e, s;
  if (getresgid(&r, &e, &s) != 0)
    return nsl_fail(L, "getresgid");
  return push_ids(L, r, e, s);
}

static int l_setresuid(lua_State *L) {
  uid_t r = nsl_optid(L, 1, "uid"), e = nsl_optid(L, 2, "uid"),
        s = nsl_optid(L, 3, "uid");
  if (setresuid(r, e, s) != 0)
    return nsl_fail(L, "setresuid %d %d %d", (int)r, (int)e, (int)s);
  return nsl_ok(L);
}

static int l_setresgid(lua_State *L) {
  gid_t r = nsl_optid(L, 1, "gid"), e = nsl_optid(L, 2, "gid"),
        s = nsl_optid(L, 3, "gid");
  if (setresgid(r, e, s) != 0)
    return nsl_fail(L, "setresgid %d %d %d", (int)r, (int)e, (int)s);
  return nsl_ok(L);
}

static int l_setgroups(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  size_t n = nsl_checklen(L, 1, NGROUPS_MAX);
  gid_t *list = lua_newuserdatauv(L, (n ? n : 1) * sizeof *list, 0);
  luaL_Buffer b; /* "5,100" for the message, built before the call */
  luaL_buffinit(L, &b);
  for (size_t i = 0; i < n; i++) {
    lua_geti(L, 1, (lua_Integer)i + 1);
    lua_Integer gid = lua_tointeger(L, -1);
    if (!lua_isinteger(L, -1) || gid < 0 || gid > NSL_ID_MAX)
      luaL_argerror(L, 1,
                    lua_pushfstring(L, "item %d is not a gid", (int)i + 1));
    list[i] = (gid_t)gid;
    lua_pop(L, 1);
    lua_pushfstring(L, i ? ",%I" : "%I", gid);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  if (setgroups(n, list) != 0)
    return nsl_fail(L, "setgroups '%s'", lua_tostring(L, -1));
  return nsl_ok(L);
}

static int l_getgroups(lua_State *L) {
  int n = getgroups(0, NULL);
  if (n < 0)
    return nsl_fail(L, "getgroups");
  gid_t *list = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *list, 0);
  n = getgroups(n, list);
  if (n < 0) /* the groups changed in between: only another thread can */
    return nsl_fail(L, "getgroups");
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushinteger(L, list[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* ---- capabilities -------------------------------------------------------- */

static int l_cap_get(lua_State *L) {
  pid_t pid = nsl_optpid(L, 1, 0, 0);
  cap_t caps = pid ? cap_get_pid(pid) : cap_get_proc();
  if (caps == NULL)
    return nsl_fail(L, "cap_get %d", (int)pid);
  char *text = cap_to_text(caps, NULL);
  int err = errno;
  cap_free(caps);
  errno = err;
  if (text == NULL)
    return nsl_fail(L, "cap_get %d", (int)pid);
  lua_pushstring(L, text);
  cap_free(text);
  return 1;
}

/* The capabilities of field name of the table at arg (a list of names or
 * numbers; absent: none) as numbers, in a userdata left on the stack; *n
 * gets their count. Raises for a bad list or capability. */
static cap_value_t *set_of(lua_State *L, int arg, const char *name, int *n) {
  lua_getfield(L, arg, name);
  int list = lua_gettop(L);
  *n = 0;
  if (lua_isnil(L, list))
    return lua_newuserdatauv(L, sizeof(cap_value_t), 0);
  if (!lua_istable(L, list))
    luaL_argerror(L, arg,
                  lua_pushfstring(L, "%s is not a list of capabilities", name));
  lua_Integer len = (lua_Integer)nsl_checklen(L, list, 64);
  cap_value_t *caps = lua_newuserdatauv(L, ((size_t)len + 1) * sizeof *caps, 0);
  for (lua_Integer i = 1; i <= len; i++) {
    lua_geti(L, list, i);
    cap_value_t cap = to_cap(L, -1, arg);
    /* libcap would set any bit below 64, the kernel ignore it: refused */
    if ((int)cap >= (int)cap_max_bits())
      luaL_argerror(L, arg,
                    lua_pushfstring(L, "unknown capability %d", (int)cap));
    caps[(*n)++] = cap;
    lua_pop(L, 1);
  }
  return caps;
}

static int set_text(lua_State *L, const char *text) {
  cap_t caps = cap_from_text(text); /* EINVAL for text it cannot parse */
  if (caps == NULL)
    return nsl_fail(L, "cap_set '%s'", text);
  int rc = cap_set_proc(caps), err = errno;
  cap_free(caps);
  errno = err;
  if (rc != 0)
    return nsl_fail(L, "cap_set '%s'", text);
  return nsl_ok(L);
}

/* cap_set(text): libcap parses the text. cap_set(sets): the sets as they
 * are, no text to build or parse (the container's user step). */
static int l_cap_set(lua_State *L) {
  static const char *const fields[] = {"effective", "permitted", "inheritable",
                                       NULL};
  static const cap_flag_t flags[] = {CAP_EFFECTIVE, CAP_PERMITTED,
                                     CAP_INHERITABLE};
  if (!lua_istable(L, 1))
    return set_text(L, luaL_checkstring(L, 1));
  nsl_checkoptions(L, 1, fields);
  cap_value_t *sets[3];
  int counts[3];
  for (int f = 0; f < 3; f++) /* every name is checked before anything */
    sets[f] = set_of(L, 1, fields[f], &counts[f]);
  cap_t caps = cap_init();
  if (caps == NULL)
    return nsl_fail(L, "cap_set");
  int rc = 0;
  for (int f = 0; f < 3 && rc == 0; f++) /* EINVAL: a number libcap lacks */
    if (counts[f] > 0)
      rc = cap_set_flag(caps, flags[f], counts[f], sets[f], CAP_SET);
  if (rc == 0)
    rc = cap_set_proc(caps);
  if (rc == 0) {
    cap_free(caps);
    return nsl_ok(L);
  }
  int err = errno; /* the message names the sets in libcap's text */
  char *text = cap_to_text(caps, NULL);
  lua_pushstring(L, text ? text : "?");
  cap_free(text);
  cap_free(caps);
  errno = err;
  return nsl_fail(L, "cap_set '%s'", lua_tostring(L, -1));
}

static int drop_bound(lua_State *L, cap_value_t cap) {
  if (cap_drop_bound(cap) != 0) {
    int err = errno;
    const char *name = push_cap_name(L, cap);
    errno = err;
    return nsl_fail(L, "cap_bound_drop '%s'", name);
  }
  return 0;
}

static int l_cap_bound_drop(lua_State *L) {
  if (!lua_istable(L, 1))
    return drop_bound(L, check_cap(L, 1)) ? 3 : nsl_ok(L);
  /* all the names are checked before the first one is dropped */
  lua_Integer n = (lua_Integer)nsl_checklen(L, 1, NSL_LEN_MAX);
  cap_value_t *caps = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *caps, 0);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_geti(L, 1, i);
    caps[i - 1] = to_cap(L, -1, 1);
    lua_pop(L, 1);
  }
  for (lua_Integer i = 0; i < n; i++)
    if (drop_bound(L, caps[i]))
      return 3;
  return nsl_ok(L);
}

static int l_cap_bound(lua_State *L) {
  cap_value_t cap = check_cap(L, 1);
  int in = cap_get_bound(cap);
  if (in < 0) {
    int err = errno;
    const char *name = push_cap_name(L, cap);
    errno = err;
    return nsl_fail(L, "cap_bound '%s'", name);
  }
  lua_pushboolean(L, in);
  return 1;
}

static int l_cap_bound_list(lua_State *L) {
  lua_newtable(L);
  for (int cap = 0, n = (int)cap_max_bits(), k = 0; cap < n; cap++)
    if (cap_get_bound((cap_value_t)cap) == 1) {
      push_cap_name(L, (cap_value_t)cap);
      lua_rawseti(L, -2, ++k);
    }
  return 1;
}

static int set_ambient(lua_State *L, const char *call, cap_flag_value_t v) {
  cap_value_t cap = check_cap(L, 1);
  if (cap_set_ambient(cap, v) != 0) {
    int err = errno;
    const char *name = push_cap_name(L, cap);
    errno = err;
    return nsl_fail(L, "%s '%s'", call, name);
  }
  return nsl_ok(L);
}

static int l_cap_ambient_raise(lua_State *L) {
  return set_ambient(L, "cap_ambient_raise", CAP_SET);
}

static int l_cap_ambient_lower(lua_State *L) {
  return set_ambient(L, "cap_ambient_lower", CAP_CLEAR);
}

static int l_cap_ambient_clear(lua_State *L) {
  if (cap_reset_ambient() != 0)
    return nsl_fail(L, "cap_ambient_clear");
  return nsl_ok(L);
}

static int l_cap_ambient(lua_State *L) {
  cap_value_t cap = check_cap(L, 1);
  /* prctl itself: libcap 2.66's cap_get_ambient turns every errno into
   * EPERM (it negates prctl's -1) */
  int in = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long)cap, 0UL,
                 0UL);
  if (in < 0) {
    int err = errno;
    const char *name = push_cap_name(L, cap);
    errno = err;
    return nsl_fail(L, "cap_ambient '%s'", name);
  }
  lua_pushboolean(L, in);
  return 1;
}

static int l_cap_names(lua_State *L) {
  int n = (int)cap_max_bits();
  lua_createtable(L, n, 0);
  for (int cap = 0; cap < n; cap++) {
    push_cap_name(L, (cap_value_t)cap);
    lua_rawseti(L, -2, cap + 1);
  }
  return 1;
}

static int l_cap_max_bits(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)cap_max_bits());
  return 1;
}

static int l_cap_from_name(lua_State *L) {
  lua_pushinteger(L, check_cap(L, 1));
  return 1;
}

/* ---- prctl --------------------------------------------------------------- */

/* A prctl(2) switch: set it when on >= 0, then return what the kernel
 * reads back. Some GETs return the value, others store it at arg2. */
static int prctl_switch(lua_State *L, const char *call, int on, int set,
                        int get, int stores) {
  if (on >= 0 && prctl(set, (unsigned long)on, 0UL, 0UL, 0UL) != 0)
    return nsl_fail(L, "%s %s", call, on ? "true" : "false");
  int value = 0;
  int rc = stores ? prctl(get, (unsigned long)&value, 0UL, 0UL, 0UL)
                  : (value = prctl(get, 0UL, 0UL, 0UL, 0UL));
  if (rc < 0)
    return nsl_fail(L, "%s", call);
  lua_pushboolean(L, value);
  return 1;
}

static int l_no_new_privs(lua_State *L) {
  /* only 1 may be set: PR_SET_NO_NEW_PRIVS gives EINVAL for 0 */
  return prctl_switch(L, "no_new_privs", opt_switch(L, 1), PR_SET_NO_NEW_PRIVS,
                      PR_GET_NO_NEW_PRIVS, 0);
}

static int l_dumpable(lua_State *L) {
  return prctl_switch(L, "dumpable", opt_switch(L, 1), PR_SET_DUMPABLE,
                      PR_GET_DUMPABLE, 0);
}

static int l_child_subreaper(lua_State *L) {
  return prctl_switch(L, "child_subreaper", opt_switch(L, 1),
                      PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER, 1);
}

static int l_keepcaps(lua_State *L) {
  return prctl_switch(L, "keepcaps", opt_switch(L, 1), PR_SET_KEEPCAPS,
                      PR_GET_KEEPCAPS, 0);
}

static int l_pdeathsig(lua_State *L) {
  int sig = nsl_checksignal(L, 1, 1, 0);
  if (prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0UL, 0UL, 0UL) != 0)
    return nsl_fail(L, "pdeathsig %d", sig);
  return nsl_ok(L);
}

static int l_get_pdeathsig(lua_State *L) {
  int sig = 0;
  if (prctl(PR_GET_PDEATHSIG, (unsigned long)&sig, 0UL, 0UL, 0UL) != 0)
    return nsl_fail(L, "get_pdeathsig");
  lua_pushinteger(L, sig);
  return 1;
}

static int l_set_name(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  /* the kernel keeps the first 15 bytes: see PR_SET_NAME in prctl(2) */
  if (prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL) != 0)
    return nsl_fail(L, "set_name '%s'", name);
  return nsl_ok(L);
}

/* ---- resource limits ----------------------------------------------------- */

static const nsl_Flag rlimit_names[] = {{"as", RLIMIT_AS},
                                        {"core", RLIMIT_CORE},
                                        {"cpu", RLIMIT_CPU},
                                        {"data", RLIMIT_DATA},
                                        {"fsize", RLIMIT_FSIZE},
                                        {"locks", RLIMIT_LOCKS},
                                        {"memlock", RLIMIT_MEMLOCK},
                                        {"msgqueue", RLIMIT_MSGQUEUE},
                                        {"nice", RLIMIT_NICE},
                                        {"nofile", RLIMIT_NOFILE},
                                        {"nproc", RLIMIT_NPROC},
                                        {"rss", RLIMIT_RSS},
                                        {"rtprio", RLIMIT_RTPRIO},
                                        {"rttime", RLIMIT_RTTIME},
                                        {"sigpending", RLIMIT_SIGPENDING},
                                        {"stack", RLIMIT_STACK},
                                        {NULL, 0}};

static int check_resource(lua_State *L, int arg) {
  const char *name = luaL_checkstring(L, arg);
  for (const nsl_Flag *f = rlimit_names; f->word; f++)
    if (strcmp(f->word, name) == 0)
      return (int)f->bits;
  return luaL_argerror(L, arg,
                       lua_pushfstring(L, "unknown resource limit '%s'", name));
}

/* A limit: a count or "unlimited". */
static rlim_t check_rlim(lua_State *L, int arg) {
  if (lua_type(L, arg) == LUA_TSTRING &&
      strcmp(lua_tostring(L, arg), "unlimited") == 0)
    return RLIM_INFINITY;
  if (!lua_isinteger(L, arg) || lua_tointeger(L, arg) < 0)
    luaL_argerror(L, arg, "a count >= 0 or \"unlimited\"");
  return (rlim_t)lua_tointeger(L, arg);
}

static void push_rlim(lua_State *L, rlim_t v) {
  if (v == RLIM_INFINITY)
    lua_pushliteral(L, "unlimited");
  else
    lua_pushinteger(L, (lua_Integer)v);
}

/* The same as a string, for messages. */
static const char *rlim_label(lua_State *L, rlim_t v) {
  push_rlim(L, v);
  return luaL_tolstring(L, -1, NULL);
}

static int l_getrlimit(lua_State *L) {
  struct rlimit rl;
  if (getrlimit(check_resource(L, 1), &rl) != 0)
    return nsl_fail(L, "getrlimit '%s'", lua_tostring(L, 1));
  push_rlim(L, rl.rlim_cur);
  push_rlim(L, rl.rlim_max);
  return 2;
}

static int l_setrlimit(lua_State *L) {
  int resource = check_resource(L, 1);
  struct rlimit rl = {check_rlim(L, 2), check_rlim(L, 3)};
  if (setrlimit(resource, &rl) != 0) {
    int err = errno;
    const char *soft = rlim_label(L, rl.rlim_cur);
    const char *hard = rlim_label(L, rl.rlim_max);
    errno = err;
    return nsl_fail(L, "setrlimit '%s' %s %s", lua_tostring(L, 1), soft, hard);
  }
  return nsl_ok(L);
}

const nsl_Reg nsl_id_lib[] = {
    {"cap_ambient", l_cap_ambient, "cap_ambient(cap) -> bool",
     "is cap in the ambient set (prctl PR_CAP_AMBIENT_IS_SET)"},
    {"cap_ambient_clear", l_cap_ambient_clear, "cap_ambient_clear() -> true",
     "empty the ambient set (PR_CAP_AMBIENT_CLEAR_ALL through libcap)"},
    {"cap_ambient_lower", l_cap_ambient_lower, "cap_ambient_lower(cap) -> true",
     "remove cap from the ambient set (PR_CAP_AMBIENT_LOWER)"},
    {"cap_ambient_raise", l_cap_ambient_raise, "cap_ambient_raise(cap) -> true",
     "add cap to the ambient set (PR_CAP_AMBIENT_RAISE); it must be "
     "permitted and inheritable"},
    {"cap_bound", l_cap_bound, "cap_bound(cap) -> bool",
     "is cap in the bounding set (PR_CAPBSET_READ); cap is a name like "
     "\"sys_admin\" or a number"},
    {"cap_bound_drop", l_cap_bound_drop,
     "cap_bound_drop(cap | {caps...}) -> true",
     "drop capabilities from the bounding set (PR_CAPBSET_DROP); names are "
     "all checked first"},
    {"cap_bound_list", l_cap_bound_list, "cap_bound_list() -> {names...}",
     "the names (\"cap_chown\", ...) of the capabilities in the bounding set"},
    {"cap_from_name", l_cap_from_name, "cap_from_name(name) -> number",
     "the number of a capability: \"sys_admin\", \"cap_sys_admin\" or "
     "\"SYS_ADMIN\""},
    {"cap_get", l_cap_get, "cap_get([pid]) -> text",
     "capabilities of this process or pid as text, \"=ep cap_x-e\" "
     "(capget(2), cap_to_text(3))"},
    {"cap_max_bits", l_cap_max_bits, "cap_max_bits() -> n",
     "how many capabilities the kernel knows: numbers 0 .. n - 1 "
     "(cap_max_bits(3))"},
    {"cap_names", l_cap_names, "cap_names() -> {names...}",
     "the names of every capability the kernel knows, in number order"},
    {"cap_set", l_cap_set, "cap_set(text | sets) -> true",
     "set this process's capabilities from text like \"=ep cap_x-e\" "
     "(cap_from_text(3)) or sets { effective =, permitted =, inheritable = "
     "} of names or numbers (capset(2))"},
    {"child_subreaper", l_child_subreaper, "child_subreaper([bool]) -> bool",
     "set (when given) and return PR_SET_CHILD_SUBREAPER: orphans are "
     "reparented here"},
    {"dumpable", l_dumpable, "dumpable([bool]) -> bool",
     "set (when given) and return PR_SET_DUMPABLE: core dumps, ptrace and "
     "/proc/PID ownership"},
    {"get_pdeathsig", l_get_pdeathsig, "get_pdeathsig() -> sig",
     "the signal sent to this process when its parent dies, 0 for none "
     "(PR_GET_PDEATHSIG)"},
    {"getegid", l_getegid, "getegid() -> gid",
     "the effective gid (getegid(2))"},
    {"geteuid", l_geteuid, "geteuid() -> uid",
     "the effective uid (geteuid(2))"},
    {"getgid", l_getgid, "getgid() -> gid", "the real gid (getgid(2))"},
    {"getgroups", l_getgroups, "getgroups() -> {gids...}",
     "the supplementary groups (getgroups(2))"},
    {"getresgid", l_getresgid, "getresgid() -> r, e, s",
     "the real, effective and saved gids (getresgid(2))"},
    {"getresuid", l_getresuid, "getresuid() -> r, e, s",
     "the real, effective and saved uids (getresuid(2))"},
    {"getrlimit", l_getrlimit, "getrlimit(name) -> soft, hard",
     "getrlimit(2) of nofile nproc core cpu ...; a limit is a number or "
     "\"unlimited\""},
    {"getuid", l_getuid, "getuid() -> uid", "the real uid (getuid(2))"},
    {"keepcaps", l_keepcaps, "keepcaps([bool]) -> bool",
     "set (when given) and return PR_SET_KEEPCAPS: keep permitted caps "
     "across a uid change"},
    {"no_new_privs", l_no_new_privs, "no_new_privs([true]) -> bool",
     "set (when given true) and return PR_SET_NO_NEW_PRIVS; it cannot be "
     "unset"},
    {"pdeathsig", l_pdeathsig, "pdeathsig(sig) -> true",
     "PR_SET_PDEATHSIG: signal (number or name like \"KILL\") when the "
     "parent dies; 0 clears"},
    {"set_name", l_set_name, "set_name(name) -> true",
     "PR_SET_NAME: this thread's name in /proc/self/comm (15 bytes kept)"},
    {"setgroups", l_setgroups, "setgroups({gids...}) -> true",
     "set the supplementary groups (setgroups(2))"},
    {"setresgid", l_setresgid, "setresgid(r [, e [, s]]) -> true",
     "setresgid(2): real, effective and saved gids (0..4294967294); nil "
     "keeps one"},
    {"setresuid", l_setresuid, "setresuid(r [, e [, s]]) -> true",
     "setresuid(2): real, effective and saved uids (0..4294967294); nil "
     "keeps one"},
    {"setrlimit", l_setrlimit, "setrlimit(name, soft, hard) -> true",
     "setrlimit(2) of nofile nproc core cpu ...; soft and hard are numbers "
     "or \"unlimited\""},
    {NULL, NULL, NULL, NULL}};
