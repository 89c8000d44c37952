-- The host as nsl found it: nsl writes only on filesystems it mounted for
-- the container, never through a host path bound in (a host /dev given as
-- the working directory or a volume once lost its /dev/ptmx that way), and
-- the protections of /proc and /sys cannot be switched off by the image.
--
-- Every run that could touch a host path runs in a private mount namespace
-- over a throwaway copy: a tmpfs on /dev there with nodes of its own.
local helper = require "helper"

local q = helper.quote

local tmp, BASE

setup(function()
  tmp = helper.tmpdir()
  BASE = tmp .. "/base"
  helper.busybox_root(BASE)
end)

teardown(function() helper.rmtree(tmp) end)

-- A copy of the busybox root, made hostile by the shell commands in make
-- (run inside it), owned by uid 65534 for an unprivileged run.
local function root_copy(name, make, who)
  local root = tmp .. "/" .. name .. "-" .. (who == "root" and "root" or "nobody")
  local r = helper.sh(string.format("cp -a %s %s && cd %s && %s%s", q(BASE), q(root), q(root),
    make or "true", who == "root" and "" or " && chown -R 65534:65534 ."))
  assert.equal(0, r.code, r.err)
  return root
end

-- Run the shell command cmd (as root or as uid 65534, with $NSL the nsl to
-- use) in a private mount namespace whose /dev is a throwaway tmpfs with
-- the nodes nsl and a shell need and a canary file; then cd to that /dev
-- and run cmd. Prints "== before" and "== after": that /dev, listed.
local function with_throwaway_dev(cmd, who)
  local list = "for f in /dev/* /dev/.[!.]*; do [ -e \"$f\" ] || [ -L \"$f\" ] || continue; " ..
    "stat -c '%n %F %t:%T %i %a %s %U' \"$f\"; readlink \"$f\" || true; done; cat /dev/canary"
  local run
  if who ~= "root" then
    local stage = helper.stage()
    run = string.format("setpriv --reuid=%d --regid=%d --clear-groups -- env -i " ..
      "PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/nonexistent XDG_CACHE_HOME=%s NSL=%s sh -c %s",
      helper.NOBODY, helper.NOBODY, q(stage .. "/cache"), q(stage .. "/bin/nsl"), q(cmd))
  else
    run = "NSL=" .. q(helper.nsl) .. " sh -c " .. q(cmd)
  end
  local script = table.concat({
    "set -e",
    "mount -t tmpfs -o mode=755 nsl-spec-dev /dev",
    "for n in 'null 1 3' 'zero 1 5' 'full 1 7' 'random 1 8' 'urandom 1 9' 'tty 5 0' 'ptmx 5 2'; do",
    "  set -- $n; mknod -m 666 /dev/$1 c $2 $3",
    "done",
    "ln -s /proc/self/fd /dev/fd",
    "echo canary > /dev/canary",
    "echo '== before'; " .. list,
    "cd /dev",
    "set +e",
    "echo '== run'",
    run .. " </dev/null; echo \"== code\"; echo $?",
    "echo '== after'; " .. list,
  }, "\n")
  local r = helper.sh("exec unshare -m --propagation private sh -c " .. q(script))
  assert.equal(0, r.code, r.out .. r.err)
  local s = helper.sections(r.out)
  return s, r
end

describe("a host /dev as the working directory", function()
  for _, who in ipairs { "root", "uid 65534" } do
    it("is left as it was by nsl run sandbox.lua, as " .. who, function()
      local s, r = with_throwaway_dev("exec \"$NSL\" run sandbox.lua /bin/true", who)
      assert.equal("0\n", s.code, r.out .. r.err)
      assert.truthy(s.before:find("/dev/ptmx character special file 5:2", 1, true), s.before)
      assert.equal(s.before, s.after)
    end)
  end

  it("is what the container sees, unchanged, when bound over the container's /dev", function()
    local s, r = with_throwaway_dev("exec \"$NSL\" run sandbox.lua /bin/sh -c " ..
      q("cat /dev/canary; ls -l /dev/ptmx"), "root")
    assert.equal("0\n", s.code, r.out .. r.err)
    assert.matches("^canary\ncrw%-rw%-rw%- +1 root +root +5, +2 .* /dev/ptmx\n$", s.run)
    assert.equal(s.before, s.after)
  end)
end)

describe("a host directory bound into the root", function()
  for _, who in ipairs { "root", "uid 65534" } do
    it("never becomes the place where a later step writes, as " .. who, function()
      local src = tmp .. "/hostdir-" .. (who == "root" and "root" or "nobody")
      assert(os.execute("mkdir -p " .. q(src) .. " && chmod 777 " .. q(src)))
      local script = src .. ".lua"
      -- a mount target below the bind would be made in the host directory
      helper.write(script, string.format([[
        local nsl = require "nsl"
        local c = nsl.container.config { rootfs = %q, command = { "/bin/true" } }
        table.insert(c.mounts, { source = %q, target = "/data", flags = "bind" })
        table.insert(c.mounts, { source = "tmpfs", target = "/data/x", fstype = "tmpfs" })
        os.exit(nsl.container.main(c))]], root_copy("volume", nil, who), src))
      assert(os.execute("chmod 644 " .. q(script)))
      local r
      if who == "root" then
        r = helper.sh(q(helper.nsl) .. " run " .. q(script))
      else
        r = helper.unprivileged("\"$NSL\" run " .. q(script))
      end
      assert.equal(125, r.code, r.err)
      assert.matches("setup step 'mount_system': mkdir_all '/data/x' in root '.+': not on a " ..
        "filesystem made for the container %(nsl never writes through a host path bound in%) " ..
        "%(EXDEV%)", r.err)
      assert.same({}, assert(require("nsl.core").readdir(src)))
    end)
  end
end)

describe("a root whose /proc is a symlink", function()
  -- proc -> dev/procl -> /p: procfs would land on /p, the /dev tmpfs would
  -- then hide the link, and the masked and read-only paths would find no
  -- /proc (runc CVE-2019-19921)
  for _, who in ipairs { "root", "uid 65534" } do
    it("is refused before anything runs, as " .. who, function()
      local root = root_copy("proclink", "rm -rf proc && ln -s dev/procl proc && " ..
        "ln -s /p dev/procl && mkdir p", who)
      local cmd = "\"$NSL\" run busybox.lua --rootfs " .. q(root) .. " /bin/echo RAN"
      local r = who == "root" and helper.sh(cmd:gsub('"%$NSL"', q(helper.nsl)))
        or helper.unprivileged(cmd)
      assert.equal(125, r.code, r.out .. r.err)
      assert.equal("", r.out)
      assert.equal("nsl: setup step 'mount_system': '/proc' in the root is a symlink " ..
        "(to 'dev/procl'): /proc is mounted on a real directory only (ELOOP)\n", r.err)
    end)
  end

  it("is refused for /sys too", function()
    local root = root_copy("syslink", "rm -rf sys && ln -s s sys && mkdir s", "root")
    local r = helper.sh(q(helper.nsl) .. " run busybox.lua --rootfs " .. q(root) .. " /bin/echo RAN")
    assert.equal(125, r.code, r.out .. r.err)
    assert.equal("", r.out)
    assert.matches("'/sys' in the root is a symlink %(to 's'%)", r.err)
  end)
end)

describe("the masked and read-only paths", function()
  for _, who in ipairs { "root", "uid 65534" } do
    it("fail closed when /proc is not the container's procfs, as " .. who, function()
      -- procfs mounted elsewhere (a config's or an image's doing): /proc/sys
      -- is missing from a directory that is no procfs
      local root = root_copy("procaway", nil, who)
      local script = root .. ".lua"
      helper.write(script, string.format([[
        local nsl = require "nsl"
        local c = nsl.container.config { rootfs = %q, command = { "/bin/echo", "RAN" } }
        for _, m in ipairs(c.mounts) do
          if m.target == "/proc" then m.target = "/p" end
        end
        os.exit(nsl.container.main(c))]], root))
      assert(os.execute("chmod 644 " .. q(script)))
      local r = who == "root" and helper.sh(q(helper.nsl) .. " run " .. q(script))
        or helper.unprivileged("\"$NSL\" run " .. q(script))
      assert.equal(125, r.code, r.out .. r.err)
      assert.equal("", r.out)
      assert.matches("^nsl: setup step 'readonly_paths': '/proc/bus' is missing and '/proc' " ..
        "is %w+, not the kernel's procfs or sysfs: the protection cannot be applied\n$", r.err)
    end)
  end

  it("fail closed when the image's /dev link puts a tmpfs over /proc", function()
    local root = root_copy("devproc", "rm -rf dev && ln -s proc dev", "root")
    local r = helper.sh(q(helper.nsl) .. " run busybox.lua --rootfs " .. q(root) ..
      " /bin/echo RAN")
    assert.equal(125, r.code, r.out .. r.err)
    assert.equal("", r.out)
    assert.matches("is missing and '/proc' is tmpfs, not the kernel's procfs or sysfs", r.err)
  end)

  it("are applied as usual on a kernel that lacks some of them", function()
    local r = helper.sh(q(helper.nsl) .. " run busybox.lua --rootfs " .. q(BASE) ..
      " /bin/sh -c " .. q("grep -c ' /proc/sys ro,' /proc/self/mountinfo; cat /proc/keys | wc -c"))
    assert.equal(0, r.code, r.err)
    assert.equal("1\n0\n", r.out)
  end)
end)

describe("sysfs in a container", function()
  for _, who in ipairs { "root", "uid 65534" } do
    it("is mounted read-only, as " .. who, function()
      -- access(2) only: nothing is written to the host's sysfs
      local cmd = "\"$NSL\" run busybox.lua --rootfs " .. q(BASE) .. " /bin/sh -c " ..
        q("awk '$5 == \"/sys\" { print $6 }' /proc/self/mountinfo; " ..
          "for f in /sys/power/state /sys/kernel/mm/ksm/run; do " ..
          "[ -e $f ] && { true >> $f; } 2>&1; done; true")
      local r = who == "root" and helper.sh(cmd:gsub('"%$NSL"', q(helper.nsl)))
        or helper.unprivileged(cmd)
      assert.equal(0, r.code, r.err)
      -- opened for appending, never written: refused by the mount
      assert.equal("ro,nosuid,nodev,noexec,relatime\n" ..
        "/bin/sh: can't create /sys/power/state: Read-only file system\n" ..
        "/bin/sh: can't create /sys/kernel/mm/ksm/run: Read-only file system\n", r.out)
    end)
  end
end)

describe("libcontainer.lua", function()
  -- early libcontainer joined paths to the root and followed an image's
  -- links onto the host; the bundled replay resolves them in the root
  for _, who in ipairs { "root", "uid 65534" } do
    it("makes nothing through an image's run -> host link, as " .. who, function()
      local host = tmp .. "/lc-host-" .. (who == "root" and "root" or "nobody")
      assert(os.execute("mkdir -p " .. q(host) .. " && chmod 777 " .. q(host)))
      local root = root_copy("lc", "rm -rf run && ln -s " .. q(host .. "/new") .. " run", who)
      local cmd = "\"$NSL\" run libcontainer.lua --rootfs " .. q(root) .. " /bin/true"
      local r = who == "root" and helper.sh(cmd:gsub('"%$NSL"', q(helper.nsl)))
        or helper.unprivileged(cmd)
      assert.equal(0, r.code, r.err)
      assert.same({}, assert(require("nsl.core").readdir(host)))
    end)
  end
end)
