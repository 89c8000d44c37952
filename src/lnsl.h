/* lnsl.h: what every nsl.core binding shares.
 *
 * Conventions (see README "The Lua API"):
 *   - a binding is l_<luaname>; it raises on bad arguments and returns
 *     nil, "call 'arg': strerror", errno on a failed syscall (nsl_fail);
 *   - flag sets are words (a string or a table of strings) or an integer;
 *   - modes are integers or octal strings ("0755").
 */
#ifndef NSL_LNSL_H
#define NSL_LNSL_H

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

/* The areas; each ends with a {NULL} entry. */
extern const nsl_Reg nsl_proc_lib[];  /* lproc.c: processes, namespaces */
extern const nsl_Reg nsl_mount_lib[]; /* lmount.c: mounts and roots */
extern const nsl_Reg nsl_file_lib[];  /* lfile.c: files */
extern const nsl_Reg nsl_id_lib[];    /* lid.c: identity, capabilities, prctl */
extern const nsl_Reg nsl_fd_lib[];    /* lfd.c: fds, pipes, ttys */
extern const nsl_Reg nsl_net_lib[];  /* lnet.c: network interfaces */
extern const nsl_Reg nsl_root_lib[]; /* lroot.c: root handles (safe paths) */
extern const nsl_Reg nsl_seccomp_lib[]; /* lseccomp.c: seccomp filters */
extern const nsl_Reg nsl_sock_lib[]; /* lsock.c: AF_UNIX sockets, fd passing */

/* mount(8)'s words (lmount.c), for every binding that takes mount flags. */
extern const nsl_Flag nsl_mount_flags[];

/* Called once by luaopen_nsl_core with the module table on top: an area adds
 * its constants (signal numbers, errno names...) there. */
void nsl_proc_open(lua_State *L);
void nsl_fd_open(lua_State *L);
void nsl_root_open(lua_State *L);
void nsl_seccomp_open(lua_State *L);

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

/* A mode: an integer or an octal string ("0755", "755"). */
mode_t nsl_checkmode(lua_State *L, int arg);
mode_t nsl_optmode(lua_State *L, int arg, mode_t def);

/* A NULL-terminated char*[] from the table of strings at arg, kept alive
 * in a userdata pushed on the stack (so a raised error frees it).
 * With allow_map, string keys k = v become "k=v" (environments). */
char **nsl_checkstrings(lua_State *L, int arg, int allow_map, size_t *n);

/* fds: an "nsl.fd" userdata that closes on collection and with <close>. */
#define NSL_FD "nsl.fd"
void nsl_pushfd(lua_State *L, int fd);
/* An fd number from an integer or an open nsl.fd at arg. */
int nsl_checkfd(lua_State *L, int arg);

/* errno's symbolic name ("EPERM"), or NULL. */
const char *nsl_errname(int err);

#endif
