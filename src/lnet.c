/* lnet.c: the little networking a container setup needs. */
#include "lnsl.h"
#include "sys.h"

#include <errno.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* SIOCSIFFLAGS through the socket sock, in its network namespace; nothing
 * when the flags are so already (the set is the costly part: bringing lo
 * up adds 127.0.0.1 and its routes). */
static int if_flags_on(int sock, const char *name, short set, short clear) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) != 0)
    return -1;
  short flags = (short)((ifr.ifr_flags | set) & ~clear);
  if (flags == ifr.ifr_flags)
    return 0;
  ifr.ifr_flags = flags;
  return ioctl(sock, SIOCSIFFLAGS, &ifr);
}

/* The same on a throwaway socket: a fresh network namespace has only
 * "lo", and it starts down (see network_namespaces(7)). */
static int set_if_flags(const char *name, short set, short clear) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  int rc = if_flags_on(fd, name, set, clear);
  nsl_sys_close_keep_errno(fd);
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

/* ---- a network namespace made beside the caller -----------------------------
 * A new network namespace is the costliest part of a container's clone
 * (about half a millisecond: the loopback device, its sysctl tables and
 * /proc/net files), and its loopback's SIOCSIFFLAGS costs a tenth more.
 * netns_prepare forks a helper that makes both on another CPU while the
 * caller goes on with its setup; job:enter() takes the namespace over, as
 * an fd the helper sends (SIOCGSKNS: no /proc involved, whichever /proc
 * is mounted by then). The helper is the caller's child, reaped by enter
 * (if it is gone by then) or close. */

#define NSL_NETNS_JOB "nsl.netns_job"

typedef struct {
  pid_t pid;  /* the helper until reaped, else 0 */
  int sock;   /* our end of the pair until enter or close, else -1 */
  int pinned; /* kept off our CPU (move_off_cpu) */
} NetnsJob;

/* The helper's one message: the step that failed (0: none) and its errno;
 * the namespace's fd comes with it when none failed. */
typedef struct {
  int step;
  int err;
} NetnsReport;

static const char *const netns_steps[] = {"", "unshare CLONE_NEWNET", "socket",
                                          "SIOCGSKNS"};

/* A forked process is often queued on its parent's CPU, to run only once
 * the parent sleeps or its time slice ends: the two would take turns on
 * one CPU while another is idle. Move it to the other allowed CPUs, if
 * there are any; at worst (an error) it stays where it is. */
static int move_off_cpu(pid_t pid, int cpu) {
  cpu_set_t set;
  if (cpu < 0 || sched_getaffinity(pid, sizeof set, &set) != 0 ||
      !CPU_ISSET(cpu, &set))
    return 0;
  CPU_CLR(cpu, &set);
  return CPU_COUNT(&set) > 0 && sched_setaffinity(pid, sizeof set, &set) == 0;
}

/* The caller is about to wait for the helper: let it run on any CPU the
 * caller may, the caller's own included, which the wait leaves free (with
 * the other CPUs busy, as when containers start side by side, it would
 * otherwise wait there while this one idles). */
static void let_run_anywhere(pid_t pid) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    sched_setaffinity(pid, sizeof set, &set);
}

/* The namespace goes to the caller as soon as it is made; lo comes up
 * after, while the caller goes on (its loopback step brings lo up in any
 * case: whichever comes second finds it up). */
static _Noreturn void netns_helper(int sock, int loopback, pid_t parent) {
  /* never outlives a caller that died before it could close the job */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
    _exit(1);
  NetnsReport report = {0, 0};
  int ns = -1, probe = -1;
  if (unshare(CLONE_NEWNET) != 0)
    report.step = 1;
  else if ((probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
    report.step = 2;
  else if ((ns = ioctl(probe, SIOCGSKNS)) < 0)
    report.step = 3;
  report.err = report.step ? errno : 0;
  /* a caller that is gone (or closed the job) is no error of ours */
  nsl_sys_send_fd(sock, ns, &report, sizeof report);
  if (report.step == 0 && loopback)
    if_flags_on(probe, "lo", IFF_UP, 0);
  _exit(0);
}

static NetnsJob *check_job(lua_State *L) {
  return luaL_checkudata(L, 1, NSL_NETNS_JOB);
}

/* Reap the helper; with WNOHANG only if it is gone already. */
static void reap(NetnsJob *job, int options) {
  if (job->pid <= 0)
    return;
  pid_t r;
  do
    r = waitpid(job->pid, NULL, options);
  while (r < 0 && errno == EINTR);
  if (r != 0)
    job->pid = 0;
}

static int l_netns_job_enter(lua_State *L);
static int l_netns_job_close(lua_State *L);

/* Made on first use: most runs of nsl never make a job. */
static void set_job_metatable(lua_State *L) {
  static const luaL_Reg meta[] = {{"__close", l_netns_job_close},
                                  {"__gc", l_netns_job_close},
                                  {"__index", NULL},
                                  {NULL, NULL}};
  if (luaL_newmetatable(L, NSL_NETNS_JOB)) {
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    nsl_setmethods(L, nsl_netns_job_methods, 0);
    lua_setfield(L, -2, "__index");
  }
  lua_setmetatable(L, -2);
}

static int l_netns_prepare(lua_State *L) {
  int loopback = 0;
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    loopback =
        lua_getfield(L, 1, "loopback") != LUA_TNIL && lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  /* the job object first: no helper without something that reaps it */
  NetnsJob *job = lua_newuserdatauv(L, sizeof *job, 0);
  job->pid = 0;
  job->sock = -1;
  job->pinned = 0;
  set_job_metatable(L);
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    return nsl_fail(L, "netns_prepare: socketpair");
  int cpu = sched_getcpu();
  pid_t self = getpid();
  pid_t pid = nsl_sys_clone(0, NULL);
  if (pid < 0) {
    int err = errno;
    close(pair[0]);
    close(pair[1]);
    errno = err;
    return nsl_fail(L, "netns_prepare: fork");
  }
  if (pid == 0) {
    close(pair[0]);
    netns_helper(pair[1], loopback, self);
  }
  job->pinned = move_off_cpu(pid, cpu);
  close(pair[1]);
  job->pid = pid;
  job->sock = pair[0];
  return 1;
}

/* The helper's report says why it failed: nil, message, errno. */
static int job_failed(lua_State *L, NetnsJob *job, const NetnsReport *report,
                      ssize_t got) {
  reap(job, 0);
  int steps = (int)(sizeof netns_steps / sizeof *netns_steps);
  if (got == (ssize_t)sizeof *report && report->step > 0 &&
      report->step < steps) {
    errno = report->err;
    return nsl_fail(L, "netns_prepare: %s", netns_steps[report->step]);
  }
  if (got < 0)
    return nsl_fail(L, "netns_prepare: the helper's report");
  /* none, a short one, or a success without the namespace's fd */
  luaL_pushfail(L);
  lua_pushliteral(L, "netns_prepare: the helper ended without a report");
  return 2;
}

static int l_netns_job_enter(lua_State *L) {
  NetnsJob *job = check_job(L);
  luaL_argcheck(L, job->sock >= 0, 1, "netns job entered or closed already");
  NetnsReport report = {0, 0};
  int ns;
  struct pollfd ready = {job->sock, POLLIN, 0};
  if (job->pinned && poll(&ready, 1, 0) == 0)
    let_run_anywhere(job->pid);
  ssize_t got = nsl_sys_recv_fd(job->sock, &report, sizeof report, &ns);
  close(job->sock);
  job->sock = -1;
  if (got != (ssize_t)sizeof report || report.step != 0 || ns < 0) {
    if (ns >= 0)
      close(ns);
    return job_failed(L, job, &report, got);
  }
  int rc = setns(ns, CLONE_NEWNET);
  nsl_sys_close_keep_errno(ns);
  if (rc != 0) {
    int err = errno;
    reap(job, 0);
    errno = err;
    return nsl_fail(L, "netns_prepare: setns 'net'");
  }
  reap(job, WNOHANG); /* else close reaps it, once it is gone */
  return nsl_ok(L);
}

/* Not entered: the helper's namespace goes with it (it exits on its own
 * once its report is sent; killed here so that close never waits on a
 * slow unshare). Either way it is reaped. */
static int l_netns_job_close(lua_State *L) {
  NetnsJob *job = check_job(L);
  if (job->sock >= 0) {
    close(job->sock);
    job->sock = -1;
    if (job->pid > 0)
      kill(job->pid, SIGKILL);
  }
  reap(job, 0);
  return 0;
}

const nsl_Reg nsl_netns_job_methods[] = {
    {"enter", l_netns_job_enter, "netns_job:enter() -> true",
     "join the network namespace the helper made (setns), once it is ready"},
    {"close", l_netns_job_close, "netns_job:close()",
     "reap the helper (killed first if the namespace was not entered)"},
    {NULL, NULL, NULL, NULL}};

const nsl_Reg nsl_net_lib[] = {
    {"if_down", l_if_down, "if_down(name) -> true",
     "take a network interface down (SIOCSIFFLAGS)"},
    {"if_up", l_if_up, "if_up(name) -> true",
     "bring a network interface up, like `ip link set lo up` (SIOCSIFFLAGS)"},
    {"netns_prepare", l_netns_prepare,
     "netns_prepare([{ loopback = bool }]) -> job",
     "a new network namespace (lo up with loopback) made by a helper process "
     "on another CPU while this one goes on: job:enter() joins it"},
    {NULL, NULL, NULL, NULL}};
