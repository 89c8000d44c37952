-- Hostile roots: images whose symlinks try to send the setup to the host
-- (runc CVE-2021-30465, LXC CVE-2015-1335, the /dev symlink CVEs). Each
-- container either starts with the symlink contained in its root (its
-- /proc, /dev, /sys and /run are what they should be, seen through the
-- links, and the host's canary is out of reach) or stops at the step that
-- refuses it; the host's files and mount table stay the same either way.
local helper = require "helper"

local q = helper.quote

local tmp, BASE, HOST, CANARY

-- The host side the links aim at: a directory with a canary file in it.
local function host_state()
  return helper.sh("cd " .. q(HOST) .. " && find . -printf '%p %y %m %s %l\\n' | sort && cat secret").out
end

-- What the container sees: its proc, /dev/null, sysfs and /run, each through
-- the image's links, and every way to the canary (its host path, and
-- through each link); shell text that prints sections (helper.sections).
local function probe()
  local canary = {}
  for _, dir in ipairs { HOST, "/proc", "/dev", "/sys", "/run", "/run/..", "/tmp", "/home", "/data" } do
    canary[#canary + 1] = dir .. "/secret"
  end
  return table.concat({
    "echo == proc; cat /proc/self/comm",
    "echo == null; stat -c '%F %t:%T' /dev/null",
    "echo == sys; stat -f -c %T /sys/kernel",
    "echo == run; stat -f -c %T /run",
    "echo == canary; cat " .. table.concat(canary, " ") .. " 2>/dev/null",
    "echo == end",
  }, "; ")
end

-- Assert that the probe's output shows a standard container and no canary.
local function assert_contained(out)
  local s = helper.sections(out)
  assert.same({ proc = "cat\n", null = "character special file 1:3\n", sys = "sysfs\n",
    run = "tmpfs\n", canary = "", ["end"] = "" }, s, out)
  assert.is_nil(out:find(CANARY, 1, true))
end

setup(function()
  tmp = helper.tmpdir()
  BASE = tmp .. "/base"
  HOST = tmp .. "/host"
  CANARY = "canary " .. tmp
  helper.busybox_root(BASE)
  assert(os.execute("mkdir -p " .. q(HOST .. "/dir") .. " && echo " .. q(CANARY) .. " > " .. q(HOST .. "/secret")))
end)

teardown(function() helper.rmtree(tmp) end)

-- The refusal of a symlink at /proc or /sys, wherever it points.
local PROC_LINK = "mount_system': '/proc' in the root is a symlink %(to '.-'%): " ..
  "/proc is mounted on a real directory only %(ELOOP%)"
local SYS_LINK = "mount_system': '/sys' in the root is a symlink %(to '.-'%): " ..
  "/sys is mounted on a real directory only %(ELOOP%)"
-- A loop at /run: the message is the C library's words for ELOOP (glibc's
-- and musl's differ) and its name. The mount is tried first (a target is
-- made only when missing), so mount_on meets the loop.
local RUN_LOOP = "mount_system': mount_on '/run' in root 'ROOT': [^\n]+ %(ELOOP%)"

-- name, the shell commands that make the root hostile (run in it), and
-- for a root that cannot start, the message of the step that stops it
local CASES = {
  -- proc and sysfs only on a real directory (runc since CVE-2019-19921)
  { "proc -> a host directory", "rm -rf proc && ln -s HOST proc", PROC_LINK },
  { "proc -> a host directory that does not exist", "rm -rf proc && ln -s HOST/new proc", PROC_LINK },
  { "dev -> a host directory", "rm -rf dev && ln -s HOST dev" },
  { "dev -> a new host directory", "rm -rf dev && ln -s HOST/newdev dev" },
  { "sys -> /", "rm -rf sys && ln -s / sys", SYS_LINK },
  { "run -> a host path", "rm -rf run && ln -s HOST/dir run" },
  { "run -> /run", "rm -rf run && ln -s /run run",
    RUN_LOOP },
  { "proc -> a .. chain out of the root", "rm -rf proc && ln -s ../../../../../../../../HOST proc",
    PROC_LINK },
  { "dev -> a relative chain through a link",
    "rm -rf dev && mkdir a && ln -s ../../../../../../HOST a/b && ln -s a/b/dir dev" },
  { "an absolute symlink loop", "rm -rf proc && ln -s /loop1 proc && ln -s /loop2 loop1 && ln -s /loop1 loop2",
    PROC_LINK },
  { "an absolute symlink loop at run", "rm -rf run && ln -s /loop1 run && ln -s /loop2 loop1 && ln -s /loop1 loop2",
    RUN_LOOP },
  { "tmp and home -> /", "rm -rf tmp home && ln -s / tmp && ln -s / home" },
}

-- A config without the mounts on /dev and without masked paths: the device
-- nodes and links are made in the image's own /dev.
local NO_DEV_MOUNTS = [[
      local c = require("nsl").container.config { rootfs = ROOT, command = COMMAND }
      for i = #c.mounts, 1, -1 do
        if c.mounts[i].target:match("^/dev") then table.remove(c.mounts, i) end
      end
      c.masked_paths = {}
      os.exit(require("nsl").container.main(c))]]

-- Configs where, without in-root resolution, the setup itself would write
-- through the image's links onto the host: a mount target below a link,
-- and device nodes with no fresh tmpfs on /dev. The command is the probe,
-- then a look at the tmpfs mounted below the link; a root that cannot start
-- has the message of the step that stops it.
local SCRIPTS = {
  { "a mount target below a link to the host", "ln -s HOST data", [[
      local c = require("nsl").container.config { rootfs = ROOT, command = COMMAND }
      table.insert(c.mounts, { source = "tmpfs", target = "/data/x/y", fstype = "tmpfs" })
      os.exit(require("nsl").container.main(c))]], "tmpfs\n" },
  { "device nodes and links in a /dev that links to the host", "rm -rf dev && ln -s HOST dev && mkdir -p .HOST",
    NO_DEV_MOUNTS, "" },
  { "device nodes and links in a /dev that links to a host path the root lacks", "rm -rf dev && ln -s HOST dev",
    NO_DEV_MOUNTS, nil, "devices': owns '/dev' in root 'ROOT': No such file or directory %(ENOENT%)" },
}

-- A copy of the base root made hostile by make, owned by who.
local function hostile_root(name, make, who)
  local root = string.format("%s/%s-%s", tmp, name, who == "root" and "root" or "nobody")
  local prepared = helper.sh(string.format("cp -a %s %s && cd %s && %s%s", q(BASE), q(root), q(root),
    make:gsub("HOST", HOST), who == "root" and "" or " && chown -R 65534:65534 ."))
  assert.equal(0, prepared.code, prepared.err)
  return root
end

-- Run "$NSL ARGS" as who over a throwaway /dev (a resolver that regressed
-- would make its nodes and links in the host's); the host's canary and
-- mount table must be what they were before.
local function run_checked(args, who)
  local before, mounts = host_state(), helper.mountinfo()
  local r
  if who == "root" then
    r = helper.sh(helper.throwaway_dev(q(helper.nsl) .. " " .. args))
  else
    r = helper.unprivileged("\"$NSL\" " .. args, nil, nil, helper.throwaway_dev)
  end
  assert.equal(before, host_state())
  assert.equal(mounts, helper.mountinfo())
  return r
end

-- Assert that the setup stopped (125) with the step's message; ROOT in
-- refused stands for the root's path.
local function assert_refused(r, refused, root)
  assert.equal(125, r.code, r.err)
  local before, after = refused:match("^(.-)ROOT(.*)$")
  if before then refused = before .. root:gsub("%p", "%%%0") .. after end
  assert.matches("^nsl: setup step '" .. refused .. "\n", r.err)
end

describe("a hostile root with a custom config", function()
  for i, case in ipairs(SCRIPTS) do
    local name, make, body, below, refused = case[1], case[2], case[3], case[4], case[5]
    for _, who in ipairs { "root", "uid 65534" } do
      local outcome = refused and "stops at the step that refuses it" or "starts contained"
      it("with " .. name .. " " .. outcome .. " and writes nothing on the host, as " .. who, function()
        local root = hostile_root("s" .. i, make, who)
        local script = root .. ".lua"
        local command = probe() .. "; echo == below; stat -f -c %T /data/x/y 2>/dev/null; true"
        helper.write(script, string.format("local ROOT = %q\nlocal COMMAND = { '/bin/sh', '-c', %q }\n",
          root, command) .. body)
        assert(os.execute("chmod 644 " .. q(script)))
        local r = run_checked("run " .. q(script), who)
        if refused then return assert_refused(r, refused, root) end
        assert.equal(0, r.code, r.err)
        local s = helper.sections(r.out)
        assert.equal(below, s.below, r.out)
        assert_contained((r.out:gsub("== below\n.*$", "")))
      end)
    end
  end
end)

describe("a hostile root", function()
  for i, case in ipairs(CASES) do
    local name, make, refused = case[1], case[2], case[3]
    for _, who in ipairs { "root", "uid 65534" } do
      local outcome = refused and "stops at the step that refuses it" or "starts contained"
      it("with " .. name .. " " .. outcome .. ", as " .. who, function()
        local root = hostile_root("r" .. i, make, who)
        local r = run_checked("run busybox.lua --rootfs " .. q(root) .. " /bin/sh -c " .. q(probe()), who)
        if refused then
          assert_refused(r, refused, root)
        else
          assert.equal(0, r.code, r.err)
          assert_contained(r.out)
        end
        assert.same({}, helper.leftovers(root))
      end)
    end
  end
end)

describe("a hostile root under plain lua5.4", function()
  -- without the nsl executable there is no C init: the init must not go
  -- looking for one in the container, where package.path (./?.lua,
  -- /usr/local/share/lua/...) now names the image's files
  it("never runs the image's nsl/init.lua in the container's init", function()
    local root = hostile_root("lua", "mkdir -p nsl usr/local/share/lua/5.4/nsl", "root")
    local planted = "io.open('/planted', 'w'):write('ran'); return { exec = function() return nil, 'planted' end }"
    helper.write(root .. "/nsl/init.lua", planted)
    helper.write(root .. "/usr/local/share/lua/5.4/nsl/init.lua", planted)
    local script = root .. ".lua"
    helper.write(script, string.format(
      "os.exit(require('nsl').container.main { rootfs = %q, command = { '/bin/echo', 'hi' } })", root))
    local r = helper.sh(helper.throwaway_dev(helper.lua5_4() .. " " .. q(script)))
    assert.same({ 0, "hi\n", "" }, { r.code, r.out, r.err })
    assert.is_nil(helper.read(root .. "/planted"))
  end)
end)
