-- nsl oci: the container's process as the runtime spec has it: seccomp
-- (comparisons, profiles that refuse what the runtime needs, user
-- notification), hooks, events, the working directory and socket
-- activation.
local helper = require "helper"
local core = require "nsl.core"
local json = require "dkjson"
local cgroup = require "nsl.cgroup"
local H = require "oci_harness"

local q = helper.quote

describe("nsl oci: the process", function()
  setup(H.setup)
  teardown(H.teardown)

  -- The seccomp profile of a config: allow all but the given entries.
  local function allow_but(syscalls)
    return { defaultAction = "SCMP_ACT_ALLOW", architectures = { "SCMP_ARCH_X86_64" },
      syscalls = syscalls }
  end

  -- delete --force ends container id (pid, from bundle dir) and its
  -- cgroup: its init ends on SIGKILL only once every other process of its
  -- pid namespace has been reaped
  local function assert_deleted(id, pid, dir)
    local r = H.oci("delete --force " .. id)
    assert.equal(0, r.code, r.err)
    assert.is_true(H.reap(pid))
    assert.is_false(cgroup.open(H.cgroup_of[dir]):exists())
  end

  describe("seccomp", function()
    it("gives each comparison on one argument a rule of its own, as runc and crun do", function()
      -- mode & 7 == 5, or mode >= 0700: refused with EACCES (chmod's
      -- mode is argument 1, fchmodat's argument 2)
      local function cmps(index)
        return { { index = index, op = "SCMP_CMP_MASKED_EQ", value = 7, valueTwo = 5 },
          { index = index, op = "SCMP_CMP_GE", value = 448 } }
      end
      local dir = H.bundle(H.config(function(s)
        s.process.args = { "sh", "-c", "touch /tmp/f; for m in 644 755 700 600 705 645; do " ..
          "chmod $m /tmp/f 2>/dev/null; echo $m $?; done" }
        s.linux.seccomp = allow_but {
          { names = { "chmod" }, action = "SCMP_ACT_ERRNO", errnoRet = 13, args = cmps(1) },
          { names = { "fchmodat" }, action = "SCMP_ACT_ERRNO", errnoRet = 13, args = cmps(2) } }
      end))
      local r = H.oci("run --bundle " .. q(dir) .. " cmp1")
      assert.same({ 0, "644 0\n755 1\n700 1\n600 0\n705 1\n645 1\n" }, { r.code, r.out }, r.err)
    end)

    it("ends every profile, run or refused, with a reason and never a hang", function()
      -- eighteen profiles and one that refuses what a lookup of the command calls
      local function deny(name, action)
        return allow_but { { names = { name }, action = action or "SCMP_ACT_ERRNO" } }
      end
      local function default(action, ret)
        return { defaultAction = action, defaultErrnoRet = ret, syscalls = {} }
      end
      local REFUSES = "seccomp policy refuses '([%w_]+)', which nsl needs"
      local cases = {
        { default("SCMP_ACT_ERRNO"), "execve" }, { default("SCMP_ACT_ERRNO", 38), "execve" },
        { default("SCMP_ACT_KILL_PROCESS"), "execve" }, { default("SCMP_ACT_KILL"), "execve" },
        { default("SCMP_ACT_TRACE"), "execve" }, { default("SCMP_ACT_LOG"), "ran" },
        { deny("write"), "write" }, { deny("exit_group"), "exit_group" }, { deny("execve"), "execve" },
        { deny("write", "SCMP_ACT_KILL_PROCESS"), "write" }, { deny("read"), "ran" },
        { deny("futex"), "ran" }, { deny("wait4"), "ran" }, { deny("close"), "ran" },
        -- busybox's own prctl(PR_GET_NAME): the command is killed, not nsl
        { deny("prctl"), "ran" }, { deny("prctl", "SCMP_ACT_KILL_PROCESS"), "SIGSYS" },
        { deny("prctl"), "cap_bound_drop", false }, { deny("close_range"), "ran" },
        -- the command is found before the filter, as runc looks it up
        { allow_but { { names = { "access", "faccessat", "faccessat2", "stat", "newfstatat",
          "statx" }, action = "SCMP_ACT_ERRNO" } }, "ran" },
      }
      local got, want = {}, {}
      for i, case in ipairs(cases) do
        local dir = H.bundle(H.config(function(s)
          s.process.args = { "echo", "ran" }
          s.process.noNewPrivileges = case[3] ~= false
          s.linux.seccomp = case[1]
        end))
        local r = helper.sh("timeout -k 5 30 " .. H.cmd("run --bundle " .. q(dir) .. " p" .. i))
        H.oci("delete --force p" .. i)
        local word = r.code == 0 and r.out:match("^(ran)\n$") or r.code == 159 and "SIGSYS" or
          r.err:match(REFUSES) or
          r.err:match("setup step 'capabilities': (cap_bound_drop)")
        got[i], want[i] = string.format("%d %s", i, tostring(word or r.code .. " " .. r.err)),
          string.format("%d %s", i, case[2])
      end
      assert.same(want, got)
    end)

    it("runs under a profile that refuses close_range and the new mount API (ENOSYS)", function()
      -- runc's check that nothing the runtime calls after the load is one
      -- a profile for an older kernel refuses
      local dir = H.bundle(H.config(function(s)
        s.process.args = { "sh", "-c", "echo ran; ls /proc/self/fd" }
        s.process.noNewPrivileges = false
        s.linux.seccomp = allow_but { { names = { "close_range", "fsopen", "fsconfig", "fspick",
          "openat2", "open_tree", "move_mount", "mount_setattr" }, action = "SCMP_ACT_ERRNO",
          errnoRet = 38 } }
      end))
      local r = H.oci("run --bundle " .. q(dir) .. " nosys1")
      assert.same({ 0, "ran\n0\n1\n2\n3\n" }, { r.code, r.out }, r.err) -- 3: ls's own
      -- and the fds --preserve-fds passes stay open
      r = helper.sh("exec 3</dev/null 4</dev/null; " ..
        H.cmd("run --preserve-fds 2 --bundle " .. q(dir) .. " nosys2"))
      assert.same({ 0, "ran\n0\n1\n2\n3\n4\n5\n" }, { r.code, r.out }, r.err)
    end)

    it("runs startContainer hooks under the filter and says why a hook failed", function()
      local dir = H.bundle(H.config(function(s)
        s.process.args = { "true" }
        s.process.rlimits = { { type = "RLIMIT_CORE", soft = 0, hard = 0 } }
        s.linux.seccomp = allow_but { { names = { "mkdir", "mkdirat" }, action = "SCMP_ACT_KILL" } }
        s.hooks = { startContainer = { { path = "/bin/sh", args = { "sh", "-c", "mkdir /tmp/h" } } } }
      end))
      local r = H.oci("run --bundle " .. q(dir) .. " hook1")
      assert.equal(125, r.code)
      assert.matches("error running startContainer hook #0: error running hook: /bin/sh killed 31", r.err)
      assert.is_nil(H.state("hook1"))
    end)

    -- An agent in a child of this process: it takes one connection on
    -- listener (or skip + 1: the first skip are kept unanswered), keeps the
    -- message that came with the fd in out_path and answers a
    -- notification with each of answers in turn.
    local function agent(listener, out_path, answers, skip)
      local pid = assert(core.clone({}))
      if pid ~= 0 then return pid end
      local ok = pcall(function()
        local fd, data, kept = nil, nil, {}
        for _ = 0, skip or 0 do
          assert(core.poll({ listener }, 10000)[1], "no connection")
          local conn = assert(core.accept(listener))
          fd, data = assert(core.recv_fd(conn))
          -- the rest of a message past one read, up to the runtime's close
          local more = conn:read(65536)
          while more and more ~= "" do data, more = data .. more, conn:read(65536) end
          conn:close()
          kept[#kept + 1] = fd
        end
        helper.write(out_path, data)
        for _, answer in ipairs(answers) do
          assert(core.poll({ fd }, 10000)[1], "no notification")
          local req = assert(core.seccomp_notify_receive(fd))
          assert(core.seccomp_notify_respond(fd, req.id, answer))
        end
        for _, k in ipairs(kept) do k:close() end
      end)
      core._exit(ok and 0 or 1)
    end

    -- An agent listening at sock (see agent): its pid, and a function for
    -- the test's finally that ends it (reaped, else killed) and removes sock.
    local function start_agent(sock, out_path, answers, skip)
      local listener = assert(core.unix_listen(sock))
      local pid = agent(listener, out_path, answers, skip)
      listener:close()
      return pid, function()
        if not H.reap(pid, 10) then core.kill(pid, "KILL"); core.wait(pid) end
        core.unlink(sock)
      end
    end

    local function notify_mkdir(s, path)
      s.linux.seccomp = allow_but { { names = { "mkdir", "mkdirat" }, action = "SCMP_ACT_NOTIFY" } }
      s.linux.seccomp.listenerPath = path
      s.linux.seccomp.listenerMetadata = "box of the spec"
    end

    it("hands the notify fd and the state to the agent at listenerPath (SCMP_ACT_NOTIFY)", function()
      local sock = H.tmp .. "/agent.sock"
      local out = H.tmp .. "/agent.json"
      local pid, stop_agent = start_agent(sock, out, { "EROFS", "continue" })
      finally(stop_agent)
      local dir = H.bundle(H.config(function(s)
        s.process.args = { "sh", "-c", "mkdir /tmp/n1 2>&1; mkdir /tmp/n2 && ls -d /tmp/n2" }
        notify_mkdir(s, sock)
      end))
      local r = H.oci("run --bundle " .. q(dir) .. " notify1")
      assert.same({ 0, "mkdir: can't create directory '/tmp/n1': Read-only file system\n/tmp/n2\n" },
        { r.code, r.out }, r.err)
      assert.is_true(H.reap(pid, 10))
      local msg = json.decode(helper.read(out))
      assert.same({ "seccompFd" }, msg.fds)
      assert.equal("box of the spec", msg.metadata)
      assert.same({ "notify1", "creating", dir }, { msg.state.id, msg.state.status, msg.state.bundle })
      assert.truthy(msg.pid > 1)
      assert.equal(msg.pid, msg.state.pid)
    end)

    it("hands a state past a pipe's buffer to the agent without a hang", function()
      local sock = H.tmp .. "/agent3.sock"
      local out = H.tmp .. "/agent3.json"
      local pid, stop_agent = start_agent(sock, out, { "continue" })
      finally(stop_agent)
      local dir = H.bundle(H.config(function(s)
        s.process.args = { "sh", "-c", "mkdir /tmp/n3 && echo made" }
        s.annotations = { big = string.rep("x", 300000) }
        notify_mkdir(s, sock)
      end))
      local r = helper.sh("timeout -k 5 30 " .. H.cmd("run --bundle " .. q(dir) .. " notify5"))
      H.oci("delete --force notify5")
      assert.same({ 0, "made\n" }, { r.code, r.out }, r.err)
      assert.is_true(H.reap(pid, 10))
    end)

    it("hands the agent the fd of a process exec starts too", function()
      local sock = H.tmp .. "/agent2.sock"
      local out = H.tmp .. "/agent2.json"
      local agent_pid, stop_agent = start_agent(sock, out, { "EROFS" }, 1)
      local pid
      finally(function()
        if pid then H.finish("notify4", pid) end
        stop_agent()
      end)
      pid = H.started("notify4", "sleep 30", function(s) notify_mkdir(s, sock) end)
      local r = H.oci("exec notify4 mkdir /tmp/e1")
      assert.same({ 1, "mkdir: can't create directory '/tmp/e1': Read-only file system\n" },
        { r.code, r.err })
      assert.is_true(H.reap(agent_pid, 10))
      local msg = json.decode(helper.read(out))
      assert.same({ "notify4", "running", pid }, { msg.state.id, msg.state.status, msg.state.pid })
      assert.truthy(msg.pid ~= pid and msg.pid > 1)
    end)

    it("hands the agent the fd as uid 65534 too, in a user namespace", function()
      local dir = H.tmp .. "/nobody-notify"
      assert(os.execute(string.format("mkdir -p %s && cp -a %s %s/rootfs && chown -R 65534:65534 %s",
        q(dir), q(H.ROOTFS), q(dir), q(dir))))
      local r = helper.unprivileged("cd " .. q(dir) .. ' && "$NSL" oci spec --rootless')
      assert.equal(0, r.code, r.err)
      local sock = dir .. "/agent.sock"
      local pid, stop_agent = start_agent(sock, H.tmp .. "/agent5.json", { "EROFS" })
      assert(core.chmod(sock, "0777"))
      finally(stop_agent)
      local spec = json.decode(helper.read(dir .. "/config.json"))
      spec.process.terminal = false
      spec.process.args = { "sh", "-c", "mkdir /tmp/r1 2>&1; echo done" }
      notify_mkdir(spec, sock)
      helper.write(dir .. "/config.json", json.encode(spec))
      assert(os.execute("chmod 0644 " .. q(dir .. "/config.json")))
      r = helper.unprivileged("cd " .. q(dir) .. ' && "$NSL" oci --root "$PWD/state" run c')
      assert.same({ 0, "mkdir: can't create directory '/tmp/r1': Read-only file system\ndone\n" },
        { r.code, r.out }, r.err)
      assert.is_true(H.reap(pid, 10))
    end)

    it("fails an exec that ends before its filter at once, whatever the state's size", function()
      local sock = H.tmp .. "/agent4.sock"
      local _, stop_agent = start_agent(sock, H.tmp .. "/agent4.json", {}, 1)
      local pid, dir
      finally(function()
        if pid then H.finish("notify6", pid) end
        stop_agent()
      end)
      pid, dir = H.started("notify6", "sleep 30", function(s)
        notify_mkdir(s, sock)
        s.annotations = { big = string.rep("x", 300000) }
      end)
      local r = helper.sh("timeout -k 5 30 " .. H.cmd("exec --cwd /nonexistent notify6 true"))
      assert.equal(255, r.code, r.err)
      assert.matches("chdir '/nonexistent'", r.err)
      -- nothing of the exec is left in the container's pid namespace, where
      -- a zombie nobody reaps would keep its init from ending on SIGKILL
      assert_deleted("notify6", pid, dir)
    end)

    it("fails with a clear error and leaves nothing when no agent listens at listenerPath", function()
      local dir = H.bundle(H.config(function(s)
        s.process.args = { "true" }
        notify_mkdir(s, H.tmp .. "/nobody.sock")
      end))
      local r = H.oci("run --bundle " .. q(dir) .. " notify2")
      assert.equal(1, r.code)
      assert.matches("seccomp listenerPath: connect '.*/nobody%.sock': No such file", r.err)
      assert.is_nil(H.state("notify2"))
      assert.is_false(cgroup.open(H.cgroup_of[dir]):exists())
    end)

    it("refuses SCMP_ACT_NOTIFY without a listenerPath", function()
      local dir = H.bundle(H.config(function(s)
        notify_mkdir(s, nil)
      end))
      local r = H.oci("run --bundle " .. q(dir) .. " notify3")
      assert.equal(1, r.code)
      assert.matches("SCMP_ACT_NOTIFY needs linux%.seccomp%.listenerPath", r.err)
      assert.is_nil(H.state("notify3"))
    end)
  end)

  describe("hooks", function()
    it("give each hook the state of its phase, as the runtime spec's validation wants it", function()
      local out = H.tmp .. "/phases"
      assert(core.mkdir(out))
      local function hook(kind, dir)
        return { { path = "/bin/sh", args = { "sh", "-c", "cat > " .. dir .. "/" .. kind } } }
      end
      local dir = H.bundle(H.config(function(s)
        s.process.args = { "true" }
        s.hooks = {}
        for _, kind in ipairs { "prestart", "createRuntime", "createContainer", "poststart",
          "poststop" } do
          s.hooks[kind] = hook(kind, out)
        end
        -- run in the container, after the pivot: its own /tmp
        s.hooks.startContainer = hook("startContainer", "/tmp")
      end))
      local r = H.oci("run --bundle " .. q(dir) .. " phase1")
      assert.equal(0, r.code, r.err)
      local function status(path)
        local st = json.decode(assert(helper.read(path)))
        return string.format("%s %s %d", st.status, st.id, st.pid or -1)
      end
      local pid = json.decode(helper.read(out .. "/prestart")).pid
      assert.truthy(pid > 1)
      local function with(word) return string.format("%s phase1 %d", word, pid) end
      assert.same({ with "created", with "created", with "created", with "created", with "running",
        "stopped phase1 0" },
        { status(out .. "/prestart"), status(out .. "/createRuntime"),
          status(out .. "/createContainer"), status(H.ROOTFS .. "/tmp/startContainer"),
          status(out .. "/poststart"), status(out .. "/poststop") })
    end)

    it("give a hook exactly the environment of its env, nothing of nsl's", function()
      local dir = H.bundle(H.config(function(s)
        s.process.args = { "true" }
        s.hooks = { prestart = { { path = "/usr/bin/env", args = { "env" },
          env = { "A=1", "B=two words" } } } }
      end))
      local r = helper.sh("FROM_NSL=leak " .. H.cmd("run --bundle " .. q(dir) .. " env1"))
      assert.same({ 0, "A=1\nB=two words\n" }, { r.code, r.out }, r.err)
    end)

    it("survive a hook that ends without reading the state (no SIGPIPE)", function()
      local dir = H.bundle(H.config(function(s)
        s.process.args = { "echo", "ran" }
        -- a state past a pipe's buffer: the write meets the closed end
        s.annotations = { big = string.rep("x", 300000) }
        s.hooks = { prestart = { { path = "/bin/true" } }, poststart = { { path = "/bin/true" } },
          poststop = { { path = "/bin/true" } } }
      end))
      local r = H.oci("run --bundle " .. q(dir) .. " pipe1")
      assert.same({ 0, "ran\n" }, { r.code, r.out }, r.err)
    end)
  end)

  describe("process", function()
    it("makes the working directory when the root lacks it, as runc and crun do", function()
      local dir = H.bundle(H.config(function(s)
        s.process.cwd = "/srv/new/work"
        s.process.args = { "sh", "-c", "pwd; ls -ld . | cut -c1-10" }
      end))
      finally(function() helper.rmtree(H.ROOTFS .. "/srv/new") end)
      local r = H.oci("run --bundle " .. q(dir) .. " cwd1")
      assert.same({ 0, "/srv/new/work\ndrwxr-xr-x\n" }, { r.code, r.out }, r.err)
    end)

    it("makes a missing working directory inside the root, also under a symlink to /", function()
      local name = "nsl-spec-cwd-" .. H.tmp:match("[^.]+$")
      assert(core.symlink("/", H.ROOTFS .. "/escape"))
      finally(function()
        core.unlink(H.ROOTFS .. "/escape")
        core.rmdir(H.ROOTFS .. "/" .. name)
      end)
      local dir = H.bundle(H.config(function(s)
        s.process.cwd = "/escape/" .. name
        s.process.args = { "pwd" }
      end))
      local r = H.oci("run --bundle " .. q(dir) .. " cwd2")
      assert.same({ 0, "/" .. name .. "\n" }, { r.code, r.out }, r.err)
      assert.is_nil(core.stat("/" .. name)) -- the host's / is untouched
      assert.truthy(core.stat(H.ROOTFS .. "/" .. name))
    end)

    it("passes socket activation's fds with LISTEN_FDS and LISTEN_PID as the command sees it", function()
      local dir = H.bundle(H.config(function(s)
        s.process.args = { "sh", "-c", "echo $LISTEN_FDS $LISTEN_PID $$; ls /proc/self/fd" }
      end))
      -- as systemd starts a service: LISTEN_PID is the runtime's own pid
      local r = helper.sh("exec 3</dev/null 4</dev/null; export LISTEN_FDS=2; " ..
        "exec env LISTEN_PID=$$ " .. H.cmd("run --bundle " .. q(dir) .. " listen1"))
      assert.same({ 0, "2 1 1\n0\n1\n2\n3\n4\n5\n" }, { r.code, r.out }, r.err)
      -- fds meant for another process are not the runtime's to pass
      r = helper.sh("exec 3</dev/null 4</dev/null; LISTEN_FDS=2 LISTEN_PID=1 " ..
        H.cmd("run --bundle " .. q(dir) .. " listen2"))
      assert.same({ 0, "1\n0\n1\n2\n3\n" }, { r.code, r.out }, r.err)
    end)
  end)

  describe("capabilities", function()
    -- A bundle whose process has caps (CAP_ names) in all five sets and
    -- prints its own sets.
    local function all_sets(caps)
      return H.bundle(H.config(function(s)
        s.process.capabilities = { bounding = caps, effective = caps, permitted = caps,
          inheritable = caps, ambient = caps }
        s.process.args = { "grep", "^Cap", "/proc/self/status" }
      end))
    end

    it("gives every capability nsl holds in all five sets (a privileged container)", function()
      -- the ones in this process's bounding set: a host may withhold some
      local held, mask = {}, 0
      for i, name in ipairs(core.cap_names()) do
        if core.cap_bound(name) then
          held[#held + 1] = name:upper()
          mask = mask | (1 << (i - 1))
        end
      end
      local r = H.oci("run --bundle " .. q(all_sets(held)) .. " caps-all")
      assert.equal(0, r.code, r.err)
      for _, set in ipairs { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" } do
        assert.matches(set .. ":%s+" .. string.format("%016x", mask) .. "\n", r.out)
      end
    end)

    it("names the capability nsl itself does not hold when it cannot give it", function()
      local dir = all_sets { "CAP_CHOWN", "CAP_SYS_NICE" }
      local r = helper.sh("setpriv --bounding-set -sys_nice " .. H.cmd("run --bundle " ..
        q(dir) .. " caps-unheld"))
      assert.equal(1, r.code)
      assert.matches("nsl itself does not hold cap_sys_nice (its bounding set lacks them)", r.err,
        1, true)
      assert.is_nil(H.state("caps-unheld"))
    end)

    it("skips a name that is no capability with a warning naming it and its set, as runc and crun",
      function()
      local dir = H.bundle(H.config(function(s)
        table.insert(s.process.capabilities.bounding, 1, "CAP_TEST")
        s.process.capabilities.ambient = { "NOPE" }
        s.process.args = { "grep", "^CapBnd", "/proc/self/status" }
      end))
      local r = H.oci("run --bundle " .. q(dir) .. " caps-test")
      assert.equal(0, r.code, r.err)
      assert.matches("unknown capability 'CAP_TEST' in process.capabilities.bounding skipped",
        r.err, 1, true)
      assert.matches("unknown capability 'NOPE' in process.capabilities.ambient skipped", r.err, 1,
        true)
      -- the rest of the set is kept: runc's default kill, net_bind_service, audit_write
      assert.matches("CapBnd:%s+0000000020000420\n", r.out)
    end)
  end)

  describe("exec", function()
    -- NoNewPrivs of `exec ID grep` with the options, in a container with nnp
    local function exec_nnp(id, options)
      local r = H.oci("exec " .. options .. " " .. id .. " grep NoNewPrivs /proc/self/status")
      assert.equal(0, r.code, r.err)
      return (r.out:match("NoNewPrivs:%s*(%d)"))
    end

    it("gives the process the container's noNewPrivileges unless --no-new-privs says", function()
      local pid1 = H.started("nnp1", "sleep 30", function(s) s.process.noNewPrivileges = false end)
      local pid2 = H.started("nnp2", "sleep 30", function(s) s.process.noNewPrivileges = true end)
      finally(function()
        H.finish("nnp1", pid1)
        H.finish("nnp2", pid2)
      end)
      local file = H.tmp .. "/process.json"
      helper.write(file, json.encode { args = { "grep", "NoNewPrivs", "/proc/self/status" },
        cwd = "/", env = { "PATH=/bin:/usr/bin" }, user = { uid = 0, gid = 0 } })
      assert.same({ "0", "1", "1", "0", "0", "1" }, {
        exec_nnp("nnp1", ""), exec_nnp("nnp1", "--no-new-privs"),
        exec_nnp("nnp2", ""), exec_nnp("nnp2", "--no-new-privs=false"),
        exec_nnp("nnp2", "--process " .. q(file)), exec_nnp("nnp1", "--no-new-privs=true") })
    end)

    it("leaves no process behind when it fails, detached or not", function()
      local pid, dir = H.started("fail1", "sleep 30")
      finally(function() H.finish("fail1", pid) end)
      local got = {}
      for _, args in ipairs { "--cwd /nonexistent fail1 true", "fail1 /no/such/command",
        "--detach --cwd /nonexistent fail1 true", "--detach fail1 /no/such/command" } do
        local r = helper.sh("timeout -k 5 30 " .. H.cmd("exec " .. args))
        got[#got + 1] = r.code
      end
      assert.same({ 255, 255, 255, 255 }, got) -- runc's status for an exec that did not start
      assert_deleted("fail1", pid, dir)
    end)
  end)

  describe("events", function()
    it("prints one stats object with --stats", function()
      local pid = H.started("ev1", "sleep 30")
      finally(function() H.finish("ev1", pid) end)
      local r = H.oci("events --stats ev1")
      assert.equal(0, r.code, r.err)
      local e = json.decode(r.out)
      assert.same({ "stats", "ev1" }, { e.type, e.id })
      assert.truthy(e.data.pids.current >= 1)
      assert.truthy(e.data.memory.usage.usage > 0)
      assert.truthy(e.data.cpu.usage.total > 0)
    end)

    it("streams stats every --interval until the container is gone", function()
      local pid = H.started("ev2", "sleep 1")
      finally(function() H.finish("ev2", pid) end)
      local r = H.oci("events --interval 100ms ev2")
      assert.equal(0, r.code, r.err)
      local n = 0
      for line in r.out:gmatch("[^\n]+") do
        local e = json.decode(line)
        assert.same({ "stats", "ev2" }, { e.type, e.id })
        assert.truthy(e.data.pids.current >= 1)
        n = n + 1
      end
      assert.truthy(n >= 2, r.out)
    end)

    it("fails for a container that does not exist", function()
      local r = H.oci("events --stats nosuch")
      assert.equal(1, r.code)
      assert.matches("nosuch", r.err)
      r = H.oci("events --interval 0 nosuch")
      assert.equal(1, r.code)
    end)
  end)
end)
