local helper = require "helper"
local core = require "nsl.core"

local E = core.errno

-- Run fn in a forked child that never returns into busted: it _exits with 0
-- when fn returns and 99 when it raises. Returns the child's pid.
local function spawn(fn, namespaces, opts)
  local pid, pidfd = assert(core.clone(namespaces or {}, opts))
  if pid == 0 then
    core._exit(pcall(fn) and 0 or 99)
  end
  return pid, pidfd
end

-- A child that waits until its pipe is closed (or it is killed); returns its
-- pid and the write end that releases it.
local function sleeper(opts)
  local r, w = assert(core.pipe())
  local pid, pidfd = spawn(function()
    w:close()
    r:read(1)
  end, {}, opts)
  r:close()
  return pid, w, pidfd
end

-- The pid of a child that has exited and been reaped.
local function reaped_pid()
  local pid = spawn(function() end)
  assert(core.wait(pid))
  return pid
end

-- Fields of /proc/PID/stat after the command: [1] state, [2] ppid,
-- [3] pgrp, [4] session; and the pid at the front.
local function stat(path)
  local s = assert(helper.read(path))
  local fields = {}
  for w in s:match("%) (.*)$"):gmatch("%S+") do
    fields[#fields + 1] = tonumber(w) or w
  end
  return tonumber(s:match("^(%d+)")), fields
end

local function unprivileged(code)
  local res = helper.unprivileged_lua("local nsl = require 'nsl'\n" .. code)
  assert.equal(0, res.code, res.err)
  return res.out
end

describe("nsl.clone", function()
  it("returns the child's pid in the parent and 0 in the child", function()
    local pid = assert(core.clone())
    if pid == 0 then core._exit(7) end
    assert.same({ pid, "exited", 7 }, { core.wait(pid) })
  end)

  it("makes the child pid 1 of a new pid namespace", function()
    helper.child(function()
      assert.equal(1, core.getpid())
      assert.equal(0, core.getppid()) -- the parent is outside
    end, { "pid" })
  end)

  it("returns a pidfd in the parent with opts.pidfd", function()
    local pid, w, pidfd = sleeper({ pidfd = true })
    assert.matches("^fd %d+$", tostring(pidfd))
    assert.is_true(core.pidfd_send_signal(pidfd, "KILL"))
    w:close()
    pidfd:close()
    assert.same({ pid, "killed", 9 }, { core.wait(pid) })
  end)

  it("makes user, mnt, pid and uts namespaces as an ordinary user", function()
    local out = unprivileged([[
      local pid = assert(nsl.clone({"user", "mnt", "pid", "uts"}))
      if pid == 0 then
        io.write(nsl.getpid(), " ", tostring(nsl.sethostname("inside")), " ",
                 nsl.gethostname(), "\n")
        io.stdout:flush()
        nsl._exit(0)
      end
      local got, how, code = nsl.wait(pid)
      print(got == pid, how, code)
    ]])
    assert.equal("1 true inside\ntrue\texited\t0\n", out)
  end)

  it("returns nil, message and errno for a mount namespace without privilege",
    function()
      local out = unprivileged([[
        local r = { nsl.clone({"mnt"}) }
        if r[1] == 0 then nsl._exit(0) end
        print(r[1], r[2], r[3])
      ]])
      assert.equal("nil\tclone 'mnt': Operation not permitted\t" .. E.EPERM ..
        "\n", out)
    end)

  it("raises for an unknown namespace word or option", function()
    assert.has_error(function() core.clone({ "bogus" }) end,
      "bad argument #1 to 'clone' (unknown namespace 'bogus')")
    assert.has_error(function() core.clone({}, { pidfds = true }) end,
      "bad argument #2 to 'clone' (unknown option 'pidfds')")
    assert.has_error(function() core.clone({}, "pidfd") end)
  end)
end)

describe("nsl.wait", function()
  it("reports a child that exited or was killed", function()
    local pid = spawn(function() end)
    assert.same({ pid, "exited", 0 }, { core.wait(pid) })
    local pid2, w = sleeper()
    assert.same({ 0 }, { core.wait(pid2, "nohang") })
    assert.is_true(core.kill(pid2, "KILL"))
    w:close()
    assert.same({ pid2, "killed", 9 }, { core.wait(pid2) })
  end)

  it("returns nil, message and errno when there are no children", function()
    helper.child(function()
      assert.same({ nil, "wait -1: No child processes", E.ECHILD },
        { core.wait() })
    end)
  end)

  it("raises for an unknown option", function()
    assert.has_error(function() core.wait(-1, "sometimes") end,
      "bad argument #2 to 'wait' (unknown wait option 'sometimes')")
  end)

  it("raises for a pid out of int range rather than waiting for a truncated one", function()
    -- 2^32 - 1 was waitpid(-1): any child; math.mininteger was waitpid(0)
    local pid, w = sleeper()
    finally(function() w:close(); core.wait(pid) end)
    for _, bad in ipairs { 0xffffffff, (1 << 32) + pid, -(1 << 31), math.maxinteger,
      math.mininteger } do
      assert.has_error(function() core.wait(bad, "nohang") end,
        string.format("bad argument #1 to 'wait' (pid %d out of range " ..
          "-2147483647..2147483647)", bad))
    end
  end)
end)

describe("nsl._exit", function()
  it("ends the process with the code", function()
    local pid = assert(core.clone())
    if pid == 0 then core._exit(42) end
    assert.same({ pid, "exited", 42 }, { core.wait(pid) })
  end)
end)

describe("nsl.exec", function()
  it("replaces the process: argv[1] is argv[0]", function()
    local pid = spawn(function()
      core.exec("/bin/sh", { "sh", "-c", 'exit "$0"', "3" })
      core._exit(127)
    end)
    assert.same({ pid, "exited", 3 }, { core.wait(pid) })
  end)

  it("passes an environment of K=V items and map entries", function()
    local pid = spawn(function()
      core.exec("/bin/sh", { "sh", "-c", "exit $((A + B))" },
        { "A=2", B = "3" })
      core._exit(127)
    end)
    assert.same({ pid, "exited", 5 }, { core.wait(pid) })
  end)

  it("keeps this environment without env", function()
    local path = assert(os.getenv("PATH"))
    local pid = spawn(function()
      core.exec("/bin/sh", { "sh", "-c", '[ "$PATH" = "$1" ]', "sh", path })
      core._exit(127)
    end)
    assert.same({ pid, "exited", 0 }, { core.wait(pid) })
  end)

  it("runs a program that can be killed", function()
    local pid = spawn(function()
      core.exec("/bin/sh", { "sh", "-c", 'kill -KILL "$$"' })
      core._exit(127)
    end)
    assert.same({ pid, "killed", 9 }, { core.wait(pid) })
  end)

  it("returns nil, message and errno for a missing program", function()
    helper.child(function()
      assert.same({ nil, "exec '/nonexistent/nsl': No such file or directory",
        E.ENOENT }, { core.exec("/nonexistent/nsl", { "nsl" }) })
    end)
  end)

  it("raises for a bad argv or env", function()
    helper.child(function()
      assert.has_error(function() core.exec("/bin/sh", "sh") end)
      assert.has_error(function() core.exec("/bin/sh", { "sh", {} }) end,
        "bad argument #2 to 'exec' (item 2 is table, not a string)")
      assert.has_error(function() core.exec("/bin/sh", { "sh" }, { A = {} }) end,
        "bad argument #3 to 'exec' (value of 'A' is table, not a string)")
    end)
  end)
end)

describe("nsl.spawn", function()
  it("starts a program with argv and env, and returns its pid", function()
    local pid = assert(core.spawn("/bin/sh", { "sh", "-c", "exit $((A + $0))", "4" },
      { A = "3" }))
    assert.same({ pid, "exited", 7 }, { core.wait(pid) })
  end)

  it("sets the signal mask of the new process, and a session with setsid", function()
    assert(core.sigprocmask("block", { "USR1" }))
    local ok, pid = pcall(core.spawn, "/bin/sleep", { "sleep", "30" }, nil,
      { sigmask = { "TERM" }, setsid = true })
    assert(core.sigprocmask("unblock", { "USR1" }))
    assert.is_true(ok, pid)
    local status = helper.read("/proc/" .. pid .. "/status")
    local _, fields = stat("/proc/" .. pid .. "/stat")
    core.kill(pid, "KILL")
    assert.same({ pid, "killed", 9 }, { core.wait(pid) })
    -- only TERM (15: bit 14) blocked, not this process's USR1
    assert.matches("\nSigBlk:%s+0*4000\n", status)
    assert.equal(pid, fields[4]) -- the leader of its own session
  end)

  it("returns nil, message and errno for a program it cannot execute", function()
    assert.same({ nil, "spawn '/nonexistent/nsl': No such file or directory", E.ENOENT },
      { core.spawn("/nonexistent/nsl", { "nsl" }) })
    assert.same({ nil, "spawn '/etc/passwd': Permission denied", E.EACCES },
      { core.spawn("/etc/passwd", { "passwd" }) })
  end)

  it("raises for an unknown option", function()
    assert.has_error(function() core.spawn("/bin/true", { "true" }, nil, { pgroup = 0 }) end,
      "bad argument #4 to 'spawn' (unknown option 'pgroup')")
    assert.has_error(function() core.spawn("/bin/true", { "true" }, nil, { setsid = true, [1] = 0 }) end,
      "bad argument #4 to 'spawn' (unknown option '1')")
  end)

  it("raises for an argv whose __len is negative or huge", function()
    -- (size_t) of the length wrapped: a tiny array the strings went past
    for _, n in ipairs { -1, math.mininteger, 1 << 61, math.maxinteger } do
      local argv = setmetatable({}, { __len = function() return n end })
      assert.has_error(function() core.spawn("/bin/true", argv) end,
        string.format("bad argument #2 to 'spawn' (length %d out of range 0..1048576)", n))
    end
  end)
end)

describe("nsl.execp", function()
  it("searches PATH", function()
    local pid = spawn(function()
      core.execp("sh", { "sh", "-c", "exit 4" })
      core._exit(127)
    end)
    assert.same({ pid, "exited", 4 }, { core.wait(pid) })
  end)

  it("returns nil, message and errno for a missing program", function()
    helper.child(function()
      assert.same({ nil, "execp 'nsl-no-such-program': No such file or " ..
        "directory", E.ENOENT }, { core.execp("nsl-no-such-program", { "x" }) })
    end)
  end)
end)

describe("nsl.kill", function()
  it("sends a signal by name, SIG name or number", function()
    local cases = { { "TERM", 15 }, { "SIGUSR1", 10 }, { "usr2", 12 },
      { 1, 1 } }
    for _, case in ipairs(cases) do
      local pid, w = sleeper()
      assert.is_true(core.kill(pid, 0))
      assert.is_true(core.kill(pid, case[1]))
      w:close()
      assert.same({ pid, "killed", case[2] }, { core.wait(pid) })
    end
  end)

  it("returns nil, message and errno for a reaped child", function()
    local pid = reaped_pid()
    assert.same({ nil, "kill " .. pid .. " 'TERM': No such process", E.ESRCH },
      { core.kill(pid, "TERM") })
  end)

  it("raises for a pid that is not one process, before any signal is sent", function()
    -- 0 and negatives are groups or every process to kill(2), and 2^32 - 1
    -- was truncated to -1: refused whatever the signal (0 here, in case one
    -- got through)
    local pid, w = sleeper()
    finally(function() w:close(); core.wait(pid) end)
    for _, bad in ipairs { 0, -1, -pid, 0xffffffff, (1 << 32) + pid, math.maxinteger,
      math.mininteger } do
      assert.has_error(function() core.kill(bad, 0) end,
        string.format("bad argument #1 to 'kill' (pid %d out of range 1..2147483647)", bad))
    end
    assert.has_error(function() core.kill("x", 0) end,
      "bad argument #1 to 'kill' (number expected, got string)")
  end)

  it("raises for an unknown signal", function()
    assert.has_error(function() core.kill(1, "FOO") end,
      "bad argument #2 to 'kill' (unknown signal 'FOO')")
    assert.has_error(function() core.kill(1, 65) end,
      "bad argument #2 to 'kill' (signal 65 out of range)")
    assert.has_error(function() core.kill(1, true) end,
      "bad argument #2 to 'kill' (signal is boolean, not a name or number)")
  end)
end)

describe("nsl.signals", function()
  it("maps names to numbers and back", function()
    assert.equal(15, core.signals.TERM)
    assert.equal("TERM", core.signals[15])
    assert.equal(9, core.signals.KILL)
    assert.equal("CHLD", core.signals[17])
    for k, v in pairs(core.signals) do
      if type(k) == "string" then assert.equal(k, core.signals[v]) end
    end
  end)
end)

describe("nsl.getpid", function()
  it("gives the ids /proc shows", function()
    local pid, f = stat("/proc/self/stat")
    assert.equal(pid, core.getpid())
    assert.equal(f[2], core.getppid())
    assert.equal(f[3], core.getpgrp())
    assert.equal(f[3], core.getpgid())
    assert.equal(f[3], core.getpgid(0))
    assert.equal(f[3], core.getpgid(pid))
    local tid = stat("/proc/thread-self/stat")
    assert.equal(tid, core.gettid())
  end)

  it("returns nil, message and errno for getpgid of a reaped child", function()
    local pid = reaped_pid()
    assert.same({ nil, "getpgid " .. pid .. ": No such process", E.ESRCH },
      { core.getpgid(pid) })
  end)

  it("raises for getpgid of a pid out of range", function()
    for _, bad in ipairs { -1, (1 << 32) + core.getpid(), math.mininteger } do
      assert.has_error(function() core.getpgid(bad) end,
        string.format("bad argument #1 to 'getpgid' (pid %d out of range 0..2147483647)", bad))
    end
  end)
end)

describe("nsl.setsid", function()
  it("starts a session, once", function()
    helper.child(function()
      local me = core.getpid()
      assert.equal(me, core.setsid())
      local _, f = stat("/proc/self/stat")
      assert.same({ me, me }, { f[3], f[4] })
      assert.same({ nil, "setsid: Operation not permitted", E.EPERM },
        { core.setsid() })
    end)
  end)
end)

describe("nsl.setpgid", function()
  it("moves a process into its own group", function()
    helper.child(function()
      local me = core.getpid()
      assert.is_true(core.setpgid(0, 0))
      assert.equal(me, core.getpgrp())
      local pid, w = sleeper()
      assert.is_true(core.setpgid(pid, pid))
      assert.equal(pid, core.getpgid(pid))
      w:close()
      assert.same({ pid, "exited", 0 }, { core.wait(pid) })
    end)
  end)

  it("returns nil, message and errno for a reaped child", function()
    helper.child(function()
      local pid = reaped_pid()
      assert.same({ nil, "setpgid " .. pid .. " 0: No such process",
        E.ESRCH }, { core.setpgid(pid, 0) })
    end)
  end)

  it("raises for a pid or group out of range", function()
    -- 2^32 was setpgid(0, 0): in a child, in case it gets through
    helper.child(function()
      local me = core.getpgrp()
      for _, bad in ipairs { -1, 1 << 32, math.mininteger } do
        assert.has_error(function() core.setpgid(bad, 0) end,
          string.format("bad argument #1 to 'setpgid' (pid %d out of range 0..2147483647)", bad))
        assert.has_error(function() core.setpgid(0, bad) end,
          string.format("bad argument #2 to 'setpgid' (pid %d out of range 0..2147483647)", bad))
      end
      assert.equal(me, core.getpgrp())
    end)
  end)
end)

describe("nsl.tcgetpgrp", function()
  it("hands the terminal's foreground to another group and back", function()
    -- script(1) gives nsl a terminal on fd 0 with its group in the foreground
    local code = [[
      local nsl = require "nsl"
      local me = nsl.getpgrp()
      local before = nsl.tcgetpgrp(0)
      local r, w = assert(nsl.pipe())
      local pid = assert(nsl.clone())
      if pid == 0 then
        w:close(); nsl.setpgid(0, 0); r:read(1); nsl._exit(0)
      end
      r:close()
      assert(nsl.setpgid(pid, pid))
      assert(nsl.tcsetpgrp(0, pid))
      local during = nsl.tcgetpgrp(0)
      assert(nsl.sigprocmask("block", "TTOU")) -- now in the background
      assert(nsl.tcsetpgrp(0, me))
      w:close()
      local _, how, status = nsl.wait(pid)
      print(me == before, during == pid, nsl.tcgetpgrp(0) == me, how, status)
    ]]
    local res = helper.sh("script -qec " .. helper.quote(helper.nsl .. " -e " ..
      helper.quote(code)) .. " /dev/null")
    assert.equal(0, res.code, res.out .. res.err)
    assert.equal("true\ttrue\ttrue\texited\t0", res.out:gsub("\r", ""):match(
      "[^\n]*"))
  end)

  it("returns nil, message and errno for a pipe", function()
    local r, w = assert(core.pipe())
    local fd = r:fileno()
    assert.same({ nil, "tcgetpgrp " .. fd .. ": Inappropriate ioctl for device",
      E.ENOTTY }, { core.tcgetpgrp(r) })
    assert.same({ nil, "tcsetpgrp " .. fd .. " 1: Inappropriate ioctl for " ..
      "device", E.ENOTTY }, { core.tcsetpgrp(r, 1) })
    r:close()
    w:close()
  end)

  it("tcsetpgrp raises for a group out of range", function()
    local r, w = assert(core.pipe())
    for _, bad in ipairs { 0, -1, (1 << 32) + 1, math.mininteger } do
      assert.has_error(function() core.tcsetpgrp(r, bad) end,
        string.format("bad argument #2 to 'tcsetpgrp' (pid %d out of range 1..2147483647)", bad))
    end
    r:close()
    w:close()
  end)
end)

describe("nsl.sethostname", function()
  it("names this uts namespace", function()
    helper.child(function()
      assert.is_true(core.sethostname("nsl-proc-spec"))
      assert.equal("nsl-proc-spec", core.gethostname())
      assert.equal("nsl-proc-spec\n", helper.read("/proc/sys/kernel/hostname"))
      assert.is_true(core.setdomainname("nsl.example"))
      assert.equal("nsl.example\n", helper.read("/proc/sys/kernel/domainname"))
    end, { "uts" })
    assert.not_equal("nsl-proc-spec", core.gethostname())
    assert.equal(helper.read("/proc/sys/kernel/hostname"),
      core.gethostname() .. "\n")
  end)

  it("returns nil, message and errno for a name too long", function()
    helper.child(function()
      local long = string.rep("x", 65)
      assert.same({ nil, "sethostname '" .. long .. "': Invalid argument",
        E.EINVAL }, { core.sethostname(long) })
      assert.same({ nil, "setdomainname '" .. long .. "': Invalid argument",
        E.EINVAL }, { core.setdomainname(long) })
    end, { "uts" })
  end)

  it("returns nil, message and errno without privilege", function()
    local out = unprivileged([[
      print(nsl.sethostname("x"))
      print(nsl.setdomainname("y"))
    ]])
    assert.equal(("nil\tsethostname 'x': Operation not permitted\t%d\n" ..
      "nil\tsetdomainname 'y': Operation not permitted\t%d\n"):format(E.EPERM,
      E.EPERM), out)
  end)

  it("raises for a non-string name", function()
    assert.has_error(function() core.sethostname({}) end)
  end)
end)

describe("nsl.unshare", function()
  it("moves this process into new namespaces", function()
    helper.child(function()
      assert.is_true(core.unshare("uts"))
      assert.is_true(core.sethostname("nsl-unshared"))
      assert.equal("nsl-unshared", core.gethostname())
      assert.is_true(core.unshare({ "files", "fs", "sysvsem" }))
    end)
    assert.not_equal("nsl-unshared", core.gethostname())
  end)

  it("returns nil, message and errno without privilege", function()
    local out = unprivileged([[print(nsl.unshare({"uts"}))]])
    assert.equal("nil\tunshare 'uts': Operation not permitted\t" .. E.EPERM ..
      "\n", out)
  end)

  it("raises for an unknown namespace word", function()
    helper.child(function()
      assert.has_error(function() core.unshare({ "uts", "bogus" }) end,
        "bad argument #1 to 'unshare' (unknown namespace 'bogus')")
    end)
  end)
end)

describe("nsl.setns", function()
  -- A child in a new uts namespace named `name`, waiting until w closes.
  local function named_uts(name, opts)
    local r, w = assert(core.pipe())
    local ready_r, ready_w = assert(core.pipe())
    local pid, pidfd = spawn(function()
      w:close()
      ready_r:close()
      assert(core.sethostname(name))
      ready_w:close()
      r:read(1)
    end, { "uts" }, opts)
    r:close()
    ready_w:close()
    assert.equal("", ready_r:read(1)) -- its hostname is set
    ready_r:close()
    return pid, w, pidfd
  end

  it("joins a namespace by path", function()
    helper.child(function()
      local pid, w = named_uts("nsl-setns-a")
      assert.is_true(core.setns("/proc/" .. pid .. "/ns/uts", "uts"))
      assert.equal("nsl-setns-a", core.gethostname())
      w:close()
      assert.same({ pid, "exited", 0 }, { core.wait(pid) })
    end)
  end)

  it("joins a namespace by fd and by pidfd", function()
    helper.child(function()
      local pid, w, pidfd = named_uts("nsl-setns-b", { pidfd = true })
      assert.is_true(core.setns(pidfd:fileno(), { "uts" }))
      assert.equal("nsl-setns-b", core.gethostname())
      w:close()
      pidfd:close()
      assert.same({ pid, "exited", 0 }, { core.wait(pid) })
    end)
  end)

  it("returns nil, message and errno for a wrong type or a missing path",
    function()
      helper.child(function()
        assert.same({ nil, "setns '/proc/self/ns/uts' 'mnt': Invalid argument",
          E.EINVAL }, { core.setns("/proc/self/ns/uts", "mnt") })
        local pid = reaped_pid()
        local path = "/proc/" .. pid .. "/ns/uts"
        assert.same({ nil, "setns '" .. path .. "': No such file or directory",
          E.ENOENT }, { core.setns(path) })
        local r, w = assert(core.pipe())
        local fd = r:fileno()
        assert.same({ nil, "setns " .. fd .. ": Invalid argument", E.EINVAL },
          { core.setns(r) })
        r:close()
        w:close()
      end)
    end)

  it("raises for an unknown namespace word", function()
    helper.child(function()
      assert.has_error(function() core.setns("/proc/self/ns/uts", "bogus") end,
        "bad argument #2 to 'setns' (unknown namespace 'bogus')")
      assert.has_error(function() core.setns(true) end)
    end)
  end)
end)

describe("nsl.sigprocmask", function()
  local function blocked()
    return helper.read("/proc/self/status"):match("SigBlk:%s*(%x+)")
  end

  it("blocks, unblocks and sets the mask, returning the old one", function()
    helper.child(function()
      assert.is_true(core.sigprocmask("setmask", {}))
      assert.same({ true, {} },
        { core.sigprocmask("block", { "USR1", "SIGUSR2", 15 }) })
      assert.equal("0000000000004a00", blocked()) -- bits 10, 12, 15
      assert.same({ true, { "USR1", "USR2", "TERM" } },
        { core.sigprocmask("unblock", "USR2") })
      assert.same({ true, { "USR1", "TERM" } },
        { core.sigprocmask("setmask", {}) })
      assert.equal("0000000000000000", blocked())
      assert.is_true(core.sigprocmask("block", "all"))
      local _, old = core.sigprocmask("setmask", {})
      assert.equal("HUP", old[1])
      assert.is_truthy(#old > 30)
    end)
  end)

  it("raises for a bad how or signal", function()
    helper.child(function()
      assert.has_error(function() core.sigprocmask("sideways", {}) end,
        "bad argument #1 to 'sigprocmask' (invalid option 'sideways')")
      assert.has_error(function() core.sigprocmask("block", { "FOO" }) end,
        "bad argument #2 to 'sigprocmask' (unknown signal 'FOO')")
      assert.has_error(function() core.sigprocmask("block", { 0 }) end,
        "bad argument #2 to 'sigprocmask' (signal 0 out of range)")
    end)
  end)
end)

describe("nsl.signalfd", function()
  it("reads CHLD from an exited child", function()
    helper.child(function()
      assert(core.sigprocmask("block", { "CHLD" }))
      local fd = assert(core.signalfd({ "CHLD" }))
      local pid = spawn(function() end)
      assert.same({ "CHLD", pid }, { core.read_signal(fd) })
      assert.same({ pid, "exited", 0 }, { core.wait(pid) })
      fd:close()
    end)
  end)

  it("reads a signal sent to this process, with the sender's pid", function()
    helper.child(function()
      assert(core.sigprocmask("block", "USR1"))
      local fd = assert(core.signalfd("USR1", "nonblock"))
      assert.is_true(core.kill(core.getpid(), "USR1"))
      assert.same({ "USR1", core.getpid() }, { core.read_signal(fd) })
      assert.same({ nil, "read_signal " .. fd:fileno() .. ": Resource " ..
        "temporarily unavailable", E.EAGAIN }, { core.read_signal(fd) })
      fd:close()
    end)
  end)

  it("returns nil, message and errno for an fd that is not a signalfd",
    function()
      local r, w = assert(core.pipe())
      w:close()
      assert.same({ nil, "read_signal " .. r:fileno() .. ": Invalid argument",
        E.EINVAL }, { core.read_signal(r) })
      r:close()
    end)

  it("returns nil, message and errno when out of fds", function()
    -- fds 0 1 2 and the file take all 4 the limit allows
    local code = "local f = io.open('/dev/null') " ..
      "print(require('nsl').signalfd('CHLD'))"
    local res = helper.sh("ulimit -n 4; exec " .. helper.quote(helper.nsl) ..
      " -e " .. helper.quote(code))
    assert.equal(0, res.code, res.err)
    -- the message is the C library's words for EMFILE (glibc's, musl's)
    assert.matches("^nil\tsignalfd: [^\t]+\t" .. E.EMFILE .. "\n$", res.out)
  end)

  it("raises for an unknown signal or flag", function()
    assert.has_error(function() core.signalfd({ "NOPE" }) end,
      "bad argument #1 to 'signalfd' (unknown signal 'NOPE')")
    assert.has_error(function() core.signalfd("CHLD", "cloexec") end,
      "bad argument #2 to 'signalfd' (unknown signalfd flag 'cloexec')")
  end)
end)

describe("nsl.pidfd_open", function()
  it("signals a process through its pidfd", function()
    local pid, w = sleeper()
    local pidfd = assert(core.pidfd_open(pid))
    assert.is_true(core.pidfd_send_signal(pidfd, "SIGTERM"))
    w:close()
    assert.same({ pid, "killed", 15 }, { core.wait(pid) })
    assert.same({ nil, "pidfd_send_signal " .. pidfd:fileno() ..
      " 'TERM': No such process", E.ESRCH },
      { core.pidfd_send_signal(pidfd, "TERM") })
    pidfd:close()
  end)

  it("returns nil, message and errno for a reaped child", function()
    local pid = reaped_pid()
    assert.same({ nil, "pidfd_open " .. pid .. ": No such process", E.ESRCH },
      { core.pidfd_open(pid) })
  end)

  it("raises for a pid out of range rather than opening a truncated one", function()
    -- 2^32 + 1 used to open pid 1's
    for _, bad in ipairs { 0, -1, (1 << 32) + 1, math.maxinteger, math.mininteger } do
      assert.has_error(function() core.pidfd_open(bad) end,
        string.format("bad argument #1 to 'pidfd_open' (pid %d out of range 1..2147483647)", bad))
    end
  end)

  it("raises for a bad flag or signal", function()
    assert.has_error(function() core.pidfd_open(1, "sometimes") end,
      "bad argument #2 to 'pidfd_open' (unknown pidfd flag 'sometimes')")
    local r, w = assert(core.pipe())
    assert.has_error(function() core.pidfd_send_signal(r, "FOO") end,
      "bad argument #2 to 'pidfd_send_signal' (unknown signal 'FOO')")
    r:close()
    w:close()
  end)
end)

describe("nsl.init_exec and nsl-init", function()
  -- Run a command under timeout -s KILL: an init that went wrong must not
  -- hang the suite.
  local function bounded(cmd)
    return helper.sh("exec timeout -s KILL 5 " .. cmd, nil, 15)
  end

  local function lua_errors(code)
    local r = bounded(helper.quote(helper.nsl) .. " -e " .. helper.quote(code))
    assert.equal(0, r.code, r.err)
    -- Lua names the function by where it finds it: nsl.init_exec or nsl.core.init_exec
    return (r.out:gsub("'nsl%.core%.init_exec'", "'nsl.init_exec'"))
  end

  -- the report is not stdio (that is the command's), the fds the command
  -- keeps come once each, in order, from 3 up (close_range in between)
  it("refuse a report on stdio, fds to keep out of order and an empty argv", function()
    assert.equal("bad argument #4 to 'nsl.init_exec' (report 1 is stdio)\n" ..
      "bad argument #4 to 'nsl.init_exec' (pass_fds: fds from 3 up, each once, in ascending order)\n" ..
      "bad argument #4 to 'nsl.init_exec' (pass_fds: fds from 3 up, each once, in ascending order)\n" ..
      "bad argument #4 to 'nsl.init_exec' (unknown option 'gate')\n" ..
      "bad argument #4 to 'nsl.init_exec' (report is not an fd)\n" ..
      "bad argument #4 to 'nsl.init_exec' (tty is not an fd)\n" ..
      "bad argument #4 to 'nsl.init_exec' (an item of pass_fds is not an fd)\n" ..
      "bad argument #4 to 'nsl.init_exec' (pass_fds is not a list of fds)\n" ..
      "bad argument #2 to 'nsl.init_exec' (no argv[0])\n", lua_errors([[
      local init = { exec = require("nsl.core").init_exec }
      for _, args in ipairs {
        { "/bin/true", { "true" }, nil, { report = 1 } },
        { "/bin/true", { "true" }, nil, { pass_fds = { 8, 7 } } },
        { "/bin/true", { "true" }, nil, { pass_fds = { 2 } } },
        { "/bin/true", { "true" }, nil, { gate = 5 } },
        { "/bin/true", { "true" }, nil, { report = "x" } },
        { "/bin/true", { "true" }, nil, { tty = -1 } },
        { "/bin/true", { "true" }, nil, { pass_fds = { 3.5 } } },
        { "/bin/true", { "true" }, nil, { pass_fds = 7 } },
        { "/bin/true", {} },
      } do print((select(2, pcall(init.exec, table.unpack(args, 1, 4))))) end]]))
    local usage = "usage: nsl-init [-r FD] [-t FD] [-k FD]... [-p SIG] [-s FD] [-R ROOTFS] -- PATH " ..
      "ARGV0 [ARG...]\n       nsl-wait -w PID [-s FD]\n"
    for _, case in ipairs {
      { "-s 1 -- /bin/true true", "bad status fd '1'" },
      { "-p 0 -- /bin/true true", "bad parent-death signal '0'" },
      { "-p 65 -- /bin/true true", "bad parent-death signal '65'" },
      { "-r 2 -- /bin/true true", "bad report fd '2'" },
      { "-r x -- /bin/true true", "bad report fd 'x'" },
      { "-t -1 -- /bin/true true", "bad terminal fd '-1'" },
      { "-k 8 -k 7 -- /bin/true true", "bad fd to keep (3 and up, ascending) '7'" },
      { "-x 1 -- /bin/true true", "unknown option '-x'" },
      { "-r", "no value for '-r'" },
      { "-- /bin/true", "no command" },
      { "/bin/true true", "unknown option '/bin/true'" },
      { "", "no command" },
      { "-w 0 -s 3", "bad init pid '0'" },
      { "-w 7 -s 3 -- /bin/true true", "-w takes no command" },
    } do
      local r = bounded(helper.quote(helper.build .. "/nsl-init") .. " " .. case[1])
      assert.same({ 125, "nsl-init: " .. case[2] .. "\n" .. usage }, { r.code, r.err }, case[1])
    end
  end)

  it("runs the command as its child, without a capability of its own", function()
    -- a private pid namespace (and a proc of its own, in a private mount
    -- namespace): there the init is pid 1, as in a container
    local r = bounded("unshare --pid --fork --mount-proc " .. helper.quote(helper.build .. "/nsl-init") ..
      " -- /bin/sh sh -c " .. helper.quote("echo $$; grep -E '^Cap(Prm|Eff|Bnd)' /proc/1/status; exit 3"))
    assert.same({ 3, "2\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n" ..
      "CapBnd:\t0000000000000000\n" }, { r.code, r.out }, r.err)
  end)

  it("writes the command's code to the status fd once no child of its is left", function()
    -- the code as one byte, then the init's own exit; its arguments are
    -- blanked first (/proc/1/cmdline)
    local r = bounded("unshare --pid --fork --mount-proc " .. helper.quote(helper.build ..
      "/nsl-init") .. " -s 5 -- /bin/sh sh -c 'exit 3' 5>&1 | od -An -tu1")
    assert.same({ 0, "   3\n" }, { r.code, r.out }, r.err)
    r = bounded("unshare --pid --fork --mount-proc " .. helper.quote(helper.build ..
      "/nsl-init") .. " -s 5 -- /bin/sh sh -c 'kill -TERM $$' 5>&1 | od -An -tu1")
    assert.same({ 0, " 143\n" }, { r.code, r.out }, r.err)
    -- a process left (the sleep): no byte, the init's exit ends it
    r = bounded("unshare --pid --fork --mount-proc " .. helper.quote(helper.build ..
      "/nsl-init") .. " -s 5 -- /bin/sh sh -c 'sleep 5 & exit 3' 5>&1 | wc -c")
    assert.same({ 0, "0\n" }, { r.code, r.out }, r.err)
  end)

  it("reports a command it cannot execute with 127 or 126, and the root", function()
    local r = bounded("unshare --pid --fork " .. helper.quote(helper.build .. "/nsl-init") ..
      " -r 5 -R /the/root -- /no/such no 5>&1")
    assert.same({ 127, "127 exec '/no/such': No such file or directory (in rootfs /the/root)" },
      { r.code, r.out }, r.err)
    r = bounded("unshare --pid --fork " .. helper.quote(helper.build .. "/nsl-init") ..
      " -r 5 -- /etc/passwd passwd 5>&1")
    assert.same({ 126, "126 exec '/etc/passwd': Permission denied" }, { r.code, r.out }, r.err)
  end)

  it("closes its in-memory copy when the exec fails", function()
    -- execveat refused by a seccomp filter, in the nsl process only
    local code = [[
      local nsl = require "nsl"
      local init = { exec = require("nsl.core").init_exec }
      local f = assert(nsl.seccomp_init("allow"))
      assert(nsl.seccomp_rule_add(f, "errno EPERM", "execveat"))
      assert(nsl.seccomp_load(f))
      local before = #assert(nsl.readdir("/proc/self/fd"))
      local ok, err = init.exec("/bin/true", { "true" })
      print(ok, err, #assert(nsl.readdir("/proc/self/fd")) - before)]]
    local r = bounded(helper.quote(helper.nsl) .. " -e " .. helper.quote(code))
    assert.same({ 0, "nil\tinit exec for '/bin/true': Operation not permitted\t0\n" },
      { r.code, r.out }, r.err)
  end)
end)
