-- nsl oci where runc's integration suite (conformance/runc) found it
-- behind runc: each behaviour as a config, a run, a check from inside.
local helper = require "helper"
local json = require "dkjson"

local q = helper.quote

local H = require "oci_harness"
local config, bundle, oci = H.config, H.bundle, H.oci

setup(H.setup)
teardown(H.teardown)

local run = H.run

describe("nsl oci spec", function()
  it("mounts the container's cgroups read-only at /sys/fs/cgroup, as runc's spec does", function()
    local r = run("cgmount", "grep -c ' /sys/fs/cgroup' /proc/self/mountinfo >/dev/null && " ..
      "ls /sys/fs/cgroup | grep -q . && " ..
      "if mkdir /sys/fs/cgroup/x 2>/dev/null; then echo writable; else echo read-only; fi")
    assert.same({ 0, "read-only\n" }, { r.code, r.out }, r.err)
  end)
end)

describe("nsl oci events", function()
  it("prints one stats event with --stats, in runc's shape", function()
    local pid = H.started("ev1", "sleep 100")
    local r = oci("events --stats ev1")
    H.finish("ev1", pid)
    assert.equal(0, r.code, r.err)
    assert.matches('^{"type":"stats","id":"ev1","data":{', r.out)
    local e = json.decode(r.out)
    assert.truthy(e.data.memory.usage.usage > 0, r.out)
    assert.truthy(e.data.cpu.usage.total > 0, r.out)
    assert.truthy(e.data.pids.current >= 1, r.out)
  end)

  it("streams stats every --interval and ends once the container is gone", function()
    local pid = H.started("ev2", "sleep 100")
    local r = helper.sh(string.format("(timeout 20 %s > %s/ev2.log; echo $? > %s/ev2.rc) & " ..
      "sleep 1; %s; wait $!; cat %s/ev2.rc; grep -c '\"type\":\"stats\",\"id\":\"ev2\"' %s/ev2.log",
      H.cmd("events --interval 200ms ev2"), q(H.tmp), q(H.tmp), H.cmd("delete --force ev2"),
      q(H.tmp), q(H.tmp)))
    H.reap(pid)
    local rc, count = r.out:match("^(%d+)\n(%d+)\n$")
    assert.are_not.equal("124", rc, "events did not end: " .. r.out)
    assert.truthy(tonumber(count) and tonumber(count) >= 3, r.out .. r.err)
  end)

  it("reports an oom event when a process of the container is killed at its memory limit", function()
    local pid = H.started("ev3", "sleep 100", function(s)
      s.linux.resources = { memory = { limit = 33554432, swap = 33554432 } }
    end)
    local r = helper.sh(string.format("(timeout 20 %s > %s/ev3.log) & sleep 1; " ..
      "%s sh -c 'x=$(dd if=/dev/zero bs=64M count=1)'; sleep 1; %s; wait $!; cat %s/ev3.log",
      H.cmd("events ev3"), q(H.tmp), H.cmd("exec ev3"), H.cmd("delete --force ev3"), q(H.tmp)))
    H.reap(pid)
    assert.matches('{"type":"oom","id":"ev3"}', r.out, 1, true)
  end)
end)

describe("nsl oci's command line", function()
  it("takes update's options after the container's ID, as runc does", function()
    local pid = H.started("up1", "sleep 100")
    local r = oci("update up1 --pids-limit 42")
    local inside = oci("exec up1 cat /sys/fs/cgroup/pids/pids.max")
    H.finish("up1", pid)
    assert.equal(0, r.code, r.err)
    assert.same({ 0, "42\n" }, { inside.code, inside.out }, inside.err)
  end)

  it("takes update's --cpuset-cpus and --cpuset-mems", function()
    local pid = H.started("up3", "sleep 100")
    local r = oci("update --cpuset-cpus 1 --cpuset-mems 0 up3")
    local inside = oci("exec up3 cat /sys/fs/cgroup/cpuset/cpuset.cpus /sys/fs/cgroup/cpuset/cpuset.mems")
    H.finish("up3", pid)
    assert.equal(0, r.code, r.err)
    assert.same({ 0, "1\n0\n" }, { inside.code, inside.out }, inside.err)
  end)

  it("keeps the words after exec's ID for the command, options or not", function()
    local pid = H.started("up2", "sleep 100")
    local r = oci("exec up2 sh -c 'echo \"$@\"' sh --pids-limit 1")
    H.finish("up2", pid)
    assert.same({ 0, "--pids-limit 1\n" }, { r.code, r.out }, r.err)
  end)

  it("writes list's and state's fields in runc's order", function()
    local pid = H.started("ls1", "sleep 100")
    local list, state = oci("list --format json"), oci("state ls1")
    H.finish("ls1", pid)
    local order = '"ociVersion":"[%d.]+","id":"ls1","pid":%d+,"status":"running","bundle":"[^"]+",' ..
      '"rootfs":"[^"]+","created":"[^"]+","owner":""'
    assert.matches("^%[{" .. order, list.out)
    assert.matches("^{%s*" .. order:gsub(",", ",%%s*"), state.out)
  end)
end)

describe("nsl oci's console in a user namespace", function()
  it("gives the pty to the container's root and tty group when root maps onto other ids", function()
    local dir = bundle(config(function(s)
      s.process.terminal = true
      s.process.args = { "sh", "-c", "stat -L -c '%a %u:%g' /proc/self/fd/0 /dev/console; echo end" }
      s.linux.namespaces[#s.linux.namespaces + 1] = { type = "user" }
      s.linux.uidMappings = { { containerID = 0, hostID = 100000, size = 65536 } }
      s.linux.gidMappings = { { containerID = 0, hostID = 100000, size = 65536 } }
    end))
    assert.equal("620 0:5\n620 0:5\nend\n", H.console_of("usercon", dir))
  end)
end)

describe("nsl oci's cgroup below a parent made elsewhere", function()
  local cgroup = require "nsl.cgroup"

  it("fills a parent cpuset left empty (v1) so the container can join it", function()
    local parent = assert(cgroup.open(H.CGROUP .. "/pod"))
    if parent.version ~= 1 then return pending("not a v1 host") end
    -- a pod cgroup made by mkdir alone, as a tool on a v1 host leaves it
    assert(os.execute("mkdir -p " .. q(parent.dirs.cpuset)))
    local r = run("pod1", "cat /sys/fs/cgroup/cpuset/cpuset.cpus", function(s)
      s.linux.cgroupsPath = H.CGROUP .. "/pod/c1"
    end)
    local cpus = helper.read(parent.dirs.cpuset .. "/cpuset.cpus")
    parent:remove()
    assert.equal(0, r.code, r.err)
    assert.truthy(r.out:match("^[%d,-]+\n$"), r.out)
    assert.equal(r.out, cpus)
  end)
end)

describe("nsl oci update on a v1 host", function()
  local cgroup = require "nsl.cgroup"

  it("removes the memory limit with --memory -1 also when a swap limit was set", function()
    local probe = assert(cgroup.open(H.CGROUP))
    if probe.version ~= 1 then return pending("not a v1 host") end
    local memsw = io.open("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
    if not memsw then return pending("no swap accounting") end
    memsw:close()
    local pid = H.started("mem1", "sleep 100", function(s)
      s.linux.resources = { memory = { limit = 33554432, swap = 67108864 } }
    end)
    local r = oci("update --memory -1 mem1")
    local inside = oci("exec mem1 cat /sys/fs/cgroup/memory/memory.limit_in_bytes")
    H.finish("mem1", pid)
    assert.equal(0, r.code, r.err)
    assert.truthy(tonumber(inside.out) and tonumber(inside.out) > 2 ^ 60, inside.out)
  end)
end)
