-- The standard container, seen from inside and from outside, as root and as
-- an ordinary user (uid 65534 through a user namespace).
local helper = require "helper"
local core = require "nsl.core"

local q = helper.quote

-- Mount points and options of a /proc/PID/mountinfo text.
local function parse_mountinfo(text)
  local mounts = {}
  for line in text:gmatch("[^\n]+") do
    local target, opts, rest = line:match("^%S+ %S+ %S+ %S+ (%S+) (%S+)(.*)$")
    local fstype, source, super = rest:match(" %- (%S+) (%S+) (%S+)")
    mounts[#mounts + 1] = { target = target, options = opts, fstype = fstype,
      source = source, super = super }
  end
  return mounts
end

local function targets(mounts)
  local list = {}
  for _, m in ipairs(mounts) do list[#list + 1] = m.target end
  table.sort(list)
  return list
end

local function find(mounts, target)
  for _, m in ipairs(mounts) do
    if m.target == target then return m end
  end
end

local SYSTEM = { "/", "/dev", "/dev/pts", "/dev/shm", "/proc", "/run", "/sys" }
-- Each of runc's masked and read-only paths that this kernel has is a
-- mount of its own (steps masked_paths and readonly_paths): a bind of
-- /dev/null or an empty read-only tmpfs, a read-only bind. The container's
-- /proc and /sys are of the host's kernel, so the host says which exist.
local MASKED = { "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
  "/sys/firmware", "/sys/devices/virtual/powercap" }
local READONLY = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" }
local DEVICES = { null = "1:3", zero = "1:5", full = "1:7", random = "1:8",
  urandom = "1:9", tty = "5:0" }
local LINKS = { ptmx = "pts/ptmx", fd = "/proc/self/fd", stdin = "/proc/self/fd/0",
  stdout = "/proc/self/fd/1", stderr = "/proc/self/fd/2", core = "/proc/kcore" }

-- Inspect the container: everything the specs assert, printed in sections.
local PROBE = [[
echo "== mountinfo"; cat /proc/self/mountinfo
echo "== devices"; for d in null zero full random urandom tty; do stat -c "$d %F %t:%T %a" /dev/$d; done
echo "== links"; for l in ptmx fd stdin stdout stderr core; do echo "$l $(readlink /dev/$l)"; done
echo "== shm"; stat -c %a /dev/shm
echo "== hostname"; hostname
echo "== ps"; ps -o pid,args
echo "== uid_map"; cat /proc/self/uid_map
echo "== gid_map"; cat /proc/self/gid_map
echo "== id"; id -u
echo "== net"; readlink /proc/self/ns/net; ls /sys/class/net; cat /proc/net/dev
echo "== lo"; cat /sys/class/net/lo/flags
echo "== end"
]]

local sections = helper.sections

-- The assertions shared by the root and the unprivileged runs.
local function assert_standard(out, userns)
  local s = sections(out)
  assert.is_string(s.mountinfo, out)
  local mounts = parse_mountinfo(s.mountinfo)
  local expected = { table.unpack(SYSTEM) }
  if userns then
    -- no mknod in a user namespace: the host's nodes are bound
    for name in pairs(DEVICES) do expected[#expected + 1] = "/dev/" .. name end
  end
  local masked, readonly = {}, {}
  for _, list in ipairs { { MASKED, masked }, { READONLY, readonly } } do
    for _, path in ipairs(list[1]) do
      local st = core.lstat(path)
      if st then
        expected[#expected + 1] = path
        list[2][path] = st.type
      end
    end
  end
  table.sort(expected)
  assert.same(expected, targets(mounts))
  for path, kind in pairs(masked) do
    local m = find(mounts, path)
    if kind == "dir" then
      assert.same({ "tmpfs", "ro" }, { m.fstype, m.options:match("^r[ow]") }, path)
    else -- a bind of the container's /dev/null: a node on /dev, or (in a
      -- user namespace) itself a bind of the host's
      local null = find(mounts, "/dev/null") or find(mounts, "/dev")
      assert.same({ null.fstype, null.source }, { m.fstype, m.source }, path)
    end
  end
  for path in pairs(readonly) do
    assert.matches("^ro,", find(mounts, path).options)
  end
  assert.equal("proc", find(mounts, "/proc").fstype)
  assert.matches("nosuid,nodev,noexec", find(mounts, "/proc").options)
  assert.equal("tmpfs", find(mounts, "/dev").fstype)
  assert.matches("mode=755", find(mounts, "/dev").super)
  assert.equal("tmpfs", find(mounts, "/dev/shm").fstype)
  assert.equal("1777\n", s.shm) -- tmpfs does not list its default mode
  assert.equal("devpts", find(mounts, "/dev/pts").fstype)
  assert.matches("ptmxmode=666", find(mounts, "/dev/pts").super)
  if not userns then assert.matches("gid=5", find(mounts, "/dev/pts").super) end
  assert.equal("sysfs", find(mounts, "/sys").fstype)
  assert.equal("tmpfs", find(mounts, "/run").fstype)
  for line in s.devices:gmatch("[^\n]+") do
    local name, kind, dev = line:match("^(%S+) (.-) (%x+:%x+) %d+$")
    assert.equal("character special file", kind, line)
    local major, minor = dev:match("(%x+):(%x+)")
    assert.equal(DEVICES[name], tonumber(major, 16) .. ":" .. tonumber(minor, 16))
  end
  for line in s.links:gmatch("[^\n]+") do
    local name, target = line:match("^(%S+) (%S*)$")
    assert.equal(LINKS[name], target, line)
  end
  assert.equal("busybox\n", s.hostname)
  -- a network namespace of its own, with lo only: in sysfs (mounted in
  -- it) and in /proc
  local own_net, sys_net, dev = s.net:match("^(net:%S+)\n(.-)\n(.*)$")
  assert.not_equal(core.readlink("/proc/self/ns/net"), own_net)
  assert.equal("lo", sys_net, s.net)
  local interfaces = {}
  for name in dev:gmatch("\n%s*([^%s:]+):") do interfaces[#interfaces + 1] = name end
  assert.same({ "lo" }, interfaces, s.net)
  -- and lo is up (IFF_UP | IFF_LOOPBACK)
  assert.equal("0x9\n", s.lo)
  -- the init is pid 1, the shell its child, ps theirs; nothing of the host
  -- (nor the helper that made the network namespace: gone and reaped)
  local procs = {}
  for pid, args in s.ps:gmatch("\n%s*(%d+) ([^\n]*)") do procs[#procs + 1] = { tonumber(pid), args } end
  assert.equal(3, #procs, s.ps)
  assert.equal(1, procs[1][1], s.ps)
  -- the init's arguments: the report fd, the status fd (the command's code
  -- for nsl, see container.exit), the root its reports name, and the
  -- command it started (path, then argv)
  assert.matches("^{memfd:nsl} nsl%-init %-r %d+ %-s %d+ %-p 9 %-R /.- %-%- /bin/sh /bin/sh$",
    procs[1][2])
  assert.equal("/bin/sh", procs[2][2])
  assert.matches("ps", procs[3][2], 1, true)
  return s
end

local ROOT

local function nsl_run(args, input)
  return helper.sh(q(helper.nsl) .. " run busybox.lua --rootfs " .. q(ROOT) .. " " .. args, input)
end

describe("nsl run busybox.lua", function()
  local tmp, host_mounts

  setup(function()
    tmp = helper.tmpdir()
    ROOT = tmp .. "/busybox"
    local r = helper.sh(q(helper.nsl) .. " -e " ..
      q("require('nsl').rootfs.busybox(" .. string.format("%q", ROOT) .. ")"))
    assert.equal(0, r.code, r.err)
    host_mounts = helper.mountinfo()
  end)

  teardown(function()
    assert.equal(host_mounts, helper.mountinfo())
    helper.rmtree(tmp)
  end)

  it("builds the standard container as root", function()
    local r = nsl_run("/bin/sh", PROBE)
    assert.equal(0, r.code, r.err)
    local s = assert_standard(r.out, false)
    assert.equal("0 0 4294967295", s.uid_map:match("%d+%s+%d+%s+%d+"):gsub("%s+", " "))
  end)

  it("prints hi and exits 0 for /bin/echo hi", function()
    local r = nsl_run("/bin/echo hi")
    assert.same({ 0, "hi\n", "" }, { r.code, r.out, r.err })
  end)

  it("passes the exit status on", function()
    assert.equal(3, nsl_run("/bin/sh -c 'exit 3'").code)
  end)

  it("exits 137 when the command is killed by SIGKILL", function()
    assert.equal(137, nsl_run("/bin/sh -c 'kill -9 $$'").code)
  end)

  it("exits 127 with a message for a missing command", function()
    local r = nsl_run("/bin/nope")
    assert.equal(127, r.code)
    assert.equal("nsl: command not found: /bin/nope in rootfs " .. ROOT .. "\n", r.err)
  end)

  it("exits 126 for a command that is not executable", function()
    local r = nsl_run("/etc/passwd")
    assert.equal(126, r.code)
    assert.matches("command not executable: /etc/passwd", r.err, 1, true)
  end)

  it("runs the init from a sealed copy, out of the command's reach: the host's nsl too", function()
    -- the init is not dumpable: the command cannot read /proc/1/exe, nor
    -- open the init's fds; the host sees the sealed memfd it runs from
    local seals = tmp .. "/seals"
    local built = helper.sh("cc -static -o " .. q(seals) .. " " .. q(helper.root .. "/spec/fixtures/seals.c"))
    assert.equal(0, built.code, built.err)
    local up, done = ROOT .. "/tmp/up", ROOT .. "/tmp/done"
    finally(function() os.remove(up); os.remove(done) end)
    local r = helper.sh(q(helper.nsl) .. " run busybox.lua --rootfs " .. q(ROOT) .. " /bin/sh -c " ..
      q("readlink /proc/1/exe || echo unreadable; n=0; " ..
        "for f in /proc/1/fd/*; do (: >> $f) 2>/dev/null && n=$((n+1)); done; echo opened $n; " ..
        "touch /tmp/up; " ..
        "until [ -e /tmp/done ]; do sleep 0.01; done") .. " 2>/dev/null & nsl=$!\n" ..
      "until [ -e " .. q(up) .. " ]; do sleep 0.01; done\n" ..
      "init=$(cut -d' ' -f1 /proc/$nsl/task/$nsl/children)\n" ..
      "readlink /proc/$init/exe; (echo x >> /proc/$init/exe) 2>/dev/null || echo refused\n" ..
      q(seals) .. " /proc/$init/exe; touch " .. q(done) .. "; wait $nsl")
    assert.same({ 0, "unreadable\nopened 0\n/memfd:nsl (deleted)\nrefused\nseal shrink grow write\n" },
      { r.code, r.out }, r.err)
  end)

  it("never shows the command the host's nsl as /proc/1/exe, even before the init is the sealed copy", function()
    -- the command starts before pid 1 becomes the sealed copy: in between,
    -- pid 1 is the host's nsl, and must be out of the command's reach
    for _ = 1, 10 do
      local r = nsl_run("/bin/readlink /proc/1/exe")
      assert.is_nil(r.out:find(helper.nsl, 1, true), r.out)
      assert.is_nil(r.out:find("/nsl\n", 1, true), r.out)
    end
  end)

  it("holds the command until pid 1 is the sealed init, however slow the exec", function()
    -- with the sealed init's exec delayed, a command that could run before
    -- it would see the host's nsl at /proc/1/exe
    local code = string.format([[
      local nsl = require "nsl"
      local core = require "nsl.core"
      local exec = core.init_exec
      core.init_exec = function(...) nsl.poll({}, 300) return exec(...) end
      os.exit(nsl.container.main { rootfs = %q, tty = false,
        command = { "/bin/sh", "-c", "readlink /proc/1/exe || echo unreadable" } })]], ROOT)
    local r = helper.sh(q(helper.nsl) .. " -e " .. q(code))
    -- the sealed init keeps even its exe from the command; before it,
    -- pid 1 would be the host's nsl, in reach
    assert.same({ 0, "unreadable\n" }, { r.code, r.out }, r.err)
  end)

  it("filters the init and the command with the default seccomp profile", function()
    local r = nsl_run("/bin/sh -c 'grep Seccomp: /proc/1/status /proc/self/status'")
    assert.equal(0, r.code, r.err)
    assert.equal("/proc/1/status:Seccomp:\t2\n/proc/self/status:Seccomp:\t2\n", r.out)
  end)

  it("keeps no_new_privs off with --allow-new-privs, seccomp on all the same", function()
    local r = nsl_run("--allow-new-privs /bin/sh -c 'grep -E \"^(NoNewPrivs|Seccomp):\" /proc/self/status'")
    assert.equal(0, r.code, r.err)
    assert.equal("NoNewPrivs:\t0\nSeccomp:\t2\n", r.out)
  end)

  it("passes no inherited fd but stdio to the command", function()
    -- fd 7 is open in the shell that starts nsl
    local r = helper.sh("exec 7</dev/null; " .. q(helper.nsl) .. " run busybox.lua --rootfs " ..
      q(ROOT) .. " /bin/ls /proc/self/fd")
    assert.same({ 0, "0\n1\n2\n3\n" }, { r.code, r.out }) -- 3 is ls's own directory
  end)

  it("keeps no inherited fd in the init either, whose fds the command could open", function()
    -- fd 7, a host directory, is open in the shell that starts nsl: through
    -- /proc/1/fd/7 the container's root would reach the host's files
    local r = helper.sh("exec 7<" .. q(tmp) .. " 8</dev/null; " .. q(helper.nsl) ..
      " run busybox.lua --rootfs " .. q(ROOT) .. " /bin/sh -c " ..
      q("ls /proc/1/fd | tr '\n' ' '; tr '\\0' ' ' </proc/1/cmdline"))
    -- 3 is the init's signalfd, and the fd after -s the pipe nsl reads the
    -- command's code from (nsl.init_exec's status)
    local fds, status = r.out:match("^(.-) nsl%-init .* %-s (%d+) ")
    assert.same({ 0, "0 1 2 3 " .. tostring(status) }, { r.code, fds }, r.out .. r.err)
    r = helper.sh("exec 7<" .. q(tmp) .. "; " .. q(helper.nsl) .. " run busybox.lua --rootfs " ..
      q(ROOT) .. " /bin/sh -c 'ls /proc/1/fd/7/ 2>&1 || echo refused'")
    assert.same({ 0, "refused\n" }, { r.code, (r.out:gsub("^ls: [^\n]*\n", "")) }, r.err)
  end)

  it("passes the fds of c.pass_fds", function()
    local script = ROOT .. "/../pass.lua"
    helper.write(script, string.format([[
      local nsl = require "nsl"
      os.exit(nsl.container.main { rootfs = %q, pass_fds = { 7 },
        command = { "/bin/sh", "-c", "ls /proc/self/fd | tr '\n' ' '; cat <&7" } })]], ROOT))
    local r = helper.sh("exec 7<" .. q(ROOT .. "/etc/hostname") .. " 8</dev/null; " ..
      q(helper.nsl) .. " run " .. q(script))
    assert.same({ 0, "0 1 2 3 7 busybox\n" }, { r.code, r.out }, r.err)
  end)

  it("cannot push keystrokes into the user's terminal (TIOCSTI), even unconfined", function()
    local probe = ROOT .. "/bin/tiocsti"
    local built = helper.sh("cc -static -o " .. q(probe) .. " " .. q(helper.root .. "/spec/fixtures/tiocsti.c"))
    assert.equal(0, built.code, built.err)
    finally(function() os.remove(probe) end)
    -- script(1) gives nsl a terminal on stdout; --no-tty keeps it the
    -- container's stdout, without a pty of its own
    local r = helper.sh("script -qec " .. q(q(helper.nsl) .. " run busybox.lua --rootfs " .. q(ROOT) ..
      " --no-tty --seccomp unconfined /bin/tiocsti") .. " /dev/null </dev/null")
    assert.matches("EPERM", r.out)
    assert.is_nil(r.out:find("ok", 1, true))
  end)

  it("refuses a working directory outside the root through an inherited fd (CVE-2024-21626)", function()
    local outside = tmp .. "/outside"
    assert(core.mkdir(outside))
    local code = string.format("os.exit(require('nsl').container.main { rootfs = %q, tty = false, " ..
      "cwd = '/proc/self/fd/7', command = { '/bin/pwd' } })", ROOT)
    local r = helper.sh("exec 7<" .. q(outside) .. "; " .. q(helper.nsl) .. " -e " .. q(code))
    assert.same({ 125, "" }, { r.code, r.out })
    assert.matches("^nsl: setup step 'chdir': ", r.err)
  end)

  for _, user in ipairs { "", "--user 1000:1000 ", "--uid-map 0:100000:65536 --gid-map 0:100000:65536 ",
    "--no-init --user 1000:1000 " } do
    -- a change of ids clears the parent-death signal (credentials(7)): the
    -- user step's, the mapped root's of a uid map that moves the ids; it is
    -- set again before the command's exec, and by the init after its own
    it("ends the container when nsl itself is killed (the parent-death signal) " .. user, function()
      local marker = "nsl-spec-pdeathsig-" .. os.time()
      finally(function()
        for _, pid in ipairs(helper.leftovers(marker)) do core.kill(pid, "KILL") end
      end)
      os.remove(ROOT .. "/tmp/started")
      -- nsl in the background until the command runs, then SIGKILL (no
      -- signal nsl could pass on)
      local r = helper.sh(q(helper.nsl) .. " run busybox.lua --rootfs " .. q(ROOT) .. " " .. user ..
        " /bin/sh -c 'touch /tmp/started; sleep 1000; :' " .. marker .. " >/dev/null 2>&1 & nsl=$!\n" ..
        "i=0; until [ -e " .. q(ROOT .. "/tmp/started") .. " ]; do i=$((i+1)); " ..
        "[ $i -lt 500 ] || exit 9; sleep 0.01; done\n" ..
        "kill -KILL $nsl; wait $nsl; echo $?")
      assert.same({ 0, "137\n" }, { r.code, r.out }, r.err)
      os.remove(ROOT .. "/tmp/started")
      local left
      for _ = 1, 100 do
        left = helper.leftovers(marker)
        if #left == 0 then break end
        os.execute("sleep 0.05")
      end
      assert.same({}, left)
    end)
  end

  it("runs the command as pid 1 with --no-init", function()
    local r = nsl_run("--no-init /bin/sh -c 'echo $$'")
    assert.same({ 0, "1\n" }, { r.code, r.out })
  end)

  it("refuses writes with EROFS in a --readonly root", function()
    local r = nsl_run("--readonly /bin/sh -c 'touch /x 2>&1; echo rc=$?; touch /dev/shm/y; echo rc=$?'")
    assert.equal(0, r.code, r.err)
    assert.equal("touch: /x: Read-only file system\nrc=1\nrc=0\n", r.out)
    assert.is_nil(helper.read(ROOT .. "/x"))
  end)

  it("leaves the old root behind with --no-pivot (MS_MOVE + chroot)", function()
    local r = nsl_run("--no-pivot /bin/sh", PROBE)
    assert.equal(0, r.code, r.err)
    assert_standard(r.out, false)
  end)

  it("sets the hostname from --hostname", function()
    assert.equal("box\n", nsl_run("--hostname box /bin/hostname").out)
  end)

  it("reaps the orphans that the init inherits: no zombie stays", function()
    -- the background sleep is orphaned at once, then ends under the init
    local r = nsl_run("/bin/sh -c '(sleep 0.1 &); sleep 0.5; cat /proc/[0-9]*/stat | grep -c \") Z \"'")
    assert.same({ "0\n" }, { r.out }, r.err)
  end)

  it("kills every process of the container when its command ends", function()
    -- a sleep of its own length: another run's sleep is not this one's
    local sleep = string.format("sleep %d", 1000000 + require("nsl.core").getpid())
    local r = nsl_run("/bin/sh -c " .. q(sleep .. " & exec true"))
    assert.equal(0, r.code, r.err)
    local ps = helper.sh("ps -eo args | grep -c '^" .. sleep .. "$' || true")
    assert.equal("0\n", ps.out)
  end)

  it("maps a uid range in a user namespace as root with --uid-map", function()
    local r = nsl_run("--uid-map 0:100000:65536 --gid-map 0:100000:65536 /bin/sh", PROBE)
    assert.equal(0, r.code, r.err)
    local s = assert_standard(r.out, true)
    assert.equal("0 100000 65536", s.uid_map:gsub("%s+", " "):match("^%s*(.-)%s*$"))
  end)

  it("stops with the step and the errno for a setup that fails", function()
    local r = nsl_run("--rootfs /nonexistent /bin/true")
    assert.equal(125, r.code)
    assert.matches("rootfs '/nonexistent'", r.err, 1, true)
  end)
end)

describe("nsl run busybox.lua on a shared root", function()
  -- The host's / may be shared (systemd makes it so): the container's
  -- mounts must not propagate back (step propagation). The spec makes a
  -- mount namespace of its own, shares its / there, runs containers in it,
  -- and compares that namespace's mount table before and after.
  it("propagates none of the container's mounts back, with pivot_root and with --no-pivot", function()
    local tmp = helper.tmpdir()
    finally(function() helper.rmtree(tmp) end)
    local root = tmp .. "/busybox"
    local made = helper.sh(q(helper.nsl) .. " -e " .. q(string.format("require('nsl').rootfs.busybox(%q)", root)))
    assert.equal(0, made.code, made.err)
    local run = q(helper.nsl) .. " run busybox.lua --rootfs " .. q(root) .. " --no-tty "
    local host_mounts = helper.mountinfo()
    local r = helper.sh("unshare -m --propagation private -- sh -c " .. q(table.concat({
      "mount --make-rshared /",
      "echo == before; cat /proc/self/mountinfo",
      run .. "/bin/sh -c 'echo == inside; cat /proc/self/mountinfo'; echo == pivot; echo $?",
      run .. "--no-pivot /bin/true; echo == move; echo $?",
      "echo == after; cat /proc/self/mountinfo",
    }, "\n")))
    assert.equal(0, r.code, r.err)
    local s = helper.sections(r.out)
    assert.same({ "0\n", "0\n" }, { s.pivot, s.move }, r.err)
    -- the test namespace's / is shared; the container's receives from it
    -- (a slave) but sends nothing back
    assert.matches(" shared:%d+ ", ("\n" .. s.before):match("\n%d+ %d+ %S+ / / [^\n]*"))
    local inside = s.inside:match("^[^\n]*")
    assert.matches(" / %S+ master:%d+ %- ", inside)
    assert.is_nil(inside:find("shared:", 1, true))
    assert.equal(s.before, s.after)
    assert.equal(host_mounts, helper.mountinfo())
  end)
end)

describe("nsl run busybox.lua as an ordinary user", function()
  it("builds the standard container in a user namespace", function()
    local cache = helper.tmpdir()
    finally(function() helper.rmtree(cache) end)
    assert(os.execute("chown 65534:65534 " .. q(cache)))
    local r = helper.unprivileged("XDG_CACHE_HOME=" .. q(cache) .. " \"$NSL\" run busybox.lua /bin/sh", PROBE)
    assert.equal(0, r.code, r.err)
    local s = assert_standard(r.out, true)
    assert.equal("0 65534 1", s.uid_map:gsub("%s+", " "):match("^%s*(.-)%s*$"))
    assert.equal("0\n", s.id)
    -- the root was built in the user's cache
    assert.truthy(helper.read(cache .. "/nsl/busybox/bin/busybox"))
  end)

  it("passes exit codes on", function()
    local cache = helper.tmpdir()
    finally(function() helper.rmtree(cache) end)
    assert(os.execute("chown 65534:65534 " .. q(cache)))
    local env = "XDG_CACHE_HOME=" .. q(cache) .. " "
    assert.equal(3, helper.unprivileged(env .. "\"$NSL\" run busybox.lua /bin/sh -c 'exit 3'").code)
    assert.equal(137, helper.unprivileged(env .. "\"$NSL\" run busybox.lua /bin/sh -c 'kill -9 $$'").code)
    assert.equal(127, helper.unprivileged(env .. "\"$NSL\" run busybox.lua /bin/nope").code)
  end)
end)
