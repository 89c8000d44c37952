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
-- runc's words, for an argument with two colons and for a PATH alone
-- beside others.
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
      for name in (controllers .. ","):gmatch("([^,]*),") do paths[name] = path end
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

--- The cgroup a process with sub-cgroup paths (M.parse's; nil: none)
-- joins: cg (the container's, nsl.cgroup) with each directory the paths
-- name replaced by the one below it. Raises for a path that leads out of
-- cg and for a controller cg is not in. Nothing is made or checked on
-- disk: M.add says when a directory is not there.
function M.of(cg, paths)
  if not paths then return cg end
  local dirs = {}
  for name, dir in pairs(cg.dirs) do dirs[name] = dir end
  local function put(name, sub)
    dirs[name] = below(cg.dirs[name], sub) or
      fail("--cgroup: %s is not a sub cgroup path (it leads out of the container's cgroup %s)",
        sub, cg.dirs[name])
  end
  if paths[""] then
    for name in pairs(cg.dirs) do put(name, paths[""]) end
  else
    for name, sub in pairs(paths) do
      if not cg.dirs[name] then
        fail("--cgroup: unknown controller %s (the container's cgroup is in %s)", name, names_of(cg))
      end
      put(name, sub)
    end
  end
  return cgroup.from { version = cg.version, path = cg.path, dirs = dirs }
end

--- Put process pid in every directory of cg (M.of's): true, or nil, a
-- message that names the pid, the file, the call and the error (as runc's
-- "adding pid" does), and the errno.
function M.add(cg, pid)
  for _, dir in pairs(cg.dirs) do
    local path = dir .. "/cgroup.procs"
    local call, n = "open", nil
    local fd, _, errno = core.open(path, "wronly cloexec")
    if fd then
      call = "write"
      n, _, errno = fd:write(tostring(pid))
      fd:close()
    end
    if not n then
      local why = errno and core.strerror(errno):gsub("^%u", string.lower) or "short write"
      return nil, string.format("adding pid %d to cgroup %s: %s %s: %s", pid, dir, call, path, why), errno
    end
  end
  return true
end

return M
