-- nsl oci's linux.resources.devices on cgroup v2: the rules become a
-- device program on the container's cgroup (nsl.devbpf). This host's
-- cgroups are hybrid (the devices controller on v1, an empty cgroup2
-- beside it), so a v2-only host is had two ways: nsl.oci.devices given a
-- cgroup made with the hierarchy table of one, and nsl oci run in a mount
-- namespace of its own where the v1 hierarchies are unmounted (the host's
-- stay), leaving the cgroup2 mount alone.
local helper = require "helper"
local core = require "nsl.core"
local cgroup = require "nsl.cgroup"
local devices = require "nsl.oci.devices"
local H = require "oci_harness"
local C = require "cgroup2_harness"

local q = helper.quote

setup(H.setup)
teardown(H.teardown)

local function throwaway_cgroup() return C.throwaway_cgroup(finally) end

-- OCI's rules of a container that may not read /dev/zero: deny all (the
-- defaults follow it), then deny c 1:5.
local RULES = { { allow = false, access = "rwm" },
  { allow = false, type = "c", major = 1, minor = 5, access = "rwm" } }

-- What a process in the container's cgroup finds: /dev/null and /dev/full
-- (defaults) open, /dev/zero not; mknod allowed for any char or block node,
-- but a node of a device not in the defaults (10:229, fuse) does not open.
local CHECK = "echo x > /dev/null && echo null ok; head -c 1 /dev/zero > /dev/null || echo zero denied; " ..
  "echo x > /dev/full; echo full $?; mknod /dev/n1 c 10 229 && mknod /dev/n2 b 7 0 && echo mknod ok; " ..
  "(exec 3< /dev/n1) 2>&1 | grep -o 'Operation not permitted'"
local SEEN = "null ok\nzero denied\nfull 1\nmknod ok\nOperation not permitted\n"

-- The cgroup hierarchies of a v2-only host whose cgroup2 is this one's.
local function v2_host()
  return { version = 2, unified = { mount = C.unified_mount(), root = "/", own = "/" } }
end

-- The ids of the device programs attached to cgroup directory dir.
local function programs(dir)
  local fd <close> = assert(core.open(dir, "rdonly directory"))
  return assert(core.bpf_prog_query(fd, "cgroup_device"))
end

describe("nsl.oci.devices.apply_cgroup on cgroup v2", function()
  it("attaches the rules as a device program to the container's cgroup", function()
    local _, path = throwaway_cgroup()
    local cg = assert(cgroup.create(path .. "/c1", {}, v2_host()))
    local attach = devices.apply_cgroup(cg, RULES)
    -- loaded, attached only when the container is set up
    assert.same({}, programs(cg.dirs.unified))
    attach()
    assert.equal(1, #programs(cg.dirs.unified))
    local r = C.run_in(cg.dirs.unified, CHECK)
    assert.same({ 0, SEEN }, { r.code, r.out }, r.err)
    assert.matches("/dev/zero' for reading: Operation not permitted", r.err, 1, true)
  end)

  it("keeps the order of the rules: an allow after a deny wins", function()
    local _, path = throwaway_cgroup()
    local cg = assert(cgroup.create(path .. "/c2", {}, v2_host()))
    devices.apply_cgroup(cg, { RULES[1], RULES[2],
      { allow = true, type = "c", major = 1, minor = -1, access = "r" } })()
    local r = C.run_in(cg.dirs.unified, C.probe("/dev/zero", "/dev/null", "/dev/random"))
    -- 1:* read-only after the defaults: null and zero (1:3, 1:5) are readable
    assert.same({ 0, "zero r=0 w=1 null r=0 w=0 random r=0 w=0 " }, { r.code, r.out }, r.err)
  end)

  it("applies them as a program on a hybrid host without a v1 devices hierarchy", function()
    local dir, path = throwaway_cgroup()
    local h = { version = 1, v1 = {}, unified = v2_host().unified }
    local cg = assert(cgroup.open(path, h))
    cg.dirs.unified = dir -- a container that joined the unified hierarchy
    devices.apply_cgroup(cg, RULES)()
    local r = C.run_in(dir, CHECK)
    assert.same({ 0, SEEN }, { r.code, r.out }, r.err)
  end)

  it("refuses where neither a v1 devices hierarchy nor a v2 directory can take them", function()
    local cg = assert(cgroup.open("nsl-spec/none", { version = 1, v1 = {} }))
    local ok, err = pcall(devices.apply_cgroup, cg, RULES)
    assert.is_false(ok)
    assert.equal("linux.resources.devices: no v1 devices cgroup hierarchy is mounted and the " ..
      "container has no cgroup v2 directory for a device program", err)
  end)
end)

describe("nsl oci on a host with cgroup v2 only", function()
  it("runs the container under the device program on its cgroup, removed with it", function()
    local dir, path = throwaway_cgroup()
    local bundle = H.bundle(H.config(function(s)
      s.process.args = { "sh", "-c", CHECK .. "; grep '^0::' /proc/self/cgroup" }
      s.linux.resources = { devices = RULES }
      s.linux.cgroupsPath = path .. "/box"
      for _, set in ipairs { "bounding", "effective", "permitted" } do
        table.insert(s.process.capabilities[set], "CAP_MKNOD")
      end
    end))
    local r = helper.sh(C.v2_only(H.cmd("run --bundle " .. q(bundle) .. " v2run")))
    -- the v1 devices cgroup is out of reach: only the program denies
    assert.same({ 0, SEEN .. "0::" .. path .. "/box\n" },
      { r.code, r.out }, r.err)
    assert.is_nil(core.stat(dir .. "/box"), "the container's cgroup is left")
  end)
end)
