-- nsl oci and what crun's own test suite (conformance/crun) found
-- missing: each case a config, a run and a check from inside the
-- container.
local helper = require "helper"
local json = require "dkjson"

local q = helper.quote

local H = require "oci_harness"
local config, bundle = H.config, H.bundle

setup(H.setup)
teardown(H.teardown)

local run = H.run

-- A host file with text in it, to bind into a container.
local function host_file(name, text)
  local path = H.tmp .. "/" .. name
  helper.write(path, text)
  return path
end

describe("nsl oci mount destinations that are symlinks in the root", function()
  it("binds onto the link's target, followed inside the root", function()
    assert(os.execute(string.format("mkdir -p %s/opt/zone && : > %s/opt/zone/Rome && " ..
      "ln -s ../opt/zone/Rome %s/etc/localzone", q(H.ROOTFS), q(H.ROOTFS), q(H.ROOTFS))))
    local source = host_file("zone", "bound zone\n")
    local r = run("link1", "cat /opt/zone/Rome; readlink /etc/localzone; " ..
      "grep -c ' /opt/zone/Rome ' /proc/self/mountinfo", function(s)
      s.mounts[#s.mounts + 1] = { destination = "/etc/localzone", type = "bind",
        source = source, options = { "bind", "ro" } }
    end)
    assert.equal(0, r.code, r.err)
    assert.equal("bound zone\n../opt/zone/Rome\n1\n", r.out)
  end)

  it("makes a dangling link's target, its directories too, and binds there", function()
    assert(os.execute(string.format("ln -s ../made/for/bind %s/etc/dangling", q(H.ROOTFS))))
    local source = host_file("dangling", "bound file\n")
    local r = run("link2", "cat /made/for/bind && cat /etc/dangling", function(s)
      s.mounts[#s.mounts + 1] = { destination = "/etc/dangling", type = "bind",
        source = source, options = { "bind", "ro" } }
    end)
    assert.equal(0, r.code, r.err)
    assert.equal("bound file\nbound file\n", r.out)
  end)

  it("keeps a link that leaves the root inside it", function()
    local outside = H.tmp .. "/outside"
    assert(os.execute(string.format("mkdir -p %s && ln -s %s %s/etc/escape",
      q(outside), q(outside .. "/x"), q(H.ROOTFS))))
    local source = host_file("escape", "inside\n")
    local r = run("link3", "cat " .. q(outside .. "/x"), function(s)
      s.mounts[#s.mounts + 1] = { destination = "/etc/escape", type = "bind",
        source = source, options = { "bind", "ro" } }
    end)
    assert.equal(0, r.code, r.err)
    assert.equal("inside\n", r.out)
    assert.is_nil(helper.read(outside .. "/x"))
  end)
end)

describe("nsl oci process.cwd", function()
  it("is made when the image lacks it, before the root becomes read-only", function()
    local r = run("cwd1", "pwd && stat -c '%F %u' . && touch x 2>/dev/null || echo read-only",
      function(s)
        s.root.readonly = true
        s.process.cwd = "/new/work/dir"
      end)
    assert.equal(0, r.code, r.err)
    assert.equal("/new/work/dir\ndirectory 0\nread-only\n", r.out)
  end)
end)

describe("nsl oci hooks' environment", function()
  -- a prestart hook that writes its environment to a file of the host
  local function env_of_hook(id, env)
    local out = H.tmp .. "/" .. id .. ".env"
    local r = helper.sh("NSL_SPEC_HOOK=inherited " .. H.cmd("run --bundle " ..
      q(bundle(config(function(s)
        s.process.args = { "true" }
        s.hooks = { prestart = { { path = "/bin/sh", env = env,
          args = { "sh", "-c", "env > " .. q(out) } } } }
      end))) .. " " .. id))
    assert.equal(0, r.code, r.err)
    return helper.read(out)
  end

  it("is nsl oci's own when the hook has no env, as in runc and crun", function()
    local env = env_of_hook("henv1", nil)
    assert.matches("NSL_SPEC_HOOK=inherited\n", env)
    assert.matches("PATH=", env)
  end)

  it("is exactly the hook's env when it has one", function()
    local env = env_of_hook("henv2", { "ONLY=this" })
    assert.is_nil(env:match("NSL_SPEC_HOOK"))
    assert.matches("ONLY=this\n", env)
  end)
end)

describe("nsl oci and socket activation", function()
  -- sh -c script in a container that nsl oci runs with LISTEN_FDS=1, fds 3
  -- and 4 open, and extra options
  local function activated(id, options, script)
    return helper.sh("LISTEN_FDS=1 " .. H.cmd("run " .. options .. " --bundle " ..
      q(bundle(config(function(s) s.process.args = { "sh", "-c", script } end))) ..
      " " .. id) .. " 3</dev/null 4</dev/null")
  end
  local FDS = "for fd in 3 4 5; do [ -e /proc/self/fd/$fd ] && echo fd $fd; done; true"

  it("tells the process LISTEN_FDS and LISTEN_PID=1 and passes the fds, as runc does", function()
    local r = activated("listen1", "", "echo \"$LISTEN_FDS $LISTEN_PID $$\"; " .. FDS)
    assert.equal(0, r.code, r.err)
    assert.equal("1 1 1\nfd 3\n", r.out)
  end)

  it("passes --preserve-fds after the activator's fds", function()
    local r = activated("listen2", "--preserve-fds 1", FDS)
    assert.equal(0, r.code, r.err)
    assert.equal("fd 3\nfd 4\n", r.out)
  end)
end)

describe("nsl oci capabilities of a non-root process", function()
  it("gives an inheritable set that the permitted set lacks", function()
    local r = run("capinh", "grep -E '^Cap(Inh|Prm|Eff)' /proc/self/status", function(s)
      s.process.user = { uid = 1000, gid = 1000 }
      s.process.capabilities = { bounding = { "CAP_SYS_ADMIN", "CAP_KILL" },
        inheritable = { "CAP_SYS_ADMIN" } }
    end)
    assert.equal(0, r.code, r.err)
    assert.equal("CapInh:\t0000000000200000\nCapPrm:\t0000000000000000\n" ..
      "CapEff:\t0000000000000000\n", r.out)
  end)
end)

describe("nsl oci --preserve-fds", function()
  it("passes the caller's open fds of the range, none of nsl oci's own", function()
    local dir = bundle(config(function(s)
      s.process.args = { "sh", "-c", "for fd in 3 4 5 6 7 8 9; do " ..
        "[ -e /proc/self/fd/$fd ] && echo fd $fd; done; true" }
    end))
    -- fd 3 and 5 given, 4 and 6 to 9 not: nsl oci's own pipes and
    -- files land there once it runs
    local r = helper.sh(H.cmd("run --preserve-fds 7 --bundle " .. q(dir) .. " pfds") ..
      " 3</dev/null 5</dev/null 4<&- 6<&- 7<&- 8<&- 9<&-")
    assert.equal(0, r.code, r.err)
    assert.equal("fd 3\nfd 5\n", r.out)
  end)
end)

describe("nsl oci as uid 65534", function()
  it("makes a missing working directory and binds onto a dangling link's target", function()
    -- a rootless bundle of its own: a copy of the root owned by uid 65534
    local dir = H.tmp .. "/rootless"
    assert(os.execute(string.format("mkdir -p %s && cd %s && %s oci spec --rootless && " ..
      "cp -a %s rootfs && ln -s ../made/here rootfs/etc/dangling-rootless && " ..
      "echo mine > file && chown -R 65534:65534 %s", q(dir), q(dir), q(helper.nsl),
      q(H.ROOTFS), q(dir))))
    local s = json.decode(helper.read(dir .. "/config.json"))
    s.root.path = "rootfs"
    s.process.terminal = false
    s.process.cwd = "/work/new"
    s.process.args = { "sh", "-c", "pwd && cat /made/here" }
    s.linux.uidMappings = { { containerID = 0, hostID = helper.NOBODY, size = 1 } }
    s.linux.gidMappings = { { containerID = 0, hostID = helper.NOBODY, size = 1 } }
    s.mounts[#s.mounts + 1] = { destination = "/etc/dangling-rootless", type = "bind",
      source = dir .. "/file", options = { "bind", "ro" } }
    helper.write(dir .. "/config.json", json.encode(s))
    local r = helper.unprivileged(string.format("\"$NSL\" oci --root %s run --bundle %s rl1",
      q(dir .. "/state"), q(dir)))
    assert.equal(0, r.code, r.err)
    assert.equal("/work/new\nmine\n", r.out)
  end)
end)
