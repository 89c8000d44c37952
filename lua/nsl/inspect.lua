-- nsl.inspect: the state of namespaces and mounts as Lua data.
--
--   local t = nsl.mountinfo()            -- this process's mount table
--   for _, m in ipairs(t) do print(m.target, m.fstype, m.propagation) end
--   nsl.mount_diff(before, nsl.mountinfo())
--   nsl.namespaces()                     -- { mnt = 4026531841, pid = ..., ... }
local core = require "nsl.core"

local M = {}

-- mountinfo escapes space, tab, newline and backslash as \ooo
local function unescape(s)
  return (s:gsub("\\(%d%d%d)", function(o) return string.char(tonumber(o, 8)) end))
end

local function split_options(s)
  local list = {}
  for opt in s:gmatch("[^,]+") do list[#list + 1] = opt end
  return list
end

-- "shared:1 master:2" -> "shared", "slave", "private" or "unbindable",
-- with the peer group numbers
local function propagation(fields)
  local kind, shared, master = "private", nil, nil
  for f in fields:gmatch("%S+") do
    local tag, n = f:match("^([%w_]+):?(%d*)$")
    if tag == "shared" then shared = tonumber(n); kind = "shared"
    elseif tag == "master" then master = tonumber(n); if not shared then kind = "slave" end
    elseif tag == "unbindable" then kind = "unbindable" end
  end
  return kind, shared, master
end

--- Parse one line of /proc/PID/mountinfo (see proc(5)) into a table.
function M.parse_mountinfo_line(line)
  local id, parent, major, minor, root, target, options, optional, fstype, source, super =
    line:match("^(%d+) (%d+) (%d+):(%d+) (%S+) (%S+) (%S+)(.-) %- (%S+) (%S+) ?(%S*)$")
  if not id then return nil end
  local kind, shared, master = propagation(optional)
  return {
    id = tonumber(id), parent = tonumber(parent),
    major = tonumber(major), minor = tonumber(minor),
    root = unescape(root), target = unescape(target),
    options = split_options(options), fstype = fstype,
    source = unescape(source), super_options = split_options(super),
    propagation = kind, shared = shared, master = master,
  }
end

--- The mount table of process pid (default: this one) as a list of
-- { id, parent, major, minor, root, target, options, propagation, shared,
-- master, fstype, source, super_options }, in the kernel's order.
function M.mountinfo(pid)
  local path = string.format("/proc/%s/mountinfo", pid or "self")
  local f, err = io.open(path, "r")
  if not f then return nil, err end
  local list = {}
  for line in f:lines() do
    list[#list + 1] = M.parse_mountinfo_line(line)
  end
  f:close()
  return list
end

--- The mount at target in a mount table (the last, the one on top).
function M.find_mount(table_, target)
  local found
  for _, m in ipairs(table_) do
    if m.target == target then found = m end
  end
  return found
end

local function mount_key(m)
  return string.format("%s %s %s %s", m.target, m.fstype, m.source, m.root)
end

local function describe(m)
  return string.format("%s %s %s (%s)", m.target, m.fstype, m.source, table.concat(m.options, ","))
end

--- What changed between two mount tables: { added = {mounts},
-- removed = {mounts}, changed = { {before, after} } } (options or
-- propagation), matching mounts by target, type, source and root.
function M.mount_diff(before, after)
  local old, new = {}, {}
  for _, m in ipairs(before) do old[mount_key(m)] = m end
  for _, m in ipairs(after) do new[mount_key(m)] = m end
  local diff = { added = {}, removed = {}, changed = {} }
  for _, m in ipairs(after) do
    local was = old[mount_key(m)]
    if not was then
      diff.added[#diff.added + 1] = m
    elseif table.concat(was.options, ",") ~= table.concat(m.options, ",")
      or was.propagation ~= m.propagation then
      diff.changed[#diff.changed + 1] = { was, m }
    end
  end
  for _, m in ipairs(before) do
    if not new[mount_key(m)] then diff.removed[#diff.removed + 1] = m end
  end
  return diff
end

--- A mount diff as text: "+ added", "- removed", "~ changed" lines.
function M.format_diff(diff)
  local lines = {}
  for _, m in ipairs(diff.added) do lines[#lines + 1] = "+ " .. describe(m) end
  for _, m in ipairs(diff.removed) do lines[#lines + 1] = "- " .. describe(m) end
  for _, c in ipairs(diff.changed) do
    lines[#lines + 1] = string.format("~ %s: %s %s -> %s %s", c[2].target,
      table.concat(c[1].options, ","), c[1].propagation,
      table.concat(c[2].options, ","), c[2].propagation)
  end
  return table.concat(lines, "\n")
end

--- A mount table as findmnt-like text: target, fstype, source, options,
-- propagation, one mount a line.
function M.format_mounts(table_)
  local lines = {}
  for _, m in ipairs(table_) do
    lines[#lines + 1] = string.format("%-24s %-8s %-12s %-10s %s", m.target, m.fstype,
      m.source, m.propagation, table.concat(m.options, ","))
  end
  return table.concat(lines, "\n")
end

M.NAMESPACES = { "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts" }

--- The namespaces of process pid (default: this one): { mnt = inode, ... }
-- from the /proc/PID/ns links; two processes share a namespace when the
-- numbers are equal.
function M.namespaces(pid)
  local ns = {}
  for _, name in ipairs(M.NAMESPACES) do
    local link = core.readlink(string.format("/proc/%s/ns/%s", pid or "self", name))
    if link then ns[name] = tonumber(link:match("%[(%d+)%]")) end
  end
  return ns
end

return M
