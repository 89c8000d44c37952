-- nsl.cgroup: memory, pids and cpu limits for containers, through the
-- cgroup filesystem (runc's "cgroupfs" manager), on cgroup v2 hosts and on
-- cgroup v1 or hybrid hosts (v1 controllers beside a unified cgroup2).
--
--   local cgroup = require "nsl.cgroup"
--   local cg = assert(cgroup.create("nsl/box", { memory = "64m", pids = 20, cpus = 0.5 }))
--   cg:add(pid)        -- before the process runs anything (see userns.clone's prepare)
--   cg:procs()         -- { pid, ... }
--   cg:freeze(); cg:thaw()
--   cg:remove()        -- once its processes are gone
--
-- A path starting with "/" is taken from the root of each hierarchy (as
-- OCI's cgroupsPath is); any other path is below this process's own cgroup,
-- so that a container stays inside whatever limits its caller has.
--
-- Limits (all optional; sizes are bytes or "64m", "1g", "512k"; -1 or
-- "max" is no limit):
--   memory              the memory limit
--   memory_reservation  the soft limit (v1 memory.soft_limit_in_bytes, v2 memory.low)
--   memory_swap         memory plus swap, as OCI's memory.swap
--   pids                the number of tasks
--   cpus                a share of CPUs as a float: 0.5 is half of one CPU
--   cpu_quota, cpu_period  the CFS quota and period in microseconds
--   cpu_shares          the relative weight (v1 cpu.shares; on v2 converted
--                       to cpu.weight as runc does)
--   cpuset_cpus, cpuset_mems  the CPUs and memory nodes ("0-1,3"), as OCI's
--                       cpu.cpus and cpu.mems
--   cpu_rt_period, cpu_rt_runtime  the real-time period and the time of it
--                       real-time tasks may run, in microseconds (v1 only:
--                       cpu.rt_period_us, cpu.rt_runtime_us; -1 is no limit)
--
-- On a hybrid host (v1 controllers and a cgroup2 beside them) a cgroup is
-- made in the unified hierarchy too, and its processes join it, as runc
-- does: a container's /proc/self/cgroup names its cgroup on every line.
local core = require "nsl.core"
local userns = require "nsl.userns"
local util = require "nsl.util"

local M = {}

--- The v1 controllers a container's cgroup is made in (each hierarchy that
-- has one of them): the limits', freezer for pause and for listing the
-- processes, cpuset (a new v1 cpuset gets its parent's cpus and mems, see
-- M.create: it takes no task until they are set).
M.v1_controllers = { "memory", "pids", "cpu", "cpuacct", "freezer", "cpuset" }

--- The default CFS period (microseconds) for a limit given as cpus.
M.cpu_period = 100000

local LIMIT_FIELDS = { memory = true, memory_reservation = true, memory_swap = true,
  pids = true, cpus = true, cpu_quota = true, cpu_period = true, cpu_shares = true,
  cpuset_cpus = true, cpuset_mems = true, cpu_rt_period = true, cpu_rt_runtime = true }

local UNITS = { [""] = 1, b = 1, k = 1024, m = 1024 ^ 2, g = 1024 ^ 3, t = 1024 ^ 4 }

---------------------------------------------------------------------------
-- values

--- A size in bytes from an integer or a string ("64m", "1g", "512k",
-- "1024"); -1 for "max", "-1" or -1 (no limit). Raises for anything else.
function M.parse_size(value)
  if value == -1 or value == "-1" or value == "max" then return -1 end
  local n = math.tointeger(value)
  if n and n >= 0 then return n end
  local digits, unit = tostring(value):lower():match("^%s*(%d+%.?%d*)%s*([bkmgt]?)b?%s*$")
  local number = tonumber(digits)
  if not number then
    error(string.format("bad size '%s': want bytes or a number with k, m or g, like 64m",
      tostring(value)), 0)
  end
  return math.floor(number * UNITS[unit])
end

-- A count (pids): a non-negative integer, or -1 for "max".
local function parse_count(name, value)
  if value == "max" or value == -1 or value == "-1" then return -1 end
  local n = math.tointeger(tonumber(value))
  if not n or n < 0 then
    error(string.format("bad %s limit '%s': want a number or max", name, tostring(value)), 0)
  end
  return n
end

--- Check and normalise a limits table (see the top of this file): sizes
-- in bytes, counts as integers, cpus turned into cpu_quota and cpu_period.
-- Raises for an unknown field or a bad value.
function M.limits(limits)
  local l = {}
  for k, v in pairs(limits or {}) do
    if not LIMIT_FIELDS[k] then error(string.format("unknown cgroup limit '%s'", tostring(k)), 0) end
    l[k] = v
  end
  for _, k in ipairs { "memory", "memory_reservation", "memory_swap" } do
    if l[k] ~= nil then l[k] = M.parse_size(l[k]) end
  end
  if l.pids ~= nil then l.pids = parse_count("pids", l.pids) end
  if l.cpus ~= nil then
    local cpus = tonumber(l.cpus)
    if not cpus or cpus <= 0 then error(string.format("bad cpus '%s': want a number above 0, " ..
      "like 0.5", tostring(l.cpus)), 0) end
    l.cpu_period = l.cpu_period or M.cpu_period
    l.cpu_quota = math.floor(cpus * l.cpu_period + 0.5)
    l.cpus = nil
  end
  for _, k in ipairs { "cpuset_cpus", "cpuset_mems" } do
    if l[k] ~= nil and not tostring(l[k]):match("^[%d,%-]+$") then
      error(string.format("bad %s '%s': want a list like 0-1,3", k, tostring(l[k])), 0)
    end
  end
  for _, k in ipairs { "cpu_quota", "cpu_period", "cpu_shares", "cpu_rt_period", "cpu_rt_runtime" } do
    if l[k] ~= nil then
      l[k] = math.tointeger(tonumber(l[k]))
      if not l[k] then error("bad " .. k .. ": want an integer", 0) end
    end
  end
  return l
end

--- Are there limits in l (a limits table)?
function M.any(l)
  return l ~= nil and next(l) ~= nil
end

---------------------------------------------------------------------------
-- the hierarchies

local read_file = util.read_file
local write_file = util.write_once
--- Write value to a cgroup file in one write(2) (nsl.util.write_once).
M.write_file = write_file

--- The cgroup hierarchies of this system, from /proc/self/mountinfo and
-- /proc/self/cgroup: { version = 1, v1 = { memory = { mount =, root =,
-- own = }, ... }, unified = { ... } } on a v1 or hybrid host, { version =
-- 2, unified = { mount = "/sys/fs/cgroup", root = "/", own = "/user.slice" } }
-- on a v2 host; nil and a message where none is mounted.
function M.hierarchies()
  local inspect = require "nsl.inspect"
  local mounts = inspect.mountinfo() or {}
  local own_v1, own_v2 = {}, nil
  for line in (read_file("/proc/self/cgroup") or ""):gmatch("[^\n]+") do
    local id, controllers, path = line:match("^(%d+):([^:]*):(.*)$")
    if id == "0" and controllers == "" then own_v2 = path
    elseif id then
      for c in controllers:gmatch("[^,]+") do own_v1[c] = path end
    end
  end
  local h = { v1 = {} }
  for _, m in ipairs(mounts) do
    if m.fstype == "cgroup" then
      for _, opt in ipairs(m.super_options) do
        if own_v1[opt] and not h.v1[opt] then
          h.v1[opt] = { mount = m.target, root = m.root, own = own_v1[opt] }
        end
      end
    elseif m.fstype == "cgroup2" and not h.unified and own_v2 then
      h.unified = { mount = m.target, root = m.root, own = own_v2 }
    end
  end
  if next(h.v1) then h.version = 1
  elseif h.unified then h.version = 2
  else return nil, "no cgroup filesystem is mounted (see /proc/self/mountinfo)" end
  return h
end

-- The directory of cgroup path in hierarchy m: "/x" from the hierarchy's
-- root, "x" below this process's own cgroup. The mount may show a subtree
-- only (m.root, in a cgroup namespace or a bind).
local function dir_of(m, path)
  local full = path:sub(1, 1) == "/" and path or (m.own:gsub("/$", "") .. "/" .. path)
  if m.root ~= "/" and full:sub(1, #m.root) == m.root then full = full:sub(#m.root + 1) end
  return (m.mount .. "/" .. full):gsub("//+", "/"):gsub("/$", "")
end

---------------------------------------------------------------------------
-- a container's cgroup

local Cgroup = {}
Cgroup.__index = Cgroup

-- mkdir -p; the directories it made, deepest last.
local function mkdir_all(dir, made)
  return util.mkdir_all(dir, "0755", made)
end

-- Enable the controllers of l in every cgroup.subtree_control from the
-- hierarchy's mount down to dir's parent (v2: a controller's files only
-- appear in a cgroup whose parent enabled it).
local function enable_v2(m, dir, l)
  local want = {}
  if l.memory or l.memory_reservation or l.memory_swap then want[#want + 1] = "memory" end
  if l.pids then want[#want + 1] = "pids" end
  if l.cpu_quota or l.cpu_shares then want[#want + 1] = "cpu" end
  if l.cpuset_cpus or l.cpuset_mems then want[#want + 1] = "cpuset" end
  if #want == 0 then return true end
  local available = read_file(m.mount .. "/cgroup.controllers") or ""
  for _, c in ipairs(want) do
    if not (" " .. available .. " "):find("%s" .. c .. "%s") then
      return nil, string.format("the %s controller is not available in %s " ..
        "(cgroup.controllers: %s)", c, m.mount, (available:gsub("%s+$", "")))
    end
  end
  local text = "+" .. table.concat(want, " +")
  local parent = dir:match("^(.+)/[^/]+$")
  local at = m.mount
  for part in parent:sub(#m.mount + 1):gmatch("[^/]+") do
    local ok, err, errno = write_file(at .. "/cgroup.subtree_control", text)
    if not ok then return nil, err, errno end
    at = at .. "/" .. part
  end
  return write_file(parent .. "/cgroup.subtree_control", text)
end

-- The files and values of limits l: { controller, file, value } in the
-- order they are written.
local function v1_files(l)
  local list = {}
  local function put(c, file, value) if value then list[#list + 1] = { c, file, value } end end
  put("memory", "memory.limit_in_bytes", l.memory)
  put("memory", "memory.soft_limit_in_bytes", l.memory_reservation)
  put("memory", "memory.memsw.limit_in_bytes", l.memory_swap)
  put("pids", "pids.max", l.pids and (l.pids < 0 and "max" or l.pids))
  put("cpu", "cpu.cfs_period_us", l.cpu_period)
  put("cpu", "cpu.cfs_quota_us", l.cpu_quota)
  put("cpu", "cpu.shares", l.cpu_shares)
  -- the period first, as runc writes them (a runtime the new period does
  -- not fit is EINVAL, and Cgroup:set tries it again after the others)
  put("cpu", "cpu.rt_period_us", l.cpu_rt_period)
  put("cpu", "cpu.rt_runtime_us", l.cpu_rt_runtime)
  put("cpuset", "cpuset.cpus", l.cpuset_cpus)
  put("cpuset", "cpuset.mems", l.cpuset_mems)
  return list
end

local function max(v) return v < 0 and "max" or v end

local function v2_files(l)
  local list = {}
  local function put(file, value) if value then list[#list + 1] = { "unified", file, value } end end
  put("memory.max", l.memory and max(l.memory))
  put("memory.low", l.memory_reservation and max(l.memory_reservation))
  if l.memory_swap then
    -- OCI's swap is memory plus swap; v2's swap.max is the swap alone
    put("memory.swap.max", (l.memory_swap < 0 or not l.memory or l.memory < 0) and "max"
      or math.max(0, l.memory_swap - l.memory))
  end
  put("pids.max", l.pids and max(l.pids))
  if l.cpu_quota then
    put("cpu.max", string.format("%s %d", l.cpu_quota < 0 and "max" or l.cpu_quota,
      l.cpu_period or M.cpu_period))
  end
  if l.cpu_shares then
    -- runc's ConvertCPUSharesToCgroupV2Value: 2..262144 onto 1..10000
    put("cpu.weight", 1 + ((l.cpu_shares - 2) * 9999) // 262142)
  end
  put("cpuset.cpus", l.cpuset_cpus)
  put("cpuset.mems", l.cpuset_mems)
  return list
end

--- Raise for a cgroup path that is not a string or that has a "." or ".."
-- component: a path names a cgroup below its base, never above it.
function M.check_path(path)
  if type(path) ~= "string" or path == "" then
    error(string.format("bad cgroup path '%s': want a path like nsl/box", tostring(path)), 0)
  end
  for part in path:gmatch("[^/]+") do
    if part == "." or part == ".." then
      error(string.format("bad cgroup path '%s': no '.' or '..' components", path), 0)
    end
  end
end

--- The cgroup at path (see the top of this file) without creating it:
-- { version, path, dirs = { controller = dir } }, or nil and a message.
-- Only the hierarchies that exist are in dirs. Raises for a bad path
-- (M.check_path).
function M.open(path, hierarchies)
  M.check_path(path)
  local h = hierarchies
  if not h then
    local err
    h, err = M.hierarchies()
    if not h then return nil, err end
  end
  local cg = setmetatable({ version = h.version, path = path, dirs = {}, hierarchies = h }, Cgroup)
  if h.version == 2 then
    cg.dirs.unified = dir_of(h.unified, path)
  else
    for _, c in ipairs(M.v1_controllers) do
      if h.v1[c] then cg.dirs[c] = dir_of(h.v1[c], path) end
    end
    if h.unified then cg.dirs.unified = dir_of(h.unified, path) end
  end
  return cg
end

--- The cgroup's directory in the v1 hierarchy of controller (one that
-- M.v1_controllers leaves out, as "devices"), or nil when that hierarchy
-- is not mounted or the cgroup is v2; not made, not put in dirs.
function Cgroup:v1_dir(controller)
  local m = self.version == 1 and self.hierarchies and self.hierarchies.v1[controller]
  return m and dir_of(m, self.path) or nil
end

-- errnos that mean "not allowed to make a cgroup here" rather than "bad
-- limit": the notice, not an error.
local NOT_ALLOWED = { EACCES = true, EPERM = true, EROFS = true }

-- Is name a v1 hierarchy a container's cgroup is made in beyond
-- M.v1_controllers? Every controller's (blkio, devices, ...), and of the
-- named ones name=systemd alone, as runc: another named hierarchy is some
-- tool's private one (name=foo), which it alone arranges.
local function joined_beyond(name)
  return not name:match("^name=") or name == "name=systemd"
end

--- Make the cgroup in the v1 hierarchies beyond M.v1_controllers too
-- (blkio, devices, name=systemd, ...), as runc does: a process added then
-- shows the cgroup on the lines of /proc/self/cgroup runc's would. They
-- join dirs, what is made joins made (Cgroup:remove takes it); one this
-- process may not write to is left out (no limit is set there). nil,
-- message and errno when a directory cannot be made otherwise.
function Cgroup:make_in_every_hierarchy()
  if self.version ~= 1 or not self.hierarchies then return true end
  local names = {}
  for name in pairs(self.hierarchies.v1) do
    if not self.dirs[name] and joined_beyond(name) then names[#names + 1] = name end
  end
  table.sort(names)
  for _, name in ipairs(names) do
    local dir = dir_of(self.hierarchies.v1[name], self.path)
    local ok, err, errno = mkdir_all(dir, self.made)
    if ok then self.dirs[name] = dir
    elseif not NOT_ALLOWED[core.errno[errno]] then return nil, err, errno end
  end
  return true
end

--- What a cgroup is, to store and to open again later by M.from (a
-- relative path resolves against the caller's own cgroup, which another
-- process may not share): { version, path, dirs, made }.
function Cgroup:save()
  local dirs = {}
  for k, v in pairs(self.dirs) do dirs[k] = v end
  return { version = self.version, path = self.path, dirs = dirs,
    made = self.made and { table.unpack(self.made) } }
end

--- The cgroup that Cgroup:save() described.
function M.from(saved)
  return setmetatable({ version = saved.version, path = saved.path, dirs = saved.dirs,
    made = saved.made }, Cgroup)
end

-- A new v1 cpuset has empty cpus and mems and refuses tasks (ENOSPC)
-- until they are set: each directory from mount down to dir whose cpus or
-- mems are empty gets its parent's, top down (those made here, and a
-- parent another tool made with mkdir alone, as runc fills it too).
local function inherit_cpuset(mount, dir)
  local path = mount
  for name in dir:sub(#mount + 2):gmatch("[^/]+") do
    local parent = path
    path = path .. "/" .. name
    for _, file in ipairs { "cpuset.cpus", "cpuset.mems" } do
      local own, oerr, oerrno = read_file(path .. "/" .. file)
      if not own then return nil, oerr, oerrno end
      if not own:find("%S") then
        local value, err, errno = read_file(parent .. "/" .. file)
        if not value then return nil, err, errno end
        local ok, werr, werrno = write_file(path .. "/" .. file, (value:gsub("%s+$", "")))
        if not ok then return nil, werr, werrno end
      end
    end
  end
  return true
end

--- Create the cgroup at path with limits (see M.limits): the directories
-- (and on v2 the controllers enabled above it), then the limits written.
-- Returns the cgroup, whose made lists the directories it made (parents
-- first; Cgroup:remove takes only those), or nil, a message and errno;
-- what it made is removed again on failure.
function M.create(path, limits, hierarchies)
  local l = M.limits(limits)
  local cg, err = M.open(path, hierarchies)
  if not cg then return nil, err end
  local made = {}
  local function undo(...)
    for i = #made, 1, -1 do core.rmdir(made[i]) end
    return ...
  end
  local unique = {}
  for _, dir in pairs(cg.dirs) do unique[dir] = true end
  for dir in pairs(unique) do
    local ok, merr, errno = mkdir_all(dir, made)
    if not ok then return undo(nil, merr, errno) end
  end
  if cg.version == 2 then
    local ok, eerr, errno = enable_v2(cg.hierarchies.unified, cg.dirs.unified, l)
    if not ok then return undo(nil, eerr, errno) end
  elseif cg.dirs.cpuset then
    local ok, cerr, errno = inherit_cpuset(cg.hierarchies.v1.cpuset.mount, cg.dirs.cpuset)
    if not ok then return undo(nil, cerr, errno) end
  end
  local ok, serr, errno = cg:set(l)
  if not ok then return undo(nil, serr, errno) end
  cg.limits = l
  cg.made = made
  return cg
end

--- The files limits l (see M.limits) are written to on cgroup version
-- 1 or 2, in order: { { controller, file, value }, ... } (v2's controller
-- is "unified").
function M.files(version, l)
  return version == 2 and v2_files(l) or v1_files(l)
end

--- Write limits (see M.limits) into the cgroup's files. nil, message and
-- errno when a controller is missing or the kernel refuses a value.
function Cgroup:set(limits)
  local l = M.limits(limits)
  if self.version == 2 and (l.cpu_rt_period or l.cpu_rt_runtime) then
    return nil, "cannot set cpu_rt_period or cpu_rt_runtime: cgroup v2 has no real-time " ..
      "CPU limits (cpu.rt_period_us, cpu.rt_runtime_us are v1's)"
  end
  -- v1's memory+swap limit is never below the memory limit: no memory
  -- limit (-1) alone lifts the swap limit too, as runc does
  if self.version == 1 and l.memory == -1 and l.memory_swap == nil and self.dirs.memory and
    core.access(self.dirs.memory .. "/memory.memsw.limit_in_bytes") then
    l.memory_swap = -1
  end
  -- a write the current values refuse (EINVAL: memory above memsw, a
  -- period the quota does not fit) is tried again after the others
  local again = {}
  for _, f in ipairs(M.files(self.version, l)) do
    local dir = self.dirs[f[1]]
    if not dir then
      return nil, string.format("cannot set %s: no %s cgroup hierarchy is mounted", f[2], f[1])
    end
    local ok, err, errno = write_file(dir .. "/" .. f[2], f[3])
    if not ok and errno == core.errno.EINVAL then again[#again + 1] = { dir, f }
    elseif not ok then return nil, err, errno end
  end
  for _, d in ipairs(again) do
    local ok, err, errno = write_file(d[1] .. "/" .. d[2][2], d[2][3])
    if not ok then return nil, err, errno end
  end
  return true
end

--- Put process pid into the cgroup (every hierarchy).
function Cgroup:add(pid)
  for _, dir in pairs(self.dirs) do
    local ok, err, errno = write_file(dir .. "/cgroup.procs", pid)
    if not ok then return nil, err, errno end
  end
  return true
end

--- The pids in the cgroup, sorted.
function Cgroup:procs()
  local dir = self.dirs.freezer or self.dirs.unified or self.dirs.pids or self.dirs.memory
  local list = {}
  for n in (read_file(dir .. "/cgroup.procs") or ""):gmatch("%d+") do list[#list + 1] = tonumber(n) end
  table.sort(list)
  return list
end

--- The value of a file of the cgroup ("memory.limit_in_bytes") in the
-- hierarchy of its controller, without the trailing newline.
function Cgroup:read(file)
  local dir = self.version == 2 and self.dirs.unified or self.dirs[file:match("^(%w+)%.")]
  if not dir then return nil, "no hierarchy for " .. file end
  local text, err, errno = read_file(dir .. "/" .. file)
  if not text then return nil, err, errno end
  return (text:gsub("\n$", ""))
end

local function sleep_ms(ms)
  core.poll({}, ms)
end

-- Freeze (true) or thaw: v1's freezer.state, v2's cgroup.freeze; waits
-- until the kernel says it is done (FREEZING is a passing state).
local function set_frozen(self, frozen)
  local file, value, done
  if self.version == 2 then
    file, value = self.dirs.unified .. "/cgroup.freeze", frozen and "1" or "0"
    done = function()
      local events = read_file(self.dirs.unified .. "/cgroup.events") or ""
      return events:match("frozen (%d)") == value
    end
  elseif self.dirs.freezer then
    file, value = self.dirs.freezer .. "/freezer.state", frozen and "FROZEN" or "THAWED"
    done = function()
      return (read_file(file) or ""):match("^(%u+)") == value
    end
  else
    return nil, "no freezer cgroup hierarchy is mounted"
  end
  for _ = 1, 500 do
    local ok, err, errno = write_file(file, value)
    if not ok then return nil, err, errno end
    if done() then return true end
    sleep_ms(2)
  end
  return nil, string.format("%s: still not %s after a second", file, value)
end

--- Freeze every process of the cgroup (pause).
function Cgroup:freeze() return set_frozen(self, true) end

--- Thaw the cgroup (resume).
function Cgroup:thaw() return set_frozen(self, false) end

--- Is the cgroup frozen?
function Cgroup:frozen()
  if self.version == 2 then
    return (read_file(self.dirs.unified .. "/cgroup.events") or ""):match("frozen 1") ~= nil
  end
  local dir = self.dirs.freezer
  return dir ~= nil and (read_file(dir .. "/freezer.state") or ""):match("^FROZEN") ~= nil
end

--- Send sig to every process of the cgroup.
function Cgroup:kill(sig)
  for _, pid in ipairs(self:procs()) do core.kill(pid, sig) end
  return true
end

--- Does the cgroup still exist?
function Cgroup:exists()
  for _, dir in pairs(self.dirs) do
    if core.stat(dir) then return true end
  end
  return false
end

-- Remove the cgroups below dir, deepest first: those a container made
-- for itself (nested use). rmdir removes a cgroup, never a file.
local function remove_below(dir)
  if core.fs_type(dir) ~= "cgroup" and core.fs_type(dir) ~= "cgroup2" then return end
  for _, name in ipairs(core.readdir(dir) or {}) do
    local sub = dir .. "/" .. name
    local st = core.lstat(sub)
    if st and st.type == "dir" then
      remove_below(sub)
      core.rmdir(sub)
    end
  end
end

--- Remove the cgroup's directories: of a cgroup M.create made, only
-- those it made (one that was there, or another's, stays). The processes
-- must be gone: a process that has just exited may keep the cgroup busy
-- for a moment (EBUSY), so that is tried again for up to a second. nil,
-- message, errno on failure. A cgroup recorded for reclaiming
-- (M.for_container) drops its record. with_below: the empty cgroups below
-- a directory it made go first (a container's own, made for nested use).
function Cgroup:remove(with_below)
  local err, errno
  local dirs = {}
  for _, dir in pairs(self.dirs) do dirs[#dirs + 1] = dir end
  -- the other v1 hierarchies (devices, blkio, name=systemd, ...), which
  -- only nsl oci's containers are made in, from a cgroup opened by path
  -- (a parent of such containers)
  if self.version == 1 and self.hierarchies then
    for name in pairs(self.hierarchies.v1) do
      if not self.dirs[name] and joined_beyond(name) then dirs[#dirs + 1] = self:v1_dir(name) end
    end
  end
  if self.made then
    local made = {}
    for _, dir in ipairs(self.made) do made[dir] = true end
    local ours = {}
    for _, dir in ipairs(dirs) do if made[dir] then ours[#ours + 1] = dir end end
    dirs = ours
  end
  for _, dir in ipairs(dirs) do
    if with_below and self.made then remove_below(dir) end
    for _ = 1, 200 do
      local ok
      ok, err, errno = core.rmdir(dir)
      if ok or errno == core.errno.ENOENT then err = nil; break end
      if errno ~= core.errno.EBUSY then break end
      sleep_ms(5)
    end
    if err then return nil, err, errno end
  end
  if self.record then core.unlink(self.record) end
  return true
end

---------------------------------------------------------------------------
-- records of the cgroups nsl makes for its containers, so that those of an
-- nsl killed before it could remove them are reclaimed later

-- The directory of the records, in the user's runtime directory (a name
-- that is no container's: see nsl.running).
local function records_dir()
  local dir = require("nsl.rootfs").runtime_dir() .. "/.cgroups"
  local ok, err, errno = core.mkdir(dir, "0700")
  if not ok and errno ~= core.errno.EEXIST then return nil, err end
  return dir
end

-- Record cg as made by this process; the record's path, or nil.
local function write_record(cg)
  local dir = records_dir()
  if not dir then return nil end
  local process = require "nsl.process"
  local dirs = {}
  for k, v in pairs(cg.dirs) do dirs[#dirs + 1] = string.format("[%q] = %q", k, v) end
  table.sort(dirs)
  local path = string.format("%s/%d-%s", dir, core.getpid(),
    (cg.path:gsub("[^%w_.-]", function(ch) return string.format("%%%02X", ch:byte()) end)))
  local text = string.format("return { pid = %d, start = %q, version = %d, path = %q, " ..
    "dirs = { %s } }\n", core.getpid(), process.start_time(core.getpid()) or "", cg.version,
    cg.path, table.concat(dirs, ", "))
  if not util.write_atomic(path, text) then return nil end
  return path
end

local function load_record(path)
  local rec = util.load_record(path)
  if rec and math.tointeger(rec.pid) and type(rec.dirs) == "table" then return rec end
end

-- Is every existing directory of cg a cgroup without a process? Those
-- are the only ones a reclaim may remove (rmdir refuses the others too).
local function empty_cgroup(cg)
  for _, dir in pairs(cg.dirs) do
    if core.stat(dir) then
      local fs = core.fs_type(dir)
      if fs ~= "cgroup" and fs ~= "cgroup2" then return false end
      local procs = read_file(dir .. "/cgroup.procs")
      if not procs or procs:find("%d") then return false end
    end
  end
  return true
end

--- Remove the cgroups that this user's nsl made for containers and left
-- behind (killed before it could remove them): a recorded one whose owner
-- (the nsl that made it) is gone and that has no process. A cgroup with
-- processes, or one without a record (nsl did not make it), stays.
-- Returns how many were removed.
function M.reclaim()
  local dir = records_dir()
  if not dir then return 0 end
  local process, removed = require "nsl.process", 0
  for _, name in ipairs(core.readdir(dir) or {}) do
    local path = dir .. "/" .. name
    local rec = not name:match("%.tmp$") and load_record(path)
    if rec and process.start_time(rec.pid) ~= rec.start then
      local cg = M.from(rec)
      local gone = true
      if empty_cgroup(cg) then
        for _, d in pairs(cg.dirs) do
          local ok, _, errno = core.rmdir(d)
          if not ok and errno ~= core.errno.ENOENT then gone = false end
        end
      else
        gone = not cg:exists()
      end
      if gone then
        core.unlink(path)
        removed = removed + 1
      end
    end
  end
  return removed
end

---------------------------------------------------------------------------
-- containers

--- Where nothing can be written (an ordinary user without a delegated
-- cgroup): what the notice says, once per process.
M.notice_shown = false

--- The notice that the limits cannot be applied and why, once per process
-- (nil after): the caller prints it (container.main does, as "nsl: ...").
function M.notice(err)
  if M.notice_shown then return nil end
  M.notice_shown = true
  return "cgroups: " .. tostring(err) .. "; running without resource limits " ..
    "(an ordinary user needs a cgroup delegated to it)"
end

-- Raise unless every directory of cg lies below this process's own
-- cgroup in its hierarchy.
local function check_within_own(cg)
  local h = cg.hierarchies
  for k, dir in pairs(cg.dirs) do
    local own = dir_of(k == "unified" and h.unified or h.v1[k], "")
    if dir:sub(1, #own + 1) ~= own .. "/" then
      error(string.format("cgroup path '%s' is outside this process's cgroup (%s)", cg.path,
        own), 0)
    end
  end
end

--- The cgroup of container config c: created at c.cgroup (default
-- "nsl/<hostname or nsl>-<pid>" below this process's cgroup) with the
-- limits c.resources. nil when c has neither. An ordinary user that may
-- not make it (or has no cgroup filesystem) gets nil and, once a process,
-- the notice (M.notice) to print; for real root with limits that is an
-- error (without limits, nil). Raises for a bad path or limit or a
-- refused value. With owned (a container this process runs, as
-- container.run's), the cgroup must lie below this process's own, and it
-- is recorded so that M.reclaim removes it should this process be killed
-- before it does (stale ones are reclaimed first).
function M.for_container(c, owned)
  if not M.any(c.resources) and not c.cgroup then return nil end
  local path = c.cgroup or string.format("nsl/%s-%d", c.hostname or "nsl", core.getpid())
  local planned, err = M.open(path)
  local errno, record
  if planned then
    if owned then
      check_within_own(planned)
      pcall(M.reclaim)
      -- only a cgroup this process makes: one that was there stays anyone's
      if not planned:exists() then record = write_record(planned) end
    end
    planned, err, errno = M.create(path, c.resources or {}, planned.hierarchies)
  end
  if planned then
    planned.record = record
    return planned
  end
  if record then core.unlink(record) end
  -- limits that cannot be applied: an ordinary user is told once and runs
  -- without, real root gets an error; without limits a cgroup is a mere
  -- convenience, and no cgroup filesystem is no error
  local privileged = core.geteuid() == 0 and userns.initial()
  local absent = errno == nil or NOT_ALLOWED[core.errno[errno]]
  if absent and not (privileged and M.any(c.resources)) then
    if M.any(c.resources) then return nil, M.notice(err) end
    return nil
  end
  local name = errno and core.errno[errno]
  error("cgroup: " .. err .. (name and " (" .. name .. ")" or ""), 0)
end

return M
