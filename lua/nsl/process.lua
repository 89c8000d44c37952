-- nsl.process: starting, joining, waiting for and reporting on a process.
--
--   local process = require "nsl.process"
--   local pid = nsl.clone({})
--   if pid == 0 then process.child(report_w, function() ... end) end
--   local code, message = process.report(report_r)  -- nil once it executed
--   os.exit(process.wait(pid))                       -- 128+N for signal N
--
-- Every process nsl forks goes through here: the guard that keeps a child
-- out of the code that forked it, the report pipe ("CODE message" on a
-- close-on-exec pipe: EOF means the exec succeeded), the fds a command may
-- get, joining a running process's namespaces, and the wait that passes
-- signals on and gives the exit code in shell convention.
local core = require "nsl.core"

local M = {}

--- The exit code in shell convention of a process that ended `how`
-- ("exited" or "killed") with code: its status, or 128+N for signal N.
function M.exit_code(how, code)
  return how == "exited" and code or 128 + code
end
local exit_code = M.exit_code

--- Run fn(...) as the whole rest of a forked child's life: the child
-- never returns into the code that forked it (a REPL or a script would go
-- on running there, in the container's namespaces). It ends with _exit(0)
-- when fn returns; when fn raises, the error goes to report (an fd: "125
-- message", as container setup reports) or else to stderr, and it ends
-- with _exit(125).
function M.child(report, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then core._exit(0) end
  pcall(function()
    -- a child with no report pipe has only its stderr left to say why
    if report then report:write("125 " .. tostring(err))
    else io.stderr:write("nsl: ", tostring(err), "\n") end
  end)
  core._exit(125)
end

--- End a child whose report pipe nobody reads any more (an OCI
-- container after "ready") with code, saying message on its stderr.
function M.last_word(code, message)
  pcall(function() io.stderr:write("nsl: ", tostring(message), "\n") end)
  core._exit(code)
end

--- Write "CODE message" to report and end this process with CODE: how a
-- child that cannot go on tells its parent why (see process.report).
function M.die(report, code, message)
  report:write(string.format("%d %s", code, message))
  core._exit(code)
end

--- Read a child's report pipe (and close it): nil when the child
-- executed (EOF: the pipe is close-on-exec), else the code and the
-- message it wrote with process.die or process.child. One read: the
-- report is one write, and a child may go on holding the pipe after it
-- (oci create's "ready").
function M.report(r)
  local text = r:read(4096) or ""
  r:close()
  local code, message = text:match("^(%d+) (.*)$")
  return tonumber(code), message
end

-- Where close_range is refused (a kernel before 5.11, or a seccomp
-- profile written for one, which runc and crun run): every open fd from 3
-- up but keep, found in /proc/self/fd, as runc falls back.
local function cloexec_each(keep)
  local names, err, errno = core.readdir("/proc/self/fd")
  if not names then return nil, err, errno end
  for _, name in ipairs(names) do
    local fd = math.tointeger(tonumber(name))
    if fd and fd >= 3 and not keep[fd] then
      local ok, serr, serrno = core.set_cloexec(fd, true)
      -- EBADF: the directory fd readdir had, closed since
      if not ok and serrno ~= core.errno.EBADF then return nil, serr, serrno end
    end
  end
  return true
end

-- close_range(2) from 3 up, around pass_fds, which lose close-on-exec.
local function close_ranges(pass_fds)
  local first = 3
  for _, fd in ipairs(pass_fds or {}) do
    if fd > first then
      local ok, err, errno = core.close_range(first, fd - 1, "cloexec")
      if not ok then return nil, err, errno end
    end
    local ok, err, errno = core.set_cloexec(fd, false)
    if not ok then return nil, err, errno end
    first = math.max(first, fd + 1)
  end
  return core.close_range(first, nil, "cloexec")
end

--- Mark every fd from 3 up close-on-exec but pass_fds (a list of fds, in
-- ascending order), so that nothing nsl inherited reaches the command,
-- only stdio and those (CVE-2024-21626 was a leaked fd); a report pipe
-- stays usable until the exec. Returns true, or nil, message and errno.
function M.close_on_exec(pass_fds)
  if close_ranges(pass_fds) then return true end
  local keep = {}
  for _, fd in ipairs(pass_fds or {}) do
    local ok, err, errno = core.set_cloexec(fd, false)
    if not ok then return nil, err, errno end
    keep[fd] = true
  end
  return cloexec_each(keep)
end

--- The namespaces a process joins, in the order setns(2) wants them (the
-- user namespace first).
M.namespaces = { "user", "mnt", "pid", "uts", "ipc", "net", "cgroup", "time" }

--- Join the namespaces of process pid that differ from this process's
-- (all of process.namespaces, or the names in list), all at once through
-- a pidfd (setns(2)). Returns true, or nil, message and errno.
function M.join(pid, list)
  local inspect = require "nsl.inspect"
  local ours, its = inspect.namespaces(), inspect.namespaces(pid)
  local theirs = {}
  for _, ns in ipairs(list or M.namespaces) do
    if its[ns] and its[ns] ~= ours[ns] then theirs[#theirs + 1] = ns end
  end
  local pidfd, err, errno = core.pidfd_open(pid)
  if not pidfd then return nil, err, errno end
  local ok, serr, serrno = core.setns(pidfd, theirs)
  pidfd:close()
  if not ok then return nil, serr, serrno end
  return true
end

--- Run argv (searched on env.PATH) in a child and wait for it. Returns
-- how ("exited"/"killed"), the code and, when the command could not be
-- executed (exited 127), the reason.
function M.run(argv, env)
  local r, w = assert(core.pipe())
  local pid, err, errno = core.clone({})
  if not pid then
    r:close(); w:close()
    return nil, err, errno
  end
  if pid == 0 then
    M.child(nil, function()
      r:close()
      local _, xerr = core.execp(argv[1], argv, env)
      M.die(w, 127, tostring(xerr))
    end)
  end
  w:close()
  local _, message = M.report(r)
  local _, how, code = core.wait(pid)
  return how, code, message
end

--- The start time of a process (field 22 of /proc/PID/stat) and its
-- state letter, or nil when there is none: with the pid, the start time
-- names one process for good, whatever reuses the number later.
function M.start_time(pid)
  local stat = require("nsl.util").read_file(string.format("/proc/%d/stat", pid))
  if not stat then return nil end
  local fields = {}
  -- the name, in parentheses, may hold spaces
  for field in stat:match("^.*%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = field end
  return fields[20], fields[1] -- fields 22 and 3 overall
end

--- The signals nsl and the container's init pass on to the command.
M.forwarded = { "HUP", "INT", "QUIT", "TERM", "USR1", "USR2", "WINCH", "CONT" }

--- The signals a waiting nsl takes through a signalfd: process.forwarded
-- and CHLD.
function M.watched_signals()
  local watched = {}
  for i, sig in ipairs(M.forwarded) do watched[i] = sig end
  watched[#watched + 1] = "CHLD"
  return watched
end

-- Wait for pid, passing the signals nsl gets on to it. With status (see
-- M.wait), the byte read there is the exit code, and pid is not reaped;
-- EOF there (pid ended without one) leaves the answer to the wait.
local function wait_forwarding(pid, status)
  local watched = M.watched_signals()
  core.sigprocmask("block", watched)
  local signals = assert(core.signalfd(watched))
  local function done(code)
    signals:close()
    core.sigprocmask("unblock", watched)
    return code
  end
  while true do
    -- the status first, even when the init has exited already: the same
    -- end whatever the timing (the init left to the reaper), and a sure
    -- one, as the pipe gives the byte or EOF once the init is gone
    if status then
      local ready = assert(core.poll({ status, signals }, -1))
      if ready[1] then
        local byte = status:read(1)
        if byte and #byte == 1 then return done(byte:byte()) end
        status = nil
      end
      if ready[2] then
        local sig = core.read_signal(signals)
        if sig and sig ~= "CHLD" then core.kill(pid, sig) end
      end
    else
      local got, how, code = core.wait(pid, "nohang")
      if got == pid then return done(exit_code(how, code)) end
      local sig = core.read_signal(signals)
      if sig and sig ~= "CHLD" then core.kill(pid, sig) end
    end
  end
end

-- Relay the user's terminal to the process's pty, then wait.
local function wait_tty(pid, master)
  local saved = core.tty_raw(0)
  local ok, err = core.relay(master, { pid = pid })
  if saved then core.tty_restore(0, saved) end
  local _, how, code = core.wait(pid)
  if not ok and not how then error("relay: " .. tostring(err), 0) end
  return exit_code(how, code)
end

--- Wait for pid (this process's child): relay the terminal to master when
-- there is one, else pass signals on. Returns the exit code in shell
-- convention. status, the read end of a pipe a container's init writes the
-- command's code to (nsl.init_exec's status), ends the wait at that byte,
-- pid left unreaped: for a process that exits right after, whose reaper
-- then gets it (see nsl.container.exit).
function M.wait(pid, master, status)
  if master then return wait_tty(pid, master) end
  return wait_forwarding(pid, status)
end

return M
