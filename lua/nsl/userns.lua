-- nsl.userns: user namespaces, their id maps, and the clone handshake.
--
-- A map is a list of { inside, outside, count } ranges, as in
-- user_namespaces(7): { { 0, 1000, 1 } } makes uid 1000 root inside.
local core = require "nsl.core"

local M = {}

--- The maps an ordinary user can write alone: 0 inside is the caller.
function M.self_maps()
  return { { 0, core.getuid(), 1 } }, { { 0, core.getgid(), 1 } }
end

--- Parse "inside:outside:count[,...]" (the --uid-map syntax) into a map.
function M.parse_map(text)
  local map = {}
  for range in tostring(text):gmatch("[^,]+") do
    local inside, outside, count = range:match("^%s*(%d+):(%d+):(%d+)%s*$")
    if not inside then
      error(string.format("bad id map '%s': want inside:outside:count, like 0:1000:1",
        text), 2)
    end
    map[#map + 1] = { tonumber(inside), tonumber(outside), tonumber(count) }
  end
  return map
end

--- The text of a map, as the kernel's uid_map wants it.
function M.format_map(map)
  local lines = {}
  for i, r in ipairs(map) do
    lines[i] = string.format("%d %d %d", r[1], r[2], r[3])
  end
  return table.concat(lines, "\n") .. "\n"
end

--- Is id (inside) covered by map?
function M.maps(map, id)
  for _, r in ipairs(map or {}) do
    if id >= r[1] and id < r[1] + r[3] then return true end
  end
  return false
end

-- One write(2), unbuffered: the kernel parses the map per write and says
-- no right there (buffered io would only say it at close).
local function write_proc(pid, name, text)
  local path = string.format("/proc/%d/%s", pid, name)
  local fd, err = core.open(path, "wronly")
  if fd then
    local n, werr = core.write(fd, text)
    fd:close()
    if n == #text then return true end
    err = werr or "short write"
  end
  return nil, string.format("write %q to %s: %s", text:gsub("\n$", ""), path,
    err:match(": ([^:]+)$") or err)
end

--- Write the maps of process pid. setgroups is "deny" unless told
-- otherwise: the kernel requires it before an unprivileged gid_map.
function M.write_maps(pid, uid_map, gid_map, setgroups)
  local ok, err = write_proc(pid, "setgroups", setgroups or "deny")
  if not ok then return nil, err end
  ok, err = write_proc(pid, "uid_map", M.format_map(uid_map))
  if not ok then return nil, err end
  return write_proc(pid, "gid_map", M.format_map(gid_map))
end

--- Fork into namespaces and hold the child until the parent is done with
-- it: with maps (a new user namespace) until they are written, so that the
-- child then runs as the mapped root. Returns the pid in the parent and 0
-- in the child. maps = { uid = map, gid = map, setgroups = "deny"|"allow" };
-- opts.pdeathsig: the signal the child gets if the parent dies, set before
-- it waits, so the parent cannot die unnoticed in between.
function M.clone(namespaces, maps, opts)
  local r, w = assert(core.pipe())
  local pid, err, errno = core.clone(namespaces)
  if not pid then
    r:close(); w:close()
    return nil, err, errno
  end
  if pid == 0 then
    w:close()
    if opts and opts.pdeathsig then core.pdeathsig(opts.pdeathsig) end
    -- EOF before the go byte: the parent died or gave up
    if r:read(1) ~= "1" then core._exit(125) end
    r:close()
    -- the creds are still the host's ids; an unmapped one would make every
    -- file the child creates fail with EOVERFLOW: become the mapped root
    if maps and M.maps(maps.gid, 0) then assert(core.setresgid(0, 0, 0)) end
    if maps and M.maps(maps.uid, 0) then assert(core.setresuid(0, 0, 0)) end
    return 0
  end
  r:close()
  if maps then
    local ok, merr = M.write_maps(pid, maps.uid, maps.gid, maps.setgroups)
    if not ok then
      w:close()
      core.wait(pid)
      return nil, merr
    end
  end
  w:write("1")
  w:close()
  return pid
end

return M
