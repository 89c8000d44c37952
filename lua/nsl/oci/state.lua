-- nsl.oci.state: the state directory (ROOT/ID/state.json) and what it
-- says of a container: its status, its processes, the ids.
local core = require "nsl.core"
local cgroup = require "nsl.cgroup"
local util = require "nsl.util"
local json = require "dkjson"
local common = require "nsl.oci.common"
local fail = common.fail
local object = common.object
local read_all = common.read_all
local write_atomic = common.write_atomic
local proc_stat = common.proc_stat
local val = common.val
local nested_userns = common.nested_userns

local M = {}

---------------------------------------------------------------------------
-- state

--- The default state directory: /run/nsl-oci for real root, else (an
-- ordinary user, or root of rootless podman's user namespace)
-- $XDG_RUNTIME_DIR/nsl-oci or /tmp/nsl-oci-UID.
function M.default_root()
  if core.geteuid() == 0 and not nested_userns() then return "/run/nsl-oci" end
  local xdg = os.getenv("XDG_RUNTIME_DIR")
  if xdg and xdg:sub(1, 1) == "/" and core.access(xdg, "w") then return xdg .. "/nsl-oci" end
  return string.format("/tmp/nsl-oci-%d", core.geteuid())
end

--- Whether id is a valid container ID (letters, digits, _+-., up to 1024).
function M.valid_id(id)
  return type(id) == "string" and id:match("^[%w][%w_+%-%.]*$") ~= nil and #id <= 1024
end

--- mkdir -p with mode (default 0711); raises when it cannot.
function M.mkdir_p(path, mode)
  local ok, err = util.mkdir_all(path, mode or "0711")
  if not ok then fail("%s", err) end
end

--- The state directory of container id under root.
function M.dir_of(root, id) return root .. "/" .. id end

--- The saved state of container id, or raises "container ID does not exist".
function M.load(root, id)
  if not M.valid_id(id) then fail("invalid container ID '%s'", tostring(id)) end
  local text = read_all(M.dir_of(root, id) .. "/state.json")
  local st = text and json.decode(text, 1, json.null)
  if type(st) ~= "table" then fail("container %s does not exist", id) end
  st.root = root
  return st
end

--- Write st (a container's state) to its state.json.
function M.save(st)
  local copy = {}
  for k, v in pairs(st) do if k ~= "root" then copy[k] = v end end
  write_atomic(M.dir_of(st.root, st.id) .. "/state.json", json.encode(copy))
end

--- The cgroup of st (nsl.cgroup), when it has one.
function M.cgroup_of(st)
  return st.cgroup and val(st.cgroup) and cgroup.from(st.cgroup) or nil
end

--- Is the container's first process alive (and the same process)?
function M.alive(st)
  if not st.pid or st.pid <= 0 then return false end
  local start, state = proc_stat(st.pid)
  return start ~= nil and start == st.start and state ~= "Z" and state ~= "X"
end

--- The status of a loaded state: created, running, paused or stopped.
function M.status(st)
  if not M.alive(st) then return "stopped" end
  if core.lstat(M.dir_of(st.root, st.id) .. "/exec.fifo") then return "created" end
  local cg = M.cgroup_of(st)
  if cg and cg:frozen() then return "paused" end
  return "running"
end

--- The state object `state` prints (and hooks read).
function M.state_object(st, status)
  status = status or M.status(st)
  return { ociVersion = common.spec_version, id = st.id, status = status,
    pid = status ~= "stopped" and st.pid or 0, bundle = st.bundle,
    rootfs = st.rootfs, created = st.created, owner = st.owner or "",
    annotations = object(val(st.config and st.config.annotations) or {}) }
end

-- Was a pid namespace made for the container (not one given by path, not
-- the caller's)? Only then are all of its processes the container's.
local function own_pid_namespace(st)
  local linux = val(st.config and st.config.linux) or {}
  for _, ns in ipairs(val(linux.namespaces) or {}) do
    if ns.type == "pid" and not val(ns.path) then return true end
  end
  return false
end

-- The pid namespace of process pid ("pid:[INODE]"), or nil.
local function pid_namespace_of(pid)
  return core.readlink(string.format("/proc/%d/ns/pid", pid))
end

--- The processes (host pids, sorted) in pid namespace ns (as
-- M.first_process gives it).
function M.pids_in_namespace(ns)
  local list = {}
  for _, name in ipairs(core.readdir("/proc") or {}) do
    local pid = math.tointeger(tonumber(name))
    if pid and pid_namespace_of(pid) == ns then list[#list + 1] = pid end
  end
  table.sort(list)
  return list
end

--- The container's processes (host pids): its cgroup's, else those in its
-- pid namespace when that is its own (an ordinary user without a cgroup),
-- else its first process alone.
function M.pids(st)
  local cg = M.cgroup_of(st)
  if cg and cg:exists() then return cg:procs() end
  if not M.alive(st) then return {} end
  if not own_pid_namespace(st) then return { st.pid } end
  return M.pids_in_namespace(pid_namespace_of(st.pid))
end

--- The container's first process held for good: a pidfd of it (signal it
-- with core.pidfd_send_signal; a later process with its number is never
-- reached), and the pid namespace made for the container ("pid:[INODE]",
-- nil when it has none of its own) with an fd that keeps that namespace
-- (and so its inode number) from going while it is open. nil when the
-- process is gone or its number is another process's now.
function M.first_process(st)
  if not st.pid or st.pid <= 0 then return nil end
  local pidfd = core.pidfd_open(st.pid)
  if not pidfd then return nil end
  local ns, ns_fd
  if own_pid_namespace(st) then
    ns_fd = core.open(string.format("/proc/%d/ns/pid", st.pid), "rdonly cloexec")
    ns = pid_namespace_of(st.pid)
  end
  -- the pidfd (and the namespace) first, the start time after: a match
  -- then means the number was this process's all along
  local start = proc_stat(st.pid)
  if start == nil or start ~= st.start or (ns_fd == nil) ~= (ns == nil) then
    pidfd:close()
    if ns_fd then ns_fd:close() end
    return nil
  end
  return { pidfd = pidfd, ns = ns, ns_fd = ns_fd }
end

--- Close what M.first_process opened (nil: nothing).
function M.release(first)
  if not first then return end
  first.pidfd:close()
  if first.ns_fd then first.ns_fd:close() end
end

--- The ids of the containers in root, sorted.
function M.ids(root)
  local ids = {}
  for _, name in ipairs(core.readdir(root) or {}) do
    if M.valid_id(name) and core.lstat(M.dir_of(root, name) .. "/state.json") then ids[#ids + 1] = name end
  end
  table.sort(ids)
  return ids
end

return M
