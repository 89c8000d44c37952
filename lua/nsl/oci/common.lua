-- nsl.oci.common: what the parts of nsl.oci share: the versions, JSON, the
-- error helper and small file and process helpers.
local core = require "nsl.core"
local errors = require "nsl.errors"
local util = require "nsl.util"
local json = require "dkjson"

local M = {}

--- The version of this runtime and of the OCI runtime spec it follows.
M.version = "0.1.0"
M.spec_version = "1.1.0"

--- dkjson, as nsl.oci reads and writes JSON with it.
M.json = json

--- OCI namespace types -> nsl's words.
M.NAMESPACES = { pid = "pid", network = "net", mount = "mnt", ipc = "ipc", uts = "uts",
  user = "user", cgroup = "cgroup", time = "time" }

--- mount options -> nsl.mount's words; others are propagation, ignored or data
M.MOUNT_FLAGS = { ro = "rdonly", rdonly = "rdonly", nosuid = "nosuid", nodev = "nodev",
  noexec = "noexec", sync = "sync", dirsync = "dirsync", mand = "mandlock",
  noatime = "noatime", nodiratime = "nodiratime", relatime = "relatime",
  strictatime = "strictatime", nosymfollow = "nosymfollow", lazytime = "lazytime",
  bind = "bind", rbind = "rbind" }
--- The propagation words a mount's options may hold.
M.PROPAGATION = { private = true, rprivate = true, slave = true, rslave = true,
  shared = true, rshared = true, unbindable = true, runbindable = true }
--- Mount options that need nothing done.
M.IGNORED = { rw = true, suid = true, dev = true, exec = true, async = true, atime = true,
  diratime = true, norelatime = true, nostrictatime = true, nolazytime = true, loud = true,
  symfollow = true, defaults = true, nomand = true, tmpcopyup = true, notmpcopyup = true,
  ["copy-symlink"] = true, z = true, Z = true, U = true, idmap = true, ridmap = true,
  ["no-dereference"] = true }

--- rootfsPropagation -> nsl.mount's propagation words.
M.ROOT_PROPAGATION = { private = "private", rprivate = "rec private", slave = "slave",
  rslave = "rec slave", shared = "shared", rshared = "rec shared",
  unbindable = "unbindable", runbindable = "rec unbindable" }

--- OCI seccomp actions and operators -> nsl.seccomp's words.
M.SECCOMP_ACTIONS = { SCMP_ACT_ALLOW = "allow", SCMP_ACT_KILL = "kill_thread",
  SCMP_ACT_KILL_THREAD = "kill_thread", SCMP_ACT_KILL_PROCESS = "kill",
  SCMP_ACT_TRAP = "trap", SCMP_ACT_LOG = "log", SCMP_ACT_ERRNO = "errno",
  SCMP_ACT_TRACE = "trace", SCMP_ACT_NOTIFY = "notify" }
M.SECCOMP_OPS = { SCMP_CMP_NE = "ne", SCMP_CMP_LT = "lt", SCMP_CMP_LE = "le",
  SCMP_CMP_EQ = "eq", SCMP_CMP_GE = "ge", SCMP_CMP_GT = "gt", SCMP_CMP_MASKED_EQ = "masked_eq" }

--- Raise a message made by string.format (nsl.errors.raise).
M.fail = errors.raise
local fail = M.fail

--- A JSON object even when empty (dkjson writes an empty table as []).
function M.object(t)
  return setmetatable(t or {}, { __jsontype = "object" })
end

--- The content of a file, or nil and a message (nsl.util.read_file).
M.read_all = util.read_file

--- Write a file whole, through a temporary name renamed over it; raises
-- when it cannot.
function M.write_atomic(path, data, mode)
  local ok, err = util.write_atomic(path, data, mode)
  if not ok then fail("%s", err) end
end

--- path made absolute against base, unless it is already.
function M.abs(path, base)
  if path:sub(1, 1) == "/" then return path end
  return (base:gsub("/$", "")) .. "/" .. path
end

--- The start time of a process and its state letter
-- (nsl.process.start_time): with the pid, the start time names one
-- process for good.
M.proc_stat = require("nsl.process").start_time

--- The time now as RFC 3339 (UTC), as state.json's `created`.
function M.now_rfc3339()
  return os.date("!%Y-%m-%dT%H:%M:%S.000000000Z")
end

--- JSON null (dkjson's json.null) and absent alike: nil for both.
function M.val(v)
  if v == json.null then return nil end
  return v
end

--- Is this process in a user namespace other than the initial one (as
-- under rootless podman)? Then mknod is refused.
function M.nested_userns()
  return not require("nsl.userns").initial()
end

--- Sleep ms milliseconds.
function M.sleep_ms(ms) core.poll({}, ms) end

return M
