-- nsl.doctor: `nsl doctor` checks, up front, what the container setup needs
-- from this kernel and this user, and says how to fix what is missing.
--
-- Each check is a function returning true, or false and the reason, with
-- the fix next to it in the table: the list is data, so it reads as a list
-- of the known traps.
local core = require "nsl.core"

local M = {}

local read = require("nsl.util").read_file

local function sysctl(name)
  local v = read("/proc/sys/" .. name:gsub("%.", "/"))
  return v and tonumber(v:match("%-?%d+"))
end

-- Run fn in a child made with namespaces (mapping the caller to root when
-- a user namespace is among them): true, or false and what the child said.
local function in_child(namespaces, fn)
  local userns = require "nsl.userns"
  local r, w = assert(core.pipe())
  local maps
  for _, ns in ipairs(namespaces) do
    if ns == "user" then
      local u, g = userns.self_maps()
      maps = { uid = u, gid = g }
    end
  end
  local pid, err = userns.clone(namespaces, maps)
  if not pid then
    r:close(); w:close()
    return false, err
  end
  if pid == 0 then
    r:close()
    require("nsl.process").child(w, fn)
  end
  w:close()
  local msg = r:read(4096) or ""
  r:close()
  local _, how, code = core.wait(pid)
  if how == "exited" and code == 0 then return true end
  msg = msg:match("^125 (.*)$") or msg
  return false, msg ~= "" and msg or string.format("child %s %d", how, code)
end

--- The checks: { name, check function, fix [, optional] }. An optional
-- check (what a network mode needs) warns instead of failing.
M.checks = {
  { "user namespaces are enabled (user.max_user_namespaces > 0)",
    function()
      local n = sysctl("user.max_user_namespaces")
      return n == nil or n > 0, "user.max_user_namespaces is " .. tostring(n)
    end,
    "sysctl -w user.max_user_namespaces=15000" },
  { "unprivileged user namespaces are allowed (kernel.unprivileged_userns_clone)",
    function()
      local n = sysctl("kernel.unprivileged_userns_clone")
      return n == nil or n == 1, "kernel.unprivileged_userns_clone is " .. tostring(n)
    end,
    "sysctl -w kernel.unprivileged_userns_clone=1" },
  { "AppArmor does not restrict unprivileged user namespaces",
    function()
      local n = sysctl("kernel.apparmor_restrict_unprivileged_userns")
      return n == nil or n == 0, "kernel.apparmor_restrict_unprivileged_userns is " .. tostring(n)
    end,
    "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile for nsl" },
  { "this user can create a user namespace with mount, pid, uts, ipc and net",
    function() return in_child({ "user", "mnt", "pid", "uts", "ipc", "net" }, function() end) end,
    "see the sysctls above; inside a container, the outer runtime may forbid it (seccomp)" },
  { "proc can be mounted in a new user and pid namespace",
    function()
      return in_child({ "user", "mnt", "pid" }, function()
        assert(core.mount(nil, "/", nil, "rec private"))
        assert(core.mount("proc", "/proc", "proc", "nosuid nodev noexec"))
      end)
    end,
    "the kernel refuses proc when the host's /proc is partly covered by other mounts: " ..
    "unmount what is mounted over /proc subdirectories" },
  { "sysfs can be mounted in a new user and network namespace",
    function()
      return in_child({ "user", "mnt", "net" }, function()
        assert(core.mount(nil, "/", nil, "rec private"))
        assert(core.mount("sysfs", "/sys", "sysfs", "nosuid nodev noexec"))
      end)
    end,
    "without it, containers bind the host's /sys read-only" },
  { "the root can be entered with pivot_root (not an initramfs)",
    function()
      local inspect = require "nsl.inspect"
      local root = inspect.find_mount(assert(inspect.mountinfo()), "/")
      return root and root.fstype ~= "rootfs", "/ is " .. (root and root.fstype or "?")
    end,
    "run containers with --no-pivot (MS_MOVE + chroot)" },
  { "newuidmap and newgidmap are installed (range maps for ordinary users)",
    function()
      local ok = core.stat("/usr/bin/newuidmap") and core.stat("/usr/bin/newgidmap")
      return ok ~= nil and ok ~= false, "/usr/bin/newuidmap or newgidmap is missing"
    end,
    "apt-get install uidmap" },
  { "the host's static busybox is there (the default container root)",
    function()
      return core.stat("/bin/busybox") ~= nil, "/bin/busybox is missing"
    end,
    "apt-get install busybox-static" },
  { "seccomp is available",
    function()
      return (read("/proc/self/status") or ""):match("\nSeccomp:") ~= nil, "no Seccomp in /proc/self/status"
    end,
    "a kernel built with CONFIG_SECCOMP_FILTER" },
  { "the CNI plugins are installed (bridge, host-local, portmap, loopback)",
    function()
      local list = { plugins = { { type = "bridge" }, { type = "host-local" },
        { type = "portmap" }, { type = "loopback" } } }
      return pcall(require("nsl.net").cni.check, list)
    end,
    "apt-get install containernetworking-plugins iptables (--network bridge)", true },
  { "pasta is installed (networks for ordinary users)",
    function() return require("nsl.net").pasta.path() ~= nil, "pasta is not on PATH" end,
    "apt-get install passt (--network pasta; slirp4netns is the fallback)", true },
  { "this user can open /dev/net/tun (pasta)",
    function()
      local fd, err = core.open("/dev/net/tun", "rdwr")
      if fd then fd:close() end
      return fd ~= nil, err
    end,
    "chmod 0666 /dev/net/tun (as podman's hosts have it; the kernel still checks " ..
    "CAP_NET_ADMIN in the namespace for each device)", true },
}

--- Run every check; print "ok" or "FAIL ... fix: ..." lines to out (a
-- file, default io.stdout), "WARN ..." for an optional one. Returns the
-- number of failed checks (warnings not counted).
function M.run(out)
  out = out or io.stdout
  local failed = 0
  out:write(string.format("nsl doctor: uid %d, kernel %s\n", core.getuid(),
    (read("/proc/sys/kernel/osrelease") or "?"):gsub("%s+$", "")))
  for _, c in ipairs(M.checks) do
    local ok, why = c[2]()
    if ok then
      out:write("ok    ", c[1], "\n")
    elseif c[4] then
      out:write("WARN  ", c[1], "\n      why: ", tostring(why):gsub("\n", " "),
        "\n      fix: ", c[3], "\n")
    else
      failed = failed + 1
      out:write("FAIL  ", c[1], "\n      why: ", tostring(why):gsub("\n", " "),
        "\n      fix: ", c[3], "\n")
    end
  end
  return failed
end

return M
