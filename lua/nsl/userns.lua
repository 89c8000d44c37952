-- nsl.userns: user namespaces, their id maps, and the clone handshake.
--
-- A map is a list of { inside, outside, count } ranges, as in
-- user_namespaces(7): { { 0, 1000, 1 } } makes uid 1000 root inside.
local core = require "nsl.core"
local process = require "nsl.process"

local M = {}

--- Is this process in the initial user namespace (the host's, whose
-- uid_map maps every id onto itself)?
function M.initial()
  local f = io.open("/proc/self/uid_map")
  local map = f and f:read("a") or ""
  if f then f:close() end
  return map:match("^%s*0%s+0%s+4294967295%s*$") ~= nil
end

--- The maps an ordinary user can write alone: 0 inside is the caller.
function M.self_maps()
  return { { 0, core.getuid(), 1 } }, { { 0, core.getgid(), 1 } }
end

-- One range of a map, as numbers the kernel takes: ids 0..4294967294
-- ((uid_t)-1 is no id), a count of at least 1, neither side past the last id.
local ID_MAX = 4294967294
local function checked_range(text, inside, outside, count)
  local i, o, n = math.tointeger(tonumber(inside)), math.tointeger(tonumber(outside)),
    math.tointeger(tonumber(count))
  if not (i and o and n) or n < 1 or i + n - 1 > ID_MAX or o + n - 1 > ID_MAX then
    error(string.format("bad id map '%s': ids are 0..%d and a count at least 1",
      text, ID_MAX), 3)
  end
  return { i, o, n }
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
    map[#map + 1] = checked_range(text, inside, outside, count)
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
  local path = string.format("/proc/%s/%s", pid, name)
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

--- The files that grant an ordinary user ranges of subordinate ids
-- (subuid(5), subgid(5)); newuidmap and newgidmap read the same.
M.subid_files = { uid = "/etc/subuid", gid = "/etc/subgid" }

--- The setuid helpers that write a map an ordinary user may not write
-- alone (Debian's uidmap package): a name looked up on PATH, or a path.
M.helpers = { uid = "newuidmap", gid = "newgidmap" }

--- A map in the --uid-map syntax, for messages: "0:1000:1,1:100000:65536".
function M.map_text(map)
  local ranges = {}
  for i, r in ipairs(map or {}) do ranges[i] = string.format("%d:%d:%d", r[1], r[2], r[3]) end
  return table.concat(ranges, ",")
end

--- The name of uid in the host's /etc/passwd (newuidmap finds the caller
-- by getpwuid the same way), or nil.
function M.user_name(uid)
  local f = io.open("/etc/passwd")
  if not f then return nil end
  for line in f:lines() do
    local name, id = line:match("^([^:]*):[^:]*:(%d+):")
    if id and tonumber(id) == uid then
      f:close()
      return name
    end
  end
  f:close()
end
local user_name = M.user_name

--- The ranges { start, count } that /etc/subuid (kind "uid") or /etc/subgid
-- (kind "gid") grants the calling user, by name or by uid, in file order.
function M.subordinate_ranges(kind)
  local ranges = {}
  local f = io.open(M.subid_files[kind])
  if not f then return ranges end
  local uid = tostring(core.getuid())
  local name -- looked up in /etc/passwd once a line names another user
  for line in f:lines() do
    local who, start, count = line:match("^%s*([^:#%s][^:]*):(%d+):(%d+)%s*$")
    if who and who ~= uid and name == nil then name = user_name(tonumber(uid)) or false end
    if who and (who == uid or who == name) then
      ranges[#ranges + 1] = { tonumber(start), tonumber(count) }
    end
  end
  f:close()
  return ranges
end

--- The path of the helper for kind ("uid": newuidmap, "gid": newgidmap),
-- or nil and a message naming the package.
function M.helper(kind)
  local name = M.helpers[kind]
  local dirs = (os.getenv("PATH") or "") .. ":/usr/bin:/bin:/usr/sbin:/sbin"
  if name:find("/", 1, true) then
    if core.access(name, "x") then return name end
  else
    for dir in dirs:gmatch("[^:]+") do
      if core.access(dir .. "/" .. name, "x") then return dir .. "/" .. name end
    end
  end
  return nil, string.format("%s not found%s (Debian's uidmap package: apt-get install uidmap)",
    name, name:find("/", 1, true) and "" or " on PATH")
end

--- The maps an ordinary user gets by default: itself as root and, when
-- /etc/subuid and /etc/subgid grant it ranges and newuidmap and newgidmap
-- are installed, its first granted ranges as ids 1 and up (as podman does).
function M.default_maps()
  local uid_map, gid_map = M.self_maps()
  local sub_uid, sub_gid = M.subordinate_ranges("uid")[1], M.subordinate_ranges("gid")[1]
  if sub_uid and sub_gid and M.helper("uid") and M.helper("gid") then
    uid_map[2] = { 1, sub_uid[1], sub_uid[2] }
    gid_map[2] = { 1, sub_gid[1], sub_gid[2] }
  end
  return uid_map, gid_map
end

-- Can an ordinary user write map alone? Only one line that maps its own
-- effective id: see "Defining user and group ID mappings" in
-- user_namespaces(7).
local function own_only(map, id)
  return #map == 1 and map[1][3] == 1 and map[1][2] == id
end

-- Is every range of map the caller's own id (count 1) or inside a range
-- that /etc/subuid (/etc/subgid) grants it, as newuidmap requires? Else
-- nil and a message saying what is granted.
local function covered(kind, map)
  local uid = core.getuid()
  local own = kind == "uid" and uid or core.getgid()
  local granted = M.subordinate_ranges(kind)
  for _, r in ipairs(map) do
    local ok = r[3] == 1 and r[2] == own
    for _, g in ipairs(granted) do
      if r[2] >= g[1] and r[2] + r[3] <= g[1] + g[2] then ok = true end
    end
    if not ok then
      local have = {}
      for i, g in ipairs(granted) do have[i] = g[1] .. ":" .. g[2] end
      return nil, string.format("%s map %s: the range %d:%d:%d is not covered by %s, " ..
        "which grants user %s (uid %d) %s", kind, M.map_text(map), r[1], r[2], r[3],
        M.subid_files[kind], user_name(uid) or "?", uid,
        #have > 0 and table.concat(have, ", ") or "no range")
    end
  end
  return true
end

-- Write map through newuidmap or newgidmap; nil and its message on failure.
local function run_helper(kind, path, pid, map)
  local args = {}
  for i, r in ipairs(map) do args[i] = string.format("%d %d %d", r[1], r[2], r[3]) end
  local cmd = string.format("%s %d %s", path, pid, table.concat(args, " "))
  local quoted = "'" .. path:gsub("'", "'\\''") .. "'"
  local p = io.popen(string.format("%s %d %s 2>&1", quoted, pid, table.concat(args, " ")))
  local out = p:read("a")
  local ok, how, code = p:close()
  if ok then return true end
  return nil, string.format("%s map %s: %s failed (%s %d): %s", kind, M.map_text(map), cmd,
    how, code, (out:gsub("%s+$", "")))
end

-- Write the map of kind ("uid" or "gid") itself or through its helper.
local function write_map(kind, pid, map, alone, helper)
  if alone then return write_proc(pid, kind .. "_map", M.format_map(map)) end
  return run_helper(kind, helper, pid, map)
end

--- Write the maps of process pid. Real root writes any map itself; an
-- ordinary user writes a map of its own id alone and has newuidmap and
-- newgidmap write the others (within /etc/subuid and /etc/subgid).
-- setgroups: "deny" or "allow" to write it; by default "deny" before an
-- ordinary user's own gid map (the kernel requires it), else untouched
-- (newgidmap denies it itself unless /etc/subgid grants the ranges).
-- Everything is checked before anything is written.
function M.write_maps(pid, uid_map, gid_map, setgroups)
  local root = core.geteuid() == 0
  local alone = { uid = root or own_only(uid_map, core.geteuid()),
    gid = root or own_only(gid_map, core.getegid()) }
  local maps, helpers = { uid = uid_map, gid = gid_map }, {}
  for _, kind in ipairs { "uid", "gid" } do
    if not alone[kind] then
      local ok, err = covered(kind, maps[kind])
      if not ok then return nil, err end
      helpers[kind], err = M.helper(kind)
      if not helpers[kind] then
        return nil, string.format("%s map %s: an ordinary user needs new%smap for more " ..
          "than its own id: %s", kind, M.map_text(maps[kind]), kind, err)
      end
    end
  end
  setgroups = setgroups or (not root and alone.gid and "deny") or nil
  if setgroups then
    local ok, err = write_proc(pid, "setgroups", setgroups)
    if not ok then return nil, err end
  end
  local ok, err = write_map("uid", pid, uid_map, alone.uid, helpers.uid)
  if not ok then return nil, err end
  return write_map("gid", pid, gid_map, alone.gid, helpers.gid)
end

-- Can the child write maps itself, as bwrap's does? An ordinary user's own
-- ids only (user_namespaces(7)), with setgroups denied as the kernel
-- requires for the gid map; else the parent writes them.
local function child_writes(maps)
  return core.geteuid() ~= 0 and (maps.setgroups or "deny") == "deny" and
    own_only(maps.uid, core.geteuid()) and own_only(maps.gid, core.getegid())
end

-- In the child, in its new user namespace: its own maps (child_writes).
local function write_own_maps(maps)
  for _, file in ipairs { { "setgroups", "deny" }, { "uid_map", M.format_map(maps.uid) },
    { "gid_map", M.format_map(maps.gid) } } do
    local ok, err = write_proc("self", file[1], file[2])
    if not ok then error(err, 0) end
  end
end

-- In the child, once the maps are written: become the mapped root; the
-- creds are still the host's ids, and an unmapped one would make
-- every file the child creates fail with EOVERFLOW.
local function become_mapped_root(maps)
  if maps and M.maps(maps.gid, 0) then assert(core.setresgid(0, 0, 0)) end
  if maps and M.maps(maps.uid, 0) then assert(core.setresuid(0, 0, 0)) end
end

-- The child's side of the handshake: wait for the parent's go byte (r), or,
-- with nothing to wait for, make sure the parent (alive, its pidfd) did not
-- die before the parent-death signal was set.
local function child_start(r, alive, maps, opts)
  if opts.pdeathsig then core.pdeathsig(opts.pdeathsig) end
  if r then
    -- EOF before the go byte: the parent died or gave up
    if r:read(1) ~= "1" then core._exit(125) end
    r:close()
  else
    local ready = core.poll({ alive }, 0)
    if not ready or ready[1] then core._exit(125) end
    alive:close()
  end
  local ok, cerr = pcall(function()
    if maps and not r then write_own_maps(maps) end -- child_writes(maps)
    if opts.before_root then opts.before_root() end
    become_mapped_root(maps)
  end)
  -- a failure here must not return into the caller's code as a child:
  -- end it, as process.child does
  if not ok then process.child(nil, error, cerr, 0) end
end

--- Fork into namespaces; the child goes on once the parent is done with it
-- (maps written, opts.prepare run), at once when there is nothing to do.
-- With maps (a new user namespace) the child then runs as the mapped root.
-- Returns the pid in the parent and 0 in the child. maps = { uid = map,
-- gid = map, setgroups = "deny"|"allow" }; an ordinary user's own ids the
-- child writes itself. opts.pdeathsig: the signal the child gets if the
-- parent dies, set before the child goes on; a parent that died before
-- that ends the child (125). opts.prepare(pid) runs in the parent once the
-- maps are written and before the child goes on (to put it in a cgroup);
-- a nil, message from it stops the child. opts.before_root() runs in the
-- child once the maps are written, before it takes the mapped root's ids:
-- with the caller's ids still, and every capability in its new user
-- namespace. A child that need not wait does not: the wait is a wake-up,
-- often on the other CPU, away from the heap it shares with the parent.
function M.clone(namespaces, maps, opts)
  opts = opts or {}
  local wait = (maps and not child_writes(maps)) or opts.prepare
  -- the child checks the parent through its pidfd; without one it waits
  local alive = not wait and core.pidfd_open(core.getpid())
  if not alive then wait = true end
  local r, w
  if wait then r, w = assert(core.pipe()) end
  local pid, err, errno = core.clone(namespaces)
  if not pid then
    if wait then r:close(); w:close() else alive:close() end
    return nil, err, errno
  end
  if pid == 0 then
    if w then w:close() end
    child_start(r, alive, maps, opts)
    return 0
  end
  if not wait then
    alive:close()
    return pid
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
  if opts.prepare then
    local ok, perr, perrno = opts.prepare(pid)
    if not ok then
      w:close()
      core.wait(pid)
      return nil, perr, perrno
    end
  end
  w:write("1")
  w:close()
  return pid
end

return M
