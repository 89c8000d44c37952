-- libcontainer.lua: early Docker libcontainer's mount namespace setup, step for step
--
-- usage: nsl run libcontainer.lua [--rootfs DIR] [--readonly] [COMMAND [ARGS...]]
--
-- SetupNewMountNamespace from libcontainer's Go code, in its order: / as a
-- recursive slave, the root bound onto itself (and remounted read-only),
-- mountSystem, copyDevNodes, /dev/ptmx, setupDev, setupConsole, then
-- MS_MOVE of the root onto / and chroot (no pivot_root), umask 0022.
-- The steps replace the standard ones of nsl.container, which still does
-- the namespaces, the user namespace handshake and the terminal. Unlike
-- libcontainer then, every path inside the root is resolved in it (a root
-- handle), so an image's symlinks cannot send a mount or a node to the host.
local nsl = require "nsl"
local container = nsl.container

local opts = { readonly = false }
while arg[1] and arg[1]:sub(1, 2) == "--" do
  local opt = table.remove(arg, 1)
  if opt == "--rootfs" then opts.rootfs = table.remove(arg, 1)
  elseif opt == "--readonly" then opts.readonly = true
  else io.stderr:write("libcontainer.lua: unknown option ", opt, "\n"); os.exit(2) end
end
local rootfs = opts.rootfs or nsl.rootfs.busybox(nsl.rootfs.cache_dir() .. "/busybox")

-- Go's "defaults": MS_NOEXEC | MS_NOSUID | MS_NODEV
local defaults = "noexec nosuid nodev"

-- Where libcontainer joined paths to the root (and so followed an image's
-- symlinks onto the host), every path here goes through the root handle
-- (container.root_of): resolved inside the root, and written only on the
-- root's own mount and the filesystems mounted for the container.
local function must(what, ok, err, errno)
  if not ok then container.check(what, ok, err, errno) end
  return ok
end

local function mount_system(root, c)
  -- devpts refuses gid=5 when gid 5 is not mapped (an ordinary user's
  -- user namespace maps only its own gid): leave the option out there
  local devpts = "newinstance,ptmxmode=0666,mode=620,gid=5"
  if c.userns and not nsl.userns.maps(c.gid_map, 5) then
    devpts = "newinstance,ptmxmode=0666,mode=620"
  end
  local mounts = {
    { "proc", "/proc", "proc", defaults },
    { "sysfs", "/sys", "sysfs", defaults .. " rdonly" },
    { "tmpfs", "/dev", "tmpfs", "nosuid strictatime", "mode=755" },
    { "shm", "/dev/shm", "tmpfs", defaults, "mode=1777" },
    { "devpts", "/dev/pts", "devpts", "nosuid noexec", devpts },
    { "tmpfs", "/run", "tmpfs", "nosuid nodev strictatime", "mode=755" },
  }
  for _, m in ipairs(mounts) do
    local what = "mounting " .. m[1] .. " into " .. m[2]
    must(what, root:mkdir_all(m[2]))
    must(what, root:mount_on(m[2], m[1], m[3], m[4], m[5]))
  end
end

-- Bind the host's file onto path in the root (a user namespace has no mknod).
local function bind_node(root, what, source, path)
  must(what, root:touch(path))
  must(what, root:bind_on(path, source))
end

-- mknod each host node by its stat; inside a user namespace (no mknod
-- there) bind the host node instead.
local function copy_dev_nodes(root)
  nsl.umask(0)
  for _, node in ipairs { "null", "zero", "full", "random", "urandom", "tty" } do
    local st = must("stat /dev/" .. node, nsl.stat("/dev/" .. node))
    local dest = "/dev/" .. node
    local ok, err, errno = root:mknod(dest, st.type, st.mode, st.major, st.minor)
    if not ok and errno == nsl.errno.EPERM then
      bind_node(root, "copy_dev_nodes", "/dev/" .. node, dest)
    elseif not ok and errno ~= nsl.errno.EEXIST then
      must("copy " .. node, ok, err, errno)
    end
  end
end

-- A fresh symlink at path (whatever the /dev tmpfs had there goes).
local function relink(root, target, path)
  root:unlink(path)
  must("symlink " .. path, root:symlink(target, path))
end

local function setup_dev(root)
  local links = {
    { "/proc/kcore", "/dev/core" }, { "/proc/self/fd", "/dev/fd" },
    { "/proc/self/fd/0", "/dev/stdin" }, { "/proc/self/fd/1", "/dev/stdout" },
    { "/proc/self/fd/2", "/dev/stderr" },
  }
  for _, l in ipairs(links) do relink(root, l[1], l[2]) end
end

local function setup_console(root, console)
  if not console then return end -- no terminal, no console
  nsl.umask(0)
  local st = must("stat console " .. console, nsl.stat(console))
  local dest = "/dev/console"
  root:unlink(dest)
  -- the pty is nsl's own, made for this container
  must("chmod console", nsl.chmod(console, "0600"))
  must("chown console", nsl.chown(console, 0, 0))
  local ok, err, errno = root:mknod(dest, st.type, "0600", st.major, st.minor)
  if not ok and errno == nsl.errno.EPERM then
    bind_node(root, "setup_console", console, dest) -- a user namespace: bind only
  else
    must("mknod " .. dest, ok, err, errno)
    must("bind " .. console .. " to " .. dest, root:bind_on(dest, console))
  end
end

local function setup_new_mount_namespace(c)
  local root = c.rootfs
  must("mounting / as slave", nsl.mount(nil, "/", nil, "slave rec"))
  must("mounting " .. root .. " as bind", nsl.mount(root, root, "bind", "bind rec"))
  local handle = container.root_of(c)
  if c.readonly then
    must("mounting " .. root .. " as readonly", handle:remount("/", "rdonly rec"))
  end
  mount_system(handle, c)
  copy_dev_nodes(handle)
  relink(handle, "pts/ptmx", "/dev/ptmx")
  setup_dev(handle)
  setup_console(handle, c.console)
  must("chdir into " .. root, nsl.chdir(handle:fd()))
  c.root = nil
  handle:close()
  must("mount move " .. root .. " into /", nsl.mount(root, "/", nil, "move"))
  must("chroot .", nsl.chroot("."))
  must("chdir /", nsl.chdir("/"))
  nsl.umask("0022")
end

container.exit {
  rootfs = rootfs,
  readonly = opts.readonly,
  command = #arg > 0 and { table.unpack(arg) } or { "/bin/sh" },
  hostname = "libcontainer",
  steps = { setup_new_mount_namespace, "loopback", "hostname" },
}
