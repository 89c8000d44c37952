-- tools/fuzz.lua: a bounded fuzz run of nsl.core's bindings.
--
--   lua5.4 tools/fuzz.lua [--seed N] [--calls N] [--seconds S] [--verbose]
--
-- Calls every function of nsl.core, and every method of its objects (fds,
-- root handles, seccomp filters), with random arguments: nil, booleans,
-- edge integers, floats, huge strings, tables, fds, functions. Each call runs
-- in a child of its own, so that nothing it does reaches this process; a
-- child killed by SIGSEGV, SIGBUS, SIGILL, SIGFPE or SIGABRT, or one that
-- wrote a sanitizer's report (ASan's, UBSan's) is a crash, and any crash
-- fails the run.
-- A raised Lua error is the expected answer to a bad argument.
--
-- The child is kept away from the host: new user, mount, pid, net, ipc and
-- uts namespaces (nsl.clone) whose root is uid and gid 65534 outside (so
-- the host's root-owned files are not its own, even through a directory fd
-- and ".."), a session of its own (kill(0) reaches no group of ours), a
-- 16 MiB tmpfs as its root (chroot: no host path is left to write, mount
-- or remove), stdin and stdout on an empty file of this run's, every fd it
-- is given one of this run's (never a host node), and a bounded time
-- before this process kills it. Calls that could still reach out or that
-- end the child's own checks are left out (see SKIP).
--
-- The seed is fixed by default, so a run can be repeated; the run stops at
-- --calls (default 20000) or --seconds (default 100), whichever comes first.
-- It prints one line: calls made, crashes, timeouts, seconds. Exit 1 when a
-- call crashed (each is printed, with its arguments and the child's stderr).
-- Run as root: the child's namespaces need it where unprivileged user
-- namespaces are off. NSL_BUILD picks the build directory (as for the specs).

local root = arg[0]:match("^(.*)/tools/[^/]*$") or "."
local build = os.getenv("NSL_BUILD") or root .. "/build"
package.cpath = build .. "/lib/?.so;" .. package.cpath
package.path = root .. "/lua/?.lua;" .. package.path
local core = require "nsl.core"
local userns = require "nsl.userns"

local options = { seed = 4711, calls = 20000, seconds = 100, verbose = false }
do
  local i = 1
  while i <= #arg do
    local name = arg[i]:match("^%-%-(%w+)$")
    if name == "verbose" then
      options.verbose = true
    elseif name and options[name] ~= nil then
      options[name] = assert(math.tointeger(tonumber(arg[i + 1])), "fuzz: --" .. name .. " needs a number")
      i = i + 1
    else
      io.stderr:write("usage: lua5.4 tools/fuzz.lua [--seed N] [--calls N] [--seconds S] [--verbose]\n")
      os.exit(2)
    end
    i = i + 1
  end
end

-- Left out: what could reach past the namespaces (kill and signals by pid,
-- setns into a namespace of ours, pivot_root and chroot out of the tmpfs),
-- and what turns the child's own later syscalls into failures that look
-- like crashes (a loaded seccomp filter that makes mmap fail under ASan).
local SKIP = {
  kill = "signals by pid", pidfd_send_signal = "signals by pid",
  setns = "joins namespaces of ours", pivot_root = "leaves the tmpfs root",
  chroot = "leaves the tmpfs root", seccomp_load = "filters the child's own syscalls",
}
-- setrlimit on memory: the sanitizer's allocator then aborts, a false crash
local MEMORY_LIMITS = { as = true, data = true, stack = true, rss = true, memlock = true }
local CRASH = { SEGV = true, BUS = true, ILL = true, FPE = true, ABRT = true }
local REPORTS = { "ERROR: AddressSanitizer", "runtime error: ", "UndefinedBehaviorSanitizer" }
local TIMEOUT_MS = 1000

local tmp -- this run's directory, removed however the run ends

local function cleanup()
  if tmp then os.execute("rm -rf --one-file-system '" .. tmp .. "'") end
end

local function fail(fmt, ...)
  cleanup()
  io.stderr:write("fuzz: ", string.format(fmt, ...), "\n")
  os.exit(1)
end

local function sh(cmd)
  local p = io.popen(cmd)
  local out = p:read("l")
  p:close()
  return out
end

tmp = sh("mktemp -d /tmp/nsl-fuzz.XXXXXX")
if not (tmp and tmp:match("^/tmp/nsl%-fuzz%.")) then
  tmp = nil
  fail("mktemp failed")
end
local jail, log = tmp .. "/jail", tmp .. "/stderr"
if not core.mkdir(jail, tonumber("700", 8)) then fail("mkdir %s failed", jail) end
-- the children, uid 65534 on the host, look the jail up through it
if not core.chmod(tmp, tonumber("711", 8)) then fail("chmod %s failed", tmp) end

---------------------------------------------------------------------------
-- the values

local WORDS = { "", ".", "..", "/", "x", "x/y", "a\0b", "rdonly", "bind", "rbind", "private", "tmpfs",
  "proc", "nohang", "user", "mnt", "pid", "net", "uts", "ipc", "cgroup", "all", "TERM", "KILL", "CHLD",
  "sys_admin", "chown", "cap_net_raw", "nofile", "cpu", "core", "block", "unblock", "setmask", "in",
  "out", "in out", "errno", "allow", "kill", "trap", "log", "x86_64", "read", "write", "exit_group",
  "=", "==", "!=", "<", ">=", "&", "rw", "=ep", "cap_sys_admin+ep", "nosuid nodev", "pidfd",
  "direct", "unshare", "creat excl", "directory", "path", "char", "fifo", "sock" }
local INTS = { 0, 1, -1, 2, 3, 7, 255, 4096, 65534, 65535, 2 ^ 31 - 1 | 0, -2 ^ 31 | 0, 2 ^ 31 | 0,
  4294967294, 4294967295, 4294967296, math.maxinteger, math.mininteger, 1 << 40, -4096 }
local FLOATS = { 0.5, -0.0, 1e308, -1e308, 0 / 0, 1 / 0, -1 / 0, 2.0 ^ 63, 3.0, 1e-300 }
local HUGE = { string.rep("A", 1 << 20), string.rep("/x", 1 << 15), string.rep("\0", 70000) }

-- objects made once, here, and inherited by every child
local objects = {}
local function keep(what, ...)
  local v = ...
  if v ~= nil then objects[#objects + 1] = { what = what, value = v } end
  return ...
end
do
  local r, w = core.pipe()
  keep("fd", r)
  keep("fd", w)
  -- files of this run's own, never a host node: the user namespace maps
  -- root, so fd:chmod or fd:chown on the host's /dev/null would change it
  keep("fd", core.open(tmp .. "/file", "rdwr creat", tonumber("600", 8)))
  local closed = core.open(tmp .. "/file")
  if closed then
    closed:close()
    keep("closed fd", closed)
  end
  -- a root handle of a directory of its own, which the children may
  -- change: not the run's, whose jail they would take from the next one
  local root_dir = tmp .. "/root"
  if not (core.mkdir(root_dir) and core.chmod(root_dir, tonumber("777", 8))) then
    fail("mkdir %s failed", root_dir)
  end
  keep("root", core.root_open(root_dir))
  keep("filter", core.seccomp_init("allow"))
  keep("file", io.stdin)
end

local random = math.random
local NULL_BEFORE = assert(core.stat("/dev/null"))

local function random_string()
  local kind = random(6)
  if kind <= 3 then return WORDS[random(#WORDS)] end
  if kind == 4 then return HUGE[random(#HUGE)] end
  local bytes = {}
  for i = 1, random(0, 64) do bytes[i] = string.char(random(0, 255)) end
  return table.concat(bytes)
end

local value

local function random_table(depth)
  local t, kind = {}, random(6)
  if kind == 1 then return t end
  if kind == 2 then
    for i = 1, random(1, 8) do t[i] = WORDS[random(#WORDS)] end
  elseif kind == 3 then
    for i = 1, random(1, 8) do t[i] = INTS[random(#INTS)] end
  elseif kind == 4 then
    for i = 1, random(1, 100000) do t[i] = i end
  else
    for _ = 1, random(1, 6) do
      local k = value(depth + 1)
      if k ~= nil and k == k then t[k] = value(depth + 1) end
    end
  end
  return t
end

-- one random value; depth bounds the tables in tables
function value(depth)
  local kind = random(depth > 2 and 8 or 10)
  if kind == 1 then return nil end
  if kind == 2 then return random(2) == 1 end
  if kind == 3 then return INTS[random(#INTS)] end
  if kind == 4 then return random(-100, 100) end
  if kind == 5 then return FLOATS[random(#FLOATS)] end
  if kind == 6 then return random_string() end
  if kind == 7 then return objects[random(#objects)].value end
  if kind == 8 then return random(2) == 1 and print or coroutine.create(print) end
  return random_table(depth)
end

-- a value that passes a binding's first checks more often: a word, a small
-- number, an fd, a list of words
local function plausible()
  local kind = random(4)
  if kind == 1 then return WORDS[random(#WORDS)] end
  if kind == 2 then return random(-1, 8) end
  if kind == 3 then return objects[random(#objects)].value end
  return { WORDS[random(#WORDS)], WORDS[random(#WORDS)] }
end

local function arguments()
  local args, n = {}, random(0, 6)
  local draw = random(2) == 1 and plausible or value
  for i = 1, n do args[i] = draw(0) end
  return args, n
end

local function show(v)
  if type(v) == "string" then
    if #v > 40 then return string.format("<string of %d bytes>", #v) end
    return string.format("%q", v):gsub("\n", "n")
  end
  if type(v) == "table" then
    local n = 0
    for _ in pairs(v) do n = n + 1 end
    return string.format("<table of %d>", n)
  end
  return tostring(v)
end

---------------------------------------------------------------------------
-- the targets: functions of nsl.core and methods of its objects

local targets = {}
for name, f in pairs(core) do
  if type(f) == "function" and not SKIP[name] then
    targets[#targets + 1] = { name = name, call = f }
  end
end
for _, o in ipairs(objects) do
  local mt = getmetatable(o.value)
  local index = type(mt) == "table" and type(mt.__index) == "table" and mt.__index or {}
  for name, f in pairs(index) do
    if type(f) == "function" and o.what ~= "file" then
      targets[#targets + 1] = { name = o.what .. ":" .. name, call = f, self = o.value }
    end
  end
end
table.sort(targets, function(a, b) return a.name < b.name end)
local names = {} -- fd:read once, though there are several fds
for _, t in ipairs(targets) do names[t.name] = true end
local named = 0
for _ in pairs(names) do named = named + 1 end

local function neutered(target, args)
  return target.name == "setrlimit" and type(args[1]) == "string" and MEMORY_LIMITS[args[1]]
end

---------------------------------------------------------------------------
-- one call in a child

local NAMESPACES = { "user", "mnt", "pid", "net", "ipc", "uts" }
-- what a child writes first to its log when it cannot make its jail
local JAIL_FAILED = "fuzz: no jail: "

-- The host's ids of the children's root.
local OUTSIDE = 65534

-- In the child: once the parent wrote the maps (a byte on go), root of its
-- user namespace, 65534 outside; the tmpfs root, the session, stdio; then
-- the call. Returns only through _exit.
local function child(target, args, n, logfd, devnull, go)
  local ok, err = go:read(1)
  go:close()
  if ok then ok, err = core.setgroups({}) end
  if ok then ok, err = core.setresgid(0, 0, 0) end
  if ok then ok, err = core.setresuid(0, 0, 0) end
  if ok then ok, err = core.mount("tmpfs", jail, "tmpfs", "nosuid nodev", "size=16m,mode=700") end
  if ok then ok, err = core.chdir(jail) end
  if ok then ok, err = core.chroot(".") end
  if ok then ok, err = core.setsid() end
  if ok then ok, err = core.dup2(devnull, 0) end
  if ok then ok, err = core.dup2(devnull, 1) end
  if ok then ok, err = core.dup2(logfd, 2) end
  if not ok then -- fail closed: no call without the jail
    core.write(logfd, JAIL_FAILED .. tostring(err) .. "\n")
    core._exit(99)
  end
  if target.self then
    pcall(target.call, target.self, table.unpack(args, 1, n))
  else
    pcall(target.call, table.unpack(args, 1, n))
  end
  core._exit(0)
end

-- the children's stdin and stdout: an empty file of this run's, read-only
-- (not the host's /dev/null, which a call on fd 0 or 1 could chmod)
local devnull = assert(core.open(tmp .. "/stdio", "rdonly creat", tonumber("600", 8)))

-- The error a child wrote to its log when it could not make its jail.
local function jail_failed()
  local f = io.open(log, "rb")
  if not f then return nil end
  local text = f:read(4096) or ""
  f:close()
  return text:match("^" .. JAIL_FAILED .. "([^\n]*)")
end

-- Did the child's stderr get a sanitizer's report? (whatever its status)
local function reported()
  local f = io.open(log, "rb")
  if not f then return false end
  local text = f:read(1 << 20) or ""
  f:close()
  for _, report in ipairs(REPORTS) do
    if text:find(report, 1, true) then return true end
  end
  return false
end

-- Run one call; returns "ok", "timeout" or "crash", and the child's status.
local function run(target, args, n)
  local logfd = assert(core.open(log, "wronly creat trunc", tonumber("600", 8)))
  io.stdout:flush()
  io.stderr:flush()
  local go_r, go_w = assert(core.pipe())
  local pid, pidfd = core.clone(NAMESPACES, { pidfd = true })
  if not pid then fail("clone %s: %s", table.concat(NAMESPACES, ","), pidfd) end
  if pid == 0 then
    go_w:close()
    child(target, args, n, logfd, devnull, go_r)
  end
  go_r:close()
  logfd:close()
  local outside = { { 0, OUTSIDE, 1 } }
  local mapped, err = userns.write_maps(pid, outside, outside)
  if not mapped then
    core.kill(pid, "KILL")
    core.wait(pid)
    fail("the maps of a child: %s", err)
  end
  go_w:write("x")
  go_w:close()
  local ready = core.poll({ pidfd }, TIMEOUT_MS)
  local timed_out = not (ready and ready[1])
  if timed_out then core.kill(pid, "KILL") end
  pidfd:close()
  local _, how, code = core.wait(pid)
  -- 99 alone could be a fuzzed _exit(99): the log says it was the jail
  local no_jail = how == "exited" and code == 99 and jail_failed()
  if no_jail then fail("a child could not make its tmpfs root in %s: %s", jail, no_jail) end
  if how == "killed" and CRASH[core.signals[code] or ""] then return "crash", how, code end
  if reported() then return "crash", how, code end
  if timed_out then return "timeout", how, code end
  return "ok", how, code
end

---------------------------------------------------------------------------

math.randomseed(options.seed)
local started = core.monotime()
local calls, crashes, timeouts = 0, 0, 0
local by_target = {}
while calls < options.calls and core.monotime() - started < options.seconds do
  local target = targets[random(#targets)]
  local args, n = arguments()
  if not neutered(target, args) then
    calls = calls + 1
    by_target[target.name] = (by_target[target.name] or 0) + 1
    local result, how, code = run(target, args, n)
    if result == "timeout" then timeouts = timeouts + 1 end
    if result == "crash" or options.verbose then
      local shown = {}
      for i = 1, n do shown[i] = show(args[i]) end
      io.write(string.format("fuzz: call %d: %s(%s): %s, %s %s\n", calls, target.name,
        table.concat(shown, ", "), result, how, tostring(code)))
    end
    if result == "crash" then
      crashes = crashes + 1
      local f = io.open(log)
      io.write(f and f:read("a"):sub(1, 4000) or "", "\n")
      if f then f:close() end
    end
  end
end
local seconds = core.monotime() - started
-- the host's /dev/null as it was (the node a careless sample would reach)
local null_after = core.stat("/dev/null")
if not (null_after and null_after.mode == NULL_BEFORE.mode and null_after.uid == NULL_BEFORE.uid
    and null_after.gid == NULL_BEFORE.gid) then
  fail("the host's /dev/null changed during the run")
end
-- every tmpfs was the child's own: the host's side of the jail stays empty
local left = core.readdir(jail)
if not left or #left > 0 then
  fail("the jail %s is not empty after the run: %s", jail, left and table.concat(left, " ") or "?")
end
local covered = 0
for _ in pairs(by_target) do covered = covered + 1 end
cleanup()
print(string.format("fuzz: %d calls of %d of %d functions and methods (seed %d) in %.0f s: %d crashed, %d timed out",
  calls, covered, named, options.seed, seconds, crashes, timeouts))
os.exit(crashes == 0 and 0 or 1)
