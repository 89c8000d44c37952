-- unc.lua: the unprivileged container of "Unprivileged containers in Go, part 3"
--
-- usage: nsl run unc.lua [--rootfs DIR | --tar ROOTFS.TAR] COMMAND [ARGS...]
--
--   nsl run unc.lua cat /etc/os-release
--   nsl run unc.lua mount
--   nsl run unc.lua ps awxu
--
-- As in the tutorial the root is the current directory (or --rootfs DIR, or
-- a tarball unpacked with --tar), the container gets new user, mount, pid,
-- uts and ipc namespaces with the caller mapped to root, proc and a /dev
-- tmpfs are mounted, and pivot_root goes through a ".pivot_root" directory.
-- Written with the core bindings only, step by step, to show them.
local nsl = require "nsl"

local rootfs, tarball = ".", nil
while arg[1] and arg[1]:sub(1, 2) == "--" do
  local opt = table.remove(arg, 1)
  if opt == "--rootfs" then rootfs = table.remove(arg, 1)
  elseif opt == "--tar" then tarball = table.remove(arg, 1)
  else io.stderr:write("unc.lua: unknown option ", opt, "\n"); os.exit(2) end
end
if #arg == 0 then
  io.stderr:write("usage: nsl run unc.lua [--rootfs DIR | --tar ROOTFS.TAR] COMMAND [ARGS...]\n")
  os.exit(2)
end
if tarball then
  local skipped
  rootfs, skipped = nsl.rootfs.unpack(tarball, nsl.rootfs.cache_dir() .. "/unc")
  if #skipped > 0 then
    io.stderr:write(string.format("unc: %d device node(s) of the tarball not made " ..
      "(mknod needs real root; /dev is a fresh tmpfs anyway): %s\n", #skipped,
      table.concat(skipped, " ")))
  end
end

local cfg = {
  args = { table.unpack(arg) },
  hostname = "unc",
  mounts = {
    { source = "proc", target = "/proc", fs = "proc", flags = "nosuid nodev noexec" },
    { source = "tmpfs", target = "/dev", fs = "tmpfs", flags = "nosuid strictatime",
      data = "mode=755" },
  },
}

-- The tutorial's root is the directory it is run from: say so, in one
-- line, when that is no root (where proc and /dev would be mounted).
local root_dir = assert(nsl.getcwd()) .. "/" .. rootfs
if rootfs:sub(1, 1) == "/" then root_dir = rootfs end
root_dir = root_dir:gsub("/%.$", "")
for _, m in ipairs(cfg.mounts) do
  local st = nsl.stat(root_dir .. m.target)
  if not st or st.type ~= "dir" then
    io.stderr:write(string.format("unc.lua: '%s' is not a root (no %s directory in it): " ..
      "run it from inside an unpacked root, or --rootfs DIR / --tar FILE\n", root_dir, m.target))
    os.exit(125)
  end
end

-- pivot_root needs the root to be a mount point: bind it onto itself, then
-- put the old root under .pivot_root, detach it and remove the directory.
local function pivot_root(root)
  assert(nsl.mount(root, root, nil, "bind rec"))
  local pivot_dir = root .. "/.pivot_root"
  assert(nsl.mkdir(pivot_dir, "0777"))
  assert(nsl.pivot_root(root, pivot_dir))
  assert(nsl.chdir("/"))
  assert(nsl.umount("/.pivot_root", "detach"))
  assert(nsl.rmdir("/.pivot_root"))
end

-- The caller becomes root in a new user namespace (as real root: a user
-- namespace mapping root to root). The parent writes the maps, then lets
-- the child go on.
local uid_map, gid_map = nsl.userns.self_maps()
local pid = assert(nsl.userns.clone({ "user", "mnt", "pid", "uts", "ipc" },
  { uid = uid_map, gid = gid_map }, { pdeathsig = "KILL" }))

if pid == 0 then
  assert(nsl.chdir(rootfs))
  local root = assert(nsl.getcwd())
  -- The tutorial runs unprivileged, where the kernel already turns the
  -- copied mounts into slaves; this keeps the host clean as real root too.
  assert(nsl.mount(nil, "/", nil, "rec private"))
  assert(nsl.sethostname(cfg.hostname))
  for _, m in ipairs(cfg.mounts) do
    assert(nsl.mount(m.source, root .. m.target, m.fs, m.flags, m.data))
  end
  pivot_root(root)
  local _, err = nsl.execp(cfg.args[1], cfg.args,
    { PATH = "/bin:/sbin:/usr/bin:/usr/sbin", HOME = "/root", TERM = os.getenv("TERM") })
  io.stderr:write("unc: ", err, "\n")
  nsl._exit(127)
end

local _, how, code = assert(nsl.wait(pid))
os.exit(nsl.process.exit_code(how, code))
