-- minimal.lua: bench/floor.c's sequence through nsl's core bindings, so that
-- the cost of Lua itself shows next to the floor.
--
-- usage: nsl run bench/minimal.lua [-u] ROOT [COMMAND [ARGS...]]
--   -u  a user namespace too (the default for an ordinary user): the caller
--       becomes root inside, the parent writes the maps first
--
-- The sequence: clone(user?, mnt, pid, uts, ipc, net), rslave /, bind the
-- root onto itself, proc, a tmpfs on /dev, pivot_root(".", "."), detach the
-- old root, exec; the parent waits and exits as the command did.
local core = require "nsl.core"

local args = { ... }
local userns = core.geteuid() ~= 0
if args[1] == "-u" then
  userns = true
  table.remove(args, 1)
end
local root = args[1]
if not root then
  io.stderr:write("usage: nsl run bench/minimal.lua [-u] ROOT [COMMAND [ARGS...]]\n")
  os.exit(2)
end
local command = { table.unpack(args, 2) }
if #command == 0 then command = { "/bin/true" } end

local function try(ok, err, ...)
  if ok then return ok, err, ... end
  io.stderr:write("minimal.lua: ", err, "\n")
  core._exit(125)
end

local function write_file(path, text)
  local fd = try(core.open(path, "wronly cloexec"))
  try(fd:write(text))
  fd:close()
end

local namespaces = userns and "user mnt pid uts ipc net" or "mnt pid uts ipc net"
local uid, gid = core.getuid(), core.getgid()
local r, w = try(core.pipe())
local pid = try(core.clone(namespaces))
if pid == 0 then
  w:close()
  if userns then
    if r:read(1) ~= "1" then core._exit(125) end -- the parent gave up
    try(core.setresgid(0, 0, 0))
    try(core.setresuid(0, 0, 0))
  end
  try(core.mount(nil, "/", nil, "rec slave"))
  try(core.mount(root, root, nil, "bind rec"))
  try(core.mount("proc", root .. "/proc", "proc", "nosuid nodev noexec"))
  try(core.mount("tmpfs", root .. "/dev", "tmpfs", "nosuid", "mode=755"))
  try(core.chdir(root))
  try(core.pivot_root(".", "."))
  try(core.umount(".", "detach"))
  try(core.chdir("/"))
  local _, err = core.exec(command[1], command)
  try(nil, err)
end
r:close()
if userns then
  write_file("/proc/" .. pid .. "/setgroups", "deny")
  write_file("/proc/" .. pid .. "/uid_map", "0 " .. uid .. " 1\n")
  write_file("/proc/" .. pid .. "/gid_map", "0 " .. gid .. " 1\n")
  try(w:write("1"))
end
w:close()
local _, how, code = try(core.wait(pid))
os.exit(how == "exited" and code or 128 + code)
