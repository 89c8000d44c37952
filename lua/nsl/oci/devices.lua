-- nsl.oci.devices: the device nodes of linux.devices (made in the
-- container's root, any type, mode and owner, anywhere inside it) and the
-- device rules of linux.resources.devices (the v1 devices cgroup).
local core = require "nsl.core"
local errors = require "nsl.errors"
local common = require "nsl.oci.common"
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

return M
