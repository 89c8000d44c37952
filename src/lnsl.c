/* lnsl.c: luaopen_nsl_core and the helpers every binding shares. */
#include "lnsl.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int nsl_fail(lua_State *L, const char *fmt, ...) {
  int err = errno; /* before anything can clobber it */
  va_list ap;
  luaL_pushfail(L);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_pushfstring(L, ": %s", strerror(err));
  lua_concat(L, 2);
  lua_pushinteger(L, err);
  return 3;
}

int nsl_ok(lua_State *L) {
  lua_pushboolean(L, 1);
  return 1;
}

const char *nsl_errname(int err) { return strerrorname_np(err); }

/* ---- flag words ---------------------------------------------------------- */

static int is_separator(char c) {
  return c == ' ' || c == ',' || c == '|' || c == '\t';
}

static unsigned long word_bits(lua_State *L, int arg, const char *word,
                               size_t len, const nsl_Flag *words,
                               const char *what) {
  for (const nsl_Flag *f = words; f->word; f++)
    if (strlen(f->word) == len && memcmp(f->word, word, len) == 0)
      return f->bits;
  lua_pushlstring(L, word, len);
  return luaL_argerror(
      L, arg, lua_pushfstring(L, "unknown %s '%s'", what, lua_tostring(L, -1)));
}

static unsigned long string_bits(lua_State *L, int arg, const char *s,
                                 const nsl_Flag *words, const char *what) {
  unsigned long bits = 0;
  while (*s) {
    size_t len = 0;
    while (*s && is_separator(*s))
      s++;
    while (s[len] && !is_separator(s[len]))
      len++;
    if (len)
      bits |= word_bits(L, arg, s, len, words, what);
    s += len;
  }
  return bits;
}

unsigned long nsl_optflags(lua_State *L, int arg, const nsl_Flag *words,
                           const char *what) {
  switch (lua_type(L, arg)) {
  case LUA_TNONE:
  case LUA_TNIL:
    return 0;
  case LUA_TNUMBER:
    return (unsigned long)luaL_checkinteger(L, arg);
  case LUA_TSTRING:
    return string_bits(L, arg, lua_tostring(L, arg), words, what);
  case LUA_TTABLE: {
    unsigned long bits = 0;
    lua_Integer n = (lua_Integer)nsl_checklen(L, arg, NSL_LEN_MAX);
    for (lua_Integer i = 1; i <= n; i++) {
      if (lua_geti(L, arg, i) != LUA_TSTRING)
        luaL_argerror(L, arg,
                      lua_pushfstring(L, "%s words must be strings", what));
      bits |= string_bits(L, arg, lua_tostring(L, -1), words, what);
      lua_pop(L, 1);
    }
    return bits;
  }
  default:
    return luaL_typeerror(L, arg, "string, table of words or integer");
  }
}

const char *nsl_pushflagnames(lua_State *L, unsigned long bits,
                              const nsl_Flag *words) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (const nsl_Flag *f = words; f->word && bits; f++) {
    /* only single-word flags that are fully set, so "rbind" is not
     * printed next to "bind|rec" */
    if (f->bits && (bits & f->bits) == f->bits &&
        (f->bits & (f->bits - 1)) == 0) {
      if (luaL_bufflen(&b))
        luaL_addchar(&b, '|');
      luaL_addstring(&b, f->word);
      bits &= ~f->bits;
    }
  }
  if (bits) {
    if (luaL_bufflen(&b))
      luaL_addchar(&b, '|');
    lua_pushfstring(L, "0x%p", (void *)bits);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

/* ---- signals ------------------------------------------------------------- */

/* The signal at stack index idx (argument arg for messages): a number in
 * min..NSIG-1 or a name with or without SIG ("TERM", "SIGTERM", "term"). */
int nsl_checksignal(lua_State *L, int idx, int arg, int min) {
  if (lua_type(L, idx) == LUA_TNUMBER) {
    int isnum;
    lua_Integer n = lua_tointegerx(L, idx, &isnum);
    if (!isnum || n < min || n >= NSIG)
      luaL_argerror(L, arg,
                    lua_pushfstring(L, "signal %s out of range",
                                    luaL_tolstring(L, idx, NULL)));
    return (int)n;
  }
  if (lua_type(L, idx) != LUA_TSTRING)
    luaL_argerror(L, arg,
                  lua_pushfstring(L, "signal is %s, not a name or number",
                                  luaL_typename(L, idx)));
  const char *name = lua_tostring(L, idx);
  const char *bare = strncasecmp(name, "SIG", 3) == 0 ? name + 3 : name;
  for (int sig = 1; sig < NSIG; sig++) {
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev && strcasecmp(abbrev, bare) == 0)
      return sig;
  }
  return luaL_argerror(L, arg, lua_pushfstring(L, "unknown signal '%s'", name));
}

/* ---- ranges -------------------------------------------------------------- */

lua_Integer nsl_checkrange(lua_State *L, int arg, const char *what,
                           lua_Integer min, lua_Integer max) {
  lua_Integer n = luaL_checkinteger(L, arg);
  if (n < min || n > max)
    luaL_argerror(
        L, arg,
        lua_pushfstring(L, "%s %I out of range %I..%I", what, n, min, max));
  return n;
}

uid_t nsl_checkid(lua_State *L, int arg, const char *what) {
  return (uid_t)nsl_checkrange(L, arg, what, 0, NSL_ID_MAX);
}

uid_t nsl_optid(lua_State *L, int arg, const char *what) {
  return lua_isnoneornil(L, arg) ? (uid_t)-1 : nsl_checkid(L, arg, what);
}

pid_t nsl_checkpid(lua_State *L, int arg, lua_Integer min) {
  return (pid_t)nsl_checkrange(L, arg, "pid", min, INT_MAX);
}

pid_t nsl_optpid(lua_State *L, int arg, lua_Integer min, pid_t def) {
  return lua_isnoneornil(L, arg) ? def : nsl_checkpid(L, arg, min);
}

int nsl_checkoptions(lua_State *L, int arg, const char *const known[]) {
  if (lua_isnoneornil(L, arg))
    return 0;
  luaL_checktype(L, arg, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, arg)) {
    int i = 0;
    if (lua_type(L, -2) == LUA_TSTRING)
      while (known[i] && strcmp(known[i], lua_tostring(L, -2)) != 0)
        i++;
    if (lua_type(L, -2) != LUA_TSTRING || known[i] == NULL)
      luaL_argerror(L, arg,
                    lua_pushfstring(L, "unknown option '%s'",
                                    luaL_tolstring(L, -2, NULL)));
    lua_pop(L, 1);
  }
  return 1;
}

/* A __len may return anything: a negative one cast to size_t made a size
 * that wrapped around. */
size_t nsl_checklen(lua_State *L, int arg, lua_Integer max) {
  lua_Integer n = luaL_len(L, arg);
  if (n < 0 || n > max)
    luaL_argerror(L, arg,
                  lua_pushfstring(L, "length %I out of range 0..%I", n, max));
  return (size_t)n;
}

/* ---- modes and string arrays --------------------------------------------- */

mode_t nsl_checkmode(lua_State *L, int arg) {
  if (lua_type(L, arg) == LUA_TSTRING) {
    const char *s = lua_tostring(L, arg);
    char *end;
    unsigned long m = strtoul(s, &end, 8);
    if (*s == '\0' || *end != '\0' || m > 07777)
      luaL_argerror(
          L, arg,
          lua_pushfstring(L, "bad mode '%s' (octal, like \"0755\")", s));
    return (mode_t)m;
  }
  lua_Integer m = luaL_checkinteger(L, arg);
  if (m < 0 || m > 07777)
    luaL_argerror(L, arg, "mode out of range 0..07777");
  return (mode_t)m;
}

mode_t nsl_optmode(lua_State *L, int arg, mode_t def) {
  return lua_isnoneornil(L, arg) ? def : nsl_checkmode(L, arg);
}

char **nsl_checkstrings(lua_State *L, int arg, int allow_map, size_t *np) {
  luaL_checktype(L, arg, LUA_TTABLE);
  size_t n = nsl_checklen(L, arg, NSL_LEN_MAX), extra = 0;
  if (allow_map) {
    lua_pushnil(L);
    while (lua_next(L, arg)) {
      if (lua_type(L, -2) == LUA_TSTRING)
        extra++;
      lua_pop(L, 1);
    }
    luaL_argcheck(L, extra <= NSL_LEN_MAX, arg, "too many variables");
  }
  char **v = lua_newuserdatauv(L, (n + extra + 1) * sizeof *v, 1);
  /* the strings stay alive in the userdata's user value */
  lua_createtable(L, (int)(n + extra), 0);
  size_t k = 0;
  for (size_t i = 1; i <= n; i++, k++) {
    if (lua_geti(L, arg, (lua_Integer)i) != LUA_TSTRING && !lua_isnumber(L, -1))
      luaL_argerror(L, arg,
                    lua_pushfstring(L, "item %d is %s, not a string", (int)i,
                                    luaL_typename(L, -1)));
    v[k] = (char *)lua_tostring(L, -1);
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
  if (allow_map) {
    lua_pushnil(L);
    while (lua_next(L, arg)) {
      if (lua_type(L, -2) == LUA_TSTRING) {
        if (!lua_isstring(L, -1))
          luaL_argerror(L, arg,
                        lua_pushfstring(L, "value of '%s' is %s, not a string",
                                        lua_tostring(L, -2),
                                        luaL_typename(L, -1)));
        lua_pushfstring(L, "%s=%s", lua_tostring(L, -2), lua_tostring(L, -1));
        v[k] = (char *)lua_tostring(L, -1);
        lua_rawseti(L, -4, (lua_Integer)++k);
      }
      lua_pop(L, 1);
    }
  }
  v[k] = NULL;
  lua_setiuservalue(L, -2, 1);
  if (np)
    *np = k;
  return v;
}

/* ---- the module ---------------------------------------------------------- */

static int l_strerror(lua_State *L) {
  lua_pushstring(L, strerror((int)luaL_checkinteger(L, 1)));
  return 1;
}

static int l_monotime(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

static const nsl_Reg core_lib[] = {
    {"monotime", l_monotime, "monotime() -> seconds",
     "CLOCK_MONOTONIC as a float, for timing (clock_gettime(2))"},
    {"strerror", l_strerror, "strerror(errno) -> string",
     "the system's message for an errno number"},
    {NULL, NULL, NULL, NULL}};

/* errno = { EPERM = 1, ..., [1] = "EPERM", ... }: both directions, each
 * entry made on first use (a start that fails nothing needs none of them);
 * pairs() sees them all. */
#define ERRNO_MAX 200

/* A lazy table's __pairs, once it has made every entry: next, t, nil, with
 * the base library's next from the closure. */
static int pairs_of_whole(lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

/* The table on top makes its entries on first use: index makes one,
 * pairs makes them all and ends in pairs_of_whole. */
static void set_lazy(lua_State *L, lua_CFunction index, lua_CFunction pairs) {
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, index);
  lua_setfield(L, -2, "__index");
  lua_getglobal(L, "next");
  lua_pushcclosure(L, pairs, 1);
  lua_setfield(L, -2, "__pairs");
  lua_setmetatable(L, -2);
}

static int errno_index(lua_State *L) {
  int e = 0;
  if (lua_type(L, 2) == LUA_TSTRING) {
    const char *name = lua_tostring(L, 2);
    for (int i = 1; i < ERRNO_MAX && !e; i++)
      if (strerrorname_np(i) && strcmp(strerrorname_np(i), name) == 0)
        e = i;
    if (!e)
      return 0;
    lua_pushinteger(L, e);
  } else {
    lua_Integer i = lua_isinteger(L, 2) ? lua_tointeger(L, 2) : 0;
    const char *name = i > 0 && i < ERRNO_MAX ? strerrorname_np((int)i) : NULL;
    if (!name)
      return 0;
    lua_pushstring(L, name);
  }
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

static int errno_pairs(lua_State *L) {
  for (int e = 1; e < ERRNO_MAX; e++) {
    const char *name = strerrorname_np(e);
    if (!name)
      continue;
    lua_pushinteger(L, e);
    lua_setfield(L, 1, name);
    lua_pushstring(L, name);
    lua_rawseti(L, 1, e);
  }
  return pairs_of_whole(L);
}

static void push_errno_table(lua_State *L) {
  lua_createtable(L, 140, 140);
  set_lazy(L, errno_index, errno_pairs);
}

static const nsl_Reg *const areas[] = {
    core_lib,        nsl_proc_lib, nsl_mount_lib, nsl_file_lib,
    nsl_id_lib,      nsl_fd_lib,   nsl_net_lib,   nsl_root_lib,
    nsl_seccomp_lib, nsl_sock_lib, nsl_bpf_lib};

/* The objects whose methods have docs, by the prefix help names them with. */
static const struct {
  const char *prefix;
  const nsl_Reg *methods;
} objects[] = {{"fd:", nsl_fd_methods},
               {"root:", nsl_root_methods},
               {"netns_job:", nsl_netns_job_methods}};

void nsl_setmethods(lua_State *L, const nsl_Reg *methods, int nup) {
  luaL_checkstack(L, nup, "too many upvalues");
  for (const nsl_Reg *r = methods; r->name; r++) {
    for (int i = 0; i < nup; i++)
      lua_pushvalue(L, -nup);
    lua_pushcclosure(L, r->func, nup);
    lua_setfield(L, -(nup + 2), r->name);
  }
  lua_pop(L, nup);
}

/* Push { sig = r->sig, doc = r->doc }. */
static void push_doc(lua_State *L, const nsl_Reg *r) {
  lua_createtable(L, 0, 2);
  lua_pushstring(L, r->sig);
  lua_setfield(L, -2, "sig");
  lua_pushstring(L, r->doc);
  lua_setfield(L, -2, "doc");
}

/* The functions by name, for the module's __index: a start uses a few
 * dozen of them, and naming all of them in the table (an interned string and
 * a table slot each) cost more than the lookups. Open addressing, built on
 * the first lookup, at most half full. */
#define BY_NAME_SLOTS 512
static const nsl_Reg *by_name[BY_NAME_SLOTS];
static int by_name_built;

static unsigned name_hash(const char *s) {
  unsigned h = 2166136261u; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static void index_functions(lua_State *L) {
  int n = 0;
  for (size_t i = 0; i < sizeof areas / sizeof *areas; i++)
    for (const nsl_Reg *r = areas[i]; r->name; r++)
      if (++n > BY_NAME_SLOTS / 2)
        luaL_error(L, "nsl.core: more functions than BY_NAME_SLOTS / 2");
  for (size_t i = 0; i < sizeof areas / sizeof *areas; i++)
    for (const nsl_Reg *r = areas[i]; r->name; r++) {
      unsigned h = name_hash(r->name);
      while (by_name[h % BY_NAME_SLOTS])
        h++;
      by_name[h % BY_NAME_SLOTS] = r;
    }
  by_name_built = 1;
}

static const nsl_Reg *find_function(lua_State *L, const char *name) {
  if (!by_name_built)
    index_functions(L);
  for (unsigned h = name_hash(name);; h++) {
    const nsl_Reg *r = by_name[h % BY_NAME_SLOTS];
    if (!r || strcmp(r->name, name) == 0)
      return r;
  }
}

/* The docs of help(): _doc (name -> { sig, doc }) or _method_doc
 * ("root:mount_on" -> { sig, doc }). */
static void push_docs(lua_State *L, int methods) {
  lua_newtable(L);
  for (size_t i = 0; !methods && i < sizeof areas / sizeof *areas; i++)
    for (const nsl_Reg *r = areas[i]; r->name; r++) {
      push_doc(L, r);
      lua_setfield(L, -2, r->name);
    }
  for (size_t i = 0; methods && i < sizeof objects / sizeof *objects; i++)
    for (const nsl_Reg *r = objects[i].methods; r->name; r++)
      if (r->sig) {
        lua_pushfstring(L, "%s%s", objects[i].prefix, r->name);
        push_doc(L, r);
        lua_rawset(L, -3);
      }
}

/* The module's __index: what a start has no use for is made on first use
 * and then kept in the table: each function, errno, signals, and help's
 * _doc and _method_doc. */
static int l_core_index(lua_State *L) {
  const char *key = luaL_checkstring(L, 2);
  const nsl_Reg *r;
  if (strcmp(key, "_method_doc") == 0 || strcmp(key, "_doc") == 0)
    push_docs(L, key[1] == 'm');
  else if (strcmp(key, "errno") == 0)
    push_errno_table(L);
  else if (strcmp(key, "signals") == 0)
    nsl_push_signals(L);
  else if ((r = find_function(L, key)))
    lua_pushcfunction(L, r->func);
  else
    return 0;
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

/* pairs(core) sees every function and table: the lazy ones are made first. */
static int l_core_pairs(lua_State *L) {
  static const char *const tables[] = {"errno", "signals"};
  luaL_checktype(L, 1, LUA_TTABLE);
  for (size_t i = 0; i < sizeof areas / sizeof *areas; i++)
    for (const nsl_Reg *r = areas[i]; r->name; r++) {
      lua_getfield(L, 1, r->name);
      lua_pop(L, 1);
    }
  for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
    lua_getfield(L, 1, tables[i]);
    lua_pop(L, 1);
  }
  return pairs_of_whole(L);
}

int luaopen_nsl_core(lua_State *L);
int luaopen_nsl_core(lua_State *L) {
  int n = 8; /* errno, signals, version and what the *_open add */
  for (size_t i = 0; i < sizeof areas / sizeof *areas; i++)
    for (const nsl_Reg *r = areas[i]; r->name; r++)
      n++;
  /* sized once for everything __index may add: growing by doubling would
   * rehash every field each time */
  lua_createtable(L, 0, n);
  set_lazy(L, l_core_index, l_core_pairs);
  lua_pushliteral(L, NSL_VERSION);
  lua_setfield(L, -2, "version");
  nsl_fd_open(L);
  nsl_root_open(L);
  nsl_seccomp_open(L);
  return 1;
}
