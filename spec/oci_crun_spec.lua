-- nsl oci and what crun's own test suite (conformance/crun) found
-- missing: each case a config, a run and a check from inside the
-- container.
local helper = require "helper"

local q = helper.quote

local H = require "oci_harness"
local config, bundle, oci = H.config, H.bundle, H.oci

setup(H.setup)
teardown(H.teardown)

-- `nsl oci run` of a bundle whose process runs sh -c script (fn changes
-- the config further); returns helper.sh's table.
local function run(id, script, fn)
  local dir = bundle(config(function(s)
    s.process.args = { "sh", "-c", script }
    if fn then fn(s) end
  end))
  return oci("run --bundle " .. q(dir) .. " " .. id)
end

-- A host file with text in it, to bind into a container.
local function host_file(name, text)
  local path = H.tmp .. "/" .. name
  helper.write(path, text)
  return path
end

describe("nsl oci mount destinations that are symlinks in the root", function()
  it("binds onto the link's target, followed inside the root", function()
    assert(os.execute(string.format("mkdir -p %s/opt/zone && : > %s/opt/zone/Rome && " ..
      "ln -s ../opt/zone/Rome %s/etc/localzone", q(H.ROOTFS), q(H.ROOTFS), q(H.ROOTFS))))
    local source = host_file("zone", "bound zone\n")
    local r = run("link1", "cat /opt/zone/Rome; readlink /etc/localzone; " ..
      "grep -c ' /opt/zone/Rome ' /proc/self/mountinfo", function(s)
      s.mounts[#s.mounts + 1] = { destination = "/etc/localzone", type = "bind",
        source = source, options = { "bind", "ro" } }
    end)
    assert.equal(0, r.code, r.err)
    assert.equal("bound zone\n../opt/zone/Rome\n1\n", r.out)
  end)

  it("makes a dangling link's target, its directories too, and binds there", function()
    assert(os.execute(string.format("ln -s ../made/for/bind %s/etc/dangling", q(H.ROOTFS))))
    local source = host_file("dangling", "bound file\n")
    local r = run("link2", "cat /made/for/bind && cat /etc/dangling", function(s)
      s.mounts[#s.mounts + 1] = { destination = "/etc/dangling", type = "bind",
        source = source, options = { "bind", "ro" } }
    end)
    assert.equal(0, r.code, r.err)
    assert.equal("bound file\nbound file\n", r.out)
  end)

  it("keeps a link that leaves the root inside it", function()
    local outside = H.tmp .. "/outside"
    assert(os.execute(string.format("mkdir -p %s && ln -s %s %s/etc/escape",
      q(outside), q(outside .. "/x"), q(H.ROOTFS))))
    local source = host_file("escape", "inside\n")
    local r = run("link3", "cat " .. q(outside .. "/x"), function(s)
      s.mounts[#s.mounts + 1] = { destination = "/etc/escape", type = "bind",
        source = source, options = { "bind", "ro" } }
    end)
    assert.equal(0, r.code, r.err)
    assert.equal("inside\n", r.out)
    assert.is_nil(helper.read(outside .. "/x"))
  end)
end)
