-- nsl.netns_prepare: a network namespace made by a helper process beside
-- the caller, and the container setup that joins it before anything that
-- may look at the network. Every namespace change happens in a child of
-- the spec's own (helper.child): busted's process stays where it is.
local helper = require "helper"
local core = require "nsl.core"

local q = helper.quote
local HOST_NET = core.readlink("/proc/self/ns/net")

-- What `ip -o link show lo` says of lo's flags in this process's namespace.
local function lo_flags()
  local p = assert(io.popen("ip -o link show lo"))
  local out = p:read("a")
  p:close()
  return out:match("<([^>]*)>") or out
end

-- No child of this process is left, not even a zombie.
local function no_child_left()
  local pid, err = core.wait(-1, "nohang")
  helper.child_equal(nil, pid, "a child left: " .. tostring(pid) .. " " .. tostring(err))
end

describe("nsl.netns_prepare", function()
  it("makes a network namespace beside the caller; enter joins it, close reaps the helper",
    function()
      helper.child(function()
        local job = assert(core.netns_prepare { loopback = true })
        -- nothing changed for the caller until it enters
        helper.child_equal(HOST_NET, core.readlink("/proc/self/ns/net"), "before enter")
        helper.child_same({ true }, { job:enter() })
        local own = core.readlink("/proc/self/ns/net")
        assert(own ~= HOST_NET, "enter did not change the network namespace")
        job:close()
        no_child_left()
        -- the helper brought lo up there (after it sent the namespace)
        assert(lo_flags():find("UP", 1, true), "lo is not up: " .. lo_flags())
        -- a namespace of its own: nothing but lo
        local p = assert(io.popen("ip -o link show | wc -l"))
        helper.child_equal("1", p:read("a"):match("%d+"), "links in the namespace")
        p:close()
      end)
    end)

  it("leaves lo down without loopback", function()
    helper.child(function()
      local job = assert(core.netns_prepare())
      assert(job:enter())
      job:close()
      assert(not lo_flags():find("UP", 1, true), "lo is up: " .. lo_flags())
    end)
  end)

  it("kills and reaps a helper whose namespace was never entered", function()
    helper.child(function()
      local job = assert(core.netns_prepare { loopback = true })
      job:close()
      no_child_left()
      helper.child_equal(HOST_NET, core.readlink("/proc/self/ns/net"), "after close")
      -- closed: enter refuses (it would wait for a helper that is gone)
      local ok, err = pcall(job.enter, job)
      assert(not ok and tostring(err):find("entered or closed already", 1, true), tostring(err))
      job:close() -- twice is nothing
    end)
  end)

  it("says which system call the helper could not make, with its errno", function()
    -- uid 65534 without a user namespace: no CAP_SYS_ADMIN for unshare
    local r = helper.unprivileged_lua([[
      local job = assert(nsl.netns_prepare())
      local ok, err, errno = job:enter()
      job:close()
      print(ok, err, errno == nsl.errno.EPERM, nsl.readlink("/proc/self/ns/net"))
      local pid = nsl.wait(-1, "nohang")
      print("left", pid)]])
    assert.equal(0, r.code, r.err)
    assert.equal(string.format(
      "nil\tnetns_prepare: unshare CLONE_NEWNET: Operation not permitted\ttrue\t%s\nleft\tnil\n",
      HOST_NET), r.out)
  end)
end)

describe("a container's network namespace, made beside its setup", function()
  local tmp, root

  setup(function()
    tmp = helper.tmpdir()
    root = helper.busybox_root(tmp .. "/busybox")
  end)

  teardown(function() helper.rmtree(tmp) end)

  -- A script: busybox's standard container, with a step of its own first
  -- (a function, which the setup cannot know to be network-blind), which
  -- writes the network namespace it runs in to stderr.
  local function script(path, extra)
    helper.write(path, string.format([[
local nsl = require "nsl"
local c = nsl.container.config { rootfs = %q, command = { "/bin/sh", "-c",
  "readlink /proc/self/ns/net; ls /sys/class/net" }, seccomp = "unconfined" }
table.insert(c.steps, 1, function()
  io.stderr:write("step ", nsl.readlink("/proc/self/ns/net"), "\n")
end)
%s
os.exit(nsl.container.main(c))
]], root, extra or ""))
  end

  it("runs a script's own step in it, and the command, with sysfs showing lo only", function()
    script(tmp .. "/own_step.lua")
    local r = helper.sh(q(helper.nsl) .. " run " .. q(tmp .. "/own_step.lua"))
    assert.equal(0, r.code, r.err)
    local step = r.err:match("step (net:%S+)")
    local ns, links = r.out:match("^(net:%S+)\n(.*)$")
    assert.is_string(ns, r.out)
    assert.not_equal(HOST_NET, ns)
    assert.equal(ns, step, r.err)
    assert.equal("lo\n", links)
  end)

  it("mounts sysfs in mount_system when the step sysfs is not in the list", function()
    -- and without the script's own step, which would join before it
    script(tmp .. "/no_sysfs_step.lua", [[
table.remove(c.steps, 1)
for i, step in ipairs(c.steps) do if step == "sysfs" then table.remove(c.steps, i) end end]])
    local r = helper.sh(q(helper.nsl) .. " run " .. q(tmp .. "/no_sysfs_step.lua"))
    assert.equal(0, r.code, r.err)
    local ns, links = r.out:match("^(net:%S+)\n(.*)$")
    assert.not_equal(HOST_NET, ns)
    assert.equal("lo\n", links)
  end)

  it("joins it before the command when no step did", function()
    -- no sysfs, and only steps that run before the network: the setup
    -- joins the namespace after them all the same
    script(tmp .. "/blind_steps.lua", [[
for i = #c.mounts, 1, -1 do if c.mounts[i].fstype == "sysfs" then table.remove(c.mounts, i) end end
c.steps = { "propagation", "bind_rootfs", "mount_system", "enter_root" }
c.command = { "/bin/sh", "-c", "readlink /proc/self/ns/net; cat /proc/net/dev" }]])
    local r = helper.sh(q(helper.nsl) .. " run " .. q(tmp .. "/blind_steps.lua"))
    assert.equal(0, r.code, r.err)
    local ns = r.out:match("^(net:%S+)\n")
    assert.is_string(ns, r.out)
    assert.not_equal(HOST_NET, ns)
    local interfaces = {}
    for name in r.out:gmatch("\n%s*([^%s:]+):") do interfaces[#interfaces + 1] = name end
    assert.same({ "lo" }, interfaces, r.out)
  end)

  it("fails the start, naming the system call, when the namespace cannot be made", function()
    -- an outer user namespace allows no network namespace (a limit its root
    -- may set): the helper's unshare gets ENOSPC
    script(tmp .. "/limited.lua")
    local r = helper.sh("unshare --user --map-root-user --fork sh -c " .. q(
      "echo 0 > /proc/sys/user/max_net_namespaces && exec " .. q(helper.nsl) .. " run " ..
      q(tmp .. "/limited.lua")))
    assert.equal(125, r.code, r.out .. r.err)
    assert.matches("setup step 'network namespace': netns_prepare: unshare CLONE_NEWNET: " ..
      "No space left on device", r.err, 1, true)
    assert.equal("", r.out) -- the command never ran
  end)
end)
