-- nsl.oci.subcgroup: the sub-cgroups of a container's cgroup that `exec
-- --cgroup` puts a process in, with runc's syntax and rules: PATH (in
-- every hierarchy of the container's cgroup, the only argument then) or
-- CONTROLLER[,CONTROLLER]:PATH; a PATH is taken below the container's own
-- cgroup ("/" is that cgroup) and may not lead out of it.
--
--   local paths = subcgroup.parse { "memory:sub", "cpu,cpuacct:sub2" }
--   local cg = subcgroup.of(container_cgroup, paths)   -- raises for "..", an unknown controller
--   subcgroup.add(cg, pid)                            -- nil, message when one is not there
local core = require "nsl.core"
local cgroup = require "nsl.cgroup"
local common = require "nsl.oci.common"
local fail = common.fail

local M = {}

--- The sub-cgroup paths of exec's --cgroup arguments: { [""] = PATH } for
-- a PATH alone, else { [controller] = PATH }; nil for none. Raises, in
-- runc's words, for an argument with two colons, for a PATH alone beside
-- others, for an empty controller name and for a controller named twice.
function M.parse(args)
  if not args or #args == 0 then return nil end
  local paths = {}
  for _, a in ipairs(args) do
    local controllers, path = a:match("^([^:]*):([^:]*)$")
    if not controllers and a:find(":", 1, true) then fail("invalid --cgroup argument: %s", a) end
    if not controllers then
      if #args ~= 1 then fail("invalid --cgroup argument: %s (missing <controller>: prefix)", a) end
      paths[""] = a
    else
      for name in (controllers .. ","):gmatch("([^,]*),") do
        if name == "" then fail("invalid --cgroup argument: %s (empty <controller> prefix)", a) end
        if paths[name] then
          fail("invalid --cgroup argument(s): controller %s specified multiple times", name)
        end
        paths[name] = path
      end
    end
  end
  return paths
end

-- base/sub with "." and ".." resolved as path names are, or nil when
-- that leads out of base.
local function below(base, sub)
  local parts = {}
  for part in sub:gmatch("[^/]+") do
    if part == ".." then
      if #parts == 0 then return nil end
      parts[#parts] = nil
    elseif part ~= "." then
      parts[#parts + 1] = part
    end
  end
  return #parts == 0 and base or base .. "/" .. table.concat(parts, "/")
end

-- The names of cg's hierarchies, sorted, for a message.
local function names_of(cg)
  local names = {}
  for name in pairs(cg.dirs) do names[#names + 1] = name end
  table.sort(names)
  return table.concat(names, ", ")
end

-- The keys of t, sorted.
local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

--- The cgroup a process with sub-cgroup paths (M.parse's; nil: none)
-- joins: cg (the container's, nsl.cgroup) with each directory the paths
-- name replaced by the one below it. Controllers that share a hierarchy
-- (cpu,cpuacct mounted together) share a directory: a path given for one
-- is every one's there. Raises for a path that leads out of cg, for a
-- controller cg is not in and for two paths in one directory. Nothing is
-- made or checked on disk: M.add says when a directory is not there.
function M.of(cg, paths)
  if not paths then return cg end
  local function sub_dir(dir, sub)
    return below(dir, sub) or
      fail("--cgroup: %s is not a sub cgroup path (it leads out of the container's cgroup %s)", sub, dir)
  end
  local whole = paths[""]
  local moved, named_by = {}, {} -- a directory of cg's -> its sub directory, and who named it
  for _, name in ipairs(whole and {} or sorted_keys(paths)) do
    local dir = cg.dirs[name]
    if not dir then
      fail("--cgroup: unknown controller %s (the container's cgroup is in %s)", name, names_of(cg))
    end
    local sub = sub_dir(dir, paths[name])
    if moved[dir] and moved[dir] ~= sub then
      fail("--cgroup: %s and %s share the hierarchy %s: one sub path there, not %s and %s",
        named_by[dir], name, dir, paths[named_by[dir]], paths[name])
    end
    moved[dir], named_by[dir] = sub, named_by[dir] or name
  end
  local dirs = {}
  for name, dir in pairs(cg.dirs) do
    dirs[name] = whole and sub_dir(dir, whole) or moved[dir] or dir
  end
  return cgroup.from { version = cg.version, path = cg.path, dirs = dirs }
end

-- Write pid into dir's cgroup.procs: true, or nil, runc's "adding pid"
-- message and the errno.
local function add_to(dir, pid)
  local path = dir .. "/cgroup.procs"
  local call, n = "open", nil
  local fd, _, errno = core.open(path, "wronly cloexec")
  if fd then
    call = "write"
    n, _, errno = fd:write(tostring(pid))
    fd:close()
  end
  if n then return true end
  local why = errno and core.strerror(errno):gsub("^%u", string.lower) or "short write"
  return nil, string.format("adding pid %d to cgroup %s: %s %s: %s", pid, dir, call, path, why), errno
end

--- Put process pid in every directory of cg (M.of's): true, or nil, a
-- message that names the pid, the file, the call and the error (as runc's
-- "adding pid" does), and the errno.
function M.add(cg, pid)
  local done = {} -- a directory co-mounted controllers share, written once
  for _, name in ipairs(sorted_keys(cg.dirs)) do
    local dir = cg.dirs[name]
    if not done[dir] then
      done[dir] = true
      local ok, err, errno = add_to(dir, pid)
      if not ok then return nil, err, errno end
    end
  end
  return true
end

return M
