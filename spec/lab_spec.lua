local helper = require "helper"
local nsl = require "nsl"

local q = helper.quote

describe("nsl.lab.new (step by step)", function()
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
    local c = nsl.lab.new { rootfs = root, hostname = "lab", tty = false }
    finally(function() c:destroy() end)
    assert.same({ "propagation", true }, { c:step() })
    assert.same({ "bind_rootfs", true }, { c:step() })
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

  it("reports a failing step with its error and refuses the next unless forced", function()
    local c = nsl.lab.new { rootfs = root, tty = false,
      steps = { "propagation", function() error("boom", 0) end, "bind_rootfs", "readonly" } }
    finally(function() c:destroy() end)
    assert.same({ "propagation", true }, { c:step() })
    assert.same({ "(function)", false, "boom" }, { c:step() })
    assert.has_error(function() c:step() end, "step 2 '(function)' failed: boom; " ..
      "c:step{ force = true } runs the next one anyway")
    assert.has_error(function() c:finish() end, "step 2 '(function)' failed: boom; " ..
      "c:step{ force = true } runs the next one anyway")
    assert.same({ "bind_rootfs", true }, { c:step { force = true } })
    assert.same({ "readonly", true }, { c:step() })
  end)

  -- The lab in a script of its own: a worker that returned into the
  -- caller's code would print "after" a second time, from its own pid.
  local function lab_script(code)
    return helper.sh(q(helper.nsl) .. " -e " .. q("local nsl = require 'nsl'\n" .. code ..
      "\nprint('after', nsl.getpid())"), nil, 10)
  end

  it("raises in the caller for a worker that cannot start, and the worker never returns",
    function()
    local r = lab_script([[
local c = nsl.lab.new { rootfs = "/nonexistent", tty = false }
print(pcall(c.step, c))
print(c.pid)]])
    assert.equal(0, r.code, r.err)
    assert.matches("^false\tsetup step 'rootfs': chdir '/nonexistent': " ..
      "No such file or directory %(ENOENT%)\nnil\nafter\t%d+\n$", r.out)
  end)

  it("refuses the next step after a step that ended the worker", function()
    local r = lab_script(string.format([[
local c = nsl.lab.new { rootfs = %q, tty = false,
  steps = { "propagation", function() nsl._exit(3) end, "hostname" } }
print(c:step())
print(pcall(c.step, c))
print(pcall(c.step, c))]], root))
    assert.equal(0, r.code, r.err)
    assert.matches("^propagation\ttrue\nfalse\tthe container's worker is gone\n" ..
      "false\tstep 2 '%(function%)' failed: the container's worker is gone; " ..
      "c:step{ force = true } runs the next one anyway\nafter\t%d+\n$", r.out)
  end)

  it("reports an argv the worker cannot run without leaving the worker", function()
    local r = lab_script(string.format([[
local c = nsl.lab.new { rootfs = %q, tty = false }
c:finish()
print(c:run { "/nonexistent" })
print(c:run { "/bin/sh", "-c", "exit 4" })
c:destroy()]], root))
    assert.equal(0, r.code, r.err)
    -- the reason comes back to the caller: the worker prints nothing
    assert.matches("^exited\t127\texecp '/nonexistent': No such file or directory\n" ..
      "exited\t4\nafter\t%d+\n$", r.out)
    assert.equal("", r.err)
  end)

  it("throws the container away with destroy", function()
    local c = nsl.lab.new { rootfs = root, tty = false }
    c:step()
    local pid = c.pid
    c:destroy()
    assert.is_nil(nsl.kill(pid, 0))
  end)
end)

describe("nsl.process.child", function()
  it("ends a forked child that raises: the error to the report, exit 125", function()
    local r = helper.sh(q(helper.nsl) .. " -e " .. q([[
local nsl = require "nsl"
local r, w = assert(nsl.pipe())
local pid = assert(nsl.clone({}))
if pid == 0 then
  r:close()
  nsl.process.child(w, function() error("boom", 0) end)
end
w:close()
print(r:read(100), nsl.wait(pid))
print("after", nsl.getpid())]]), nil, 10)
    assert.equal(0, r.code, r.err)
    assert.matches("^125 boom\t%d+\texited\t125\nafter\t%d+\n$", r.out)
  end)

  it("raises a container's failure in the caller when its child raises", function()
    local tmp = helper.tmpdir()
    finally(function() helper.rmtree(tmp) end)
    local r = helper.sh(q(helper.nsl) .. " -e " .. q(string.format([[
local nsl = require "nsl"
nsl.rootfs.busybox(%q)
print(pcall(nsl.container.run, { rootfs = %q, command = { 42 }, tty = false, init = false }))
print("after", nsl.getpid())]], tmp .. "/box", tmp .. "/box")), nil, 20)
    assert.equal(0, r.code, r.err)
    assert.matches("^false\t[^\n]+\nafter\t%d+\n$", r.out)
  end)
end)
