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

local usage = [==[
usage: nsl run busybox.lua [OPTIONS] [COMMAND [ARGS...]]
  --rootfs DIR       the root to use (default: a busybox root in the cache)
  --readonly         mount the root read-only
  --hostname NAME    the container's hostname (default: busybox)
  --no-pivot         enter the root with MS_MOVE + chroot, not pivot_root
  --userns           use a user namespace even as root
  --uid-map MAP      inside:outside:count[,...] (implies --userns)
  --gid-map MAP      inside:outside:count[,...] (implies --userns)
  --no-init          run COMMAND as pid 1 itself, without the tiny init
  --tty | --no-tty   a pseudo-terminal or not (default: when stdin is one)
  --help             this text
COMMAND defaults to /bin/sh.]==]

local function fail(message)
  io.stderr:write("busybox.lua: ", message, "\n", usage, "\n")
  os.exit(2)
end

-- Options come before the command; "--" ends them.
local opts, command = {}, {}
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
  elseif a == "--userns" then opts.userns = true
  elseif a == "--uid-map" then opts.uid_map = userns.parse_map(value()); opts.userns = true
  elseif a == "--gid-map" then opts.gid_map = userns.parse_map(value()); opts.userns = true
  elseif a == "--no-init" then opts.init = false
  elseif a == "--tty" then opts.tty = true
  elseif a == "--no-tty" then opts.tty = false
  elseif a:sub(1, 1) == "-" then fail("unknown option '" .. a .. "'")
  else break end
  i = i + 1
end
for j = i, #arg do command[#command + 1] = arg[j] end

opts.rootfs = opts.rootfs or rootfs.busybox(rootfs.cache_dir() .. "/busybox")
local ok, err = rootfs.check(opts.rootfs)
if not ok then io.stderr:write("nsl: ", err, "\n"); os.exit(125) end
opts.command = #command > 0 and command or { "/bin/sh" }
opts.hostname = opts.hostname or "busybox"

os.exit(container.main(opts))
