-- libcontainer.lua: early Docker libcontainer's mount namespace setup, step for step
--
-- usage: nsl run libcontainer.lua [--rootfs DIR] [--readonly] [COMMAND [ARGS...]]
--
-- SetupNewMountNamespace from libcontainer's Go code, in its order: / as a
-- recursive slave, the root bound onto itself (and remounted read-only),
-- mountSystem, copyDevNodes, /dev/ptmx, setupDev, setupConsole, then
-- MS_MOVE of the root onto / and chroot (no pivot_root), umask 0022.
-- The steps replace the standard ones of nsl.container, which still does
-- the namespaces, the user namespace handshake and the terminal.
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

local function must(what, ok, err)
  if not ok then error(what .. ": " .. err, 0) end
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
    { "proc", root .. "/proc", "proc", defaults },
    { "sysfs", root .. "/sys", "sysfs", defaults },
    { "tmpfs", root .. "/dev", "tmpfs", "nosuid strictatime", "mode=755" },
    { "shm", root .. "/dev/shm", "tmpfs", defaults, "mode=1777" },
    { "devpts", root .. "/dev/pts", "devpts", "nosuid noexec", devpts },
    { "tmpfs", root .. "/run", "tmpfs", "nosuid nodev strictatime", "mode=755" },
  }
  for _, m in ipairs(mounts) do
    nsl.rootfs.mkdir_all(m[2])
    must("mounting " .. m[1] .. " into " .. m[2], nsl.mount(m[1], m[2], m[3], m[4], m[5]))
  end
end

-- mknod each host node by its stat; inside a user namespace (no mknod
-- there) bind the host node instead.
local function copy_dev_nodes(root)
  nsl.umask(0)
  for _, node in ipairs { "null", "zero", "full", "random", "urandom", "tty" } do
    local st = must("stat /dev/" .. node, nsl.stat("/dev/" .. node))
    local dest = root .. "/dev/" .. node
    local ok, err, errno = nsl.mknod(dest, st.type, st.mode, st.major, st.minor)
    if not ok and errno == nsl.errno.EPERM then
      container.bind("copy_dev_nodes", "/dev/" .. node, dest)
    elseif not ok and errno ~= nsl.errno.EEXIST then
      must("copy " .. node, ok, err)
    end
  end
end

local function setup_dev(root)
  local links = {
    { "/proc/kcore", "/dev/core" }, { "/proc/self/fd", "/dev/fd" },
    { "/proc/self/fd/0", "/dev/stdin" }, { "/proc/self/fd/1", "/dev/stdout" },
    { "/proc/self/fd/2", "/dev/stderr" },
  }
  for _, l in ipairs(links) do
    nsl.unlink(root .. l[2])
    must("symlink " .. root .. l[2], nsl.symlink(l[1], root .. l[2]))
  end
end

local function setup_console(root, console)
  if not console then return end -- no terminal, no console
  nsl.umask(0)
  local st = must("stat console " .. console, nsl.stat(console))
  local dest = root .. "/dev/console"
  nsl.unlink(dest)
  must("chmod console", nsl.chmod(console, "0600"))
  must("chown console", nsl.chown(console, 0, 0))
  local ok, err, errno = nsl.mknod(dest, st.type, "0600", st.major, st.minor)
  if not ok and errno == nsl.errno.EPERM then
    container.bind("setup_console", console, dest) -- a user namespace: bind only
  else
    must("mknod " .. dest, ok, err)
    must("bind " .. console .. " to " .. dest, nsl.mount(console, dest, nil, "bind"))
  end
end

local function setup_new_mount_namespace(c)
  local root = c.rootfs
  must("mounting / as slave", nsl.mount(nil, "/", nil, "slave rec"))
  must("mounting " .. root .. " as bind", nsl.mount(root, root, "bind", "bind rec"))
  if c.readonly then
    must("mounting " .. root .. " as readonly",
      nsl.mount(root, root, "bind", "bind remount rdonly rec"))
  end
  mount_system(root, c)
  copy_dev_nodes(root)
  local ptmx = root .. "/dev/ptmx"
  nsl.unlink(ptmx)
  must("symlink dev ptmx", nsl.symlink("pts/ptmx", ptmx))
  setup_dev(root)
  setup_console(root, c.console)
  must("chdir into " .. root, nsl.chdir(root))
  must("mount move " .. root .. " into /", nsl.mount(root, "/", nil, "move"))
  must("chroot .", nsl.chroot("."))
  must("chdir /", nsl.chdir("/"))
  nsl.umask("0022")
end

os.exit(container.main {
  rootfs = rootfs,
  readonly = opts.readonly,
  command = #arg > 0 and { table.unpack(arg) } or { "/bin/sh" },
  hostname = "libcontainer",
  steps = { setup_new_mount_namespace, "loopback", "hostname" },
})
