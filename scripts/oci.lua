-- oci.lua: nsl as an OCI runtime, with runc's command line (podman, containerd)
--
-- usage: nsl oci [GLOBAL OPTIONS] COMMAND [OPTIONS] [ID] [ARGS...]
--        nsl-oci ...                (a link to nsl under that name)
--
--   nsl oci spec                          a config.json in the current directory
--   nsl oci lua > box.lua; nsl run box.lua  the bundle as a Lua script, run
--   nsl oci run box                       create and start box, wait for it
--   nsl oci create --bundle B box; nsl oci start box; nsl oci state box
--   podman --runtime /usr/bin/nsl-oci run --rm IMAGE echo hi
--
-- The work is nsl.oci's (and the container steps under it); this script
-- reads the command line, calls it, and reports as runc does: errors on
-- stderr and in --log (one JSON object a line with --log-format json),
-- exit status 1 for an error (255 for an exec that did not start), the
-- container's own status for run and exec.
-- The fds open now, before nsl oci opens any: its caller's, the only ones
-- --preserve-fds and LISTEN_FDS pass on (readdir's own is closed again).
local function inherited_fds()
  local core = require "nsl.core"
  local set = {}
  for _, name in ipairs(core.readdir("/proc/self/fd") or {}) do
    local fd = math.tointeger(tonumber(name))
    if fd and fd > 2 and core.stat(fd) then set[fd] = true end
  end
  return set
end
local INHERITED_FDS = inherited_fds()

local nsl = require "nsl"
local oci = require "nsl.oci"
local json = oci.json

local usage = [==[
usage: nsl oci [GLOBAL OPTIONS] COMMAND [OPTIONS] [ID] [ARGS...]
global options:
  --root DIR            the state directory (default /run/nsl-oci for root)
  --log FILE            also log to FILE;  --log-format text|json
  --debug               log debug messages too
  --systemd-cgroup, --cgroup-manager M, --rootless B   accepted (cgroupfs is used)
commands:
  create [--bundle DIR] [--config FILE] [--pid-file F] [--console-socket S]
         [--no-pivot] [--preserve-fds N] ID    set up, blocked until start
  start ID                              let a created container run
  run [create's options] [--detach] [--keep] ID   create, start, wait, delete
  state ID                              the state as JSON
  kill [--all] ID [SIGNAL]              default TERM (--all: none left is no error)
  delete [--force] ID
  exec [--process FILE | ARGS...] [--detach] [--pid-file F] [--tty]
       [--console-socket S] [--env K=V] [--user U[:G]] [--cwd DIR]
       [--cap CAP] [--no-new-privs] [--preserve-fds N] [--ignore-paused]
       [--cgroup [CONTROLLER[,CONTROLLER]:]PATH]   (a sub-cgroup of the container's)
       ID [ARGS...]                     (status 255 when it did not start)
  pause ID, resume ID                   freeze and thaw its cgroup
  update [-r|--resources FILE|-] [--memory M] [--memory-reservation M]
         [--memory-swap M] [--cpu-quota N] [--cpu-period N] [--cpu-share N]
         [--pids-limit N] [--cpuset-cpus L] [--cpuset-mems L]
         [--cpu-rt-period N] [--cpu-rt-runtime N] ID
                                        change its cgroup limits
  ps [--format table|json] ID [PS ARGS] its processes
  events [--stats] [--interval 5s] ID   its cgroup stats (every interval) and
                                        OOM kills, a JSON object a line
  list [--format table|json] [--quiet]
  spec [--bundle DIR] [--rootless]      write a default config.json
  lua [--bundle DIR]                    print a Lua script of the bundle: `nsl run`
                                        of it starts the same container as `run`
  features                              what this runtime supports, as JSON
  -v, --version, -h, --help]==]

local g = { root = nil, log = nil, log_format = "text", debug = false }

-- One log line: text "time=... level=... msg=..." or a JSON object.
local function log(level, msg)
  if not g.log or (level == "debug" and not g.debug) then return end
  local f = io.open(g.log, "a")
  if not f then return end
  local time = os.date("!%Y-%m-%dT%H:%M:%SZ")
  if g.log_format == "json" then
    f:write(json.encode { level = level, msg = msg, time = time }, "\n")
  else
    f:write(string.format("time=%q level=%s msg=%q\n", time, level, msg))
  end
  f:close()
end

local function warn(msg)
  log("warning", msg)
  io.stderr:write("nsl-oci: warning: ", msg, "\n")
end

-- Report an error as runc does (stderr and the log) and exit.
local function die(msg, code)
  msg = tostring(msg)
  log("error", msg)
  io.stderr:write(msg, "\n")
  os.exit(code or 1)
end

-- Options of each command: name -> "flag", "value" or "list"; short
-- names map onto long ones. "--x=v" and "--x v" both work.
local OPTIONS = {
  create = { bundle = "value", config = "value", ["pid-file"] = "value", ["console-socket"] = "value",
    ["no-pivot"] = "flag", ["no-new-keyring"] = "flag", ["preserve-fds"] = "value" },
  run = { bundle = "value", config = "value", ["pid-file"] = "value", ["console-socket"] = "value",
    ["no-pivot"] = "flag", ["no-new-keyring"] = "flag", ["preserve-fds"] = "value",
    detach = "flag", keep = "flag" },
  start = {}, state = {}, pause = {}, resume = {}, features = {},
  kill = { all = "flag" },
  update = { resources = "value", memory = "value", ["memory-reservation"] = "value",
    ["memory-swap"] = "value", ["cpu-quota"] = "value", ["cpu-period"] = "value",
    ["cpu-share"] = "value", ["pids-limit"] = "value",
    -- runc's, refused by commands.update: never a limit silently left out
    ["cpuset-cpus"] = "value", ["cpuset-mems"] = "value", ["kernel-memory"] = "value",
    ["kernel-memory-tcp"] = "value", ["blkio-weight"] = "value", ["cpu-rt-period"] = "value",
    ["cpu-rt-runtime"] = "value", ["cpu-idle"] = "value", ["l3-cache-schema"] = "value",
    ["mem-bw-schema"] = "value" },
  delete = { force = "flag" },
  list = { format = "value", quiet = "flag" },
  ps = { format = "value" },
  events = { stats = "flag", interval = "value" },
  spec = { bundle = "value", rootless = "flag" },
  lua = { bundle = "value", help = "flag" },
  exec = { process = "value", detach = "flag", ["pid-file"] = "value", tty = "flag",
    ["console-socket"] = "value", env = "list", user = "value", cwd = "value", cap = "list",
    ["no-new-privs"] = "flag", ["additional-gids"] = "list", ["preserve-fds"] = "value",
    apparmor = "value", ["process-label"] = "value", ["ignore-paused"] = "flag",
    cgroup = "list" },
}
local SHORT = { b = "bundle", d = "detach", a = "all", f = "force", q = "quiet", p = "process",
  t = "tty", e = "env", u = "user", c = "cap", g = "additional-gids", r = "resources",
  h = "help" }

-- runc takes a command's options after its operands too (urfave/cli moves
-- them to the front: `update ID --memory 1g`), except exec's and ps's,
-- whose words after the ID belong to the command they run.
local OPERANDS_END_OPTIONS = { exec = true, ps = true }

-- The options of cmd in args from i: o, and the index of its first
-- operand (the operands are moved together there, "--" ends the options).
local function parse(cmd, args, i)
  local spec, o, operands, first = OPTIONS[cmd], {}, {}, i
  while args[i] do
    local a = args[i]
    if a == "--" then i = i + 1; break end
    if a:sub(1, 1) ~= "-" or a == "-" or (cmd == "kill" and a:match("^%-%d+$")) then
      if OPERANDS_END_OPTIONS[cmd] then break end
      operands[#operands + 1] = a
    else
      local name, value = a:match("^%-%-?([^=]+)=(.*)$")
      name = name or a:match("^%-%-?(.+)$")
      -- `ps --format json ID` and `kill ID -9`-free: "-f" is force or format
      if #name == 1 then name = (cmd == "list" or cmd == "ps") and name == "f" and "format" or SHORT[name] or name end
      local kind = spec[name]
      if not kind then die(string.format("%s: unknown option '%s'", cmd, a), 1) end
      if kind == "flag" then
        o[name] = value == nil or value == "true"
      else
        if value == nil then
          i = i + 1
          value = args[i]
          if value == nil then die(string.format("%s: option '%s' needs a value", cmd, a)) end
        end
        if kind == "list" then o[name] = o[name] or {}; table.insert(o[name], value)
        else o[name] = value end
      end
    end
    i = i + 1
  end
  if #operands == 0 then return o, i end
  local rest = table.move(args, i, #args, 1, {})
  for j = #args, first, -1 do args[j] = nil end
  table.move(operands, 1, #operands, first, args)
  table.move(rest, 1, #rest, first + #operands, args)
  return o, first
end

-- Global options, then the command.
local args = {}
for j = 1, #arg do args[j] = arg[j] end
local i = 1
local GLOBAL_SHORT = { ["-v"] = "--version", ["-h"] = "--help" } -- runc's
while args[i] and (args[i]:sub(1, 2) == "--" or GLOBAL_SHORT[args[i]]) do
  local a = GLOBAL_SHORT[args[i]] or args[i]
  local name, value = a:match("^%-%-([^=]+)=(.*)$")
  name = name or a:sub(3)
  local function take()
    if value then return value end
    i = i + 1
    return args[i] or die("option --" .. name .. " needs a value")
  end
  if name == "root" then g.root = take()
  elseif name == "log" then g.log = take()
  elseif name == "log-format" then g.log_format = take()
  elseif name == "cgroup-manager" or name == "rootless" or name == "criu" then take()
  elseif name == "debug" then g.debug = true
  elseif name == "systemd-cgroup" then g.systemd_cgroup = true
  elseif name == "version" then
    print(string.format("nsl-oci version %s\nspec: %s\nnsl: %s", oci.version, oci.spec_version,
      nsl.version))
    os.exit(0)
  elseif name == "help" then print(usage); os.exit(0)
  else die("unknown global option '" .. a .. "'\n" .. usage, 1) end
  i = i + 1
end
g.root = g.root or oci.default_root()

local cmd = args[i]
if not cmd or cmd == "help" then
  io.stderr:write(usage, "\n")
  os.exit(cmd and 0 or 1)
end
if not OPTIONS[cmd] then die("unknown command '" .. cmd .. "'\n" .. usage, 1) end
local o, at = parse(cmd, args, i + 1)
log("debug", table.concat(args, " "))

local function need_id()
  local id = args[at]
  if not id then die(string.format("%s: a container ID is needed", cmd)) end
  return id
end

-- sd_listen_fds(3): the fds a socket activator passed to this process,
-- from fd 3. A LISTEN_PID that is not ours means they were another's (as
-- runc checks); none at all is taken as ours (as crun does).
local function listen_fds()
  local pid = os.getenv("LISTEN_PID")
  if pid and math.tointeger(tonumber(pid)) ~= nsl.getpid() then return 0 end
  return math.tointeger(tonumber(os.getenv("LISTEN_FDS") or 0)) or 0
end

-- the fds to pass: --preserve-fds N after the activator's, as runc and
-- crun do
local function preserve_fds()
  local n = math.tointeger(tonumber(o["preserve-fds"] or 0)) or 0
  return n + listen_fds()
end

-- state's and list's fields in runc's order (any others after them, sorted)
local KEY_ORDER = { "ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner",
  "annotations" }

local function print_json(value, indent)
  print(json.encode(value, { indent = indent, keyorder = KEY_ORDER }))
end

-- Each command; a raised error is reported by die.
local commands = {}

function commands.create()
  oci.create(g.root, need_id(), o.bundle, { config = o.config, pid_file = o["pid-file"],
    console_socket = o["console-socket"], no_pivot = o["no-pivot"],
    preserve_fds = preserve_fds(), inherited_fds = INHERITED_FDS, listen_fds = listen_fds(),
    warn = warn, notify_socket = os.getenv("NOTIFY_SOCKET") })
  return 0
end

function commands.start()
  oci.start(g.root, need_id(), warn, { notify_socket = os.getenv("NOTIFY_SOCKET") })
  return 0
end

function commands.run()
  return oci.run(g.root, need_id(), o.bundle, { config = o.config,
    pid_file = o["pid-file"], console_socket = o["console-socket"], no_pivot = o["no-pivot"],
    preserve_fds = preserve_fds(), inherited_fds = INHERITED_FDS, listen_fds = listen_fds(),
    warn = warn, keep_tty = not o.detach, detach = o.detach,
    keep = o.keep, notify_socket = os.getenv("NOTIFY_SOCKET") })
end

function commands.state()
  local st = oci.load(g.root, need_id())
  print_json(oci.state_object(st), true)
  return 0
end

function commands.kill()
  local id = need_id()
  oci.kill(g.root, id, args[at + 1] or "TERM", o.all)
  return 0
end

function commands.delete()
  oci.delete(g.root, need_id(), o.force, warn)
  return 0
end

-- runc's update flags nsl-oci has no limit for.
local NOT_UPDATED = { "kernel-memory", "kernel-memory-tcp",
  "blkio-weight", "cpu-idle", "l3-cache-schema", "mem-bw-schema" }

-- The linux.resources object of --resources FILE (- for stdin), or {}.
local function resources_file(path)
  if not path then return {} end
  local text, err
  if path == "-" then text = io.read("a") else text, err = nsl.util.read_file(path) end
  if not text then die(string.format("update: cannot read %s: %s", path, tostring(err))) end
  local r = json.decode(text, 1, json.null)
  if type(r) ~= "table" then die(string.format("update: %s: not a JSON object", path)) end
  return r
end

-- The value of update's --flag: a size (bytes, or with k, m, g), a list
-- of CPUs or nodes as given ("0-1,3"), or an integer.
local function update_value(flag, kind)
  local value = o[flag]
  if kind == "list" then return value end
  if kind == "size" then
    local ok, bytes = pcall(nsl.cgroup.parse_size, value)
    if not ok then die(string.format("update: --%s: %s", flag, bytes)) end
    return bytes
  end
  return math.tointeger(tonumber(value)) or
    die(string.format("update: --%s: '%s' is not an integer", flag, value))
end

function commands.update()
  local id = need_id()
  for _, flag in ipairs(NOT_UPDATED) do
    if o[flag] then die("update: --" .. flag .. " is not supported by nsl-oci") end
  end
  local r = resources_file(o.resources)
  -- the flags win over the file, as runc has it
  local function put(section, field, flag, kind)
    if o[flag] == nil then return end
    if type(r[section]) ~= "table" then r[section] = {} end
    r[section][field] = update_value(flag, kind)
  end
  put("memory", "limit", "memory", "size")
  put("memory", "reservation", "memory-reservation", "size")
  put("memory", "swap", "memory-swap", "size")
  put("cpu", "quota", "cpu-quota")
  put("cpu", "period", "cpu-period")
  put("cpu", "shares", "cpu-share")
  put("cpu", "cpus", "cpuset-cpus", "list")
  put("cpu", "mems", "cpuset-mems", "list")
  put("cpu", "realtimePeriod", "cpu-rt-period")
  put("cpu", "realtimeRuntime", "cpu-rt-runtime")
  put("pids", "limit", "pids-limit")
  oci.update(g.root, id, r, warn)
  return 0
end

function commands.pause()
  oci.pause(g.root, need_id(), false)
  return 0
end

function commands.resume()
  oci.pause(g.root, need_id(), true)
  return 0
end

function commands.list()
  local rows = {}
  for _, id in ipairs(oci.ids(g.root)) do
    local ok, st = pcall(oci.load, g.root, id)
    if ok then rows[#rows + 1] = oci.state_object(st) end
  end
  if o.quiet then
    for _, r in ipairs(rows) do print(r.id) end
  elseif o.format == "json" then
    print_json(rows, false)
  else
    print(string.format("%-12s %-8s %-10s %-40s %-30s %s", "ID", "PID", "STATUS", "BUNDLE",
      "CREATED", "OWNER"))
    for _, r in ipairs(rows) do
      print(string.format("%-12s %-8d %-10s %-40s %-30s %s", r.id, r.pid, r.status, r.bundle,
        r.created, r.owner))
    end
  end
  return 0
end

function commands.ps()
  local st = oci.load(g.root, need_id())
  local pids = oci.pids(st)
  if o.format == "json" then
    print(json.encode(pids))
    return 0
  end
  local ps_args = {}
  for j = at + 1, #args do ps_args[#ps_args + 1] = args[j] end
  if #ps_args == 0 then ps_args = { "-ef" } end
  local quoted = {}
  for j, a in ipairs(ps_args) do quoted[j] = "'" .. a:gsub("'", "'\\''") .. "'" end
  local p = io.popen("ps " .. table.concat(quoted, " "))
  local header = p:read("l") or ""
  local column
  local n = 0
  for word in header:gmatch("%S+") do
    n = n + 1
    if word == "PID" then column = n end
  end
  if not column then p:close(); die("ps: no PID column in the output of ps") end
  local wanted = {}
  for _, pid in ipairs(pids) do wanted[tostring(pid)] = true end
  print(header)
  for line in p:lines() do
    local k = 0
    for word in line:gmatch("%S+") do
      k = k + 1
      if k == column then
        if wanted[word] then print(line) end
        break
      end
    end
  end
  p:close()
  return 0
end

-- The OCI process of `exec`: --process FILE, or the container's own with
-- ARGS and the options over it.
local function exec_process(st)
  if o.process then
    local f = io.open(o.process) or die("exec: cannot read " .. o.process)
    local p = json.decode(f:read("a"), 1, json.null)
    f:close()
    if type(p) ~= "table" or type(p.args) ~= "table" then die("exec: " .. o.process ..
      " is not a process object with args") end
    return p
  end
  local base = st.config.process
  local p = {}
  for k, v in pairs(base) do p[k] = v end
  p.args = {}
  for j = at + 1, #args do p.args[#p.args + 1] = args[j] end
  if #p.args == 0 then die("exec: a command is needed (ARGS or --process)") end
  p.env = { table.unpack(base.env or {}) }
  for _, e in ipairs(o.env or {}) do p.env[#p.env + 1] = e end
  p.cwd = o.cwd or base.cwd
  p.terminal = o.tty or false
  if o.user then
    local uid, gid = o.user:match("^(%d+):?(%d*)$")
    if not uid then die("exec: --user wants UID[:GID]") end
    p.user = { uid = tonumber(uid), gid = tonumber(gid) or 0,
      additionalGids = {} }
  else
    p.user = base.user
  end
  if o["additional-gids"] then
    p.user = p.user or {}
    p.user.additionalGids = {}
    for _, gid in ipairs(o["additional-gids"]) do table.insert(p.user.additionalGids, tonumber(gid)) end
  end
  if o.cap then
    -- as runc: added to the bounding, effective and permitted sets; the
    -- inheritable and ambient ones stay the container's
    local caps = base.capabilities or {}
    p.capabilities = { inheritable = caps.inheritable, ambient = caps.ambient }
    for _, set in ipairs { "bounding", "effective", "permitted" } do
      local list = { table.unpack(caps[set] or {}) }
      for _, c in ipairs(o.cap) do list[#list + 1] = c end
      p.capabilities[set] = list
    end
  end
  -- as runc: the container's own unless the flag is given (=false too)
  if o["no-new-privs"] ~= nil then p.noNewPrivileges = o["no-new-privs"] end
  return p
end

-- runc's exec says 255 for any exec that did not start, a command that is
-- not there too: podman tells that one from the message ("executable
-- file not found", see operations' exec_lookup_step), not the status
function commands.exec()
  local id = need_id()
  local ok, code, message = pcall(function()
    local st = oci.load(g.root, id)
    return oci.exec(g.root, id, exec_process(st), { detach = o.detach,
      pid_file = o["pid-file"], console_socket = o["console-socket"],
      preserve_fds = preserve_fds(), inherited_fds = INHERITED_FDS,
      ignore_paused = o["ignore-paused"], cgroup = o.cgroup })
  end)
  if not ok then die("exec failed: " .. tostring(code), 255) end
  if message then die("exec failed: " .. message, 255) end
  return code
end

function commands.spec()
  local dir = o.bundle or "."
  local path = dir .. "/config.json"
  if io.open(path) then die("File " .. path .. " exists. Remove it first") end
  local f = io.open(path, "w") or die("cannot write " .. path)
  f:write(json.encode(oci.default_spec(o.rootless), { indent = true }), "\n")
  f:close()
  return 0
end

local lua_usage = [==[
usage: nsl oci lua [--bundle DIR] > box.lua
       nsl run box.lua [--root DIR] [ID]

Prints a Lua script of the bundle's config.json (DIR, default the current
directory): `nsl run` of it starts the same container as `nsl oci run ID`
of the bundle (the same create, start, wait and delete; ID defaults to
lua-PID). The script is data: `box`, nsl.container's options (mounts,
devices, namespaces, id maps, capability sets, rlimits, seccomp policy,
hostname, env, cwd, user, command), and `runtime`, what nsl.oci does around
it (cgroup, hooks, sysctl, oomScoreAdj); a comment lists the steps. Change
a line and run it. Of the bundle only the root is used (its absolute path).
A config `nsl oci run` refuses is refused here with the same message.]==]

-- The bundle as a Lua script on stdout (nsl.oci.script), with the
-- warnings `run` would give.
function commands.lua()
  if o.help then print(lua_usage); return 0 end
  if args[at] then die("lua: unexpected argument '" .. args[at] .. "' (the bundle is --bundle DIR)") end
  local text, warnings = oci.script(o.bundle)
  for _, w in ipairs(warnings) do warn(w) end
  io.stdout:write(text)
  return 0
end

-- A Go duration, as runc's --interval takes it ("5s", "100ms", "1m30s"),
-- in milliseconds.
local DURATION_MS = { ns = 1e-6, us = 1e-3, ms = 1, s = 1000, m = 60000, h = 3600000 }
local function duration_ms(text)
  local total, pos = 0, 1
  while pos <= #text do
    local n, unit, after = text:match("^(%d+%.?%d*)(%a+)()", pos)
    if not (n and DURATION_MS[unit]) then
      die(string.format("events: --interval: '%s' is not a duration (5s, 100ms)", text))
    end
    total, pos = total + tonumber(n) * DURATION_MS[unit], after
  end
  if total <= 0 then die("events: --interval must be positive") end
  return total
end

function commands.events()
  local id = need_id()
  if o.stats then
    print(oci.stats(g.root, id))
    return 0
  end
  oci.events(g.root, id, duration_ms(o.interval or "5s"), function(line)
    io.stdout:write(line, "\n")
    io.stdout:flush()
  end)
  return 0
end

function commands.features()
  print_json(oci.features(), true)
  return 0
end

local ok, code = pcall(commands[cmd])
if not ok then die(code) end
os.exit(code)
