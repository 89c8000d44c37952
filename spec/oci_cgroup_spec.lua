-- nsl oci: binds in a user namespace and the container's cgroups (cpuset,
-- the cgroup mount and namespace, the unified hierarchy of a hybrid host),
-- in the style of the peers' suites: a config, a run, a check from inside.
local helper = require "helper"
local json = require "dkjson"
local H = require "oci_harness"
local core = require "nsl.core"

local q = helper.quote
local core_stat = core.stat

setup(function() H.setup() end)
teardown(function() H.teardown() end)

-- A directory below a 0700 directory of owner's, holding file f ("hello")
-- and an empty file "single"; returns the inner directory.
local function hidden_source(dir, owner)
  assert(os.execute(string.format(
    "mkdir -p %s/secret/data && echo hello > %s/secret/data/f && : > %s/secret/data/single && " ..
    "chown -R %s %s/secret && chmod 0700 %s/secret",
    q(dir), q(dir), q(dir), owner, q(dir), q(dir))))
  return dir .. "/secret/data"
end

-- The script that reads the binds of hidden_source's data at /mnt (ro)
-- and /opt/single (a file).
local READ_BINDS = "cat /mnt/f; touch /mnt/new 2>/dev/null; echo touch $?; " ..
  "test -f /opt/single && echo single"

local function bind_mounts(source)
  return {
    { destination = "/mnt", type = "bind", source = source, options = { "rbind", "ro" } },
    { destination = "/opt/single", type = "bind", source = source .. "/single", options = { "bind" } },
  }
end

describe("nsl oci binds in a user namespace", function()
  it("binds a source the container's root cannot reach, as root", function()
    local dir = H.tmp .. "/userns-bind"
    assert(os.execute(string.format("mkdir -p %s && cp -a %s %s/rootfs && chown -R 100000:100000 %s/rootfs",
      q(dir), q(H.ROOTFS), q(dir), q(dir))))
    -- another user's: only real root outside may enter it (the container's
    -- process, before it takes the mapped ids, is the owner of root's own)
    local source = hidden_source(dir, "1000:1000")
    local bundle = H.bundle(H.config(function(s)
      s.root.path = dir .. "/rootfs"
      s.process.args = { "sh", "-c", READ_BINDS }
      s.linux.namespaces[#s.linux.namespaces + 1] = { type = "user" }
      s.linux.uidMappings = { { containerID = 0, hostID = 100000, size = 65536 } }
      s.linux.gidMappings = { { containerID = 0, hostID = 100000, size = 65536 } }
      for _, m in ipairs(bind_mounts(source)) do s.mounts[#s.mounts + 1] = m end
    end))
    local r = H.oci("run --bundle " .. q(bundle) .. " ub1")
    assert.same({ 0, "hello\ntouch 1\nsingle\n" }, { r.code, r.out }, r.err)
    assert.is_nil(helper.read(source .. "/new"))
  end)

  -- real root's copy of a tree is not locked by a user namespace copy: the
  -- container's root could lift its read-only flag (or unmount what is
  -- below it), so it is refused where the container's own copy fails
  it("refuses a bind the container could remount read-write, as root", function()
    local dir = H.tmp .. "/userns-ro-bind"
    assert(os.execute(string.format("mkdir -p %s && cp -a %s %s/rootfs && chown -R 100000:100000 %s/rootfs",
      q(dir), q(H.ROOTFS), q(dir), q(dir))))
    local source = hidden_source(dir, "1000:1000")
    assert(os.execute("chmod 0777 " .. q(source))) -- the container's root may write in it once rw
    local bundle = H.bundle(H.config(function(s)
      s.root.path = dir .. "/rootfs"
      s.process.args = { "sh", "-c", "mount -o remount,bind,rw /mnt; echo remount $?; touch /mnt/new" }
      for _, set in pairs(s.process.capabilities) do set[#set + 1] = "CAP_SYS_ADMIN" end
      s.linux.namespaces[#s.linux.namespaces + 1] = { type = "user" }
      s.linux.uidMappings = { { containerID = 0, hostID = 100000, size = 65536 } }
      s.linux.gidMappings = { { containerID = 0, hostID = 100000, size = 65536 } }
      s.mounts[#s.mounts + 1] = { destination = "/mnt", type = "bind", source = source, options = { "bind" } }
    end))
    -- the source is a read-only bind mount of the spec's own mount namespace
    local r = helper.sh(string.format("unshare -m --propagation private -- sh -c %s",
      q(string.format("mount --bind %s %s && mount -o remount,bind,ro %s && exec %s",
        q(source), q(source), q(source), H.cmd("run --bundle " .. q(bundle) .. " ub-ro")))))
    assert.is_nil(helper.read(source .. "/new"), r.out .. r.err)
    assert.equal(1, r.code, r.out .. r.err) -- refused at create, as runc does
    assert.matches(source, r.err, 1, true)
    assert.matches("its mount is ro", r.err, 1, true)
  end)

  it("binds a source below a 0700 directory as uid 65534, rootless", function()
    local dir = H.tmp .. "/nobody-bind"
    assert(os.execute(string.format("mkdir -p %s && cp -a %s %s/rootfs && chown -R 65534:65534 %s",
      q(dir), q(H.ROOTFS), q(dir), q(dir))))
    local source = hidden_source(dir, "65534:65534")
    local r = helper.unprivileged("cd " .. q(dir) .. ' && "$NSL" oci spec --rootless')
    assert.equal(0, r.code, r.err)
    local spec = json.decode(helper.read(dir .. "/config.json"))
    spec.process.terminal = false
    spec.process.args = { "sh", "-c", READ_BINDS }
    spec.root.readonly = false
    for _, m in ipairs(bind_mounts(source)) do spec.mounts[#spec.mounts + 1] = m end
    helper.write(dir .. "/config.json", json.encode(spec))
    assert(os.execute("chmod 0644 " .. q(dir .. "/config.json")))
    r = helper.unprivileged("cd " .. q(dir) .. ' && "$NSL" oci --root "$PWD/state" run ub2')
    assert.same({ 0, "hello\ntouch 1\nsingle\n" }, { r.code, r.out }, r.err)
    -- with subordinate ids, the container's root is not the caller and
    -- may not enter the caller's 0700 directory
    assert(os.execute("chown -R 100000:100000 " .. q(dir .. "/rootfs")))
    spec.linux.uidMappings = { { containerID = 0, hostID = 100000, size = 65536 } }
    spec.linux.gidMappings = { { containerID = 0, hostID = 100000, size = 65536 } }
    helper.write(dir .. "/config.json", json.encode(spec))
    r = helper.unprivileged("cd " .. q(dir) .. ' && "$NSL" oci --root "$PWD/state" run ub3', nil, nil,
      helper.with_subids(dir, "65534:100000:65536\n", "65534:100000:65536\n"))
    assert.same({ 0, "hello\ntouch 1\nsingle\n" }, { r.code, r.out }, r.err)
  end)

  -- real root's copy of a tree with a mount below it (the spec's own, in
  -- the run's mount namespace) is taken for a plain bind, not for an rbind
  -- (the container's root could unmount what is below); each bind takes a
  -- copy of its own
  it("keeps a source's plain binds apart from its rbind, as root", function()
    local dir = H.tmp .. "/userns-sub-bind"
    assert(os.execute(string.format("mkdir -p %s && cp -a %s %s/rootfs && chown -R 100000:100000 %s/rootfs",
      q(dir), q(H.ROOTFS), q(dir), q(dir))))
    local source = hidden_source(dir, "1000:1000")
    assert(os.execute("mkdir " .. q(source .. "/sub")))
    local function run(id, binds)
      local bundle = H.bundle(H.config(function(s)
        s.root.path = dir .. "/rootfs"
        s.process.args = { "sh", "-c", "for d in /p /q /r; do test -e $d/f; echo $d $? $(ls $d/sub); done" }
        s.linux.namespaces[#s.linux.namespaces + 1] = { type = "user" }
        s.linux.uidMappings = { { containerID = 0, hostID = 100000, size = 65536 } }
        s.linux.gidMappings = { { containerID = 0, hostID = 100000, size = 65536 } }
        for target, how in pairs(binds) do
          s.mounts[#s.mounts + 1] = { destination = target, type = "bind", source = source, options = { how } }
        end
      end))
      return helper.sh(string.format("unshare -m --propagation private -- sh -c %s",
        q(string.format("mount -t tmpfs nsl-spec-sub %s && touch %s/marker && exec %s", q(source .. "/sub"),
          q(source .. "/sub"), H.cmd("run --bundle " .. q(bundle) .. " " .. id)))))
    end
    local r = run("ub4", { ["/p"] = "bind", ["/q"] = "bind" })
    assert.same({ 0, "/p 0\n/q 0\n/r 1\n" }, { r.code, r.out }, r.err)
    r = run("ub5", { ["/p"] = "bind", ["/r"] = "rbind" })
    assert.equal(1, r.code, r.out .. r.err)
    assert.matches("bind of " .. source .. ": ", r.err, 1, true)
    assert.matches("a mount is below it at " .. source .. "/sub", r.err, 1, true)
  end)
end)

-- The cgroup mount of runc's default config; options as given.
local function cgroup_mount(options)
  return { destination = "/sys/fs/cgroup", type = "cgroup", source = "cgroup",
    options = options or { "nosuid", "noexec", "nodev", "relatime", "ro" } }
end

-- s with m as its "cgroup" mount (in place of the default config's).
local function set_cgroup_mount(s, m)
  for i, old in ipairs(s.mounts) do
    if old.type == "cgroup" then s.mounts[i] = m return end
  end
  s.mounts[#s.mounts + 1] = m
end

local function with_cgroupns(s)
  s.linux.namespaces[#s.linux.namespaces + 1] = { type = "cgroup" }
end

-- The output of a container that runs script once it ended.
local function run(id, script, fn)
  local dir = H.bundle(H.config(function(s)
    s.process.args = { "sh", "-c", script }
    if fn then fn(s) end
  end))
  local r = H.oci("run --bundle " .. q(dir) .. " " .. id)
  return r, dir
end

describe("nsl oci cgroups on a v1 host", function()
  local cgroup = require "nsl.cgroup"
  local h = cgroup.hierarchies()
  local v1 = h and h.version == 1

  it("sets linux.resources.cpu.cpus and mems in a cpuset cgroup of the container's own", function()
    local pid, dir = H.started("cs1", "grep -E '^(Cpus|Mems)_allowed_list' /proc/self/status; " ..
      "exec sleep 30", function(s)
      s.linux.resources = { cpu = { cpus = "0", mems = "0" } }
    end)
    finally(function() H.finish("cs1", pid) end)
    local cg = assert(cgroup.open(H.cgroup_of[dir]))
    assert.same({ "0", "0" }, { cg:read("cpuset.cpus"), cg:read("cpuset.mems") })
    local own = helper.read("/proc/" .. pid .. "/status")
    assert.equal("0", own:match("Cpus_allowed_list:%s*(%S+)"))
    -- its parent (made for it) got the host's cpus, not the container's
    local parent = cg.dirs.cpuset:match("^(.+)/[^/]+$")
    assert.equal(helper.read(h.v1.cpuset.mount .. "/cpuset.cpus"), helper.read(parent .. "/cpuset.cpus"))
  end)

  it("puts the container in the unified hierarchy of a hybrid host too", function()
    if not (v1 and h.unified) then return pending("no unified hierarchy beside v1") end
    local pid, dir = H.started("cs2", "exec sleep 30")
    finally(function() H.finish("cs2", pid) end)
    local cg = assert(cgroup.open(H.cgroup_of[dir]))
    local unified = cg.dirs.unified
    assert.truthy(helper.read(unified .. "/cgroup.procs"):find("^" .. pid .. "\n"))
    local line = helper.read("/proc/" .. pid .. "/cgroup"):match("\n0::([^\n]*)")
    assert.equal(unified:sub(#h.unified.mount + 1), line)
    H.finish("cs2", pid)
    assert.is_nil(core_stat(unified))
  end)

  it("shows / as the container's cgroup in a cgroup namespace, in every hierarchy", function()
    local r = run("cs3", "cat /proc/self/cgroup", with_cgroupns)
    assert.equal(0, r.code, r.err)
    for line in r.out:gmatch("[^\n]+") do assert.matches("^%d+:[^:]*:/$", line) end
    assert.matches("\n0::/\n", "\n" .. r.out)
  end)

  it("mounts the container's cgroups read-only at /sys/fs/cgroup", function()
    local r = run("cs4", "ls /sys/fs/cgroup | tr '\\n' ' '; echo; cat /sys/fs/cgroup/cpuset/cpuset.cpus; " ..
      "touch /sys/fs/cgroup/x; touch /sys/fs/cgroup/memory/x; mkdir /sys/fs/cgroup/memory/sub; " ..
      "grep ' /sys/fs/cgroup' /proc/self/mountinfo | cut -d' ' -f5,6 | cut -d, -f1",
      function(s)
        with_cgroupns(s)
        s.linux.resources = { cpu = { cpus = "0" } }
        set_cgroup_mount(s, cgroup_mount())
      end)
    assert.equal(0, r.code, r.err)
    local lines = {}
    for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    -- every hierarchy, as runc mounts them (a named one at its name:
    -- name=systemd at systemd)
    local set, names = {}, {}
    for name in pairs(assert(cgroup.open("x")).dirs) do set[name] = true end
    for name in pairs(v1 and h.v1 or {}) do set[(name:gsub("^name=", ""))] = true end
    for name in pairs(set) do names[#names + 1] = name end
    table.sort(names)
    assert.equal(table.concat(names, " ") .. " ", lines[1])
    assert.equal("0", lines[2])
    assert.equal(3, select(2, r.err:gsub("Read%-only file system", "")), r.err)
    for i = 3, #lines do assert.matches("^/sys/fs/cgroup%S* ro$", lines[i]) end
    assert.equal(#names + 3, #lines, r.out)
  end)

  it("lets the container make cgroups of its own below its memory cgroup when the mount is rw", function()
    if not v1 then return pending("not a v1 host") end
    local r, dir = run("cs5", "mkdir /sys/fs/cgroup/memory/sub && " ..
      "echo 16777216 > /sys/fs/cgroup/memory/sub/memory.limit_in_bytes && " ..
      "echo $$ > /sys/fs/cgroup/memory/sub/cgroup.procs && grep :memory: /proc/self/cgroup && " ..
      "cat /sys/fs/cgroup/memory/sub/memory.limit_in_bytes",
      function(s)
        with_cgroupns(s)
        s.linux.resources = { memory = { limit = 64 * 1024 * 1024 } }
        set_cgroup_mount(s, cgroup_mount({ "nosuid", "noexec", "nodev", "relatime", "rw" }))
      end)
    assert.same({ 0, "4:memory:/sub\n16777216\n" }, { r.code, (r.out:gsub("^%d+:", "4:")) }, r.err)
    -- the container's cgroup and the one it made are gone with it
    local cg = assert(cgroup.open(H.cgroup_of[dir]))
    assert.is_nil(core_stat(cg.dirs.memory))
  end)

  it("refuses linux.resources.unified on a v1 host, naming the keys", function()
    if not v1 then return pending("not a v1 host") end
    local r, dir = run("cs6", "true", function(s)
      s.linux.resources = { unified = { ["memory.high"] = "1000000", ["pids.max"] = "5" } }
    end)
    assert.same({ 1, "" }, { r.code, r.out })
    assert.matches("linux.resources.unified sets memory.high, pids.max: cgroup v2 files, but " ..
      "this host's cgroups are v1", r.err, 1, true)
    assert.equal(1, H.oci("state cs6").code)
    assert.is_nil(core_stat(assert(cgroup.open(H.cgroup_of[dir])).dirs.memory))
  end)
end)

describe("nsl oci linux.resources.devices without a cgroup", function()
  local APPLY = "require('nsl.oci.devices').apply_cgroup(nil, { { allow = false, access = 'rwm' } }, " ..
    "function(m) print('warning: ' .. m) end)"

  it("is an error for root in a user namespace of its own (fail closed)", function()
    local r = helper.sh("unshare --user --map-root-user " .. q(helper.nsl) .. " -e " .. q(APPLY))
    assert.equal(1, r.code, r.out)
    assert.matches("linux.resources.devices: the container has no cgroup to apply them in", r.err, 1, true)
  end)

  it("is a warning for an ordinary user (rootless: no cgroup of its own)", function()
    local r = helper.unprivileged_lua(APPLY)
    assert.same({ 0, "warning: linux.resources.devices not applied: the container has no cgroup\n" },
      { r.code, r.out }, r.err)
  end)
end)
