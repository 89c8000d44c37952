-- nsl.oci.config: config.json as Lua data, checked (validate) and mapped
-- onto container.config's options (options, process_options,
-- seccomp_policy). Pure: nothing here touches the kernel.
local core = require "nsl.core"
local container = require "nsl.container"
local identity = require "nsl.identity"
local json = require "dkjson"
local util = require "nsl.util"
local common = require "nsl.oci.common"
local devices = require "nsl.oci.devices"
local fail, read_all, abs, val = common.fail, common.read_all, common.abs, common.val
local NAMESPACES = common.NAMESPACES
local MOUNT_FLAGS, PROPAGATION, IGNORED = common.MOUNT_FLAGS, common.PROPAGATION, common.IGNORED
local ROOT_PROPAGATION = common.ROOT_PROPAGATION
local SECCOMP_ACTIONS, SECCOMP_OPS = common.SECCOMP_ACTIONS, common.SECCOMP_OPS

local M = {}

---------------------------------------------------------------------------
-- the bundle and the config

-- The fields of the config's objects as the runtime spec spells them, by
-- where they are ("" the top, "[]" an element of a list). Objects whose
-- keys are free (annotations, sysctl) or matched in any case
-- (linux.resources: M.resources_spelled) are not here.
local function field_set(...)
  local set = {}
  for _, name in ipairs { ... } do set[name] = true end
  return set
end
local HOOK = field_set("path", "args", "env", "timeout")
local ID_MAP = field_set("containerID", "hostID", "size")
local SPELLING = {
  [""] = field_set("ociVersion", "process", "root", "hostname", "domainname", "mounts", "hooks",
    "annotations", "linux"),
  process = field_set("terminal", "consoleSize", "user", "args", "commandLine", "env", "cwd",
    "capabilities", "rlimits", "noNewPrivileges", "apparmorProfile", "oomScoreAdj",
    "selinuxLabel", "ioPriority", "scheduler", "execCPUAffinity"),
  ["process.user"] = field_set("uid", "gid", "umask", "additionalGids", "username"),
  ["process.capabilities"] = field_set("bounding", "effective", "inheritable", "permitted", "ambient"),
  ["process.rlimits[]"] = field_set("type", "hard", "soft"),
  root = field_set("path", "readonly"),
  ["mounts[]"] = field_set("destination", "source", "options", "type", "uidMappings", "gidMappings"),
  hooks = field_set("prestart", "createRuntime", "createContainer", "startContainer", "poststart",
    "poststop"),
  ["hooks.prestart[]"] = HOOK, ["hooks.createRuntime[]"] = HOOK,
  ["hooks.createContainer[]"] = HOOK, ["hooks.startContainer[]"] = HOOK,
  ["hooks.poststart[]"] = HOOK, ["hooks.poststop[]"] = HOOK,
  linux = field_set("uidMappings", "gidMappings", "sysctl", "resources", "cgroupsPath", "namespaces",
    "devices", "seccomp", "rootfsPropagation", "maskedPaths", "readonlyPaths", "mountLabel",
    "intelRdt", "personality", "timeOffsets", "memoryPolicy", "netDevices"),
  ["linux.uidMappings[]"] = ID_MAP, ["linux.gidMappings[]"] = ID_MAP,
  ["mounts[].uidMappings[]"] = ID_MAP, ["mounts[].gidMappings[]"] = ID_MAP,
  ["linux.namespaces[]"] = field_set("type", "path"),
  ["linux.devices[]"] = field_set("type", "path", "major", "minor", "fileMode", "uid", "gid"),
  ["linux.seccomp"] = field_set("defaultAction", "defaultErrnoRet", "architectures", "flags",
    "listenerPath", "listenerMetadata", "syscalls"),
  ["linux.seccomp.syscalls[]"] = field_set("names", "action", "errnoRet", "args"),
  ["linux.seccomp.syscalls[].args[]"] = field_set("index", "value", "valueTwo", "op"),
}

-- A key as Go's encoding/json matches it (runc's decoder): without case,
-- U+017F (long s) read as s and U+212A (Kelvin sign) as k, as Go folds them.
local function folded(k)
  return (k:gsub("\u{17F}", "s"):gsub("\u{212A}", "k"):lower())
end

-- Raise for a key of t (at where, its place in SPELLING at at) that is a
-- field of the runtime spec in another case: Go's encoding/json, runc's
-- decoder, reads "Seccomp" as seccomp, which nsl-oci would skip.
local function check_spelling(t, at, where)
  local fields = SPELLING[at]
  if type(t) ~= "table" or t == json.null then return end
  if not fields then
    if at:sub(-2) ~= "[]" and SPELLING[at .. "[]"] then
      for i, item in ipairs(t) do
        check_spelling(item, at .. "[]", string.format("%s[%d]", where, i - 1))
      end
    end
    return
  end
  local lower = {}
  for name in pairs(fields) do lower[name:lower()] = name end
  for k, v in pairs(t) do
    local right = type(k) == "string" and not fields[k] and lower[folded(k)]
    local place = where == "" and tostring(k) or where .. "." .. tostring(k)
    if right then
      fail("%s is spelled %s in the runtime spec: nsl-oci takes no other case there (runc's " ..
        "decoder would take it and nsl-oci would not apply it)", place, right)
    end
    if fields[k] then check_spelling(v, at == "" and k or at .. "." .. k, place) end
  end
end

--- Raise for a key of an OCI process object p (exec --process) spelled
-- in another case than the runtime spec spells it, as M.read_bundle does
-- for the config's.
function M.check_process_spelling(p)
  check_spelling(p, "process", "process")
end

--- config.json of a bundle (or file, relative to it) as Lua data; raises
-- when it is missing, is not JSON, or is not for an OCI runtime spec 1.x.
function M.read_bundle(bundle, file)
  local path = abs(file or "config.json", bundle)
  local text, err = read_all(path)
  if not text then fail("cannot read the bundle's config: %s", err) end
  local spec, _, jerr = json.decode(text, 1, json.null)
  if type(spec) ~= "table" then fail("%s: %s", path, jerr or "not a JSON object") end
  check_spelling(spec, "", "")
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
  if type(spec.linux) == "table" then spec.linux.resources = M.resources_spelled(spec.linux.resources) end
  return spec
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

-- The comparisons of a syscall entry as nsl.seccomp's, in sets that are
-- each one rule: { nil } without args, else { args } -- but when the entry
-- compares an argument more than once (libseccomp takes one comparison
-- per argument and rule), a set for each comparison, so that the rules
-- match when any of them holds: what runc and crun make of such an entry
-- (runc's "revert to old behaviour", opencontainers/runc#2735), and so
-- the verdicts a profile written for them expects.
local function comparison_sets(entry)
  local args, seen, repeated = {}, {}, false
  for _, a in ipairs(val(entry.args) or {}) do
    local op = SECCOMP_OPS[a.op] or fail("seccomp: operator %s is not supported", tostring(a.op))
    if seen[a.index] then repeated = true end
    seen[a.index] = true
    if op == "masked_eq" then
      args[#args + 1] = { a.index, op, math.tointeger(a.value), math.tointeger(val(a.valueTwo) or 0) }
    else
      args[#args + 1] = { a.index, op, math.tointeger(a.value) }
    end
  end
  if #args == 0 then return { false } end
  if not repeated then return { args } end
  local sets = {}
  for i, cmp in ipairs(args) do sets[i] = { cmp } end
  return sets
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
  -- runc's -ENOSYS stub (libcontainer/seccomp/patchbpf), which it adds for
  -- a profile that lists its architectures
  policy.newer_enosys = #policy.arches > 0
  for _, entry in ipairs(val(s.syscalls) or {}) do
    local act = action(entry.action, entry.errnoRet)
    for _, name in ipairs(val(entry.names) or { entry.name }) do
      for _, args in ipairs(comparison_sets(entry)) do
        args = args or nil
        if act == "allow" and not args then
          policy.allow[#policy.allow + 1] = name
        else
          policy.rules[#policy.rules + 1] = { name, action = act, args = args }
        end
      end
    end
  end
  return policy
end

-- A bind's c.mounts flags and fields for read-only: as runc, "ro" makes
-- the top mount read-only (readonly_top, after the bind) and "rro" every
-- mount of an rbind (set before it is attached); "rrw" clears read-only on
-- every mount (rw_below). The last of rro and rrw wins.
local function bind_readonly(entry, flags, recursive)
  local ro = false
  for i = #flags, 1, -1 do
    if flags[i] == "rdonly" then ro = true; table.remove(flags, i) end
  end
  if recursive == "rro" then flags[#flags + 1] = "rdonly"
  elseif recursive == "rrw" then entry.rw_below = true end
  if ro and recursive ~= "rro" then entry.readonly_top = true end
  entry.flags = table.concat(flags, " ")
  return entry
end

-- A "cgroup" mount as c.mounts entries. v1 (a hybrid host's unified
-- hierarchy too): a tmpfs with the container's cgroup of each hierarchy
-- bound in, as runc does, the tmpfs read-only once they are; v2 (or no
-- cgroup of its own): a bind. Read-only as the config's "ro" asks (runc's
-- rule: "rw" leaves them writable, for a container that makes cgroups of
-- its own below).
local function cgroup_entries(target, cg, ro, list)
  local flags = (ro and "rdonly " or "") .. "nosuid nodev noexec"
  if not (cg and cg.version == 1) then
    list[#list + 1] = { source = cg and cg.dirs.unified or "/sys/fs/cgroup", target = target,
      flags = "rbind " .. flags }
    return
  end
  list[#list + 1] = { source = "tmpfs", target = target, fstype = "tmpfs",
    flags = "nosuid nodev noexec", data = "mode=755" }
  local names = {}
  for name in pairs(cg.dirs) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    -- a named hierarchy (name=systemd) at its name, as runc mounts it
    list[#list + 1] = { source = cg.dirs[name], target = target .. "/" .. name:gsub("^name=", ""),
      flags = "bind " .. flags }
  end
  if ro then list[#list + 1] = { target = target, remount = "rdonly" } end
end

-- One OCI mount as c.mounts entries (a propagation change is an entry of
-- its own). cg: the container's cgroup, for a "cgroup" mount.
local function mount_entries(m, bundle, cg, list)
  local flags, data, propagation, recursive = {}, {}, nil, nil
  local bind = m.type == "bind"
  for _, opt in ipairs(val(m.options) or {}) do
    if MOUNT_FLAGS[opt] then
      flags[#flags + 1] = MOUNT_FLAGS[opt]
      if opt == "bind" or opt == "rbind" then bind = true end
    elseif PROPAGATION[opt] then propagation = opt
    elseif opt == "rro" or opt == "rrw" then recursive = opt
    elseif not IGNORED[opt] then data[#data + 1] = opt end
  end
  local target = m.destination
  if m.type == "cgroup" then
    cgroup_entries(target, cg, util.contains(flags, "rdonly"), list)
    return
  end
  if bind then
    if not (flags[1] == "bind" or flags[1] == "rbind") then
      local has = false
      for _, f in ipairs(flags) do if f == "bind" or f == "rbind" then has = true end end
      if not has then table.insert(flags, 1, "bind") end
    end
    if propagation then flags[#flags + 1] = propagation end
    list[#list + 1] = bind_readonly({ source = abs(val(m.source) or "", bundle),
      target = target }, flags, recursive)
    return
  end
  -- a new filesystem has no mounts below it: rro is ro
  if recursive == "rro" then flags[#flags + 1] = "rdonly" end
  -- a new mount under a slave or private / is private already: a
  -- propagation word there is left out
  list[#list + 1] = { source = val(m.source) or m.type, target = target, fstype = m.type,
    flags = table.concat(flags, " "), data = #data > 0 and table.concat(data, ",") or nil }
end

local function given_text(v)
  v = val(v)
  return type(v) == "string" and v ~= ""
end

-- The fields of linux.resources (and of the objects in it nsl reads) as
-- the runtime spec spells them, by their lower-case spelling.
local RESOURCE_FIELDS = {}
for part, names in pairs {
  resources = { "devices", "memory", "cpu", "blockIO", "hugepageLimits", "network", "pids",
    "rdma", "unified" },
  memory = { "limit", "reservation", "swap", "kernel", "kernelTCP", "swappiness",
    "disableOOMKiller", "useHierarchy", "checkBeforeUpdate" },
  cpu = { "shares", "quota", "burst", "period", "realtimeRuntime", "realtimePeriod", "cpus",
    "mems", "idle" },
  pids = { "limit" },
  devices = { "allow", "type", "major", "minor", "access" },
} do
  RESOURCE_FIELDS[part] = {}
  for _, name in ipairs(names) do RESOURCE_FIELDS[part][name:lower()] = name end
end

-- The objects memory, cpu and pids: two spellings of one of them are
-- merged, as runc's decoder fills one struct from both.
local MERGED = { memory = true, cpu = true, pids = true }

-- A copy of object t whose keys that name a field of part whatever their
-- case ("CPU", "Cpus") are spelled as the spec spells them, and whose
-- memory, cpu and pids objects are spelled too. Two keys of one field
-- are merged where both are such objects; raises where they are not or
-- where both set the same field (which one runc takes depends on their
-- order in the JSON text, which a Lua table does not keep).
local function spelled(t, part, where)
  if type(t) ~= "table" or t == json.null then return t end
  local out, from = setmetatable({}, getmetatable(t)), {} -- dkjson's object or array mark
  for k, v in pairs(t) do
    local name = type(k) == "string" and RESOURCE_FIELDS[part][folded(k)] or k
    local inner = part == "resources" and MERGED[name]
    if inner then v = spelled(v, name, where .. "." .. name) end
    if from[name] == nil then
      out[name] = v
    elseif inner and type(v) == "table" and type(out[name]) == "table" and v ~= json.null and
      out[name] ~= json.null then
      for field, value in pairs(v) do
        if out[name][field] ~= nil then
          fail("%s: %s and %s both set %s", where, tostring(from[name]), tostring(k), tostring(field))
        end
        out[name][field] = value
      end
    else
      fail("%s: %s and %s are the same field", where, tostring(from[name]), tostring(k))
    end
    from[name] = k
  end
  return out
end

--- An OCI linux.resources object with the keys of its fields and of its
-- memory, cpu, pids and devices objects spelled as the runtime spec
-- spells them, matched without regard to case: runc's decoder (Go's
-- encoding/json) takes "CPU": { "Cpus": "0" } for "cpu": { "cpus": "0" },
-- and beside "cpu": { "shares": 100 } fills the one cpu from both.
-- The keys of unified (cgroup v2 file names) stay as they are.
function M.resources_spelled(r)
  if type(r) ~= "table" or r == json.null then return r end
  r = spelled(r, "resources", "linux.resources")
  if type(r.devices) == "table" and r.devices ~= json.null then
    local list = setmetatable({}, getmetatable(r.devices))
    for i, d in ipairs(r.devices) do
      list[i] = spelled(d, "devices", string.format("linux.resources.devices[%d]", i - 1))
    end
    r.devices = list
  end
  return r
end

--- The resources of an OCI config (linux.resources) as nsl.cgroup limits:
-- memory, pids, cpu (with its real-time period and runtime) and cpuset
-- fields; a field unset, 0 or below -1 is left out.
function M.resources(r)
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
  set("cpu_rt_period", cpu.realtimePeriod)
  set("cpu_rt_runtime", cpu.realtimeRuntime)
  if given_text(cpu.cpus) then l.cpuset_cpus = cpu.cpus end
  if given_text(cpu.mems) then l.cpuset_mems = cpu.mems end
  return l
end

--- The cgroup path of an OCI cgroupsPath: "slice:prefix:name" (systemd's
-- form) becomes /slice/prefix-name.scope; none is nsl-oci/ID below the
-- runtime's own cgroup.
function M.cgroup_path(path, id)
  path = val(path)
  if not path or path == "" then return "nsl-oci/" .. id end
  local slice, prefix, name = path:match("^([^:/]*):([^:]*):([^:]*)$")
  if slice then
    return "/" .. (slice ~= "" and slice or "system.slice") .. "/" ..
      (prefix ~= "" and prefix .. "-" or "") .. name .. ".scope"
  end
  return path
end

-- The capability list process.capabilities[set] as nsl's names. A name
-- this kernel does not know is skipped with a warning that names it and
-- its set, as runc and crun skip it (a client's default list may be newer
-- than the kernel, and crun's own tests expect the skip), though the
-- runtime spec would have it refused.
local function caps(list, set, warnings)
  local names = {}
  for _, name in ipairs(val(list) or {}) do
    local canonical = identity.cap_name((name:gsub("^CAP_", "")))
    if canonical then names[#names + 1] = canonical
    else
      warnings[#warnings + 1] = string.format(
        "unknown capability '%s' in process.capabilities.%s skipped", name, set)
    end
  end
  return names
end

--- process.env ({ "K=V", ... }) as a table { K = "V" }.
function M.env_table(list)
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
  local bounding = c.bounding and "bounding" or c.permitted and "permitted" or "effective"
  opts.capabilities = caps(c[bounding], bounding, warnings)
  opts.ambient = caps(c.ambient, "ambient", warnings)
  -- the spec's sets as given: none where the config has none
  opts.effective = caps(c.effective, "effective", warnings)
  opts.permitted = caps(c.permitted, "permitted", warnings)
  opts.inheritable = caps(c.inheritable, "inheritable", warnings)
  opts.no_new_privs = val(p.noNewPrivileges) == true
  opts.rlimits = rlimits(p.rlimits)
  local size = val(p.consoleSize)
  if size then opts.winsize = { math.tointeger(size.height), math.tointeger(size.width) } end
  return opts
end

--- The container.config options of an OCI config (see the top of this
-- file), and the extras the steps here need: { joins, sysctl, hooks,
-- oom_score_adj, cgroupns, devices, readonly_dev, warnings }.
function M.options(spec, bundle, _id, cg, o)
  o = o or {}
  local linux = val(spec.linux) or {}
  local warnings = {}
  local opts = { rootfs = abs(spec.root.path, bundle), readonly = val(spec.root.readonly) == true,
    hostname = val(spec.hostname), init = false, pivot = not o.no_pivot,
    seccomp = "unconfined", namespaces = {}, userns = false,
    masked_paths = val(linux.maskedPaths) or {}, readonly_paths = val(linux.readonlyPaths) or {} }
  M.process_options(spec.process, opts, warnings)
  opts.make_cwd = true -- a missing cwd is made in the root, as runc and crun do
  local x = { joins = {}, sysctl = val(linux.sysctl) or {}, hooks = val(spec.hooks) or {},
    oom_score_adj = math.tointeger(val(spec.process.oomScoreAdj)), warnings = warnings,
    env = M.env_table(spec.process.env) }
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
  x.readonly_dev = devices.writable_dev(opts.mounts)
  -- linux.devices: a step of nsl.oci.devices (any type, mode, owner, path)
  x.devices = devices.nodes(linux.devices)
  opts.devices = devices.defaults_without(container.devices, x.devices)
  local prop = val(linux.rootfsPropagation)
  if prop then opts.propagation = ROOT_PROPAGATION[prop] or fail("unknown rootfsPropagation '%s'", prop) end
  if val(linux.seccomp) then opts.seccomp = M.seccomp_policy(linux.seccomp) end
  opts.resources = M.resources(linux.resources)
  if next(opts.resources) == nil then opts.resources = nil end
  opts.pass_fds = M.pass_fds(o)
  return opts, x
end

--- The fds 3 to 2 + o.preserve_fds that the process gets: those of
-- o.inherited_fds (a set: the fds open when nsl oci started, its caller's)
-- when given, so that none nsl oci opened itself is passed on; nil for none.
function M.pass_fds(o)
  if not (o.preserve_fds and o.preserve_fds > 0) then return nil end
  local list = {}
  for fd = 3, 2 + o.preserve_fds do
    if not o.inherited_fds or o.inherited_fds[fd] then list[#list + 1] = fd end
  end
  return list
end

return M
