-- nsl.rootfs: root filesystems to run containers in.
--
-- Three ways to get one: build a busybox root from the host's static
-- busybox (no download), unpack a tarball, or use any directory as it is.
local core = require "nsl.core"
local errors = require "nsl.errors"
local util = require "nsl.util"

local M = {}

--- The host's static busybox (Debian's busybox-static).
M.busybox_binary = "/bin/busybox"

--- The directories a root needs for the standard setup's mount points.
M.skeleton = { "bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys",
  "dev", "run", "tmp", "root", "home", "var" }

M.passwd = "root:x:0:0:root:/root:/bin/sh\n" ..
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
M.group = "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n"

local function fail(what, err)
  errors.raise("rootfs: %s: %s", what, tostring(err))
end

local function is_dir(path)
  local st = core.stat(path)
  return st ~= nil and st.type == "dir"
end

--- The runtime directory: $XDG_RUNTIME_DIR/nsl, else /tmp/nsl-UID/run
-- (made, mode 0700, when missing): where nsl keeps what lives as long as a
-- container (nsl.running's records, nsl.cgroup's and nsl.net's).
function M.runtime_dir()
  local base = os.getenv("XDG_RUNTIME_DIR")
  if not (base and base:sub(1, 1) == "/" and core.access(base, "w")) then
    base = M.cache_dir()
  end
  local dir = base .. "/nsl"
  if base:match("/nsl$") then dir = base .. "/run" end
  local ok, err, errno = core.mkdir(dir, "0700")
  if not ok and errno ~= core.errno.EEXIST then error("runtime dir: " .. err, 2) end
  return dir
end

--- mkdir -p: create path and its missing parents (mode 0755).
function M.mkdir_all(path)
  return util.mkdir_all(path)
end

local function write_file(path, data, mode)
  local f, err = io.open(path, "wb")
  if not f then fail("write " .. path, err) end
  local ok, werr = f:write(data)
  f:close()
  if not ok then fail("write " .. path, werr) end
  if mode then assert(core.chmod(path, mode)) end
end

local function copy_file(from, to, mode)
  local f, err = io.open(from, "rb")
  if not f then fail("read " .. from, err) end
  local data = f:read("a")
  f:close()
  write_file(to, data, mode)
end

-- The applets as busybox lists them: "bin/ls", "usr/sbin/chroot", ...
local function applets(busybox)
  local p = io.popen(string.format("'%s' --list-full", busybox))
  local list = {}
  for line in p:lines() do
    if line:match("^[%w_/%.%-%[%]]+$") then list[#list + 1] = line end
  end
  p:close()
  return list
end

--- Build a busybox root in dir (created if needed): bin/busybox, a link
-- for every applet, etc/passwd, etc/group, etc/hostname, etc/hosts,
-- etc/resolv.conf and the empty mount points.
-- An existing root (one with bin/busybox) is left as it is. Returns dir.
function M.busybox(dir, busybox)
  busybox = busybox or M.busybox_binary
  if core.lstat(dir .. "/bin/busybox") then return dir end
  if not core.stat(busybox) then
    fail("busybox", busybox .. " is missing (apt-get install busybox-static)")
  end
  local ok, err = M.mkdir_all(dir)
  if not ok then fail("mkdir " .. dir, err) end
  for _, sub in ipairs(M.skeleton) do
    ok, err = M.mkdir_all(dir .. "/" .. sub)
    if not ok then fail("mkdir", err) end
  end
  assert(core.chmod(dir .. "/tmp", "1777"))
  assert(core.chmod(dir .. "/root", "0700"))
  copy_file(busybox, dir .. "/bin/busybox.tmp", "0755")
  for _, applet in ipairs(applets(dir .. "/bin/busybox.tmp")) do
    local depth = select(2, applet:gsub("/", ""))
    local target = ("../"):rep(depth) .. "bin/busybox"
    if applet ~= "bin/busybox" then
      ok, err = core.symlink(target, dir .. "/" .. applet)
      if not ok and not core.lstat(dir .. "/" .. applet) then fail("applet", err) end
    end
  end
  write_file(dir .. "/etc/passwd", M.passwd, "0644")
  write_file(dir .. "/etc/group", M.group, "0644")
  write_file(dir .. "/etc/hostname", "busybox\n", "0644")
  -- what a network's generated files are bound onto (nsl.net.files)
  write_file(dir .. "/etc/hosts", "127.0.0.1\tlocalhost\n", "0644")
  write_file(dir .. "/etc/resolv.conf", "", "0644")
  -- last, so that a half-built root is rebuilt next time
  assert(core.rename(dir .. "/bin/busybox.tmp", dir .. "/bin/busybox"))
  return dir
end

-- Run tar -xf tarball -C dir (extra words after), as root of a new user
-- namespace with maps when given; its output and whether it succeeded.
local function run_tar(tarball, dir, extra, maps)
  local argv = { "tar", "-xf", tarball, "-C", dir, table.unpack(extra) }
  local r, w = assert(core.pipe())
  local userns = require "nsl.userns"
  local pid, err = userns.clone(maps and { "user" } or {}, maps, { pdeathsig = "KILL" })
  if not pid then
    r:close(); w:close()
    fail("unpack " .. tarball, err)
  end
  if pid == 0 then
    require("nsl.process").child(nil, function()
      r:close()
      core.dup2(w, 1)
      core.dup2(w, 2)
      local _, xerr = core.execp("tar", argv, nil)
      -- into the output the parent reads (stderr is the pipe too)
      w:write("tar: " .. tostring(xerr) .. "\n")
      core._exit(127)
    end)
  end
  w:close()
  local chunks = {}
  repeat
    local chunk = r:read(65536)
    chunks[#chunks + 1] = chunk
  until not chunk or chunk == ""
  r:close()
  local _, how, code = core.wait(pid)
  return table.concat(chunks), how == "exited" and code == 0
end

--- Unpack a tarball (like the tutorial's rootfs.tar) into dir, which is
-- created if needed. Returns dir and the paths of the device nodes that
-- could not be made (an ordinary user may not mknod, not even in a user
-- namespace: the container's /dev is a fresh tmpfs anyway). As an ordinary
-- user with a subordinate range (/etc/subuid and newuidmap), tar runs as
-- root of a user namespace that maps it, so the files keep their owners as
-- the container will see them; without one, every file is the user's.
function M.unpack(tarball, dir)
  if not core.stat(tarball) then fail("unpack", tarball .. ": no such file") end
  local ok, err = M.mkdir_all(dir)
  if not ok then fail("mkdir " .. dir, err) end
  local maps, extra = nil, {}
  if core.geteuid() ~= 0 then
    local uid_map, gid_map = require("nsl.userns").default_maps()
    if #uid_map > 1 then
      maps = { uid = uid_map, gid = gid_map }
    else
      extra = { "--no-same-owner" } -- no owner but the user's own can be set
    end
  end
  local out, done = run_tar(tarball, dir, extra, maps)
  local skipped, other = {}, {}
  for line in out:gmatch("[^\n]+") do
    local node = line:match("^tar: (.-): Cannot mknod: Operation not permitted$")
    if node then
      skipped[#skipped + 1] = node
    elseif not line:match("^tar: Exiting with failure status due to previous errors") then
      other[#other + 1] = line
    end
  end
  if not done and (#other > 0 or #skipped == 0) then
    fail("unpack " .. tarball, #other > 0 and table.concat(other, "\n") or out)
  end
  return dir, skipped
end

--- Check that dir can serve as a root: a directory with something in it.
function M.check(dir)
  local st, err = core.stat(dir)
  if not st then return nil, string.format("rootfs '%s': %s", dir, err:match(": (.*)$") or err) end
  if st.type ~= "dir" then
    return nil, string.format("rootfs '%s' is a %s, not a directory", dir, st.type)
  end
  -- a subdirectory (a link count over 2 where the filesystem counts them)
  -- answers without reading the whole directory
  local entries = st.nlink <= 2 and core.readdir(dir)
  if entries and #entries == 0 then
    return nil, string.format("rootfs '%s' is empty (build one with nsl.rootfs.busybox)", dir)
  end
  return true
end

--- A per-user cache directory for roots: $XDG_CACHE_HOME/nsl, else
-- ~/.cache/nsl when the home is writable, else /tmp/nsl-UID (0700), so
-- that a user without a home (nobody) has one too.
function M.cache_dir()
  local xdg = os.getenv("XDG_CACHE_HOME")
  if xdg and xdg:sub(1, 1) == "/" and M.mkdir_all(xdg .. "/nsl") then
    return xdg .. "/nsl"
  end
  local home = os.getenv("HOME")
  if home and home:sub(1, 1) == "/" and is_dir(home) and core.access(home, "w") then
    if M.mkdir_all(home .. "/.cache/nsl") then return home .. "/.cache/nsl" end
  end
  local dir = string.format("/tmp/nsl-%d", core.geteuid())
  local ok, err, errno = core.mkdir(dir, "0700")
  if not ok and errno ~= core.errno.EEXIST then fail("cache dir", err) end
  local st = assert(core.lstat(dir))
  -- someone else's /tmp/nsl-UID would be a trap
  if st.type ~= "dir" or st.uid ~= core.geteuid() then
    fail("cache dir", dir .. " exists but is not this user's directory")
  end
  return dir
end

return M
