-- Hostile roots: images whose symlinks try to send the setup to the host
-- (runc CVE-2021-30465, LXC CVE-2015-1335, the /dev symlink CVEs). Each
-- container either starts with the symlink contained in its root or stops
-- with a clear message; the host's files and mount table stay the same.
local helper = require "helper"

local q = helper.quote

local tmp, BASE, HOST

-- The host side the links aim at: a directory with a file in it.
local function host_state()
  return helper.sh("cd " .. q(HOST) .. " && find . -printf '%p %y %m %s %l\\n' | sort && cat secret").out
end

setup(function()
  tmp = helper.tmpdir()
  BASE = tmp .. "/base"
  HOST = tmp .. "/host"
  local r = helper.sh(q(helper.nsl) .. " -e " ..
    q(string.format("require('nsl').rootfs.busybox(%q)", BASE)))
  assert.equal(0, r.code, r.err)
  assert(os.execute("mkdir -p " .. q(HOST .. "/dir") .. " && echo secret > " .. q(HOST .. "/secret")))
end)

teardown(function() helper.rmtree(tmp) end)

-- name, then the shell commands that make the root hostile (run in it)
local CASES = {
  { "proc -> a host directory", "rm -rf proc && ln -s HOST proc" },
  { "proc -> a host directory that does not exist", "rm -rf proc && ln -s HOST/new proc" },
  { "dev -> a host directory", "rm -rf dev && ln -s HOST dev" },
  { "dev -> a new host directory", "rm -rf dev && ln -s HOST/newdev dev" },
  { "sys -> /", "rm -rf sys && ln -s / sys" },
  { "run -> a host path", "rm -rf run && ln -s HOST/dir run" },
  { "run -> /run", "rm -rf run && ln -s /run run" },
  { "proc -> a .. chain out of the root", "rm -rf proc && ln -s ../../../../../../../../HOST proc" },
  { "dev -> a relative chain through a link", "rm -rf dev && mkdir a && ln -s ../../../../../../HOST a/b && ln -s a/b/dir dev" },
  { "an absolute symlink loop", "rm -rf proc && ln -s /loop1 proc && ln -s /loop2 loop1 && ln -s /loop1 loop2" },
  { "tmp and home -> /", "rm -rf tmp home && ln -s / tmp && ln -s / home" },
}

-- Configs where, without in-root resolution, the setup itself would write
-- through the image's links onto the host: a mount target below a link,
-- and device nodes with no fresh tmpfs on /dev.
local SCRIPTS = {
  { "a mount target below a link to the host", "ln -s HOST data", [[
      local c = require("nsl").container.config { rootfs = ROOT, command = { "/bin/true" } }
      table.insert(c.mounts, { source = "tmpfs", target = "/data/x/y", fstype = "tmpfs" })
      os.exit(require("nsl").container.main(c))]] },
  { "device nodes and links in a /dev that links to the host", "rm -rf dev && ln -s HOST dev", [[
      local c = require("nsl").container.config { rootfs = ROOT, command = { "/bin/true" } }
      for i = #c.mounts, 1, -1 do
        if c.mounts[i].target:match("^/dev") then table.remove(c.mounts, i) end
      end
      c.masked_paths = {}
      os.exit(require("nsl").container.main(c))]] },
}

describe("a hostile root with a custom config", function()
  for i, case in ipairs(SCRIPTS) do
    local name, make, body = case[1], case[2], case[3]
    for _, who in ipairs { "root", "uid 65534" } do
      it("with " .. name .. " writes nothing on the host, as " .. who, function()
        local root = string.format("%s/s%d-%s", tmp, i, who == "root" and "root" or "nobody")
        local script = root .. ".lua"
        local prepared = helper.sh(string.format("cp -a %s %s && cd %s && %s%s", q(BASE), q(root), q(root),
          make:gsub("HOST", HOST), who == "root" and "" or " && chown -R 65534:65534 ."))
        assert.equal(0, prepared.code, prepared.err)
        helper.write(script, "local ROOT = " .. string.format("%q", root) .. "\n" .. body)
        assert(os.execute("chmod 644 " .. q(script)))
        local before, mounts = host_state(), helper.mountinfo()
        local r
        if who == "root" then
          r = helper.sh(q(helper.nsl) .. " run " .. q(script))
        else
          r = helper.unprivileged("\"$NSL\" run " .. q(script))
        end
        if r.code ~= 0 then
          assert.equal(125, r.code, r.err)
          assert.matches("^nsl: setup step '[%w_]+': .+ %(E%u+%)\n", r.err)
        end
        assert.equal(before, host_state())
        assert.equal(mounts, helper.mountinfo())
      end)
    end
  end
end)

describe("a hostile root", function()
  for i, case in ipairs(CASES) do
    local name, make = case[1], case[2]
    for _, who in ipairs { "root", "uid 65534" } do
      it("with " .. name .. " starts contained or stops clearly, as " .. who, function()
        local root = string.format("%s/r%d-%s", tmp, i, who == "root" and "root" or "nobody")
        local prepared = helper.sh(string.format("cp -a %s %s && cd %s && %s%s", q(BASE), q(root), q(root),
          make:gsub("HOST", HOST), who == "root" and "" or " && chown -R 65534:65534 ."))
        assert.equal(0, prepared.code, prepared.err)
        local before, mounts = host_state(), helper.mountinfo()
        local cmd = "\"$NSL\" run busybox.lua --rootfs " .. q(root) .. " /bin/true"
        local r
        if who == "root" then
          r = helper.sh(cmd:gsub('"%$NSL"', q(helper.nsl)))
        else
          r = helper.unprivileged(cmd)
        end
        if r.code ~= 0 then
          assert.equal(125, r.code, r.err)
          assert.matches("^nsl: setup step '[%w_]+': .+ %(E%u+%)\n", r.err)
        end
        assert.equal(before, host_state())
        assert.equal(mounts, helper.mountinfo())
        assert.same({}, helper.leftovers(root))
      end)
    end
  end
end)
