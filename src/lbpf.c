/* lbpf.c: eBPF programs through bpf(2), as far as a runtime needs them: load
 * a program that nsl.devbpf wrote (a string of struct bpf_insn), attach it to
 * a cgroup, and list what a cgroup has attached. The instructions are written
 * in Lua, where the device rules are parsed and checked, and a spec can read
 * them without privileges; here is only the syscall (see bpf(2)). */
#include "lnsl.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The program types nsl loads and the attach points it uses, by name (one
 * so far: the v2 devices cgroup's). */
static const char *const prog_type_names[] = {"cgroup_device", NULL};
static const unsigned prog_types[] = {BPF_PROG_TYPE_CGROUP_DEVICE};
static const char *const attach_type_names[] = {"cgroup_device", NULL};
static const unsigned attach_types[] = {BPF_CGROUP_DEVICE};

/* BPF_PROG_ATTACH's flags: allow_multi keeps the programs already attached
 * and lets a nested runtime attach its own below (cgroup-bpf's semantics:
 * every program on the way up must allow). */
static const nsl_Flag attach_flags[] = {
    {"allow_override", BPF_F_ALLOW_OVERRIDE},
    {"allow_multi", BPF_F_ALLOW_MULTI},
    {NULL, 0}};

/* The verifier's log is asked for only when a load fails: this much of it
 * is kept for the message (its end says why). */
#define LOG_SIZE 65536
#define LOG_TAIL 600

/* ---- plain helpers ------------------------------------------------------- */

static int sys_bpf(int cmd, union bpf_attr *attr) {
  return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

/* BPF_PROG_LOAD; with log (LOG_SIZE bytes), the verifier's words on it. */
static int prog_load(unsigned type, const char *insns, size_t len,
                     const char *license, char *log) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = type;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = (uint32_t)(len / sizeof(struct bpf_insn));
  attr.license = (uint64_t)(uintptr_t)license;
  /* bpftool prog shows it by this name */
  strncpy(attr.prog_name, "nsl_devices", sizeof attr.prog_name - 1);
  if (log) {
    log[0] = '\0';
    attr.log_level = 1;
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = LOG_SIZE;
  }
  return sys_bpf(BPF_PROG_LOAD, &attr);
}

/* The verifier's log as one line: its statistics ("processed N insns ...")
 * and the newlines dropped; its length. */
static size_t verifier_words(char *log) {
  size_t n = strnlen(log, LOG_SIZE - 1);
  log[n] = '\0';
  while (n > 0 && (log[n - 1] == '\n' || log[n - 1] == ' '))
    log[--n] = '\0';
  char *last = strrchr(log, '\n');
  if (last && strncmp(last + 1, "processed ", 10) == 0)
    *last = '\0', n = (size_t)(last - log);
  for (char *c = log; (c = strchr(c, '\n'));)
    *c = ' ';
  return n;
}

/* ---- bindings ------------------------------------------------------------ */

static int l_bpf_prog_load(lua_State *L) {
  unsigned type = prog_types[luaL_checkoption(L, 1, NULL, prog_type_names)];
  size_t len;
  const char *insns = luaL_checklstring(L, 2, &len);
  const char *license = luaL_checkstring(L, 3);
  luaL_argcheck(L,
                len > 0 && len % sizeof(struct bpf_insn) == 0 &&
                    len / sizeof(struct bpf_insn) <= BPF_MAXINSNS,
                2, "not an eBPF program (1..4096 instructions of 8 bytes)");
  int *slot = nsl_newfd(L);
  int fd = prog_load(type, insns, len, license, NULL);
  if (fd < 0) {
    /* again with the verifier's log, so that the error says why (in a
     * Lua-owned buffer: the message below may raise). The first errno is
     * the one reported: a log too small for the verifier is ENOSPC. */
    int err = errno;
    char *log = lua_newuserdatauv(L, LOG_SIZE, 0);
    fd = prog_load(type, insns, len, license, log);
    if (fd < 0) {
      size_t n = verifier_words(log);
      const char *tail = n > LOG_TAIL ? log + n - LOG_TAIL : log;
      errno = err;
      return nsl_fail(L, "bpf BPF_PROG_LOAD (%d instructions)%s%s",
                      (int)(len / sizeof(struct bpf_insn)),
                      n ? ": verifier: " : "", tail);
    }
  }
  nsl_own(L, slot, fd);
  return 1;
}

static int l_bpf_prog_attach(lua_State *L) {
  int prog = nsl_checkfd(L, 1);
  int target = nsl_checkfd(L, 2);
  unsigned type = attach_types[luaL_checkoption(L, 3, NULL, attach_type_names)];
  unsigned flags = (unsigned)nsl_optflags(L, 4, attach_flags, "attach flag");
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)target;
  attr.attach_bpf_fd = (uint32_t)prog;
  attr.attach_type = type;
  attr.attach_flags = flags;
  if (sys_bpf(BPF_PROG_ATTACH, &attr) != 0)
    return nsl_fail(L, "bpf BPF_PROG_ATTACH program %d to %d", prog, target);
  return nsl_ok(L);
}

static int l_bpf_prog_query(lua_State *L) {
  int target = nsl_checkfd(L, 1);
  unsigned type = attach_types[luaL_checkoption(L, 2, NULL, attach_type_names)];
  /* the kernel allows 64 programs an attach point (BPF_CGROUP_MAX_PROGS) */
  uint32_t ids[64];
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.query.target_fd = (uint32_t)target;
  attr.query.attach_type = type;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = 64;
  if (sys_bpf(BPF_PROG_QUERY, &attr) != 0)
    return nsl_fail(L, "bpf BPF_PROG_QUERY %d", target);
  lua_createtable(L, (int)attr.query.prog_cnt, 0);
  for (uint32_t i = 0; i < attr.query.prog_cnt; i++) {
    lua_pushinteger(L, ids[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int l_bpf_prog_detach(lua_State *L) {
  int prog = nsl_checkfd(L, 1);
  int target = nsl_checkfd(L, 2);
  unsigned type = attach_types[luaL_checkoption(L, 3, NULL, attach_type_names)];
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)target;
  attr.attach_bpf_fd = (uint32_t)prog;
  attr.attach_type = type;
  if (sys_bpf(BPF_PROG_DETACH, &attr) != 0)
    return nsl_fail(L, "bpf BPF_PROG_DETACH program %d from %d", prog, target);
  return nsl_ok(L);
}

static int l_bpf_prog_get_fd_by_id(lua_State *L) {
  lua_Integer id = luaL_checkinteger(L, 1);
  luaL_argcheck(L, id > 0 && id <= UINT32_MAX, 1, "a program id (1..2^32-1)");
  int *slot = nsl_newfd(L);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_id = (uint32_t)id;
  int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
  if (fd < 0)
    return nsl_fail(L, "bpf BPF_PROG_GET_FD_BY_ID %d", (int)id);
  nsl_own(L, slot, fd);
  return 1;
}

const nsl_Reg nsl_bpf_lib[] = {
    {"bpf_prog_attach", l_bpf_prog_attach,
     "bpf_prog_attach(prog, target, type [, flags]) -> true",
     "bpf(2) BPF_PROG_ATTACH a loaded program to a cgroup directory's fd: "
     "type \"cgroup_device\", flags \"allow_multi\" or \"allow_override\""},
    {"bpf_prog_detach", l_bpf_prog_detach,
     "bpf_prog_detach(prog, target, type) -> true",
     "bpf(2) BPF_PROG_DETACH the attached program prog (an fd, as "
     "bpf_prog_get_fd_by_id gives) from a cgroup directory's fd"},
    {"bpf_prog_get_fd_by_id", l_bpf_prog_get_fd_by_id,
     "bpf_prog_get_fd_by_id(id) -> fd",
     "bpf(2) BPF_PROG_GET_FD_BY_ID: an fd of the loaded program id (an id of "
     "bpf_prog_query)"},
    {"bpf_prog_load", l_bpf_prog_load,
     "bpf_prog_load(type, insns, license) -> fd",
     "bpf(2) BPF_PROG_LOAD a string of struct bpf_insn as a program of type "
     "\"cgroup_device\"; a refusal carries the verifier's log"},
    {"bpf_prog_query", l_bpf_prog_query,
     "bpf_prog_query(target, type) -> { id, ... }",
     "bpf(2) BPF_PROG_QUERY: the ids of the programs attached to a cgroup "
     "directory's fd (its own, not its parents')"},
    {NULL, NULL, NULL, NULL}};
