/* lnsl.h: what every nsl.core binding shares.
 *
 * Conventions (see README "The Lua API"):
 *   - a binding is l_<luaname>; it raises on bad arguments and returns
 *     nil, "call 'arg': strerror", errno on a failed syscall (nsl_fail);
 *   - a method or metamethod of an object is l_<type>_<name>, the type being
 *     its metatable's name after "nsl." (root:mount_on is l_root_mount_on,
 *     fd's __gc l_fd_gc); the one clash, root:open against nsl.root_open,
 *     is l_root_openat;
 *   - flag sets are words (a string or a table of strings) or an integer;
 *   - modes are integers or octal strings ("0755").
 */
#ifndef NSL_LNSL_H
#define NSL_LNSL_H

#include "libc.h"

#include <sys/types.h>

#include <lauxlib.h>
#include <lua.h>

#define NSL_VERSION "0.1.0"

/* One public function of nsl.core: its binding and the one-line doc the
 * REPL's help shows. sig is the call as a user writes it, with its results. */
typedef struct nsl_Reg {
  const char *name;
  lua_CFunction func;
  const char *sig;
  const char *doc;
} nsl_Reg;

/* A word of a flag set and the bits it stands for. */
typedef struct nsl_Flag {
  const char *word;
  unsigned long bits;
} nsl_Flag;

/* The methods of the objects the core makes, with their docs: the REPL's
 * help reads them from core._method_doc ("root:mount_on" -> { sig, doc }).
 * A method that is a core function under its own name (fd:read is
 * nsl.read) has no sig nor doc here: help shows that function's. */
extern const nsl_Reg nsl_fd_methods[];   /* lfd.c: fd objects, "fd:" */
extern const nsl_Reg nsl_root_methods[]; /* lroot.c: root handles, "root:" */
extern const nsl_Reg nsl_netns_job_methods[]; /* lnet.c: "netns_job:" */
/* luaL_setfuncs for an nsl_Reg table: each function gets the nup values
 * below the table on top as upvalues (popped). */
void nsl_setmethods(lua_State *L, const nsl_Reg *methods, int nup);

/* The areas; each ends with a {NULL} entry. */
extern const nsl_Reg nsl_proc_lib[];  /* lproc.c: processes, namespaces */
extern const nsl_Reg nsl_mount_lib[]; /* lmount.c: mounts and roots */
extern const nsl_Reg nsl_file_lib[];  /* lfile.c: files */
extern const nsl_Reg nsl_id_lib[];    /* lid.c: identity, capabilities, prctl */
extern const nsl_Reg nsl_fd_lib[];    /* lfd.c: fds, pipes, ttys */
extern const nsl_Reg nsl_net_lib[];   /* lnet.c: network interfaces */
extern const nsl_Reg nsl_root_lib[];  /* lroot.c: root handles (safe paths) */
extern const nsl_Reg nsl_seccomp_lib[]; /* lseccomp.c: seccomp filters */
extern const nsl_Reg nsl_sock_lib[]; /* lsock.c: AF_UNIX sockets, fd passing */
extern const nsl_Reg nsl_bpf_lib[]; /* lbpf.c: eBPF programs (cgroup devices) */

/* mount(8)'s words (lmount.c), for every binding that takes mount flags. */
extern const nsl_Flag nsl_mount_flags[];

/* Called once by luaopen_nsl_core with the module table on top: an area
 * registers the metatables of the objects it makes. */
void nsl_fd_open(lua_State *L);
void nsl_root_open(lua_State *L);
void nsl_seccomp_open(lua_State *L);
/* signals = { HUP = 1, ..., [1] = "HUP", ... }, made on first use (lproc.c). */
void nsl_push_signals(lua_State *L);

/* Push nil, "<formatted context>: strerror(errno)", errno and return 3.
 * errno is saved before anything else runs. */
int nsl_fail(lua_State *L, const char *fmt, ...);
/* Push true and return 1. */
int nsl_ok(lua_State *L);

/* The flag set at arg: an integer, a string of words separated by spaces,
 * commas or '|', or a table of such strings. An unknown word raises an
 * argument error naming it and `what` ("mount flag"). nil gives 0. */
unsigned long nsl_optflags(lua_State *L, int arg, const nsl_Flag *words,
                           const char *what);
/* The words of a flag set, for messages: "bind|rec", or the number. */
const char *nsl_pushflagnames(lua_State *L, unsigned long bits,
                              const nsl_Flag *words);

/* The signal at stack index idx (argument arg in messages): a number in
 * min..NSIG-1 or a name with or without SIG ("TERM", "SIGTERM", "term").
 * Anything else raises. */
int nsl_checksignal(lua_State *L, int idx, int arg, int min);

/* ---- ranges: every binding that takes an id, a pid or a length checks it
 * here, so that what reaches the kernel is exactly what Lua passed. */

/* uids and gids are 0..NSL_ID_MAX: (uid_t)-1 is no id but "leave it
 * unchanged" to setresuid(2) and chown(2), so 4294967295, and -1 that a
 * cast would make it, are refused. */
#define NSL_ID_MAX 4294967294LL
/* The most items a list argument may have (argv, poll's fds, caps): the
 * kernel's own NR_OPEN, and far below what a size computation overflows. */
#define NSL_LEN_MAX 1048576

/* The integer at arg, in min..max; else an argument error naming what, the
 * value and the range ("pid 0 out of range 1..2147483647"). */
lua_Integer nsl_checkrange(lua_State *L, int arg, const char *what,
                           lua_Integer min, lua_Integer max);
/* A uid or gid (what: "uid", "gid") in 0..NSL_ID_MAX. */
uid_t nsl_checkid(lua_State *L, int arg, const char *what);
/* The same, or (uid_t)-1, "leave it unchanged", for nil. */
uid_t nsl_optid(lua_State *L, int arg, const char *what);
/* A pid in min..INT_MAX: min is 1 where 0 and negatives would name a
 * process group or every process (kill(2)), 0 where 0 means "this process",
 * -INT_MAX where groups are meant (waitpid(2)). */
pid_t nsl_checkpid(lua_State *L, int arg, lua_Integer min);
pid_t nsl_optpid(lua_State *L, int arg, lua_Integer min, pid_t def);
/* An options table at arg ({ pidfd = true }): 0 for nil, else 1 once every
 * key is checked to be one of known (NULL-terminated): another raises
 * "unknown option 'KEY'". The caller reads the values by name. */
int nsl_checkoptions(lua_State *L, int arg, const char *const known[]);
/* The length of the table at arg (its __len too), in 0..max. */
size_t nsl_checklen(lua_State *L, int arg, lua_Integer max);

/* A mode: an integer or an octal string ("0755", "755"). */
mode_t nsl_checkmode(lua_State *L, int arg);
mode_t nsl_optmode(lua_State *L, int arg, mode_t def);

/* A file type and mode at arg, arg + 1 ("char", "0666") and the device
 * major, minor at arg + 2, arg + 3 (0 when nil) into *dev: mknod(2)'s mode
 * and dev, for nsl.mknod and root:mknod (lfile.c). */
mode_t nsl_checknode(lua_State *L, int arg, dev_t *dev);

/* open(2)'s flags from the words at arg (nsl.open's: "rdonly creat ..."),
 * O_CLOEXEC added unless the word "nocloexec" is there, which only
 * with_nocloexec accepts: a root handle's fds are always close-on-exec
 * (lfile.c). */
int nsl_optopenflags(lua_State *L, int arg, int with_nocloexec);

/* A NULL-terminated char*[] from the table of strings at arg, kept alive
 * in a userdata pushed on the stack (so a raised error frees it).
 * With allow_map, string keys k = v become "k=v" (environments). */
char **nsl_checkstrings(lua_State *L, int arg, int allow_map, size_t *n);

/* fds: an "nsl.fd" userdata that closes on collection and with <close>.
 *
 * One owner per fd: a binding pushes the object first (nsl_newfd, fd -1)
 * and only then acquires the fd and hands it over (nsl_own), so that an
 * error raised in between never leaks it. The owners (fd objects and root
 * handles) are recorded by number, so that nsl.fd(n) and nsl.close(n) know
 * when a number is an object's. */
#define NSL_FD "nsl.fd"
/* Push a new fd object that owns nothing yet; its fd slot. */
int *nsl_newfd(lua_State *L);
/* Record that the object whose fd slot is slot owns fd (and set the slot). */
void nsl_own(lua_State *L, int *slot, int fd);
/* Forget slot's fd (the caller closes it or passes it on); slot becomes -1. */
void nsl_disown(lua_State *L, int *slot);
/* The slot of the object that owns fd, or NULL. */
int *nsl_owner(lua_State *L, int fd);
/* An fd number (0..INT_MAX) from an integer or an open nsl.fd at arg. */
int nsl_checkfd(lua_State *L, int arg);

/* errno's symbolic name ("EPERM"), or NULL. */
const char *nsl_errname(int err);

#endif
