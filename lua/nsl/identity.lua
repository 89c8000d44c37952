-- nsl.identity: who the container's command runs as and what it may do.
--
-- The privilege model of runc, crun and Docker, as config fields and setup
-- steps (container.step.NAME, listed in container.steps):
--
--   c.user            { uid =, gid =, groups = {} }: ids or names of the
--                     container's /etc/passwd and /etc/group (default 0:0)
--   c.capabilities    the bounding set, and root's effective and permitted
--                     sets (default: identity.capabilities, Docker's 14)
--   c.ambient         ambient capabilities (default none)
--   c.effective, c.permitted, c.inheritable
--                     the process's sets when given (OCI's process
--                     capabilities); by default root's effective and
--                     permitted sets are c.capabilities, another user's the
--                     ambient ones, and the inheritable set is c.ambient
--   c.no_new_privs    PR_SET_NO_NEW_PRIVS before exec (default true)
--   c.rlimits         { nofile = { soft, hard }, ... } (default: none)
--   c.masked_paths    paths hidden: a file reads empty, a directory is an
--                     empty read-only tmpfs (default: identity.masked_paths)
--   c.readonly_paths  paths made read-only (default: identity.readonly_paths)
--
-- The steps, in the order the standard setup runs them: readonly_paths and
-- masked_paths right after enter_root (the container's own /proc and /sys,
-- as runc does), then rlimits, capabilities, user, no_new_privs last (a
-- seccomp step belongs after it).
local core = require "nsl.core"
local errors = require "nsl.errors"
local util = require "nsl.util"

local M = {}

--- The default bounding set: the 14 capabilities of the OCI runtime spec's
-- and Docker's default, by name (upper case, without CAP_).
M.capabilities = { "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW",
  "SETGID", "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL",
  "AUDIT_WRITE" }

--- The paths masked by default, as runc and crun mask them: kernel memory,
-- keys, timers and firmware that a container has no business reading.
M.masked_paths = { "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
  "/sys/firmware", "/sys/devices/virtual/powercap" }

--- The paths made read-only by default, as runc and crun do: the kernel's
-- knobs under /proc.
M.readonly_paths = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
  "/proc/sysrq-trigger" }

--- The resource limits set by default: none (the caller's are inherited).
M.rlimits = {}

---------------------------------------------------------------------------
-- helpers

local copy = util.copy

-- Raise "setup step 'STEP': MESSAGE (ERRNO) — HINT" (nsl.errors.step).
local function fail(step, err, errno, hint)
  error(errors.step(step, err, errno, hint), 0)
end

-- The first line of a file, or nil.
local function read_line(path)
  local f = io.open(path)
  if not f then return nil end
  local line = f:read("l")
  f:close()
  return line
end

local check = errors.check

local kernel_caps -- core.cap_max_bits(), asked once
local cap_names -- core.cap_names(), asked only for a number's name

-- The kernel's number of a capability (a name or a number), or nil and a
-- message for one the kernel or libcap does not know.
local function cap_number(name)
  kernel_caps = kernel_caps or core.cap_max_bits()
  local ok, number = pcall(core.cap_from_name, name)
  if ok and number < kernel_caps then return number end
  return nil, string.format("unknown capability '%s'", tostring(name))
end

local canonical_names = {} -- cap_name's answers: a start asks for each name twice

--- The canonical name of a capability ("cap_chown", "chown" -> "CHOWN"),
-- or nil and a message for one the kernel and libcap do not know.
function M.cap_name(name)
  if canonical_names[name] then return canonical_names[name] end
  local number, err = cap_number(name)
  if not number then return nil, err end
  if type(name) == "string" then -- libcap's names: "cap_" and lower case
    canonical_names[name] = (name:gsub("^[Cc][Aa][Pp]_", "")):upper()
  else
    cap_names = cap_names or core.cap_names()
    canonical_names[name] = (cap_names[number + 1]:gsub("^cap_", "")):upper()
  end
  return canonical_names[name]
end

local function cap_names_or_raise(list, what)
  local names = {}
  for i, name in ipairs(list) do
    local canonical, err = M.cap_name(name)
    if not canonical then error(what .. ": " .. err, 0) end
    names[i] = canonical
  end
  return names
end

--- The capabilities list with `drop` removed and then `add` added (names;
-- "all" in drop empties it, "all" in add adds every capability), as
-- --cap-drop and --cap-add do. Raises for an unknown name.
function M.with_capabilities(list, add, drop)
  local result, seen = {}, {}
  local drop_all, dropped = false, {}
  for _, name in ipairs(drop or {}) do
    if name:lower() == "all" then drop_all = true
    else dropped[cap_names_or_raise({ name }, "--cap-drop")[1]] = true end
  end
  local function put(name)
    if not seen[name] then
      seen[name] = true
      result[#result + 1] = name
    end
  end
  if not drop_all then
    for _, name in ipairs(cap_names_or_raise(list, "capabilities")) do
      if not dropped[name] then put(name) end
    end
  end
  for _, name in ipairs(add or {}) do
    if name:lower() == "all" then
      for _, n in ipairs(core.cap_names()) do put(assert(M.cap_name(n))) end
    else
      put(cap_names_or_raise({ name }, "--cap-add")[1])
    end
  end
  return result
end

--- The largest uid or gid: 4294967295 is (uid_t)-1, which setresuid(2)
-- reads as "leave it unchanged", as it does -1.
M.ID_MAX = 4294967294

--- id if it is a uid or gid (an integer in 0..ID_MAX), else nil and
-- "WHAT ID out of range 0..4294967294" (what: "uid" or "gid").
function M.check_id(id, what)
  if math.type(id) == "integer" and id >= 0 and id <= M.ID_MAX then return id end
  return nil, string.format("%s %s out of range 0..%d", what, tostring(id), M.ID_MAX)
end

-- A --user part: a number must be an id, anything else is a name.
local function user_part(text, part, what)
  if not tonumber(part) then return part end
  local id, err = M.check_id(math.tointeger(tonumber(part)) or part, what)
  if not id then error(string.format("bad user '%s': %s", text, err), 3) end
  return id
end

--- Parse "UID[:GID]" or "NAME[:GROUP]" (the --user syntax) into
-- { uid =, gid =, groups = {} }; a missing gid is looked up in the
-- container's /etc/passwd, else 0, as Docker does. Raises for a number
-- that is no id (-1 and 4294967295 would leave the ids unchanged).
function M.parse_user(text)
  local user, group = tostring(text):match("^([^:]+):?([^:]*)$")
  if not user then
    error(string.format("bad user '%s': want UID[:GID] or NAME[:GROUP], like 1000:1000", text), 2)
  end
  return { uid = user_part(text, user, "uid"),
    gid = group ~= "" and user_part(text, group, "gid") or nil, groups = {} }
end

--- Parse "NAME=SOFT[:HARD]" (the --rlimit syntax; a limit is a number or
-- "unlimited", HARD defaults to SOFT) into name, { soft, hard }.
function M.parse_rlimit(text)
  local name, soft, hard = tostring(text):match("^(%w+)=([%w]+):?([%w]*)$")
  local function limit(s)
    return s == "unlimited" and s or math.tointeger(tonumber(s))
  end
  if not name or not limit(soft) or (hard ~= "" and not limit(hard)) then
    error(string.format("bad rlimit '%s': want NAME=SOFT[:HARD], like nofile=1024:2048", text), 2)
  end
  if not pcall(core.getrlimit, name) then
    error(string.format("bad rlimit '%s': unknown resource limit '%s'", text, name), 2)
  end
  return name, { limit(soft), limit(hard ~= "" and hard or soft) }
end

-- Raise unless every ambient capability is in the bounding set, and in the
-- permitted and inheritable sets where those are given: the kernel keeps
-- no other (PR_CAP_AMBIENT_RAISE fails with EPERM).
local function check_ambient(c)
  local function set_of(list)
    local set = {}
    for _, name in ipairs(list) do set[name] = true end
    return set
  end
  local bounded = set_of(c.capabilities)
  local permitted, inheritable = set_of(c.permitted or c.ambient), set_of(c.inheritable or c.ambient)
  for _, name in ipairs(c.ambient) do
    if not bounded[name] then
      error(string.format("ambient capability '%s' is not in the bounding set (capabilities)",
        name), 0)
    elseif not (permitted[name] and inheritable[name]) then
      error(string.format("ambient capability %s is not in both the permitted and the " ..
        "inheritable set", name), 0)
    end
  end
end

--- Fill the identity fields of a container config c (see the top of this
-- file) from their defaults; opts is what the caller gave. Raises for an
-- unknown capability or resource limit.
function M.config(c, opts)
  local uid_map, gid_map = c.uid_map, c.gid_map
  local function mapped(map, id)
    for _, r in ipairs(map or {}) do
      if id >= r[1] and id < r[1] + r[3] then return true end
    end
  end
  if c.user == nil and (not c.userns or (mapped(uid_map, 0) and mapped(gid_map, 0))) then
    -- root of the container; with maps that leave 0 out, the ids the setup
    -- runs as are kept (c.user = nil)
    c.user = { uid = 0, gid = 0, groups = {} }
  elseif type(c.user) == "string" then
    c.user = M.parse_user(c.user)
  end
  if c.user then c.user.groups = c.user.groups or {} end
  -- another user's HOME comes from the container's /etc/passwd (step user)
  if opts.user ~= nil and not (opts.env and opts.env.HOME) then c.env.HOME = nil end
  c.capabilities = cap_names_or_raise(c.capabilities or M.capabilities, "capabilities")
  c.ambient = cap_names_or_raise(c.ambient or {}, "ambient capabilities")
  for _, set in ipairs { "effective", "permitted", "inheritable" } do
    if c[set] then c[set] = cap_names_or_raise(c[set], set .. " capabilities") end
  end
  check_ambient(c)
  if c.no_new_privs == nil then c.no_new_privs = true end
  c.rlimits = c.rlimits or copy(M.rlimits)
  for name in pairs(c.rlimits) do
    if not pcall(core.getrlimit, name) then error("unknown resource limit '" .. name .. "'", 0) end
  end
  c.masked_paths = c.masked_paths or copy(M.masked_paths)
  c.readonly_paths = c.readonly_paths or copy(M.readonly_paths)
  return c
end

---------------------------------------------------------------------------
-- the container's /etc/passwd and /etc/group (read after enter_root, so
-- they are the container's own)

--- The most the container's /etc/passwd or /etc/group may hold (bytes):
-- the image is not trusted, so a bigger one is refused, not read.
M.max_db_size = 1024 * 1024

-- The whole of the open regular file fd, at most M.max_db_size bytes.
local function read_bounded(fd, path)
  local chunks, size = {}, 0
  repeat
    local s, err, errno = fd:read(65536)
    if not s then fail("user", err, errno) end
    size = size + #s
    if size > M.max_db_size then
      error(string.format("setup step 'user': %s is larger than %d bytes", path,
        M.max_db_size), 0)
    end
    chunks[#chunks + 1] = s
  until s == ""
  return table.concat(chunks)
end

-- The text of the container's /etc/passwd or /etc/group, or nil when it
-- has none. Through a handle on "/" (the container's root by now), so a
-- symlink cannot lead out of it; O_NONBLOCK, so a FIFO cannot hold the
-- open; a regular file only (fstat after the open: a FIFO, a device such
-- as /dev/zero or a directory is refused), and bounded in size.
local function read_db(path)
  local root = check("user", core.root_open("/"))
  local fd, err, errno = root:open(path, "rdonly nonblock noctty cloexec")
  root:close()
  if not fd then
    if errno == core.errno.ENOENT then return nil end
    fail("user", err, errno)
  end
  local ok, text = pcall(function()
    local st, serr, serrno = core.stat(fd)
    if not st then fail("user", serr, serrno) end
    if st.type ~= "file" then
      error(string.format("setup step 'user': %s is a %s, not a regular file", path, st.type), 0)
    end
    return read_bounded(fd, path)
  end)
  fd:close()
  if not ok then error(text, 0) end
  return text
end

-- The entries of a colon-separated file as lists of fields.
local function entries(path)
  local list = {}
  for line in (read_db(path) or ""):gmatch("[^\n]+") do
    local fields = {}
    for field in (line .. ":"):gmatch("([^:]*):") do fields[#fields + 1] = field end
    list[#list + 1] = fields
  end
  return list
end

-- The /etc/passwd entry of a uid or a user name, or nil.
local function passwd_entry(user)
  for _, e in ipairs(entries("/etc/passwd")) do
    if e[1] == user or tonumber(e[3]) == user then
      return { name = e[1], uid = tonumber(e[3]), gid = tonumber(e[4]), home = e[6] }
    end
  end
end

-- The gid of a group name, or nil.
local function group_id(name)
  for _, e in ipairs(entries("/etc/group")) do
    if e[1] == name then return tonumber(e[3]) end
  end
end

-- uid, gid, groups and HOME of c.user, names resolved in the container.
local function resolve_user(c)
  local u = c.user
  if not u then return core.geteuid(), core.getegid(), {}, nil end
  -- the container's /etc/passwd only for what the ids leave open: a
  -- user's name, gid or HOME (a root start with its HOME set needs none)
  local entry
  if type(u.uid) ~= "number" or u.gid == nil or c.env.HOME == nil then
    entry = passwd_entry(u.uid)
  end
  if type(u.uid) == "string" and not entry then
    error(string.format("setup step 'user': no user '%s' in the container's /etc/passwd", u.uid), 0)
  end
  local gid = u.gid
  if type(gid) == "string" then
    gid = group_id(u.gid) or error(string.format(
      "setup step 'user': no group '%s' in the container's /etc/group", u.gid), 0)
  end
  local groups = {}
  for i, g in ipairs(u.groups or {}) do
    groups[i] = tonumber(g) or group_id(g) or error(string.format(
      "setup step 'user': no group '%s' in the container's /etc/group", g), 0)
  end
  local uid = entry and entry.uid or u.uid
  gid = gid or (entry and entry.gid) or 0
  -- the ids come from the caller or the container's own files: an id out
  -- of range reaching setresuid would leave the process root
  local function id(value, what)
    local checked, err = M.check_id(math.tointeger(value) or value, what)
    return checked or error("setup step 'user': " .. err, 0)
  end
  for i, g in ipairs(groups) do groups[i] = id(g, "gid") end
  return id(uid, "uid"), id(gid, "gid"), groups, entry and entry.home or "/"
end

local function setgroups_denied()
  -- read every start as an ordinary user: an fd, not io.open's buffers
  local fd = core.open("/proc/self/setgroups", "rdonly cloexec")
  if not fd then return false end
  local text = fd:read(16)
  fd:close()
  return text == "deny\n"
end

-- setgroups(2), for step user. It is denied in a user namespace whose gid
-- map an ordinary user wrote: no groups to set is no error there (and the
-- file that says so is read only then).
local function set_groups(groups)
  local ok, err, errno = core.setgroups(groups)
  if ok then return end
  local denied = errno == core.errno.EPERM and setgroups_denied()
  if #groups > 0 or not denied then
    fail("user", err, errno, denied and "setgroups is denied in this user namespace " ..
      "(an ordinary user's own gid map requires that): map a range of gids through " ..
      "newgidmap and /etc/subgid to add groups" or nil)
  end
end

-- The effective, permitted and inheritable sets user uid gets: c's when
-- given, else root's are c.capabilities and another user's c.ambient.
local function cap_sets(c, uid)
  local own = uid == 0 and c.capabilities or c.ambient
  return { e = c.effective or own, p = c.permitted or own, i = c.inheritable or c.ambient }
end

-- For a cap_set refused with EPERM: the capabilities of sets that nsl's
-- own bounding set lacks (a host that withholds them from nsl), or nil.
local function unheld(sets)
  local missing, seen = {}, {}
  for _, flag in ipairs { "e", "p", "i" } do
    for _, name in ipairs(sets[flag]) do
      local cap = "cap_" .. name:lower()
      if not seen[cap] and not core.cap_bound(cap) then missing[#missing + 1] = cap end
      seen[cap] = true
    end
  end
  if #missing == 0 then return nil end
  return "nsl itself does not hold " .. table.concat(missing, ", ") ..
    " (its bounding set lacks them): a process cannot give a capability it does not have"
end

-- The inside id map of the user namespace, for messages.
local function own_map(kind)
  local f = io.open("/proc/self/" .. kind .. "_map")
  if not f then return "?" end
  local text = f:read("a"):gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
  f:close()
  return text
end

---------------------------------------------------------------------------
-- the steps

M.step = {}

-- The filesystems a protected path may be missing from: the kernel's own,
-- whose files come and go with its version and configuration
-- (/proc/sched_debug, /sys/firmware).
local KERNEL_FS = { proc = true, sysfs = true }

-- Where a protected path is missing: nothing to protect when the kernel
-- simply has no such file, but fail closed when the place it would be is
-- not procfs or sysfs at all (a /proc that a symlink in the image sent
-- elsewhere, or covered by another mount), since the protection would
-- silently be off.
local function check_missing(step, root, path)
  local dir = path
  repeat
    dir = dir:match("^(.*)/[^/]*$") or ""
    local at = dir == "" and "/" or dir
    -- one open: its fd is what the type is asked of (a stat first would
    -- resolve the same path twice)
    local fd <close>, err, errno = root:open(at, "path")
    if fd then
      local fs = core.fs_type(fd)
      if KERNEL_FS[fs] then return end
      error(string.format("setup step '%s': '%s' is missing and '%s' is %s, not the " ..
        "kernel's procfs or sysfs: the protection cannot be applied", step, path, at,
        tostring(fs)), 0)
    end
    -- only a missing parent is looked past: any other failure (EACCES,
    -- EMFILE, ...) leaves the protection unproven, an error (fail closed)
    if errno ~= core.errno.ENOENT and errno ~= core.errno.ENOTDIR then fail(step, err, errno) end
  until dir == ""
  fail(step, string.format("'%s' is missing, and so is every directory above it", path))
end

-- Each path of list as root:lstat sees it (inside the container's root),
-- to fn(path, stat); a missing one is checked by check_missing.
local function each_protected(step, list, fn)
  if #list == 0 then return end
  local root <close> = check(step, core.root_open("/"))
  for _, path in ipairs(list) do
    local st, err, errno = root:lstat(path)
    if st then
      fn(root, path, st)
    elseif errno == core.errno.ENOENT then
      check_missing(step, root, path)
    else
      fail(step, err, errno)
    end
  end
end

--- Make c.readonly_paths read-only, the mounts below them too (a bind of
-- each onto itself, made read-only before it is attached). A path the
-- kernel does not have is skipped; one missing elsewhere than on procfs or
-- sysfs is an error (fail closed).
function M.step.readonly_paths(c)
  local list = c.readonly_paths or {}
  if #list == 0 then return end
  local root <close> = check("readonly_paths", core.root_open("/"))
  for _, path in ipairs(list) do
    -- a bind of the path as the root resolves it, verified to land there;
    -- rdonly goes on every mount of the detached copy (mount_setattr, which
    -- changes rdonly alone: a remount through mount(2) would have to repeat
    -- the locked flags), so it is never seen writable
    local ok, err, errno = root:bind_on(path, path, "rbind rdonly")
    if not ok then
      -- missing, as each_protected has it, only when an lstat says so too
      -- (a symlink to nowhere is there, and fails): asked after the bind,
      -- not before, where it cost every path a stat
      local _, _, lstat_errno = root:lstat(path)
      if errno ~= core.errno.ENOENT or lstat_errno ~= core.errno.ENOENT then
        fail("readonly_paths", err, errno)
      end
      check_missing("readonly_paths", root, path)
    end
  end
end

-- /dev/null, opened without following a symlink and checked to be the
-- null device (char 1:3), so that a root whose /dev/null is something else
-- cannot turn a mask into a bind of a writable file (CVE-2025-31133).
local function open_null()
  local fd, err, errno = core.open("/dev/null", "path nofollow cloexec")
  if not fd then fail("masked_paths", err, errno) end
  local st = core.stat(fd)
  if not st or st.type ~= "char" or st.major ~= 1 or st.minor ~= 3 then
    fd:close()
    error(string.format("setup step 'masked_paths': /dev/null is not the null device " ..
      "(char 1:3) but %s%s", st and st.type or "unknown",
      st and st.type == "char" and " " .. st.major .. ":" .. st.minor or ""), 0)
  end
  return fd
end

--- Mask c.masked_paths: bind the checked /dev/null over a file, mount an
-- empty read-only tmpfs over a directory. A path the kernel does not have
-- is skipped; one missing elsewhere than on procfs or sysfs is an error
-- (fail closed).
function M.step.masked_paths(c)
  if #(c.masked_paths or {}) == 0 then return end
  local null <close> = open_null()
  -- the fd, not the path: what was checked is what gets bound
  local source = "/proc/self/fd/" .. null:fileno()
  if not core.stat(source) then source = "/dev/null" end
  each_protected("masked_paths", c.masked_paths, function(root, path, st)
    if st.type == "dir" then
      check("masked_paths", root:mount_on(path, "tmpfs", "tmpfs", "rdonly nosuid nodev noexec",
        "mode=0555"))
    else
      check("masked_paths", root:bind_on(path, source))
    end
  end)
end

--- Set c.rlimits ({ name = { soft, hard } }, in name order). Raising a
-- hard limit takes CAP_SYS_RESOURCE in the host's user namespace.
function M.step.rlimits(c)
  local names = {}
  for name in pairs(c.rlimits or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local l = c.rlimits[name]
    local soft, hard = l[1] or l.soft, l[2] or l.hard or l[1] or l.soft
    local ok, err, errno = core.setrlimit(name, soft, hard)
    if not ok then
      local _, max = core.getrlimit(name)
      local hint = string.format("the hard limit cannot be raised above %s without " ..
        "CAP_SYS_RESOURCE in the host's user namespace", tostring(max))
      local nr_open = name == "nofile" and tonumber(read_line("/proc/sys/fs/nr_open") or "")
      if nr_open and tonumber(hard) and tonumber(hard) > nr_open then
        -- even real root: see EPERM in setrlimit(2)
        hint = string.format("nofile cannot exceed fs.nr_open (%d)", nr_open)
      end
      fail("rlimits", err, errno, errno == core.errno.EPERM and hint or nil)
    end
  end
end

--- Drop every capability not in c.capabilities from the bounding set, so
-- that no exec in the container gains one. The effective and permitted
-- sets stay whole for step user, which needs CAP_SETGID and CAP_SETUID to
-- switch ids and then sets them (runc's finalizeNamespace does the same).
function M.step.capabilities(c)
  local keep = {}
  for _, name in ipairs(c.capabilities) do
    local number, err = cap_number(name)
    if not number then error("setup step 'capabilities': " .. err, 0) end
    keep[number] = true
  end
  -- dropping one that is already out is no error: no need to read first
  local drop = {}
  kernel_caps = kernel_caps or core.cap_max_bits() -- none kept: not asked yet
  for number = 0, kernel_caps - 1 do
    if not keep[number] then drop[#drop + 1] = number end
  end
  check("capabilities", core.cap_bound_drop(drop))
end

-- A prctl switch's value is its result: only nil is a failure.
local function switch(step, value, err, errno)
  if value == nil then fail(step, err, errno) end
end

--- Look c.user up in the container's /etc/passwd and /etc/group now, for
-- the user step: a seccomp filter loaded before it (without no_new_privs,
-- as runc does) may refuse the reads, openat2 among them.
function M.step.resolve_user(c)
  c.resolved_user = { resolve_user(c) }
end

--- Become c.user: supplementary groups (when the user namespace allows
-- setgroups), gid, uid, and HOME from the container's /etc/passwd unless
-- c.env has one. Then the capabilities: the effective, permitted and
-- inheritable sets (see cap_sets), and c.ambient raised as ambient (so a
-- non-root user has them, and only them, effective after exec).
function M.step.user(c)
  local uid, gid, groups, home = table.unpack(c.resolved_user or { resolve_user(c) }, 1, 4)
  if c.env.HOME == nil then c.env.HOME = home or "/" end
  set_groups(groups)
  local sets = cap_sets(c, uid)
  -- keep the permitted set across the uid change for the ones kept, and
  -- for an inheritable set: only a permitted capability can be made one
  local keep = uid ~= 0 and (#sets.p > 0 or #sets.i > 0)
  if keep then switch("user", core.keepcaps(true)) end
  for _, set in ipairs { { "gid", core.setresgid, gid }, { "uid", core.setresuid, uid } } do
    local kind, fn, id = set[1], set[2], set[3]
    local ok, err, errno = fn(id, id, id)
    if not ok then
      fail("user", err, errno, errno == core.errno.EINVAL and string.format(
        "%s %d is not mapped in the container's user namespace (%s_map %s)", kind, id, kind,
        own_map(kind)) or nil)
    end
  end
  -- explicitly, for every uid: a non-root uid that the setup already ran
  -- as keeps its caps across setresuid
  local ok, err, errno = core.cap_set { effective = sets.e, permitted = sets.p,
    inheritable = sets.i }
  if not ok then fail("user", err, errno, errno == core.errno.EPERM and unheld(sets) or nil) end
  for _, name in ipairs(c.ambient) do check("user", core.cap_ambient_raise(name)) end
  if keep then switch("user", core.keepcaps(false)) end
end

--- Set PR_SET_NO_NEW_PRIVS when c.no_new_privs: no setuid bit or file
-- capability raises the privileges of anything the command executes.
function M.step.no_new_privs(c)
  if c.no_new_privs then check("no_new_privs", core.no_new_privs(true)) end
end

return M
