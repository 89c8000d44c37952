-- nsl oci against what a container can put in the way of its own setup:
-- exec -t's pty and a /proc or /dev/pts the container replaced, and a
-- create that fails after the container's process is running.
local helper = require "helper"
local core = require "nsl.core"
local H = require "oci_harness"
local C = require "cgroup2_harness"

local q = helper.quote
local oci = H.oci

setup(H.setup)
teardown(H.teardown)

-- The container's root may mount and make nodes (the default caps lack
-- CAP_SYS_ADMIN and CAP_MKNOD).
local function with_admin(s)
  local caps = { "CAP_SYS_ADMIN", "CAP_MKNOD", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER" }
  s.process.capabilities = { bounding = caps, effective = caps, permitted = caps }
end

describe("nsl oci exec -t in a container that replaced", function()
  -- the container makes /victim (root's), puts symlinks to it where exec's
  -- pty would be found (by `how`), then waits; exec -t as uid 1000 must
  -- leave /victim's owner alone
  local function victim_owner_after_exec(id, how)
    local pid = H.started(id, "touch /victim && " .. how .. " && touch /ready && exec sleep 30",
      with_admin)
    finally(function() H.finish(id, pid) end)
    local r
    for _ = 1, 100 do
      r = oci("exec " .. id .. " test -e /ready")
      if r.code == 0 then break end
    end
    assert.equal(0, r.code, r.err)
    oci("exec -t --user 1000:1000 " .. id .. " true", "")
    r = oci("exec " .. id .. " stat -c %u:%g /victim")
    assert.equal(0, r.code, r.err)
    return r.out
  end

  it("/proc chowns the pty by its fd, not by /proc/self/fd", function()
    local fake_proc = "mount -t tmpfs tmpfs /proc && mkdir -p /proc/self/fd && " ..
      "for i in $(seq 0 64); do ln -s /victim /proc/self/fd/$i; done"
    assert.equal("0:0\n", victim_owner_after_exec("fake-proc", fake_proc))
  end)

  it("/dev/pts opens the pty's peer from its master, not by its name", function()
    local fake_pts = "mkdir /real-pts && mount --bind /dev/pts /real-pts && " ..
      "mount -t tmpfs tmpfs /dev/pts && ln -s /real-pts/ptmx /dev/pts/ptmx && " ..
      "for i in $(seq 0 9); do ln -s /victim /dev/pts/$i; done"
    assert.equal("0:0\n", victim_owner_after_exec("fake-pts", fake_pts))
  end)
end)

describe("nsl oci create failing once its process runs", function()
  -- the pids of the processes whose environment holds marker
  local function pids_with(marker)
    local found = {}
    for _, name in ipairs(core.readdir("/proc") or {}) do
      local env = name:match("^%d+$") and helper.read("/proc/" .. name .. "/environ")
      if env and env:find(marker, 1, true) then found[#found + 1] = tonumber(name) end
    end
    return found
  end

  it("kills and reaps the process and removes its cgroup", function()
    -- a device program attached to the parent without allow_multi: the
    -- container's own cannot be attached below it, once its process is held
    local marker = "NSL_HOLD_SPEC=" .. core.getpid() .. "-" .. os.time()
    -- one finally (busted keeps the last): the held process, then the cgroups
    local remove_cgroups
    local dir, path = C.throwaway_cgroup(function(fn) remove_cgroups = fn end)
    finally(function()
      for _, pid in ipairs(pids_with(marker)) do core.kill(pid, "KILL"); H.reap(pid) end
      remove_cgroups()
    end)
    local parent = assert(core.open(dir, "rdonly directory"))
    local prog = assert(require("nsl.devbpf").load({ { allow = true, type = "a", access = "rwm" } }))
    assert(core.bpf_prog_attach(prog, parent, "cgroup_device"))
    prog:close(); parent:close()
    local bundle = H.bundle(H.config(function(s)
      s.process.args = { "sleep", "30" }
      s.linux.resources = { devices = { { allow = false, access = "rwm" } } }
      s.linux.cgroupsPath = path .. "/box"
    end))
    -- the held process is nsl's fork, with nsl's environment
    local r = helper.sh(C.v2_only("env " .. marker .. " " .. H.cmd("create --bundle " .. q(bundle) ..
      " failed")) .. " > /dev/null")
    assert.equal(1, r.code, r.err)
    assert.matches("linux.resources.devices: device program for", r.err, 1, true)
    assert.same({}, pids_with(marker))
    assert.is_nil(core.stat(dir .. "/box"), "the container's cgroup is left")
    assert.is_nil(H.state("failed"))
  end)
end)

describe("nsl oci and cgroups it did not make", function()
  it("refuses a cgroupsPath at the root of the hierarchies", function()
    for i, path in ipairs { "/", "//" } do
      local id = "cgroot" .. i
      local bundle = H.bundle(H.config(function(s)
        s.process.args = { "true" }
        s.linux.cgroupsPath = path
      end))
      local r = helper.sh(H.cmd("create --bundle " .. q(bundle) .. " " .. id) .. " > /dev/null")
      local st = H.state(id)
      if st then
        -- never `delete` one (it would remove the host's empty cgroups):
        -- its process goes, and its state directory
        core.kill(st.pid, "KILL")
        H.reap(st.pid)
        helper.sh("rm -rf " .. q(H.STATE .. "/" .. id))
      end
      assert.equal(1, r.code, r.err)
      assert.matches("linux.cgroupsPath '" .. path .. "' is the root of the cgroup hierarchies", r.err, 1,
        true)
    end
  end)

  it("leaves a cgroup that was there, and the empty ones below it, at delete", function()
    local cgroup = require "nsl.cgroup"
    local shared = H.CGROUP .. "/shared"
    local other = assert(cgroup.create(shared .. "/other", {})) -- another's, empty
    finally(function()
      other:remove()
      local cg = cgroup.open(shared)
      if cg then cg:remove() end
    end)
    local pid = H.started("inshared", "exec sleep 30", function(s) s.linux.cgroupsPath = shared end)
    local r = oci("delete --force inshared")
    H.reap(pid)
    assert.equal(0, r.code, r.err)
    assert.is_true(other:exists(), "another's cgroup below it is removed")
    assert.is_true(cgroup.open(shared):exists(), "the cgroup that was there is removed")
  end)
end)
