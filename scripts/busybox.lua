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

local usage = [==[
usage: nsl run busybox.lua [OPTIONS] [COMMAND [ARGS...]]
  --rootfs DIR       the root to use (default: a busybox root in the cache)
  --readonly         mount the root read-only
  --hostname NAME    the container's hostname (default: busybox)
  --no-pivot         enter the root with MS_MOVE + chroot, not pivot_root
  --name NAME        record the container for `nsl ps` and `nsl enter NAME`
  --userns           use a user namespace even as root
  --uid-map MAP      inside:outside:count[,...] (implies --userns)
  --gid-map MAP      inside:outside:count[,...] (implies --userns)
  --no-init          run COMMAND as pid 1 itself, without the tiny init
  --tty | --no-tty   a pseudo-terminal or not (default: when stdin is one)
  --user U[:G]       run COMMAND as uid[:gid] or name[:group] (default: root)
  --group-add G      a supplementary group for COMMAND (repeatable)
  --cap-add CAP      add a capability to Docker's default 14 (or all)
  --cap-drop CAP     drop a capability from them (or all)
  --cap-ambient CAP  give a non-root --user this capability (ambient)
  --allow-new-privs  no no_new_privs: setuid bits and file caps work
  --rlimit N=S[:H]   a resource limit: nofile=1024:2048, core=0, ...
  --memory SIZE      a memory limit (cgroup): 64m, 1g, bytes
  --pids-limit N     at most N tasks (cgroup)
  --cpus N           at most N CPUs' time (cgroup): 0.5 is half of one
  --cgroup PATH      the cgroup (default nsl/NAME-PID below nsl's own)
  --env K=V | --env K  set a variable, or pass the caller's K on
  --no-mask          no masked or read-only paths in /proc and /sys
  --seccomp P        default (Docker's profile), unconfined, or FILE.lua
                     returning a policy table (see nsl.seccomp_default)
  --help             this text
COMMAND defaults to /bin/sh.]==]

local function fail(message)
  io.stderr:write("busybox.lua: ", message, "\n", usage, "\n")
  os.exit(2)
end

-- Options come before the command; "--" ends them.
local opts, command = {}, {}
local groups, cap_add, cap_drop = {}, {}, {}
-- a library parser's error as a usage error
local function parse(fn, text)
  local ok, a, b = pcall(fn, text)
  if not ok then fail(tostring(a)) end
  return a, b
end
local i = 1
while i <= #arg do
  local a = arg[i]
  local function value()
    i = i + 1
    if arg[i] == nil then fail(a .. " needs a value") end
    return arg[i]
  end
  if a == "--" then i = i + 1; break
  elseif a == "--help" or a == "-h" then print(usage); os.exit(0)
  elseif a == "--rootfs" then opts.rootfs = value()
  elseif a == "--readonly" then opts.readonly = true
  elseif a == "--hostname" then opts.hostname = value()
  elseif a == "--no-pivot" then opts.pivot = false
  elseif a == "--name" then opts.name = value()
  elseif a == "--userns" then opts.userns = true
  elseif a == "--uid-map" then opts.uid_map = userns.parse_map(value()); opts.userns = true
  elseif a == "--gid-map" then opts.gid_map = userns.parse_map(value()); opts.userns = true
  elseif a == "--no-init" then opts.init = false
  elseif a == "--tty" then opts.tty = true
  elseif a == "--no-tty" then opts.tty = false
  elseif a == "--user" then opts.user = parse(identity.parse_user, value())
  elseif a == "--group-add" then groups[#groups + 1] = value()
  elseif a == "--cap-add" then cap_add[#cap_add + 1] = value()
  elseif a == "--cap-drop" then cap_drop[#cap_drop + 1] = value()
  elseif a == "--cap-ambient" then
    opts.ambient = opts.ambient or {}
    opts.ambient[#opts.ambient + 1] = value()
    cap_add[#cap_add + 1] = arg[i]
  elseif a == "--allow-new-privs" then opts.no_new_privs = false
  elseif a == "--rlimit" then
    local name, limits = parse(identity.parse_rlimit, value())
    opts.rlimits = opts.rlimits or {}
    opts.rlimits[name] = limits
  elseif a == "--env" then
    local k, v = value():match("^([^=]+)=?(.*)$")
    if not k then fail("--env wants K=V or K") end
    opts.env = opts.env or {}
    if arg[i]:find("=", 1, true) then opts.env[k] = v else opts.env[k] = os.getenv(k) end
  elseif a == "--no-mask" then opts.masked_paths, opts.readonly_paths = {}, {}
  elseif a == "--seccomp" then opts.seccomp = value()
  elseif a == "--memory" or a == "--pids-limit" or a == "--cpus" then
    local field = ({ ["--memory"] = "memory", ["--pids-limit"] = "pids", ["--cpus"] = "cpus" })[a]
    opts.resources = opts.resources or {}
    opts.resources[field] = value()
  elseif a == "--cgroup" then opts.cgroup = value()
  elseif a:sub(1, 1) == "-" then fail("unknown option '" .. a .. "'")
  else break end
  i = i + 1
end
for j = i, #arg do command[#command + 1] = arg[j] end
if #groups > 0 then
  opts.user = opts.user or identity.parse_user("0:0")
  opts.user.groups = groups
end
opts.capabilities = parse(function()
  return identity.with_capabilities(identity.capabilities, cap_add, cap_drop)
end)

opts.rootfs = opts.rootfs or rootfs.busybox(rootfs.cache_dir() .. "/busybox")
local ok, err = rootfs.check(opts.rootfs)
if not ok then io.stderr:write("nsl: ", err, "\n"); os.exit(125) end
opts.command = #command > 0 and command or { "/bin/sh" }
opts.hostname = opts.hostname or "busybox"
opts.seccomp = opts.seccomp or "default"
if opts.resources then parse(nsl.cgroup.limits, opts.resources) end

os.exit(container.main(opts))
