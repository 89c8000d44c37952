/* lproc.c: processes and namespaces. */
#include "lnsl.h"
#include "sys.h"

#include <errno.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

/* The /proc/self/ns names. */
static const nsl_Flag namespace_flags[] = {
    {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"mnt", CLONE_NEWNS},
    {"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID}, {"time", CLONE_NEWTIME},
    {"user", CLONE_NEWUSER},     {"uts", CLONE_NEWUTS}, {NULL, 0}};

static int l_clone(lua_State *L) {
  unsigned long flags = nsl_optflags(L, 1, namespace_flags, "namespace");
  pid_t pid = nsl_sys_clone(flags, NULL);
  if (pid < 0) {
    int err = errno;
    nsl_pushflagnames(L, flags, namespace_flags);
    errno = err;
    return nsl_fail(L, "clone '%s'", lua_tostring(L, -1));
  }
  lua_pushinteger(L, pid);
  return 1;
}

static int l__exit(lua_State *L) {
  _exit((int)luaL_optinteger(L, 1, 0));
}

static const nsl_Flag wait_flags[] = {{"continued", WCONTINUED},
                                      {"nohang", WNOHANG},
                                      {"untraced", WUNTRACED},
                                      {NULL, 0}};

static int l_wait(lua_State *L) {
  pid_t pid = (pid_t)luaL_optinteger(L, 1, -1);
  int options = (int)nsl_optflags(L, 2, wait_flags, "wait option");
  int status;
  pid_t got;
  do
    got = waitpid(pid, &status, options);
  while (got < 0 && errno == EINTR);
  if (got < 0)
    return nsl_fail(L, "wait %d", (int)pid);
  lua_pushinteger(L, got);
  if (got == 0) /* nohang and nothing to report */
    return 1;
  if (WIFEXITED(status)) {
    lua_pushliteral(L, "exited");
    lua_pushinteger(L, WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    lua_pushliteral(L, "killed");
    lua_pushinteger(L, WTERMSIG(status));
  } else if (WIFSTOPPED(status)) {
    lua_pushliteral(L, "stopped");
    lua_pushinteger(L, WSTOPSIG(status));
  } else {
    lua_pushliteral(L, "continued");
    lua_pushinteger(L, 0);
  }
  return 3;
}

const nsl_Reg nsl_proc_lib[] = {
    {"_exit", l__exit, "_exit([code])",
     "_exit(2): end this process now, without Lua's or C's cleanup"},
    {"clone", l_clone, "clone(namespaces) -> pid | 0",
     "fork into new namespaces (user mnt pid uts ipc net cgroup time): 0 in "
     "the child"},
    {"wait", l_wait, "wait([pid [, options]]) -> pid, how, code",
     "waitpid(2): how is exited|killed|stopped|continued; nohang gives 0 when "
     "none is ready"},
    {NULL, NULL, NULL, NULL}};

void nsl_proc_open(lua_State *L) {
  (void)L;
}
