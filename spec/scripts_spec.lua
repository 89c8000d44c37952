-- The bundled scripts other than busybox.lua (see container_spec.lua), as
-- root and as uid 65534, and busybox.lua on a terminal.
local helper = require "helper"

local q = helper.quote

local tmp, ROOT, NOBODY_ROOT, host_mounts

-- A busybox root with the tutorial's /etc/os-release, readable by anyone.
setup(function()
  tmp = helper.tmpdir()
  ROOT = tmp .. "/busybox"
  local r = helper.sh(q(helper.nsl) .. " -e " ..
    q(string.format("require('nsl').rootfs.busybox(%q)", ROOT)))
  assert.equal(0, r.code, r.err)
  helper.write(ROOT .. "/etc/os-release", "NAME=Buildroot\nVERSION=2015.02\n")
  -- uid 65534's own copy, as the tutorial's user unpacks its own root
  NOBODY_ROOT = tmp .. "/nobody"
  assert(os.execute("cp -a " .. q(ROOT) .. " " .. q(NOBODY_ROOT) ..
    " && chown -R 65534:65534 " .. q(NOBODY_ROOT)))
  host_mounts = helper.mountinfo()
end)

teardown(function()
  assert.equal(host_mounts, helper.mountinfo())
  helper.rmtree(tmp)
end)

local function as_root(cmd, input)
  return helper.sh("cd " .. q(ROOT) .. " && " .. q(helper.nsl) .. " " .. cmd, input)
end

local function as_nobody(cmd, input)
  return helper.unprivileged("cd " .. q(NOBODY_ROOT) .. " && \"$NSL\" " .. cmd, input)
end

describe("scripts/unc.lua", function()
  for _, run in ipairs { { "as root", as_root }, { "as uid 65534", as_nobody } } do
    it("shows the tutorial's cat /etc/os-release " .. run[1], function()
      local r = run[2]("run unc.lua cat /etc/os-release")
      assert.same({ 0, "NAME=Buildroot\nVERSION=2015.02\n" }, { r.code, r.out }, r.err)
    end)

    it("shows the tutorial's mount table " .. run[1], function()
      local r = run[2]("run unc.lua mount")
      assert.equal(0, r.code, r.err)
      local targets = {}
      for target, fstype in r.out:gmatch("%S+ on (%S+) type (%S+)") do
        targets[#targets + 1] = target .. " " .. fstype
      end
      assert.equal(3, #targets, r.out)
      assert.equal("/ ", targets[1]:sub(1, 2))
      assert.same({ "/proc proc", "/dev tmpfs" }, { targets[2], targets[3] })
    end)

    it("shows only itself in ps awxu " .. run[1], function()
      local r = run[2]("run unc.lua ps awxu")
      assert.equal(0, r.code, r.err)
      assert.matches("^PID%s+USER%s+COMMAND\n%s+1 root%s+ps awxu\n$", r.out)
    end)
  end

  it("leaves no .pivot_root behind and passes the exit status on", function()
    assert.equal(4, as_root("run unc.lua sh -c 'exit 4'").code)
    assert.is_nil(helper.read(ROOT .. "/.pivot_root"))
  end)
end)

describe("scripts/libcontainer.lua", function()
  local PROBE = "mount; echo ==; ls /dev; echo ==; readlink /dev/ptmx; hostname"

  local function check(r)
    assert.equal(0, r.code, r.err)
    local mounts, dev, rest = r.out:match("^(.-)==\n(.-)==\n(.*)$")
    local targets = {}
    for target in mounts:gmatch("%S+ on (%S+) type") do targets[#targets + 1] = target end
    assert.same({ "/", "/proc", "/sys", "/dev", "/dev/shm", "/dev/pts", "/run" },
      { table.unpack(targets, 1, 7) })
    for _, name in ipairs { "null", "zero", "full", "random", "urandom", "tty",
      "fd", "stdin", "stdout", "stderr", "core", "ptmx" } do
      assert.matches("\n" .. name .. "\n", "\n" .. dev, 1, true)
    end
    assert.equal("pts/ptmx\nlibcontainer\n", rest)
  end

  it("runs the seed's sequence as root (mknod, MS_MOVE + chroot)", function()
    local r = as_root("run libcontainer.lua --rootfs " .. q(ROOT) .. " /bin/sh -c " .. q(PROBE))
    check(r)
  end)

  it("runs it as uid 65534, binding the nodes mknod may not make", function()
    local r = as_nobody("run libcontainer.lua --rootfs " .. q(ROOT) .. " /bin/sh -c " .. q(PROBE))
    check(r)
  end)

  it("remounts the root read-only with --readonly", function()
    local r = as_root("run libcontainer.lua --rootfs " .. q(ROOT) .. " --readonly /bin/touch /x")
    assert.equal(1, r.code)
    assert.matches("Read%-only file system", r.err)
  end)
end)

describe("scripts/sandbox.lua", function()
  local PROBE = "id -u; pwd; echo made > made.txt; touch /usr/nsl-spec 2>&1; " ..
    "ls /sys/class/net; test -e /home/nobody-secret || echo clean"

  it("binds the host read-only and the current directory read-write, as root", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    local r = helper.sh("cd " .. q(dir) .. " && " .. q(helper.nsl) .. " run sandbox.lua /bin/sh -c " .. q(PROBE))
    assert.equal(0, r.code, r.err)
    assert.equal("0\n" .. dir .. "\n" ..
      "touch: cannot touch '/usr/nsl-spec': Read-only file system\nlo\nclean\n", r.out)
    assert.equal("made\n", helper.read(dir .. "/made.txt"))
  end)

  it("runs the command as the calling user, uid 65534", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    assert(os.execute("chown 65534:65534 " .. q(dir)))
    local r = helper.unprivileged("cd " .. q(dir) .. " && \"$NSL\" run sandbox.lua /bin/sh -c " .. q(PROBE))
    assert.equal(0, r.code, r.err)
    assert.equal("65534\n" .. dir .. "\n" ..
      "touch: cannot touch '/usr/nsl-spec': Read-only file system\nlo\nclean\n", r.out)
    assert.equal("made\n", helper.read(dir .. "/made.txt"))
  end)

  it("shares the host's network with --net", function()
    local r = helper.sh(q(helper.nsl) .. " run sandbox.lua --net /bin/sh -c 'ls /sys/class/net | wc -l'")
    assert.equal(0, r.code, r.err)
    local host = helper.sh("ls /sys/class/net | wc -l")
    assert.equal(host.out, r.out)
  end)
end)

describe("busybox.lua on a terminal", function()
  -- script(1) gives nsl a pseudo-terminal as stdin; the shell reads the
  -- lines as typed
  local function on_tty(args, lines)
    local feed = "sleep 1; printf '%s\\n' " .. table.concat((function()
      local quoted = {}
      for i, l in ipairs(lines) do quoted[i] = q(l) end
      return quoted
    end)(), " ") .. "; sleep 2"
    return helper.sh("(" .. feed .. ") | script -qec " ..
      q(q(helper.nsl) .. " run busybox.lua --rootfs " .. q(ROOT) .. " " .. args) ..
      " /dev/null", nil, 30)
  end

  it("gives the shell its own pty as controlling tty and /dev/console", function()
    local r = on_tty("", { "tty; echo pid=$$; ls -l /proc/self/fd/0 | grep -c /dev/pts/ ; exit 5" })
    assert.equal(5, r.code, r.out .. r.err)
    -- pid 3: the init is 1, and 2 was the helper that made the network
    -- namespace (netns_prepare), gone before the shell started
    assert.matches("/dev/console\r?\npid=3\r?\n1\r?\n", r.out)
  end)
end)

describe("a container whose nsl dies", function()
  it("dies with it: nothing of it is left running", function()
    local marker = tostring(os.time()) .. tostring(math.random(1e6))
    local r = helper.sh(q(helper.nsl) .. " run busybox.lua --rootfs " .. q(ROOT) ..
      " /bin/sleep " .. 1000 + marker % 1000 .. " & nsl=$!; " ..
      "sleep 1; kill -9 $nsl; wait $nsl; sleep 0.5; " ..
      "pgrep -fx '/bin/sleep " .. 1000 + marker % 1000 .. "' || echo none")
    assert.equal("none\n", r.out)
  end)
end)
