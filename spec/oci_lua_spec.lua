-- nsl oci lua: a bundle as a Lua script. `nsl run` of the script and
-- `nsl oci run` of the bundle must start the same container: the same
-- mounts, capabilities, ids, rlimits, seccomp mode and hostname inside.
local helper = require "helper"
local H = require "oci_harness"
local json = require "dkjson"

local q = helper.quote

-- What the container is, from inside: each mount's point, options, fstype
-- and superblock options (not its source or id: a cgroup's source is the
-- container's own), the capability sets, seccomp and no_new_privs, ids,
-- hostname, rlimits.
local PROBE = [[
echo "== mounts"
awk '{ i = 7; while ($i != "-") i++; print $5, $6, $(i + 1), $(i + 3) }' /proc/self/mountinfo
echo "== status"
grep -E '^(Cap|Seccomp|NoNewPrivs)' /proc/self/status
echo "== id"
id
hostname
echo "== limits"
cat /proc/self/limits
]]

local PROBE_ARGS = { "sh", "-c", PROBE }

describe("nsl oci lua", function()
  setup(H.setup)
  teardown(H.teardown)

  -- The script of bundle dir, written next to it; returns its path.
  local function script_of(dir)
    local r = helper.sh(q(helper.nsl) .. " oci lua --bundle " .. q(dir))
    assert.equal(0, r.code, r.err)
    local path = dir .. ".lua"
    helper.write(path, r.out)
    return path
  end

  -- Run the script with the spec's state directory.
  local function run_script(path, id)
    return helper.sh(string.format("%s run %s --root %s %s", q(helper.nsl), q(path),
      q(H.STATE), id or ""))
  end

  -- The bundle run and its script run give the same probe output.
  local function same_inside(dir, id)
    local bundle_run = H.oci("run --bundle " .. q(dir) .. " " .. id)
    assert.equal(0, bundle_run.code, bundle_run.err)
    local script_run = run_script(script_of(dir))
    assert.equal(0, script_run.code, script_run.err)
    local want, got = helper.sections(bundle_run.out), helper.sections(script_run.out)
    assert.truthy(want.mounts and want.status and want.id and want.limits, bundle_run.out)
    assert.same(want, got)
    return want
  end

  it("makes a script of the default config that starts the same container", function()
    local dir = H.bundle(H.config(function(s) s.process.args = PROBE_ARGS end))
    local inside = same_inside(dir, "default")
    assert.matches("\nbox\n", inside.id)
  end)

  it("keeps binds, tmpfs, capabilities, rlimits, seccomp and the hostname", function()
    assert(os.execute("mkdir -p " .. q(H.tmp .. "/data")))
    helper.write(H.tmp .. "/data/file", "data\n")
    local dir = H.bundle(H.config(function(s)
      s.process.args = { "sh", "-c", PROBE .. "echo '== dev'; stat -c '%A %u %g %t %T %n' /dev/zero2; " ..
        "touch /dev/x 2>&1; cat /data/file; mkdir /tmp/x 2>&1; true" }
      -- relative to the bundle: absolute in the script
      s.root.path = "../rootfs"
      table.insert(s.mounts, { destination = "/data", type = "bind", source = "../data",
        options = { "rbind", "ro", "nosuid" } })
      table.insert(s.mounts, { destination = "/tmp", type = "tmpfs", source = "tmpfs",
        options = { "nosuid", "nodev", "size=1m", "mode=1777" } })
      s.process.capabilities = { bounding = { "CAP_CHOWN", "CAP_KILL", "CAP_SETUID" },
        effective = { "CAP_CHOWN", "CAP_KILL" }, permitted = { "CAP_CHOWN", "CAP_KILL" },
        inheritable = {}, ambient = {} }
      s.process.rlimits = { { type = "RLIMIT_NOFILE", soft = 512, hard = 777 },
        { type = "RLIMIT_NPROC", soft = 100, hard = 200 } }
      s.linux.seccomp = { defaultAction = "SCMP_ACT_ALLOW", architectures = { "SCMP_ARCH_X86_64" },
        syscalls = { { names = { "mkdir", "mkdirat" }, action = "SCMP_ACT_ERRNO", errnoRet = 13 } } }
      s.hostname = "custom"
      -- a node of linux.devices in a read-only /dev
      s.linux.devices = { { path = "/dev/zero2", type = "c", major = 1, minor = 5, fileMode = 384,
        uid = 7, gid = 8 } }
      for _, m in ipairs(s.mounts) do
        if m.destination == "/dev" then m.options[#m.options + 1] = "ro" end
      end
    end))
    local inside = same_inside(dir, "extras")
    assert.matches("\ncustom\n", inside.id)
    assert.matches("Max open files +512 +777", inside.limits)
    assert.matches("Seccomp:%s+2", inside.status)
    assert.matches("/data ro,nosuid[^\n]* ext4", inside.mounts)
    assert.matches("/tmp rw,nosuid,nodev[^\n]* tmpfs [^\n]*size=1024k", inside.mounts)
    assert.matches("\n/dev ro,", inside.mounts)
    assert.matches("^crw%-%-%-%-%-%-%- 7 8 1 5 /dev/zero2\ntouch: /dev/x: Read%-only file system", inside.dev)
    local text = helper.read(dir .. ".lua")
    assert.matches('rootfs = "' .. H.ROOTFS:gsub("%p", "%%%0") .. '"', text)
    assert.matches('source = "' .. (H.tmp .. "/data"):gsub("%p", "%%%0") .. '"', text)
    -- the script's own data, not the bundle's
    local r = run_script(dir .. ".lua")
    assert.matches("data\nmkdir: can't create directory '/tmp/x': Permission denied\n$", r.out)
  end)

  it("runs a script whose read-only /dev has its flags separated by commas", function()
    local dir = H.bundle(H.config(function(s)
      s.process.args = { "sh", "-c", "grep ' /dev ' /proc/self/mountinfo | cut -d' ' -f6" }
      for _, m in ipairs(s.mounts) do
        if m.destination == "/dev" then m.options[#m.options + 1] = "ro" end
      end
    end))
    local path = script_of(dir)
    local text, n = helper.read(path):gsub('flags = "nosuid strictatime rdonly"', 'flags = "nosuid,strictatime,rdonly"')
    assert.equal(1, n)
    helper.write(path, text)
    local r = run_script(path)
    assert.same({ 0, "ro,nosuid\n" }, { r.code, r.out }, r.err)
  end)

  it("keeps the seccomp listenerPath: no agent, no container", function()
    local dir = H.bundle(H.config(function(s)
      s.process.args = { "true" }
      s.linux.seccomp = { defaultAction = "SCMP_ACT_ALLOW", listenerPath = H.tmp .. "/no-agent.sock",
        syscalls = { { names = { "mkdir", "mkdirat" }, action = "SCMP_ACT_NOTIFY" } } }
    end))
    local bundle_run = H.oci("run --bundle " .. q(dir) .. " noagent")
    assert.equal(1, bundle_run.code)
    assert.matches("seccomp listenerPath: connect", bundle_run.err, 1, true)
    local r = run_script(script_of(dir))
    assert.equal(125, r.code, r.out)
    assert.matches("seccomp listenerPath: connect", r.err, 1, true)
    assert.matches("listenerPath = ", helper.read(dir .. ".lua"), 1, true)
  end)

  it("makes a script as uid 65534 of a rootless bundle that starts the same container", function()
    local dir = H.tmp .. "/nobody"
    assert(os.execute(string.format("mkdir -p %s && cp -a %s %s/rootfs && chown -R 65534:65534 %s",
      q(dir), q(H.ROOTFS), q(dir), q(dir))))
    local r = helper.unprivileged("cd " .. q(dir) .. ' && "$NSL" oci spec --rootless')
    assert.equal(0, r.code, r.err)
    local spec = json.decode(helper.read(dir .. "/config.json"))
    spec.process.terminal = false
    spec.process.args = PROBE_ARGS
    spec.hostname = "rootless"
    helper.write(dir .. "/config.json", json.encode(spec))
    assert(os.execute("chmod 0644 " .. q(dir .. "/config.json")))
    r = helper.unprivileged("cd " .. q(dir) .. ' && "$NSL" oci --root "$PWD/state" run c')
    assert.equal(0, r.code, r.err)
    local s = helper.unprivileged("cd " .. q(dir) .. ' && "$NSL" oci lua > box.lua && ' ..
      '"$NSL" run box.lua --root "$PWD/state"')
    assert.equal(0, s.code, s.err)
    local want, got = helper.sections(r.out), helper.sections(s.out)
    assert.truthy(want.mounts and want.status and want.id and want.limits, r.out)
    assert.same(want, got)
    assert.matches("\nrootless\n", got.id)
    assert.matches("uid_map = { { 0, 65534, 1 } }", helper.read(dir .. "/box.lua"), 1, true)
  end)

  it("writes a script luacheck accepts", function()
    if os.execute("command -v luacheck > /dev/null") ~= true then
      pending("luacheck is not installed")
      return
    end
    local dir = H.bundle(H.config(function(s)
      -- a path longer than a line: the script says so to luacheck
      table.insert(s.mounts, { destination = "/long", type = "bind",
        source = H.tmp .. "/" .. string.rep("d", 120), options = { "rbind" } })
      s.linux.seccomp = { defaultAction = "SCMP_ACT_ERRNO", syscalls = {
        { names = { "read", "write", "exit", "exit_group" }, action = "SCMP_ACT_ALLOW" },
        { names = { "personality" }, action = "SCMP_ACT_ALLOW",
          args = { { index = 0, value = 8, op = "SCMP_CMP_EQ" } } } } }
    end))
    local path = script_of(dir)
    local r = helper.sh("luacheck --no-config --std lua54 " .. q(path))
    assert.equal(0, r.code, r.out .. r.err)
  end)

  it("runs the config's hooks from the script, with the state on their stdin", function()
    local out = H.tmp .. "/hook.out"
    local dir = H.bundle(H.config(function(s)
      s.process.args = { "true" }
      s.hooks = { createRuntime = { { path = "/bin/sh", args = { "sh", "-c", "cat > " .. out } } } }
    end))
    local path = script_of(dir)
    local r = run_script(path, "hooked")
    assert.equal(0, r.code, r.err)
    local state = json.decode(helper.read(out))
    assert.same({ "hooked", "created", dir }, { state.id, state.status, state.bundle })
  end)

  it("runs the script as changed: its hostname line sets the container's", function()
    local dir = H.bundle(H.config(function(s) s.process.args = { "hostname" } end))
    local path = script_of(dir)
    local text = helper.read(path)
    local changed, n = text:gsub('\n  hostname = "box",\n', '\n  hostname = "edited",\n')
    assert.equal(1, n)
    helper.write(path, changed)
    local r = run_script(path)
    assert.same({ 0, "edited\n" }, { r.code, r.out }, r.err)
  end)

  it("runs without the bundle, its root aside, and deletes the container", function()
    local dir = H.bundle(H.config(function(s) s.process.args = { "sh", "-c", "exit 3" } end))
    local path = script_of(dir)
    helper.rmtree(dir)
    local r = run_script(path, "gone")
    assert.same({ 3, "" }, { r.code, r.err })
    local _, state = H.state("gone")
    assert.matches("container gone does not exist", state.err)
  end)

  it("names the path of a missing or invalid config.json", function()
    local r = helper.sh(q(helper.nsl) .. " oci lua --bundle " .. q(H.tmp .. "/none"))
    assert.equal(1, r.code)
    assert.matches(H.tmp .. "/none/config.json", r.err, 1, true)
    local dir = H.tmp .. "/invalid"
    assert(os.execute("mkdir -p " .. q(dir)))
    helper.write(dir .. "/config.json", "{ not json")
    r = helper.sh(q(helper.nsl) .. " oci lua --bundle " .. q(dir))
    assert.equal(1, r.code)
    assert.matches(dir .. "/config.json:", r.err, 1, true)
    assert.equal("", r.out)
  end)

  it("refuses what nsl oci run refuses, with its message", function()
    local dir = H.bundle(H.config(function(s)
      for i, ns in ipairs(s.linux.namespaces) do
        if ns.type == "mount" then table.remove(s.linux.namespaces, i) end
      end
    end))
    local run = H.oci("run --bundle " .. q(dir) .. " nomnt")
    local lua = helper.sh(q(helper.nsl) .. " oci lua --bundle " .. q(dir))
    assert.equal(1, run.code)
    assert.same({ 1, run.err, "" }, { lua.code, lua.err, lua.out })
    assert.matches("no mount namespace", lua.err)
  end)

  it("documents itself in --help and refuses an argument", function()
    local r = helper.sh(q(helper.nsl) .. " oci lua --help")
    assert.equal(0, r.code, r.err)
    assert.matches("usage: nsl oci lua %[%-%-bundle DIR%]", r.out)
    r = helper.sh(q(helper.nsl) .. " oci lua " .. q(H.tmp))
    assert.same({ 1, "", "lua: unexpected argument '" .. H.tmp .. "' (the bundle is --bundle DIR)\n" },
      { r.code, r.out, r.err })
  end)
end)
