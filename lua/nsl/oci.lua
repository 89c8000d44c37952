-- nsl.oci: the OCI runtime operations (runc's create, start, state, kill,
-- delete, exec, pause, resume, ps, list) over nsl.container's steps.
--
--   local oci = require "nsl.oci"
--   local spec = oci.read_bundle("/srv/bundle")      -- config.json as Lua data
--   local c = oci.config(spec, "/srv/bundle")        -- a container.config table
--   oci.create(root, "box", "/srv/bundle", {})       -- set up, blocked until start
--   oci.start(root, "box")
--
-- The OCI config maps onto container.config: process (args, env, cwd,
-- user, terminal, capabilities, rlimits, noNewPrivileges, oomScoreAdj),
-- root, hostname, mounts, linux.namespaces (a path joins one), id maps,
-- devices, maskedPaths, readonlyPaths, rootfsPropagation, sysctl,
-- seccomp (onto nsl.seccomp's policy table), resources (nsl.cgroup) and
-- hooks. What the standard steps do not cover is a few steps here, added
-- to c.steps: join (namespaces by path), hooks, sysctl and hold (wait
-- for `start`, as runc's exec.fifo). M.validate refuses, as runc's
-- validator does, what would change the caller's namespaces: a config
-- without a mount namespace, a sysctl of a namespace that is not the
-- container's own.
--
-- A container's state lives in ROOT/ID/state.json; ROOT/ID/exec.fifo
-- exists from create until start.
local core = require "nsl.core"
local container = require "nsl.container"
local cgroup = require "nsl.cgroup"
local identity = require "nsl.identity"
local errors = require "nsl.errors"
local process = require "nsl.process"
local util = require "nsl.util"
local json = require "dkjson"

local M = {}

--- The version of this runtime and of the OCI runtime spec it follows.
M.version = "0.1.0"
M.spec_version = "1.1.0"

-- OCI namespace types -> nsl's words
local NAMESPACES = { pid = "pid", network = "net", mount = "mnt", ipc = "ipc", uts = "uts",
  user = "user", cgroup = "cgroup", time = "time" }

-- mount options -> nsl.mount's words; others are propagation, ignored or data
local MOUNT_FLAGS = { ro = "rdonly", rdonly = "rdonly", nosuid = "nosuid", nodev = "nodev",
  noexec = "noexec", sync = "sync", dirsync = "dirsync", mand = "mandlock",
  noatime = "noatime", nodiratime = "nodiratime", relatime = "relatime",
  strictatime = "strictatime", nosymfollow = "nosymfollow", lazytime = "lazytime",
  bind = "bind", rbind = "rbind" }
local PROPAGATION = { private = true, rprivate = true, slave = true, rslave = true,
  shared = true, rshared = true, unbindable = true, runbindable = true }
local IGNORED = { rw = true, suid = true, dev = true, exec = true, async = true, atime = true,
  diratime = true, norelatime = true, nostrictatime = true, nolazytime = true, loud = true,
  symfollow = true, defaults = true, nomand = true, tmpcopyup = true, notmpcopyup = true,
  ["copy-symlink"] = true, z = true, Z = true, U = true, idmap = true, ridmap = true,
  ["no-dereference"] = true }

local ROOT_PROPAGATION = { private = "private", rprivate = "rec private", slave = "slave",
  rslave = "rec slave", shared = "shared", rshared = "rec shared",
  unbindable = "unbindable", runbindable = "rec unbindable" }

local SECCOMP_ACTIONS = { SCMP_ACT_ALLOW = "allow", SCMP_ACT_KILL = "kill_thread",
  SCMP_ACT_KILL_THREAD = "kill_thread", SCMP_ACT_KILL_PROCESS = "kill",
  SCMP_ACT_TRAP = "trap", SCMP_ACT_LOG = "log", SCMP_ACT_ERRNO = "errno",
  SCMP_ACT_TRACE = "trace" }
local SECCOMP_OPS = { SCMP_CMP_NE = "ne", SCMP_CMP_LT = "lt", SCMP_CMP_LE = "le",
  SCMP_CMP_EQ = "eq", SCMP_CMP_GE = "ge", SCMP_CMP_GT = "gt", SCMP_CMP_MASKED_EQ = "masked_eq" }

local fail = errors.raise

-- A JSON object even when empty (dkjson writes an empty table as []).
local function object(t)
  return setmetatable(t or {}, { __jsontype = "object" })
end

local function read_all(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
end

-- Write a file whole, through a temporary name renamed over it.
local function write_atomic(path, data, mode)
  local tmp = path .. ".tmp"
  local fd, err = core.open(tmp, "wronly creat trunc cloexec", mode or "0644")
  if not fd then fail("%s", err) end
  local n, werr = fd:write(data)
  fd:close()
  if n ~= #data then fail("write %s: %s", tmp, tostring(werr)) end
  assert(core.rename(tmp, path))
end

local function abs(path, base)
  if path:sub(1, 1) == "/" then return path end
  return (base:gsub("/$", "")) .. "/" .. path
end

-- The start time of a process (field 22 of /proc/PID/stat) and its state
-- letter: with the pid, the start time names one process for good.
local function proc_stat(pid)
  local stat = read_all(string.format("/proc/%d/stat", pid))
  if not stat then return nil end
  local fields = {}
  for field in stat:match("^.*%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = field end
  return fields[20], fields[1]
end

local function now_rfc3339()
  return os.date("!%Y-%m-%dT%H:%M:%S.000000000Z")
end

---------------------------------------------------------------------------
-- the bundle and the config

--- config.json of a bundle as Lua data; raises when it is missing, is
-- not JSON, or is not for an OCI runtime spec 1.x.
function M.read_bundle(bundle)
  local path = abs("config.json", bundle)
  local text, err = read_all(path)
  if not text then fail("cannot read the bundle's config: %s", err) end
  local spec, _, jerr = json.decode(text, 1, json.null)
  if type(spec) ~= "table" then fail("%s: %s", path, jerr or "not a JSON object") end
  local version = tostring(spec.ociVersion or "")
  if not version:match("^1%.") then
    fail("%s: ociVersion %q is not 1.x", path, version)
  end
  if type(spec.root) ~= "table" or type(spec.root.path) ~= "string" then
    fail("%s: root.path is required", path)
  end
  if type(spec.process) ~= "table" or type(spec.process.args) ~= "table" or #spec.process.args == 0 then
    fail("%s: process.args must name a command", path)
  end
  return spec
end

-- JSON null (dkjson's json.null) and absent alike.
local function val(v)
  if v == json.null then return nil end
  return v
end

-- The sysctls of the ipc namespace (besides fs.mqueue.*), as runc lists them.
local IPC_SYSCTLS = { ["kernel.msgmax"] = true, ["kernel.msgmnb"] = true,
  ["kernel.msgmni"] = true, ["kernel.sem"] = true, ["kernel.shmall"] = true,
  ["kernel.shmmax"] = true, ["kernel.shmmni"] = true, ["kernel.shm_rmid_forced"] = true }

-- Is the namespace of OCI type (a linux.namespaces entry or nil) the
-- container's own: a new one, or one given by path that is not this
-- process's (then the host's, or whoever called nsl-oci)?
local function own_namespace(entry, word)
  if not entry then return false end
  local path = val(entry.path)
  if not path then return true end
  local st, err = core.stat(path)
  if not st then fail("linux.namespaces: %s", err) end
  local mine = assert(core.stat("/proc/self/ns/" .. word))
  return st.dev ~= mine.dev or st.ino ~= mine.ino
end

-- Refuse a sysctl that would be written to a namespace the container
-- shares with its caller (runc's validator does the same).
local function check_sysctl(key, entries)
  key = key:gsub("/", ".")
  local function need(type, word)
    if not own_namespace(entries[type], word) then
      fail("sysctl %s is not allowed in the caller's %s namespace", key, type)
    end
  end
  if IPC_SYSCTLS[key] or key:match("^fs%.mqueue%.") then return need("ipc", "ipc") end
  if key:match("^net%.") then return need("network", "net") end
  if key == "kernel.hostname" then
    fail("sysctl kernel.hostname is not allowed: the hostname is set through config.json")
  end
  if key == "kernel.domainname" then return need("uts", "uts") end
  fail("sysctl %s is not in a namespace of the container's own", key)
end

--- Refuse a config that would have the runtime change what the container
-- shares with its caller: a root set up without a mount namespace of its
-- own (the pivot would be the caller's), a sysctl of a shared namespace, a
-- hostname without a uts namespace.
function M.validate(spec)
  local linux = val(spec.linux) or {}
  local entries = {}
  for _, ns in ipairs(val(linux.namespaces) or {}) do entries[ns.type] = ns end
  if not entries.mount then
    fail("the config has no mount namespace: nsl-oci sets the root up only in a mount " ..
      "namespace of its own (add {\"type\": \"mount\"} to linux.namespaces)")
  end
  local keys = {}
  for k in pairs(val(linux.sysctl) or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do check_sysctl(k, entries) end
  -- the hostname would be the caller's (runc refuses it too)
  local hostname = val(spec.hostname)
  if hostname and hostname ~= "" and not own_namespace(entries.uts, "uts") then
    fail("the config sets a hostname without a uts namespace of its own: it would be " ..
      "the caller's (add {\"type\": \"uts\"} to linux.namespaces)")
  end
end

--- The nsl.seccomp policy table of an OCI linux.seccomp object.
function M.seccomp_policy(s)
  local function action(name, errno_ret)
    local word = SECCOMP_ACTIONS[name]
    if not word then fail("seccomp: action %s is not supported", tostring(name)) end
    if word == "errno" or word == "trace" then
      return word .. " " .. tostring(math.tointeger(val(errno_ret)) or core.errno.EPERM)
    end
    return word
  end
  local policy = { default = action(s.defaultAction, s.defaultErrnoRet), allow = {},
    rules = {}, skip_unknown = true, arches = {} }
  for _, a in ipairs(val(s.architectures) or {}) do
    policy.arches[#policy.arches + 1] = a:gsub("^SCMP_ARCH_", ""):lower()
  end
  for _, entry in ipairs(val(s.syscalls) or {}) do
    local act = action(entry.action, entry.errnoRet)
    local args
    for _, a in ipairs(val(entry.args) or {}) do
      local op = SECCOMP_OPS[a.op] or fail("seccomp: operator %s is not supported", tostring(a.op))
      args = args or {}
      if op == "masked_eq" then
        args[#args + 1] = { a.index, op, math.tointeger(a.value), math.tointeger(val(a.valueTwo) or 0) }
      else
        args[#args + 1] = { a.index, op, math.tointeger(a.value) }
      end
    end
    for _, name in ipairs(val(entry.names) or { entry.name }) do
      if act == "allow" and not args then
        policy.allow[#policy.allow + 1] = name
      else
        policy.rules[#policy.rules + 1] = { name, action = act, args = args }
      end
    end
  end
  return policy
end

-- One OCI mount as c.mounts entries (a propagation change is an entry of
-- its own). cg: the container's cgroup, for a "cgroup" mount.
local function mount_entries(m, bundle, cg, list)
  local flags, data, propagation = {}, {}, nil
  local bind = m.type == "bind"
  for _, opt in ipairs(val(m.options) or {}) do
    if MOUNT_FLAGS[opt] then
      flags[#flags + 1] = MOUNT_FLAGS[opt]
      if opt == "bind" or opt == "rbind" then bind = true end
    elseif PROPAGATION[opt] then propagation = opt
    elseif not IGNORED[opt] then data[#data + 1] = opt end
  end
  local target = m.destination
  if m.type == "cgroup" then
    -- v1: a tmpfs with the container's cgroup of each hierarchy bound in,
    -- read-only, as runc does; v2 (or no cgroup of its own): a bind
    local ro = "rdonly nosuid nodev noexec"
    if cg and cg.version == 1 then
      list[#list + 1] = { source = "tmpfs", target = target, fstype = "tmpfs",
        flags = "nosuid nodev noexec", data = "mode=755" }
      for name, dir in pairs(cg.dirs) do
        list[#list + 1] = { source = dir, target = target .. "/" .. name, flags = "bind " .. ro }
      end
    else
      list[#list + 1] = { source = cg and cg.dirs.unified or "/sys/fs/cgroup", target = target,
        flags = "rbind " .. ro }
    end
    return
  end
  if bind then
    if not (flags[1] == "bind" or flags[1] == "rbind") then
      local has = false
      for _, f in ipairs(flags) do if f == "bind" or f == "rbind" then has = true end end
      if not has then table.insert(flags, 1, "bind") end
    end
    if propagation then flags[#flags + 1] = propagation end
    list[#list + 1] = { source = abs(val(m.source) or "", bundle), target = target,
      flags = table.concat(flags, " ") }
    return
  end
  -- a new mount under a slave or private / is private already: a
  -- propagation word there is left out
  list[#list + 1] = { source = val(m.source) or m.type, target = target, fstype = m.type,
    flags = table.concat(flags, " "), data = #data > 0 and table.concat(data, ",") or nil }
end

-- The resources of an OCI config as nsl.cgroup limits.
local function resources(r)
  r = val(r) or {}
  local l = {}
  local mem, pids, cpu = val(r.memory) or {}, val(r.pids) or {}, val(r.cpu) or {}
  local function set(field, v)
    v = math.tointeger(val(v))
    if v and (v > 0 or v == -1) then l[field] = v end
  end
  set("memory", mem.limit)
  set("memory_reservation", mem.reservation)
  set("memory_swap", mem.swap)
  set("pids", pids.limit)
  set("cpu_quota", cpu.quota)
  set("cpu_period", cpu.period)
  set("cpu_shares", cpu.shares)
  return l
end

-- The cgroup path of an OCI cgroupsPath: "slice:prefix:name" (systemd's
-- form) becomes /slice/prefix-name.scope; none is nsl-oci/ID below the
-- runtime's own cgroup.
local function cgroup_path(path, id)
  path = val(path)
  if not path or path == "" then return "nsl-oci/" .. id end
  local slice, prefix, name = path:match("^([^:/]*):([^:]*):([^:]*)$")
  if slice then
    return "/" .. (slice ~= "" and slice or "system.slice") .. "/" ..
      (prefix ~= "" and prefix .. "-" or "") .. name .. ".scope"
  end
  return path
end

-- Is this process in a user namespace other than the initial one (as
-- under rootless podman)? Then mknod is refused.
local function nested_userns()
  return not require("nsl.userns").initial()
end

-- A capability list of the config as nsl's names; unknown ones skipped.
local function caps(list, warnings)
  local names = {}
  for _, name in ipairs(val(list) or {}) do
    local canonical = identity.cap_name((name:gsub("^CAP_", "")))
    if canonical then names[#names + 1] = canonical
    else warnings[#warnings + 1] = "unknown capability " .. name .. " skipped" end
  end
  return names
end

local function env_table(list)
  local env = {}
  for _, e in ipairs(val(list) or {}) do
    local k, v = e:match("^([^=]+)=(.*)$")
    if k then env[k] = v end
  end
  return env
end

local function rlimits(list)
  local l = {}
  for _, r in ipairs(val(list) or {}) do
    local function limit(v)
      v = math.tointeger(v)
      return (not v or v < 0) and "unlimited" or v
    end
    l[(r.type:gsub("^RLIMIT_", "")):lower()] = { limit(r.soft), limit(r.hard) }
  end
  return l
end

--- The container.config options of an OCI process object (args, env,
-- cwd, user, terminal, capabilities, rlimits, noNewPrivileges) put on opts.
function M.process_options(p, opts, warnings)
  opts.command = p.args
  opts.cwd = val(p.cwd) or "/"
  opts.tty = val(p.terminal) == true
  local user = val(p.user) or {}
  opts.user = { uid = math.tointeger(val(user.uid)) or 0, gid = math.tointeger(val(user.gid)) or 0,
    groups = val(user.additionalGids) or {} }
  if val(user.umask) then opts.umask = math.tointeger(user.umask) end
  local c = val(p.capabilities) or {}
  opts.capabilities = caps(c.bounding or c.permitted or c.effective, warnings)
  opts.ambient = caps(c.ambient, warnings)
  opts.no_new_privs = val(p.noNewPrivileges) == true
  opts.rlimits = rlimits(p.rlimits)
  local size = val(p.consoleSize)
  if size then opts.winsize = { math.tointeger(size.height), math.tointeger(size.width) } end
  return opts
end

--- The container.config options of an OCI config (see the top of this
-- file), and the extras the steps here need: { joins, sysctl, hooks,
-- oom_score_adj, cgroupns, warnings }.
function M.options(spec, bundle, _id, cg, o)
  o = o or {}
  local linux = val(spec.linux) or {}
  local warnings = {}
  local opts = { rootfs = abs(spec.root.path, bundle), readonly = val(spec.root.readonly) == true,
    hostname = val(spec.hostname), init = false, pivot = not o.no_pivot,
    seccomp = "unconfined", namespaces = {}, userns = false,
    masked_paths = val(linux.maskedPaths) or {}, readonly_paths = val(linux.readonlyPaths) or {} }
  M.process_options(spec.process, opts, warnings)
  local x = { joins = {}, sysctl = val(linux.sysctl) or {}, hooks = val(spec.hooks) or {},
    oom_score_adj = math.tointeger(val(spec.process.oomScoreAdj)), warnings = warnings,
    env = env_table(spec.process.env) }
  for _, ns in ipairs(val(linux.namespaces) or {}) do
    local word = NAMESPACES[ns.type] or fail("unknown namespace type '%s'", tostring(ns.type))
    if val(ns.path) and word == "pid" then x.pid_path = ns.path -- joined for the clone
    elseif val(ns.path) then x.joins[#x.joins + 1] = { word, ns.path }
    elseif word == "cgroup" then x.cgroupns = true -- unshared once in the cgroup
    elseif word == "user" then opts.userns = true
    else opts.namespaces[#opts.namespaces + 1] = word end
  end
  if opts.userns then
    local function map(list)
      local m = {}
      for i, r in ipairs(val(list) or {}) do m[i] = { r.containerID, r.hostID, r.size } end
      return #m > 0 and m or nil
    end
    opts.uid_map, opts.gid_map = map(linux.uidMappings), map(linux.gidMappings)
    if not opts.uid_map then fail("a user namespace needs linux.uidMappings and gidMappings") end
  end
  opts.mounts = {}
  for _, m in ipairs(val(spec.mounts) or {}) do mount_entries(m, bundle, cg, opts.mounts) end
  opts.devices = {}
  for _, d in ipairs(container.devices) do opts.devices[#opts.devices + 1] = d end
  for _, d in ipairs(val(linux.devices) or {}) do
    local name = d.path:match("^/dev/(.+)$")
    if d.type == "c" and name then
      opts.devices[#opts.devices + 1] = { name, math.tointeger(d.major), math.tointeger(d.minor) }
    else
      warnings[#warnings + 1] = "device " .. d.path .. " skipped: only character devices in /dev"
    end
  end
  local prop = val(linux.rootfsPropagation)
  if prop then opts.propagation = ROOT_PROPAGATION[prop] or fail("unknown rootfsPropagation '%s'", prop) end
  if val(linux.seccomp) then opts.seccomp = M.seccomp_policy(linux.seccomp) end
  opts.resources = resources(linux.resources)
  if next(opts.resources) == nil then opts.resources = nil end
  if o.preserve_fds and o.preserve_fds > 0 then
    opts.pass_fds = {}
    for fd = 3, 2 + o.preserve_fds do opts.pass_fds[#opts.pass_fds + 1] = fd end
  end
  return opts, x
end

---------------------------------------------------------------------------
-- hooks

local function sleep_ms(ms) core.poll({}, ms) end

-- Write data to a hook's stdin until the deadline. A hook need not read
-- it: with SIGPIPE blocked a write to a closed pipe fails with EPIPE
-- instead of killing this process (the SIGPIPE left pending is taken off
-- through a signalfd before the mask is restored), and the writes go
-- through a non-blocking open of the pipe, so that a hook that neither
-- reads nor ends cannot hold this process past its timeout. The hook's
-- exit status decides.
local function feed_hook(w, data, deadline)
  local _, old = assert(core.sigprocmask("block", { "PIPE" }))
  local fd = assert(core.open("/proc/self/fd/" .. w:fileno(), "wronly nonblock cloexec"))
  local at = 1
  while at <= #data and core.monotime() < deadline do
    local ready = core.poll({ fd }, 50, "out")
    if ready[1] then
      local n, _, errno = fd:write(data:sub(at, at + 65535))
      if n then at = at + n
      elseif errno ~= core.errno.EAGAIN then break end -- EPIPE: the hook closed it
    end
  end
  fd:close()
  local pending = assert(core.signalfd({ "PIPE" }, "nonblock"))
  core.read_signal(pending) -- nil when the hook read it all
  pending:close()
  assert(core.sigprocmask("setmask", old))
end

--- Run one OCI hook { path, args, env, timeout } with the state JSON on
-- its stdin; nil and a message when it fails or times out.
function M.run_hook(hook, state_json)
  local r, w = assert(core.pipe())
  local pid, cerr = core.clone({})
  if not pid then
    r:close(); w:close()
    return nil, "hook " .. tostring(hook.path) .. ": " .. cerr
  end
  if pid == 0 then
    process.child(nil, function()
      w:close()
      core.dup2(r, 0)
      core.close_range(3, nil, "cloexec")
      local args = val(hook.args) or { hook.path }
      core.exec(hook.path, args, val(hook.env) or {})
      core._exit(127)
    end)
  end
  r:close()
  local deadline = core.monotime() + (math.tointeger(val(hook.timeout)) or 60)
  feed_hook(w, state_json, deadline)
  w:close()
  while true do
    local got, how, code = core.wait(pid, "nohang")
    if got == pid then
      if how == "exited" and code == 0 then return true end
      return nil, string.format("hook %s %s %d", hook.path, how, code)
    end
    if core.monotime() > deadline then
      core.kill(pid, "KILL")
      core.wait(pid)
      return nil, string.format("hook %s timed out", hook.path)
    end
    sleep_ms(5)
  end
end

-- The status hooks of each kind see (the state on their stdin).
local HOOK_STATUS = { prestart = "creating", createRuntime = "creating",
  createContainer = "creating", startContainer = "created", poststart = "running",
  poststop = "stopped" }

--- Run the hooks of kind ("prestart", "poststop", ...) of st.config;
-- raises at the first that fails unless tolerant (then warn(message)).
function M.run_hooks(st, kind, tolerant, warn)
  local hooks = val((val(st.config and st.config.hooks) or {})[kind]) or {}
  if #hooks == 0 then return end
  local state = M.state_object(st, HOOK_STATUS[kind])
  if kind ~= "poststop" then state.pid = st.pid end
  local text = json.encode(state)
  for _, hook in ipairs(hooks) do
    local ok, err = M.run_hook(hook, text)
    if not ok then
      if not tolerant then fail("%s %s", kind, err) end
      if warn then warn(kind .. " " .. err) end
    end
  end
end

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

local function valid_id(id)
  return type(id) == "string" and id:match("^[%w][%w_+%-%.]*$") ~= nil and #id <= 1024
end

local function mkdir_p(path, mode)
  local ok, err = util.mkdir_all(path, mode or "0711")
  if not ok then fail("%s", err) end
end

local function dir_of(root, id) return root .. "/" .. id end

--- The saved state of container id, or raises "container ID does not exist".
function M.load(root, id)
  if not valid_id(id) then fail("invalid container ID '%s'", tostring(id)) end
  local text = read_all(dir_of(root, id) .. "/state.json")
  local st = text and json.decode(text, 1, json.null)
  if type(st) ~= "table" then fail("container %s does not exist", id) end
  st.root = root
  return st
end

local function save(st)
  local copy = {}
  for k, v in pairs(st) do if k ~= "root" then copy[k] = v end end
  write_atomic(dir_of(st.root, st.id) .. "/state.json", json.encode(copy))
end

local function cgroup_of(st)
  return st.cgroup and val(st.cgroup) and cgroup.from(st.cgroup) or nil
end

--- Is the container's first process alive (and the same process)?
local function alive(st)
  if not st.pid or st.pid <= 0 then return false end
  local start, state = proc_stat(st.pid)
  return start ~= nil and start == st.start and state ~= "Z" and state ~= "X"
end

--- The status of a loaded state: created, running, paused or stopped.
function M.status(st)
  if not alive(st) then return "stopped" end
  if core.lstat(dir_of(st.root, st.id) .. "/exec.fifo") then return "created" end
  local cg = cgroup_of(st)
  if cg and cg:frozen() then return "paused" end
  return "running"
end

--- The state object `state` prints (and hooks read).
function M.state_object(st, status)
  status = status or M.status(st)
  return { ociVersion = M.spec_version, id = st.id, status = status,
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

--- The container's processes (host pids): its cgroup's, else those in its
-- pid namespace when that is its own (an ordinary user without a cgroup),
-- else its first process alone.
function M.pids(st)
  local cg = cgroup_of(st)
  if cg and cg:exists() then return cg:procs() end
  if not alive(st) then return {} end
  if not own_pid_namespace(st) then return { st.pid } end
  local want = core.readlink(string.format("/proc/%d/ns/pid", st.pid))
  local list = {}
  for _, name in ipairs(core.readdir("/proc") or {}) do
    local pid = tonumber(name)
    if pid and core.readlink(string.format("/proc/%d/ns/pid", pid)) == want then
      list[#list + 1] = pid
    end
  end
  table.sort(list)
  return list
end

--- The ids of the containers in root, sorted.
function M.ids(root)
  local ids = {}
  for _, name in ipairs(core.readdir(root) or {}) do
    if valid_id(name) and core.lstat(dir_of(root, name) .. "/state.json") then ids[#ids + 1] = name end
  end
  table.sort(ids)
  return ids
end

---------------------------------------------------------------------------
-- the steps this runtime adds

-- Join the namespaces given by path (the user namespace first; the pid
-- namespace was joined by the parent for the clone), then
-- unshare the cgroup namespace once the parent has put this process in
-- its cgroup, so that the cgroup is its root.
local function join_step(x)
  return function()
    table.sort(x.joins, function(a, b) return a[1] == "user" and b[1] ~= "user" end)
    for _, j in ipairs(x.joins) do
      errors.check("join", core.setns(j[2], j[1]))
      -- the root is set up in a copy of a mount namespace given by path:
      -- the pivot and the mounts never land in the namespace itself
      if j[1] == "mnt" then errors.check("join", core.unshare("mnt")) end
    end
    if x.cgroupns then errors.check("join", core.unshare("cgroup")) end
  end
end

local function sysctl_step(x)
  return function()
    local keys = {}
    for k in pairs(x.sysctl) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local path = "/proc/sys/" .. k:gsub("%.", "/")
      local ok, err, errno = util.write_once(path, tostring(x.sysctl[k]))
      errors.check("sysctl", ok, err, errno)
    end
  end
end

local function hooks_step(kind, st)
  return function()
    M.run_hooks(st, kind)
  end
end

-- The last step of create: check the command, say "ready" on the report
-- pipe, then wait (blocked in open) until `start` opens the fifo. After
-- that the creating process is gone: a failed exec is told to nobody.
local function hold_step(fifo, st)
  return function(c, report)
    local _, code, message = container.find_command(c, c.command[1])
    if code then
      report:write(string.format("%d %s", code, message))
      core._exit(code)
    end
    -- the terminal is stdio from now on, as in runc: a client that reads
    -- the creating process's output to its end (containerd's shim) must
    -- not wait for this process too
    if c.tty_fd then
      for fd = 0, 2 do core.dup2(c.tty_fd, fd) end
    end
    report:write("ready")
    local fd, err, errno = core.open("/proc/self/fd/" .. fifo:fileno(), "wronly cloexec")
    errors.check("hold", fd, err, errno)
    fd:write("0")
    fd:close()
    fifo:close()
    M.run_hooks(st, "startContainer")
    local null = assert(core.open("/dev/null", "wronly cloexec"))
    core.dup2(null, report:fileno())
    null:close()
  end
end

-- Insert fn into steps before the step named before (or at the end).
local function insert(steps, before, fn)
  for i, s in ipairs(steps) do
    if s == before then table.insert(steps, i, fn); return end
  end
  steps[#steps + 1] = fn
end

--- The complete container config of an OCI config (container.config's),
-- with the steps of this runtime added; x as M.options returns it.
function M.config(spec, bundle, id, cg, o, st, fifo)
  local opts, x = M.options(spec, bundle, id, cg, o)
  local c = container.config(opts)
  c.env = x.env -- exactly the config's (HOME from /etc/passwd when missing)
  c.bind_devices = not c.userns and nested_userns()
  table.insert(c.steps, 1, join_step(x))
  -- the root read-only last, as runc does: the config's mounts may need
  -- mount points made in it first (podman --read-only's /var/tmp)
  for i, step in ipairs(c.steps) do
    if step == "readonly" then table.remove(c.steps, i); break end
  end
  insert(c.steps, "enter_root", "readonly")
  insert(c.steps, "enter_root", hooks_step("createContainer", st))
  insert(c.steps, "readonly_paths", sysctl_step(x))
  if fifo then c.steps[#c.steps + 1] = hold_step(fifo, st) end
  return c, x
end

---------------------------------------------------------------------------
-- the operations

-- Is cg frozen or on its way: v2's cgroup.freeze asks for it and
-- cgroup.events says when it is done (an ancestor's freeze shows only
-- there); v1's freezer.state is FREEZING or FROZEN.
local function freezing(cg)
  if cg.version == 2 then return cg:read("cgroup.freeze") == "1" or cg:frozen() end
  local state = cg.dirs.freezer and cg:read("freezer.state")
  return state == "FREEZING" or state == "FROZEN"
end

-- Raise when cg (nil: none) is frozen: a process put in it would stop at
-- once, and nsl-oci with it (in D state, beyond a client's timeout).
local function refuse_frozen(cg)
  if cg and freezing(cg) then
    local dir = cg.dirs.unified or cg.dirs.freezer
    fail("cgroup %s is frozen: thaw it (cgroup.freeze 0, freezer.state THAWED) before " ..
      "putting a container in it", dir)
  end
end

-- setns(2) into a pid namespace moves only the children to come, and the
-- container's process is one: this process joins the namespace given by
-- path for the clone. The function returned goes back to its own (always
-- allowed), at once, before a hook runs; it may be called again.
local function pid_namespace_for_children(path)
  if not path then return function() end end
  local own = assert(core.open("/proc/self/ns/pid", "rdonly cloexec"))
  local ok, err, errno = core.setns(path, "pid")
  if not ok then
    own:close()
    fail("join: %s", errors.explain(err, errno))
  end
  return function()
    if not own then return end
    assert(core.setns(own, "pid"))
    own:close()
    own = nil
  end
end

--- Create container id from bundle: set it up and leave its process
-- blocked until start. o: pid_file, console_socket, no_pivot,
-- preserve_fds, warn(message), keep_tty (return the pty master instead of
-- sending it). Returns the state, the pid and the pty master (keep_tty).
function M.create(root, id, bundle, o)
  o = o or {}
  if not valid_id(id) then fail("invalid container ID '%s'", tostring(id)) end
  bundle = bundle and abs(bundle, core.getcwd()) or core.getcwd()
  local spec = M.read_bundle(bundle)
  M.validate(spec)
  if spec.process.terminal == true and not o.console_socket and not o.keep_tty then
    fail("cannot allocate a pseudo-TTY without setting a console socket")
  end
  mkdir_p(root, "0711")
  local dir = dir_of(root, id)
  local ok, _, errno = core.mkdir(dir, "0711")
  if not ok then
    if errno == core.errno.EEXIST then fail("container with id exists: %s", id) end
    fail("cannot create the state directory %s", dir)
  end
  local cg, st
  local done = false
  local leave_pid_namespace = function() end
  local function cleanup()
    if done then return end
    leave_pid_namespace()
    if cg then cg:remove() end
    core.unlink(dir .. "/exec.fifo")
    core.unlink(dir .. "/state.json")
    core.rmdir(dir)
  end
  local success, a, b, c3 = pcall(function()
    local limits = resources(val(spec.linux) and spec.linux.resources)
    local path = cgroup_path(val(spec.linux) and spec.linux.cgroupsPath, id)
    refuse_frozen(cgroup.open(path)) -- before anything is made in it
    cg = cgroup.for_container { cgroup = path, resources = next(limits) and limits or nil }
    st = { id = id, bundle = bundle, rootfs = abs(spec.root.path, bundle), created = now_rfc3339(),
      owner = "", config = spec, cgroup = cg and cg:save() or nil, root = root }
    assert(core.mknod(dir .. "/exec.fifo", "fifo", "0622"))
    assert(core.chmod(dir .. "/exec.fifo", "0622")) -- past the umask: any uid writes it
    local fifo = assert(core.open(dir .. "/exec.fifo", "path cloexec"))
    local c, x = M.config(spec, bundle, id, cg, o, st, fifo)
    for _, w in ipairs(x.warnings) do if o.warn then o.warn(w) end end
    leave_pid_namespace = pid_namespace_for_children(x.pid_path)
    local pid, master, message = container.spawn(c, { pdeathsig = false, prepare = function(pid)
      leave_pid_namespace() -- the hooks run in this process's own
      if cg then
        -- a process put in a frozen cgroup stops there, and so would this
        -- one, waiting for it
        local frozen, ferr = pcall(refuse_frozen, cg)
        if not frozen then return nil, ferr end
        local added, err, aerrno = cg:add(pid)
        if not added then return nil, err, aerrno end
      end
      if x.oom_score_adj then
        local adj, err, aerrno = util.write_once(string.format("/proc/%d/oom_score_adj", pid),
          x.oom_score_adj)
        if not adj then return nil, err, aerrno end
      end
      st.pid = pid
      local hooked, herr = pcall(function()
        M.run_hooks(st, "prestart")
        M.run_hooks(st, "createRuntime")
      end)
      if not hooked then return nil, herr end
      return true
    end })
    fifo:close()
    if message then -- the command is not there: the child ended with 126 or 127
      core.wait(pid)
      fail("%s", message)
    end
    st.pid, st.start = pid, proc_stat(pid)
    save(st)
    if master and o.console_socket then
      local sock, err = core.unix_connect(o.console_socket)
      if not sock then fail("console socket: %s", err) end
      local sent, serr = core.send_fd(sock, master)
      sock:close()
      master:close()
      if not sent then fail("console socket: %s", serr) end
      master = nil
    end
    if o.pid_file then write_atomic(abs(o.pid_file, core.getcwd()), tostring(pid)) end
    return st, pid, master
  end)
  if not success then
    if st and st.pid and alive(st) then
      core.kill(st.pid, "KILL")
    end
    cleanup()
    error(a, 0)
  end
  done = true
  return a, b, c3
end

-- Wait (polling) until pid is gone or a zombie; false after seconds.
local function wait_gone(st, seconds)
  local deadline = core.monotime() + (seconds or 10)
  while alive(st) do
    if core.monotime() > deadline then return false end
    sleep_ms(5)
  end
  return true
end

--- Start a created container: open its fifo (the process goes on to its
-- command), remove the fifo, run the poststart hooks.
function M.start(root, id, warn)
  local st = M.load(root, id)
  local status = M.status(st)
  if status == "stopped" then fail("cannot start a container that has stopped") end
  if status ~= "created" then fail("cannot start an already running container") end
  local path = dir_of(root, id) .. "/exec.fifo"
  local fifo, err = core.open(path, "rdonly nonblock cloexec")
  if not fifo then fail("cannot start the container: %s", err) end
  local got = ""
  while got == "" do
    local ready = core.poll({ fifo }, 100)
    if ready[1] then got = fifo:read(1) or "" end
    if got == "" and not alive(st) then
      fifo:close()
      fail("cannot start a container that has stopped")
    end
  end
  fifo:close()
  core.unlink(path)
  M.run_hooks(st, "poststart", true, warn)
  return st
end

--- Send sig to the container's first process, or to all of its
-- processes (all).
function M.kill(root, id, sig, all)
  local st = M.load(root, id)
  local status = M.status(st)
  if status == "stopped" then fail("container not running") end
  if type(sig) == "string" and tonumber(sig) then sig = math.tointeger(tonumber(sig)) end
  -- core.kill raises for a signal it does not know
  local targets = all and M.pids(st) or { st.pid }
  for i, pid in ipairs(targets) do
    local okp, ok, err = pcall(core.kill, pid, sig)
    if not okp then fail("invalid signal '%s'", tostring(sig)) end
    if not ok and i == 1 and not all then fail("%s", err) end
  end
  if status == "paused" and (sig == "KILL" or sig == 9) then
    local cg = cgroup_of(st)
    if cg then cg:thaw() end
  end
end

--- Delete a container: a stopped (or only created) one at once; a
-- running or paused one only with force, killed first.
function M.delete(root, id, force, warn)
  local ok, st = pcall(M.load, root, id)
  if not ok then
    if force then return end
    error(st, 0)
  end
  local status = M.status(st)
  if status == "running" or status == "paused" then
    if not force then fail("cannot delete container %s that is not stopped: %s", id, status) end
  end
  if status ~= "stopped" then
    for _, pid in ipairs(M.pids(st)) do core.kill(pid, "KILL") end
    core.kill(st.pid, "KILL")
    local cg = cgroup_of(st)
    if status == "paused" and cg then cg:thaw() end
    if not wait_gone(st, 10) then fail("container %s did not stop after SIGKILL", id) end
  end
  local cg = cgroup_of(st)
  if cg then
    local removed, err = cg:remove()
    if not removed and warn then warn("cgroup: " .. err) end
  end
  local dir = dir_of(root, id)
  core.unlink(dir .. "/exec.fifo")
  core.unlink(dir .. "/state.json")
  core.rmdir(dir)
  M.run_hooks(st, "poststop", true, warn)
end

--- Freeze (pause) or thaw (resume) the container's cgroup.
function M.pause(root, id, resume)
  local st = M.load(root, id)
  local status = M.status(st)
  if status == "stopped" then fail("container not running") end
  if resume and status ~= "paused" then fail("container not paused") end
  if not resume and status ~= "running" then fail("container not running") end
  local cg = cgroup_of(st)
  if not cg then fail("cannot %s a container without a cgroup (no cgroup could be made for it)",
    resume and "resume" or "pause") end
  local ok, err = (resume and cg.thaw or cg.freeze)(cg)
  if not ok then fail("%s", err) end
end

--- Run a process in a running container: join its namespaces (setns
-- through a pidfd) and its cgroup, then the identity steps of a
-- container config built from the OCI process object p. o: detach,
-- pid_file, console_socket, preserve_fds. Returns the exit code (0 when
-- detached).
function M.exec(root, id, p, o)
  o = o or {}
  local st = M.load(root, id)
  local status = M.status(st)
  if status == "stopped" then fail("cannot exec in a stopped container") end
  if status == "paused" then fail("cannot exec in a paused container") end
  if val(p.terminal) == true and o.detach and not o.console_socket then
    fail("cannot allocate a pseudo-TTY without setting a console socket")
  end
  local opts = M.process_options(p, { rootfs = "/", init = false, userns = false,
    namespaces = {}, masked_paths = {}, readonly_paths = {},
    steps = { "umask", "chdir", "rlimits", "capabilities", "user", "no_new_privs", "seccomp" } }, {})
  local linux = val(st.config.linux) or {}
  opts.seccomp = val(linux.seccomp) and M.seccomp_policy(linux.seccomp) or "unconfined"
  if o.preserve_fds and o.preserve_fds > 0 then
    opts.pass_fds = {}
    for fd = 3, 2 + o.preserve_fds do opts.pass_fds[#opts.pass_fds + 1] = fd end
  end
  local c = container.config(opts)
  c.env = env_table(p.env)
  -- the pty is the container's own (its /dev/ptmx, opened by B), so that
  -- its name resolves in there; B hands the master over on this pair
  local pty_here, pty_there
  if c.tty then pty_here, pty_there = assert(core.socketpair()) end
  local report_r, report_w = assert(core.pipe())
  local pid_r, pid_w = assert(core.pipe())
  if not o.detach then core.child_subreaper(true) end
  local cg = cgroup_of(st)
  -- A joins; its child B (in the container's pid namespace) becomes the
  -- process; A tells B's pid and ends, so B is this process's child (a
  -- subreaper) or the caller's when detached
  local a, err, errno = require("nsl.userns").clone({}, nil, { prepare = cg and function(pid)
    return cg:add(pid)
  end })
  if not a then fail("exec: %s", errors.explain(err, errno)) end
  -- neither A nor B may return into this code: process.child ends them
  local function in_b()
    pid_w:close()
    core.dumpable(false) -- the host's binary, for the moment before exec
    if pty_there then
      local m, slave = core.openpty()
      if not m then error("exec: openpty in the container: " .. tostring(slave), 0) end
      local rows, cols = core.get_winsize(0)
      if c.winsize then rows, cols = c.winsize[1], c.winsize[2] end
      if rows then core.set_winsize(m, rows, cols) end
      assert(core.send_fd(pty_there, m))
      m:close()
      pty_there:close()
      c.tty_fd = slave
    end
    container.child(c, report_w)
  end
  local function in_a()
    report_r:close(); pid_r:close()
    -- the namespaces that differ from ours, all at once through a pidfd
    local ok, serr, serrno = process.join(st.pid)
    if not ok then error(errors.explain(serr, serrno), 0) end
    local b, cerr, cerrno = core.clone({})
    if not b then error(errors.explain(cerr, cerrno), 0) end
    if b == 0 then process.child(report_w, in_b) end
    pid_w:write(tostring(b))
  end
  if a == 0 then process.child(report_w, in_a) end
  report_w:close(); pid_w:close()
  if pty_there then pty_there:close() end
  local b = tonumber(pid_r:read(64))
  pid_r:close()
  core.wait(a)
  local master
  if pty_here then
    master = core.recv_fd(pty_here) -- nil when B failed before sending it
    pty_here:close()
  end
  local code, message = process.report(report_r)
  if code then
    if b then core.wait(b) end
    core.child_subreaper(false)
    return code, message
  end
  if master and o.console_socket then
    local sock, serr = core.unix_connect(o.console_socket)
    if not sock then fail("console socket: %s", serr) end
    assert(core.send_fd(sock, master))
    sock:close()
    master:close()
    master = nil
  end
  if o.pid_file then write_atomic(abs(o.pid_file, core.getcwd()), tostring(b)) end
  if o.detach then return 0 end
  local status_code = process.wait(b, master)
  core.child_subreaper(false)
  return status_code
end

---------------------------------------------------------------------------
-- spec and features

--- A default config.json (runc spec's), as Lua data; rootless: a user
-- namespace mapping the caller to root, no network namespace, /sys bound.
function M.default_spec(rootless)
  local kept = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" }
  local spec = {
    ociVersion = M.spec_version,
    process = { terminal = true, user = { uid = 0, gid = 0 }, args = { "sh" },
      env = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm" },
      cwd = "/", capabilities = { bounding = kept, effective = kept, permitted = kept },
      rlimits = { { type = "RLIMIT_NOFILE", hard = 1024, soft = 1024 } },
      noNewPrivileges = true },
    root = { path = "rootfs", readonly = true },
    hostname = "nsl",
    mounts = {
      { destination = "/proc", type = "proc", source = "proc" },
      { destination = "/dev", type = "tmpfs", source = "tmpfs",
        options = { "nosuid", "strictatime", "mode=755", "size=65536k" } },
      { destination = "/dev/pts", type = "devpts", source = "devpts",
        options = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" } },
      { destination = "/dev/shm", type = "tmpfs", source = "shm",
        options = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" } },
      { destination = "/dev/mqueue", type = "mqueue", source = "mqueue",
        options = { "nosuid", "noexec", "nodev" } },
      { destination = "/sys", type = "sysfs", source = "sysfs",
        options = { "nosuid", "noexec", "nodev", "ro" } },
    },
    linux = {
      resources = { devices = { { allow = false, access = "rwm" } } },
      namespaces = { { type = "pid" }, { type = "network" }, { type = "ipc" }, { type = "uts" },
        { type = "mount" } },
      maskedPaths = identity.masked_paths,
      readonlyPaths = identity.readonly_paths,
    },
  }
  if rootless then
    spec.linux.resources = nil
    spec.linux.namespaces = { { type = "pid" }, { type = "ipc" }, { type = "uts" },
      { type = "mount" }, { type = "user" } }
    spec.linux.uidMappings = { { containerID = 0, hostID = core.geteuid(), size = 1 } }
    spec.linux.gidMappings = { { containerID = 0, hostID = core.getegid(), size = 1 } }
    spec.mounts[3].options = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620" }
    spec.mounts[6] = { destination = "/sys", type = "none", source = "/sys",
      options = { "rbind", "nosuid", "noexec", "nodev", "ro" } }
  end
  return spec
end

--- What this runtime supports (`features`), as runc prints it.
function M.features()
  local ns = {}
  for k in pairs(NAMESPACES) do ns[#ns + 1] = k end
  table.sort(ns)
  local opts = {}
  for k in pairs(MOUNT_FLAGS) do opts[#opts + 1] = k end
  for k in pairs(PROPAGATION) do opts[#opts + 1] = k end
  for k in pairs(IGNORED) do opts[#opts + 1] = k end
  table.sort(opts)
  local actions, ops = {}, {}
  for k in pairs(SECCOMP_ACTIONS) do actions[#actions + 1] = k end
  for k in pairs(SECCOMP_OPS) do ops[#ops + 1] = k end
  table.sort(actions)
  table.sort(ops)
  local all = {}
  for _, n in ipairs(core.cap_names()) do all[#all + 1] = "CAP_" .. n:gsub("^cap_", ""):upper() end
  return {
    ociVersionMin = "1.0.0", ociVersionMax = M.spec_version,
    hooks = { "prestart", "createRuntime", "createContainer", "startContainer", "poststart",
      "poststop" },
    mountOptions = opts,
    linux = {
      namespaces = ns, capabilities = all,
      cgroup = { v1 = true, v2 = true, systemd = false, systemdUser = false },
      seccomp = { enabled = true, actions = actions, operators = ops,
        archs = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
          "SCMP_ARCH_ARM" } },
    },
    annotations = object { ["org.nsl.version"] = M.version },
  }
end

--- dkjson, as this module reads and writes JSON with it.
M.json = json

--- A table that dkjson writes as a JSON object even when empty.
function M.object(t)
  return object(t)
end

return M
