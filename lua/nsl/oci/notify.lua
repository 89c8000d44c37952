-- nsl.oci.notify: seccomp user notification (SCMP_ACT_NOTIFY) as runc
-- has it: the filter is loaded with a listener, and the listener fd goes
-- to the agent at linux.seccomp.listenerPath (an AF_UNIX socket) as
-- SCM_RIGHTS, with the container's process state as JSON:
--   { ociVersion, fds = { "seccompFd" }, pid, metadata, state = {...} }
-- The runtime connects before the container is made (no agent: nothing
-- is made) and hands the connection to the container's process, which
-- sends the fd itself right after the load: the next syscall a rule
-- holds for the agent is answered, never one the runtime waits on.
-- (runc's agent protocol: one message, the fd and the JSON; the
-- process closes the connection after it.)
local core = require "nsl.core"
local errors = require "nsl.errors"
local seccomp = require "nsl.seccomp"
local util = require "nsl.util"
local common = require "nsl.oci.common"
local statedir = require "nsl.oci.state"
local fail, val, json = common.fail, common.val, common.json

local M = {}

-- What the container's process does between the load and the handover
-- (send_fd, close, and Lua's allocator: malloc's brk and mmap, free's
-- munmap, realloc's mremap): a rule that held one of these for the agent
-- would wait for an answer from an agent that has no fd yet.
local HANDOVER = { "sendmsg", "close", "brk", "mmap", "munmap", "mremap" }

-- Does the OCI seccomp object s hold a syscall for an agent?
local function notifies(s)
  if val(s.defaultAction) == "SCMP_ACT_NOTIFY" then return true end
  for _, entry in ipairs(val(s.syscalls) or {}) do
    if entry.action == "SCMP_ACT_NOTIFY" then return true end
  end
  return false
end

--- The listenerPath of an OCI seccomp object (nil: none); raises for a
-- profile that notifies without one, with notify as its default, or for
-- a syscall of the handover.
function M.check(s)
  s = val(s)
  if not s or not notifies(s) then return nil end
  local path = val(s.listenerPath)
  if type(path) ~= "string" or path == "" then
    fail("seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath (the agent's socket)")
  end
  if val(s.defaultAction) == "SCMP_ACT_NOTIFY" then
    fail("seccomp: SCMP_ACT_NOTIFY cannot be the defaultAction: the runtime's own syscalls " ..
      "before the agent has the fd would wait for it")
  end
  for _, entry in ipairs(val(s.syscalls) or {}) do
    -- an entry's name, when it has no names, as config.seccomp_policy reads it
    local names = val(entry.names) or { val(entry.name) }
    for _, name in ipairs(entry.action == "SCMP_ACT_NOTIFY" and names or {}) do
      if util.contains(HANDOVER, name) then
        fail("seccomp: SCMP_ACT_NOTIFY on '%s', which the runtime calls to hand the fd " ..
          "to the agent", name)
      end
    end
  end
  return path
end

--- Connect to the agent at path: { sock, metadata }, and with pipe a pipe
-- (state_r, state_w) that carries the state to the process that loads
-- the filter. Raises "seccomp listenerPath: connect PATH: ...".
function M.connect(path, metadata, pipe)
  local sock, err, errno = core.unix_connect(path)
  if not sock then fail("seccomp listenerPath: %s", errors.explain(err, errno)) end
  local n = { sock = sock, metadata = val(metadata) }
  if pipe then n.state_r, n.state_w = assert(core.pipe()) end
  return n
end

--- The message that goes with the fd: the container process state of
-- the process that loads the filter, pid (the container's first when
-- nil), with st's state at status.
function M.message(n, st, pid, status)
  local state = statedir.state_object(st, status)
  state.pid = st.pid
  return json.encode { ociVersion = common.spec_version, fds = { "seccompFd" },
    pid = pid or st.pid, metadata = n.metadata or "", state = state }
end

--- Write the message for a process exec starts (its pid, the container's
-- status, known from outside its namespaces) into the pipe, from its
-- parent; the process reads it at its step, so a state past the pipe's
-- buffer never holds either.
function M.send_state(n, st, pid, status)
  -- a process that ended before its step must not leave the writer
  -- waiting on a reader of its own
  n.state_r:close()
  local ok, err, errno = n.state_w:write(M.message(n, st, pid, status))
  n.state_w:close()
  return ok, err, errno
end

--- Close the parent's ends once the container's process has its own.
function M.close(n)
  if not n then return end
  for _, k in ipairs { "sock", "state_r", "state_w" } do
    if n[k] then pcall(n[k].close, n[k]) end
  end
end

-- The message of the step: from the pipe (exec), else made here for the
-- container's first process, whose pid st has by now (see operations'
-- createContainer hooks step).
local function message_of(n, st)
  if not n.state_r then return M.message(n, st, nil, "creating") end
  n.state_w:close()
  local text, err, errno = util.read_fd(n.state_r)
  n.state_r:close()
  return errors.check("seccomp", text, err, errno)
end

--- The container step in place of "seccomp": load c.seccomp_bpf with a
-- listener and send it with the state to the agent, at once.
function M.step(n, st)
  return function(c)
    local text = message_of(n, st)
    local fd, err, errno = seccomp.load(c.seccomp_bpf, "new_listener")
    errors.check("seccomp", fd, err, errno)
    local sent, serr, serrno = core.send_fd(n.sock, fd, text)
    errors.check("seccomp", sent, "listenerPath: " .. tostring(serr), serrno)
    fd:close()
    n.sock:close()
  end
end

return M
