-- nsl oci update where a review found it short of runc or of failing
-- closed: limits checked before any device rule changes, device rules of
-- an allow-by-default container changed without a moment in which a
-- denied device opens, config keys spelled in another case refused.
local helper = require "helper"
local json = require "dkjson"
local core = require "nsl.core"
local cgroup = require "nsl.cgroup"
local devices = require "nsl.oci.devices"

local H = require "oci_harness"
local oci = H.oci

setup(H.setup)
teardown(H.teardown)

local function devices_dir(dir)
  return assert(assert(cgroup.open(H.cgroup_of[dir])):v1_dir("devices"))
end

local function sorted_lines(text)
  local lines = {}
  for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
  table.sort(lines)
  return lines
end

local DENY_ALL = { allow = false, access = "rwm" }
local FUSE = { allow = true, type = "c", major = 10, minor = 229, access = "rw" }

describe("nsl oci update: limits and devices", function()
  it("checks every limit before it changes the device rules", function()
    local pid, dir = H.started("upcheck", "sleep 100", function(s)
      s.linux.resources = { devices = { DENY_ALL } }
    end)
    finally(function() H.finish("upcheck", pid) end)
    local dev = devices_dir(dir)
    local before = helper.read(dev .. "/devices.list")
    for _, bad in ipairs{ { quota = "x" }, { shares = 1.5 }, { cpus = "zero" } } do
      local r = oci("update -r - upcheck", json.encode { devices = { DENY_ALL, FUSE }, cpu = bad })
      assert.equal(1, r.code, json.encode(bad))
      assert.matches("^update: linux.resources.cpu", r.err)
      assert.equal(before, helper.read(dev .. "/devices.list"), json.encode(bad))
    end
  end)
end)

describe("nsl oci update: a device rule the kernel refuses", function()
  it("writes the old rules back and says which write failed", function()
    -- a parent that allows only the default devices: the container's
    -- allow of /dev/fuse (10:229) is the kernel's EPERM
    local top = "nsl-spec-devback-" .. H.tmp:match("[^.]+$")
    local parent = assert(cgroup.open(top))
    local pdev = parent.version == 1 and parent:v1_dir("devices")
    if not pdev then return pending("not a v1 devices hierarchy") end
    assert(core.mkdir(pdev, "0755"))
    local pid
    finally(function()
      H.finish("devback", pid)
      assert(cgroup.open(top):remove())
      core.rmdir(pdev)
    end)
    assert(cgroup.write_file(pdev .. "/devices.deny", "a"))
    for _, line in ipairs(devices.DEFAULT_ALLOW) do
      assert(cgroup.write_file(pdev .. "/devices.allow", line))
    end
    local dir
    pid, dir = H.started("devback", "sleep 100", function(s)
      s.linux.cgroupsPath = top .. "/c"
      s.linux.resources = { devices = { DENY_ALL } }
    end)
    local dev = devices_dir(dir)
    local before = helper.read(dev .. "/devices.list")
    -- urandom (1:9) denied first, then fuse refused
    local URANDOM = { allow = false, type = "c", major = 1, minor = 9, access = "rwm" }
    local r = oci("update -r - devback", json.encode { devices = { DENY_ALL, URANDOM, FUSE } })
    assert.equal(1, r.code)
    -- the same rules (the kernel lists them in the order they were written)
    assert.same(sorted_lines(before), sorted_lines(helper.read(dev .. "/devices.list")))
    assert.matches("^update: linux.resources.devices: devices.allow 'c 10:229 rw': .*%(EPERM%)\n$", r.err)
    -- and the next update starts from the rules it has
    r = oci("update -r - devback", json.encode { devices = { DENY_ALL, URANDOM } })
    assert.same({ 0, "" }, { r.code, r.err })
    assert.falsy(helper.read(dev .. "/devices.list"):find("c 1:9 ", 1, true))
  end)
end)

describe("nsl oci update: an allow-by-default container's device rules", function()
  -- /dev/full (c 1:7) denied in a container that allows every other device
  local DENY_FULL = { allow = false, type = "c", major = 1, minor = 7, access = "rw" }
  local ALLOW_ALL = { allow = true, access = "rwm" }

  it("never lets the container open a device both the old and the new rules deny", function()
    -- the shell opens it itself, no fork between two tries
    local pid = H.started("allowall", "while :; do if { true < /dev/full; } 2>/dev/null; " ..
      "then echo opened >> /allowall.opened; fi; done", function(s)
        s.linux.resources = { devices = { ALLOW_ALL, DENY_FULL } }
      end)
    finally(function()
      H.finish("allowall", pid)
      os.remove(H.ROOTFS .. "/allowall.opened")
    end)
    local DENY_ZERO = { allow = false, type = "c", major = 1, minor = 9, access = "rw" }
    for i = 1, 30 do
      -- the same rules, then a new exception besides
      local rules = i % 2 == 1 and { ALLOW_ALL, DENY_FULL } or { ALLOW_ALL, DENY_FULL, DENY_ZERO }
      local r = oci("update -r - allowall", json.encode { devices = rules })
      assert.same({ 0, "" }, { r.code, r.err })
    end
    assert.falsy(io.open(H.ROOTFS .. "/allowall.opened"), "the container opened /dev/full")
    local r = oci("exec allowall sh -c 'head -c 1 /dev/full >/dev/null 2>&1 || echo denied; " ..
      "head -c 1 /dev/zero | wc -c'")
    assert.same({ 0, "denied\n1\n" }, { r.code, r.out }, r.err)
  end)

  it("freezes the container while a change of the default allows or denies every device", function()
    local pid, dir = H.started("todefault", "while :; do if { true < /dev/full; } 2>/dev/null; " ..
      "then echo opened >> /todefault.opened; fi; done", function(s)
        s.linux.resources = { devices = { DENY_ALL, DENY_FULL } }
      end)
    finally(function()
      H.finish("todefault", pid)
      os.remove(H.ROOTFS .. "/todefault.opened")
    end)
    local dev = devices_dir(dir)
    for i = 1, 20 do
      local rules = i % 2 == 1 and { ALLOW_ALL, DENY_FULL } or { DENY_ALL, DENY_FULL }
      local r = oci("update -r - todefault", json.encode { devices = rules })
      assert.same({ 0, "" }, { r.code, r.err })
      assert.equal(i % 2 == 1 and "a *:* rwm\n" or nil, i % 2 == 1 and helper.read(dev .. "/devices.list") or nil)
    end
    assert.falsy(io.open(H.ROOTFS .. "/todefault.opened"), "the container opened /dev/full")
    assert.equal("running", H.state("todefault").status)
  end)
end)

describe("nsl oci: config keys in another case", function()
  -- runc's decoder (Go's encoding/json) reads "Seccomp" as seccomp: a key
  -- nsl-oci would skip is refused rather than run without what it asks
  local cases = {
    { "linux.Seccomp", function(s) s.linux.Seccomp = { defaultAction = "SCMP_ACT_ERRNO" } end,
      "linux.seccomp" },
    { "linux.Resources", function(s) s.linux.Resources = { devices = { DENY_ALL } } end,
      "linux.resources" },
    { "Linux", function(s) s.Linux, s.linux = s.linux, nil end, "linux" },
    { "process.Capabilities", function(s)
      s.process.Capabilities, s.process.capabilities = s.process.capabilities, nil
    end, "process.capabilities" },
    { "linux.namespaces[0].Type", function(s)
      s.linux.namespaces[1].Type, s.linux.namespaces[1].type = s.linux.namespaces[1].type, nil
    end, "linux.namespaces[0].type" },
    -- Go folds U+017F (long s) to s and U+212A (Kelvin sign) to k
    { "linux.ma\u{17F}kedPaths", function(s) s.linux["ma\u{17F}kedPaths"] = { "/proc/kcore" } end,
      "linux.maskedPaths" },
    { "linux.\u{17F}eccomp", function(s)
      s.linux["\u{17F}eccomp"] = { defaultAction = "SCMP_ACT_ERRNO" }
    end, "linux.seccomp" },
    { "linux.mas\u{212A}edPaths", function(s) s.linux["mas\u{212A}edPaths"] = { "/proc/kcore" } end,
      "linux.maskedPaths" },
    { "linux.seccomp.syscalls[0].Action", function(s)
      s.linux.seccomp = { defaultAction = "SCMP_ACT_ALLOW",
        syscalls = { { names = { "mkdir" }, Action = "SCMP_ACT_ERRNO" } } }
    end, "linux.seccomp.syscalls[0].action" },
  }
  for _, case in ipairs(cases) do
    it("refuses " .. case[1], function()
      local r = H.run("case", "true", case[2])
      oci("delete --force case")
      assert.equal(1, r.code, r.err)
      assert.matches(case[1] .. " is spelled " .. case[3]:match("[^.]+$") .. " in the runtime spec",
        r.err, 1, true)
    end)
  end

  it("refuses exec --process with a key in another case", function()
    local pid, dir = H.started("execcase", "sleep 100")
    finally(function() H.finish("execcase", pid) end)
    local path = dir .. "/process.json"
    helper.write(path, json.encode { args = { "true" }, cwd = "/", User = { uid = 0, gid = 0 },
      capabilities = { bounding = { "CAP_CHOWN" } } })
    local r = oci("exec --process " .. helper.quote(path) .. " execcase")
    assert.equal(255, r.code, r.err) -- exec's failure, as runc's
    assert.matches("exec failed: process.User is spelled user in the runtime spec", r.err, 1, true)
  end)

  it("takes linux.resources' keys in any case, as runc's suite writes them", function()
    local r = H.run("cpucase", "true", function(s)
      s.linux.resources = { CPU = { Shares = 100 }, Pids = { Limit = 20 } }
    end)
    assert.same({ 0, "" }, { r.code, r.err })
  end)
end)

describe("nsl.oci.devices.update_cgroup on cgroup v2", function()
  local C = require "cgroup2_harness"

  it("replaces the container's device program with the new rules' (devbpf.replace)", function()
    if not C.unified_mount() then return pending("no cgroup2 mount") end
    local _, path = C.throwaway_cgroup(finally)
    local host = { version = 2, unified = { mount = C.unified_mount(), root = "/", own = "/" } }
    local cg = assert(cgroup.create(path .. "/c", {}, host))
    -- deny /dev/zero; then /dev/full instead
    local old = { DENY_ALL, { allow = false, type = "c", major = 1, minor = 5, access = "rwm" } }
    local new = { DENY_ALL, { allow = false, type = "c", major = 1, minor = 7, access = "rwm" } }
    devices.apply_cgroup(cg, old)()
    devices.update_cgroup(cg, new, old)
    local fd <close> = assert(core.open(cg.dirs.unified, "rdonly directory"))
    assert.equal(1, #assert(core.bpf_prog_query(fd, "cgroup_device")))
    local r = C.run_in(cg.dirs.unified, C.probe("/dev/zero", "/dev/full", "/dev/null"))
    assert.same({ 0, "zero r=0 w=0 full r=1 w=1 null r=0 w=0 " }, { r.code, r.out }, r.err)
  end)
end)
