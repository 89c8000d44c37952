-- nsl.oci.features: the default config.json (`spec`) and `features`.
local core = require "nsl.core"
local identity = require "nsl.identity"
local common = require "nsl.oci.common"
local object, NAMESPACES = common.object, common.NAMESPACES
local MOUNT_FLAGS, PROPAGATION, IGNORED = common.MOUNT_FLAGS, common.PROPAGATION, common.IGNORED
local SECCOMP_ACTIONS, SECCOMP_OPS = common.SECCOMP_ACTIONS, common.SECCOMP_OPS

local M = {}

---------------------------------------------------------------------------
-- spec and features

--- A default config.json (runc spec's), as Lua data; rootless: a user
-- namespace mapping the caller to root, no network namespace, /sys bound.
function M.default_spec(rootless)
  local kept = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" }
  local spec = {
    ociVersion = common.spec_version,
    process = { terminal = true, user = { uid = 0, gid = 0 }, args = { "sh" },
      env = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm" },
      cwd = "/", capabilities = { bounding = kept, effective = kept, permitted = kept },
      rlimits = { { type = "RLIMIT_NOFILE", hard = 1024, soft = 1024 } },
      noNewPrivileges = true },
    root = { path = "rootfs", readonly = true },
    hostname = "nsl",
    mounts = {
      { destination = "/proc", type = "proc", source = "proc" },
      { destination = "/dev", type = "tmpfs", source = "tmpfs",
        options = { "nosuid", "strictatime", "mode=755", "size=65536k" } },
      { destination = "/dev/pts", type = "devpts", source = "devpts",
        options = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" } },
      { destination = "/dev/shm", type = "tmpfs", source = "shm",
        options = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" } },
      { destination = "/dev/mqueue", type = "mqueue", source = "mqueue",
        options = { "nosuid", "noexec", "nodev" } },
      { destination = "/sys", type = "sysfs", source = "sysfs",
        options = { "nosuid", "noexec", "nodev", "ro" } },
      -- the container's own cgroups, read-only (runc's and crun's specs)
      { destination = "/sys/fs/cgroup", type = "cgroup", source = "cgroup",
        options = { "nosuid", "noexec", "nodev", "relatime", "ro" } },
    },
    linux = {
      resources = { devices = { { allow = false, access = "rwm" } } },
      namespaces = { { type = "pid" }, { type = "network" }, { type = "ipc" }, { type = "uts" },
        { type = "mount" } },
      maskedPaths = identity.masked_paths,
      readonlyPaths = identity.readonly_paths,
    },
  }
  if rootless then
    spec.linux.resources = nil
    spec.linux.namespaces = { { type = "pid" }, { type = "ipc" }, { type = "uts" },
      { type = "mount" }, { type = "user" } }
    spec.linux.uidMappings = { { containerID = 0, hostID = core.geteuid(), size = 1 } }
    spec.linux.gidMappings = { { containerID = 0, hostID = core.getegid(), size = 1 } }
    spec.mounts[3].options = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620" }
    spec.mounts[6] = { destination = "/sys", type = "none", source = "/sys",
      options = { "rbind", "nosuid", "noexec", "nodev", "ro" } }
  end
  return spec
end

--- What this runtime supports (`features`), as runc prints it.
function M.features()
  local ns = {}
  for k in pairs(NAMESPACES) do ns[#ns + 1] = k end
  table.sort(ns)
  local opts = {}
  for k in pairs(MOUNT_FLAGS) do opts[#opts + 1] = k end
  for k in pairs(PROPAGATION) do opts[#opts + 1] = k end
  for k in pairs(IGNORED) do opts[#opts + 1] = k end
  table.sort(opts)
  local actions, ops = {}, {}
  for k in pairs(SECCOMP_ACTIONS) do actions[#actions + 1] = k end
  for k in pairs(SECCOMP_OPS) do ops[#ops + 1] = k end
  table.sort(actions)
  table.sort(ops)
  local all = {}
  for _, n in ipairs(core.cap_names()) do all[#all + 1] = "CAP_" .. n:gsub("^cap_", ""):upper() end
  return {
    ociVersionMin = "1.0.0", ociVersionMax = common.spec_version,
    hooks = { "prestart", "createRuntime", "createContainer", "startContainer", "poststart",
      "poststop" },
    mountOptions = opts,
    linux = {
      namespaces = ns, capabilities = all,
      cgroup = { v1 = true, v2 = true, systemd = false, systemdUser = false },
      seccomp = { enabled = true, actions = actions, operators = ops,
        archs = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
          "SCMP_ARCH_ARM" } },
    },
    annotations = object { ["org.nsl.version"] = common.version },
  }
end

--- dkjson, as this module reads and writes JSON with it.
M.json = common.json

--- A table that dkjson writes as a JSON object even when empty.
function M.object(t)
  return common.object(t)
end

return M
