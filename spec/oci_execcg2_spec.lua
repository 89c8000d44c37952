-- nsl oci: what delete --force ends (the container's processes alone),
-- exec --cgroup on co-mounted v1 hierarchies, the named v1 hierarchies a
-- container is made in, and an exec whose runtime fails after it cloned
-- the process. Each cgroup a spec makes here lies below the harness's own
-- parent (H.CGROUP), which its teardown removes; each process it starts
-- is ended and reaped by the spec.
local helper = require "helper"
local core = require "nsl.core"
local cgroup = require "nsl.cgroup"
local subcgroup = require "nsl.oci.subcgroup"
local util = require "nsl.util"
local H = require "oci_harness"

local q = helper.quote

setup(function() H.setup() end)
teardown(function() H.teardown() end)

local h = cgroup.hierarchies()
local v1 = h and h.version == 1

-- Wait until the v1 freezer directory dir says FROZEN; true when it did.
local function frozen(dir)
  local deadline = core.monotime() + 5
  while helper.read(dir .. "/freezer.state") ~= "FROZEN\n" do
    if core.monotime() > deadline then return false end
    core.poll({}, 10)
  end
  return true
end

describe("nsl oci delete --force of a container another freezer holds", function()
  it("ends the container's own processes and no host process placed in its cgroups", function()
    if not (v1 and h.v1.freezer and h.v1["name=systemd"] and h.v1.blkio) then
      return pending("no v1 freezer, name=systemd and blkio hierarchies")
    end
    local pid, dir = H.started("hf1", "sleep 60 & exec sleep 61")
    local path = H.cgroup_of[dir]
    local own = assert(cgroup.open(path))
    local second
    local deadline = core.monotime() + 5
    repeat
      for _, p in ipairs(own:procs()) do if p ~= pid then second = p end end
      if not second then core.poll({}, 10) end
    until second or core.monotime() > deadline
    assert.is_number(second, "the container's second process")
    -- a host process of the spec's, in two of the container's directories
    local host = assert(core.spawn("/bin/sleep", { "sleep", "1000" }, nil, { setsid = true }))
    local host_reaped = false
    local freezer = assert(cgroup.open(H.CGROUP .. "/held-by-another")).dirs.freezer
    assert(util.mkdir_all(freezer))
    finally(function()
      helper.write(freezer .. "/freezer.state", "THAWED")
      if not host_reaped then
        core.kill(host, "KILL")
        core.wait(host)
      end
      H.finish("hf1", pid)
      core.rmdir(freezer)
      -- the directories the host process kept busy stayed
      local left = cgroup.open(path)
      if left then left:remove() end
    end)
    for _, name in ipairs { "name=systemd", "blkio" } do
      helper.write(own:v1_dir(name) .. "/cgroup.procs", tostring(host))
    end
    -- both of the container's processes frozen in the spec's freezer cgroup
    helper.write(freezer .. "/cgroup.procs", tostring(pid))
    helper.write(freezer .. "/cgroup.procs", tostring(second))
    helper.write(freezer .. "/freezer.state", "FROZEN")
    assert.is_true(frozen(freezer))
    local r = helper.sh("timeout -k 5 30 " .. H.cmd("delete --force hf1"))
    assert.equal(0, r.code, r.err)
    assert.is_true(H.reap(pid))
    assert.equal("", helper.read(freezer .. "/cgroup.procs"))
    -- not ended (a zombie of this process's, not reaped here, were it)
    core.poll({}, 200)
    local got = core.wait(host, "nohang")
    host_reaped = got == host
    assert.equal(0, got, "the host process was ended")
  end)
end)

describe("nsl oci exec --cgroup on co-mounted v1 hierarchies", function()
  -- a container's cgroup as nsl.cgroup has it where cpu and cpuacct share
  -- one hierarchy (one directory), as on Debian, RHEL and Ubuntu
  local function comounted()
    return cgroup.from { version = 1, path = "c", dirs = { cpu = "/cg/cpu,cpuacct/c",
      cpuacct = "/cg/cpu,cpuacct/c", memory = "/cg/memory/c" } }
  end

  it("puts a controller's sub path in every controller of its directory", function()
    for _, arg in ipairs { "cpu:sub", "cpuacct:sub", "cpu,cpuacct:sub" } do
      local cg = subcgroup.of(comounted(), subcgroup.parse { arg })
      assert.same({ cpu = "/cg/cpu,cpuacct/c/sub", cpuacct = "/cg/cpu,cpuacct/c/sub",
        memory = "/cg/memory/c" }, cg.dirs, arg)
    end
  end)

  it("refuses two sub paths for one directory", function()
    local ok, err = pcall(subcgroup.of, comounted(), subcgroup.parse { "cpu:a", "cpuacct:b" })
    assert.is_false(ok)
    assert.matches("--cgroup: cpu and cpuacct share the hierarchy /cg/cpu,cpuacct/c: one sub path there, " ..
      "not a and b", err, 1, true)
  end)

  it("refuses a controller given twice and an empty one, in runc's words", function()
    for arg, want in pairs {
      ["memory:a memory:b"] = "invalid --cgroup argument(s): controller memory specified multiple times",
      ["cpu,cpu:a"] = "invalid --cgroup argument(s): controller cpu specified multiple times",
      [":x"] = "invalid --cgroup argument: :x (empty <controller> prefix)",
      ["memory,:x"] = "invalid --cgroup argument: memory,:x (empty <controller> prefix)",
    } do
      local args = {}
      for a in arg:gmatch("%S+") do args[#args + 1] = a end
      local ok, err = pcall(subcgroup.parse, args)
      assert.is_false(ok, arg)
      assert.matches(want, err, 1, true)
    end
  end)
end)

describe("nsl oci's container cgroup among the named v1 hierarchies", function()
  it("is made in name=systemd, as runc's, and in no other named one", function()
    local tmp = helper.tmpdir()
    finally(function() helper.rmtree(tmp) end)
    local function at(name) return { mount = tmp .. "/" .. name, root = "/", own = "/" } end
    local hier = { version = 1, v1 = { memory = at("memory"), blkio = at("blkio"),
      ["name=systemd"] = at("systemd"), ["name=tool"] = at("tool") } }
    for _, name in ipairs { "memory", "blkio", "systemd", "tool" } do assert(core.mkdir(tmp .. "/" .. name)) end
    local cg = assert(cgroup.open("box", hier))
    assert(cg:make_in_every_hierarchy())
    assert.same({ memory = tmp .. "/memory/box", blkio = tmp .. "/blkio/box",
      ["name=systemd"] = tmp .. "/systemd/box" }, cg.dirs)
    assert.is_nil(core.lstat(tmp .. "/tool/box"))
  end)
end)

describe("nsl oci exec whose runtime fails after it cloned the process", function()
  it("ends the process before it runs its command", function()
    local pid = H.started("xf1", "exec sleep 60", function(s)
      s.linux.seccomp = { defaultAction = "SCMP_ACT_ALLOW" }
    end)
    finally(function() H.finish("xf1", pid) end)
    -- a seccomp agent's hand-over that fails in the process that cloned
    -- the exec's process (not with EPIPE)
    local inject = [[
      local notify = require "nsl.oci.notify"
      local core = require "nsl.core"
      notify.check = function() return "agent.sock" end
      notify.connect = function()
        local r, w = assert(core.pipe())
        local sr, sw = assert(core.pipe())
        return { sock = r, sock_w = w, state_r = sr, state_w = sw }
      end
      notify.step = function() return function() end end
      notify.send_state = function(n)
        n.state_r:close(); n.state_w:close()
        return nil, "write: input/output error", core.errno.EIO
      end
      dofile(]] .. string.format("%q", helper.root .. "/scripts/oci.lua") .. ")"
    local r = helper.sh("timeout -k 5 30 " .. q(helper.nsl) .. " -e " .. q(inject) .. " --root " ..
      q(H.STATE) .. " exec xf1 touch /tmp/ran")
    assert.equal(255, r.code, r.err)
    assert.matches("input/output error", r.err, 1, true)
    assert.is_nil(core.lstat(H.ROOTFS .. "/tmp/ran"), "the command ran")
  end)
end)
