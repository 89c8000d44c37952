-- phases.lua: where the time of a container start goes, from an ftrace
-- text dump (sched_process_exec/fork/exit and raw_syscalls, see
-- bench/profile). Plain Lua 5.4, no nsl needed.
--
-- usage: lua5.4 bench/phases.lua TRACE EXE_PATH [COMMAND_PATH]
--   EXE_PATH: the filename the measured program is exec'd as; every exec
--   of it starts one run. COMMAND_PATH: the container's command (default
--   /bin/true); any other exec in a run is a helper (nsl's init). Prints
--   the median of each phase over the runs (microseconds) and the syscalls
--   per run, by process.
local trace_path, target, command = arg[1], arg[2], arg[3] or "/bin/true"
assert(trace_path and target, "usage: phases.lua TRACE EXE_PATH [COMMAND_PATH]")

-- x86_64 syscall numbers of the markers and of the summary
local NAMES = {
  [0] = "read", [1] = "write", [3] = "close", [9] = "mmap", [10] = "mprotect",
  [11] = "munmap", [12] = "brk", [13] = "rt_sigaction", [14] = "rt_sigprocmask",
  [16] = "ioctl", [17] = "pread64", [21] = "access", [39] = "getpid", [41] = "socket",
  [56] = "clone", [57] = "fork", [59] = "execve", [61] = "wait4", [72] = "fcntl",
  [79] = "getcwd", [80] = "chdir", [83] = "mkdir", [87] = "unlink", [88] = "symlink",
  [89] = "readlink", [95] = "umask", [102] = "getuid", [104] = "getgid",
  [105] = "setuid", [106] = "setgid", [107] = "geteuid", [108] = "getegid",
  [117] = "setresuid", [119] = "setresgid", [155] = "pivot_root",
  [157] = "prctl", [158] = "arch_prctl", [161] = "chroot", [165] = "mount",
  [166] = "umount2", [170] = "sethostname", [217] = "getdents64", [218] = "set_tid_address",
  [231] = "exit_group", [257] = "openat", [259] = "mknodat", [262] = "newfstatat",
  [272] = "unshare", [273] = "set_robust_list", [289] = "signalfd4",
  [293] = "pipe2", [302] = "prlimit64", [318] = "getrandom", [334] = "rseq",
  [435] = "clone3", [436] = "close_range", [439] = "faccessat2",
}

local runs, run = {}, nil

local function event(pid, t, kind, detail)
  if kind == "sched_process_exec" then
    local file = detail:match("^filename=(%S+)")
    if file == target then
      run = { pid = pid, t = { exec = t }, procs = { [pid] = "main" }, calls = {},
        nforks = 0, nexecs = 0, execve_enter = {}, helpers = {} }
      runs[#runs + 1] = run
      return
    end
    if not run or not run.procs[pid] then return end
    run.nexecs = run.nexecs + 1
    if file == command then
      if not run.t.cmd_exec then
        run.t.cmd_exec, run.cmd_pid = t, pid
        run.t.cmd_execve = run.execve_enter[pid]
      end
    else
      run.helpers[pid] = file
      run.t.helper_exec = run.t.helper_exec or t
      run.t.helper_execve = run.t.helper_execve or run.execve_enter[pid]
    end
    return
  end
  if not run then return end
  if kind == "sched_process_fork" then
    local parent, child = detail:match("pid=(%d+) .*child_pid=(%d+)")
    parent, child = tonumber(parent), tonumber(child)
    if run.procs[parent] then
      run.nforks = run.nforks + 1
      run.procs[child] = "fork" .. run.nforks
      if run.nforks == 2 then run.t.fork2 = t end
    end
    return
  end
  if not run.procs[pid] then return end
  if kind == "sched_process_exit" then
    if pid == run.cmd_pid then run.t.cmd_exit = run.t.cmd_exit or t end
    if run.helpers[pid] then run.t.helper_exit = run.t.helper_exit or t end
    if pid == run.pid then run.t.main_exit = t end
    return
  end
  local nr, rest = detail:match("^NR (%d+) (.*)$")
  nr = tonumber(nr)
  if not nr then return end
  local tt = run.t
  if kind == "sys_enter" then
    if pid ~= run.cmd_pid or not tt.cmd_exec then
      local role = run.helpers[pid] and "init-after-exec" or run.procs[pid]
      run.calls[role] = run.calls[role] or {}
      run.calls[role][nr] = (run.calls[role][nr] or 0) + 1
    end
    if pid == run.pid then
      if nr == 302 and not tt.libc then tt.libc = t end
      if nr == 318 and not tt.lua_state then tt.lua_state = t end
      if (nr == 435 or nr == 56) and not tt.clone then tt.clone = t end
    end
    if nr == 165 and not tt.mount1 then tt.mount1 = t end
    if nr == 155 and not tt.pivot then tt.pivot = t end
    if nr == 59 or nr == 322 then run.execve_enter[pid] = t end
    -- seccomp(SECCOMP_SET_MODE_FILTER, ...): the filter load in the container
    if nr == 317 and pid ~= run.pid and rest:match("^%(1,") and not tt.filter then
      tt.filter, run.filter_pid = t, pid
    end
    if nr == 319 and not tt.memfd then tt.memfd = t end
  elseif kind == "sys_exit" then
    if pid == run.pid and (nr == 435 or nr == 56) and not tt.clone_done
        and not rest:match("= 0$") then
      tt.clone_done = t
    end
    if nr == 317 and pid == run.filter_pid and not tt.filter_done then tt.filter_done = t end
  end
end

for line in io.lines(trace_path) do
  if line:sub(1, 1) ~= "#" then
    local pid, t, kind, detail =
      line:match("^%s*.-%-(%d+)%s+%[%d+%]%s+%S+%s+([%d%.]+): ([%w_]+): (.*)$")
    if pid then event(tonumber(pid), tonumber(t), kind, detail) end
  end
end

-- A phase is the time between two markers, when both are there.
local PHASES = {
  { "exec -> libc ready (ld.so: map + relocate the shared libraries)", "exec", "libc" },
  { "libc ready -> Lua state (C constructors, e.g. libcap's)", "libc", "lua_state" },
  { "Lua state -> clone (openlibs, preload, script, modules, config)", "lua_state", "clone" },
  { "libc ready -> clone (all user-space set-up before the fork)", "libc", "clone" },
  { "clone: the syscall in the parent (namespaces, copy_process)", "clone", "clone_done" },
  { "clone returned -> first mount (handshake, maps)", "clone_done", "mount1" },
  { "first mount -> pivot_root (mounts, /dev nodes, links)", "mount1", "pivot" },
  { "pivot_root -> execve of the command (detach, lo, hostname, init fork, lookup)", "pivot", "cmd_execve" },
  -- nsl's init forks the command after its own exec from the memfd
  { "  of which: memfd_create -> second fork (the init's copy, exec, signalfd)", "memfd", "fork2" },
  { "  of which: second fork -> execve of the command (nsl: drops, gate)", "fork2", "cmd_execve" },
  { "  of which: the seccomp filter load (the syscall)", "filter", "filter_done" },
  { "execve of the command (the syscall)", "cmd_execve", "cmd_exec" },
  { "the command: exec -> exit", "cmd_exec", "cmd_exit" },
  { "helper (init) execve: the syscall, from a memfd", "helper_execve", "helper_exec" },
  { "helper (init): exec -> its exit", "helper_exec", "helper_exit" },
  { "command exit -> helper (init) exit", "cmd_exit", "helper_exit" },
  { "command exit -> the runtime's exit (reap, pid namespace, teardown)", "cmd_exit", "main_exit" },
  { "TOTAL exec of the runtime -> exec of the command", "exec", "cmd_exec" },
  { "TOTAL exec of the runtime -> its exit", "exec", "main_exit" },
}

local function median(list)
  if #list == 0 then return nil end
  table.sort(list)
  local n = #list
  return n % 2 == 1 and list[(n + 1) // 2] or (list[n // 2] + list[n // 2 + 1]) / 2
end

local complete = {}
for _, r in ipairs(runs) do
  if r.t.main_exit then complete[#complete + 1] = r end
end
print(string.format("%s: %d runs traced, %d complete", target, #runs, #complete))
if #complete == 0 then return end
print(string.format("  %-84s %10s", "phase (median over runs)", "us"))
for _, p in ipairs(PHASES) do
  local values = {}
  for _, r in ipairs(complete) do
    local a, b = r.t[p[2]], r.t[p[3]]
    if a and b then values[#values + 1] = (b - a) * 1e6 end
  end
  local m = median(values)
  if m then print(string.format("  %-84s %10.0f", p[1], m)) end
end

-- syscalls per run by process (main: the runtime; forkN: its Nth fork up
-- to the command's exec), medians
local forks, execs = {}, {}
for _, r in ipairs(complete) do
  forks[#forks + 1], execs[#execs + 1] = r.nforks, r.nexecs
end
print(string.format("  forks per run: %d, execs per run (after the runtime's own): %d",
  median(forks), median(execs)))
local roles = {}
for _, r in ipairs(complete) do
  for role in pairs(r.calls) do roles[role] = true end
end
local role_list = {}
for role in pairs(roles) do role_list[#role_list + 1] = role end
table.sort(role_list)
for _, role in ipairs(role_list) do
  local per_nr, total = {}, {}
  for _, r in ipairs(complete) do
    local sum = 0
    for nr, n in pairs(r.calls[role] or {}) do
      per_nr[nr] = per_nr[nr] or {}
      table.insert(per_nr[nr], n)
      sum = sum + n
    end
    total[#total + 1] = sum
  end
  local parts = {}
  for nr, list in pairs(per_nr) do
    while #list < #complete do list[#list + 1] = 0 end
    parts[#parts + 1] = { NAMES[nr] or ("nr" .. nr), median(list) }
  end
  table.sort(parts, function(a, b)
    if a[2] ~= b[2] then return a[2] > b[2] end
    return a[1] < b[1]
  end)
  local text = {}
  for _, p in ipairs(parts) do
    if p[2] > 0 then text[#text + 1] = string.format("%s %g", p[1], p[2]) end
  end
  print(string.format("  syscalls of %s: %g: %s", role,
    median(total), table.concat(text, ", ")))
end
