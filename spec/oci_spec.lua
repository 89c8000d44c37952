-- nsl oci (scripts/oci.lua over nsl.oci): runc's command line against
-- hand-written bundles, as root and as uid 65534.
local helper = require "helper"
local core = require "nsl.core"
local json = require "dkjson"
local cgroup = require "nsl.cgroup"

local q = helper.quote

local H = require "oci_harness"
local config, bundle, cmd, oci, state = H.config, H.bundle, H.cmd, H.oci, H.state
local reap, started, finish, cgroup_of = H.reap, H.started, H.finish, H.cgroup_of

local tmp, ROOTFS, STATE

setup(function()
  H.setup()
  tmp, ROOTFS, STATE = H.tmp, H.ROOTFS, H.STATE
end)

teardown(H.teardown)

describe("nsl oci, the command line", function()
  it("prints its version and the spec version", function()
    local r = oci("--version")
    assert.equal(0, r.code)
    assert.matches("^nsl%-oci version %d+%.%d+%.%d+\nspec: 1%.%d+%.%d+\n", r.out)
  end)

  it("answers to the name nsl-oci, also when a client resolves the link", function()
    local r = helper.sh(q(helper.build .. "/nsl-oci") .. " --version")
    assert.equal(0, r.code, r.err)
    assert.matches("^nsl%-oci version", r.out)
    r = helper.sh('"$(readlink -f ' .. q(helper.build .. "/nsl-oci") .. ')" --version')
    assert.equal(0, r.code, r.err)
    assert.matches("^nsl%-oci version", r.out)
  end)

  it("takes -v and -h as runc spells them", function()
    local r = oci("-v")
    assert.equal(0, r.code, r.err)
    assert.matches("^nsl%-oci version %d+%.%d+%.%d+\nspec: 1%.", r.out)
    r = oci("-h")
    assert.equal(0, r.code, r.err)
    assert.matches("^usage: nsl oci ", r.out)
  end)

  it("lists its features as JSON", function()
    local r = oci("features")
    assert.equal(0, r.code, r.err)
    local f = json.decode(r.out)
    assert.equal("1.0.0", f.ociVersionMin)
    assert.same({ "prestart", "createRuntime", "createContainer", "startContainer", "poststart",
      "poststop" }, f.hooks)
    assert.is_true(f.linux.cgroup.v1 and f.linux.cgroup.v2)
    assert.truthy(f.linux.seccomp.enabled)
  end)

  it("writes a default config.json with spec and refuses to overwrite it", function()
    local dir = tmp .. "/specdir"
    assert(os.execute("mkdir -p " .. q(dir)))
    local r = oci("spec --bundle " .. q(dir))
    assert.equal(0, r.code, r.err)
    local spec = json.decode(helper.read(dir .. "/config.json"))
    assert.matches("^1%.", spec.ociVersion)
    assert.same({ "sh" }, spec.process.args)
    r = oci("spec --bundle " .. q(dir))
    assert.equal(1, r.code)
    assert.matches("config.json exists", r.err)
    r = oci("spec --rootless --bundle " .. q(tmp .. "/specdir2"))
    assert.equal(1, r.code) -- no such directory
  end)

  it("says which container does not exist, with status 1", function()
    for _, c in ipairs { "state nope", "start nope", "kill nope", "delete nope", "pause nope",
      "ps nope" } do
      local r = oci(c)
      assert.same({ 1, "container nope does not exist\n" }, { r.code, r.err }, c)
    end
    -- runc's exec says 255 for an exec that did not start
    local r = oci("exec nope true")
    assert.same({ 255, "exec failed: container nope does not exist\n" }, { r.code, r.err })
    assert.equal(0, oci("delete --force nope").code)
  end)

  it("refuses an unknown command and an unknown option", function()
    local r = oci("frobnicate x")
    assert.equal(1, r.code)
    assert.matches("^unknown command 'frobnicate'", r.err)
    r = oci("kill --bogus x")
    assert.equal(1, r.code)
    assert.matches("^kill: unknown option '%-%-bogus'", r.err)
  end)

  it("refuses a config of another major ociVersion", function()
    local dir = bundle(config(function(s) s.ociVersion = "2.0.0" end))
    local r = oci("create --bundle " .. q(dir) .. " v2")
    assert.equal(1, r.code)
    assert.matches("ociVersion \"2.0.0\" is not 1.x", r.err)
    assert.is_nil(state("v2"))
  end)

  it("writes errors to --log as JSON lines with --log-format json", function()
    local log = tmp .. "/log.json"
    local r = oci("--log " .. q(log) .. " --log-format json state ghost")
    assert.equal(1, r.code)
    local entry = json.decode((helper.read(log) or ""):match("[^\n]+"))
    assert.same({ "error", "container ghost does not exist" }, { entry.level, entry.msg })
    assert.matches("^%d+%-%d+%-%d+T", entry.time)
  end)
end)

describe("nsl oci run", function()
  it("runs the config's process and exits with its status", function()
    local dir = bundle(config(function(s)
      s.process.args = { "sh", "-c", "echo hello from $(hostname); exit 3" }
    end))
    local r = oci("run --bundle " .. q(dir) .. " r1")
    assert.same({ 3, "hello from box\n" }, { r.code, r.out }, r.err)
    assert.is_nil(state("r1")) -- deleted afterwards
  end)

  it("says 127 for a command that is not there", function()
    local dir = bundle(config(function(s) s.process.args = { "/no/such" } end))
    local r = oci("run --bundle " .. q(dir) .. " r2")
    assert.equal(1, r.code)
    assert.matches("^command not found: /no/such in rootfs ", r.err)
    assert.is_nil(state("r2"))
  end)

  it("passes only stdio and --preserve-fds to the container", function()
    local dir = bundle(config(function(s) s.process.args = { "ls", "/proc/self/fd" } end))
    -- fd 3 and 7 are the client's (conmon's sync pipes, for one)
    local r = helper.sh("exec 3</dev/null 7</dev/null; " .. cmd("run --bundle " .. q(dir) .. " f1"))
    assert.same({ 0, "0\n1\n2\n3\n" }, { r.code, r.out }, r.err) -- 3: ls's own directory
    r = helper.sh("exec 3</dev/null 4</dev/null 7</dev/null; " ..
      cmd("run --preserve-fds 2 --bundle " .. q(dir) .. " f2"))
    assert.same({ 0, "0\n1\n2\n3\n4\n5\n" }, { r.code, r.out }, r.err)
  end)

  it("applies the config's seccomp profile, sysctls, rlimits and user", function()
    local dir = bundle(config(function(s)
      s.process.args = { "sh", "-c", "mkdir /tmp/x 2>&1; cat /proc/sys/net/ipv4/ip_forward; " ..
        "ulimit -n; id -u; id -G" }
      s.process.user = { uid = 65534, gid = 65534, additionalGids = { 5 } }
      s.process.rlimits = { { type = "RLIMIT_NOFILE", soft = 512, hard = 512 } }
      s.linux.sysctl = { ["net.ipv4.ip_forward"] = "1" }
      s.linux.seccomp = { defaultAction = "SCMP_ACT_ALLOW", architectures = { "SCMP_ARCH_X86_64" },
        syscalls = { { names = { "mkdir", "mkdirat" }, action = "SCMP_ACT_ERRNO", errnoRet = 13 } } }
    end))
    local r = oci("run --bundle " .. q(dir) .. " s1")
    assert.equal(0, r.code, r.err)
    assert.equal("mkdir: can't create directory '/tmp/x': Permission denied\n1\n512\n65534\n65534 5\n",
      r.out)
  end)

  it("takes the config from --config FILE instead of the bundle's, in run and create", function()
    local dir = bundle(config(function(s) s.process.args = { "echo", "bundle's" } end))
    local other = config(function(s) s.process.args = { "sh", "-c", "echo other; exit 5" } end)
    helper.write(dir .. "/other.json", json.encode(other))
    local r = oci("run --bundle " .. q(dir) .. " --config other.json cf1")
    assert.same({ 5, "other\n" }, { r.code, r.out }, r.err)
    r = helper.sh(cmd("create --config " .. q(dir .. "/other.json") .. " --bundle " .. q(dir) ..
      " cf2") .. " > /dev/null")
    assert.equal(0, r.code, r.err)
    local st = assert(state("cf2"))
    finally(function() finish("cf2", st.pid) end)
    assert.equal("created", st.status)
    assert.equal(dir, st.bundle)
    r = oci("run --config " .. q(dir .. "/nope.json") .. " --bundle " .. q(dir) .. " cf3")
    assert.equal(1, r.code)
    assert.matches("cannot read the bundle's config: .*nope%.json", r.err)
  end)

  it("joins a namespace given by path", function()
    local pid = started("ns1", "sleep 30")
    finally(function() finish("ns1", pid) end)
    local want = core.readlink(string.format("/proc/%d/ns/net", pid))
    local dir = bundle(config(function(s)
      s.process.args = { "readlink", "/proc/self/ns/net" }
      for _, ns in ipairs(s.linux.namespaces) do
        if ns.type == "network" then ns.path = string.format("/proc/%d/ns/net", pid) end
      end
    end))
    local r = oci("run --bundle " .. q(dir) .. " ns2")
    assert.same({ 0, want .. "\n" }, { r.code, r.out }, r.err)
  end)
end)

describe("nsl oci create, start, state, kill, delete", function()
  it("creates a container blocked until start, with a pid file", function()
    local dir = bundle(config(function(s)
      s.process.args = { "sh", "-c", "echo started; sleep 30" }
    end))
    local out = tmp .. "/c1.out"
    local r = helper.sh(cmd("create --bundle " .. q(dir) .. " --pid-file " .. q(tmp .. "/c1.pid") ..
      " c1") .. " > " .. q(out))
    assert.equal(0, r.code, r.err)
    local st = assert(state("c1"))
    finally(function() finish("c1", st.pid) end)
    assert.same({ "created", "c1", dir, ROOTFS }, { st.status, st.id, st.bundle, st.rootfs })
    assert.equal(tostring(st.pid), helper.read(tmp .. "/c1.pid"))
    assert.matches("^1%.", st.ociVersion)
    core.poll({}, 100)
    assert.equal("", helper.read(out)) -- still blocked
    assert.equal(0, oci("start c1").code)
    assert.equal("running", state("c1").status)
    local again = oci("start c1")
    assert.same({ 1, "cannot start an already running container\n" }, { again.code, again.err })
    local del = oci("delete c1")
    assert.same({ 1, "cannot delete container c1 that is not stopped: running\n" }, { del.code, del.err })
    assert.equal("started\n", helper.read(out))
    assert.equal(0, oci("kill c1 KILL").code)
    assert.is_true(reap(st.pid))
    assert.equal("stopped", state("c1").status)
    assert.equal(0, state("c1").pid)
    local k = oci("kill c1")
    assert.same({ 1, "container not running\n" }, { k.code, k.err })
    assert.equal(0, oci("delete c1").code)
    assert.is_nil(state("c1"))
  end)

  it("refuses a second container with the same id", function()
    local pid = started("dup", "sleep 30")
    finally(function() finish("dup", pid) end)
    local dir = bundle(config())
    local r = oci("create --bundle " .. q(dir) .. " dup")
    assert.same({ 1, "container with id exists: dup\n" }, { r.code, r.err })
  end)

  it("takes signals by name and number, and --all", function()
    local pid = started("sig", "trap 'echo got TERM; exit 0' TERM; while :; do sleep 1; done")
    local p2
    -- busted keeps one finally a test
    finally(function() finish("sig", pid); finish("sig2", p2) end)
    assert.equal(0, oci("kill sig 15").code)
    assert.is_true(reap(pid))
    pid = nil
    p2 = started("sig2", "sleep 30 & sleep 30")
    local r = oci("kill sig2 SIGBOGUS")
    assert.same({ 1, "invalid signal 'SIGBOGUS'\n" }, { r.code, r.err })
    assert.equal(0, oci("kill --all sig2 KILL").code)
    assert.is_true(reap(p2))
  end)

  it("signals nothing and says nothing with kill --all when it stopped, as runc", function()
    local pid = started("gone", "true")
    finally(function() finish("gone", pid) end)
    assert.is_true(reap(pid))
    assert.equal("stopped", state("gone").status)
    local r = oci("kill --all gone KILL")
    assert.same({ 0, "" }, { r.code, r.err })
    r = oci("kill gone KILL")
    assert.same({ 1, "container not running\n" }, { r.code, r.err })
  end)

  it("updates the limits of a running container with update", function()
    local pid, dir = started("upd", "sleep 30", function(s)
      s.linux.resources = { pids = { limit = 10 }, memory = { limit = 64 * 1024 * 1024 } }
    end)
    finally(function() finish("upd", pid) end)
    local cg = assert(cgroup.open(cgroup_of[dir]))
    local function limits()
      if cg.version == 1 then
        return { cg:read("pids.max"), cg:read("memory.limit_in_bytes"), cg:read("cpu.cfs_quota_us") }
      end
      return { cg:read("pids.max"), cg:read("memory.max"), (cg:read("cpu.max")) }
    end
    local quota = cg.version == 1 and "50000" or "50000 100000"
    local r = oci("update --memory 128m --pids-limit 20 --cpu-quota 50000 --cpu-period 100000 upd")
    assert.same({ 0, "" }, { r.code, r.err })
    assert.same({ "20", tostring(128 * 1024 * 1024), quota }, limits())
    -- --resources FILE and - (podman's way), as OCI's linux.resources
    helper.write(dir .. "/resources.json", json.encode({ pids = { limit = 30 } }))
    r = oci("update --resources " .. q(dir .. "/resources.json") .. " upd")
    assert.same({ 0, "" }, { r.code, r.err })
    r = oci("update -r - upd", json.encode({ memory = { limit = 96 * 1024 * 1024 } }))
    assert.same({ 0, "" }, { r.code, r.err })
    assert.same({ "30", tostring(96 * 1024 * 1024), quota }, limits())
    r = oci("update --memory lots upd")
    assert.equal(1, r.code)
    assert.matches("update: %-%-memory: bad size 'lots'", r.err)
    r = oci("update --blkio-weight 100 upd")
    assert.same({ 1, "update: --blkio-weight is not supported by nsl-oci\n" }, { r.code, r.err })
    r = oci("update --resources " .. q(dir .. "/nope.json") .. " upd")
    assert.equal(1, r.code)
    assert.matches("update: cannot read ", r.err)
    r = oci("update -r - upd", json.encode({ cpu = { idle = 1 }, pids = { limit = 7 } }))
    assert.same({ 1, "update: linux.resources.cpu.idle is not supported by nsl-oci\n" },
      { r.code, r.err })
    r = oci("update -r - upd", json.encode({ devices = { { allow = false, access = "rwm" } },
      pids = { limit = 40 } }))
    assert.same({ 0, "" }, { r.code, r.err })
    assert.equal("40", limits()[1])
    -- the container has a v1 devices cgroup of its own (made in every
    -- hierarchy): every device denied but the container's own, as create
    -- makes them (/dev/null's 1:3 among them)
    local devices = cg.version == 1 and cg:v1_dir("devices")
    if devices then
      local list = helper.read(devices .. "/devices.list")
      assert.is_nil(list:find("a *:* rwm", 1, true), list)
      assert.truthy(list:find("c 1:3 rwm", 1, true), list)
    end
    r = oci("update --pids-limit 5 nope")
    assert.same({ 1, "container nope does not exist\n" }, { r.code, r.err })
    assert.equal(0, oci("kill upd KILL").code)
    assert.is_true(reap(pid))
    r = oci("update --pids-limit 5 upd")
    assert.same({ 1, "cannot update a stopped container\n" }, { r.code, r.err })
  end)

  it("deletes a running container with --force and removes its cgroup", function()
    local pid, dir = started("force", "sleep 30", function(s)
      s.linux.resources = { pids = { limit = 10 }, memory = { limit = 64 * 1024 * 1024 } }
    end)
    local cg = assert(cgroup.open(cgroup_of[dir]))
    local ok = pcall(function()
      if cg.version == 1 then
        assert.same({ "10", tostring(64 * 1024 * 1024) }, { cg:read("pids.max"),
          cg:read("memory.limit_in_bytes") })
      else
        assert.same({ "10", tostring(64 * 1024 * 1024) }, { cg:read("pids.max"), cg:read("memory.max") })
      end
      assert.same({ pid }, cg:procs())
    end)
    local r = oci("delete --force force")
    assert.equal(0, r.code, r.err)
    reap(pid)
    assert.is_true(ok)
    assert.is_nil(state("force"))
    assert.is_false(cg:exists())
  end)

  it("sends the pty master to --console-socket", function()
    local dir = bundle(config(function(s)
      s.process.terminal = true
      s.process.args = { "sh", "-c", "tty; echo ok" }
    end))
    local sock_path = tmp .. "/console.sock"
    local listener = assert(core.unix_listen(sock_path))
    local st
    finally(function()
      listener:close()
      finish("tty1", st and st.pid)
    end)
    local r = helper.sh(cmd("create --console-socket " .. q(sock_path) .. " --bundle " ..
      q(dir) .. " tty1") .. " > /dev/null")
    assert.equal(0, r.code, r.err)
    st = assert(state("tty1"))
    local conn = assert(core.accept(listener))
    local master, data = assert(core.recv_fd(conn))
    conn:close()
    assert.equal("/dev/ptmx", data)
    assert.equal(0, oci("start tty1").code)
    local out = ""
    while not out:find("ok") do
      local ready = core.poll({ master }, 5000)
      if not ready[1] then break end
      local s = master:read(256)
      if not s or s == "" then break end
      out = out .. s
    end
    master:close()
    assert.equal("/dev/console\r\nok\r\n", out)
    reap(st.pid)
    assert.equal(0, oci("delete tty1").code)
  end)

  it("refuses a terminal without a console socket when detached", function()
    local dir = bundle(config(function(s) s.process.terminal = true end))
    local r = oci("create --bundle " .. q(dir) .. " tty2")
    assert.same({ 1, "cannot allocate a pseudo-TTY without setting a console socket\n" },
      { r.code, r.err })
  end)

  it("runs the hooks with the state on stdin", function()
    local out = tmp .. "/hooks"
    local function hook(name)
      return { path = "/bin/sh", args = { "sh", "-c", "cat > " .. out .. "." .. name } }
    end
    local pid = started("hk", "sleep 30", function(s)
      s.hooks = { prestart = { hook("prestart") }, createRuntime = { hook("createRuntime") },
        poststart = { hook("poststart") }, poststop = { hook("poststop") } }
    end)
    finally(function() finish("hk", pid) end)
    local pre = json.decode(helper.read(out .. ".prestart"))
    assert.same({ "hk", pid }, { pre.id, pre.pid })
    assert.equal("hk", json.decode(helper.read(out .. ".createRuntime")).id)
    assert.equal("hk", json.decode(helper.read(out .. ".poststart")).id)
    assert.equal(0, oci("delete --force hk").code)
    reap(pid)
    assert.equal("stopped", json.decode(helper.read(out .. ".poststop")).status)
  end)
end)

describe("nsl oci exec, ps, pause, resume, list", function()
  local pid

  setup(function()
    pid = started("ex", "sleep 60")
  end)

  teardown(function() finish("ex", pid) end)

  it("runs a process in the container and exits with its status", function()
    local r = oci("exec ex sh -c 'echo $(hostname) $$; exit 7'")
    assert.same({ 7, "box 2\n" }, { r.code, r.out }, r.err) -- pid 2: in its pid namespace
  end)

  it("takes --env, --user, --cwd and --process", function()
    local r = oci("exec --env FOO=bar --user 65534:65534 --cwd /tmp ex sh -c 'echo $FOO $(id -u) $(pwd)'")
    assert.same({ 0, "bar 65534 /tmp\n" }, { r.code, r.out }, r.err)
    local proc = tmp .. "/process.json"
    helper.write(proc, json.encode { args = { "sh", "-c", "echo from process $A" }, cwd = "/",
      env = { "A=1", "PATH=/bin" }, user = { uid = 0, gid = 0 } })
    r = oci("exec --process " .. q(proc) .. " ex")
    assert.same({ 0, "from process 1\n" }, { r.code, r.out }, r.err)
  end)

  it("passes only stdio and --preserve-fds to the process", function()
    -- fd 3 and 7 are the client's: nothing of the host may reach the container
    local r = helper.sh("exec 3</dev/null 7</dev/null; " .. cmd("exec ex ls /proc/self/fd"))
    assert.same({ 0, "0\n1\n2\n3\n" }, { r.code, r.out }, r.err) -- 3: ls's own directory
    r = helper.sh("exec 3</dev/null 4</dev/null 7</dev/null; " ..
      cmd("exec --preserve-fds 2 ex ls /proc/self/fd"))
    assert.same({ 0, "0\n1\n2\n3\n4\n5\n" }, { r.code, r.out }, r.err)
  end)

  it("writes the pid of a detached process", function()
    local r = helper.sh(cmd("exec --detach --pid-file " .. q(tmp .. "/exec.pid") ..
      " ex sleep 5") .. " > /dev/null")
    assert.equal(0, r.code, r.err)
    local epid = tonumber(helper.read(tmp .. "/exec.pid"))
    assert.is_number(epid)
    local ps = json.decode(oci("ps --format json ex").out)
    assert.same({ pid, epid }, ps)
    core.kill(epid, "KILL")
    assert.is_true(reap(epid))
  end)

  it("says 255 for a command that is not there, as runc", function()
    local r = oci("exec ex /no/such")
    assert.equal(255, r.code)
    assert.matches('exec: "/no/such": stat /no/such: no such file or directory', r.err, 1, true)
  end)

  it("lists the container's processes with ps", function()
    local r = oci("ps ex")
    assert.equal(0, r.code, r.err)
    assert.matches("^UID%s+PID", r.out)
    assert.matches("\n%S+%s+" .. pid .. "%s", r.out)
  end)

  it("pauses and resumes it", function()
    assert.equal(0, oci("pause ex").code)
    assert.equal("paused", state("ex").status)
    local r = oci("exec ex true")
    assert.same({ 255, "exec failed: cannot exec in a paused container " ..
      "(use --ignore-paused to override)\n" }, { r.code, r.err })
    -- --ignore-paused: the process starts frozen and runs once resumed
    r = helper.sh(cmd("exec --ignore-paused ex echo thawed") .. " & sleep 0.3; " ..
      cmd("resume ex") .. "; wait $!; echo $?")
    assert.same({ 0, "thawed\n0\n" }, { r.code, r.out }, r.err)
    assert.equal("running", state("ex").status)
    r = oci("resume ex")
    assert.same({ 1, "container not paused\n" }, { r.code, r.err })
  end)

  it("lists it", function()
    local r = oci("list")
    assert.equal(0, r.code, r.err)
    assert.matches("^ID%s+PID%s+STATUS%s+BUNDLE%s+CREATED%s+OWNER\n", r.out)
    assert.matches("\nex%s+" .. pid .. "%s+running%s", r.out)
    assert.equal("ex\n", oci("list --quiet").out)
    local list = json.decode(oci("list --format json").out)
    assert.same({ "ex", "running" }, { list[1].id, list[1].status })
  end)
end)

describe("nsl oci as uid 65534", function()
  it("runs a rootless bundle and keeps its state", function()
    local dir = tmp .. "/nobody"
    assert(os.execute(string.format("mkdir -p %s && cp -a %s %s/rootfs && chown -R 65534:65534 %s",
      q(dir), q(ROOTFS), q(dir), q(dir))))
    local script = [[
      cd "$1" && "$NSL" oci spec --rootless &&
      sed -i 's/"terminal":true/"terminal":false/; s/"args":\["sh"\]/"args":["sh","-c","echo $(id -u) in $(hostname); exit 4"]/' config.json &&
      "$NSL" oci --root "$1/state" run r; echo "run $?"
      sed -i 's/"echo [^"]*"/"exec sleep 30"/' config.json
      "$NSL" oci --root "$1/state" create c > /dev/null; echo "create $?"
      "$NSL" oci --root "$1/state" start c; echo "start $?"
      "$NSL" oci --root "$1/state" exec c id -u; echo "exec $?"
      "$NSL" oci --root "$1/state" ps --format json c
      "$NSL" oci --root "$1/state" delete --force c; echo "delete $?"
      "$NSL" oci --root "$1/state" state c; echo "state $?"
    ]]
    local r = helper.unprivileged("sh -c " .. q(script) .. " sh " .. q(dir))
    assert.equal(0, r.code, r.err)
    local lines = {}
    for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.same({ "0 in nsl", "run 4", "create 0", "start 0", "0", "exec 0" },
      { table.unpack(lines, 1, 6) }, r.out .. r.err)
    assert.matches("^%[%d+%]$", lines[7])
    assert.same({ "delete 0", "state 1" }, { lines[8], lines[9] })
    assert.matches("container c does not exist", r.err)
  end)
end)

-- The config without the namespace of type (an OCI name: "mount", "ipc").
local function without(s, type)
  for i, ns in ipairs(s.linux.namespaces) do
    if ns.type == type then table.remove(s.linux.namespaces, i); return end
  end
end

-- The capability sets of the spec's test, and what the kernel makes of
-- them across exec (capabilities(7)): another user's permitted and
-- effective sets become the ambient set; root's depend on how root is
-- treated on exec, so only its other three sets are compared.
local CAPS = { bounding = { "CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW" },
  effective = { "CAP_CHOWN", "CAP_KILL" }, permitted = { "CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE" },
  inheritable = { "CAP_KILL", "CAP_NET_BIND_SERVICE" }, ambient = { "CAP_NET_BIND_SERVICE" } }
-- CHOWN 0, KILL 5, NET_BIND_SERVICE 10, NET_RAW 13
local CAPS_ROOT = "CapInh:\t0000000000000420\nCapBnd:\t0000000000002421\nCapAmb:\t0000000000000400\n"
local CAPS_USER = "CapInh:\t0000000000000420\nCapPrm:\t0000000000000400\n" ..
  "CapEff:\t0000000000000400\nCapBnd:\t0000000000002421\nCapAmb:\t0000000000000400\n"
local READ_CAPS = { "grep", "^Cap", "/proc/self/status" }
local READ_ROOT_CAPS = { "grep", "^Cap[IBA]", "/proc/self/status" }

describe("nsl oci capabilities", function()
  local function with_caps(uid)
    return function(s)
      s.process.args = uid == 0 and READ_ROOT_CAPS or READ_CAPS
      s.process.capabilities = CAPS
      s.process.user = { uid = uid, gid = uid }
    end
  end

  it("applies all five sets in run, for root and another user", function()
    local r = oci("run --bundle " .. q(bundle(config(with_caps(0)))) .. " cap1")
    assert.same({ 0, CAPS_ROOT }, { r.code, r.out }, r.err)
    r = oci("run --bundle " .. q(bundle(config(with_caps(1000)))) .. " cap2")
    assert.same({ 0, CAPS_USER }, { r.code, r.out }, r.err)
  end)

  it("applies all five sets in create and exec", function()
    local dir = bundle(config(function(s)
      with_caps(1000)(s)
      s.process.args = { "sh", "-c", "grep ^Cap /proc/self/status > /tmp/caps; exec sleep 30" }
    end))
    local r = helper.sh(cmd("create --bundle " .. q(dir) .. " cap3") .. " > /dev/null")
    assert.equal(0, r.code, r.err)
    local pid = assert(state("cap3")).pid
    finally(function() finish("cap3", pid) end)
    r = oci("start cap3")
    assert.equal(0, r.code, r.err)
    local process = dir .. "/process.json"
    helper.write(process, json.encode({ args = READ_ROOT_CAPS, cwd = "/", capabilities = CAPS,
      user = { uid = 0, gid = 0 }, env = { "PATH=/bin:/usr/bin" } }))
    r = oci("exec --process " .. q(process) .. " cap3")
    assert.same({ 0, CAPS_ROOT }, { r.code, r.out }, r.err)
    r = oci("exec cap3 cat /tmp/caps")
    assert.same({ 0, CAPS_USER }, { r.code, r.out }, r.err)
    -- --cap adds to the bounding, effective and permitted sets, and keeps
    -- the others (SYS_ADMIN is 21)
    r = oci("exec --user 0:0 --cap CAP_SYS_ADMIN cap3 grep ^Cap[IBA] /proc/self/status")
    assert.same({ 0, (CAPS_ROOT:gsub("0000000000002421", "0000000000202421")) }, { r.code, r.out },
      r.err)
  end)

  it("applies them as uid 65534, in a user namespace", function()
    local dir = tmp .. "/nobody-caps"
    assert(os.execute(string.format("mkdir -p %s && cp -a %s %s/rootfs && chown -R 65534:65534 %s",
      q(dir), q(ROOTFS), q(dir), q(dir))))
    local r = helper.unprivileged("cd " .. q(dir) .. ' && "$NSL" oci spec --rootless')
    assert.equal(0, r.code, r.err)
    local spec = json.decode(helper.read(dir .. "/config.json"))
    spec.process.terminal = false
    spec.process.args = READ_ROOT_CAPS
    spec.process.capabilities = CAPS
    helper.write(dir .. "/config.json", json.encode(spec))
    assert(os.execute("chmod 0644 " .. q(dir .. "/config.json")))
    r = helper.unprivileged("cd " .. q(dir) .. ' && "$NSL" oci --root "$PWD/state" run c')
    assert.same({ 0, CAPS_ROOT }, { r.code, r.out }, r.err)
  end)

  it("refuses an ambient capability that is not permitted and inheritable", function()
    local dir = bundle(config(function(s)
      with_caps(1000)(s)
      s.process.capabilities.ambient = { "CAP_CHOWN" }
    end))
    local r = oci("run --bundle " .. q(dir) .. " cap4")
    assert.equal(1, r.code)
    assert.matches("ambient capability CHOWN is not in both the permitted and the " ..
      "inheritable set", r.err)
  end)
end)

describe("nsl oci with less isolation than the default", function()
  it("refuses a config without a mount namespace and leaves / alone", function()
    local dir = bundle(config(function(s)
      s.process.args = { "true" }
      without(s, "mount")
    end))
    -- a runtime that got as far as a container would leave it blocked
    finally(function()
      for _, pid in ipairs(helper.leftovers(dir)) do core.kill(pid, "KILL"); reap(pid) end
    end)
    -- in a throwaway mount namespace: a runtime that pivoted the caller's
    -- would change this shell's /, not the host's
    local err = tmp .. "/nomnt.err"
    local script = "stat -c '%d %i' /; " .. cmd("run --bundle " .. q(dir) .. " nomnt") ..
      " >/dev/null 2>" .. q(err) .. "; echo \"run $?\"; stat -c '%d %i' /"
    local r = helper.sh("unshare -m --propagation private sh -c " .. q(script))
    local lines = {}
    for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.same({ lines[1], "run 1", lines[1] }, lines, r.err)
    assert.equal("the config has no mount namespace: nsl-oci sets the root up only in a " ..
      "mount namespace of its own (add {\"type\": \"mount\"} to linux.namespaces)\n",
      helper.read(err))
    assert.is_nil(state("nomnt"))
  end)

  it("sets the root up in a copy of a mount namespace given by path", function()
    local dir = bundle(config(function(s)
      s.process.args = { "sh", "-c", "echo in $(hostname)" }
      for _, ns in ipairs(s.linux.namespaces) do
        if ns.type == "mount" then ns.path = "/proc/self/ns/mnt" end -- the caller's own
      end
    end))
    finally(function()
      for _, pid in ipairs(helper.leftovers(dir)) do core.kill(pid, "KILL"); reap(pid) end
    end)
    local out = tmp .. "/mntpath.out"
    local script = "stat -c '%d %i' /; " .. cmd("run --bundle " .. q(dir) .. " mntpath") ..
      " >" .. q(out) .. "; echo \"run $?\"; stat -c '%d %i' /"
    local r = helper.sh("unshare -m --propagation private sh -c " .. q(script))
    local lines = {}
    for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.same({ lines[1], "run 0", lines[1] }, lines, r.err)
    assert.equal("in box\n", helper.read(out))
  end)

  it("refuses a config without a mount namespace, or with a shared sysctl, as uid 65534", function()
    local dir = tmp .. "/nomnt-nobody"
    assert(os.execute(string.format("mkdir -p %s && cp -a %s %s/rootfs && chown -R 65534:65534 %s",
      q(dir), q(ROOTFS), q(dir), q(dir))))
    local r = helper.unprivileged("cd " .. q(dir) .. " && \"$NSL\" oci spec --rootless")
    assert.equal(0, r.code, r.err)
    local rootless = helper.read(dir .. "/config.json")
    local function run(fn)
      local spec = json.decode(rootless)
      spec.process.terminal = false
      spec.process.args = { "true" }
      fn(spec)
      helper.write(dir .. "/config.json", json.encode(spec))
      return helper.unprivileged("cd " .. q(dir) .. " && \"$NSL\" oci --root " ..
        q(dir .. "/state") .. " run r >/dev/null; echo \"run $?\"; test -e " .. q(dir .. "/state/r") .. " && echo left")
    end
    r = run(function(spec) without(spec, "mount") end)
    assert.equal("run 1\n", r.out, r.err)
    assert.matches("^the config has no mount namespace", r.err)
    -- the rootless config has no network namespace
    r = run(function(spec) spec.linux.sysctl = { ["net.ipv4.ping_group_range"] = "0 0" } end)
    assert.same({ "run 1\n", "sysctl net.ipv4.ping_group_range is not allowed in the caller's " ..
      "network namespace\n" }, { r.out, r.err })
  end)

  it("refuses sysctls of namespaces the container shares with its caller", function()
    local host = { helper.read("/proc/sys/fs/mqueue/queues_max"),
      helper.read("/proc/sys/net/ipv4/ping_group_range") }
    local function with(sysctl, shared)
      return bundle(config(function(s)
        s.process.args = { "true" }
        s.linux.sysctl = sysctl
        if shared then without(s, shared) end
      end))
    end
    -- the same value as the host's: a runtime that wrote it changes nothing
    local overcommit = helper.read("/proc/sys/vm/overcommit_memory"):gsub("%s+$", "")
    local runs = {
      with({ ["fs.mqueue.queues_max"] = "300" }, "ipc"),
      with({ ["kernel/msgmax"] = "4096" }, "ipc"),
      with({ ["net.ipv4.ping_group_range"] = "0 2147483647" }, "network"),
      with({ ["kernel.domainname"] = "example" }, "uts"),
      with({ ["kernel.hostname"] = "other" }),
      with({ ["vm.overcommit_memory"] = overcommit }),
    }
    -- a network namespace given by path that is the caller's own
    runs[#runs + 1] = bundle(config(function(s)
      s.process.args = { "true" }
      s.linux.sysctl = { ["net.ipv4.ping_group_range"] = "0 2147483647" }
      for _, ns in ipairs(s.linux.namespaces) do
        if ns.type == "network" then ns.path = "/proc/self/ns/net" end
      end
    end))
    local script = {}
    for i, dir in ipairs(runs) do
      script[#script + 1] = cmd("run --bundle " .. q(dir) .. " sc" .. i) .. "; echo \"run $?\""
    end
    script[#script + 1] = "cat /proc/sys/fs/mqueue/queues_max /proc/sys/kernel/msgmax " ..
      "/proc/sys/net/ipv4/ping_group_range /proc/sys/kernel/domainname"
    -- in throwaway ipc, net and uts namespaces: what a runtime writes
    -- there, the host does not see
    local r = helper.sh("unshare --ipc --net --uts sh -c " .. q(table.concat(script, "\n")))
    local want = string.rep("run 1\n", #runs) .. "256\n8192\n1\t0\n(none)\n"
    assert.equal(want, r.out, r.err)
    local errs = {}
    for l in r.err:gmatch("[^\n]+") do errs[#errs + 1] = l end
    assert.same({
      "sysctl fs.mqueue.queues_max is not allowed in the caller's ipc namespace",
      "sysctl kernel.msgmax is not allowed in the caller's ipc namespace",
      "sysctl net.ipv4.ping_group_range is not allowed in the caller's network namespace",
      "sysctl kernel.domainname is not allowed in the caller's uts namespace",
      "sysctl kernel.hostname is not allowed: the hostname is set through config.json",
      "sysctl vm.overcommit_memory is not in a namespace of the container's own",
      "sysctl net.ipv4.ping_group_range is not allowed in the caller's network namespace",
    }, errs)
    assert.same(host, { helper.read("/proc/sys/fs/mqueue/queues_max"),
      helper.read("/proc/sys/net/ipv4/ping_group_range") })
  end)

  it("refuses a hostname without a uts namespace of its own", function()
    local dir = bundle(config(function(s)
      s.process.args = { "true" }
      s.hostname = "not-the-callers"
      without(s, "uts")
    end))
    -- in a throwaway uts namespace: what a runtime sets there, the host keeps
    local r = helper.sh("unshare --uts sh -c " .. q(cmd("run --bundle " .. q(dir) .. " hn1") ..
      "; echo \"run $?\"; hostname"))
    assert.equal("run 1\n" .. helper.sh("hostname").out, r.out, r.err)
    assert.matches("sets a hostname without a uts namespace of its own", r.err)
    assert.is_nil(state("hn1"))
  end)

  it("joins a pid namespace given by path", function()
    local pid = started("pp1", "sleep 30")
    finally(function() finish("pp1", pid) end)
    local want = core.readlink(string.format("/proc/%d/ns/pid", pid))
    local dir = bundle(config(function(s)
      s.process.args = { "sh", "-c", "readlink /proc/self/ns/pid; cat /proc/1/cmdline" }
      for _, ns in ipairs(s.linux.namespaces) do
        if ns.type == "pid" then ns.path = string.format("/proc/%d/ns/pid", pid) end
      end
    end))
    local r = oci("run --bundle " .. q(dir) .. " pp2")
    assert.same({ 0, want .. "\nsleep\0" .. "30\0" }, { r.code, r.out }, r.err)
  end)

  it("deletes only its own processes from a pid namespace it joined, without a cgroup", function()
    local function without_cgroups(args)
      -- no cgroup filesystem in a throwaway mount namespace: no cgroup to
      -- list the processes by
      return helper.sh("unshare -m --propagation private sh -c " ..
        q("umount -R /sys/fs/cgroup && " .. cmd("create " .. args) .. " >/dev/null"))
    end
    local pa, pb
    finally(function() finish("pa", pa); finish("pb", pb) end)
    local r = without_cgroups("--bundle " .. q(bundle(config(function(s)
      s.process.args = { "sleep", "30" }
      s.linux.resources = nil -- device rules need a cgroup: refused without one
    end))) .. " pa")
    assert.equal(0, r.code, r.err)
    pa = state("pa").pid
    assert.is_nil(json.decode(helper.read(STATE .. "/pa/state.json")).cgroup)
    r = without_cgroups("--bundle " .. q(bundle(config(function(s)
      s.process.args = { "sleep", "30" }
      s.linux.resources = nil
      for _, ns in ipairs(s.linux.namespaces) do
        if ns.type == "pid" then ns.path = string.format("/proc/%d/ns/pid", pa) end
      end
    end))) .. " pb")
    assert.equal(0, r.code, r.err)
    pb = state("pb").pid
    assert.equal(0, oci("start pa").code)
    assert.equal(0, oci("start pb").code)
    assert.equal(0, oci("delete --force pb").code)
    assert.is_true(reap(pb))
    pb = nil
    assert.equal("running", state("pa").status)
  end)

  it("refuses a frozen cgroup, and one below it, at once instead of hanging in it", function()
    local path = "nsl-spec/oci-frozen-" .. tmp:match("[^.]+$") -- this run's own
    local cg = assert(cgroup.create(path, {}))
    local inner = assert(cgroup.open(path .. "/inner"))
    finally(function()
      cg:thaw()
      for _, id in ipairs { "frozen", "frozen2" } do
        local st = state(id)
        finish(id, st and st.pid)
      end
      -- what a runtime that joined them left there; opened again by path,
      -- so that the devices directory nsl oci made in it goes too
      for _, c in ipairs { inner, cgroup.open(path) or cg } do
        for _, pid in ipairs(c:procs()) do core.kill(pid, "KILL"); reap(pid) end
        c:remove()
      end
    end)
    assert(cg:freeze())
    -- nsl oci run ID in cgroup at; its stderr, or nil when it did not end
    -- within 15 s (a process stuck in the freezer cannot be killed: the
    -- cgroup is thawed, then it is reaped)
    local function run_in(at, id)
      local dir = bundle(config(function(s)
        s.process.args = { "true" }
        s.linux.cgroupsPath = at
      end))
      local err = tmp .. "/" .. id .. ".err"
      local pid = assert(core.spawn("/bin/sh", { "sh", "-c", "exec " ..
        cmd("run --bundle " .. q(dir) .. " " .. id) .. " </dev/null >/dev/null 2>" .. q(err) }))
      if reap(pid, 15) then return helper.read(err) end
      cg:thaw()
      core.kill(pid, "KILL")
      core.wait(pid)
    end
    local err = run_in(path, "frozen")
    assert.is_string(err, "nsl oci run was still in the frozen cgroup after 15 s")
    assert.matches("^container's cgroup unexpectedly frozen: .*/oci%-frozen%-%w+ is frozen; thaw it", err)
    assert.is_nil(state("frozen"))
    assert.is_true(cg:exists()) -- not nsl-oci's to remove
    err = run_in(path .. "/inner", "frozen2")
    assert.is_string(err, "nsl oci run was still in the frozen cgroup after 15 s")
    assert.matches("^start: container's cgroup unexpectedly frozen: .*/oci%-frozen%-%w+/inner is frozen; thaw it",
      err)
    assert.is_nil(state("frozen2"))
    assert.is_false(inner:exists()) -- made by nsl-oci, removed again
  end)

  it("goes on past hooks that do not read the state, and cleans up when one fails", function()
    -- more state than a pipe holds: the write meets the hook's closed stdin
    local function with(hooks)
      return bundle(config(function(s)
        s.process.args = { "true" }
        s.annotations = { big = string.rep("x", 200000) }
        s.hooks = hooks
        s.linux.resources = { pids = { limit = 10 } }
      end))
    end
    finally(function() finish("hp1"); finish("hp2") end)
    local quiet = { { path = "/bin/true" } }
    local r = oci("run --bundle " .. q(with { prestart = quiet, poststart = quiet,
      poststop = quiet }) .. " hp1")
    assert.equal(0, r.code, r.err)
    assert.is_nil(state("hp1"))
    local failing = with { createRuntime = { { path = "/bin/sh", args = { "sh", "-c", "exit 3" } } } }
    r = oci("run --bundle " .. q(failing) .. " hp2")
    assert.same({ 1, "start: error running createRuntime hook #0: error running hook: /bin/sh exited 3\n" },
      { r.code, r.err })
    assert.is_nil(state("hp2"))
    assert.is_nil(core.stat(STATE .. "/hp2"))
    assert.is_false(assert(cgroup.open(cgroup_of[failing])):exists())
  end)

  it("times out a hook that neither reads the state nor ends", function()
    local dir = bundle(config(function(s)
      s.process.args = { "true" }
      s.annotations = { big = string.rep("x", 200000) } -- more than a pipe holds
      s.hooks = { prestart = { { path = "/bin/sh", args = { "sh", "-c", "exec sleep 30" },
        timeout = 1 } } }
    end))
    finally(function() finish("hto") end)
    local t0 = core.monotime()
    local r = oci("run --bundle " .. q(dir) .. " hto")
    assert.same({ 1, "start: error running prestart hook #0: hook /bin/sh timed out\n" }, { r.code, r.err })
    assert.is_true(core.monotime() - t0 < 10)
    assert.is_nil(state("hto"))
  end)

  it("leaves a /dev bound from outside as it was", function()
    local dev = tmp .. "/fakedev"
    local bundle_dir = bundle(config(function(s)
      s.process.args = { "true" }
      for _, m in ipairs(s.mounts) do
        if m.destination == "/dev" then
          m.type, m.source, m.options = "bind", dev, { "rbind", "rw" }
        end
      end
    end))
    -- a throwaway tmpfs with nodes of its own, in a throwaway mount
    -- namespace: never the host's /dev
    local script = table.concat({
      "set -e",
      "mkdir -p " .. q(dev),
      "mount -t tmpfs -o mode=755 fakedev " .. q(dev),
      "cd " .. q(dev),
      "mkdir pts shm mqueue",
      "mknod -m 666 null c 1 3; mknod -m 666 zero c 1 5; mknod -m 666 tty c 5 0",
      "mknod -m 666 ptmx c 5 2; echo keep > marker; ln -s /proc/self/fd fd",
      "list() { stat -c '%n %i %F %t:%T %a %s %Y' * | sort; cat marker; }",
      "list > ../before",
      "set +e",
      cmd("run --bundle " .. q(bundle_dir) .. " fakedev") .. " >/dev/null",
      "echo \"run $?\"",
      "list | diff ../before - && echo same",
    }, "\n")
    local r = helper.sh("unshare -m --propagation private sh -c " .. q(script))
    assert.matches("\nsame\n$", r.out, r.err)
    assert.is_nil(state("fakedev"))
  end)
end)

describe("nsl oci mounts", function()
  local function mount_of(s, m)
    s.mounts[#s.mounts + 1] = m
  end

  it("makes the missing parents of a mount target in the root", function()
    local file = tmp .. "/containerenv"
    helper.write(file, "engine=nsl\n")
    local dir = bundle(config(function(s)
      s.process.args = { "cat", "/no/such/dir/.containerenv" }
      mount_of(s, { destination = "/no/such/dir/.containerenv", type = "bind", source = file,
        options = { "bind", "ro" } })
    end))
    local r = oci("run --bundle " .. q(dir) .. " mp1")
    assert.same({ 0, "engine=nsl\n" }, { r.code, r.out }, r.err)
  end)

  it("makes ro a bind's top mount read-only, and rro every mount under it", function()
    local src = tmp .. "/rro"
    assert(os.execute("mkdir -p " .. q(src .. "/sub")))
    local dir = bundle(config(function(s)
      s.process.args = { "sh", "-c", "for d in /ro /ro/sub /rro /rro/sub /rrw/sub; do " ..
        "touch $d/f 2>/dev/null && echo $d rw || echo $d ro; done" }
      mount_of(s, { destination = "/ro", type = "bind", source = src, options = { "rbind", "ro" } })
      mount_of(s, { destination = "/rro", type = "bind", source = src, options = { "rbind", "rro" } })
      mount_of(s, { destination = "/rrw", type = "bind", source = src,
        options = { "rbind", "rro", "rrw" } })
    end))
    -- the submount is this private namespace's only: the host never sees it
    local r = helper.sh("unshare -m --propagation private sh -c " .. q("mount -t tmpfs sub " ..
      q(src .. "/sub") .. " && " .. cmd("run --bundle " .. q(dir) .. " mp2")))
    assert.same({ 0, "/ro ro\n/ro/sub rw\n/rro ro\n/rro/sub ro\n/rrw/sub rw\n" }, { r.code, r.out },
      r.err)
  end)

  -- The shell command line that runs script in a new mount namespace whose
  -- mounts are all shared, in peer groups of its own (--propagation shared
  -- alone would keep the host's peer groups, and what the script mounts
  -- would reach the host).
  local function in_shared_ns(script)
    return "unshare -m --propagation private sh -c " .. q("mount --make-rshared / && " .. script)
  end

  -- the optional fields of /'s line in mountinfo for each rootfsPropagation
  local root_fields = { shared = " shared:%d+ ", rshared = " shared:%d+ ", slave = " master:%d+ ",
    rslave = " master:%d+ ", unbindable = " unbindable ", runbindable = " unbindable " }
  for _, prop in ipairs { "shared", "rshared", "slave", "rslave", "private", "unbindable",
    "runbindable" } do
    it("sets rootfsPropagation " .. prop .. " after the pivot", function()
      local dir = bundle(config(function(s)
        s.process.args = { "awk", "$5 == \"/\"", "/proc/self/mountinfo" }
        s.linux.rootfsPropagation = prop
      end))
      -- slave needs a shared / to be a slave of: a private namespace whose
      -- mounts are all shared
      local r = helper.sh(in_shared_ns(cmd("run --bundle " .. q(dir) .. " mp-" .. prop)))
      assert.equal(0, r.code, r.err)
      -- a shared root stays a slave of the caller's: shared:N master:M
      for _, field in pairs(root_fields) do
        if field == root_fields[prop] then assert.matches(field, r.out)
        elseif not (prop:match("shared") and field:match("master")) then
          assert.not_matches(field, r.out)
        end
      end
    end)
  end

  it("propagates nothing back with rootfsPropagation rshared, even from a shared /", function()
    local dir = bundle(config(function(s)
      s.process.args = { "sh", "-c", "mount -t tmpfs inner /tmp && echo mounted" }
      s.linux.rootfsPropagation = "rshared"
      local caps = s.process.capabilities
      for _, set in ipairs { "bounding", "effective", "permitted" } do
        caps[set][#caps[set] + 1] = "CAP_SYS_ADMIN"
      end
    end))
    -- a private namespace whose mounts are all shared: the host's stay as
    -- they are whatever happens
    local r = helper.sh(in_shared_ns(cmd("run --bundle " .. q(dir) .. " mp-back") ..
      "; grep -c ' inner ' /proc/self/mountinfo"))
    assert.same({ "mounted\n0\n" }, { r.out }, r.err)
  end)

  for _, prop in ipairs { "private", "slave", "unbindable" } do
    it("binds the root in the caller's namespace with rootfsPropagation " .. prop ..
      " on a shared mount", function()
      local root = tmp .. "/shared-root-" .. prop
      assert(os.execute(string.format("cp -a %s %s", q(ROOTFS), q(root))))
      local dir = bundle(config(function(s)
        s.root.path = root
        s.process.args = { "true" }
        s.linux.rootfsPropagation = prop
      end))
      -- the root a shared mount point of the caller's: a bind onto it from
      -- a namespace where it is still shared would be a mount of the caller's
      local r = helper.sh(in_shared_ns("mount --bind " .. q(root) .. " " .. q(root) .. " && " ..
        cmd("run --bundle " .. q(dir) .. " mp-held-" .. prop) ..
        " && awk -v root=" .. q(root) .. " '$5 == root' /proc/self/mountinfo | wc -l"))
      assert.same({ 0, "1\n" }, { r.code, r.out }, r.err)
    end)
  end

  it("resolves a destination that is a symlink inside the root", function()
    local root = tmp .. "/linkroot"
    assert(os.execute(string.format("cp -a %s %s && mkdir -p %s/var/there && " ..
      "ln -s /var/there %s/abs && ln -s ../../../../../../var/later %s/rel && " ..
      "ln -s /etc/nope/deeper %s/dangling",
      q(ROOTFS), q(root), q(root), q(root), q(root), q(root))))
    local dir = bundle(config(function(s)
      s.root.path = root
      s.process.args = { "sh", "-c", "for d in /var/there /var/later /etc/nope/deeper; do " ..
        "grep -q \" $d \" /proc/self/mountinfo && echo $d; done" }
      for _, d in ipairs { "/abs", "/rel", "/dangling" } do
        mount_of(s, { destination = d, type = "tmpfs", source = "tmpfs", options = { "nosuid" } })
      end
    end))
    local r = oci("run --bundle " .. q(dir) .. " mp3")
    assert.same({ 0, "/var/there\n/var/later\n/etc/nope/deeper\n" }, { r.code, r.out }, r.err)
    assert.is_nil(core.stat("/var/later")) -- nothing made outside the root
    assert.is_nil(core.stat("/etc/nope"))
  end)
end)
