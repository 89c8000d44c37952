-- nsl.errors: one format for the library's errors.
--
--   local errors = require "nsl.errors"
--   errors.check("workdir", nsl.mkdir("/r/w"))
--   --> error: setup step 'workdir': mkdir '/r/w': File exists (EEXIST)
--
-- A failed core call says "call 'path': message" and gives the errno;
-- explain adds the errno's name and, for a known kernel trap, a hint on a
-- line of its own; step puts the step in front.
local core = require "nsl.core"

local M = {}

--- The kernel's known traps: a failed call whose message matches `call`
-- with errno `errno` gets `hint` on a line of its own.
M.hints = {
  { call = "^mount on .*remount", errno = "EPERM",
    hint = "in a user namespace a remount must keep the source mount's locked flags " ..
      "(nosuid, nodev, noexec, atime): keep them in the flags" },
  { call = "^mount 'devpts'", errno = "EINVAL",
    hint = "devpts refuses gid=5 when gid 5 is not mapped in the user namespace: " ..
      "map it (--gid-map) or drop gid=5 from the data" },
  { call = "^mount 'sysfs'", errno = "EPERM",
    hint = "sysfs may only be mounted by the owner of the network namespace: " ..
      "add \"net\" to the namespaces, or bind the host's /sys read-only" },
  { call = "^mount 'proc'", errno = "EPERM",
    hint = "proc needs a new pid namespace, and the host's /proc must be fully visible " ..
      "(nothing mounted over parts of it); see `nsl doctor`" },
  { call = "^pivot_root", errno = "EINVAL",
    hint = "pivot_root refuses shared mounts and an initramfs root: make / rslave or " ..
      "rprivate (propagation), or enter with MS_MOVE + chroot (pivot = false, --no-pivot)" },
  { call = "^clone '.*user", errno = "ENOSPC",
    hint = "user namespaces are disabled or used up: check user.max_user_namespaces " ..
      "(`nsl doctor` checks the sysctls)" },
  { call = "^clone '.*user", errno = "EPERM",
    hint = "unprivileged user namespaces are refused: check kernel.unprivileged_userns_clone " ..
      "and kernel.apparmor_restrict_unprivileged_userns (`nsl doctor`)" },
}

--- A failed call's message with its errno name, and a hint for a known
-- trap: "mount 'proc' on '/r/proc': Operation not permitted (EPERM)\n  hint: ...".
function M.explain(err, errno)
  local name = errno and core.errno[errno]
  local text = tostring(err) .. (name and " (" .. name .. ")" or "")
  for _, h in ipairs(M.hints) do
    if h.errno == name and text:find(h.call) then
      return text .. "\n  hint: " .. h.hint
    end
  end
  return text
end

--- "setup step 'STEP': MESSAGE (ERRNO)", with " — HINT" when a hint is given.
function M.step(step, err, errno, hint)
  return string.format("setup step '%s': %s%s", step, M.explain(err, errno),
    hint and " — " .. hint or "")
end

--- Raise errors.step(step, err, errno) when a core call failed; else
-- return its result.
function M.check(step, ok, err, errno)
  if ok then return ok end
  error(M.step(step, err, errno), 0)
end

--- Raise a message made by string.format(fmt, ...), without a position.
function M.raise(fmt, ...)
  error(string.format(fmt, ...), 0)
end

return M
