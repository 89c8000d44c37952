local helper = require "helper"
local nsl = require "nsl"

local q = helper.quote

describe("nsl.container.new (step by step)", function()
  local tmp, root

  setup(function()
    tmp = helper.tmpdir()
    root = tmp .. "/root"
    local r = helper.sh(q(helper.nsl) .. " -e " ..
      q(string.format("require('nsl').rootfs.busybox(%q)", root)))
    assert.equal(0, r.code, r.err)
  end)

  teardown(function() helper.rmtree(tmp) end)

  it("runs one step at a time and shows the half-built container", function()
    local before = helper.mountinfo()
    local c = nsl.container.new { rootfs = root, hostname = "lab", tty = false }
    finally(function() c:destroy() end)
    assert.same({ "propagation", true }, { c:step() })
    assert.same({ "bind_rootfs", true }, { c:step() })
    assert.same({ "readonly", true }, { c:step() })
    assert.same({}, c:ls("/dev"))
    assert.same({ "mount_system", true }, { c:step() })
    assert.same({ "pts", "shm" }, c:ls("/dev"))
    local proc = nsl.inspect.find_mount(c:mounts(), root .. "/proc")
    assert.equal("proc", proc.fstype)
    assert.equal("devices", c:pending()[1])
    assert.is_true(c:finish())
    assert.is_nil(c:step())
    assert.same({ "exited", 0 }, { c:run { "/bin/sh", "-c", "test $(hostname) = lab" } })
    assert.same({ "exited", 3 }, { c:sh("exit 3") })
    assert.is_nil(nsl.inspect.find_mount(c:mounts(), root))
    -- nothing of it reached the host
    assert.equal(before, helper.mountinfo())
  end)

  it("reports a failing step with its error and keeps the worker", function()
    local c = nsl.container.new { rootfs = root, tty = false,
      steps = { "propagation", function() error("boom", 0) end, "bind_rootfs" } }
    finally(function() c:destroy() end)
    assert.same({ "propagation", true }, { c:step() })
    assert.same({ "(function)", false, "boom" }, { c:step() })
    assert.same({ "bind_rootfs", true }, { c:step() })
  end)

  it("throws the container away with destroy", function()
    local c = nsl.container.new { rootfs = root, tty = false }
    c:step()
    local pid = c.pid
    c:destroy()
    assert.is_nil(nsl.kill(pid, 0))
  end)
end)
