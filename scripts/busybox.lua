-- busybox.lua: a shell, or one command, in an isolated busybox root
--
-- usage: nsl run busybox.lua [OPTIONS] [COMMAND [ARGS...]]
--
--   nsl run busybox.lua                    an interactive shell
--   nsl run busybox.lua /bin/echo hi       one command; its exit status
--   nsl run busybox.lua /bin/sh -c 'mount; ls -l /dev; ps'
--
-- The root is built on first use from the host's static busybox, in a
-- per-user cache directory. As root the container has no user namespace
-- unless a map is given; as an ordinary user the caller is root inside.
local nsl = require "nsl"
local container, rootfs, userns = nsl.container, nsl.rootfs, nsl.userns
local identity = nsl.identity

local options = require "nsl.options"

-- the options, as data: nsl.options parses them and writes --help
local function limit(field) return function(v) return { field, v } end end
local cli = options.with({
  script = "busybox.lua",
  usage = "nsl run busybox.lua [OPTIONS] [COMMAND [ARGS...]]",
  footer = "COMMAND defaults to /bin/sh. -h is --help (--hostname has no short form).",
  { "--rootfs", value = "DIR", help = "the root to use (default: a busybox root in the cache)" },
  { "--volatile", "--overlay", help = "a throwaway root: changes go to a tmpfs overlay" },
  { "--overlay-dir", value = "DIR", help = "changes go to DIR/upper (kept), with DIR/work" },
  { "--readonly", "--read-only", help = "mount the root read-only" },
  { "--hostname", value = "NAME", help = "the container's hostname (default: busybox)" },
  { "--workdir", "-w", value = "DIR", parse = options.target, help = "the working directory (made if missing)" },
  { "--no-pivot", key = "pivot", set = false,
    help = "enter the root with MS_MOVE + chroot, not pivot_root" },
  { "--name", value = "NAME", help = "record the container for `nsl ps` and `nsl enter NAME`" },
  { "--rm", help = "accepted for docker's habit: nsl keeps no container anyway" },
  { "--userns", help = "use a user namespace even as root" },
  { "--uid-map", value = "MAP", parse = userns.parse_map,
    help = "inside:outside:count[,...] (implies --userns)" },
  { "--gid-map", value = "MAP", parse = userns.parse_map,
    help = "inside:outside:count[,...] (implies --userns)" },
  { "--no-init", key = "init", set = false,
    help = "run COMMAND as pid 1 itself, without the tiny init" },
  { "--tty", help = "a pseudo-terminal (default: when stdin is one)" },
  { "--no-tty", key = "tty", set = false, help = "no pseudo-terminal" },
  { "--user", "-u", value = "U[:G]", parse = identity.parse_user,
    help = "run COMMAND as uid[:gid] or name[:group] (default: root)" },
  { "--group-add", value = "G", many = true, help = "a supplementary group for COMMAND" },
  { "--cap-add", value = "CAP", many = true, help = "add a capability to Docker's default 14 (or all)" },
  { "--cap-drop", value = "CAP", many = true, help = "drop a capability from them (or all)" },
  { "--cap-ambient", value = "CAP", many = true, help = "give a non-root --user this capability" },
  { "--allow-new-privs", key = "no_new_privs", set = false,
    help = "no no_new_privs: setuid bits and file caps work" },
  { "--rlimit", "--ulimit", value = "N=S[:H]", many = true,
    parse = identity.parse_rlimit, pack = true,
    help = "a resource limit: nofile=1024:2048, core=0, ..." },
  { "--memory", value = "SIZE", into = "resources", parse = limit("memory"),
    help = "a memory limit (cgroup): 64m, 1g, bytes" },
  { "--pids-limit", value = "N", into = "resources", parse = limit("pids"),
    help = "at most N tasks (cgroup)" },
  { "--cpus", value = "N", into = "resources", parse = limit("cpus"),
    help = "at most N CPUs' time (cgroup): 0.5 is half of one" },
  { "--cgroup", value = "PATH", help = "the cgroup (default nsl/NAME-PID below nsl's own)" },
  { "--no-mask", help = "no masked or read-only paths in /proc and /sys" },
  { "--seccomp", value = "P",
    help = "default (Docker's), unconfined, or FILE.lua returning a policy table" },
}, options.mount_options(), options.env_options(), options.network_options())

local o, command = options.args(cli, arg)
local opts = { rootfs = o.rootfs, readonly = o.readonly, hostname = o.hostname or "busybox",
  pivot = o.pivot, name = o.name, init = o.init, tty = o.tty, user = o.user,
  no_new_privs = o.no_new_privs, cgroup = o.cgroup, seccomp = o.seccomp or "default",
  userns = o.userns or o.uid_map ~= nil or o.gid_map ~= nil or nil,
  uid_map = o.uid_map, gid_map = o.gid_map, ambient = o.cap_ambient,
  network = o.network, publish = o.publish }
if o.volatile then opts.overlay = true end
if o.overlay_dir then opts.overlay = { dir = o.overlay_dir } end
if o.workdir then opts.cwd, opts.make_cwd = o.workdir, true end
if o.env then opts.env = options.environment(o.env) end
if o.no_mask then opts.masked_paths, opts.readonly_paths = {}, {} end
for _, r in ipairs(o.rlimit or {}) do
  opts.rlimits = opts.rlimits or {}
  opts.rlimits[r[1]] = r[2]
end
if o.resources then
  opts.resources = {}
  for _, r in ipairs(o.resources) do opts.resources[r[1]] = r[2] end
end
if o.mounts then
  -- the standard mounts first, then the volumes in the order given
  opts.mounts = table.move(container.mounts, 1, #container.mounts, 1, {})
  table.move(o.mounts, 1, #o.mounts, #opts.mounts + 1, opts.mounts)
end
if o.group_add then
  opts.user = opts.user or identity.parse_user("0:0")
  opts.user.groups = o.group_add
end
-- an ambient capability is in the bounding set too
local cap_add = table.move(o.cap_ambient or {}, 1, #(o.cap_ambient or {}), #(o.cap_add or {}) + 1,
  o.cap_add or {})
local capped, caps = pcall(identity.with_capabilities, identity.capabilities, cap_add,
  o.cap_drop or {})
if not capped then options.fail(cli, tostring(caps)) end
opts.capabilities = caps
if opts.resources then
  local valid, err = pcall(nsl.cgroup.limits, opts.resources)
  if not valid then options.fail(cli, tostring(err)) end
end

opts.rootfs = opts.rootfs or rootfs.busybox(rootfs.cache_dir() .. "/busybox")
local ok, err = rootfs.check(opts.rootfs)
if not ok then io.stderr:write("nsl: ", err, "\n"); os.exit(125) end
opts.command = #command > 0 and command or { "/bin/sh" }

container.exit(opts)
