-- nsl oci where runc's integration suite (conformance/runc) found it
-- behind runc: each behaviour as a config, a run, a check from inside.
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

describe("nsl oci spec", function()
  it("mounts the container's cgroups read-only at /sys/fs/cgroup, as runc's spec does", function()
    local r = run("cgmount", "grep -c ' /sys/fs/cgroup' /proc/self/mountinfo >/dev/null && " ..
      "ls /sys/fs/cgroup | grep -q . && " ..
      "if mkdir /sys/fs/cgroup/x 2>/dev/null; then echo writable; else echo read-only; fi")
    assert.same({ 0, "read-only\n" }, { r.code, r.out }, r.err)
  end)
end)
