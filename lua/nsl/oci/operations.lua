-- nsl.oci.operations: the runtime's operations (create, start, kill,
-- delete, pause, exec, update) and the steps this runtime adds to nsl.container's.
local core = require "nsl.core"
local container = require "nsl.container"
local cgroup = require "nsl.cgroup"
local errors = require "nsl.errors"
local process = require "nsl.process"
local util = require "nsl.util"
local common = require "nsl.oci.common"
local config = require "nsl.oci.config"
local devices = require "nsl.oci.devices"
local hooks = require "nsl.oci.hooks"
local notify = require "nsl.oci.notify"
local sdnotify = require "nsl.oci.sdnotify"
local statedir = require "nsl.oci.state"
local subcgroup = require "nsl.oci.subcgroup"
local fail = common.fail
local write_atomic = common.write_atomic
local abs = common.abs
local proc_stat = common.proc_stat
local now_rfc3339 = common.now_rfc3339
local val = common.val
local nested_userns = common.nested_userns
local sleep_ms = common.sleep_ms
local json = common.json

local M = {}

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

-- The hooks of kind, run by the container's process. It learns its own
-- pid (as the host sees it, for the hooks' state and startContainer's)
-- before the pivot, from the /proc it still shares with nsl-oci.
local function hooks_step(kind, st)
  return function()
    st.pid = st.pid or math.tointeger(tonumber(core.readlink("/proc/self") or ""))
    hooks.run_hooks(st, kind)
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
    -- nobody reads the report now: a failed hook (run under the seccomp
    -- filter, as runc runs it) says why on the container's stderr
    local ran, hook_err = pcall(hooks.run_hooks, st, "startContainer")
    if not ran then process.last_word(125, hook_err) end
    -- a pipe this process holds both ends of takes what is left (not
    -- /dev/null, which the config may deny)
    local sink_w
    c.report_sink, sink_w = assert(core.pipe())
    core.dup2(sink_w, report:fileno())
    sink_w:close()
  end
end

-- Look the command up before the seccomp filter, as runc does: a profile
-- that refuses stat or access to the command still lets it run.
local function lookup_step(c)
  c.command_path = container.find_command(c, c.command[1])
end

-- exec's lookup: a command that is not there ends the process in runc's
-- words, which podman reads (its 127 for "executable file not found" and
-- "no such file or directory", its 126 for "permission denied").
local function exec_lookup_step(c, report)
  local name = c.command[1]
  local path, code = container.find_command(c, name)
  if not path then
    local why = code == 126 and "permission denied" or
      name:find("/", 1, true) and string.format("stat %s: no such file or directory", name) or
      string.format("executable file not found in $PATH (PATH %s)", c.env.PATH or "")
    process.die(report, code, string.format('exec: "%s": %s', name, why))
  end
  c.command_path = path
end

-- exec's gate, the step before the filter: B waits there until this
-- process has seen A end well and lets it go on (one byte); EOF (the exec
-- failed, or nsl-oci ended) ends B before anything of the command ran.
local function gate_step(gate_r)
  return function()
    local got = gate_r:read(1)
    gate_r:close()
    if got ~= "1" then error("exec: nsl-oci did not let the process go on (it failed or ended)", 0) end
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
-- with the steps of this runtime added; x as config.options returns it
-- (o.options, when given, in its place: a script's own tables).
function M.config(spec, bundle, id, cg, o, st, fifo)
  local opts, x = (o and o.options or config.options)(spec, bundle, id, cg, o)
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
  insert(c.steps, "links", devices.step(x.devices))
  insert(c.steps, "console", devices.console_step)
  -- /dev read-only once populated, after the createContainer hooks (runc's order)
  if x.readonly_dev then insert(c.steps, "enter_root", devices.readonly_dev_step) end
  if o and o.listen_fds and o.listen_fds > 0 then
    -- socket activation, as runc passes it on: the fds from 3 and the
    -- command's pid as it sees it (1 in a pid namespace of its own)
    c.env.LISTEN_FDS = tostring(o.listen_fds)
    insert(c.steps, "seccomp", function() c.env.LISTEN_PID = tostring(core.getpid()) end)
  end
  insert(c.steps, "seccomp", lookup_step)
  if fifo then c.steps[#c.steps + 1] = hold_step(fifo, st) end
  return c, x
end

-- c's binds by container.tree_key (a source bound plainly and one bound
-- recursively are two trees): { source, rec = "rec" (rbind) or nil,
-- count = how many binds take a tree of their own }.
local function bind_sources(c)
  local sources = {}
  for _, m in ipairs(c.mounts) do
    local rec = util.has_word(m.flags, "rbind")
    if rec or util.has_word(m.flags, "bind") then
      local key = container.tree_key(m.source, m.flags)
      sources[key] = sources[key] or { source = m.source, rec = rec and "rec" or nil, count = 0 }
      sources[key].count = sources[key].count + 1
    end
  end
  return sources
end

-- count copies of bind's tree (nsl.open_tree), or an empty list when one fails.
local function open_trees(bind)
  local list = {}
  for i = 1, bind.count do
    list[i] = core.open_tree(bind.source, bind.rec)
    if not list[i] then
      for _, tree in ipairs(list) do tree:close() end
      return {}
    end
  end
  return list
end

-- Per-mount flags a container's root could clear on a tree no user
-- namespace copy locked.
local LIFTABLE = { ro = true, nosuid = true, nodev = true, noexec = true }

-- What the container's root could lift on the caller's copy of source's
-- tree, its flags not locked by a user namespace copy: "its mount is ro",
-- "a mount is below it at PATH" (rec: it could unmount it), nil for
-- nothing (a plain read-write mount).
local function unlocked_protection(source, rec)
  local fd = core.open(source, "path cloexec")
  if not fd then return nil end -- the caller's open_tree fails too
  local n = fd:fileno()
  local path = core.readlink("/proc/self/fd/" .. n)
  local info = util.read_file("/proc/self/fdinfo/" .. n)
  fd:close()
  local id = info and tonumber(info:match("mnt_id:%s*(%d+)"))
  local mounts = require("nsl.inspect").mountinfo()
  if not (path and id and mounts) then return "its mount could not be read (/proc/self/mountinfo)" end
  local below = path == "/" and "/" or path .. "/"
  for _, m in ipairs(mounts) do
    if m.id == id then
      local flags = {}
      for _, o in ipairs(m.options) do
        if LIFTABLE[o] then flags[#flags + 1] = o end
      end
      if #flags > 0 then return "its mount is " .. table.concat(flags, ",") end
    elseif rec and m.target:sub(1, #below) == below then
      return "a mount is below it at " .. m.target
    end
  end
end

-- In a user namespace the container's root may not reach a bind's source
-- (below a 0700 directory of the caller's): copies of the binds' trees for
-- mount_system to take where its own lookup gets EACCES (runc and crun
-- prepare such binds outside too). Those made here by the caller (real
-- root: rootless, it may not copy a mount of the host's) have flags the
-- container could lift: c.unlocked_trees says which, for bind_in_root to
-- refuse them...
local function bind_trees(c)
  local trees = {}
  c.unlocked_trees = {}
  if not c.userns then return trees end
  for key, bind in pairs(bind_sources(c)) do
    trees[key] = open_trees(bind)
    c.unlocked_trees[key] = #trees[key] > 0 and unlocked_protection(bind.source, bind.rec) or nil
  end
  return trees
end

-- ...are replaced by the container's own, made before it takes the mapped
-- root's ids: looked up with the caller's (a rootless caller's 0700
-- directory, which a subordinate root may not enter), in the container's
-- mount namespace, so the flags the kernel locked there stay locked. Runs
-- in the container's process (how.before_root of container.spawn).
local function own_bind_trees(c)
  if not c.userns then return end
  for key, bind in pairs(bind_sources(c)) do
    local own = open_trees(bind)
    if #own > 0 then
      for _, tree in ipairs(c.trees[key]) do tree:close() end
      c.trees[key] = own
      c.unlocked_trees[key] = nil -- locked: copied in the container's namespace
    end
  end
end

-- Refuse linux.resources.unified (cgroup v2 files by name) where the
-- host's cgroups are v1: nothing could apply them (runc refuses them too).
local function refuse_unified(r)
  local keys = {}
  for k in pairs(val(r and val(r.unified)) or {}) do keys[#keys + 1] = k end
  if #keys == 0 then return end
  local h = cgroup.hierarchies()
  if h and h.version == 2 then return end
  table.sort(keys)
  fail("invalid configuration: linux.resources.unified sets %s: cgroup v2 files, but this " ..
    "host's cgroups are v1 " ..
    "(a hybrid host's unified hierarchy has no controllers)", table.concat(keys, ", "))
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
-- once, and nsl-oci with it (in D state, beyond a client's timeout). The
-- words before the colon are runc's, which its users grep for.
local function refuse_frozen(cg)
  if cg and freezing(cg) then
    local dir = cg.version == 2 and cg.dirs.unified or cg.dirs.freezer
    fail("container's cgroup unexpectedly frozen: %s is frozen; thaw it (cgroup.freeze 0, " ..
      "freezer.state THAWED) before putting a container in it", dir)
  end
end

-- The pids in any directory of cg (a process may have been moved out of
-- one hierarchy's cgroup and not the others), sorted.
local function pids_in(cg)
  local seen, list = {}, {}
  for _, dir in pairs(cg.dirs) do
    for n in (util.read_file(dir .. "/cgroup.procs") or ""):gmatch("%d+") do
      local pid = math.tointeger(tonumber(n))
      if not seen[pid] then seen[pid], list[#list + 1] = true, pid end
    end
  end
  table.sort(list)
  return list
end

-- runc's warning (in its words) for a cgroup that has processes already:
-- another container's, which shares it (a kill --all or a delete of
-- either reaches both).
local function warn_not_empty(cg, warn)
  local n = cg and warn and #pids_in(cg) or 0
  if n > 0 then warn(string.format("container's cgroup is not empty: %d process(es) found", n)) end
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

-- The fields of linux.resources that config.resources applies.
local APPLIED = { memory = { limit = true, reservation = true, swap = true },
  cpu = { quota = true, period = true, shares = true, cpus = true, mems = true,
    realtimePeriod = true, realtimeRuntime = true },
  pids = { limit = true } }

-- Does v ask for something (not null, false, "" or an empty table)?
local function given(v)
  return v ~= json.null and v ~= false and v ~= "" and not (type(v) == "table" and next(v) == nil)
end

-- The names of r's fields with a value that config.resources leaves out,
-- as "cpu.cpus", sorted.
local function not_applied(r)
  local names = {}
  for k, v in pairs(r) do
    if not APPLIED[k] then
      if given(v) then names[#names + 1] = k end
    elseif type(v) == "table" then
      for field, value in pairs(v) do
        if not APPLIED[k][field] and given(value) then names[#names + 1] = k .. "." .. field end
      end
    end
  end
  table.sort(names)
  return names
end

-- The fields of APPLIED that hold text; the others are integers.
local TEXT = { cpus = true, mems = true }
-- nsl.cgroup's limit of each text field, to check it with.
local TEXT_LIMIT = { cpus = "cpuset_cpus", mems = "cpuset_mems" }

-- Raise for a value of r that config.resources would not take as it is
-- (it skips what is not an integer): a limit given as "x" is refused, as
-- runc's decoder refuses it, not left unapplied. what: "update" or "create".
local function check_values(r, what)
  for k, fields in pairs(APPLIED) do
    local object = r[k]
    local present = object ~= nil and given(object)
    if present and type(object) ~= "table" then
      fail("%s: linux.resources.%s is not an object", what, k)
    end
    for field in pairs(present and fields or {}) do
      local v = object[field]
      local where = "linux.resources." .. k .. "." .. field
      if v == nil or v == json.null then
        goto next
      elseif TEXT[field] then
        if type(v) ~= "string" then fail("%s: %s: want a string, not %s", what, where, json.encode(v)) end
        local ok, err = pcall(cgroup.limits, { [TEXT_LIMIT[field]] = v })
        if not ok and v ~= "" then fail("%s: %s: %s", what, where, err) end
      elseif not math.tointeger(type(v) == "number" and v or nil) then
        fail("%s: %s: want an integer, not %s", what, where, json.encode(v))
      end
      ::next::
    end
  end
end

-- With a seccomp profile that holds syscalls for an agent
-- (SCMP_ACT_NOTIFY): connect to it (raises when nothing listens) and
-- load the filter with the step that hands the fd over (for exec, with the
-- state from its parent). nil without.
local function with_agent(c, s, st, exec)
  local path = notify.check(s)
  if not path then return nil end
  local agent = notify.connect(path, s.listenerMetadata, exec)
  for i, step in ipairs(c.steps) do
    if step == "seccomp" then c.steps[i] = notify.step(agent, st) end
  end
  return agent
end

--- Create container id from bundle: set it up and leave its process
-- blocked until start. o: config (its file instead of the bundle's
-- config.json, relative to the bundle), pid_file, console_socket, no_pivot,
-- preserve_fds (of inherited_fds, see config.pass_fds), listen_fds,
-- warn(message), keep_tty (return the pty master instead of
-- sending it), spec (the config as Lua data, for config.json) and options
-- (see M.config), notify_socket (the caller's NOTIFY_SOCKET: see
-- nsl.oci.sdnotify). Returns the state, the pid and the pty master (keep_tty).
function M.create(root, id, bundle, o)
  o = o or {}
  if not statedir.valid_id(id) then fail("invalid container ID '%s'", tostring(id)) end
  local notify_host = sdnotify.check(o.notify_socket)
  bundle = bundle and abs(bundle, core.getcwd()) or core.getcwd()
  local spec = o.spec or config.read_bundle(bundle, o.config)
  config.validate(spec)
  if spec.process.terminal == true and not o.console_socket and not o.keep_tty then
    fail("cannot allocate a pseudo-TTY without setting a console socket")
  end
  statedir.mkdir_p(root, "0711")
  local dir = statedir.dir_of(root, id)
  local ok, _, errno = core.mkdir(dir, "0711")
  if not ok then
    if errno == core.errno.EEXIST then fail("container with id exists: %s", id) end
    fail("cannot create the state directory %s", dir)
  end
  local cg, st, agent, held
  local done = false
  local leave_pid_namespace = function() end
  local function cleanup()
    if done then return end
    notify.close(agent)
    leave_pid_namespace()
    if cg then cg:remove() end
    sdnotify.remove(dir)
    core.unlink(dir .. "/exec.fifo")
    core.unlink(dir .. "/state.json")
    core.rmdir(dir)
  end
  local success, a, b, c3 = pcall(function()
    local resources = val(spec.linux) and val(spec.linux.resources)
    refuse_unified(resources)
    -- a limit config.resources would skip is refused, not left unapplied
    if resources then check_values(resources, "create") end
    local limits = config.resources(resources)
    local path = config.cgroup_path(val(spec.linux) and spec.linux.cgroupsPath, id)
    if not path:find("[^/]") then -- its removal would reach every cgroup
      fail("linux.cgroupsPath '%s' is the root of the cgroup hierarchies: the container " ..
        "needs a cgroup of its own", path)
    end
    local existing = cgroup.open(path)
    refuse_frozen(existing) -- before anything is made in it
    warn_not_empty(existing, o.warn)
    local notice
    cg, notice = cgroup.for_container { cgroup = path, resources = next(limits) and limits or nil }
    if notice and o.warn then o.warn(notice) end
    if cg then -- every hierarchy, as runc: /proc/self/cgroup names it on every line
      local made, merr, merrno = cg:make_in_every_hierarchy()
      if not made then fail("cgroup: %s", errors.explain(merr, merrno)) end
    end
    local attach_devices = devices.apply_cgroup(cg, val(spec.linux) and val(spec.linux.resources) and
      spec.linux.resources.devices, o.warn)
    st = { id = id, bundle = bundle, rootfs = abs(spec.root.path, bundle), created = now_rfc3339(),
      owner = "", config = spec, cgroup = cg and cg:save() or nil, root = root }
    assert(core.mknod(dir .. "/exec.fifo", "fifo", "0622"))
    assert(core.chmod(dir .. "/exec.fifo", "0622")) -- past the umask: any uid writes it
    local fifo = assert(core.open(dir .. "/exec.fifo", "path cloexec"))
    local c, x = M.config(spec, bundle, id, cg, o, st, fifo)
    for _, w in ipairs(x.warnings) do if o.warn then o.warn(w) end end
    if notify_host then sdnotify.prepare(c, dir, notify_host) end
    agent = with_agent(c, val(spec.linux) and spec.linux.seccomp, st)
    leave_pid_namespace = pid_namespace_for_children(x.pid_path)
    c.trees = bind_trees(c)
    local pid, master, message = container.spawn(c, { pdeathsig = false, prepare = function(pid)
      leave_pid_namespace() -- the hooks run in this process's own
      local handed, gerr = devices.console_to_mapped(c)
      if not handed then return nil, gerr end
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
        hooks.run_hooks(st, "prestart")
        hooks.run_hooks(st, "createRuntime")
      end)
      if not hooked then return nil, herr end
      return true
    end, before_root = own_bind_trees })
    fifo:close()
    for _, list in pairs(c.trees) do for _, tree in ipairs(list) do tree:close() end end
    notify.close(agent)
    agent = nil
    if message then -- the command is not there: the child ended with 126 or 127
      core.wait(pid)
      fail("%s", message)
    end
    held = pid
    -- set up and held: its command runs only once started
    if attach_devices then attach_devices() end
    st.pid, st.start = pid, proc_stat(pid)
    statedir.save(st)
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
    -- this process's child, held at exec.fifo (no parent-death signal):
    -- gone before its cgroup is removed, whether its state says so or not
    if held then
      core.kill(held, "KILL")
      core.wait(held)
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
  while statedir.alive(st) do
    if core.monotime() > deadline then return false end
    sleep_ms(5)
  end
  return true
end

-- Open the fifo of st at path: its process goes on to its command. Raises
-- when it cannot, or when the process ended.
local function open_fifo(st, path)
  local fifo, err = core.open(path, "rdonly nonblock cloexec")
  if not fifo then fail("cannot start the container: %s", err) end
  local got = ""
  while got == "" do
    local ready = core.poll({ fifo }, 100)
    if ready[1] then got = fifo:read(1) or "" end
    if got == "" and not statedir.alive(st) then
      fifo:close()
      fail("cannot start a container that has stopped")
    end
  end
  fifo:close()
  core.unlink(path)
end

--- Start a created container: open its fifo (the process goes on to its
-- command), remove the fifo, run the poststart hooks. o: notify_socket
-- (the caller's NOTIFY_SOCKET: wait until the container says READY=1, or
-- ends, and relay it, see nsl.oci.sdnotify), relay_in_child (relay in a
-- child process instead, MAINPID this process's, for `run` in the
-- foreground: returned second, to be reaped once the container ended),
-- relay_closes (fd objects that child closes: run's pty master).
function M.start(root, id, warn, o)
  o = o or {}
  local st = statedir.load(root, id)
  local status = statedir.status(st)
  if status == "stopped" then fail("cannot start a container that has stopped") end
  if status ~= "created" then fail("cannot start an already running container") end
  local dir = statedir.dir_of(root, id)
  local notify_host = sdnotify.check(o.notify_socket)
  -- bound before the container runs: its first READY=1 finds it there
  local notify_sock = notify_host and sdnotify.listen(dir, id)
  local opened, err = pcall(open_fifo, st, dir .. "/exec.fifo")
  if not opened then
    sdnotify.close(notify_sock, dir)
    error(err, 0)
  end
  hooks.run_hooks(st, "poststart", true, warn)
  if not notify_sock then return st end
  local function alive() return statedir.alive(st) end
  if o.relay_in_child then
    return st, sdnotify.relay_in_child(notify_sock, dir, notify_host, alive, core.getpid(), warn,
      o.relay_closes)
  end
  sdnotify.relay(notify_sock, dir, notify_host, alive, st.pid)
  return st
end

--- Send sig to the container's first process, or to all of its
-- processes (all: as runc, no error when none is left).
function M.kill(root, id, sig, all)
  local st = statedir.load(root, id)
  local status = statedir.status(st)
  if status == "stopped" and not all then fail("container not running") end
  if type(sig) == "string" and tonumber(sig) then sig = math.tointeger(tonumber(sig)) end
  -- core.kill raises for a signal it does not know
  local targets = all and statedir.pids(st) or { st.pid }
  for i, pid in ipairs(targets) do
    local okp, ok, err = pcall(core.kill, pid, sig)
    if not okp then fail("invalid signal '%s'", tostring(sig)) end
    if not ok and i == 1 and not all then fail("%s", err) end
  end
  if status == "paused" and (sig == "KILL" or sig == 9) then
    local cg = statedir.cgroup_of(st)
    if cg then cg:thaw() end
  end
end

-- Has the process of pidfd ended (a zombie, or reaped)?
local function ended(pidfd)
  return core.poll({ pidfd }, 0)[1] ~= false
end

-- Kill the process pid (held by pidfd) and put it back into the freezer
-- cgroup dir while it is there: a frozen one cannot end, so its number
-- stays its own. still_ours(pid) is asked again right before the write.
local function kill_into(dir, pid, pidfd, still_ours)
  core.pidfd_send_signal(pidfd, "KILL")
  if not ended(pidfd) and still_ours(pid) then
    util.write_once(dir .. "/cgroup.procs", pid) -- ESRCH: gone meanwhile
  end
end

-- A process killed in a frozen v1 freezer cgroup ends only once thawed:
-- the container's processes that another freezer cgroup holds (moved
-- there by some tool, and frozen) are killed and put back into the
-- container's own freezer cgroup, which thaws them, and the SIGKILL ends
-- them. The container's processes are its first (first: state's
-- first_process, held by its pidfd) and, with a pid namespace made for
-- it, every other one in that namespace, each held by a pidfd while its
-- namespace is checked; what else sits in its cgroups (a host process
-- some tool put into its name=systemd one) is not its to end. runc and
-- crun thaw their own cgroup only; nothing else of the other cgroup
-- changes here either.
local function end_held_elsewhere(cg, st, first)
  if cg.version ~= 1 or not cg.dirs.freezer or not first then return end
  local dir = cg.dirs.freezer
  kill_into(dir, st.pid, first.pidfd, function() return true end)
  if not first.ns then return end
  local function in_namespace(pid)
    return core.readlink(string.format("/proc/%d/ns/pid", pid)) == first.ns
  end
  for _, pid in ipairs(statedir.pids_in_namespace(first.ns)) do
    local pidfd = pid ~= st.pid and core.pidfd_open(pid)
    -- the namespace read again once the pidfd holds the process
    if pidfd and in_namespace(pid) then kill_into(dir, pid, pidfd, in_namespace) end
    if pidfd then pidfd:close() end
  end
end

--- Delete a container: a stopped (or only created) one at once; a
-- running or paused one only with force, killed first.
function M.delete(root, id, force, warn)
  local ok, st = pcall(statedir.load, root, id)
  if not ok then
    if force then return end
    error(st, 0)
  end
  local status = statedir.status(st)
  if status == "running" or status == "paused" then
    if not force then fail("cannot delete container %s that is not stopped: %s", id, status) end
  end
  if status ~= "stopped" then
    -- held before the kill: the namespace outlives its init while another
    -- freezer cgroup holds one of its processes
    local first = statedir.first_process(st)
    for _, pid in ipairs(statedir.pids(st)) do core.kill(pid, "KILL") end
    if first then core.pidfd_send_signal(first.pidfd, "KILL") end
    local cg = statedir.cgroup_of(st)
    if status == "paused" and cg then cg:thaw() end
    if cg then end_held_elsewhere(cg, st, first) end
    statedir.release(first)
    if not wait_gone(st, 10) then fail("container %s did not stop after SIGKILL", id) end
  end
  local cg = statedir.cgroup_of(st)
  if cg then
    local removed, err = cg:remove(true)
    if not removed and warn then warn("cgroup: " .. err) end
  end
  local dir = statedir.dir_of(root, id)
  -- before state.json: a delete that fails here can be done again
  local removed, rerr = sdnotify.remove(dir)
  if not removed then
    fail("cannot delete container %s: NOTIFY_SOCKET: %s; it stays, stopped, for a delete " ..
      "once that is removed", id, rerr)
  end
  core.unlink(dir .. "/exec.fifo")
  core.unlink(dir .. "/state.json")
  local gone, derr, derrno = core.rmdir(dir)
  if not gone and derrno ~= core.errno.ENOENT and warn then
    warn(errors.explain(derr, derrno) .. ": the id stays taken until it is removed")
  end
  hooks.run_hooks(st, "poststop", true, warn)
end

-- The OCI device list nsl-oci applied to the container last: its
-- config's, or the last update's.
local function kept_devices(st)
  if st.device_rules ~= nil then return st.device_rules end
  local linux = val(st.config and st.config.linux)
  return linux and val(linux.resources) and val(linux.resources.devices) or nil
end

--- Change the cgroup limits of a container that is not stopped to those
-- of r, an OCI linux.resources object (runc's update; its keys matched
-- without regard to case, as runc reads them). A limit nsl-oci cannot set
-- or a value it cannot take is refused before anything changes; devices
-- replace the container's device rules with the fewest writes
-- (devices.update_cgroup, which refuses where there is no v1 devices
-- cgroup), kept in its state for the next update.
function M.update(root, id, r)
  if type(r) ~= "table" then fail("update: the resources are not a JSON object") end
  r = config.resources_spelled(r)
  local st = statedir.load(root, id)
  if statedir.status(st) == "stopped" then fail("cannot update a stopped container") end
  local cg = statedir.cgroup_of(st)
  if not cg then fail("cannot update a container without a cgroup (no cgroup could be made for it)") end
  for _, name in ipairs(not_applied(r)) do
    if name ~= "devices" then fail("update: linux.resources.%s is not supported by nsl-oci", name) end
  end
  -- every value checked before the first write
  check_values(r, "update")
  local limits = config.resources(r)
  local checked, lerr = pcall(cgroup.limits, limits)
  if not checked then fail("update: %s", lerr) end
  local new_devices = r.devices ~= nil and given(r.devices)
  if new_devices then devices.cgroup_lines(r.devices) end
  if new_devices then
    devices.update_cgroup(cg, r.devices, kept_devices(st))
    st.device_rules = r.devices
    statedir.save(st)
  end
  local ok, err = cg:set(limits)
  if not ok then fail("update: %s", err) end
end

--- Freeze (pause) or thaw (resume) the container's cgroup.
function M.pause(root, id, resume)
  local st = statedir.load(root, id)
  local status = statedir.status(st)
  if status == "stopped" then fail("container not running") end
  if resume and status ~= "paused" then fail("container not paused") end
  if not resume and status ~= "running" then fail("container not running") end
  local cg = statedir.cgroup_of(st)
  if not cg then fail("cannot %s a container without a cgroup (no cgroup could be made for it)",
    resume and "resume" or "pause") end
  local ok, err = (resume and cg.thaw or cg.freeze)(cg)
  if not ok then fail("%s", err) end
end

--- Run a process in a running container: join its namespaces (setns
-- through a pidfd) and its cgroup, then the identity steps of a
-- container config built from the OCI process object p. o: detach,
-- pid_file, console_socket, preserve_fds (of inherited_fds), ignore_paused (run it in a
-- paused container: it starts once the container is resumed). Returns the
-- exit code (0 when detached), or for a process that did not start its
-- code (126, 127: the command is not there) and why. o.cgroup: exec
-- --cgroup's arguments, sub-cgroups of the container's to put it in
-- (see nsl.oci.subcgroup).
function M.exec(root, id, p, o)
  o = o or {}
  config.check_process_spelling(p)
  local st = statedir.load(root, id)
  local status = statedir.status(st)
  if status == "stopped" then fail("cannot exec in a stopped container") end
  if status == "paused" and not o.ignore_paused then
    fail("cannot exec in a paused container (use --ignore-paused to override)")
  end
  if val(p.terminal) == true and o.detach and not o.console_socket then
    fail("cannot allocate a pseudo-TTY without setting a console socket")
  end
  local cg = statedir.cgroup_of(st)
  local sub_paths = subcgroup.parse(o.cgroup)
  if sub_paths and not cg then fail("--cgroup: the container has no cgroup") end
  cg = cg and subcgroup.of(cg, sub_paths)
  local opts = config.process_options(p, { rootfs = "/", init = false, userns = false,
    namespaces = {}, masked_paths = {}, readonly_paths = {},
    steps = { "umask", "chdir", "rlimits", "capabilities", "user", "no_new_privs", exec_lookup_step,
      "seccomp" } }, {})
  local linux = val(st.config.linux) or {}
  opts.seccomp = val(linux.seccomp) and config.seccomp_policy(linux.seccomp) or "unconfined"
  opts.pass_fds = config.pass_fds(o)
  local c = container.config(opts)
  c.env = config.env_table(p.env)
  if c.tty then table.insert(c.steps, 1, devices.exec_console_step) end
  local gate_r, gate_w = assert(core.pipe())
  insert(c.steps, "seccomp", gate_step(gate_r))
  -- the agent of a profile with SCMP_ACT_NOTIFY gets this process's fd too
  local agent = with_agent(c, linux.seccomp, st, true)
  -- the pty is the container's own (its /dev/ptmx, opened by B), so that
  -- its name resolves in there; B hands the master over on this pair
  local pty_here, pty_there
  if c.tty then pty_here, pty_there = assert(core.socketpair()) end
  local report_r, report_w = assert(core.pipe())
  local pid_r, pid_w = assert(core.pipe())
  -- B must be reaped here when it fails, detached or not: a zombie left
  -- in the container's pid namespace keeps its init from ever ending
  core.child_subreaper(true)
  -- A joins; its child B (in the container's pid namespace) becomes the
  -- process; A tells B's pid and ends, so B is this process's child (a
  -- subreaper), the caller's once detached and this process has ended
  local a, err, errno = require("nsl.userns").clone({}, nil, { prepare = cg and function(pid)
    return subcgroup.add(cg, pid)
  end })
  if not a then fail("exec: %s", errors.explain(err, errno)) end
  -- neither A nor B may return into this code: process.child ends them
  local function in_b()
    pid_w:close(); gate_w:close()
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
    -- first of all: whatever happens to A, B is reaped by its pid
    pid_w:write(tostring(b))
    pid_w:close()
    if agent then
      -- EPIPE: B ended before its seccomp step, and its report says why
      local sent, werr, werrno = notify.send_state(agent, st, b, status)
      if not sent and werrno ~= core.errno.EPIPE then error(errors.explain(werr, werrno), 0) end
    end
  end
  if a == 0 then process.child(report_w, in_a) end
  notify.close(agent)
  report_w:close(); pid_w:close()
  if pty_there then pty_there:close() end
  local b = tonumber(pid_r:read(64))
  pid_r:close()
  local _, a_how, a_code = core.wait(a)
  -- B (this process's child now, a subreaper) waits at its gate: a
  -- runtime that failed after the clone (A) ends it there, before it ran
  local let_go = a_how == "exited" and a_code == 0
  if b and not let_go then core.kill(b, "KILL") end
  if let_go then gate_w:write("1") end -- gate_r still open here: never EPIPE
  gate_w:close(); gate_r:close()
  local master
  if pty_here then
    master = core.recv_fd(pty_here) -- nil when B failed before sending it
    pty_here:close()
  end
  local code, message = process.report(report_r)
  if not code and not let_go then
    code, message = 125, string.format("exec: the process that joins the container %s %s", a_how, a_code)
  end
  if code then
    if b then core.wait(b) end
    core.child_subreaper(false)
    return code, message
  end
  local handed, herr = pcall(function()
    if master and o.console_socket then
      local sock, serr = core.unix_connect(o.console_socket)
      if not sock then fail("console socket: %s", serr) end
      assert(core.send_fd(sock, master))
      sock:close()
      master:close()
      master = nil
    end
    if o.pid_file then write_atomic(abs(o.pid_file, core.getcwd()), tostring(b)) end
  end)
  if not handed then
    -- as runc: a process whose terminal or pid nobody got is ended
    if master then master:close() end
    core.kill(b, "KILL")
    core.wait(b)
    core.child_subreaper(false)
    error(herr, 0)
  end
  if o.detach then
    core.child_subreaper(false) -- B goes to the caller once this process ends
    return 0
  end
  local status_code = process.wait(b, master)
  core.child_subreaper(false)
  return status_code
end

return M
