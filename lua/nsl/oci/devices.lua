-- nsl.oci.devices: the device nodes of linux.devices (made in the
-- container's root, any type, mode and owner, anywhere inside it) and the
-- device rules of linux.resources.devices (the v1 devices cgroup).
local core = require "nsl.core"
local errors = require "nsl.errors"
local util = require "nsl.util"
local common = require "nsl.oci.common"
local devrules = require "nsl.oci.devrules"
local fail, val = common.fail, common.val
local check = errors.check

local M = {}

--- OCI device types -> nsl.mknod's words ("u", unbuffered, is a char device).
M.TYPES = { c = "char", u = "char", b = "block", p = "fifo" }

-- A device entry's integer field, or the default; raises for another type.
local function integer(d, field, default)
  local v = val(d[field])
  if v == nil then return default end
  local n = math.tointeger(v)
  if not n or n < 0 then fail("linux.devices: %s of %s must be a number >= 0", field, d.path) end
  return n
end

-- Refuse a path the container's root could not hold: relative, the root
-- itself, or with a ".." (the root handle would keep it inside, but the
-- node would not be where the config says).
local function check_path(path)
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then
    fail("linux.devices: path %s is not absolute", tostring(path))
  end
  if not path:match("[^/]") then fail("linux.devices: path %s is the container's root", path) end
  for name in path:gmatch("[^/]+") do
    if name == ".." then fail("linux.devices: path %s leaves its directory (..)", path) end
  end
end

--- The nodes of an OCI linux.devices list: { path, type (nsl.mknod's
-- word), major, minor, mode (fileMode, default 0666), uid, gid } each;
-- raises for a bad entry.
function M.nodes(list)
  local nodes = {}
  for _, d in ipairs(val(list) or {}) do
    check_path(d.path)
    local kind = M.TYPES[d.type] or fail("linux.devices: type %s of %s is not c, u, b or p",
      tostring(d.type), d.path)
    local fifo = kind == "fifo"
    nodes[#nodes + 1] = { path = d.path, type = kind,
      major = integer(d, "major", fifo and 0 or nil) or fail("linux.devices: %s has no major", d.path),
      minor = integer(d, "minor", fifo and 0 or nil) or fail("linux.devices: %s has no minor", d.path),
      mode = integer(d, "fileMode", 438) & 4095, uid = integer(d, "uid", 0), gid = integer(d, "gid", 0) }
  end
  return nodes
end

--- container.devices ({ name, major, minor } in /dev) without those
-- that nodes (M.nodes) make at the same path: the config's node wins.
function M.defaults_without(defaults, nodes)
  local given = {}
  for _, n in ipairs(nodes) do given[n.path] = true end
  local list = {}
  for _, d in ipairs(defaults) do
    if not given["/dev/" .. d[1]] then list[#list + 1] = d end
  end
  return list
end

-- Is the host's node at n.path the device n asks for?
local function host_node(n)
  local st, err, errno = core.stat(n.path)
  if not st then
    error(string.format("setup step 'devices': device %s: the host has no node there to bind " ..
      "(a user namespace cannot mknod): %s", n.path, errors.explain(err, errno)), 0)
  end
  if st.type ~= n.type or (n.type ~= "fifo" and (st.major ~= n.major or st.minor ~= n.minor)) then
    error(string.format("setup step 'devices': device %s: the host's node there is %s %s:%s, " ..
      "not the %s %d:%d of the config", n.path, st.type, tostring(st.major), tostring(st.minor),
      n.type, n.major, n.minor), 0)
  end
end

-- Bind the host's node at n.path onto the same path in the root (runc's
-- and crun's way in a user namespace); the host's mode and owner stay.
local function bind_node(root, n)
  host_node(n)
  check("devices", root:touch(n.path))
  check("devices", root:bind_on(n.path, n.path))
end

-- mknod n in the root (replacing what is there), then its mode and owner.
local function make_node(root, n)
  local old = core.umask(0)
  local ok, err, errno = root:mknod(n.path, n.type, n.mode, n.major, n.minor)
  if not ok and errno == core.errno.EEXIST then
    check("devices", root:unlink(n.path))
    ok, err, errno = root:mknod(n.path, n.type, n.mode, n.major, n.minor)
  end
  core.umask(old)
  check("devices", ok, err, errno)
  check("devices", root:chmod(n.path, n.mode))
  check("devices", root:chown(n.path, n.uid, n.gid))
end

--- A setup step that makes nodes (M.nodes) in the container's root
-- through its root handle (so never on a host path bound in: EXDEV):
-- mknod as real root, a bind of the host's node at the same path in a
-- user namespace (c.userns, or c.bind_devices when nsl runs in one).
function M.step(nodes)
  return function(c)
    local root = require("nsl.container").root_of(c)
    for _, n in ipairs(nodes) do
      local dir = n.path:match("^(.+)/[^/]+$")
      if dir then check("devices", root:mkdir_all(dir)) end
      if c.userns or c.bind_devices then bind_node(root, n) else make_node(root, n) end
    end
  end
end

--- A read-only /dev of the config (a new filesystem, not a bind) is
-- mounted read-write in mounts (c.mounts entries) so that its nodes,
-- links and mount points can be made: true when one was, for
-- M.readonly_dev_step to remount it read-only last, as runc does.
function M.writable_dev(mounts)
  local entry
  for _, m in ipairs(mounts) do
    if m.target:gsub("/+$", "") == "/dev" then entry = m end -- the last is on top
  end
  if not entry or not entry.fstype or not util.has_word(entry.flags, "rdonly") then
    return false
  end
  local words = {}
  for w in entry.flags:gmatch("[^%s,|]+") do -- util.has_word's words
    if w ~= "rdonly" then words[#words + 1] = w end
  end
  entry.flags = table.concat(words, " ")
  return true
end

--- The step that remounts /dev read-only (M.writable_dev), once
-- everything in it is made.
function M.readonly_dev_step(c)
  check("readonly_dev", require("nsl.container").root_of(c):remount("/dev", "rdonly"))
end

--- The step that gives the container's pty (c.tty_fd, also bound onto
-- /dev/console) to the process's user and the tty group (gid 5; the
-- process's gid where 5 is not mapped), mode 0620, as runc and crun do:
-- the pty nsl allocated for the container, by its fd, never another tty.
function M.console_step(c)
  if not c.tty_fd then return end
  local pty = c.tty_fd -- by the fd: /proc may be the container's
  local user = c.user or { uid = 0, gid = 0 }
  local ok, err, errno = pty:chown(user.uid, 5)
  if not ok and (errno == core.errno.EINVAL or errno == core.errno.EPERM) then
    ok, err, errno = pty:chown(user.uid, user.gid) -- gid 5 is not mapped here
  end
  check("console", ok, err, errno)
  check("console", pty:chmod("0620"))
end

-- The host's id for id inside map ({ { inside, outside, count }, ... }), or nil.
local function host_id(map, id)
  for _, r in ipairs(map or {}) do
    if id >= r[1] and id < r[1] + r[3] then return r[2] + id - r[1] end
  end
end

--- In the parent, before the container's process goes on: a pty of the
-- host's devpts belongs to the caller, whom the container's user namespace
-- need not map, and then console_step inside cannot chown it (EPERM). As
-- root, give it first to the host ids the process's user and the tty
-- group (else the process's gid) map onto. Returns true, or nil, message.
function M.console_to_mapped(c)
  if not (c.tty_fd and c.userns and core.geteuid() == 0) then return true end
  local user = c.user or { uid = 0, gid = 0 }
  local uid = host_id(c.uid_map, user.uid)
  local gid = host_id(c.gid_map, 5) or host_id(c.gid_map, user.gid)
  if not (uid and gid) then
    return nil, string.format("console: user %d:%d is not mapped in the user namespace",
      user.uid, user.gid)
  end
  local ok, err = c.tty_fd:chown(uid, gid)
  if not ok then return nil, "console: " .. tostring(err) end
  return true
end

--- The step that gives an exec's pty (opened in the container's own
-- devpts, whose gid and mode the config chose) to the process's user,
-- as runc does.
function M.exec_console_step(c)
  if not c.tty_fd or not c.user then return end
  check("console", c.tty_fd:chown(c.user.uid, nil)) -- by the fd: /proc is the container's
end

---------------------------------------------------------------------------
-- the devices cgroup

--- The devices every container gets (runc's AllowedDevices): mknod of
-- any node, the default nodes, the ptys, /dev/console and /dev/net/tun.
M.DEFAULT_ALLOW = { "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
  "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm" }

-- A rule's major or minor as the kernel's text: a number or "*".
local function number_or_any(v, what)
  v = val(v)
  if v == nil or v == -1 then return "*" end
  local n = math.tointeger(v)
  if not n or n < 0 then fail("linux.resources.devices: %s %s is not a number", what, tostring(v)) end
  return tostring(n)
end

--- The lines of linux.resources.devices for a v1 devices cgroup, in
-- order: { { "devices.allow" or "devices.deny", "c 1:3 rwm" }, ... }. The
-- default allow list (M.DEFAULT_ALLOW) follows the last rule that denies
-- every device (a config's "deny all first"), so the config's later rules
-- still deny one of them (runc appends it last, where none can).
function M.cgroup_lines(list)
  local lines, after = {}, nil
  for _, r in ipairs(val(list) or {}) do
    local kind = val(r.type) or "a"
    if kind ~= "a" and kind ~= "c" and kind ~= "b" then
      fail("linux.resources.devices: type %s is not a, c or b", tostring(kind))
    end
    local access = val(r.access) or "rwm"
    -- letters besides r, w and m count for nothing, as in runc (whose
    -- own test writes "rwa"); an access with none of them is refused
    access = type(access) == "string" and devrules.access(access) or ""
    if access == "" then
      fail("linux.resources.devices: access %s has none of r, w and m", tostring(val(r.access)))
    end
    local file = val(r.allow) == true and "devices.allow" or "devices.deny"
    lines[#lines + 1] = { file, string.format("%s %s:%s %s", kind, number_or_any(r.major, "major"),
      number_or_any(r.minor, "minor"), access) }
    if kind == "a" and file == "devices.deny" then after = #lines end
  end
  if after then
    for i, line in ipairs(M.DEFAULT_ALLOW) do table.insert(lines, after + i, { "devices.allow", line }) end
  end
  return lines
end

-- The lines (M.cgroup_lines) as a device program (nsl.devbpf: the same
-- rules, in the same order), loaded now, and the function that attaches
-- it to the cgroup v2 directory dir.
local function load_program(lines)
  local devbpf = require "nsl.devbpf"
  local rules = {}
  for i, line in ipairs(lines) do rules[i] = assert(devbpf.rule(line[2], line[1] == "devices.allow")) end
  local prog, err, errno = devbpf.load(rules)
  if not prog then fail("linux.resources.devices: %s", errors.explain(err, errno)) end
  return prog
end

local function device_program(dir, lines)
  local devbpf = require "nsl.devbpf"
  local prog = load_program(lines)
  return function()
    local ok, aerr, aerrno = devbpf.attach(dir, prog)
    prog:close()
    if not ok then fail("linux.resources.devices: %s", errors.explain(aerr, aerrno)) end
  end
end

--- Apply linux.resources.devices to the container's cgroup cg. On v1
-- (and a hybrid host), before its process is put there: its directory in
-- the devices hierarchy is made and joins cg.dirs (so add, save and
-- remove take it), then the rules are written in order. On v2 (or where
-- no v1 devices hierarchy is mounted, on the cgroup's unified directory),
-- the rules become a device program (nsl.devbpf), loaded here; the
-- function returned attaches it, to be called once the container's own
-- nodes are made and before its command runs (runc sets its device rules
-- at that point too: the program may deny mknod of them). Raises where
-- neither can be applied, and without a cgroup under euid 0 (in a user
-- namespace too: fail closed); without a cgroup for an ordinary user
-- (rootless, told already) warn(message).
function M.apply_cgroup(cg, list, warn)
  local lines = M.cgroup_lines(list)
  if #lines == 0 then return end
  if not cg then
    if core.geteuid() == 0 then
      fail("linux.resources.devices: the container has no cgroup to apply them in")
    end
    if warn then warn("linux.resources.devices not applied: the container has no cgroup") end
    return
  end
  local dir = cg:v1_dir("devices")
  if not dir and cg.dirs.unified then return device_program(cg.dirs.unified, lines) end
  if not dir then
    fail("linux.resources.devices: no v1 devices cgroup hierarchy is mounted and the container " ..
      "has no cgroup v2 directory for a device program")
  end
  local ok, err, errno = util.mkdir_all(dir, "0755", cg.made or {}) -- its own, to remove
  if not ok then fail("linux.resources.devices: %s", errors.explain(err, errno)) end
  cg.dirs.devices = dir
  for _, line in ipairs(lines) do
    ok, err, errno = util.write_once(dir .. "/" .. line[1], line[2])
    if not ok then
      fail("linux.resources.devices: %s '%s': %s", line[1], line[2], errors.explain(err, errno))
    end
  end
end

-- Write each of writes ({ file, line }) into dir in order, applying it
-- to the rule set done too; nil, the write and the message at the first
-- the kernel refuses, and how many went in before it.
local function write_all(dir, writes, done)
  for i, w in ipairs(writes) do
    local ok, err, errno = util.write_once(dir .. "/" .. w[1], w[2])
    if not ok then return nil, w, errors.explain(err, errno), i - 1 end
    if done then devrules.apply(done, w[1], w[2]) end
  end
  return true
end

-- Does a transition start by allowing or denying every device?
local function starts_with_all(writes)
  return writes[1] ~= nil and writes[1][2]:match("^a ") ~= nil
end

--- Change the device rules of a running container's v1 devices cgroup to
-- those of list (linux.resources.devices, as M.apply_cgroup applies them
-- at its creation: onto the rules its parent cgroup has) with the fewest
-- writes (nsl.oci.devrules.transition): a device the old and the new
-- rules both allow stays allowed while they change, and one both deny
-- stays denied. devices.list does not show the exceptions of a cgroup
-- that allows every device: then the rules come from kept (the list
-- nsl-oci applied last). A transition that must first allow or deny
-- every device runs with the container frozen; a write the kernel
-- refuses has the old rules written back. Checks the result against
-- devices.list. Where there is no v1 devices hierarchy, the device
-- program of the container's cgroup v2 directory is replaced by one of
-- list (nsl.devbpf.replace: the new one attached before the old one goes).
-- Raises for a container with neither (fail closed).
function M.update_cgroup(cg, list, kept)
  local dir = cg.dirs.devices
  local h = cg.hierarchies or require("nsl.cgroup").hierarchies()
  local v1_devices = cg.version == 1 and h and h.v1 and h.v1.devices
  if not dir and not v1_devices and cg.dirs.unified then
    local prog <close> = load_program(M.cgroup_lines(list))
    local ok, err, errno = require("nsl.devbpf").replace(cg.dirs.unified, prog)
    if not ok then fail("update: linux.resources.devices: %s", errors.explain(err, errno)) end
    return
  end
  if not dir then
    fail("update: linux.resources.devices: the container has no v1 devices cgroup to change " ..
      "(it was made without device rules)")
  end
  local function rules_of(path)
    local text, err, errno = util.read_file(path)
    if not text then fail("update: linux.resources.devices: %s", errors.explain(err, errno)) end
    local set, perr = devrules.parse(text)
    if not set then fail("update: linux.resources.devices: %s: %s", path, perr) end
    return set
  end
  local parent = rules_of(dir:match("^(.*)/[^/]+$") .. "/devices.list")
  local function onto_parent(lines)
    local set = devrules.copy(parent)
    for _, line in ipairs(lines) do assert(devrules.apply(set, line[1], line[2])) end
    return set
  end
  local target = onto_parent(M.cgroup_lines(list))
  local from = rules_of(dir .. "/devices.list")
  if from.unlisted and kept then
    local known = onto_parent(M.cgroup_lines(kept))
    if known.allow_all and not known.unlisted then from = known end
  end
  local writes = devrules.transition(from, target)
  local thaw = function() return true end
  local function hold()
    if cg:frozen() then return end -- paused, or frozen here already
    local ok, err = cg:freeze()
    if not ok then
      fail("update: linux.resources.devices: cannot freeze the container while its rules " ..
        "allow or deny every device: %s", err)
    end
    thaw = function() return cg:thaw() end
  end
  if starts_with_all(writes) then hold() end
  local now = devrules.copy(from)
  local ok, failed, err, written = write_all(dir, writes, now)
  if not ok then
    local back_ok = true
    if written > 0 then
      local back = devrules.transition(now, from)
      if starts_with_all(back) then pcall(hold) end
      back_ok = write_all(dir, back)
    end
    thaw()
    fail("update: linux.resources.devices: %s '%s': %s%s", failed[1], failed[2], err,
      back_ok and "" or " (and the old rules could not all be written back)")
  end
  local thawed, terr = thaw()
  if not thawed then fail("update: linux.resources.devices: cannot thaw the container: %s", terr) end
  if not devrules.same(rules_of(dir .. "/devices.list"), target) then
    fail("update: linux.resources.devices: %s/devices.list is not what the rules make", dir)
  end
end

return M
