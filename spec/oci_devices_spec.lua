-- nsl oci and the container's devices: linux.devices (block, fifo, mode,
-- owner, paths outside /dev), the devices cgroup, a read-only /dev,
-- --no-pivot's /proc and the console's owner, as root and as uid 65534.
local helper = require "helper"
local json = require "dkjson"

local q = helper.quote

local H = require "oci_harness"
local config, bundle, oci = H.config, H.bundle, H.oci

setup(H.setup)
teardown(H.teardown)

local run = H.run

-- A rootless bundle for uid 65534 (its own copy of the root, owned by it)
-- whose process runs sh -c script; returns its directory.
local function rootless_bundle(name, script, fn)
  local dir = H.tmp .. "/" .. name
  assert(os.execute(string.format("mkdir -p %s && cd %s && %s oci spec --rootless && " ..
    "cp -a %s rootfs", q(dir), q(dir), q(helper.nsl), q(H.ROOTFS))))
  local s = json.decode(helper.read(dir .. "/config.json"))
  s.root.path = "rootfs"
  s.process.terminal = false
  s.process.args = { "sh", "-c", script }
  s.linux.uidMappings = { { containerID = 0, hostID = helper.NOBODY, size = 1 } }
  s.linux.gidMappings = { { containerID = 0, hostID = helper.NOBODY, size = 1 } }
  if fn then fn(s) end
  helper.write(dir .. "/config.json", json.encode(s))
  assert(os.execute("chown -R 65534:65534 " .. q(dir)))
  return dir
end

-- `nsl oci run` of a rootless bundle as uid 65534.
local function run_rootless(dir, id)
  return helper.unprivileged(string.format("\"$NSL\" oci --root %s run --bundle %s %s",
    q(dir .. "/state"), q(dir), id))
end

local STAT = "stat -c '%n %F %t:%T %a %u:%g' "

describe("nsl oci linux.devices", function()
  it("makes block, fifo and char nodes with their mode and owner, also outside /dev", function()
    local r = run("dev1", STAT .. "/dev/blk /dev/fifo /opt/dev/mynull && echo x > /opt/dev/mynull " ..
      "&& echo written", function(s)
      s.linux.devices = {
        { path = "/dev/blk", type = "b", major = 7, minor = 0, fileMode = 416, uid = 1000, gid = 1001 },
        { path = "/dev/fifo", type = "p", fileMode = 384, uid = 2, gid = 3 },
        { path = "/opt/dev/mynull", type = "c", major = 1, minor = 3, fileMode = 438 },
      }
    end)
    assert.same({ 0, "/dev/blk block special file 7:0 640 1000:1001\n" ..
      "/dev/fifo fifo 0:0 600 2:3\n" ..
      "/opt/dev/mynull character special file 1:3 666 0:0\nwritten\n" }, { r.code, r.out }, r.err)
  end)

  it("lets the config's node replace a default one", function()
    local r = run("dev2", STAT .. "/dev/zero", function(s)
      s.linux.devices = { { path = "/dev/zero", type = "c", major = 1, minor = 5, fileMode = 384,
        uid = 7, gid = 8 } }
    end)
    assert.same({ 0, "/dev/zero character special file 1:5 600 7:8\n" }, { r.code, r.out }, r.err)
  end)

  it("refuses a relative path, a path with .., and a path over a host bind", function()
    local function refused(id, path, fn)
      local r = run(id, "true", function(s)
        s.linux.devices = { { path = path, type = "c", major = 1, minor = 3 } }
        if fn then fn(s) end
      end)
      assert.are_not.equal(0, r.code)
      return r.err
    end
    assert.matches("linux.devices: path dev/x is not absolute", refused("dev3", "dev/x"), 1, true)
    assert.matches("linux.devices: path /dev/../x leaves its directory", refused("dev4", "/dev/../x"),
      1, true)
    local host = H.tmp .. "/hostdir"
    assert(os.execute("mkdir -p " .. q(host)))
    local err = refused("dev5", "/mnt/host/node", function(s)
      table.insert(s.mounts, { destination = "/mnt/host", type = "bind", source = host,
        options = { "rbind" } })
    end)
    assert.matches("not on a filesystem made for the container", err, 1, true)
    assert.is_nil(helper.read(host .. "/node"))
  end)

  it("binds the host's nodes in a user namespace, as uid 65534, and names a missing one", function()
    local dir = rootless_bundle("rootless-dev", STAT .. "/dev/loop0 /dev/full", function(s)
      s.linux.devices = { { path = "/dev/loop0", type = "b", major = 7, minor = 0, fileMode = 438 },
        { path = "/dev/full", type = "c", major = 1, minor = 7 } }
    end)
    local r = run_rootless(dir, "rdev1")
    -- the host's nodes as they are (root's: the overflow id in here)
    assert.same({ 0, "/dev/loop0 block special file 7:0 600 65534:65534\n" ..
      "/dev/full character special file 1:7 666 65534:65534\n" }, { r.code, r.out }, r.err)
    dir = rootless_bundle("rootless-dev2", "true", function(s)
      s.linux.devices = { { path = "/dev/nsl-no-such-node", type = "c", major = 1, minor = 3 } }
    end)
    r = run_rootless(dir, "rdev2")
    assert.are_not.equal(0, r.code)
    assert.matches("device /dev/nsl-no-such-node: the host has no node there", r.err, 1, true)
  end)
end)

-- The directory of cgroup path (relative: below this process's own) in
-- the v1 devices hierarchy.
local function devices_dir(path)
  local h = assert(require("nsl.cgroup").hierarchies())
  local m = assert(h.v1.devices, "no v1 devices hierarchy")
  return (m.mount .. "/" .. m.own .. "/" .. path):gsub("//+", "/")
end

describe("nsl oci linux.resources.devices", function()
  it("writes the rules to the v1 devices cgroup in order: a denied /dev/null, an allowed /dev/zero",
    function()
    local script = "echo x > /dev/null; echo null $?; head -c 3 /dev/zero | wc -c; " ..
      "cat /proc/self/cgroup | grep devices: > /dev/zero; exec sleep 30"
    local pid, dir = H.started("cg1", script, function(s)
      s.linux.resources = { devices = { { allow = false, access = "rwm" },
        { allow = false, type = "c", major = 1, minor = 3, access = "rwm" } } }
    end)
    finally(function() H.finish("cg1", pid) end)
    local list = helper.read(devices_dir(H.cgroup_of[dir]) .. "/devices.list")
    assert.is_truthy(list, "no devices cgroup for the container")
    assert.matches("c 1:5 rwm\n", list, 1, true)
    assert.is_nil(list:find("c 1:3 ", 1, true), list)
    assert.is_nil(list:find("a *:* rwm", 1, true), list)
    local r = H.oci("exec cg1 sh -c 'echo x > /dev/null; echo $?; head -c 3 /dev/zero | wc -c'")
    assert.same({ 0, "1\n3\n" }, { r.code, r.out }, r.err)
    assert.matches("/dev/null: Operation not permitted", r.err, 1, true)
  end)

  it("refuses device rules as root where no cgroup can hold them", function()
    -- no cgroup filesystem in a throwaway mount namespace
    local dir = bundle(config(function(s) s.process.args = { "true" } end))
    local r = helper.sh("unshare -m --propagation private sh -c " ..
      q("umount -R /sys/fs/cgroup && " .. H.cmd("run --bundle " .. q(dir) .. " cg2")))
    assert.are_not.equal(0, r.code)
    assert.matches("linux.resources.devices: the container has no cgroup to apply them in", r.err,
      1, true)
    assert.is_nil(H.state("cg2"))
  end)

  it("runs with a warning as uid 65534, which has no cgroup to apply them in", function()
    local dir = rootless_bundle("rootless-cg", "echo ran", function(s)
      s.linux.resources = { devices = { { allow = false, access = "rwm" } } }
    end)
    local r = run_rootless(dir, "rcg1")
    assert.same({ 0, "ran\n" }, { r.code, r.out }, r.err)
    assert.matches("linux.resources.devices not applied: the container has no cgroup", r.err, 1, true)
  end)
end)

describe("nsl oci and a read-only /dev", function()
  it("populates /dev, then remounts it read-only", function()
    local r = run("ro1", "touch /dev/x; echo x > /dev/null && head -c 3 /dev/zero | wc -c && " ..
      STAT .. "/dev/extra && readlink /dev/ptmx && touch /dev/shm/y && echo shm ok && " ..
      "grep ' /dev ' /proc/self/mountinfo | grep -c ' ro,'", function(s)
      for _, m in ipairs(s.mounts) do
        if m.destination == "/dev" then m.options[#m.options + 1] = "ro" end
      end
      s.linux.devices = { { path = "/dev/extra", type = "c", major = 1, minor = 7, fileMode = 420 } }
    end)
    assert.same({ 0, "3\n/dev/extra character special file 1:7 644 0:0\npts/ptmx\nshm ok\n1\n" },
      { r.code, r.out }, r.err)
    assert.matches("touch: /dev/x: Read-only file system", r.err, 1, true)
  end)
end)

describe("nsl oci --no-pivot", function()
  -- a nested user namespace locks the container's mounts: a fresh /proc is
  -- allowed there only where a fully visible one is in the mount namespace
  -- (the kernel's mnt_already_visible), and the host's must not be one
  local CAPS = { "CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETFCAP", "CAP_SYS_CHROOT" }
  local function nested_proc(s)
    s.process.args = { "sh", "-c", "unshare -mrpf sh -c 'mount -t proc none /proc && echo mounted'; " ..
      "echo rc=$?" }
    for _, set in ipairs { "bounding", "effective", "permitted" } do s.process.capabilities[set] = CAPS end
  end

  it("leaves no host /proc from which a fresh, unmasked /proc could be mounted", function()
    local r = oci("run --no-pivot --bundle " .. q(bundle(config(nested_proc))) .. " np1")
    assert.same({ 0, "rc=1\n" }, { r.code, r.out }, r.err)
    assert.matches("mount: permission denied", r.err, 1, true)
    -- as with pivot_root
    r = oci("run --bundle " .. q(bundle(config(nested_proc))) .. " np2")
    assert.same({ 0, "rc=1\n" }, { r.code, r.out }, r.err)
  end)

  it("does the same as uid 65534, in a user namespace, where the host's /proc is covered", function()
    local dir = rootless_bundle("rootless-np", "", nested_proc)
    local r = helper.unprivileged(string.format("\"$NSL\" oci --root %s run --no-pivot --bundle %s np3",
      q(dir .. "/state"), q(dir)))
    assert.same({ 0, "rc=1\n" }, { r.code, r.out }, r.err)
    assert.matches("mount: permission denied", r.err, 1, true)
  end)
end)

describe("nsl oci's console", function()
  local console_of = H.console_of

  local SHOW = "stat -L -c '%a %u:%g' /proc/self/fd/0 /dev/console; echo end"

  it("gives the pty and /dev/console to the process's user and the tty group, mode 620", function()
    local dir = bundle(config(function(s)
      s.process.terminal = true
      s.process.args = { "sh", "-c", SHOW }
      s.process.user = { uid = 1000, gid = 1000 }
    end))
    assert.equal("620 1000:5\n620 1000:5\nend\n", console_of("con1", dir))
  end)

  it("gives them the process's gid where gid 5 is not mapped, as uid 65534", function()
    local dir = rootless_bundle("rootless-con", SHOW, function(s) s.process.terminal = true end)
    local function as_nobody(args)
      return helper.unprivileged(string.format("\"$NSL\" oci --root %s %s", q(dir .. "/state"), args))
    end
    assert.equal("620 0:0\n620 0:0\nend\n", console_of("con3", dir, as_nobody))
  end)
end)

describe("nsl oci exec's console", function()
  it("gives the pty to the process's user, the tty group keeping it, mode 620", function()
    local pid = H.started("con2", "exec sleep 30")
    finally(function() H.finish("con2", pid) end)
    local r = oci("exec -t --user 1000:1000 con2 stat -L -c '%a %u:%g' /proc/self/fd/0", "")
    assert.same({ 0, "620 1000:5\n" }, { r.code, (r.out:gsub("\r", "")) }, r.err)
  end)
end)
