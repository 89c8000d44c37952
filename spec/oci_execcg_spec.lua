-- nsl oci: exec's exit status and sub-cgroups (--cgroup), the checks of
-- create on a cgroup that is there already, and delete --force of a
-- container whose processes another freezer cgroup holds. Each cgroup a
-- spec makes here lies below the harness's own parent (H.CGROUP), which
-- its teardown removes.
local helper = require "helper"
local core = require "nsl.core"
local json = require "dkjson"
local cgroup = require "nsl.cgroup"
local H = require "oci_harness"
local util = require "nsl.util"

local q = helper.quote

setup(function() H.setup() end)
teardown(function() H.teardown() end)

local h = cgroup.hierarchies()
local v1 = h and h.version == 1

-- The lines of /proc/PID/cgroup (or of a container's output) as
-- { [controllers] = path }.
local function cgroup_lines(text)
  local paths = {}
  for controllers, path in text:gmatch("%d+:([^:\n]*):([^\n]*)") do paths[controllers] = path end
  return paths
end

describe("nsl oci exec's exit status, as runc's", function()
  local pid
  setup(function() pid = H.started("ex1", "exec sleep 60") end)
  teardown(function() H.finish("ex1", pid) end)

  it("is the command's own once it ran", function()
    assert.equal(1, H.oci("exec ex1 false").code)
    assert.equal(42, H.oci("exec ex1 sh -c 'exit 42'").code)
  end)

  it("is 255 for a command that is not there or cannot be executed, in runc's words", function()
    local r = H.oci("exec ex1 no-such-binary")
    assert.equal(255, r.code, r.err)
    assert.matches('exec failed: exec: "no-such-binary": executable file not found in $PATH',
      r.err, 1, true)
    r = H.oci("exec ex1 /no/such")
    assert.equal(255, r.code, r.err)
    assert.matches('exec: "/no/such": stat /no/such: no such file or directory', r.err, 1, true)
    r = H.oci("exec ex1 /etc/passwd")
    assert.equal(255, r.code, r.err)
    assert.matches('exec: "/etc/passwd": permission denied', r.err, 1, true)
  end)

  it("is 255 for any other exec that did not start", function()
    for _, args in ipairs { "--cwd /nonexistent ex1 true", "no_such_container true",
      "--pid-file /non-existent/directory ex1 true" } do
      local r = H.oci("exec " .. args)
      assert.equal(255, r.code, args .. ": " .. r.err)
      assert.matches("^exec failed: ", r.err)
    end
  end)

  it("ends the process it started when the pid file cannot be written", function()
    -- its output to a file: the process, were it left, would hold a pipe
    local out = H.tmp .. "/pid-file.out"
    local r = helper.sh("timeout -k 5 30 " .. H.cmd("exec --detach --pid-file /non-existent/directory " ..
      "ex1 sleep 50") .. " > " .. q(out) .. " 2>&1")
    assert.equal(255, r.code, helper.read(out))
    assert.matches("/non-existent/directory", helper.read(out), 1, true)
    assert.same({ pid }, (json.decode(H.oci("ps --format json ex1").out)))
  end)
end)

describe("nsl oci exec as uid 65534, rootless", function()
  it("says 255 and runc's words too, and refuses --cgroup without a cgroup", function()
    local dir = H.tmp .. "/nobody"
    assert(os.execute(string.format("mkdir -p %s && cp -a %s %s/rootfs && chown -R 65534:65534 %s",
      q(dir), q(H.ROOTFS), q(dir), q(dir))))
    local r = helper.unprivileged("cd " .. q(dir) .. ' && "$NSL" oci spec --rootless')
    assert.equal(0, r.code, r.err)
    local spec = json.decode(helper.read(dir .. "/config.json"))
    spec.process.terminal = false
    spec.process.args = { "sleep", "60" }
    spec.root.readonly = false
    helper.write(dir .. "/config.json", json.encode(spec))
    assert(os.execute("chmod 0644 " .. q(dir .. "/config.json")))
    r = helper.unprivileged("cd " .. q(dir) .. ' && N="$NSL oci --root $PWD/state" && ' ..
      "$N create nb1 > /dev/null && $N start nb1 && " ..
      "$N exec nb1 no-such-binary; echo status $?; $N exec --cgroup sub nb1 true; echo status $?; " ..
      "$N delete --force nb1")
    assert.equal(0, r.code, r.err)
    assert.equal("status 255\nstatus 255\n", r.out)
    assert.matches('exec failed: exec: "no-such-binary": executable file not found in $PATH', r.err, 1, true)
    assert.matches("exec failed: --cgroup: the container has no cgroup", r.err, 1, true)
  end)
end)

describe("nsl oci exec --cgroup", function()
  local pid, dir, dirs
  setup(function()
    pid, dir = H.started("cg1", "exec sleep 60")
    -- the container's directories, in every hierarchy it is in
    dirs = json.decode(helper.read(H.STATE .. "/cg1/state.json")).cgroup.dirs
  end)
  teardown(function() H.finish("cg1", pid) end)

  -- The /proc/self/cgroup lines of an exec in cg1 with args before the ID.
  local function exec_lines(args)
    local r = H.oci("exec " .. args .. " cg1 cat /proc/self/cgroup")
    assert.equal(0, r.code, r.err)
    return cgroup_lines(r.out)
  end

  it("puts the container and its execs in its cgroup on every line of /proc/self/cgroup, as runc", function()
    local rel = "/" .. H.cgroup_of[dir]
    local own = cgroup_lines(helper.read("/proc/" .. pid .. "/cgroup"))
    for controllers, got in pairs(own) do assert.equal(rel, got:sub(-#rel), controllers) end
    for _, args in ipairs { "", "--cgroup /" } do assert.same(own, exec_lines(args)) end
  end)

  it("joins a sub-cgroup of the container's, in every hierarchy or in the named ones", function()
    if not v1 then return pending("not a v1 host") end
    local own = cgroup_lines(helper.read("/proc/" .. pid .. "/cgroup"))
    assert(core.mkdir(dirs.memory .. "/submemory"))
    -- cpu and cpuacct may share a hierarchy (one directory)
    for _, name in ipairs { "cpu", "cpuacct" } do core.mkdir(dirs[name] .. "/subcpu") end
    local cpu = { cpu = true, cpuacct = true, ["cpu,cpuacct"] = true }
    local want = {}
    for controllers, path in pairs(own) do
      want[controllers] = controllers == "memory" and path .. "/submemory" or
        cpu[controllers] and path .. "/subcpu" or path
    end
    assert.same(want, exec_lines("--cgroup memory:submemory --cgroup cpu,cpuacct:subcpu"))
    -- made in every hierarchy: the path in each
    for _, d in pairs(dirs) do core.mkdir(d .. "/all") end
    for _, file in ipairs { "cpuset.cpus", "cpuset.mems" } do -- a new v1 cpuset has none
      if dirs.cpuset then helper.write(dirs.cpuset .. "/all/" .. file, helper.read(dirs.cpuset .. "/" .. file)) end
    end
    for controllers, path in pairs(own) do want[controllers] = path .. "/all" end
    assert.same(want, exec_lines("--cgroup all"))
  end)

  it("refuses a path out of the container's cgroup, one that is not there and an unknown controller", function()
    local r = H.oci("exec --cgroup .. cg1 true")
    assert.equal(255, r.code, r.err)
    assert.matches(" .. is not a sub cgroup path", r.err, 1, true)
    r = H.oci("exec --cgroup sub/../../x cg1 true")
    assert.matches(" sub/../../x is not a sub cgroup path", r.err, 1, true)
    for _, arg in ipairs { "nonexistent", "memory:nonexistent" } do
      r = H.oci("exec --cgroup " .. arg .. " cg1 true")
      assert.equal(255, r.code, r.err)
      assert.matches(" adding pid %d+ to cgroup %S+/nonexistent: open %S+/nonexistent/cgroup.procs: " ..
        "no such file or directory %(ENOENT%)", r.err)
    end
    r = H.oci("exec --cgroup whaaat:/ cg1 true")
    assert.equal(255, r.code, r.err)
    assert.matches("unknown controller whaaat", r.err, 1, true)
    r = H.oci("exec --cgroup a --cgroup memory:b cg1 true")
    assert.matches("invalid --cgroup argument: a (missing <controller>: prefix)", r.err, 1, true)
    r = H.oci("exec --cgroup a:b:c cg1 true")
    assert.matches("invalid --cgroup argument: a:b:c", r.err, 1, true)
    -- nothing of those ran: the container's first process is alone
    assert.same({ pid }, (json.decode(H.oci("ps --format json cg1").out)))
  end)
end)

describe("nsl oci create on a cgroup that is there already", function()
  it("warns when it has processes, as runc does", function()
    local pid1, dir1 = H.started("ne1", "exec sleep 60")
    local st
    finally(function()
      -- ne2 first, which ends ne1's process too (it is in the cgroup), and
      -- both reaped before ne1's delete removes the cgroup ne1 made
      if st then H.finish("ne2", st.pid) end
      H.reap(pid1)
      H.finish("ne1", pid1)
    end)
    local dir2 = H.bundle(H.config(function(s)
      s.process.args = { "true" }
      s.linux.cgroupsPath = H.cgroup_of[dir1]
    end))
    local r = helper.sh(H.cmd("create --bundle " .. q(dir2) .. " ne2") .. " > /dev/null")
    st = H.state("ne2")
    assert.equal(0, r.code, r.err)
    assert.matches("container's cgroup is not empty: 1 process(es) found", r.err, 1, true)
  end)

  it("refuses a frozen one, in runc's words", function()
    if not (v1 and h.v1.freezer) then return pending("no v1 freezer hierarchy") end
    local path = H.CGROUP .. "/frozen-ahead"
    local freezer = assert(cgroup.open(path)).dirs.freezer
    assert(util.mkdir_all(freezer))
    finally(function()
      helper.write(freezer .. "/freezer.state", "THAWED")
      core.rmdir(freezer)
    end)
    helper.write(freezer .. "/freezer.state", "FROZEN")
    local dir = H.bundle(H.config(function(s)
      s.process.args = { "true" }
      s.linux.cgroupsPath = path
    end))
    for _, cmd in ipairs { "run", "create" } do
      local r = helper.sh("timeout -k 5 30 " .. H.cmd(cmd .. " --bundle " .. q(dir) .. " fz1"))
      assert.equal(1, r.code, r.err)
      assert.matches("container's cgroup unexpectedly frozen: " .. freezer, r.err, 1, true)
      assert.is_nil(H.state("fz1"))
    end
  end)

  it("refuses linux.resources.unified on a v1 host as an invalid configuration", function()
    if not v1 then return pending("not a v1 host") end
    local r = H.run("un1", "true", function(s)
      s.linux.resources = { unified = { ["memory.min"] = "131072" } }
    end)
    assert.equal(1, r.code)
    assert.matches("^invalid configuration: linux.resources.unified sets memory.min", r.err)
  end)
end)

describe("nsl oci delete --force", function()
  it("ends a container whose process another v1 freezer cgroup holds frozen", function()
    if not (v1 and h.v1.freezer) then return pending("no v1 freezer hierarchy") end
    local pid, dir = H.started("fz2", "exec sleep 60")
    -- a freezer cgroup of the spec's, beside the container's
    local freezer = assert(cgroup.open(H.CGROUP .. "/frozen-by-another")).dirs.freezer
    assert(util.mkdir_all(freezer))
    finally(function()
      helper.write(freezer .. "/freezer.state", "THAWED")
      H.finish("fz2", pid)
      core.rmdir(freezer)
    end)
    helper.write(freezer .. "/cgroup.procs", tostring(pid))
    helper.write(freezer .. "/freezer.state", "FROZEN")
    local deadline = core.monotime() + 5
    while helper.read(freezer .. "/freezer.state") ~= "FROZEN\n" and core.monotime() < deadline do
      core.poll({}, 10)
    end
    assert.equal("FROZEN\n", helper.read(freezer .. "/freezer.state"))
    local r = helper.sh("timeout -k 5 30 " .. H.cmd("delete --force fz2"))
    assert.same({ 0, "" }, { r.code, r.err })
    assert.is_true(H.reap(pid))
    assert.is_false(cgroup.open(H.cgroup_of[dir]):exists())
    assert.equal("", helper.read(freezer .. "/cgroup.procs"))
  end)
end)
