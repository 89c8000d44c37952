/* lseccomp.c: seccomp filters through libseccomp, and raw BPF programs.
 *
 * A filter is an "nsl.seccomp" userdata around a scmp_filter_ctx: rules are
 * added by syscall name, compiled by libseccomp, and either loaded or
 * exported as BPF (a string of struct sock_filter), which seccomp_load_bpf
 * loads later without libseccomp's compiler (nsl.seccomp caches it). */
#include "lnsl.h"

#include <errno.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NSL_SECCOMP "nsl.seccomp"

typedef struct nsl_filter {
  scmp_filter_ctx ctx; /* NULL once released */
} nsl_filter;

/* ---- plain helpers ------------------------------------------------------- */

/* What libseccomp exports for ctx (seccomp_export_bpf(3) or _pfc), in a
 * malloc'ed buffer: it only writes to an fd, so through a memfd. */
static int export_filter(scmp_filter_ctx ctx,
                         int (*export)(const scmp_filter_ctx, int), char **out,
                         size_t *len) {
  int fd = memfd_create("nsl-seccomp-export", MFD_CLOEXEC);
  if (fd < 0)
    return -1;
  struct stat st;
  int rc = export(ctx, fd);
  if (rc < 0)
    errno = -rc; /* libseccomp returns -errno */
  else if (fstat(fd, &st) != 0)
    rc = -1;
  else if (!(*out = malloc((size_t)st.st_size + 1)))
    rc = -1;
  else if (pread(fd, *out, (size_t)st.st_size, 0) != st.st_size) {
    free(*out);
    rc = -1;
  } else
    *len = (size_t)st.st_size;
  int err = errno;
  close(fd);
  errno = err;
  return rc < 0 ? -1 : 0;
}

/* seccomp(2) SECCOMP_SET_MODE_FILTER; prctl(2) PR_SET_SECCOMP where the
 * kernel predates seccomp(2) (3.17) and no flags are asked for. */
static int load_program(const struct sock_fprog *prog, unsigned long flags) {
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);
  if (rc < 0 && errno == ENOSYS && flags == 0)
    rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0UL, 0UL);
  return (int)rc;
}

/* ---- words -----------------------------------------------------------------
 */

/* Actions without data; "errno N" and "trace N" are parsed apart. "kill"
 * kills the whole process: libseccomp's SCMP_ACT_KILL only kills the
 * thread, leaving the rest of a threaded program running. */
static const nsl_Flag actions[] = {{"allow", SCMP_ACT_ALLOW},
                                   {"kill", SCMP_ACT_KILL_PROCESS},
                                   {"kill_process", SCMP_ACT_KILL_PROCESS},
                                   {"kill_thread", SCMP_ACT_KILL_THREAD},
                                   {"log", SCMP_ACT_LOG},
                                   {"notify", SCMP_ACT_NOTIFY},
                                   {"trap", SCMP_ACT_TRAP},
                                   {NULL, 0}};

static const nsl_Flag operators[] = {{"ne", SCMP_CMP_NE},
                                     {"lt", SCMP_CMP_LT},
                                     {"le", SCMP_CMP_LE},
                                     {"eq", SCMP_CMP_EQ},
                                     {"ge", SCMP_CMP_GE},
                                     {"gt", SCMP_CMP_GT},
                                     {"masked_eq", SCMP_CMP_MASKED_EQ},
                                     {NULL, 0}};

static const nsl_Flag attributes[] = {
    {"act_badarch", SCMP_FLTATR_ACT_BADARCH},
    {"ctl_log", SCMP_FLTATR_CTL_LOG},
    {"ctl_nnp", SCMP_FLTATR_CTL_NNP},
    {"ctl_optimize", SCMP_FLTATR_CTL_OPTIMIZE},
    {"ctl_ssb", SCMP_FLTATR_CTL_SSB},
    {"ctl_tsync", SCMP_FLTATR_CTL_TSYNC},
    {NULL, 0}};

static const nsl_Flag load_flags[] = {
    {"log", SECCOMP_FILTER_FLAG_LOG},
    {"new_listener", SECCOMP_FILTER_FLAG_NEW_LISTENER},
    {"spec_allow", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"tsync", SECCOMP_FILTER_FLAG_TSYNC},
    {NULL, 0}};

/* libseccomp resolves arch names but has no way back from a token. */
static const nsl_Flag arches[] = {{"x86", SCMP_ARCH_X86},
                                  {"x86_64", SCMP_ARCH_X86_64},
                                  {"x32", SCMP_ARCH_X32},
                                  {"arm", SCMP_ARCH_ARM},
                                  {"aarch64", SCMP_ARCH_AARCH64},
                                  {"mips", SCMP_ARCH_MIPS},
                                  {"mips64", SCMP_ARCH_MIPS64},
                                  {"mips64n32", SCMP_ARCH_MIPS64N32},
                                  {"mipsel", SCMP_ARCH_MIPSEL},
                                  {"mipsel64", SCMP_ARCH_MIPSEL64},
                                  {"mipsel64n32", SCMP_ARCH_MIPSEL64N32},
                                  {"ppc", SCMP_ARCH_PPC},
                                  {"ppc64", SCMP_ARCH_PPC64},
                                  {"ppc64le", SCMP_ARCH_PPC64LE},
                                  {"s390", SCMP_ARCH_S390},
                                  {"s390x", SCMP_ARCH_S390X},
                                  {"parisc", SCMP_ARCH_PARISC},
                                  {"parisc64", SCMP_ARCH_PARISC64},
                                  {"riscv64", SCMP_ARCH_RISCV64},
                                  {NULL, 0}};

static int word_index(const nsl_Flag *words, const char *s, size_t len) {
  for (int i = 0; words[i].word; i++)
    if (strlen(words[i].word) == len && memcmp(words[i].word, s, len) == 0)
      return i;
  return -1;
}

/* An errno from its name ("EPERM") or number ("1"), or -1. */
static int errno_value(const char *s) {
  char *end;
  long n = strtol(s, &end, 10);
  if (*s && *end == '\0')
    return n >= 0 && n <= 0xffff ? (int)n : -1;
  for (int e = 1; e < 4096; e++) {
    const char *name = strerrorname_np(e);
    if (name && strcmp(name, s) == 0)
      return e;
  }
  return -1;
}

/* The action at arg: "allow", "kill", "errno EPERM", "errno 13",
 * "trace 7", ... (see actions); an unknown one raises. */
static uint32_t check_action(lua_State *L, int arg) {
  const char *s = luaL_checkstring(L, arg);
  size_t len = strcspn(s, " ");
  const char *data = s[len] ? s + len + strspn(s + len, " ") : NULL;
  int i = word_index(actions, s, len);
  if (i >= 0 && !data)
    return (uint32_t)actions[i].bits;
  int value = data ? errno_value(data) : -1;
  if (value >= 0 && len == 5 && memcmp(s, "errno", 5) == 0)
    return SCMP_ACT_ERRNO((uint32_t)value);
  if (value >= 0 && len == 5 && memcmp(s, "trace", 5) == 0)
    return SCMP_ACT_TRACE((uint32_t)value);
  return (uint32_t)luaL_argerror(
      L, arg, lua_pushfstring(L, "unknown seccomp action '%s'", s));
}

static uint32_t check_arch(lua_State *L, int arg) {
  const char *s = luaL_checkstring(L, arg);
  if (strcmp(s, "native") == 0)
    return SCMP_ARCH_NATIVE;
  int i = word_index(arches, s, strlen(s));
  if (i < 0)
    luaL_argerror(L, arg, lua_pushfstring(L, "unknown architecture '%s'", s));
  return (uint32_t)arches[i].bits;
}

static uint32_t opt_arch(lua_State *L, int arg) {
  return lua_isnoneornil(L, arg) ? SCMP_ARCH_NATIVE : check_arch(L, arg);
}

static const char *arch_name(uint32_t token) {
  for (const nsl_Flag *a = arches; a->word; a++)
    if (a->bits == token)
      return a->word;
  return "unknown";
}

/* ---- the filter object -----------------------------------------------------
 */

static nsl_filter *check_filter(lua_State *L, int arg) {
  nsl_filter *f = luaL_checkudata(L, arg, NSL_SECCOMP);
  luaL_argcheck(L, f->ctx != NULL, arg, "seccomp filter is released");
  return f;
}

static int l_seccomp_gc(lua_State *L) {
  nsl_filter *f = luaL_checkudata(L, 1, NSL_SECCOMP);
  if (f->ctx)
    seccomp_release(f->ctx);
  f->ctx = NULL;
  return 0;
}

static int l_seccomp_tostring(lua_State *L) {
  nsl_filter *f = luaL_checkudata(L, 1, NSL_SECCOMP);
  if (f->ctx)
    lua_pushfstring(L, "seccomp filter (%p)", (void *)f->ctx);
  else
    lua_pushliteral(L, "seccomp filter (released)");
  return 1;
}

/* libseccomp's -errno as nsl_fail's errno. */
static int fail_rc(lua_State *L, int rc, const char *fmt, const char *arg) {
  errno = -rc;
  return nsl_fail(L, fmt, arg);
}

/* ---- comparisons -----------------------------------------------------------
 */

/* One { arg, op, a [, b] } at the top of the stack into *cmp; masked_eq
 * reads a as the mask and b as the value (SCMP_CMP(3)). */
static void to_comparison(lua_State *L, int arg, int n,
                          struct scmp_arg_cmp *cmp) {
  if (!lua_istable(L, -1))
    luaL_argerror(L, arg,
                  lua_pushfstring(L, "comparison %d is not a table", n));
  lua_geti(L, -1, 1);
  lua_geti(L, -2, 2);
  lua_geti(L, -3, 3);
  lua_geti(L, -4, 4);
  int isnum;
  lua_Integer index = lua_tointegerx(L, -4, &isnum);
  if (!isnum || index < 0 || index > 5)
    luaL_argerror(L, arg,
                  lua_pushfstring(L, "comparison %d: argument index 0..5", n));
  const char *op = lua_tostring(L, -3);
  int i = op ? word_index(operators, op, strlen(op)) : -1;
  if (i < 0)
    luaL_argerror(L, arg,
                  lua_pushfstring(L, "comparison %d: unknown operator '%s'", n,
                                  op ? op : "(none)"));
  lua_Integer a = lua_tointegerx(L, -2, &isnum);
  if (!isnum)
    luaL_argerror(
        L, arg,
        lua_pushfstring(L, "comparison %d: value is not an integer", n));
  lua_Integer b = lua_tointegerx(L, -1, &isnum);
  if (!isnum && operators[i].bits == SCMP_CMP_MASKED_EQ)
    luaL_argerror(
        L, arg,
        lua_pushfstring(L, "comparison %d: masked_eq needs mask and value", n));
  *cmp = (struct scmp_arg_cmp){(unsigned)index,
                               (enum scmp_compare)operators[i].bits,
                               (scmp_datum_t)a, isnum ? (scmp_datum_t)b : 0};
  lua_pop(L, 4);
}

/* The comparisons at arg (nil: none), at most 6 (one per argument). */
static unsigned check_comparisons(lua_State *L, int arg,
                                  struct scmp_arg_cmp cmps[6]) {
  if (lua_isnoneornil(L, arg))
    return 0;
  luaL_checktype(L, arg, LUA_TTABLE);
  lua_Integer n = luaL_len(L, arg);
  luaL_argcheck(L, n >= 0 && n <= 6, arg, "at most 6 comparisons");
  for (lua_Integer i = 1; i <= n; i++) {
    lua_geti(L, arg, i);
    to_comparison(L, arg, (int)i, &cmps[i - 1]);
    lua_pop(L, 1);
  }
  return (unsigned)n;
}

/* ---- the bindings ----------------------------------------------------------
 */

static int l_seccomp_api_get(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)seccomp_api_get());
  return 1;
}

/* seccomp_arch_add or _remove (call) on the filter and arch at 1, 2. */
static int arch_change(lua_State *L, int (*change)(scmp_filter_ctx, uint32_t),
                       const char *call) {
  nsl_filter *f = check_filter(L, 1);
  uint32_t arch = check_arch(L, 2);
  int rc = change(f->ctx, arch);
  if (rc < 0)
    return fail_rc(L, rc, call, lua_tostring(L, 2));
  return nsl_ok(L);
}

static int l_seccomp_arch_add(lua_State *L) {
  return arch_change(L, seccomp_arch_add, "seccomp_arch_add '%s'");
}

static int l_seccomp_arch_native(lua_State *L) {
  lua_pushstring(L, arch_name(seccomp_arch_native()));
  return 1;
}

static int l_seccomp_arch_remove(lua_State *L) {
  return arch_change(L, seccomp_arch_remove, "seccomp_arch_remove '%s'");
}

static int l_seccomp_attr_set(lua_State *L) {
  nsl_filter *f = check_filter(L, 1);
  const char *name = luaL_checkstring(L, 2);
  int i = word_index(attributes, name, strlen(name));
  if (i < 0)
    luaL_argerror(L, 2,
                  lua_pushfstring(L, "unknown seccomp attribute '%s'", name));
  /* act_badarch takes an action, the others a number or a boolean */
  uint32_t value = attributes[i].bits == SCMP_FLTATR_ACT_BADARCH
                       ? check_action(L, 3)
                   : lua_isboolean(L, 3) ? (uint32_t)lua_toboolean(L, 3)
                                         : (uint32_t)luaL_checkinteger(L, 3);
  int rc = seccomp_attr_set(f->ctx, (enum scmp_filter_attr)attributes[i].bits,
                            value);
  if (rc < 0)
    return fail_rc(L, rc, "seccomp_attr_set '%s'", name);
  return nsl_ok(L);
}

static int push_export(lua_State *L, int (*export)(const scmp_filter_ctx, int),
                       const char *call) {
  nsl_filter *f = check_filter(L, 1);
  char *text;
  size_t len;
  if (export_filter(f->ctx, export, &text, &len) != 0)
    return nsl_fail(L, "%s", call);
  lua_pushlstring(L, text, len);
  free(text);
  return 1;
}

static int l_seccomp_export_bpf(lua_State *L) {
  return push_export(L, seccomp_export_bpf, "seccomp_export_bpf");
}

static int l_seccomp_export_pfc(lua_State *L) {
  return push_export(L, seccomp_export_pfc, "seccomp_export_pfc");
}

static int l_seccomp_init(lua_State *L) {
  uint32_t action = check_action(L, 1);
  nsl_filter *f = lua_newuserdatauv(L, sizeof *f, 0);
  f->ctx = NULL;
  luaL_setmetatable(L, NSL_SECCOMP);
  /* NULL for an action the kernel lacks; libseccomp sets no errno */
  if (!(f->ctx = seccomp_init(action)))
    return fail_rc(L, -EINVAL, "seccomp_init '%s'", lua_tostring(L, 1));
  return 1;
}

static int l_seccomp_load(lua_State *L) {
  nsl_filter *f = check_filter(L, 1);
  int rc = seccomp_load(f->ctx);
  if (rc < 0)
    return fail_rc(L, rc, "%s", "seccomp_load");
  return nsl_ok(L);
}

static int l_seccomp_load_bpf(lua_State *L) {
  size_t len;
  const char *bpf = luaL_checklstring(L, 1, &len);
  unsigned long flags = nsl_optflags(L, 2, load_flags, "seccomp load flag");
  luaL_argcheck(L,
                len > 0 && len % sizeof(struct sock_filter) == 0 &&
                    len / sizeof(struct sock_filter) <= BPF_MAXINSNS,
                1, "not a BPF program (1..4096 instructions of 8 bytes)");
  struct sock_fprog prog = {(unsigned short)(len / sizeof(struct sock_filter)),
                            (struct sock_filter *)bpf};
  int *slot = flags & SECCOMP_FILTER_FLAG_NEW_LISTENER ? nsl_newfd(L) : NULL;
  int rc = load_program(&prog, flags);
  if (rc < 0)
    return nsl_fail(L, "seccomp_load_bpf (%d instructions)", (int)prog.len);
  if (slot)
    nsl_own(L, slot, rc);
  else
    lua_pushboolean(L, 1);
  return 1;
}

/* SECCOMP_GET_NOTIF_SIZES: the kernel's struct seccomp_notif may be
 * larger than this system's header has it (seccomp_unotify(2)). */
static size_t notif_size(void) {
  struct seccomp_notif_sizes sizes;
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0 ||
      sizes.seccomp_notif < sizeof(struct seccomp_notif))
    return sizeof(struct seccomp_notif);
  return sizes.seccomp_notif;
}

/* ioctl(2) for the notifier's requests, whose numbers have the top bit set:
 * glibc's ioctl takes an unsigned long request, musl's an int (a warning
 * for these), and the kernel reads 32 bits of it either way. */
static int notify_ioctl(int fd, unsigned long request, void *arg) {
  return (int)syscall(SYS_ioctl, fd, request, arg);
}

static int l_seccomp_notify_receive(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  struct seccomp_notif *req = lua_newuserdatauv(L, notif_size(), 0);
  memset(req, 0, notif_size()); /* the kernel wants it zeroed */
  int rc;
  do
    rc = notify_ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req);
  while (rc < 0 && errno == EINTR);
  if (rc < 0)
    return nsl_fail(L, "seccomp_notify_receive %d", fd);
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, (lua_Integer)req->id);
  lua_setfield(L, -2, "id");
  lua_pushinteger(L, (lua_Integer)req->pid);
  lua_setfield(L, -2, "pid");
  char *name = seccomp_syscall_resolve_num_arch(req->data.arch, req->data.nr);
  if (name)
    lua_pushstring(L, name);
  else
    lua_pushinteger(L, req->data.nr);
  free(name);
  lua_setfield(L, -2, "syscall");
  lua_pushstring(L, arch_name(req->data.arch));
  lua_setfield(L, -2, "arch");
  lua_createtable(L, 6, 0);
  for (int i = 0; i < 6; i++) {
    lua_pushinteger(L, (lua_Integer)req->data.args[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "args");
  return 1;
}

/* The answer at arg: "continue" (the kernel runs the call), an errno
 * (name or number: the call fails with it) or 0 and a value at arg + 1. */
static void check_answer(lua_State *L, int arg,
                         struct seccomp_notif_resp *resp) {
  if (lua_type(L, arg) == LUA_TSTRING &&
      strcmp(lua_tostring(L, arg), "continue") == 0) {
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    return;
  }
  int e = lua_type(L, arg) == LUA_TNUMBER
              ? (int)nsl_checkrange(L, arg, "errno", 0, 4095)
              : errno_value(luaL_checkstring(L, arg));
  /* libc reads only -4095..-1 as an error: -5000 would be a success */
  luaL_argcheck(L, e >= 0 && e <= 4095, arg,
                "\"continue\", an errno (0..4095) or 0");
  resp->error = -e;
  resp->val = e == 0 ? (__s64)luaL_optinteger(L, arg + 1, 0) : 0;
}

static int l_seccomp_notify_respond(lua_State *L) {
  int fd = nsl_checkfd(L, 1);
  struct seccomp_notif_resp resp = {0};
  resp.id = (__u64)luaL_checkinteger(L, 2);
  check_answer(L, 3, &resp);
  if (notify_ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0)
    return nsl_fail(L, "seccomp_notify_respond %d", fd);
  return nsl_ok(L);
}

static int l_seccomp_release(lua_State *L) {
  check_filter(L, 1);
  l_seccomp_gc(L);
  return nsl_ok(L);
}

static int l_seccomp_rule_add(lua_State *L) {
  nsl_filter *f = check_filter(L, 1);
  uint32_t action = check_action(L, 2);
  struct scmp_arg_cmp cmps[6];
  unsigned n = check_comparisons(L, 4, cmps);
  /* a number out of int range was truncated to another syscall's */
  int nr = lua_type(L, 3) == LUA_TNUMBER
               ? (int)nsl_checkrange(L, 3, "syscall", INT_MIN, INT_MAX)
               : seccomp_syscall_resolve_name(luaL_checkstring(L, 3));
  const char *name = luaL_tolstring(L, 3, NULL);
  if (nr == __NR_SCMP_ERROR) /* a name libseccomp does not know */
    return fail_rc(L, -EINVAL, "seccomp_rule_add '%s'", name);
  int rc = seccomp_rule_add_array(f->ctx, action, nr, n, cmps);
  if (rc < 0)
    return fail_rc(L, rc, "seccomp_rule_add '%s'", name);
  return nsl_ok(L);
}

static int l_seccomp_syscall_resolve_name(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  uint32_t arch = opt_arch(L, 2);
  int nr = seccomp_syscall_resolve_name_arch(arch, name);
  if (nr == __NR_SCMP_ERROR)
    return fail_rc(L, -EINVAL, "seccomp_syscall_resolve_name '%s'", name);
  lua_pushinteger(L, nr);
  return 1;
}

static int l_seccomp_syscall_resolve_num(lua_State *L) {
  int nr = (int)nsl_checkrange(L, 1, "syscall", INT_MIN, INT_MAX);
  uint32_t arch = opt_arch(L, 2);
  char *name = seccomp_syscall_resolve_num_arch(arch, nr);
  if (!name)
    return fail_rc(L, -EINVAL, "seccomp_syscall_resolve_num '%s'",
                   lua_tostring(L, 1));
  lua_pushstring(L, name);
  free(name);
  return 1;
}

static int l_seccomp_version(lua_State *L) {
  const struct scmp_version *v = seccomp_version();
  lua_pushfstring(L, "%d.%d.%d", (int)v->major, (int)v->minor, (int)v->micro);
  return 1;
}

const nsl_Reg nsl_seccomp_lib[] = {
    {"seccomp_api_get", l_seccomp_api_get, "seccomp_api_get() -> level",
     "the seccomp API level libseccomp found in this kernel "
     "(seccomp_api_get(3))"},
    {"seccomp_arch_add", l_seccomp_arch_add,
     "seccomp_arch_add(filter, arch) -> true",
     "let the filter match another architecture's syscalls, e.g. \"x86\" "
     "(seccomp_arch_add(3))"},
    {"seccomp_arch_native", l_seccomp_arch_native,
     "seccomp_arch_native() -> arch",
     "this system's architecture as libseccomp names it, e.g. \"x86_64\" "
     "(seccomp_arch_native(3))"},
    {"seccomp_arch_remove", l_seccomp_arch_remove,
     "seccomp_arch_remove(filter, arch) -> true",
     "stop the filter matching an architecture (seccomp_arch_remove(3))"},
    {"seccomp_attr_set", l_seccomp_attr_set,
     "seccomp_attr_set(filter, attr, value) -> true",
     "set ctl_nnp, ctl_tsync, ctl_log, ctl_ssb, ctl_optimize or act_badarch "
     "(seccomp_attr_set(3))"},
    {"seccomp_export_bpf", l_seccomp_export_bpf,
     "seccomp_export_bpf(filter) -> bpf",
     "compile the filter and return its BPF program as a string "
     "(seccomp_export_bpf(3) to a memfd)"},
    {"seccomp_export_pfc", l_seccomp_export_pfc,
     "seccomp_export_pfc(filter) -> text",
     "the filter as libseccomp's readable pseudo filter code, to inspect it "
     "(seccomp_export_pfc(3))"},
    {"seccomp_init", l_seccomp_init, "seccomp_init(action) -> filter",
     "a new filter with a default action: allow, kill, kill_thread, trap, log, "
     "notify, \"errno EPERM\", \"trace N\" (seccomp_init(3))"},
    {"seccomp_load", l_seccomp_load, "seccomp_load(filter) -> true",
     "compile and load the filter into this process; sets no_new_privs unless "
     "ctl_nnp is off (seccomp_load(3))"},
    {"seccomp_load_bpf", l_seccomp_load_bpf,
     "seccomp_load_bpf(bpf [, flags]) -> true | listener",
     "load a BPF program (as exported) with seccomp(2) "
     "SECCOMP_SET_MODE_FILTER; flags tsync log spec_allow new_listener"},
    {"seccomp_notify_receive", l_seccomp_notify_receive,
     "seccomp_notify_receive(listener) -> { id, pid, syscall, arch, args }",
     "wait for and take the next syscall a filter loaded with new_listener "
     "holds for this listener (seccomp_unotify(2) SECCOMP_IOCTL_NOTIF_RECV)"},
    {"seccomp_notify_respond", l_seccomp_notify_respond,
     "seccomp_notify_respond(listener, id, \"continue\" | errno | 0 [, val]) "
     "-> true",
     "answer notification id: let the kernel run the call, fail it with "
     "errno (\"EACCES\", 13) or return val (SECCOMP_IOCTL_NOTIF_SEND)"},
    {"seccomp_release", l_seccomp_release, "seccomp_release(filter) -> true",
     "free the filter now rather than at collection (seccomp_release(3))"},
    {"seccomp_rule_add", l_seccomp_rule_add,
     "seccomp_rule_add(filter, action, syscall [, {{arg, op, a [, b]}...}]) -> "
     "true",
     "add a rule for a syscall (name or number) with argument comparisons ne "
     "lt le eq ge gt masked_eq (seccomp_rule_add(3))"},
    {"seccomp_syscall_resolve_name", l_seccomp_syscall_resolve_name,
     "seccomp_syscall_resolve_name(name [, arch]) -> number",
     "a syscall's number (negative: not on this arch) "
     "(seccomp_syscall_resolve_name(3))"},
    {"seccomp_syscall_resolve_num", l_seccomp_syscall_resolve_num,
     "seccomp_syscall_resolve_num(number [, arch]) -> name",
     "a syscall's name from its number (seccomp_syscall_resolve_num_arch(3))"},
    {"seccomp_version", l_seccomp_version,
     "seccomp_version() -> \"major.minor.micro\"",
     "the version of the libseccomp in use (seccomp_version(3))"},
    {NULL, NULL, NULL, NULL}};

/* The filter's metatable (methods without the seccomp_ prefix:
 * f:rule_add(...)) and core.seccomp_values, the numbers policies compare
 * syscall arguments with, as this system's headers define them. */
void nsl_seccomp_open(lua_State *L) {
  static const luaL_Reg methods[] = {{"arch_add", l_seccomp_arch_add},
                                     {"arch_remove", l_seccomp_arch_remove},
                                     {"attr_set", l_seccomp_attr_set},
                                     {"export_bpf", l_seccomp_export_bpf},
                                     {"export_pfc", l_seccomp_export_pfc},
                                     {"load", l_seccomp_load},
                                     {"release", l_seccomp_release},
                                     {"rule_add", l_seccomp_rule_add},
                                     {NULL, NULL}};
  static const luaL_Reg meta[] = {{"__close", l_seccomp_gc},
                                  {"__gc", l_seccomp_gc},
                                  {"__index", NULL},
                                  {"__tostring", l_seccomp_tostring},
                                  {NULL, NULL}};
  static const nsl_Flag values[] = {{"TIOCSTI", TIOCSTI},
                                    {"TIOCLINUX", TIOCLINUX},
                                    {"CLONE_NEWNS", CLONE_NEWNS},
                                    {"CLONE_NEWCGROUP", CLONE_NEWCGROUP},
                                    {"CLONE_NEWUTS", CLONE_NEWUTS},
                                    {"CLONE_NEWIPC", CLONE_NEWIPC},
                                    {"CLONE_NEWUSER", CLONE_NEWUSER},
                                    {"CLONE_NEWPID", CLONE_NEWPID},
                                    {"CLONE_NEWNET", CLONE_NEWNET},
                                    {"CLONE_NEWTIME", CLONE_NEWTIME},
                                    {"AF_VSOCK", AF_VSOCK},
                                    {NULL, 0}};
  if (luaL_newmetatable(L, NSL_SECCOMP)) {
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  lua_createtable(L, 0, 12);
  for (const nsl_Flag *v = values; v->word; v++) {
    lua_pushinteger(L, (lua_Integer)v->bits);
    lua_setfield(L, -2, v->word);
  }
  lua_setfield(L, -2, "seccomp_values");
}
