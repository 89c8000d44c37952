-- nsl.oci.script: a bundle as a Lua script (`nsl oci lua`), and what runs
-- one: `nsl run` of the script starts the same container as `nsl oci run`
-- of the bundle.
--
-- The script holds two tables. box is nsl.container.config's options, as
-- nsl.oci.config translates config.json (every mount, device, capability
-- set, rlimit and seccomp rule as data); runtime is what nsl.oci itself
-- reads from config.json around the container (the cgroup and its limits,
-- hooks, sysctls, oomScoreAdj, the namespaces it joins by path, the
-- annotations). The script ends in run_script, which goes through the same
-- create, start, wait and delete as `nsl oci run`, with box in place of
-- config.json's translation (operations.create's spec and options).
local core = require "nsl.core"
local container = require "nsl.container"
local common = require "nsl.oci.common"
local config = require "nsl.oci.config"
local devices = require "nsl.oci.devices"
local notify = require "nsl.oci.notify"
local operations = require "nsl.oci.operations"
local statedir = require "nsl.oci.state"
local util = require "nsl.util"
local abs, val, json = common.abs, common.val, common.json

local M = {}

---------------------------------------------------------------------------
-- Lua table literals

-- The width a table is written on one line within; a record of scalars
-- in a list (a mount, a seccomp rule) gets luacheck's 120, to keep one a line.
local WIDTH, RECORD_WIDTH = 100, 120

-- Fields written first, in this order (a mount in mount(8)'s); the others
-- follow sorted.
local FIRST = { "source", "target", "fstype", "flags", "data", "type", "path", "action", "args" }
local RANK = {}
for i, k in ipairs(FIRST) do RANK[k] = i end

-- Lists written several items a line when they do not fit on one: the
-- names a seccomp policy allows (several hundred in a runtime's profile).
local PACKED = { allow = true }

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or
  repeat return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

-- The keys of t that are not its list part, in FIRST's order, then sorted.
local function map_keys(t)
  local keys, n = {}, #t
  for k, v in pairs(t) do
    local listed = math.type(k) == "integer" and k >= 1 and k <= n
    if not listed and v ~= json.null then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b)
    local ra, rb = RANK[a] or #FIRST + 1, RANK[b] or #FIRST + 1
    if ra ~= rb then return ra < rb end
    return tostring(a) < tostring(b)
  end)
  return keys
end

local function scalar(v)
  if type(v) == "string" then return (string.format("%q", v):gsub("\\\n", "\\n")) end
  if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2 ^ 53 then
    return tostring(math.tointeger(v))
  end
  if v == json.null then return "nil" end
  return tostring(v)
end

local function key_text(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then return k end
  return "[" .. scalar(k) .. "]"
end

-- v on one line.
local function inline(v)
  if type(v) ~= "table" or v == json.null then return scalar(v) end
  local parts = {}
  for _, e in ipairs(v) do parts[#parts + 1] = inline(e) end
  for _, k in ipairs(map_keys(v)) do parts[#parts + 1] = key_text(k) .. " = " .. inline(v[k]) end
  if #parts == 0 then return "{}" end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

-- Does t hold no tables?
local function flat_table(t)
  for _, e in pairs(t) do if type(e) == "table" and e ~= json.null then return false end end
  return true
end

-- A list of scalars only?
local function scalars(v)
  return flat_table(v) and next(map_keys(v)) == nil
end

-- The items of a list of scalars, several a line (at inner), closed at
-- indent.
local function packed(v, indent, inner)
  local lines, line = { "{" }, nil
  for _, e in ipairs(v) do
    local item = scalar(e) .. ","
    if line and #line + #item + 1 > WIDTH then
      lines[#lines + 1] = line
      line = nil
    end
    line = line and line .. " " .. item or inner .. item
  end
  lines[#lines + 1] = line
  lines[#lines + 1] = indent .. "}"
  return table.concat(lines, "\n")
end

--- v (nil, booleans, numbers, strings, tables of them) as a Lua
-- expression: a table that fits in 100 columns on one line, else one item
-- a line, map keys sorted; indent is the current line's (lead: the text
-- before v on it, key: v's key, for the lists written packed).
function M.literal(v, indent, lead, key)
  indent, lead = indent or "", lead or ""
  local flat = inline(v)
  if type(v) ~= "table" or #indent + #lead + #flat + 1 <= WIDTH then return flat end
  local inner = indent .. "  "
  if PACKED[key] and scalars(v) then return packed(v, indent, inner) end
  local lines = { "{" }
  for _, e in ipairs(v) do
    local item = type(e) == "table" and flat_table(e) and inline(e)
    if not (item and #inner + #item + 1 <= RECORD_WIDTH) then item = M.literal(e, inner) end
    lines[#lines + 1] = inner .. item .. ","
  end
  for _, k in ipairs(map_keys(v)) do
    local head = key_text(k) .. " = "
    lines[#lines + 1] = inner .. head .. M.literal(v[k], inner, head, k) .. ","
  end
  lines[#lines + 1] = indent .. "}"
  return table.concat(lines, "\n")
end

---------------------------------------------------------------------------
-- the script of a bundle

-- The source nsl.oci.config gives a cgroup mount of a container whose
-- cgroup is this marker: a script's cgroup mount stands for the
-- container's own cgroup, made when the script runs.
local CGROUP_MARK = "\0the container's cgroup"
local MARKED = { version = 2, dirs = { unified = CGROUP_MARK } }

-- OCI's namespace types by nsl's words.
local OCI_TYPE = {}
for oci_type, word in pairs(common.NAMESPACES) do OCI_TYPE[word] = oci_type end

-- The names of the steps nsl.oci adds (operations.config), by the step
-- each comes before: they are functions in c.steps.
local ADDED_BEFORE = { enter_root = "createContainer hooks", readonly_paths = "sysctl" }

-- The names of c.steps, in order.
local function step_names(steps)
  local names = {}
  for i, s in ipairs(steps) do
    if type(s) == "string" then names[i] = s
    elseif i == 1 then names[i] = "join"
    else names[i] = ADDED_BEFORE[steps[i + 1]] or "(an nsl.oci step)" end
  end
  return names
end

-- The steps the container of spec runs, as operations.config makes them
-- (the seccomp policy left out: it is not compiled for a list).
local function steps_of(spec, bundle)
  local c = operations.config(spec, bundle, "lua", nil, { options = function(...)
    local opts, x = config.options(...)
    opts.seccomp = "unconfined"
    return opts, x
  end }, {}, nil)
  return step_names(c.steps)
end

-- words as comment lines of at most WIDTH columns, after the first's lead.
local function comment_lines(words, lead)
  local lines, line = {}, "--  " .. lead
  for i, w in ipairs(words) do
    local item = w .. (i < #words and "," or "")
    if #line + #item + 1 > WIDTH then
      lines[#lines + 1] = line
      line = "--  "
    end
    line = line .. " " .. item
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n")
end

-- path without its . and .. components, as the kernel resolves them now
-- (a symlink before a .. is followed); as it is when it cannot be.
local function resolved(path)
  if not (path:find("/%.%.?/") or path:find("/%.%.?$")) then return path end
  local here = assert(core.getcwd())
  local dir, name = path, nil
  local st = core.stat(path)
  if not (st and st.type == "dir") then dir, name = path:match("^(.*)/([^/]+)$") end
  local real = dir and name ~= "." and name ~= ".." and core.chdir(dir ~= "" and dir or "/") and
    core.getcwd()
  core.chdir(here)
  if not real then return path end
  return name and (real:gsub("/$", "") .. "/" .. name) or real
end

-- box: config.options' opts with the container's cgroup mount as
-- { source = "cgroup", target = T, fstype = "cgroup" } ("rdonly" flags
-- when read-only), the exact environment (x.env) as env, no resources
-- (runtime's), a read-only /dev as the config has it (options_of makes it
-- writable until it is filled).
local function box_of(opts, x)
  local box = {}
  for k, v in pairs(opts) do box[k] = v end
  box.resources = nil
  box.env = x.env
  box.rootfs = resolved(box.rootfs)
  local dev
  for i, m in ipairs(box.mounts) do
    if m.target:gsub("/+$", "") == "/dev" then dev = i end -- the last is on top
  end
  if x.readonly_dev then
    box.mounts[dev] = util.copy(box.mounts[dev])
    box.mounts[dev].flags = box.mounts[dev].flags .. " rdonly"
  end
  for i, m in ipairs(box.mounts) do
    if m.source == CGROUP_MARK then
      box.mounts[i] = { source = "cgroup", target = m.target, fstype = "cgroup",
        flags = util.has_word(m.flags, "rdonly") and "rdonly" or nil }
    elseif util.has_word(m.flags, "bind") or util.has_word(m.flags, "rbind") then
      m.source = resolved(m.source)
    end
  end
  return box
end

-- The part of an OCI seccomp object nsl.oci itself reads: the agent's
-- socket and metadata, and the rules that hold syscalls for it (nsl.oci.
-- notify); nil without an agent. box.seccomp is the whole policy.
local function listener_of(s)
  if not notify.check(s) then return nil end
  local held = {}
  for _, entry in ipairs(val(s.syscalls) or {}) do
    if entry.action == "SCMP_ACT_NOTIFY" then held[#held + 1] = entry end
  end
  return { listenerPath = s.listenerPath, listenerMetadata = val(s.listenerMetadata), syscalls = held }
end

-- runtime: what nsl.oci reads from the config itself, in its words.
local function runtime_of(spec, bundle)
  local linux = val(spec.linux) or {}
  local namespaces = {}
  for _, ns in ipairs(val(linux.namespaces) or {}) do
    if val(ns.path) or ns.type == "cgroup" then namespaces[#namespaces + 1] = ns end
  end
  local sysctl = val(linux.sysctl)
  return { bundle = bundle, annotations = val(spec.annotations), hooks = val(spec.hooks),
    cgroupsPath = val(linux.cgroupsPath), resources = val(linux.resources),
    sysctl = sysctl and next(sysctl) and sysctl or nil, devices = val(linux.devices),
    seccomp = listener_of(val(linux.seccomp)),
    oomScoreAdj = math.tointeger(val(spec.process.oomScoreAdj)),
    namespaces = #namespaces > 0 and namespaces or nil }
end

local HEADER = [[
-- The container of the OCI bundle
--   %s
-- made by `nsl oci lua` from its config.json.
--
-- usage: nsl run SCRIPT [--root DIR] [ID]
--
-- `nsl run` of this script starts the same container as `nsl oci run` of
-- the bundle: nsl.oci creates, starts, waits for and deletes container ID
-- (default lua-PID; its state in DIR, nsl oci's default root unless
-- given), with box below in place of config.json, which is not read
-- again: the paths in box (the root, the binds' sources) are what is used.
-- Change a line and run it.
--
-- The steps the container runs, in order (nsl.container.step's and
-- nsl.oci's: join, hooks, sysctl), then its command:
%s
]]

local BODY = [[
local oci = require "nsl.oci"

-- The container: nsl.container.config's options. A mount of fstype
-- "cgroup" is the container's own cgroup, bound in once it is made.
local box = %s

-- What nsl.oci does around the container, in config.json's words: the
-- cgroup (cgroupsPath, resources), hooks, sysctl, oomScoreAdj, the
-- namespaces it joins by path or unshares itself (cgroup), the nodes of
-- devices, the seccomp agent (listenerPath) and the syscalls box.seccomp
-- holds for it, and the bundle and annotations the state shows.
local runtime = %s

os.exit(oci.run_script(box, runtime, arg))
]]

--- The text of a Lua script equivalent to bundle's config.json (bundle:
-- a directory, default the current one), and the warnings nsl oci run
-- gives for it; raises as nsl oci run does for a config it refuses.
function M.script(bundle)
  bundle = abs(bundle or ".", core.getcwd()):gsub("/%.?$", "")
  if bundle == "" then bundle = "/" end
  local spec = config.read_bundle(bundle)
  config.validate(spec)
  local opts, x = config.options(spec, bundle, "lua", MARKED)
  local warnings = x.warnings
  local text = string.format(HEADER, bundle, comment_lines(steps_of(spec, bundle), ""))
  for _, w in ipairs(warnings) do text = text .. "-- warning: " .. w .. "\n" end
  text = text .. string.format(BODY, M.literal(box_of(opts, x), "", "local box = "),
    M.literal(runtime_of(spec, bundle), "", "local runtime = "))
  -- a long path (podman's storage) is a line of its own, kept whole
  for line in text:gmatch("[^\n]+") do
    if (utf8.len(line) or #line) > 120 then
      return "-- luacheck: no max line length\n" .. text, warnings
    end
  end
  return text, warnings
end

---------------------------------------------------------------------------
-- running a script

--- Create, start, wait for and delete container id of bundle (nsl oci
-- run's work; a script's too): o as operations.create's, and detach
-- (return 0 once it started) and keep (no delete). Returns its exit code.
function M.run(root, id, bundle, o)
  local _, pid, master = operations.create(root, id, bundle, o)
  local relay
  -- a run that fails after create leaves no container, state or cgroup
  local ok, code = pcall(function()
    -- With NOTIFY_SOCKET, run -d returns once READY=1 is relayed (or the
    -- container ended), as runc and crun do: a unit that runs it is ready
    -- when it returns, and no process is left to relay. In the foreground
    -- a child relays while this process waits for the container.
    _, relay = operations.start(root, id, o.warn, { notify_socket = o.notify_socket,
      relay_in_child = not o.detach, relay_closes = { master } })
    if o.detach then return 0 end
    return container.wait(pid, master)
  end)
  -- the relay ends with the container (or once it relayed); a run that
  -- failed may leave the container to delete below
  if relay then
    if not ok then core.kill(relay, "KILL") end
    core.wait(relay)
  end
  if not ok then
    pcall(operations.delete, root, id, true, o.warn)
    error(code, 0)
  end
  if not o.detach and not o.keep then operations.delete(root, id, true, o.warn) end
  return code
end

-- The OCI config a script's container is created from: what
-- operations.create and the state read of it (the root, the process's
-- command, terminal and ids, the namespaces, the cgroup, the hooks).
local function spec_of(box, runtime)
  local namespaces = {}
  if box.userns then namespaces[1] = { type = "user" } end
  for _, word in ipairs(box.namespaces or container.namespaces) do
    namespaces[#namespaces + 1] = { type = OCI_TYPE[word] or word }
  end
  for _, ns in ipairs(runtime.namespaces or {}) do namespaces[#namespaces + 1] = ns end
  local function mappings(map)
    local list = {}
    for i, m in ipairs(map or {}) do list[i] = { containerID = m[1], hostID = m[2], size = m[3] } end
    return list
  end
  local env = {}
  for k, v in pairs(box.env or {}) do env[#env + 1] = k .. "=" .. v end
  table.sort(env)
  local user = box.user or {}
  return { ociVersion = common.spec_version, hostname = box.hostname,
    root = { path = box.rootfs, readonly = box.readonly },
    process = { args = box.command, terminal = box.tty, cwd = box.cwd, env = env,
      user = { uid = user.uid, gid = user.gid, additionalGids = user.groups },
      oomScoreAdj = runtime.oomScoreAdj },
    hooks = runtime.hooks, annotations = runtime.annotations,
    linux = { namespaces = namespaces, cgroupsPath = runtime.cgroupsPath,
      resources = runtime.resources, sysctl = runtime.sysctl, devices = runtime.devices,
      seccomp = runtime.seccomp,
      uidMappings = mappings(box.uid_map), gidMappings = mappings(box.gid_map) } }
end

-- operations.create's options function for box: box itself, its cgroup
-- mounts made for the container's cgroup cg as nsl.oci.config does, a
-- read-only /dev writable until filled, and the extras (joins, sysctl,
-- oomScoreAdj, devices) of spec (its seccomp is the agent's part only:
-- box's policy is the one loaded).
local function options_of(box)
  return function(spec, bundle, id, cg, o)
    local linux = util.copy(spec.linux)
    linux.seccomp = nil
    local _, x = config.options(setmetatable({ linux = linux }, { __index = spec }), bundle, id, cg, o)
    x.env, x.warnings = box.env or {}, {}
    local opts = {}
    for k, v in pairs(box) do opts[k] = v end
    if box.mounts then
      opts.mounts = {}
      for _, m in ipairs(box.mounts) do
        local made = { util.copy(m) } -- writable_dev changes the copy
        if m.fstype == "cgroup" then
          local one = { ociVersion = spec.ociVersion, root = spec.root, process = spec.process,
            mounts = { { type = "cgroup", destination = m.target,
              options = util.has_word(m.flags, "rdonly") and { "ro" } or nil } } }
          made = config.options(one, bundle, id, cg).mounts
        end
        table.move(made, 1, #made, #opts.mounts + 1, opts.mounts)
      end
      x.readonly_dev = devices.writable_dev(opts.mounts)
    end
    return opts, x
  end
end

--- A generated script's main: run box and runtime's container as `nsl oci
-- run` runs a bundle's (args: [--root DIR] [ID]); prints a failure as
-- "nsl: message" and returns the exit code (125 for a failed setup).
function M.run_script(box, runtime, args)
  local root, id
  local i = 1
  while args and args[i] do
    if args[i] == "--root" and args[i + 1] then root, i = args[i + 1], i + 2
    elseif not id and args[i]:sub(1, 1) ~= "-" then id, i = args[i], i + 1
    else
      io.stderr:write("nsl: usage: nsl run SCRIPT [--root DIR] [ID]\n")
      return 125
    end
  end
  local function warn(msg) io.stderr:write("nsl: warning: ", msg, "\n") end
  local ok, code = pcall(M.run, root or statedir.default_root(),
    id or string.format("lua-%d", core.getpid()), runtime.bundle,
    { spec = spec_of(box, runtime), options = options_of(box), keep_tty = true, warn = warn,
      notify_socket = os.getenv("NOTIFY_SOCKET") })
  if not ok then
    io.stderr:write("nsl: ", tostring(code), "\n")
    return 125
  end
  return code
end

return M
