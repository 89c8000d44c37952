-- nsl oci and systemd's sd_notify protocol (NOTIFY_SOCKET), as runc and
-- crun relay it: the container gets a socket of nsl-oci's own, bound in
-- at the path of the caller's NOTIFY_SOCKET, its NOTIFY_SOCKET that path
-- /notify; READY=1 from it reaches the caller's socket, then MAINPID.
local helper = require "helper"
local core = require "nsl.core"
local json = require "dkjson"

local q = helper.quote

local H = require "oci_harness"

-- The container's sd_notify(3): spec/fixtures/sdnotify.c built static
-- (the busybox root has no libc), bound in at /sdnotify.
local sender

setup(function()
  H.setup()
  sender = H.tmp .. "/sdnotify"
  local built = helper.sh("cc -static -o " .. q(sender) .. " " ..
    q(helper.root .. "/spec/fixtures/sdnotify.c"))
  assert(built.code == 0, built.err)
end)
teardown(H.teardown)

-- One datagram with a line before READY=1 to the container's NOTIFY_SOCKET.
local NOTIFY = [[/sdnotify "$(printf 'STATUS=up\nREADY=1')"]]

local function with_sender(s, path)
  s.mounts[#s.mounts + 1] = { destination = "/sdnotify", type = "bind", source = path or sender,
    options = { "bind", "ro" } }
end

-- A bundle whose process runs sh -c script, with the sender bound in.
local function notifying(script, fn)
  return H.bundle(H.config(function(s)
    s.process.args = { "sh", "-c", script }
    with_sender(s)
    if fn then fn(s) end
  end))
end

-- A datagram socket of the spec's at H.tmp/name, standing for systemd's.
local function listener(name)
  local path = H.tmp .. "/" .. name
  local sock = assert(core.unix_dgram(path, "nonblock"))
  finally(function() sock:close() end)
  return sock, path
end

-- The datagrams queued on sock.
local function datagrams(sock)
  local list = {}
  while core.poll({ sock }, 0)[1] do list[#list + 1] = assert(sock:read(65536)) end
  return list
end

-- Queue datagrams on the socket at path until its queue is full.
local function fill(path)
  local cli = assert(core.unix_dgram(nil, "nonblock"))
  local sent = 0
  while core.sendto(cli, path, "STATUS=filler") do sent = sent + 1 end
  cli:close()
  return sent
end

-- `nsl oci ARGS` with NOTIFY_SOCKET=path in its environment.
local function oci_notify(path, args)
  return helper.sh("NOTIFY_SOCKET=" .. q(path) .. " " .. H.cmd(args))
end

local function state_dir(id) return H.STATE .. "/" .. id end

-- Created container id (its process pid): deleted and reaped when the
-- test ends, however it ends.
local function held(id)
  local st = assert(H.state(id))
  finally(function()
    if core.lstat(state_dir(id)) then H.finish(id, st.pid) end
  end)
  return st
end

describe("nsl oci with NOTIFY_SOCKET", function()
  it("binds its socket in at the caller's path, sets the env and relays READY=1 on run", function()
    local sock, path = listener("run.sock")
    local dir = notifying("echo \"$NOTIFY_SOCKET\"; ls " .. path .. "; grep ' " .. path ..
      " ' /proc/self/mountinfo | cut -d' ' -f6; " .. NOTIFY, function(s)
        s.process.env[#s.process.env + 1] = "NOTIFY_SOCKET=/the/config/s"
      end)
    local r = oci_notify(path, "run --bundle " .. q(dir) .. " sd1")
    assert.equal(0, r.code, r.err)
    local env, ls, options = r.out:match("^([^\n]*)\n([^\n]*)\n([^\n]*)\n$")
    assert.equal(path .. "/notify", env, r.out)
    assert.equal("notify", ls)
    assert.matches("^ro,nosuid,nodev,noexec", options)
    local got = datagrams(sock)
    assert.equal(2, #got, table.concat(got, "|"))
    assert.equal("READY=1", got[1])
    assert.matches("^MAINPID=%d+$", got[2])
    -- the relay was reaped, the state is gone with the container
    assert.same({}, helper.leftovers(dir))
    assert.is_nil(core.lstat(state_dir("sd1")))
  end)

  it("start waits for READY=1 and relays it with the container's pid", function()
    local sock, path = listener("start.sock")
    local dir = notifying("sleep 1; " .. NOTIFY .. "; exec sleep 100")
    local r = oci_notify(path, "create --bundle " .. q(dir) .. " sd2 > /dev/null")
    assert.equal(0, r.code, r.err)
    local st = held("sd2")
    local notify_dir = core.stat(state_dir("sd2") .. "/notify")
    assert.equal("dir", notify_dir.type)
    assert.equal(tonumber("711", 8), notify_dir.mode & tonumber("7777", 8))
    assert.equal(0, notify_dir.uid)
    local began = core.monotime()
    r = oci_notify(path, "start sd2")
    local took = core.monotime() - began
    assert.equal(0, r.code, r.err)
    assert.is_true(took >= 0.9, "start returned before READY=1: " .. took)
    assert.same({ "READY=1", "MAINPID=" .. st.pid }, datagrams(sock))
    assert.equal("running", H.state("sd2").status)
    H.finish("sd2", st.pid)
    assert.is_nil(core.lstat(state_dir("sd2")))
  end)

  it("run -d returns once READY=1 is relayed, the container running", function()
    local sock, path = listener("detach.sock")
    local dir = notifying(NOTIFY .. "; exec sleep 100")
    local r = oci_notify(path, "run -d --bundle " .. q(dir) .. " sd3 > /dev/null")
    assert.equal(0, r.code, r.err)
    local st = held("sd3")
    assert.equal("running", st.status)
    assert.same({ "READY=1", "MAINPID=" .. st.pid }, datagrams(sock))
    H.finish("sd3", st.pid)
  end)

  it("start and run end with the container when it never says READY=1", function()
    local sock, path = listener("never.sock")
    local dir = notifying("exit 3")
    local r = oci_notify(path, "run --bundle " .. q(dir) .. " sd4")
    assert.equal(3, r.code, r.err)
    r = oci_notify(path, "create --bundle " .. q(dir) .. " sd5 > /dev/null")
    assert.equal(0, r.code, r.err)
    local st = held("sd5")
    r = oci_notify(path, "start sd5")
    assert.equal(0, r.code, r.err)
    assert.is_true(H.reap(st.pid))
    H.finish("sd5")
    assert.same({}, datagrams(sock))
  end)

  it("relays from a container in a user namespace, its socket the mapped root's", function()
    local sock, path = listener("userns.sock")
    local rootfs = H.tmp .. "/rootfs-8000"
    assert(os.execute(string.format("cp -a %s %s && chown -R 8000:8000 %s", q(H.ROOTFS),
      q(rootfs), q(rootfs))))
    local dir = notifying("stat -c '%u %a' " .. path .. "; " .. NOTIFY, function(s)
      s.root.path = rootfs
      s.linux.namespaces[#s.linux.namespaces + 1] = { type = "user" }
      s.linux.namespaces[#s.linux.namespaces + 1] = { type = "cgroup" }
      s.linux.uidMappings = { { containerID = 0, hostID = 8000, size = 1 } }
      s.linux.gidMappings = { { containerID = 0, hostID = 8000, size = 1 } }
    end)
    local r = oci_notify(path, "run --bundle " .. q(dir) .. " sd6")
    assert.equal(0, r.code, r.err)
    -- the host's root owns it, unmapped in the container's namespace
    assert.equal("65534 711\n", r.out)
    local got = datagrams(sock)
    assert.equal("READY=1", got[1], table.concat(got, "|"))
  end)

  it("relays from a process's user, and from another it drops to (a socket of 0777)", function()
    local sock, path = listener("user.sock")
    local drop = "/sdnotify READY=1 4712"
    local dir = notifying("id -u; stat -c '%u %a' " .. path .. " " .. path .. "/notify; " .. NOTIFY,
      function(s) s.process.user = { uid = 4711, gid = 4711 } end)
    local r = oci_notify(path, "run --bundle " .. q(dir) .. " sd14")
    assert.equal(0, r.code, r.err)
    assert.equal("4711\n0 711\n0 777\n", r.out)
    local got = datagrams(sock)
    assert.equal("READY=1", got[1], table.concat(got, "|"))
    -- a service that starts as root and says READY=1 as its own user
    dir = notifying(drop, function(s) -- runc's default set has neither
      for _, set in pairs(s.process.capabilities) do
        table.insert(set, "CAP_SETUID")
        table.insert(set, "CAP_SETGID")
      end
    end)
    r = oci_notify(path, "run --bundle " .. q(dir) .. " sd16")
    assert.equal(0, r.code, r.err)
    got = datagrams(sock)
    assert.equal("READY=1", got[1], table.concat(got, "|"))
  end)

  it("relays as uid 65534 (rootless)", function()
    local stage = helper.stage()
    local dir = H.tmp .. "/rootless"
    assert(os.execute(string.format("mkdir -p %s && cp -a %s %s/rootfs && chown -R 65534:65534 %s",
      q(dir), q(H.ROOTFS), q(dir), q(dir))))
    local r = helper.unprivileged("cd " .. q(dir) .. ' && "$NSL" oci spec --rootless')
    assert.equal(0, r.code, r.err)
    local spec = json.decode(helper.read(dir .. "/config.json"))
    spec.process.terminal = false
    spec.process.args = { "sh", "-c", "echo \"$NOTIFY_SOCKET\"; " .. NOTIFY }
    assert(os.execute(string.format("cp %s %s/sdnotify && chmod 0755 %s/sdnotify", q(sender),
      q(stage), q(stage))))
    with_sender(spec, stage .. "/sdnotify")
    helper.write(dir .. "/config.json", json.encode(spec))
    assert(os.execute("chmod 0644 " .. q(dir .. "/config.json")))
    local sock, path = listener("rootless.sock")
    assert(core.chmod(path, "0777")) -- uid 65534 sends to it
    r = helper.unprivileged("cd " .. q(dir) .. " && NOTIFY_SOCKET=" .. q(path) ..
      ' "$NSL" oci --root "$PWD/state" run c')
    assert.equal(0, r.code, r.err)
    assert.equal(path .. "/notify\n", r.out)
    local got = datagrams(sock)
    assert.equal("READY=1", got[1], table.concat(got, "|"))
    assert.matches("^MAINPID=%d+$", got[2])
    assert.is_nil(core.lstat(dir .. "/state/c"))
  end)

  it("relays for a script of `nsl oci lua` too", function()
    local sock, path = listener("script.sock")
    local dir = notifying("echo \"$NOTIFY_SOCKET\"; " .. NOTIFY)
    local r = helper.sh(q(helper.nsl) .. " oci lua --bundle " .. q(dir))
    assert.equal(0, r.code, r.err)
    helper.write(dir .. ".lua", r.out)
    r = helper.sh(string.format("NOTIFY_SOCKET=%s %s run %s --root %s sd7", q(path),
      q(helper.nsl), q(dir .. ".lua"), q(H.STATE)))
    assert.equal(0, r.code, r.err)
    assert.equal(path .. "/notify\n", r.out)
    local got = datagrams(sock)
    assert.equal("READY=1", got[1], table.concat(got, "|"))
    assert.is_nil(core.lstat(state_dir("sd7")))
  end)

  it("removes its socket's directory on delete, and on a failed create", function()
    local _, path = listener("delete.sock")
    local dir = notifying("exec sleep 100")
    local r = oci_notify(path, "create --bundle " .. q(dir) .. " sd8 > /dev/null")
    assert.equal(0, r.code, r.err)
    local st = held("sd8")
    assert.truthy(core.lstat(state_dir("sd8") .. "/notify"))
    H.finish("sd8", st.pid)
    assert.is_nil(core.lstat(state_dir("sd8")))
    local missing = H.bundle(H.config(function(s) s.process.args = { "/no/such/command" } end))
    r = oci_notify(path, "create --bundle " .. q(missing) .. " sd9")
    assert.equal(1, r.code, r.out)
    assert.is_nil(core.lstat(state_dir("sd9")))
  end)

  it("leaves a container alone without NOTIFY_SOCKET", function()
    local dir = H.bundle(H.config(function(s)
      s.process.args = { "sh", "-c", "echo \"$NOTIFY_SOCKET\"; exec sleep 100" }
      s.process.env[#s.process.env + 1] = "NOTIFY_SOCKET=/the/config/s"
    end))
    local out = H.tmp .. "/plain.out"
    local r = helper.sh("unset NOTIFY_SOCKET; " .. H.cmd("create --bundle " .. q(dir) ..
      " sd10 > " .. q(out)))
    assert.equal(0, r.code, r.err)
    local st = held("sd10")
    assert.is_nil(core.lstat(state_dir("sd10") .. "/notify"))
    assert.equal(0, H.oci("start sd10").code)
    local deadline = core.monotime() + 5
    while helper.read(out) == "" and core.monotime() < deadline do core.poll({}, 20) end
    assert.equal("/the/config/s\n", helper.read(out))
    H.finish("sd10", st.pid)
  end)
end)

describe("nsl oci with a bad NOTIFY_SOCKET", function()
  it("refuses a path that is not absolute, or is the root, before it makes anything", function()
    local dir = notifying("true")
    for i, bad in ipairs { "notify.sock", "/", "/run/../notify.sock", "@abstract" } do
      local id = "bad" .. i
      local r = oci_notify(bad, "run --bundle " .. q(dir) .. " " .. id)
      assert.equal(1, r.code, r.out)
      assert.matches("NOTIFY_SOCKET '" .. bad .. "'", r.err, 1, true)
      assert.is_nil(core.lstat(state_dir(id)))
    end
  end)

  it("warns on run, and fails start, when the caller's socket is not there", function()
    local path = H.tmp .. "/no-such-dir/notify.sock"
    local dir = notifying(NOTIFY)
    local r = oci_notify(path, "run --bundle " .. q(dir) .. " sd11")
    assert.equal(0, r.code, r.err)
    assert.matches("warning: NOTIFY_SOCKET: sendto '" .. path .. "': No such file or directory (ENOENT)",
      r.err, 1, true)
    assert.same({}, helper.leftovers(dir))
    local waiting = notifying(NOTIFY .. "; exec sleep 100")
    r = oci_notify(path, "create --bundle " .. q(waiting) .. " sd12 > /dev/null")
    assert.equal(0, r.code, r.err)
    local st = held("sd12")
    r = oci_notify(path, "start sd12")
    assert.equal(1, r.code, r.out)
    assert.matches("NOTIFY_SOCKET: sendto '" .. path .. "': No such file or directory (ENOENT)",
      r.err, 1, true)
    -- started all the same, as runc leaves it
    assert.equal("running", H.state("sd12").status)
    H.finish("sd12", st.pid)
    -- run -d fails as start does, and leaves no container
    r = oci_notify(path, "run -d --bundle " .. q(waiting) .. " sd15 > /dev/null")
    assert.equal(1, r.code, r.out)
    assert.matches("NOTIFY_SOCKET: sendto '" .. path .. "'", r.err, 1, true)
    assert.is_nil(core.lstat(state_dir("sd15")))
    assert.same({}, helper.leftovers(waiting))
  end)

  it("refuses to start with NOTIFY_SOCKET a container created without it", function()
    local _, path = listener("late.sock")
    local dir = notifying("exec sleep 100")
    local r = H.oci("create --bundle " .. q(dir) .. " sd13 > /dev/null")
    assert.equal(0, r.code, r.err)
    local st = held("sd13")
    r = oci_notify(path, "start sd13")
    assert.equal(1, r.code, r.out)
    assert.matches("created without NOTIFY_SOCKET", r.err, 1, true)
    assert.equal("created", H.state("sd13").status)
    H.finish("sd13", st.pid)
  end)
end)

describe("nsl oci's NOTIFY_SOCKET directory", function()
  it("is nsl oci's own, 0711: the process's user cannot put a link in it for start", function()
    local _, path = listener("own.sock")
    local dir = notifying("exec sleep 100", function(s)
      s.process.user = { uid = helper.NOBODY, gid = helper.NOBODY }
    end)
    local r = oci_notify(path, "create --bundle " .. q(dir) .. " sd20 > /dev/null")
    assert.equal(0, r.code, r.err)
    local st = held("sd20")
    local notify_dir = state_dir("sd20") .. "/notify"
    local victim = H.tmp .. "/victim"
    helper.write(victim, "root's\n")
    assert(core.chmod(victim, "0600"))
    r = helper.unprivileged("ln -s " .. q(victim) .. " " .. q(notify_dir .. "/notify"))
    assert.not_equal(0, r.code, "uid 65534 wrote in " .. notify_dir)
    assert.is_nil(core.lstat(notify_dir .. "/notify"))
    -- a directory another user may write is refused, not used
    assert(core.chown(notify_dir, helper.NOBODY, helper.NOBODY))
    r = oci_notify(path, "start sd20")
    assert.equal(1, r.code, r.out)
    assert.matches("NOTIFY_SOCKET: " .. notify_dir, r.err, 1, true)
    assert.equal("created", H.state("sd20").status)
    assert.equal(tonumber("600", 8), core.stat(victim).mode & tonumber("7777", 8))
    H.finish("sd20", st.pid)
  end)

  it("stays closed to a user-namespace root that remounts its bind read-write", function()
    local _, path = listener("remount.sock")
    local rootfs = H.tmp .. "/rootfs-8001"
    assert(os.execute(string.format("cp -a %s %s && chown -R 8001:8001 %s", q(H.ROOTFS),
      q(rootfs), q(rootfs))))
    local dir = notifying("mount -o remount,bind,rw " .. path .. " 2>&1 && echo remounted; " ..
      "touch " .. path .. "/x 2>/dev/null && echo created; mkdir " .. path .. "/d 2>/dev/null " ..
      "&& echo made; test -e " .. path .. "/x || echo no-x; test -e " .. path .. "/d || echo no-d",
      function(s)
        s.root.path = rootfs
        s.linux.namespaces[#s.linux.namespaces + 1] = { type = "user" }
        s.linux.uidMappings = { { containerID = 0, hostID = 8001, size = 1 } }
        s.linux.gidMappings = { { containerID = 0, hostID = 8001, size = 1 } }
        for _, set in pairs(s.process.capabilities) do set[#set + 1] = "CAP_SYS_ADMIN" end
      end)
    local r = oci_notify(path, "run --bundle " .. q(dir) .. " sd21")
    assert.equal(0, r.code, r.err)
    assert.equal("remounted\nno-x\nno-d\n", r.out)
  end)

  it("fails delete, naming it, when it cannot be removed; the id stays deletable", function()
    local _, path = listener("stray.sock")
    local dir = notifying("exec sleep 100")
    local r = oci_notify(path, "create --bundle " .. q(dir) .. " sd22 > /dev/null")
    assert.equal(0, r.code, r.err)
    local st = held("sd22")
    local notify_dir = state_dir("sd22") .. "/notify"
    helper.write(notify_dir .. "/stray", "")
    r = H.oci("delete --force sd22")
    assert.not_equal(0, r.code, r.out)
    assert.matches("rmdir '" .. notify_dir .. "'", r.err, 1, true)
    assert.matches("ENOTEMPTY", r.err, 1, true)
    assert.equal("stopped", H.state("sd22").status)
    assert(core.unlink(notify_dir .. "/stray"))
    r = H.oci("delete sd22")
    assert.equal(0, r.code, r.err)
    assert.is_nil(core.lstat(state_dir("sd22")))
    H.reap(st.pid)
    r = oci_notify(path, "create --bundle " .. q(dir) .. " sd22 > /dev/null")
    assert.equal(0, r.code, r.err)
    st = held("sd22")
    -- a stray beside the state: delete says its directory stays
    helper.write(state_dir("sd22") .. "/stray", "")
    r = H.oci("delete --force sd22")
    assert.equal(0, r.code, r.err)
    assert.matches("warning: rmdir '" .. state_dir("sd22") .. "'", r.err, 1, true)
    assert(core.unlink(state_dir("sd22") .. "/stray"))
    assert(core.rmdir(state_dir("sd22")))
    H.reap(st.pid)
  end)

  it("waits a while for room in a full caller's socket, then fails start clearly", function()
    local sock, path = listener("full.sock")
    local dir = notifying(NOTIFY .. "; exec sleep 100")
    local r = oci_notify(path, "create --bundle " .. q(dir) .. " sd23 > /dev/null")
    assert.equal(0, r.code, r.err)
    local st = held("sd23")
    assert.is_true(fill(path) > 0)
    local p = io.popen("NOTIFY_SOCKET=" .. q(path) .. " " .. H.cmd("start sd23") ..
      " 2>&1; echo \"exit $?\"")
    local out
    local function ended() if p then out = p:read("a"); p:close() end p = nil end
    finally(ended)
    core.poll({}, 1000)
    local drained = datagrams(sock)
    ended()
    assert.matches("exit 0\n$", out)
    assert.equal("STATUS=filler", drained[1])
    -- start's messages follow the filler, whether the drain above already
    -- met them (start sends as soon as there is room) or not
    local relayed = {}
    for _, list in ipairs { drained, datagrams(sock) } do
      for _, d in ipairs(list) do
        if d ~= "STATUS=filler" then relayed[#relayed + 1] = d end
      end
    end
    assert.same({ "READY=1", "MAINPID=" .. st.pid }, relayed)
    H.finish("sd23", st.pid)
    -- nobody reads it: start fails after a few seconds, saying why
    r = oci_notify(path, "create --bundle " .. q(dir) .. " sd24 > /dev/null")
    assert.equal(0, r.code, r.err)
    st = held("sd24")
    fill(path)
    local began = core.monotime()
    r = oci_notify(path, "start sd24")
    assert.equal(1, r.code, r.out)
    assert.is_true(core.monotime() - began < 15)
    assert.matches("NOTIFY_SOCKET: sendto '" .. path .. "'", r.err, 1, true)
    assert.matches("EAGAIN", r.err, 1, true)
    assert.matches("full", r.err, 1, true)
    H.finish("sd24", st.pid)
  end)

  it("refuses a config that mounts over the caller's socket's directory, naming both", function()
    local sockdir = H.tmp .. "/sockdir"
    assert(core.mkdir(sockdir))
    local _, path = listener("sockdir/notify.sock")
    local dir = notifying(NOTIFY, function(s)
      s.mounts[#s.mounts + 1] = { destination = sockdir, type = "bind", source = sockdir,
        options = { "bind", "ro" } }
    end)
    local r = oci_notify(path, "run --bundle " .. q(dir) .. " sd25")
    assert.equal(1, r.code, r.out)
    assert.matches("NOTIFY_SOCKET '" .. path .. "'", r.err, 1, true)
    assert.matches("mount at " .. sockdir, r.err, 1, true)
    assert.is_nil(core.lstat(state_dir("sd25")))
  end)

  it("reads a datagram whole: READY=1 after 4 KiB of STATUS counts", function()
    local sock, path = listener("long.sock")
    local dir = notifying([[/sdnotify "$(printf 'STATUS=%5000s\nREADY=1' '' | tr ' ' x)"]])
    local r = oci_notify(path, "run --bundle " .. q(dir) .. " sd26")
    assert.equal(0, r.code, r.err)
    local got = datagrams(sock)
    assert.equal("READY=1", got[1], table.concat(got, "|"))
  end)

  it("is relayed to by a child of run that holds no pty master of run's", function()
    local sock, path = listener("fds.sock")
    local dir = notifying("sleep 2; " .. NOTIFY, function(s) s.process.terminal = true end)
    local p = io.popen("NOTIFY_SOCKET=" .. q(path) .. " exec " .. H.cmd("run --bundle " .. q(dir) ..
      " sd27") .. " < /dev/null > /dev/null 2>&1")
    local function ended() if p then p:close() end p = nil end
    finally(ended)
    core.poll({}, 1000)
    -- the relay: a child of run's (both nsl oci run ... sd27), with the
    -- container's socket
    local function runs_it(pid)
      local cmdline = pid and helper.read("/proc/" .. pid .. "/cmdline")
      return cmdline and cmdline:find("sd27", 1, true)
    end
    local relay_fds
    for _, name in ipairs(assert(core.readdir("/proc"))) do
      local stat = name:match("^%d+$") and helper.read("/proc/" .. name .. "/stat")
      local ppid = stat and stat:match("^%d+ %b() %S+ (%d+)")
      if runs_it(ppid) and runs_it(name) then
        relay_fds = {}
        for _, fd in ipairs(core.readdir("/proc/" .. name .. "/fd") or {}) do
          relay_fds[#relay_fds + 1] = fd .. "=" .. (core.readlink("/proc/" .. name .. "/fd/" .. fd) or "?")
        end
      end
    end
    ended()
    assert.truthy(relay_fds, "no relay child seen")
    for _, target in ipairs(relay_fds) do
      assert.is_nil(target:find("ptmx", 1, true), table.concat(relay_fds, " "))
    end
    local got = datagrams(sock)
    assert.equal("READY=1", got[1], table.concat(got, "|"))
  end)
end)

describe("nsl.core datagram sockets", function()
  it("binds, sends one datagram a call and names the path on failure", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    local srv = assert(core.unix_dgram(dir .. "/s", "nonblock"))
    local cli = assert(core.unix_dgram())
    assert.equal(3, core.sendto(cli, dir .. "/s", "one"))
    assert.equal(3, core.sendto(cli, dir .. "/s", "two"))
    assert.equal("one", srv:read(4096))
    assert.equal("two", srv:read(4096))
    local none, err, errno = srv:read(4096)
    assert.is_nil(none)
    assert.equal(core.errno.EAGAIN, errno, err)
    none, err, errno = core.sendto(cli, dir .. "/none", "x")
    assert.is_nil(none)
    assert.equal("sendto '" .. dir .. "/none': No such file or directory", err)
    assert.equal(core.errno.ENOENT, errno)
    none, err, errno = core.unix_dgram(dir .. "/s")
    assert.is_nil(none)
    assert.equal(core.errno.EADDRINUSE, errno, err)
    none, err, errno = core.unix_dgram(dir .. "/" .. string.rep("x", 120))
    assert.is_nil(none)
    assert.equal(core.errno.ENAMETOOLONG, errno, err)
    srv:close()
    cli:close()
  end)

  it("refuses an empty path instead of an abstract empty name", function()
    local none, err, errno = core.unix_dgram("")
    assert.is_nil(none)
    assert.equal(core.errno.EINVAL, errno, err)
    local cli = assert(core.unix_dgram())
    none, err, errno = core.sendto(cli, "", "READY=1")
    cli:close()
    assert.is_nil(none)
    assert.equal(core.errno.EINVAL, errno, err)
  end)

  it("receives a datagram whole, however long", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    local srv = assert(core.unix_dgram(dir .. "/s", "nonblock"))
    local cli = assert(core.unix_dgram())
    local long = string.rep("x", 100000) .. "\nREADY=1"
    assert.equal(#long, core.sendto(cli, dir .. "/s", long))
    assert.equal(#long, #assert(core.recv(srv)))
    assert.equal("", assert(core.sendto(cli, dir .. "/s", "")) and core.recv(srv))
    local none, err, errno = core.recv(srv)
    assert.is_nil(none)
    assert.equal(core.errno.EAGAIN, errno, err)
    srv:close()
    cli:close()
  end)
end)
