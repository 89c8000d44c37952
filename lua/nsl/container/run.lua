-- nsl.container.run: the container's process. In the child: the steps,
-- then the command (under the init); in the parent: spawn, wait, run.
-- nsl.container attaches these functions to itself (attach): the
-- dependency goes one way, from nsl.container to this module.
local core = require "nsl.core"
local errors = require "nsl.errors"
local process = require "nsl.process"
local userns = require "nsl.userns"
local util = require "nsl.util"

local R = {}
local container -- nsl.container, given by R.attach
local check = errors.check
local contains = util.contains
local watched_signals = process.watched_signals

---------------------------------------------------------------------------
-- inside the container: setup, init, exec

--- The command's path: as given when it has a '/', else the first
-- executable match on the container's PATH (c.command_path when a step
-- looked it up already, before a seccomp filter could refuse the lookup).
-- nil, exit code, message when there is none.
local function find_command(c, name)
  if c.command_path and name == c.command[1] then return c.command_path end
  local function executable(path, st)
    st = st or core.stat(path)
    return st and st.type ~= "dir" and core.access(path, "x")
  end
  if name:find("/", 1, true) then
    local st = core.stat(name)
    if not st then
      return nil, 127, string.format("command not found: %s in rootfs %s", name, c.rootfs)
    end
    if not executable(name, st) then
      return nil, 126, string.format("command not executable: %s in rootfs %s", name, c.rootfs)
    end
    return name
  end
  for dir in (c.env.PATH or ""):gmatch("[^:]+") do
    if executable(dir .. "/" .. name) then return dir .. "/" .. name end
  end
  return nil, 127, string.format("command not found: %s in rootfs %s (PATH %s)",
    name, c.rootfs, c.env.PATH or "")
end
R.find_command = find_command

local die = process.die

-- Or end this process with 125: a command that would get fds it must not
-- have is not started (fail closed).
local function close_on_exec_or_die(c, report)
  local ok, err, errno = process.close_on_exec(c.pass_fds)
  if not ok then die(report, 125, "close_on_exec: " .. container.explain(err, errno)) end
end

-- The command could not be executed: 127 when it is not there, else 126.
local function exec_failed(c, report, err, errno)
  die(report, errno == core.errno.ENOENT and 127 or 126,
    string.format("%s (in rootfs %s)", err, c.rootfs))
end

-- Become the command. The report pipe is close-on-exec: the parent reads
-- EOF when the exec succeeded.
local function exec_command(c, report)
  local path, code, message = find_command(c, c.command[1])
  if not path then die(report, code, message) end
  core.sigprocmask("setmask", {})
  if c.tty_fd then
    core.setsid() -- fails harmlessly where this is pid 1, a leader already
    for fd = 0, 2 do core.dup2(c.tty_fd, fd) end
    core.set_ctty(0)
  end
  close_on_exec_or_die(c, report)
  -- the steps' changes of ids cleared it (credentials(7)): set again
  if c.pdeathsig then core.pdeathsig(c.pdeathsig) end
  local _, err, errno = core.exec(path, c.command, c.env)
  exec_failed(c, report, err, errno)
end

-- pid 1 as `docker run --init` has it: the static C init the core carries,
-- from a sealed in-memory copy, so that nothing in the container can reach
-- the host's nsl or lua5.4 through /proc/1/exe (CVE-2019-5736). That init
-- forks the command itself, so nothing of the container runs before pid 1
-- is the sealed init, and holds it at a gate until the init has dropped its
-- own capabilities (the command keeps what the steps gave it): no command
-- beside a privileged pid 1 of its own uid. It passes signals on, reaps
-- every orphan and exits as the command did.
local function run_init(c, report)
  local path, code, message = find_command(c, c.command[1])
  if not path then die(report, code, message) end
  -- blocked from before the exec, so that none is lost before the C init
  -- watches them (see src/init.h)
  core.sigprocmask("block", watched_signals())
  -- the init passes the report on to the command: it is close-on-exec
  -- there, so the parent reads EOF once the command runs
  -- the init sets the parent-death signal again after its exec: the
  -- steps' changes of ids, or the exec, cleared it (credentials(7))
  local _, err = core.init_exec(path, c.command, c.env, { report = report,
    tty = c.tty_fd, pass_fds = c.pass_fds, rootfs = c.rootfs, status = c.status_w,
    pdeathsig = c.pdeathsig })
  die(report, 125, "init: " .. tostring(err))
end

local function setup(c, report)
  -- the network namespace, first: its helper makes it on another CPU
  -- while the steps go on (core.netns_prepare, R.spawn)
  if c.netns_later then
    c.netns_job = check("network namespace",
      core.netns_prepare { loopback = contains(c.steps, "loopback") })
  end
  -- relative paths are the caller's; the root must be absolute and real
  -- for mountinfo and pivot_root
  check("rootfs", core.chdir(c.rootfs))
  c.rootfs = check("rootfs", core.getcwd())
  -- a session of its own: the user's terminal, if stdio is one, is not the
  -- container's controlling tty, so TIOCSTI cannot push keystrokes into it
  -- (CVE-2017-5226; bwrap's --new-session)
  core.setsid()
  for _, step in ipairs(c.steps) do
    local fn = type(step) == "function" and step or container.step[step]
    if not fn then error(string.format("setup step '%s' does not exist", tostring(step)), 0) end
    if not container.before_network[step] then container.join_network(c) end
    fn(c, report)
  end
  -- whatever the steps were, the command runs in the container's network
  -- namespace; the helper is reaped (fail closed: no start without either)
  container.join_network(c)
  if c.netns_job then c.netns_job:close() end
  if c.sysfs_later then
    error(string.format("setup step 'sysfs': did not run, '%s' is not mounted", c.sysfs_later.target), 0)
  end
end

--- In a process of its own (already in the container's namespaces): run
-- c.steps and become c.command (under the init with c.init). A failure is
-- written to report as "CODE message" and ends the process; report is
-- close-on-exec, so the reader sees EOF once the command runs.
local function child(c, report)
  local ok, err = pcall(setup, c, report)
  if not ok then die(report, 125, tostring(err)) end
  if c.init then run_init(c, report) else exec_command(c, report) end
end
R.child = child

---------------------------------------------------------------------------
-- outside: start, relay, wait

--- Wait for a container started by R.spawn (this process's child):
-- relay the terminal to master when there is one, else pass signals on.
-- Returns the exit code in shell convention (nsl.process.wait).
R.wait = process.wait

-- The namespaces the clone makes. The network namespace, the costliest,
-- is made beside the setup instead (c.netns_later, see setup) when nothing
-- outside needs it at the clone: no network to attach, nothing to prepare
-- (a cgroup, an OCI hook that may look at /proc/PID/ns/net).
local function clone_namespaces(c, how)
  c.netns_later = c.network == "none" and not how.prepare and contains(c.namespaces, "net")
  if not c.netns_later then return c.namespaces end
  local namespaces = {}
  for _, ns in ipairs(c.namespaces) do
    if ns ~= "net" then namespaces[#namespaces + 1] = ns end
  end
  return namespaces
end

--- Start the container without waiting for it: set it up in new
-- namespaces and start c.command. Returns its pid, the pty master (with
-- c.tty) and, for a command that could not run, the reason. how.prepare
-- (pid) runs before the child goes on (see userns.clone); how.network is
-- the container's network (nsl.net.for_container, attached by
-- how.prepare) whose /etc files it gets; how.pdeathsig is what the
-- container gets when this process dies (default "KILL"; false for
-- none); how.before_root(c) runs in the container's process before it
-- takes the mapped root's ids (see userns.clone); with how.status (and
-- the init, without a terminal) a fourth result is the pipe the init
-- writes the command's code to (see nsl.process.wait). Raises when the
-- setup fails.
function R.spawn(opts, how)
  local c = container.config(opts)
  how = how or {}
  local master
  if c.tty then
    local slave, path
    master, slave, path = assert(core.openpty())
    -- c.winsize { rows, cols }, else the caller's terminal's, if it has one
    local rows, cols = core.get_winsize(0)
    if c.winsize then rows, cols = c.winsize[1], c.winsize[2] end
    if rows then core.set_winsize(master, rows, cols) end
    c.tty_fd, c.console = slave, c.console or path
  end
  local report_r, report_w = assert(core.pipe())
  local status_r
  if how.status and c.init and not c.tty then status_r, c.status_w = assert(core.pipe()) end
  -- the network's /etc files go to the child once the network is attached
  local files_w
  if c.network ~= "none" then c.network_fd, files_w = assert(core.pipe()) end
  local function prepare(pid)
    if how.prepare then
      local ok, err, errno = how.prepare(pid)
      if not ok then return nil, err, errno end
    end
    if files_w then
      local files = require("nsl.net").files(c, how.network)
      local ok, err, errno = files_w:write(string.format(
        "return { hostname = %q, hosts = %q, [\"resolv.conf\"] = %q }",
        files.hostname, files.hosts, files.resolv))
      if not ok then return nil, "network files: " .. tostring(err), errno end
      files_w:close()
      files_w = nil
    end
    return true
  end
  local maps = c.userns and { uid = c.uid_map, gid = c.gid_map, setgroups = c.setgroups }
  local pdeathsig = how.pdeathsig == nil and "KILL" or how.pdeathsig or nil
  c.pdeathsig = pdeathsig -- for the command's exec, or the init's
  -- without anything to prepare the child need not wait for the parent
  local pid, err, errno = userns.clone(clone_namespaces(c, how), maps,
    { pdeathsig = pdeathsig, prepare = (how.prepare or files_w) and prepare or nil,
      before_root = how.before_root and function() how.before_root(c) end })
  if c.network_fd and pid ~= 0 then
    c.network_fd:close()
    c.network_fd = nil
    if files_w then files_w:close() end
  end
  if not pid then error("start: " .. container.explain(err, errno), 0) end
  if pid == 0 then
    report_r:close()
    if status_r then status_r:close() end
    if files_w then files_w:close() end
    if master then master:close() end
    -- nothing of the child returns into the caller's code, even on a raise
    process.child(report_w, child, c, report_w)
  end
  report_w:close()
  if c.status_w then
    c.status_w:close()
    c.status_w = nil
  end
  if c.tty_fd then c.tty_fd:close() end
  local code, message = process.report(report_r)
  if code == 125 then
    core.wait(pid)
    if status_r then status_r:close() end
    error(message, 0)
  end
  return pid, master, message, status_r
end

--- Run the container: set it up in new namespaces (and in a cgroup with
-- c.resources, see nsl.cgroup) and run c.command. Returns the exit code in
-- shell convention (128+N when killed by signal N), for 126/127 the
-- reason, and the list of warnings for the caller to print (limits not
-- applied, a record or a network that could not be kept), which goes to
-- the list `warnings` when given, even when the run raises. exiting: the
-- caller ends with the code right after (see R.exit). Raises when the
-- setup fails.
function R.run(opts, warnings, exiting)
  local c = container.config(opts)
  -- the name is checked and held before anything runs (nsl.running)
  if c.name then require("nsl.running").reserve(c) end
  -- without a terminal nsl passes signals on (wait_forwarding): held from
  -- before the start, one that comes while the container starts is passed
  -- on too, instead of ending nsl (and the container by its pdeathsig)
  local held = not c.tty and watched_signals()
  if held then core.sigprocmask("block", held) end
  local cg, network, notice
  warnings = warnings or {}
  local ok, status, message = pcall(function()
    -- the cgroup module only for a container that asks for one
    if c.resources or c.cgroup then
      cg, notice = require("nsl.cgroup").for_container(c, true)
      warnings[#warnings + 1] = notice
    end
    network = c.network ~= "none" and require("nsl.net").for_container(c)
    local function prepare(pid)
      if cg then
        local ok, err, errno = cg:add(pid)
        if not ok then return nil, err, errno end
      end
      if network then return network:attach(pid) end
      return true
    end
    -- a caller that ends at the code need not wait for the init's exit,
    -- the teardown of the namespaces, when nothing here follows it: no
    -- cgroup to remove, record to forget or network to detach, and no
    -- overlay directory (its upper directory is in use until then)
    local early = exiting and not cg and not network and not c.name and
      type(c.overlay) ~= "table"
    local pid, master, message, status = R.spawn(c, {
      prepare = (cg or network) and prepare or nil, network = network,
      status = early })
    -- nothing follows the wait (no warning or message to print either): a
    -- small waiter takes this process's place (core.wait_exec) while the
    -- command runs, so that the Lua heap goes now, on the other CPU, not in
    -- the exit after the command's end (on failure the wait below is the
    -- same, in Lua)
    if early and not master and not message and #warnings == 0 then core.wait_exec(pid, status) end
    if c.name and not message then
      -- for `nsl ps` and `nsl enter` (nsl.running), while it runs
      local recorded, err = require("nsl.running").record(c, pid)
      if recorded then c.recorded_pid = pid else warnings[#warnings + 1] = err end
    end
    return process.wait(pid, master, status), message
  end)
  if c.name then require("nsl.running").forget(c.name, c.recorded_pid) end
  if network then
    local detached, err = network:detach()
    if not detached then warnings[#warnings + 1] = "network: " .. tostring(err) end
  end
  if cg then cg:remove() end
  if held then core.sigprocmask("unblock", held) end
  if not ok then error(status, 0) end
  return status, message, warnings
end

local function main(opts, exiting)
  local warnings = {}
  local ok, code, message = pcall(R.run, opts, warnings, exiting)
  for _, w in ipairs(warnings) do io.stderr:write("nsl: ", w, "\n") end
  if not ok then
    io.stderr:write("nsl: ", tostring(code), "\n")
    return 125
  end
  if message then io.stderr:write("nsl: ", message, "\n") end
  return code
end

--- Run the container as a script's main program, the one place of the
-- library that prints (for scripts that end in os.exit(main(c))): the
-- warnings, a failed setup or a missing command as "nsl: message";
-- returns the exit code for os.exit (125 when the setup failed).
function R.main(opts)
  return main(opts)
end

--- Run the container as a script's last act: as R.main, then end this
-- process with the exit code (os.exit). When nothing is left to clean up
-- after the container (no cgroup, name, network or overlay directory), its
-- init reports the command's code once no other process of the container
-- is left, and nsl exits then: the kernel tears the namespaces down in the
-- init's own exit afterwards, and the init goes to nsl's reaper (as
-- bwrap's pid 1 does).
function R.exit(opts)
  os.exit(main(opts, true))
end


--- Give nsl.container (M) the functions of this module, and this module
-- M's config and steps.
function R.attach(M)
  container = M
  for name, fn in pairs(R) do
    if name ~= "attach" then M[name] = fn end
  end
  return M
end

return R
