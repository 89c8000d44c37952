-- nsl.oci.hooks: running OCI hooks with the state JSON on their stdin.
local core = require "nsl.core"
local process = require "nsl.process"
local json = require "dkjson"
local common = require "nsl.oci.common"
local statedir = require "nsl.oci.state"
local fail, val, sleep_ms = common.fail, common.val, common.sleep_ms

local M = {}

---------------------------------------------------------------------------
-- hooks


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
-- its stdin (no env: nsl oci's own environment); nil and a message when
-- it fails or times out.
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
      -- no env: nsl oci's own, as runc (Go's nil Cmd.Env) and crun give it
      core.exec(hook.path, args, val(hook.env))
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
      -- runc's words for a hook that failed ("error running hook: ...",
      -- which its seccomp.bats looks for), the signal in words as runc
      -- says it ("signal: bad system call")
      if how == "exited" then
        return nil, string.format("error running hook: %s exited %d", hook.path, code)
      end
      return nil, string.format("error running hook: %s %s %d (%s)", hook.path, how, code,
        core.strsignal(code):lower())
    end
    if core.monotime() > deadline then
      core.kill(pid, "KILL")
      core.wait(pid)
      return nil, string.format("hook %s timed out", hook.path)
    end
    sleep_ms(5)
  end
end

-- The status hooks of each kind see (the state on their stdin): "created"
-- up to the start, as crun gives it and the runtime spec's validation
-- (hooks_stdin) wants it of prestart.
local HOOK_STATUS = { prestart = "created", createRuntime = "created",
  createContainer = "created", startContainer = "created", poststart = "running",
  poststop = "stopped" }

--- Run the hooks of kind ("prestart", "poststop", ...) of st.config;
-- raises at the first that fails unless tolerant (then warn(message)).
function M.run_hooks(st, kind, tolerant, warn)
  local hooks = val((val(st.config and st.config.hooks) or {})[kind]) or {}
  if #hooks == 0 then return end
  local state = statedir.state_object(st, HOOK_STATUS[kind])
  if kind ~= "poststop" then state.pid = st.pid end
  local text = json.encode(state)
  for i, hook in ipairs(hooks) do
    local ok, err = M.run_hook(hook, text)
    if not ok then
      -- runc's words, order and numbering ("error running prestart hook
      -- #1: ..."), which clients and its hooks.bats look for
      err = string.format("error running %s hook #%d: %s", kind, i - 1, err)
      if not tolerant then fail("%s", err) end
      if warn then warn(err) end
    end
  end
end

return M
