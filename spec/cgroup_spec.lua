-- nsl.cgroup: limits written where the kernel reads them, and effective in
-- a container; the notice and no limits for an ordinary user.
local helper = require "helper"
local core = require "nsl.core"
local cgroup = require "nsl.cgroup"

local q = helper.quote

-- A cgroup path of its own for each test, below this process's cgroup.
local count = 0
local function unique(name)
  count = count + 1
  return string.format("nsl-spec/%s-%d-%d", name, core.getpid(), count)
end

-- A child that sleeps until killed; returns its pid.
local function sleeper()
  local pid = assert(core.clone({}))
  if pid == 0 then
    core.exec("/bin/sleep", { "sleep", "60" })
    core._exit(127)
  end
  return pid
end

-- One busybox root for the containers of every spec here.
local tmp, ROOT
setup(function()
  tmp = helper.tmpdir()
  ROOT = helper.busybox_root(tmp .. "/busybox")
end)
teardown(function() helper.rmtree(tmp) end)

-- nsl run busybox.lua on ROOT with opts, running the shell command cmd.
local function busybox(opts, cmd)
  return helper.sh(string.format("%s run busybox.lua --rootfs %s --no-tty %s /bin/sh -c %s",
    q(helper.nsl), q(ROOT), opts, q(cmd)))
end

local function is_dir(path)
  local st = core.stat(path)
  return st ~= nil and st.type == "dir"
end

describe("nsl.cgroup.limits", function()
  it("turns sizes, counts and cpus into numbers", function()
    assert.same({ memory = 64 * 1024 * 1024, memory_swap = 1024 ^ 3, pids = 20,
      cpu_quota = 50000, cpu_period = 100000 },
      cgroup.limits { memory = "64m", memory_swap = "1g", pids = "20", cpus = 0.5 })
    assert.same({ memory = -1, pids = -1 }, cgroup.limits { memory = "max", pids = "max" })
    assert.equal(1536, cgroup.parse_size("1.5k"))
  end)

  it("raises for a bad size, a bad count and an unknown limit", function()
    assert.has_error(function() cgroup.limits { memory = "lots" } end,
      "bad size 'lots': want bytes or a number with k, m or g, like 64m")
    assert.has_error(function() cgroup.limits { pids = "-3" } end,
      "bad pids limit '-3': want a number or max")
    assert.has_error(function() cgroup.limits { cpus = 0 } end,
      "bad cpus '0': want a number above 0, like 0.5")
    assert.has_error(function() cgroup.limits { memroy = 1 } end, "unknown cgroup limit 'memroy'")
  end)
end)

describe("nsl.cgroup.files", function()
  local l = cgroup.limits { memory = "64m", memory_swap = "96m", pids = 20, cpus = 0.5,
    cpu_shares = 1024 }

  it("names v1's files", function()
    assert.same({
      { "memory", "memory.limit_in_bytes", 67108864 },
      { "memory", "memory.memsw.limit_in_bytes", 100663296 },
      { "pids", "pids.max", 20 },
      { "cpu", "cpu.cfs_period_us", 100000 },
      { "cpu", "cpu.cfs_quota_us", 50000 },
      { "cpu", "cpu.shares", 1024 },
    }, cgroup.files(1, l))
  end)

  it("names v2's files, with swap apart from memory and shares as a weight", function()
    assert.same({
      { "unified", "memory.max", 67108864 },
      { "unified", "memory.swap.max", 33554432 },
      { "unified", "pids.max", 20 },
      { "unified", "cpu.max", "50000 100000" },
      { "unified", "cpu.weight", 39 },
    }, cgroup.files(2, l))
  end)
end)

describe("nsl.cgroup.notice", function()
  it("returns the notice once a process and prints nothing: the executable prints it", function()
    local r = helper.sh(q(helper.nsl) .. " -e " .. q([[
local cgroup = require "nsl.cgroup"
print(cgroup.notice("mkdir 'x': Permission denied"), cgroup.notice("again"))]]), nil, 10)
    assert.same({ 0, "" }, { r.code, r.err })
    assert.equal("cgroups: mkdir 'x': Permission denied; running without resource limits " ..
      "(an ordinary user needs a cgroup delegated to it)\tnil\n", r.out)
  end)
end)

describe("nsl.cgroup without a cgroup filesystem", function()
  it("open returns nil and the reason", function()
    -- in a mount namespace of its own, cut off from the host's mounts
    -- (slave) before the cgroup filesystems go, deepest first
    helper.child(function()
      assert(core.mount(nil, "/", nil, "rec slave"))
      local mounts = assert(require("nsl.inspect").mountinfo())
      for i = #mounts, 1, -1 do
        if mounts[i].fstype:match("^cgroup2?$") then assert(core.umount(mounts[i].target, "detach")) end
      end
      helper.child_same({ nil, "no cgroup filesystem is mounted (see /proc/self/mountinfo)" },
        { cgroup.open("nsl-spec/none") })
    end, { "mnt" })
  end)
end)

describe("nsl.cgroup as root", function()
  local h = assert(cgroup.hierarchies())

  -- (the parents of the tests' cgroups go at the end of the run: helper)

  it("finds the hierarchies and this process's own cgroup", function()
    assert.is_true(h.version == 1 or h.version == 2)
    local own = helper.read("/proc/self/cgroup")
    if h.version == 1 then
      assert.truthy(h.v1.memory and h.v1.pids, "memory and pids hierarchies")
      assert.truthy(own:find(":memory:" .. h.v1.memory.own .. "\n", 1, true), own)
    else
      assert.truthy(own:find("0::" .. h.unified.own .. "\n", 1, true), own)
    end
  end)

  it("writes the limits where the kernel reads them and removes the cgroup", function()
    local cg = assert(cgroup.create(unique("limits"), { memory = "64m", pids = 20, cpus = 0.5 }))
    finally(function() cg:remove() end)
    if h.version == 1 then
      assert.same({ "67108864", "20", "50000", "100000" }, { cg:read("memory.limit_in_bytes"),
        cg:read("pids.max"), cg:read("cpu.cfs_quota_us"), cg:read("cpu.cfs_period_us") })
    else
      assert.same({ "67108864", "20", "50000 100000" },
        { cg:read("memory.max"), cg:read("pids.max"), cg:read("cpu.max") })
    end
    for _, dir in pairs(cg.dirs) do assert.is_true(is_dir(dir), dir) end
    assert.is_true(cg:remove())
    for _, dir in pairs(cg.dirs) do assert.is_false(is_dir(dir), dir) end
  end)

  it("puts a process in, lists it, freezes and thaws it", function()
    local cg = assert(cgroup.create(unique("procs"), {}))
    local pid = sleeper()
    finally(function()
      core.kill(pid, "KILL")
      core.wait(pid)
      cg:remove()
    end)
    assert.is_true(cg:add(pid))
    assert.same({ pid }, cg:procs())
    assert.is_true(cg:freeze())
    assert.is_true(cg:frozen())
    assert.is_true(cg:thaw())
    assert.is_false(cg:frozen())
    core.kill(pid, "KILL")
    core.wait(pid)
    assert.same({}, cg:procs())
    assert.is_true(cg:remove())
    assert.is_false(cg:exists())
  end)

  it("refuses to remove a cgroup that has a process (EBUSY)", function()
    local cg = assert(cgroup.create(unique("busy"), {}))
    local pid = sleeper()
    finally(function()
      core.kill(pid, "KILL")
      core.wait(pid)
      cg:remove()
    end)
    assert(cg:add(pid))
    local ok, err, errno = cg:remove()
    assert.is_nil(ok)
    assert.equal(core.errno.EBUSY, errno)
    assert.matches("^rmdir '.*': Device or resource busy$", err)
  end)

  it("returns nil, message and errno for a value the kernel refuses", function()
    local cg = assert(cgroup.create(unique("refused"), {}))
    finally(function() cg:remove() end)
    local file = h.version == 2 and "cpu.max" or "cpu.cfs_period_us"
    local ok, err, errno = cg:set { cpu_period = 1, cpu_quota = 1000 }
    -- the CFS period must be 1ms or more: see sched-bwc in the kernel docs
    assert.same({ nil, core.errno.EINVAL }, { ok, errno })
    assert.matches("^write '[%d ]+' to " .. cg.dirs[h.version == 2 and "unified" or "cpu"]:gsub("%p", "%%%0")
      .. "/" .. file:gsub("%p", "%%%0") .. ": Invalid argument$", err)
  end)
end)

describe("nsl run busybox.lua with limits", function()
  it("stops a fork bomb at the pids limit, and removes the cgroup afterwards", function()
    local path = unique("forks")
    -- a subshell forks 30 sleeps; busybox sh ends (2) at the first refused
    -- fork. 20 tasks are the init, the shell, the subshell and 17 sleeps.
    local r = busybox("--pids-limit 20 --cgroup " .. path, [[
      cat /proc/self/cgroup
      : > /tmp/started
      ( i=0; while [ $i -lt 30 ]; do sleep 30 & echo >> /tmp/started; i=$((i+1)); done )
      echo "subshell $?"
      n=0; while read l; do n=$((n+1)); done < /tmp/started; echo "started $n"
    ]])
    assert.equal(0, r.code, r.err)
    local in_cgroup = ":pids:[^\n]*/" .. path:gsub("%p", "%%%0") .. "\n"
    if cgroup.hierarchies().version == 2 then in_cgroup = "0::[^\n]*/" .. path:gsub("%p", "%%%0") end
    assert.matches(in_cgroup, r.out)
    assert.matches("subshell 2\nstarted 17\n$", r.out)
    assert.matches("can't fork: Resource temporarily unavailable", r.err)
    assert.is_false(assert(cgroup.open(path)):exists())
  end)

  it("kills a shell that outgrows the memory limit", function()
    local grow = "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo grew ${#x}"
    local free = busybox("", grow)
    assert.same({ 0, "grew 100000000\n" }, { free.code, free.out }, free.err)
    local limited = busybox("--memory 32m --cgroup " .. unique("memory"), grow)
    assert.equal(137, limited.code, limited.out .. limited.err) -- SIGKILL from the OOM killer
    assert.equal("", limited.out)
  end)

  it("says once that an ordinary user gets no limits, and runs the container", function()
    local r = helper.unprivileged("\"$NSL\" run busybox.lua --no-tty --memory 64m " ..
      "--pids-limit 20 --cpus 0.5 /bin/echo hi")
    assert.same({ 0, "hi\n" }, { r.code, r.out }, r.err)
    local _, notices = r.err:gsub("nsl: cgroups: ", "")
    assert.equal(1, notices, r.err)
    assert.matches("nsl: cgroups: mkdir '[^']+': Permission denied; running without resource " ..
      "limits %(an ordinary user needs a cgroup delegated to it%)\n", r.err)
  end)

  it("rejects a bad limit before anything starts", function()
    local r = busybox("--memory lots", "echo ran")
    assert.same({ 2, "" }, { r.code, r.out })
    assert.matches("busybox.lua: bad size 'lots'", r.err)
  end)
end)

describe("nsl run busybox.lua: cgroups checked before anything runs", function()
  it("refuses a --cgroup with a '.' or '..' component, or outside nsl's own", function()
    for _, path in ipairs { "nsl-spec/../../escape", "../escape", "nsl-spec/./x", "/escape" } do
      local r = busybox("--cgroup " .. q(path), "echo ran")
      assert.same({ 125, "" }, { r.code, r.out }, r.err)
      if path:sub(1, 1) == "/" then
        assert.matches("^nsl: cgroup path '/escape' is outside this process's cgroup %(", r.err)
      else
        assert.equal("nsl: bad cgroup path '" .. path .. "': no '.' or '..' components\n", r.err)
      end
    end
    local r = helper.unprivileged("\"$NSL\" run busybox.lua --no-tty --cgroup nsl/../../x " ..
      "/bin/echo ran")
    assert.same({ 125, "", "nsl: bad cgroup path 'nsl/../../x': no '.' or '..' components\n" },
      { r.code, r.out, r.err })
    local escaped = assert(cgroup.open("/escape"))
    assert.is_false(escaped:exists())
    assert.has_error(function() cgroup.open("nsl-spec/../x") end,
      "bad cgroup path 'nsl-spec/../x': no '.' or '..' components")
  end)

  it("fails as root when the limits cannot be applied, instead of running without", function()
    -- every cgroup mount read-only, in a mount namespace of its own
    local r = helper.sh("exec unshare --mount --propagation private sh -c " .. q(
      "findmnt -rn -t cgroup,cgroup2 -o TARGET | while read -r m; do " ..
      "mount -o remount,bind,ro \"$m\" || exit 9; done; exec " .. q(helper.nsl) ..
      " run busybox.lua --rootfs " .. q(ROOT) .. " --no-tty --memory 64m /bin/echo ran"))
    assert.same({ 125, "" }, { r.code, r.out }, r.err)
    assert.matches("^nsl: cgroup: mkdir '[^']+': Read%-only file system %(EROFS%)\n$", r.err)
  end)
end)

describe("nsl: stale cgroups", function()
  local run, parent

  setup(function()
    run = tmp .. "/run"
    assert(os.execute("mkdir -m 700 " .. q(run)))
    local nsl_cg = assert(cgroup.open("nsl"))
    parent = nsl_cg.dirs.memory or nsl_cg.dirs.unified
  end)

  local function nsl(args)
    return helper.sh(string.format("XDG_RUNTIME_DIR=%s %s %s", q(run), q(helper.nsl), args))
  end

  -- Remove what a test left (its processes are gone or killed first).
  local function cleanup(paths)
    for _, path in ipairs(paths) do
      local cg = assert(cgroup.open(path))
      if cg:exists() then
        cg:kill("KILL")
        cg:remove()
      end
    end
  end

  -- Wait until the cgroup has no process left (at most 2 s).
  local function emptied(cg)
    for _ = 1, 200 do
      if #cg:procs() == 0 then return true end
      core.poll({}, 10)
    end
    return false
  end

  it("reclaims the empty cgroups of starts killed mid-way, at the next start and in nsl ps",
    function()
    local paths = {}
    finally(function() cleanup(paths) end)
    local function killed_start()
      -- nsl in the background; once its container is in the cgroup, SIGKILL
      local r = helper.sh(string.format([[
XDG_RUNTIME_DIR=%s %s run busybox.lua --rootfs %s --no-tty --memory 64m /bin/sleep 60 >/dev/null 2>&1 &
pid=$!; echo $pid
i=0; until grep -qs . %s/busybox-$pid/cgroup.procs; do i=$((i+1)); [ $i -lt 200 ] || { kill -KILL $pid; exit 9; }; sleep 0.05; done
kill -KILL $pid; wait $pid]], q(run), q(helper.nsl), q(ROOT), q(parent)))
      local path = "nsl/busybox-" .. assert(r.out:match("^(%d+)\n"))
      paths[#paths + 1] = path
      assert.equal(137, r.code, r.out .. r.err)
      local cg = assert(cgroup.open(path))
      assert.is_true(cg:exists(), path)
      assert.is_true(emptied(cg), path)
      return cg
    end
    local first, second = killed_start(), killed_start()
    local r = nsl("run busybox.lua --rootfs " .. q(ROOT) .. " --no-tty --memory 64m /bin/true")
    assert.same({ 0, "" }, { r.code, r.out }, r.err)
    assert.is_false(first:exists())
    assert.is_false(second:exists())
    local third = killed_start()
    r = nsl("ps")
    assert.equal(0, r.code, r.err)
    assert.is_false(third:exists())
  end)

  it("keeps a stale cgroup that has a process, and one nsl did not make", function()
    local paths = { unique("foreign") }
    local sleeper_pid
    finally(function()
      if sleeper_pid then core.kill(sleeper_pid, "KILL"); core.wait(sleeper_pid) end
      cleanup(paths)
    end)
    local foreign = assert(cgroup.create(paths[1], {}))
    -- a cgroup that an nsl made for its container, then exited without removing
    local r = nsl("-e " .. q("print(require('nsl.cgroup').for_container({ hostname = 'stale', " ..
      "resources = { pids = 10 } }, true).path)"))
    assert.equal(0, r.code, r.err)
    paths[2] = r.out:match("^(%S+)\n")
    local stale = assert(cgroup.open(paths[2]))
    sleeper_pid = sleeper()
    assert(stale:add(sleeper_pid))
    r = nsl("ps")
    assert.equal(0, r.code, r.err)
    assert.is_true(stale:exists())
    assert.is_true(foreign:exists())
    core.kill(sleeper_pid, "KILL")
    core.wait(sleeper_pid)
    sleeper_pid = nil
    assert.is_true(emptied(stale))
    r = nsl("ps")
    assert.equal(0, r.code, r.err)
    assert.is_false(stale:exists())
    assert.is_true(foreign:exists())
  end)
end)
