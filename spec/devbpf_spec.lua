-- nsl.devbpf and the bpf(2) bindings: device rules as a cgroup v2 device
-- program, checked by the kernel from a process in a throwaway cgroup
-- under the host's cgroup2 mount (a program there is enforced beside the
-- v1 devices cgroup), over a throwaway /dev of its own nodes.
local helper = require "helper"
local core = require "nsl.core"
local devbpf = require "nsl.devbpf"
local C = require "cgroup2_harness"

local run_in, probe = C.run_in, C.probe
local function throwaway_cgroup(parent) return C.throwaway_cgroup(finally, parent) end

-- Shorthands for rules.
local function allow(kind, major, minor, access)
  return { allow = true, type = kind, major = major, minor = minor, access = access or "rwm" }
end
local function deny(kind, major, minor, access)
  return { allow = false, type = kind, major = major, minor = minor, access = access or "rwm" }
end

describe("nsl.devbpf.program", function()
  it("is a prologue, a block for each rule and the verdicts, in 8-byte instructions", function()
    local one = devbpf.program { deny("c", 1, 5) }
    -- 6 loads, 4 compares and a verdict, 2 verdicts of 2 instructions
    assert.equal(6 + 4 + 4, #one // 8)
    assert.equal(0, #one % 8)
    -- the last instruction exits
    assert.equal(0x95, one:byte(#one - 7))
  end)

  it("stops at the last rule that decides every device and access", function()
    local rules = { deny("c", 1, 3), deny("c", 1, 5), allow("a") }
    -- nothing before "allow a *:* rwm" is reached
    assert.equal(#devbpf.program { allow("a") }, #devbpf.program(rules))
  end)

  it("raises for a bad type, access or number, naming the rule", function()
    assert.has_error(function() devbpf.program { allow("c"), allow("x") } end,
      "device rule 2: type x is not a, b or c")
    assert.has_error(function() devbpf.program { allow("c", 1, 3, "rx") } end,
      "device rule 1: access rx is not made of r, w and m")
    assert.has_error(function() devbpf.program { allow("c", 2 ^ 32) } end,
      "device rule 1: major 4294967296.0 is not -1 or a number 0..4294967295")
    assert.has_error(function() devbpf.program { allow("b", 8, -2) } end,
      "device rule 1: minor -2 is not -1 or a number 0..4294967295")
  end)

  it("raises for more rules than the kernel's instructions allow", function()
    local rules = {}
    for i = 1, 1100 do rules[i] = deny("c", 1, i) end
    assert.has_error(function() devbpf.program(rules) end,
      "1100 device rules make a program of 4410 instructions, over the kernel's 4096")
  end)
end)

describe("nsl.devbpf.rule", function()
  it("reads the v1 devices cgroup's lines", function()
    assert.same({ allow = true, type = "c", major = 1, minor = 3, access = "rwm" },
      devbpf.rule("c 1:3 rwm", true))
    assert.same({ allow = false, type = "b", access = "m" }, devbpf.rule("b *:* m", false))
    assert.same({ allow = false, type = "a", access = "rwm" }, devbpf.rule("a", false))
    assert.same({ nil, "device rule 'c 1 rwm' is not 'TYPE MAJOR:MINOR ACCESS'" },
      { devbpf.rule("c 1 rwm", true) })
    -- not read as "any"
    assert.same({ nil, "device rule 'c 99999999999999999999:3 rwm' is not 'TYPE MAJOR:MINOR ACCESS'" },
      { devbpf.rule("c 99999999999999999999:3 rwm", true) })
  end)
end)

describe("nsl.bpf_prog_load", function()
  it("raises for an unknown type and for what is no program", function()
    assert.has_error(function() core.bpf_prog_load("xdp", ("\0"):rep(8), "GPL") end,
      "bad argument #1 to 'bpf_prog_load' (invalid option 'xdp')")
    assert.has_error(function() core.bpf_prog_load("cgroup_device", ("\0"):rep(7), "GPL") end,
      "bad argument #2 to 'bpf_prog_load' (not an eBPF program (1..4096 instructions of 8 bytes))")
  end)

  it("returns the verifier's reason with the errno when the kernel refuses a program", function()
    -- exit without setting r0
    local fd, err, errno = core.bpf_prog_load("cgroup_device", string.pack("<I1I1i2i4", 0x95, 0, 0, 0),
      devbpf.LICENSE)
    assert.is_nil(fd)
    assert.equal(core.errno.EACCES, errno)
    assert.matches("^bpf BPF_PROG_LOAD %(1 instructions%): verifier: .*R0 !read_ok: Permission denied$",
      err)
  end)

  it("loads a device program as an fd", function()
    local fd <close> = assert(core.bpf_prog_load("cgroup_device", devbpf.program { deny("c", 1, 5) },
      devbpf.LICENSE))
    assert.matches("^anon_inode:bpf%-prog$", core.readlink("/proc/self/fd/" .. fd:fileno()))
  end)
end)

describe("nsl.bpf_prog_attach and nsl.bpf_prog_query", function()
  it("attach a program to a cgroup, which lists it", function()
    local dir = throwaway_cgroup()
    local cg <close> = assert(core.open(dir, "rdonly directory"))
    assert.same({}, core.bpf_prog_query(cg, "cgroup_device"))
    local prog <close> = assert(core.bpf_prog_load("cgroup_device", devbpf.program { allow("a") },
      devbpf.LICENSE))
    assert.is_true(core.bpf_prog_attach(prog, cg, "cgroup_device", "allow_multi"))
    local ids = core.bpf_prog_query(cg, "cgroup_device")
    assert.equal(1, #ids)
  end)

  it("return nil, message and errno for a directory that is no cgroup", function()
    local tmp = helper.tmpdir()
    finally(function() helper.rmtree(tmp) end)
    local fd <close> = assert(core.open(tmp, "rdonly directory"))
    local prog <close> = assert(core.bpf_prog_load("cgroup_device", devbpf.program { allow("a") },
      devbpf.LICENSE))
    local ok, err, errno = core.bpf_prog_attach(prog, fd, "cgroup_device", "allow_multi")
    assert.is_nil(ok)
    assert.equal(core.errno.EBADF, errno)
    assert.matches("^bpf BPF_PROG_ATTACH program %d+ to %d+: Bad file descriptor$", err)
    assert.same({ nil, "bpf BPF_PROG_QUERY " .. fd:fileno() .. ": Bad file descriptor", core.errno.EBADF },
      { core.bpf_prog_query(fd, "cgroup_device") })
  end)
end)

describe("nsl.devbpf.attach", function()
  local PROBE = probe("/dev/null", "/dev/zero", "/dev/full", "/dev/random")

  it("lets every device through where nothing is attached (the control)", function()
    local r = run_in(throwaway_cgroup(), PROBE)
    assert.same({ 0, "null r=0 w=0 zero r=0 w=0 full r=0 w=0 random r=0 w=0 " }, { r.code, r.out }, r.err)
  end)

  it("denies a device with EPERM and allows the others", function()
    local dir = throwaway_cgroup()
    assert(devbpf.attach(dir, { deny("c", 1, 5) }))
    local r = run_in(dir, "cat /dev/null && echo cat ok; head -c 1 /dev/zero")
    assert.same({ 1, "cat ok\n" }, { r.code, r.out }, r.err)
    assert.matches("'/dev/zero' for reading: Operation not permitted", r.err, 1, true)
  end)

  it("refuses mknod of a denied node and allows it for an allowed one", function()
    local dir = throwaway_cgroup()
    assert(devbpf.attach(dir, { deny("a"), allow("c", 1, 3, "m") }))
    local r = run_in(dir, "mknod /dev/n2 c 1 3 && echo made 1:3; mknod /dev/n1 c 1 5 || echo refused 1:5; " ..
      "mknod /dev/b1 b 7 0 || echo refused 7:0; cat /dev/n2 || echo no read")
    assert.same({ 0, "made 1:3\nrefused 1:5\nrefused 7:0\nno read\n" }, { r.code, r.out }, r.err)
    assert.matches("mknod: /dev/n1: Operation not permitted", r.err, 1, true)
  end)

  it("lets the last matching rule decide, in either order", function()
    local dir = throwaway_cgroup()
    assert(devbpf.attach(dir, { deny("c", 1, 5), allow("c", 1, 5), allow("c", 1, 7), deny("c", 1, 7) }))
    local r = run_in(dir, probe("/dev/zero", "/dev/full"))
    assert.same({ 0, "zero r=0 w=0 full r=1 w=1 " }, { r.code, r.out }, r.err)
  end)

  it("reads a, -1 and nil as any, and decides each access on its own", function()
    local dir = throwaway_cgroup()
    -- nothing but char 1:*, read only, 1:7 also for writing, 1:8 not at all
    assert(devbpf.attach(dir, { deny("a"), allow("c", 1, -1, "r"), allow("c", 1, 7, "w"),
      deny("c", nil, 8) }))
    local r = run_in(dir, PROBE)
    assert.same({ 0, "null r=0 w=1 zero r=0 w=1 full r=0 w=0 random r=1 w=1 " }, { r.code, r.out },
      r.err)
    -- an open for reading and writing needs both
    r = run_in(dir, "(exec 3<> /dev/full) && echo rw full; (exec 3<> /dev/null) || echo no rw null")
    assert.same({ 0, "rw full\nno rw null\n" }, { r.code, r.out }, r.err)
  end)

  it("adds to the programs above it: a nested cgroup's own program cannot allow what they deny",
    function()
    local parent = throwaway_cgroup()
    assert(devbpf.attach(parent, { deny("c", 1, 5) }))
    local child = throwaway_cgroup(parent)
    assert(devbpf.attach(child, { allow("a"), deny("c", 1, 7) }))
    local r = run_in(child, probe("/dev/null", "/dev/zero", "/dev/full"))
    assert.same({ 0, "null r=0 w=0 zero r=1 w=1 full r=1 w=1 " }, { r.code, r.out }, r.err)
    local cg <close> = assert(core.open(parent, "rdonly directory"))
    assert.equal(1, #core.bpf_prog_query(cg, "cgroup_device"))
  end)

  it("replaces the programs attached with another, leaving one (devbpf.replace)", function()
    local dir = throwaway_cgroup()
    assert(devbpf.attach(dir, { deny("c", 1, 5) }))
    assert(devbpf.replace(dir, { deny("c", 1, 7) }))
    local r = run_in(dir, probe("/dev/zero", "/dev/full"))
    assert.same({ 0, "zero r=0 w=0 full r=1 w=1 " }, { r.code, r.out }, r.err)
    local cg <close> = assert(core.open(dir, "rdonly directory"))
    assert.equal(1, #core.bpf_prog_query(cg, "cgroup_device"))
    -- and where none was attached it attaches one
    local empty = throwaway_cgroup()
    assert(devbpf.replace(empty, { deny("c", 1, 3) }))
    r = run_in(empty, probe("/dev/null", "/dev/zero"))
    assert.same({ 0, "null r=1 w=1 zero r=0 w=0 " }, { r.code, r.out }, r.err)
    local ok, _, errno = devbpf.replace("/nonexistent-nsl-cgroup", { deny("a") })
    assert.same({ nil, core.errno.ENOENT }, { ok, errno })
  end)

  it("returns nil, message and errno for a directory that is missing", function()
    local ok, err, errno = devbpf.attach("/nonexistent-nsl-cgroup", { deny("a") })
    assert.same({ nil, core.errno.ENOENT }, { ok, errno })
    assert.matches("/nonexistent-nsl-cgroup", err, 1, true)
  end)
end)
