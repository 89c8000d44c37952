-- nsl.running: containers that run under a name, and entering them.
--
--   nsl run busybox.lua --name web /bin/httpd -f   (records "web")
--   nsl ps                                         (lists the running ones)
--   nsl enter web [CMD...]                         (a shell or CMD inside)
--
-- A record is a small Lua table in the user's runtime directory, written
-- when the container has started and removed when it ends; one whose
-- process is gone (or is another process now) is removed when seen.
local core = require "nsl.core"
local process = require "nsl.process"
local rootfs = require "nsl.rootfs"
local util = require "nsl.util"

local M = {}

--- The runtime directory: $XDG_RUNTIME_DIR/nsl, else /tmp/nsl-UID/run
-- (nsl.rootfs.runtime_dir).
M.dir = rootfs.runtime_dir

--- The start time of a process (nsl.process.start_time): with the pid, it
-- names one process for good.
M.start_time = process.start_time
local start_time = M.start_time

-- A name: letters, digits, '.', '_', '-', not digits alone (nsl enter
-- would read those as a pid).
local function valid_name(name)
  return type(name) == "string" and name:match("^[%w][%w_.%-]*$") ~= nil and #name <= 64
    and not name:match("^%d+$")
end

local load_record = util.load_record

local function check_name(name)
  if not valid_name(name) then
    error(string.format("container name '%s': letters, digits, '.', '_', '-' only, " ..
      "not digits alone",
      tostring(name)), 0)
  end
end

-- A name held by a start that has not recorded its container yet is a
-- symlink (made atomically, EEXIST for the second) whose target says who
-- holds it: "starting PID START".
local function hold_text(pid)
  return string.format("starting %d %s", pid, start_time(pid) or "")
end

-- The holder of a hold, or nil for a record (a regular file).
local function holder(path)
  local target = core.readlink(path)
  local pid, start = (target or ""):match("^starting (%d+) (%S*)$")
  if pid then return { pid = tonumber(pid), start = start } end
end

local function alive(rec)
  return rec.pid and start_time(rec.pid) == rec.start
end

--- Hold the name of container c for this process before anything of it
-- runs: raises for a bad name, or one that a running (or starting)
-- container has; a hold or record left by one that is gone is taken over.
-- M.record replaces the hold, M.forget drops it.
function M.reserve(c)
  check_name(c.name)
  local path = M.dir() .. "/" .. c.name
  for _ = 1, 3 do
    local ok, err, errno = core.symlink(hold_text(core.getpid()), path)
    if ok then return true end
    if errno ~= core.errno.EEXIST then error("container name '" .. c.name .. "': " .. err, 0) end
    local hold = holder(path)
    local rec = hold or load_record(path)
    if rec and alive(rec) then
      error(string.format("a container named '%s' is %s already", c.name,
        hold and "starting" or "running"), 0)
    end
    core.unlink(path) -- the hold or record of one that is gone
  end
  error(string.format("container name '%s': other starts keep taking it", c.name), 0)
end

--- Record the container c (its pid 1 is pid, as the host sees it), in
-- place of the hold of M.reserve.
function M.record(c, pid)
  check_name(c.name)
  local path = M.dir() .. "/" .. c.name
  local rec = not holder(path) and load_record(path)
  if rec and alive(rec) and rec.pid ~= pid then
    return nil, string.format("a container named '%s' is running already", c.name)
  end
  local text = string.format("return { name = %q, pid = %d, start = %q, rootfs = %q, " ..
    "command = %q, seccomp = %q }\n", c.name, pid, start_time(pid) or "", c.rootfs,
    table.concat(c.command, " "), c.seccomp_bpf or "")
  assert(util.write_atomic(path, text))
  return true
end

--- Remove the record of a container that ended (only its own: the name
-- may be another container's by now), or this process's hold on the name
-- (M.reserve) when pid is nil.
function M.forget(name, pid)
  local path = M.dir() .. "/" .. name
  local hold = holder(path)
  if hold then
    if hold.pid == core.getpid() then core.unlink(path) end
    return
  end
  local rec = load_record(path)
  if rec and pid and rec.pid == pid then core.unlink(path) end
end

--- The running containers, oldest first: list of records { name, pid,
-- rootfs, command }. Records of dead ones are removed on the way.
function M.list()
  local dir = M.dir()
  local list = {}
  for _, name in ipairs(core.readdir(dir) or {}) do
    local path = dir .. "/" .. name
    local hold = valid_name(name) and holder(path)
    if hold then
      -- a start in progress is not listed yet
      if not alive(hold) then core.unlink(path) end
    elseif valid_name(name) then
      local rec = load_record(path)
      if rec and alive(rec) then
        list[#list + 1] = rec
      else
        core.unlink(path)
      end
    end
  end
  table.sort(list, function(a, b) return a.pid < b.pid end)
  return list
end

-- The pid namespace of a process, as /proc/PID/ns/pid names it.
local function pid_namespace(pid)
  return core.readlink(string.format("/proc/%d/ns/pid", pid))
end

--- The running container named target, or the one a host pid is in (its
-- pid 1 or any process in its pid namespace); else, for a pid, a record
-- of that process alone, without a filter (seccomp = "").
function M.find(target)
  local list = M.list()
  for _, rec in ipairs(list) do
    if rec.name == target or tostring(rec.pid) == tostring(target) then return rec end
  end
  local pid = tonumber(target)
  if pid and start_time(pid) then
    -- a process of a named container: the container's record, so that
    -- entering by pid applies what entering by name does
    local ns = pid_namespace(pid)
    for _, rec in ipairs(list) do
      if ns and pid_namespace(rec.pid) == ns then return rec end
    end
    return { name = tostring(pid), pid = pid, start = start_time(pid), seccomp = "" }
  end
  return nil, string.format("no running container '%s' ('nsl ps' lists them)", tostring(target))
end

--- `nsl ps`: the running containers as a table on out (default stdout).
function M.ps(out)
  out = out or io.stdout
  -- the cgroups of containers whose nsl was killed go here too
  pcall(function() require("nsl.cgroup").reclaim() end)
  -- and their networks (nsl.net)
  pcall(function() require("nsl.net").reclaim() end)
  out:write(string.format("%-16s %8s  %-30s %s\n", "NAME", "PID", "ROOTFS", "COMMAND"))
  for _, rec in ipairs(M.list()) do
    out:write(string.format("%-16s %8d  %-30s %s\n", rec.name, rec.pid, rec.rootfs, rec.command))
  end
end

-- The process that runs the container's command: pid 1's child when pid
-- 1 is nsl's init, else pid 1 itself.
local function command_pid(pid)
  local f = io.open(string.format("/proc/%d/task/%d/children", pid, pid), "r")
  local children = f and f:read("a") or ""
  if f then f:close() end
  local exe = core.readlink(string.format("/proc/%d/exe", pid)) or ""
  local first = tonumber(children:match("%d+"))
  if exe:match("^/memfd:nsl") and first then return first end
  return pid
end

local function status_field(pid, field)
  local f = assert(io.open(string.format("/proc/%d/status", pid), "r"))
  local text = f:read("a")
  f:close()
  return text:match("\n" .. field .. ":%s*([^\n]*)")
end

-- The capability names whose bits are set in a /proc status hex mask.
local function cap_list(hex)
  local names, mask = {}, tonumber(hex, 16)
  for bit, name in ipairs(core.cap_names()) do
    if mask & (1 << (bit - 1)) ~= 0 then names[#names + 1] = name end
  end
  return names
end

-- What the entering process takes over from the command: environment,
-- ids as the container sees them, capability sets, no_new_privs.
local function command_state(pid)
  local f = io.open(string.format("/proc/%d/environ", pid), "rb")
  local env = {}
  for entry in ((f and f:read("a")) or ""):gmatch("([^%z]+)") do env[#env + 1] = entry end
  if f then f:close() end
  local state = { env = env, nnp = status_field(pid, "NoNewPrivs") == "1",
    seccomp = status_field(pid, "Seccomp") }
  for _, set in ipairs { "Bnd", "Eff", "Prm", "Inh", "Amb" } do
    state[set] = cap_list(status_field(pid, "Cap" .. set))
  end
  -- the ids as the container sees them: through its uid_map and gid_map
  local function inside(id, map)
    for line in (map or ""):gmatch("[^\n]+") do
      local i, o, n = line:match("(%d+)%s+(%d+)%s+(%d+)")
      i, o, n = tonumber(i), tonumber(o), tonumber(n)
      if id >= o and id < o + n then return id - o + i end
    end
    return id
  end
  local function read(name)
    return (util.read_file(string.format("/proc/%d/%s", pid, name)))
  end
  state.uid = inside(tonumber(status_field(pid, "Uid"):match("%d+")), read("uid_map"))
  state.gid = inside(tonumber(status_field(pid, "Gid"):match("%d+")), read("gid_map"))
  return state
end

local NAMESPACES = { "user", "mnt", "pid", "uts", "ipc", "net", "cgroup" }

-- Become like the command: its ids, capability sets and no_new_privs.
local function take_identity(state)
  assert(core.keepcaps(true))
  -- the bounding set first, while CAP_SETPCAP is still effective (a
  -- switch to a non-root uid clears the effective set): a drop that fails
  -- fails the enter, never leaves the command a larger set than the
  -- container's
  local keep = {}
  for _, name in ipairs(state.Bnd) do keep[name] = true end
  for _, name in ipairs(core.cap_bound_list()) do
    if not keep[name] then
      local dropped, derr = core.cap_bound_drop(name)
      if not dropped then error("enter: " .. derr, 0) end
    end
  end
  core.setgroups({}) -- refused where setgroups is denied: nothing to drop then
  assert(core.setresgid(state.gid, state.gid, state.gid))
  assert(core.setresuid(state.uid, state.uid, state.uid))
  local text = "="
  if #state.Prm > 0 then text = table.concat(state.Prm, ",") .. "=p" end
  if #state.Eff > 0 then text = text .. " " .. table.concat(state.Eff, ",") .. "+e" end
  if #state.Inh > 0 then text = text .. " " .. table.concat(state.Inh, ",") .. "+i" end
  local set, serr = core.cap_set(text)
  if not set then error("enter: " .. serr, 0) end
  core.keepcaps(false)
  for _, name in ipairs(state.Amb) do
    local raised, aerr = core.cap_ambient_raise(name)
    if not raised then error("enter: " .. aerr, 0) end
  end
  if state.nnp then core.no_new_privs(true) end
end

--- Enter a running container (name or pid) and run argv there (default
-- /bin/sh) with its root, environment, ids, capabilities and seccomp
-- filter; returns the exit code in shell convention.
function M.enter(target, argv)
  local rec, err = M.find(target)
  if not rec then return nil, err end
  argv = (argv and #argv > 0) and argv or { "/bin/sh" }
  local cmd = command_pid(rec.pid)
  local state = command_state(cmd)
  if rec.seccomp == "" and state.seccomp ~= "0" then
    -- its filter is not ours to copy: entering without it is refused
    return nil, string.format("enter '%s': process %d runs under a seccomp filter that " ..
      "nsl has no record of (a container started without --name?): name the container " ..
      "with --name and use 'nsl enter NAME'", tostring(target), cmd)
  end
  -- join every namespace that differs from ours at once (setns with a
  -- pidfd, setns(2)): the user namespace first of all
  local errors = require "nsl.errors"
  local ok, serr, errno = process.join(rec.pid, NAMESPACES)
  if not ok then return nil, errors.explain(serr, errno) end
  -- Everything before the fork, in this process, which is not in the
  -- container's pid namespace: the child that is (setns(pid) holds for
  -- children) runs the host's binary only from fork to exec, undumpable,
  -- with the container's ids, capabilities and filter already.
  core.dumpable(false)
  assert(core.chdir("/"))
  take_identity(state)
  if rec.seccomp ~= "" then
    local loaded, lerr, lerrno = require("nsl.seccomp").load(rec.seccomp)
    if not loaded then return nil, "enter: " .. errors.explain(lerr, lerrno) end
  end
  -- only stdio goes in: an fd of the caller's would reach the host from
  -- inside (CVE-2024-21626)
  local closed, cerr, cerrno = process.close_on_exec()
  if not closed then return nil, "enter: close_on_exec: " .. errors.explain(cerr, cerrno) end
  local how, code, message = process.run(argv, state.env)
  if not how then return nil, "enter: " .. errors.explain(code, message) end
  return process.exit_code(how, code), message and "enter: " .. message
end

return M
