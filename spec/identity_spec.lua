-- Identity and privileges of the standard container (nsl.identity and the
-- id maps of nsl.userns), seen from inside through `nsl run busybox.lua`,
-- as root and as an ordinary user (uid 65534).
local helper = require "helper"
local core = require "nsl.core"

local q = helper.quote

-- The OCI/Docker default bounding set, written out here rather than read
-- from the module under test.
local DOCKER_CAPS = { "chown", "dac_override", "fsetid", "fowner", "mknod", "net_raw",
  "setgid", "setuid", "setfcap", "setpcap", "net_bind_service", "sys_chroot", "kill",
  "audit_write" }

-- runc's and crun's default masked and read-only paths.
local MASKED = { "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
  "/sys/firmware", "/sys/devices/virtual/powercap" }
local READONLY = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" }

local function mask(names)
  local m = 0
  for _, name in ipairs(names) do m = m | (1 << core.cap_from_name(name)) end
  return m
end

local function without(list, drop)
  local out = {}
  for _, v in ipairs(list) do
    if not drop[v] then out[#out + 1] = v end
  end
  return out
end

-- The fields of a /proc/PID/status text; capability sets as numbers.
local function status(text)
  local s = {}
  for k, v in text:gmatch("([%w_]+):[ \t]*([^\n]*)") do s[k] = v end
  for _, k in ipairs { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" } do
    s[k] = s[k] and tonumber(s[k], 16)
  end
  return s
end

-- The sections of a probe's output, "== name" headed.
local sections = helper.sections

-- The paths of list that this kernel has (the container's /proc and /sys
-- are of the same kernel), each with its type.
local function present(list)
  local out = {}
  for _, path in ipairs(list) do
    local st = core.lstat(path)
    if st then out[#out + 1] = { path = path, dir = st.type == "dir" } end
  end
  return out
end

-- Inside: for each masked path, what it looks like; absent paths print
-- nothing.
local function mask_probe(paths)
  local words = {}
  for i, p in ipairs(paths) do words[i] = q(p) end
  return "for p in " .. table.concat(words, " ") .. [[; do
  if [ -d "$p" ]; then echo "$p dir $(stat -f -c %T "$p") $(ls -A "$p" | wc -l)"; touch "$p/x"
  elif [ -e "$p" ]; then echo "$p $(stat -c '%F %t:%T' "$p") $(wc -c < "$p")"; fi
done 2>&1]]
end

-- What mask_probe prints for the masked paths the kernel has.
local function masked_expected()
  local lines = {}
  for _, p in ipairs(present(MASKED)) do
    if p.dir then
      lines[#lines + 1] = p.path .. " dir tmpfs 0"
      lines[#lines + 1] = "touch: " .. p.path .. "/x: Read-only file system"
    else
      lines[#lines + 1] = p.path .. " character special file 1:3 0"
    end
  end
  return table.concat(lines, "\n") .. "\n"
end

-- The mount options of each mount point in a mountinfo text.
local function mount_options(text)
  local opts = {}
  for target, o in text:gmatch("%S+ %S+ %S+ %S+ (%S+) (%S+)[^\n]*") do opts[target] = o end
  return opts
end

local tmp, ROOT, host_mounts

local function nsl_run(args, input)
  return helper.sh(q(helper.nsl) .. " run busybox.lua --rootfs " .. q(ROOT) .. " --no-tty " ..
    args, input)
end

local function nobody_run(args, input)
  return helper.unprivileged("\"$NSL\" run busybox.lua --rootfs " .. q(ROOT) .. " --no-tty " ..
    args, input)
end

-- --user values out of range and what busybox.lua's usage error names.
local BAD_USERS = { { "-1", "uid -1" }, { "4294967295", "uid 4294967295" },
  { "4294967296", "uid 4294967296" }, { "99999999999999999999", "uid 99999999999999999999" },
  { "0:-1", "gid -1" }, { "1000:4294967295", "gid 4294967295" } }

-- Assert that run (nsl_run or nobody_run) refuses each of BAD_USERS with a
-- usage error, before it starts anything.
local function refuses_bad_users(run)
  for _, case in ipairs(BAD_USERS) do
    local r = run("--user " .. case[1] .. " /bin/sh -c 'echo ran as $(id -u)'")
    assert.same({ 2, "", "busybox.lua: bad user '" .. case[1] .. "': " .. case[2] ..
      " out of range 0..4294967294" }, { r.code, r.out, r.err:match("^[^\n]*") })
  end
end

-- container.main through the library, with the Lua fields given (text).
local function lib_run(fields)
  local code = string.format("os.exit(require('nsl').container.main { rootfs = %q, " ..
    "tty = false, %s })", ROOT, fields)
  return helper.sh(q(helper.nsl) .. " -e " .. q(code))
end

-- container.main through the library, under strace holding every capset(2)
-- 300 ms at its entry: the C init's drop of its capabilities among them. A
-- command that could run before the drop would see them in /proc/1/status.
-- The shell command line, with nsl from nsl_path (a shell word).
local function slow_drop_cmd(nsl_path, args)
  local code = string.format([[
os.exit(require("nsl").container.main { rootfs = %q, tty = false,
  command = { "/bin/cat", "/proc/1/status" }, %s })]], ROOT, args or "")
  return "strace -f -qq -o /dev/null -e trace=capset -e inject=capset:delay_enter=300000 " ..
    nsl_path .. " -e " .. q(code)
end

-- As helper.unprivileged, in a private mount namespace whose /etc/subuid
-- and /etc/subgid are binds of the given texts: the range is granted to
-- uid 65534 without touching the host's files.
local function nobody_with_subids(cmd, subuid, subgid)
  return helper.unprivileged(cmd, nil, nil, helper.with_subids(tmp, subuid, subgid))
end

setup(function()
  tmp = helper.tmpdir()
  ROOT = tmp .. "/busybox"
  local r = helper.sh(q(helper.nsl) .. " -e " ..
    q(string.format("require('nsl').rootfs.busybox(%q)", ROOT)))
  assert.equal(0, r.code, r.err)
  -- a static program that prints its real and effective uid, setuid root
  r = helper.sh(string.format("cc -static -O2 -o %s %s && chmod 4755 %s", q(ROOT .. "/bin/euid"),
    q(helper.root .. "/spec/fixtures/euid.c"), q(ROOT .. "/bin/euid")))
  assert.equal(0, r.code, r.err)
  host_mounts = helper.mountinfo()
end)

teardown(function()
  assert.equal(host_mounts, helper.mountinfo())
  helper.rmtree(tmp)
end)

describe("nsl.identity as root", function()
  it("gives root the 14 default capabilities, none inheritable or ambient, no_new_privs",
    function()
    local r = nsl_run("/bin/cat /proc/self/status")
    assert.equal(0, r.code, r.err)
    local s = status(r.out)
    assert.same({ mask(DOCKER_CAPS), mask(DOCKER_CAPS), mask(DOCKER_CAPS), 0, 0, "1" },
      { s.CapBnd, s.CapEff, s.CapPrm, s.CapInh, s.CapAmb, s.NoNewPrivs })
  end)

  it("starts a non-root --user with empty effective and permitted sets", function()
    local r = nsl_run("--user 1000:1000 /bin/sh -c " ..
      q("cat /proc/self/status; echo ==; id -u; id -g; id -G; echo $HOME"))
    assert.equal(0, r.code, r.err)
    local s = status(r.out)
    assert.same({ mask(DOCKER_CAPS), 0, 0, 0, 0, "1" },
      { s.CapBnd, s.CapEff, s.CapPrm, s.CapInh, s.CapAmb, s.NoNewPrivs })
    assert.equal("1000\n1000\n1000\n/\n", r.out:match("==\n(.*)$"))
  end)

  it("runs the init as the command's user without any capability", function()
    -- root's init empties its bounding set too, so that its exec into the
    -- sealed nsl-init gains nothing back
    local r = nsl_run("/bin/cat /proc/1/status")
    assert.equal(0, r.code, r.err)
    local s = status(r.out)
    assert.same({ 0, 0, 0, 0, 0, "0\t0\t0\t0" },
      { s.CapBnd, s.CapEff, s.CapPrm, s.CapInh, s.CapAmb, s.Uid })
    -- a non-root init may not touch its bounding set (no CAP_SETPCAP) and
    -- has no use for it: a non-root exec gains nothing from it
    r = nsl_run("--user 1000:1000 /bin/cat /proc/1/status")
    assert.equal(0, r.code, r.err)
    s = status(r.out)
    assert.same({ mask(DOCKER_CAPS), 0, 0, 0, 0, "1000\t1000\t1000\t1000" },
      { s.CapBnd, s.CapEff, s.CapPrm, s.CapInh, s.CapAmb, s.Uid })
  end)

  it("drops the init's capabilities before the command can run, however slow the init", function()
    local r = helper.sh(slow_drop_cmd(q(helper.nsl)))
    assert.equal(0, r.code, r.err)
    local s = status(r.out)
    assert.same({ 0, 0, 0, 0, 0 }, { s.CapBnd, s.CapEff, s.CapPrm, s.CapInh, s.CapAmb })
    -- with a terminal for the command too (it starts another way)
    r = helper.sh("script -qec " .. q(slow_drop_cmd(q(helper.nsl), "tty = true")) .. " /dev/null")
    assert.equal(0, r.code, r.err)
    s = status(r.out:gsub("\r", ""))
    assert.same({ 0, 0, 0, 0, 0 }, { s.CapBnd, s.CapEff, s.CapPrm, s.CapInh, s.CapAmb })
  end)

  it("adds supplementary groups with --group-add and drops the host's", function()
    local r = nsl_run("--user 1000:1000 --group-add 5 --group-add 100 id")
    assert.same({ 0, "uid=1000 gid=1000 groups=5(tty),100\n" }, { r.code, r.out }, r.err)
    r = nsl_run("id -G")
    assert.same({ 0, "0\n" }, { r.code, r.out }, r.err)
  end)

  it("resolves a user name and HOME in the container's /etc/passwd", function()
    local r = nsl_run("--user nobody /bin/sh -c 'id; echo $HOME'")
    assert.same({ 0, "uid=65534(nobody) gid=65534(nogroup)\n/nonexistent\n" }, { r.code, r.out },
      r.err)
    -- a uid without a gid gets gid 0, as in Docker; an explicit HOME stays
    r = nsl_run("--user 1000 --env HOME=/home/x /bin/sh -c 'id -u; id -g; echo $HOME'")
    assert.same({ 0, "1000\n0\n/home/x\n" }, { r.code, r.out }, r.err)
    r = nsl_run("--user nobody:nosuchgroup /bin/true")
    assert.same({ 125, "nsl: setup step 'user': no group 'nosuchgroup' in the container's " ..
      "/etc/group\n" }, { r.code, r.err })
  end)

  it("refuses a --user id out of range with a usage error (-1 meant 'stay root')", function()
    refuses_bad_users(nsl_run)
  end)

  it("stops at step 'user' for an id out of range given to the library or by --group-add",
    function()
    local r = lib_run("user = { uid = -1, gid = 0 }, command = { '/bin/true' }")
    assert.same({ 125, "nsl: setup step 'user': uid -1 out of range 0..4294967294\n" },
      { r.code, r.err })
    r = lib_run("user = { uid = 0, gid = 4294967295 }, command = { '/bin/true' }")
    assert.same({ 125, "nsl: setup step 'user': gid 4294967295 out of range 0..4294967294\n" },
      { r.code, r.err })
    r = nsl_run("--group-add -1 /bin/true")
    assert.same({ 125, "nsl: setup step 'user': gid -1 out of range 0..4294967294\n" },
      { r.code, r.err })
  end)

  it("gives a non-root user ambient capabilities with --cap-ambient", function()
    local r = nsl_run("--user 1000:1000 --cap-ambient NET_BIND_SERVICE /bin/cat /proc/self/status")
    assert.equal(0, r.code, r.err)
    local s = status(r.out)
    local bit = mask { "net_bind_service" }
    assert.same({ mask(DOCKER_CAPS), bit, bit, bit, bit },
      { s.CapBnd, s.CapEff, s.CapPrm, s.CapInh, s.CapAmb })
  end)

  it("adds and drops capabilities by name with --cap-add and --cap-drop", function()
    local r = nsl_run("--cap-add SYS_ADMIN --cap-drop NET_RAW --cap-drop cap_chown " ..
      "/bin/cat /proc/self/status")
    assert.equal(0, r.code, r.err)
    local expected = mask(without(DOCKER_CAPS, { net_raw = true, chown = true })) |
      mask { "sys_admin" }
    local s = status(r.out)
    assert.same({ expected, expected, expected }, { s.CapBnd, s.CapEff, s.CapPrm })
    r = nsl_run("--cap-drop all --cap-add kill /bin/cat /proc/self/status")
    s = status(r.out)
    assert.same({ mask { "kill" }, mask { "kill" } }, { s.CapBnd, s.CapEff })
    r = nsl_run("--cap-drop all /bin/cat /proc/self/status")
    assert.equal(0, r.code, r.err)
    s = status(r.out)
    assert.same({ 0, 0, 0 }, { s.CapBnd, s.CapEff, s.CapPrm })
  end)

  it("refuses an unknown capability before it starts anything", function()
    local r = nsl_run("--cap-add NOPE /bin/true")
    assert.equal(2, r.code)
    assert.matches("^busybox.lua: %-%-cap%-add: unknown capability 'NOPE'\n", r.err)
  end)

  it("makes mknod fail with EPERM when MKNOD is dropped", function()
    finally(function() os.remove(ROOT .. "/tmp/x") end)
    local r = nsl_run("--cap-drop MKNOD /bin/mknod /tmp/x c 1 3")
    assert.same({ 1, "mknod: /tmp/x: Operation not permitted\n" }, { r.code, r.err })
    assert.is_nil(core.lstat(ROOT .. "/tmp/x"))
    r = nsl_run("/bin/mknod /tmp/x c 1 3")
    assert.equal(0, r.code, r.err)
    assert.equal("char", core.lstat(ROOT .. "/tmp/x").type)
  end)

  it("keeps a setuid-root binary from raising privileges (no_new_privs)", function()
    local r = nsl_run("--user 1000:1000 /bin/euid")
    assert.same({ 0, "1000 1000\n" }, { r.code, r.out }, r.err)
    -- through the library with no seccomp filter (libseccomp sets
    -- no_new_privs when it loads one): the switch alone decides, and the
    -- same binary does become root once it is off
    local fields = [[user = { uid = 1000, gid = 1000 }, seccomp = "unconfined",
      command = { "/bin/sh", "-c", "/bin/euid; grep NoNewPrivs /proc/self/status" }]]
    r = lib_run(fields)
    assert.same({ 0, "1000 1000\nNoNewPrivs:\t1\n" }, { r.code, r.out }, r.err)
    r = lib_run(fields .. ", no_new_privs = false")
    assert.same({ 0, "1000 0\nNoNewPrivs:\t0\n" }, { r.code, r.out }, r.err)
  end)

  it("sets resource limits by name with --rlimit", function()
    local r = nsl_run("--rlimit nofile=1024:2048 --rlimit core=0 /bin/sh -c " ..
      q("ulimit -n; ulimit -Hn; ulimit -c; ulimit -Hc"))
    assert.same({ 0, "1024\n2048\n0\n0\n" }, { r.code, r.out }, r.err)
    -- not even real root goes beyond fs.nr_open
    local nr_open = assert(tonumber(helper.read("/proc/sys/fs/nr_open")))
    r = nsl_run(string.format("--rlimit nofile=1024:%d /bin/true", nr_open + 1))
    assert.same({ 125, string.format("nsl: setup step 'rlimits': setrlimit 'nofile' 1024 %d: " ..
      "Operation not permitted (EPERM) — nofile cannot exceed fs.nr_open (%d)\n", nr_open + 1,
      nr_open) }, { r.code, r.err })
    r = nsl_run("--rlimit nofile=lots /bin/true")
    assert.equal(2, r.code)
    assert.matches("^busybox.lua: bad rlimit 'nofile=lots': want NAME=SOFT%[:HARD%]", r.err)
  end)

  it("masks the default paths: files read empty, directories are empty read-only tmpfs", function()
    local r = nsl_run("/bin/sh -c " .. q(mask_probe(MASKED)))
    assert.equal(0, r.code, r.err)
    assert.equal(masked_expected(), r.out)
  end)

  it("makes the default read-only paths refuse writes", function()
    local r = nsl_run("/bin/sh -c " ..
      q("cat /proc/self/mountinfo; echo ==; echo spec > /proc/sys/kernel/hostname; hostname"))
    assert.equal(0, r.code, r.err)
    local info, rest = r.out:match("^(.-)==\n(.*)$")
    local opts = mount_options(info)
    local readonly = present(READONLY)
    assert.is_true(#readonly > 0)
    for _, p in ipairs(readonly) do
      assert.matches("^ro,", opts[p.path] or "(no mount)", nil, false)
    end
    assert.equal("busybox\n", rest)
    assert.matches("/proc/sys/kernel/hostname: Read%-only file system", r.err)
  end)

  it("fails on a read-only path that is a symlink to nowhere: it is there, not missing", function()
    local link = ROOT .. "/dangling"
    assert(core.symlink("/nowhere", link))
    finally(function() os.remove(link) end)
    local r = lib_run([[readonly_paths = { "/dangling" }, command = { "/bin/echo", "RAN" }]])
    assert.equal(125, r.code, r.out .. r.err)
    assert.equal("", r.out)
    assert.matches("^nsl: setup step 'readonly_paths': bind_on '/dangling' on '/dangling' " ..
      "in root '/': .*No such file or directory", r.err)
  end)

  it("makes a read-only path's submounts read-only too", function()
    local r = lib_run([[readonly_paths = { "/run" },
      mounts = (function()
        local m = {}
        for _, x in ipairs(require("nsl").container.mounts) do m[#m + 1] = x end
        m[#m + 1] = { source = "tmpfs", target = "/run/sub", fstype = "tmpfs" }
        return m
      end)(),
      command = { "/bin/sh", "-c",
        "touch /run/a; touch /run/sub/b; grep -cE ' /run(/sub)? ro,' /proc/self/mountinfo" }]])
    assert.same({ 0, "2\n" }, { r.code, r.out }, r.err)
    assert.matches("touch: /run/a: Read%-only file system\ntouch: /run/sub/b: Read%-only file system", r.err)
  end)

  it("masks nothing and leaves /proc/sys writable with --no-mask", function()
    local r = nsl_run("--no-mask /bin/sh -c " ..
      q("stat -c %F /proc/timer_list; echo spec > /proc/sys/kernel/hostname; hostname"))
    assert.same({ 0, "regular empty file\nspec\n" }, { r.code, r.out }, r.err)
  end)

  it("refuses to mask with a /dev/null that is not the null device", function()
    local function run(edit)
      local code = string.format([[
local container = require("nsl").container
local devices, links = {}, {}
for _, d in ipairs(container.devices) do devices[#devices + 1] = d end
for _, l in ipairs(container.links) do links[#links + 1] = l end
%s
os.exit(container.main { rootfs = %q, command = { "/bin/true" }, tty = false,
  devices = devices, links = links })]], edit, ROOT)
      return helper.sh(q(helper.nsl) .. " -e " .. q(code))
    end
    local r = run([[devices[1] = { "null", 1, 5 }]])
    assert.same({ 125, "nsl: setup step 'masked_paths': /dev/null is not the null device " ..
      "(char 1:3) but char 1:5\n" }, { r.code, r.err })
    -- a symlink to a writable file would make every mask a bind of it
    r = run([[links[#links + 1] = { "/proc/sys/kernel/core_pattern", "/dev/null" }]])
    assert.same({ 125, "nsl: setup step 'masked_paths': /dev/null is not the null device " ..
      "(char 1:3) but link\n" }, { r.code, r.err })
  end)

  it("passes a clean environment, --env K=V and the caller's --env K", function()
    local r = helper.sh("TERM=dumb NSL_SPEC_PASSED=yes " .. q(helper.nsl) ..
      " run busybox.lua --rootfs " .. q(ROOT) .. " --no-tty --env A=1 --env NSL_SPEC_PASSED " ..
      "--env NSL_SPEC_UNSET env")
    assert.equal(0, r.code, r.err)
    local lines = {}
    for line in r.out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    table.sort(lines)
    assert.same({ "A=1", "HOME=/root", "HOSTNAME=busybox", "NSL_SPEC_PASSED=yes",
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=dumb" }, lines)
  end)
end)

describe("nsl.identity as an ordinary user", function()
  it("gives root in the user namespace the default capabilities and no_new_privs", function()
    local r = nobody_run("/bin/sh -c " ..
      q("cat /proc/self/status; echo == uid_map; cat /proc/self/uid_map; " ..
        "echo == gid_map; cat /proc/self/gid_map; echo == setgroups; cat /proc/self/setgroups"))
    assert.equal(0, r.code, r.err)
    local s = status(r.out)
    assert.same({ mask(DOCKER_CAPS), mask(DOCKER_CAPS), mask(DOCKER_CAPS), 0, 0, "1" },
      { s.CapBnd, s.CapEff, s.CapPrm, s.CapInh, s.CapAmb, s.NoNewPrivs })
    local sec = sections(r.out)
    assert.equal("0 65534 1", (sec.uid_map:gsub("%s+", " "):match("^%s*(.-)%s*$")))
    assert.equal("0 65534 1", (sec.gid_map:gsub("%s+", " "):match("^%s*(.-)%s*$")))
    assert.equal("deny\n", sec.setgroups)
  end)

  it("drops the init's capabilities before the command can run, however slow the init", function()
    local r = helper.unprivileged("exec " .. slow_drop_cmd('"$NSL"'))
    assert.equal(0, r.code, r.err)
    local s = status(r.out)
    assert.same({ 0, 0, 0, 0, 0 }, { s.CapBnd, s.CapEff, s.CapPrm, s.CapInh, s.CapAmb })
  end)

  it("masks the default paths in a user namespace too", function()
    local r = nobody_run("/bin/sh -c " .. q(mask_probe(MASKED)))
    assert.equal(0, r.code, r.err)
    assert.equal(masked_expected(), r.out)
  end)

  it("refuses a --user id out of range with a usage error (-1 meant 'stay root')", function()
    refuses_bad_users(nobody_run)
  end)

  it("stops with the step, the id and the map for a --user the map leaves out", function()
    local r = nobody_run("--user 1000:1000 /bin/true")
    assert.same({ 125, "nsl: setup step 'user': setresgid 1000 1000 1000: Invalid argument " ..
      "(EINVAL) — gid 1000 is not mapped in the container's user namespace " ..
      "(gid_map 0 65534 1)\n" },
      { r.code, r.err })
  end)

  it("explains a --group-add that a denied setgroups refuses", function()
    local r = nobody_run("--group-add 5 /bin/true")
    assert.equal(125, r.code)
    assert.matches("^nsl: setup step 'user': setgroups '5': Operation not permitted " ..
      "%(EPERM%) — " ..
      "setgroups is denied in this user namespace", r.err)
  end)

  it("lowers rlimits but cannot raise a hard limit, and says so", function()
    local hard = assert(tonumber(helper.unprivileged("ulimit -Hn").out))
    local r = nobody_run("--rlimit nofile=64:128 /bin/sh -c 'ulimit -n; ulimit -Hn'")
    assert.same({ 0, "64\n128\n" }, { r.code, r.out }, r.err)
    r = nobody_run(string.format("--rlimit nofile=64:%d /bin/true", hard + 1))
    assert.same({ 125, string.format("nsl: setup step 'rlimits': setrlimit 'nofile' 64 %d: " ..
      "Operation not permitted (EPERM) — the hard limit cannot be raised above %d without " ..
      "CAP_SYS_RESOURCE in the host's user namespace\n", hard + 1, hard) }, { r.code, r.err })
  end)

  it("refuses a range map that /etc/subuid does not grant, naming what it grants", function()
    local r = nobody_run("--uid-map 0:100000:10 /bin/true")
    assert.same({ 125, "nsl: start: uid map 0:100000:10: the range 0:100000:10 is not covered " ..
      "by /etc/subuid, which grants user nobody (uid 65534) no range\n" }, { r.code, r.err })
  end)
end)

describe("nsl.userns range maps through newuidmap and newgidmap", function()
  local SUBUID, SUBGID = "nobody:100000:65536\n", "65534:200000:65536\n"

  local function run(args)
    return nobody_with_subids("\"$NSL\" run busybox.lua --rootfs " .. q(ROOT) .. " --no-tty " ..
      args, SUBUID, SUBGID)
  end

  it("maps the granted ranges by default, so that other users and groups exist", function()
    local r = run("--user 1000:1000 --group-add 5 /bin/sh -c " ..
      q("echo == uid_map; cat /proc/self/uid_map; echo == gid_map; cat /proc/self/gid_map; " ..
        "echo == setgroups; cat /proc/self/setgroups; echo == id; id"))
    assert.equal(0, r.code, r.err)
    local s = sections(r.out)
    assert.equal("0 65534 1 1 100000 65536", (s.uid_map:gsub("%s+", " "):match("^%s*(.-)%s*$")))
    assert.equal("0 65534 1 1 200000 65536", (s.gid_map:gsub("%s+", " "):match("^%s*(.-)%s*$")))
    assert.equal("allow\n", s.setgroups)
    assert.equal("uid=1000 gid=1000 groups=5(tty)\n", s.id)
    -- the host's files are untouched: the binds lived in their own namespace
    assert.is_nil(helper.read("/etc/subuid"):find("nobody:100000", 1, true))
  end)

  it("writes an explicit range map within the grant", function()
    local r = run("--uid-map 0:65534:1,1:100010:100 --gid-map 0:200000:1000 /bin/sh -c " ..
      q("cat /proc/self/uid_map; cat /proc/self/gid_map"))
    assert.equal(0, r.code, r.err)
    assert.equal("0 65534 1 1 100010 100 0 200000 1000",
      (r.out:gsub("%s+", " "):match("^%s*(.-)%s*$")))
  end)

  it("refuses a range beyond the grant, naming the grant", function()
    local r = run("--uid-map 0:65534:1,1:100000:70000 /bin/true")
    assert.same({ 125, "nsl: start: uid map 0:65534:1,1:100000:70000: the range 1:100000:70000 " ..
      "is not covered by /etc/subuid, which grants user nobody (uid 65534) 100000:65536\n" },
      { r.code, r.err })
  end)

  it("says which package to install when the helper is missing", function()
    local code = string.format([[
local nsl = require "nsl"
nsl.userns.helpers.uid = "/nonexistent/newuidmap"
os.exit(nsl.container.main { rootfs = %q, command = { "/bin/true" }, tty = false,
  uid_map = { { 0, 65534, 1 }, { 1, 100000, 65536 } } })]], ROOT)
    local r = nobody_with_subids("\"$NSL\" -e " .. q(code), SUBUID, SUBGID)
    assert.same({ 125, "nsl: start: uid map 0:65534:1,1:100000:65536: an ordinary user needs " ..
      "newuidmap for more than its own id: /nonexistent/newuidmap not found (Debian's uidmap " ..
      "package: apt-get install uidmap)\n" }, { r.code, r.err })
  end)
end)

-- #noasan: ASan reserves terabytes of shadow, which no 'ulimit -v' allows
-- (tools/sanitize leaves these out).
describe("nsl.identity with a hostile /etc/passwd in the image #noasan", function()
  -- Each variant is a throwaway copy of the busybox root whose /etc/passwd
  -- is made by a shell command run in it.
  local VARIANTS = {
    { name = "fifo", make = "mkfifo etc/passwd", says = "is a fifo, not a regular file" },
    { name = "zero", make = "ln -s /dev/zero etc/passwd", says = "is a char, not a regular file" },
    { name = "dir", make = "mkdir etc/passwd", says = "is a dir, not a regular file" },
    { name = "big", make = "head -c 2000000 /dev/zero | tr '\\0' x > etc/passwd",
      says = "is larger than 1048576 bytes" },
  }
  local roots = {}

  setup(function()
    for _, v in ipairs(VARIANTS) do
      local dir = tmp .. "/hostile-" .. v.name
      local r = helper.sh(string.format("cp -a %s %s && cd %s && rm etc/passwd && %s",
        q(ROOT), q(dir), q(dir), v.make))
      assert.equal(0, r.code, r.err)
      roots[v.name] = dir
    end
  end)

  -- --user someone with a 5 s timeout and 512 MiB of address space: a hang
  -- is 124 and a read without end runs out of memory, neither is the error.
  local function start(run, v)
    return run(string.format("ulimit -v 524288; exec \"%s\" run busybox.lua --rootfs %s " ..
      "--no-tty --user someone /bin/echo ran", run == helper.sh and helper.nsl or "$NSL",
      q(roots[v.name])), nil, 5)
  end

  local function check(r, v)
    assert.same({ 125, "" }, { r.code, r.out }, r.err)
    assert.equal("nsl: setup step 'user': /etc/passwd " .. v.says .. "\n", r.err)
  end

  for _, v in ipairs(VARIANTS) do
    it("refuses a " .. v.name .. " /etc/passwd at once, naming the step and the path, as root",
      function()
      check(start(helper.sh, v), v)
    end)

    it("refuses a " .. v.name .. " /etc/passwd at once as uid 65534", function()
      check(start(helper.unprivileged, v), v)
    end)
  end

  it("reads /etc/group through the same checks", function()
    local dir = tmp .. "/hostile-group"
    local r = helper.sh(string.format("cp -a %s %s && rm %s/etc/group && mkfifo %s/etc/group",
      q(ROOT), q(dir), q(dir), q(dir)))
    assert.equal(0, r.code, r.err)
    r = helper.sh(string.format("%s run busybox.lua --rootfs %s --no-tty --user nobody:nogroup " ..
      "/bin/echo ran", q(helper.nsl), q(dir)), nil, 5)
    assert.same({ 125, "", "nsl: setup step 'user': /etc/group is a fifo, not a regular file\n" },
      { r.code, r.out, r.err })
  end)
end)

describe("a protected path that is missing", function()
  -- a root whose lstat says the path is missing and whose open of any
  -- parent fails otherwise than ENOENT (EACCES here): the protection is
  -- unproven, and that is an error, never a skip
  it("fails the step when a parent cannot be opened for another reason", function()
    local identity = require "nsl.identity"
    local closing = { __close = function() end }
    local root = setmetatable({
      lstat = function() return nil, "lstat: No such file or directory", core.errno.ENOENT end,
      bind_on = function() return nil, "bind_on: No such file or directory", core.errno.ENOENT end,
      open = function(_, path)
        return nil, "open '" .. path .. "': Permission denied", core.errno.EACCES
      end,
    }, closing)
    closing.__index = root
    local root_open = core.root_open
    core.root_open = function() return root end
    finally(function() core.root_open = root_open end)
    for _, step in ipairs { "readonly_paths", "masked_paths" } do
      local ok, err = pcall(identity.step[step], { readonly_paths = { "/proc/nope/x" },
        masked_paths = { "/proc/nope/x" } })
      assert.is_false(ok, step)
      assert.matches("Permission denied", tostring(err), 1, true)
    end
  end)
end)
