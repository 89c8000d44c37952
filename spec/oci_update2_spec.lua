-- nsl oci update and seccomp where runc's integration suite (update.bats,
-- seccomp.bats) found nsl-oci behind runc: resources keys in any case,
-- real-time CPU limits, device rules changed without a gap, ENOSYS for
-- syscalls newer than the profile, and a startContainer hook under the
-- filter. Each as a config, a run, a check from inside.
local helper = require "helper"
local core = require "nsl.core"
local json = require "dkjson"
local cgroup = require "nsl.cgroup"
local devrules = require "nsl.oci.devrules"

local q = helper.quote

local H = require "oci_harness"
local oci = H.oci

setup(H.setup)
teardown(H.teardown)

-- The cgroup of a container's bundle dir.
local function cgroup_of(dir)
  return assert(cgroup.open(H.cgroup_of[dir]))
end

describe("nsl oci update: linux.resources keys", function()
  it("takes CPU and Cpus for cpu and cpus, in the config and in update, as runc does", function()
    if tonumber(helper.sh("nproc").out) < 2 then return pending("needs two CPUs") end
    local pid, dir = H.started("cpukey", "sleep 100", function(s)
      -- runc's test: the object beside the cpu its setup writes
      s.linux.resources = { cpu = { shares = 100 }, CPU = { Cpus = "0", Mems = "0" } }
    end)
    finally(function() H.finish("cpukey", pid) end)
    local cg = cgroup_of(dir)
    assert.same({ "0", "0", "100" }, { cg:read("cpuset.cpus"), cg:read("cpuset.mems"),
      cg:read("cpu.shares") })
    local r = oci("update -r - cpukey", '{"CPU": {"Cpus": "1"}}')
    assert.same({ 0, "" }, { r.code, r.err })
    assert.equal("1", cg:read("cpuset.cpus"))
    -- the same field twice: which one runc takes depends on the order
    r = oci("update -r - cpukey", '{"cpu": {"cpus": "0"}, "Cpu": {"Cpus": "1"}}')
    assert.equal(1, r.code)
    assert.matches("^linux.resources: [Cc]pu and [Cc]pu both set cpus\n$", r.err)
    r = oci("update -r - cpukey", '{"pids": {"limit": 10}, "PIDS": 5}')
    assert.equal(1, r.code)
    assert.matches("^linux.resources: %a+ and %a+ are the same field\n$", r.err)
    assert.equal("1", cg:read("cpuset.cpus"))
  end)
end)

describe("nsl oci create: linux.resources values", function()
  -- a limit config.resources cannot take would have been skipped: the
  -- container made without it, unlimited (fail open)
  it("refuses a limit that is not an integer, and makes nothing", function()
    for _, case in ipairs {
      { { memory = { limit = "64m" } }, 'linux.resources.memory.limit: want an integer, not "64m"' },
      { { pids = { limit = 1.5 } }, "linux.resources.pids.limit: want an integer, not 1.5" },
      { { cpu = { cpus = 3 } }, "linux.resources.cpu.cpus: want a string, not 3" },
    } do
      local dir = H.bundle(H.config(function(s) s.linux.resources = case[1] end))
      -- should it be made, its process keeps the stdout it is given
      local r = helper.sh(H.cmd("create --bundle " .. q(dir) .. " badlimit") .. " > /dev/null")
      if r.code == 0 then oci("delete -f badlimit") end
      assert.same({ 1, "create: " .. case[2] .. "\n" }, { r.code, r.err })
      assert.equal(1, oci("state badlimit").code)
    end
  end)
end)

describe("nsl oci update: real-time CPU limits", function()
  it("sets cpu.rt_period_us and cpu.rt_runtime_us from the JSON and from the flags", function()
    local top = "nsl-spec-rt-" .. H.tmp:match("[^.]+$")
    local parent = assert(cgroup.open(top))
    if parent.version ~= 1 or not parent.dirs.cpu then return pending("not a v1 cpu hierarchy") end
    if not core.access("/sys/fs/cgroup/cpu/cpu.rt_runtime_us") then
      return pending("no real-time group scheduling (CONFIG_RT_GROUP_SCHED)")
    end
    -- a new cgroup's rt_runtime is 0, which no child can exceed: the
    -- parent gets a little (1%), as runc's test gives its parents
    assert(core.mkdir(parent.dirs.cpu, "0755"))
    local pid
    finally(function()
      H.finish("rt", pid)
      -- the container's parent in every hierarchy (nsl-oci made it in
      -- the others), as H.teardown removes the harness's
      assert(cgroup.open(top):remove())
    end)
    assert(cgroup.write_file(parent.dirs.cpu .. "/cpu.rt_runtime_us", 10000))
    local dir
    pid, dir = H.started("rt", "sleep 100", function(s) s.linux.cgroupsPath = top .. "/c" end)
    local cg = cgroup_of(dir)
    local function rt() return { cg:read("cpu.rt_period_us"), cg:read("cpu.rt_runtime_us") } end
    local r = oci("update -r - rt", json.encode { cpu = { realtimeRuntime = 5001 } })
    assert.same({ 0, "" }, { r.code, r.err })
    assert.same({ "1000000", "5001" }, rt())
    r = oci("update -r - rt", json.encode { cpu = { realtimePeriod = 800001, realtimeRuntime = 4001 } })
    assert.same({ 0, "" }, { r.code, r.err })
    assert.same({ "800001", "4001" }, rt())
    r = oci("update rt --cpu-rt-period 900001 --cpu-rt-runtime 6001")
    assert.same({ 0, "" }, { r.code, r.err })
    assert.same({ "900001", "6001" }, rt())
    -- a runtime above the parent's share is the kernel's EINVAL, named
    r = oci("update rt --cpu-rt-runtime 800000")
    assert.equal(1, r.code)
    assert.matches("cpu.rt_runtime_us", r.err, 1, true)
  end)
end)

describe("nsl.oci.devrules", function()
  local function set(lines)
    local s = assert(devrules.parse(table.concat(lines, "\n") .. "\n"))
    return s
  end

  it("reads access letters as runc does: rwa is rw, and r, w, m in the kernel's order", function()
    assert.same({ "rw", "rwm", "m", "" }, { devrules.access("rwa"), devrules.access("mwr"),
      devrules.access("m"), devrules.access("a") })
  end)

  it("writes nothing when the rules stay the same", function()
    local now = set { "c 1:3 rwm", "c 1:5 rwm", "c *:* m", "b *:* m" }
    assert.same({}, devrules.transition(now, set { "b *:* m", "c *:* m", "c 1:5 rwm", "c 1:3 rwm" }))
  end)

  it("takes away what the new rules drop before it gives what they add, and nothing else", function()
    local now = set { "c 1:3 rwm", "c 1:5 rwm", "c 1:9 rwm" }
    local want = set { "c 1:3 rwm", "c 1:5 r", "c 10:229 rw" }
    assert.same({ { "devices.deny", "c 1:5 wm" }, { "devices.deny", "c 1:9 rwm" },
      { "devices.allow", "c 10:229 rw" } }, devrules.transition(now, want))
  end)

  it("starts from the default when the cgroup allows every device or the default changes", function()
    local all = set { "a *:* rwm" }
    local want = set { "c 1:3 rwm" }
    assert.same({ { "devices.deny", "a *:* rwm" }, { "devices.allow", "c 1:3 rwm" } },
      devrules.transition(all, want))
    assert.same({ { "devices.allow", "a *:* rwm" } }, devrules.transition(want, all))
  end)

  it("applies writes as the kernel does: a deny takes only from the exception with its numbers", function()
    local s = set { "a *:* rwm" }
    assert(devrules.apply(s, "devices.deny", "a *:* rwm"))
    assert(devrules.apply(s, "devices.allow", "c *:* m"))
    assert(devrules.apply(s, "devices.allow", "c 1:3 rw"))
    assert(devrules.apply(s, "devices.deny", "c 1:11 rw"))
    assert(devrules.apply(s, "devices.deny", "c 1:3 w"))
    assert.is_true(devrules.same(s, set { "c *:* m", "c 1:3 r" }))
    assert.same({ nil, "devices.list: 'x 1:2 r' is not a device rule" }, { devrules.parse("x 1:2 r\n") })
  end)
end)

describe("nsl oci update: device rules", function()
  -- runc's test: deny all, then deny /dev/kmsg with the access "rwa"
  local RULES = { { allow = false, access = "rwm" },
    { allow = false, type = "c", major = 1, minor = 11, access = "rwa" } }
  local FUSE = { allow = true, type = "c", major = 10, minor = 229, access = "rw" }

  it("takes an access with letters besides r, w and m as runc does, and refuses one without", function()
    local r = H.run("rwa", "head -c 1 /dev/zero | wc -c; head -c 1 /dev/kmsg 2>&1 >/dev/null | wc -l",
      function(s) s.linux.resources = { devices = RULES } end)
    assert.same({ 0, "1\n1\n" }, { r.code, r.out }, r.err)
    r = H.run("noaccess", "true", function(s)
      s.linux.resources = { devices = { { allow = false, access = "a" } } }
    end)
    assert.equal(1, r.code)
    assert.matches("linux.resources.devices: access a has none of r, w and m", r.err, 1, true)
  end)

  it("changes the rules of a running container without a moment's loss of a device kept", function()
    local pid, dir = H.started("devupd", "while :; do head -c 1 /dev/zero > /dev/null || " ..
      "echo lost >> /devupd.lost; done", function(s) s.linux.resources = { devices = RULES } end)
    finally(function()
      H.finish("devupd", pid)
      os.remove(H.ROOTFS .. "/devupd.lost")
    end)
    local dev = assert(cgroup_of(dir):v1_dir("devices"))
    local function list() return helper.read(dev .. "/devices.list") end
    local before = list()
    assert.falsy(before:find("c 10:229", 1, true))
    local with_fuse = { RULES[1], RULES[2], FUSE }
    for i = 1, 16 do
      local r = oci("update -r - devupd", json.encode { devices = i % 2 == 1 and with_fuse or RULES })
      assert.same({ 0, "" }, { r.code, r.err })
      if i % 2 == 1 then
        assert.truthy(list():find("c 10:229 rw\n", 1, true), list())
      else
        assert.equal(before, list())
      end
    end
    -- and update without devices leaves them
    assert.equal(0, oci("update --pids-limit 30 devupd").code)
    assert.equal(before, list())
    assert.falsy(io.open(H.ROOTFS .. "/devupd.lost"), "the container lost /dev/zero for a moment")
  end)
end)

describe("nsl oci run with a seccomp profile", function()
  setup(function()
    local r = helper.sh("gcc -static -O -o " .. q(H.ROOTFS .. "/bin/rawsys") .. " " ..
      q(helper.root .. "/spec/fixtures/rawsys.c"))
    assert.equal(0, r.code, r.err)
  end)

  -- A profile that refuses (EPERM) all but the allow list of nsl's default
  -- profile (which leaves out unshare, 272).
  local function refusing(arches)
    return { defaultAction = "SCMP_ACT_ERRNO", architectures = arches,
      syscalls = { { action = "SCMP_ACT_ALLOW", names = require("nsl.seccomp_default").allow } } }
  end

  it("gives ENOSYS for a syscall newer than the profile and EPERM for one it leaves out", function()
    -- 1000: no syscall yet; 272 unshare, below the last the profile names
    local r = H.run("nosys", "/bin/rawsys 1000 272 39", function(s)
      s.linux.seccomp = refusing { "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_X86_64" }
    end)
    assert.same({ 0, "1000 ENOSYS\n272 EPERM\n39 ok\n" }, { r.code, r.out }, r.err)
    -- without architectures runc adds no stub: the default errno for all
    r = H.run("nosys2", "/bin/rawsys 1000", function(s) s.linux.seccomp = refusing(nil) end)
    assert.same({ 0, "1000 EPERM\n" }, { r.code, r.out }, r.err)
  end)

  it("runs a startContainer hook under the filter and says how it was killed, as runc", function()
    local dir = H.bundle(H.config(function(s)
      s.process.args = { "/bin/true" }
      s.linux.seccomp = { defaultAction = "SCMP_ACT_ALLOW",
        architectures = { "SCMP_ARCH_X86", "SCMP_ARCH_X32" },
        syscalls = { { names = { "mkdir" }, action = "SCMP_ACT_KILL" } } }
      s.hooks = { startContainer = { { path = "/bin/sh", args = { "sh", "-c", "mkdir /dev/shm/foo" } } } }
    end))
    local r = oci("run --bundle " .. q(dir) .. " hooksys")
    oci("delete --force hooksys")
    assert.are_not.equal(0, r.code)
    assert.matches("error running startContainer hook #0: error running hook: /bin/sh killed 31 (bad system call)",
      r.err, 1, true)
  end)
end)
