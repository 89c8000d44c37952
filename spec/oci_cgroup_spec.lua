-- nsl oci: binds in a user namespace and the container's cgroups (cpuset,
-- the cgroup mount and namespace, the unified hierarchy of a hybrid host),
-- in the style of the peers' suites: a config, a run, a check from inside.
local helper = require "helper"
local json = require "dkjson"
local H = require "oci_harness"

local q = helper.quote

setup(function() H.setup() end)
teardown(function() H.teardown() end)

-- A directory below a 0700 directory of owner's, holding file f ("hello")
-- and an empty file "single"; returns the inner directory.
local function hidden_source(dir, owner)
  assert(os.execute(string.format(
    "mkdir -p %s/secret/data && echo hello > %s/secret/data/f && : > %s/secret/data/single && " ..
    "chown -R %s %s/secret && chmod 0700 %s/secret",
    q(dir), q(dir), q(dir), owner, q(dir), q(dir))))
  return dir .. "/secret/data"
end

-- The script that reads the binds of hidden_source's data at /mnt (ro)
-- and /opt/single (a file).
local READ_BINDS = "cat /mnt/f; touch /mnt/new 2>/dev/null; echo touch $?; " ..
  "test -f /opt/single && echo single"

local function bind_mounts(source)
  return {
    { destination = "/mnt", type = "bind", source = source, options = { "rbind", "ro" } },
    { destination = "/opt/single", type = "bind", source = source .. "/single", options = { "bind" } },
  }
end

describe("nsl oci binds in a user namespace", function()
  it("binds a source the container's root cannot reach, as root", function()
    local dir = H.tmp .. "/userns-bind"
    assert(os.execute(string.format("mkdir -p %s && cp -a %s %s/rootfs && chown -R 100000:100000 %s/rootfs",
      q(dir), q(H.ROOTFS), q(dir), q(dir))))
    local source = hidden_source(dir, "0:0")
    local bundle = H.bundle(H.config(function(s)
      s.root.path = dir .. "/rootfs"
      s.process.args = { "sh", "-c", READ_BINDS }
      s.linux.namespaces[#s.linux.namespaces + 1] = { type = "user" }
      s.linux.uidMappings = { { containerID = 0, hostID = 100000, size = 65536 } }
      s.linux.gidMappings = { { containerID = 0, hostID = 100000, size = 65536 } }
      for _, m in ipairs(bind_mounts(source)) do s.mounts[#s.mounts + 1] = m end
    end))
    local r = H.oci("run --bundle " .. q(bundle) .. " ub1")
    assert.same({ 0, "hello\ntouch 1\nsingle\n" }, { r.code, r.out }, r.err)
    assert.is_nil(helper.read(source .. "/new"))
  end)

  it("binds a source below a 0700 directory as uid 65534, rootless", function()
    local dir = H.tmp .. "/nobody-bind"
    assert(os.execute(string.format("mkdir -p %s && cp -a %s %s/rootfs && chown -R 65534:65534 %s",
      q(dir), q(H.ROOTFS), q(dir), q(dir))))
    local source = hidden_source(dir, "65534:65534")
    local r = helper.unprivileged("cd " .. q(dir) .. ' && "$NSL" oci spec --rootless')
    assert.equal(0, r.code, r.err)
    local spec = json.decode(helper.read(dir .. "/config.json"))
    spec.process.terminal = false
    spec.process.args = { "sh", "-c", READ_BINDS }
    spec.root.readonly = false
    for _, m in ipairs(bind_mounts(source)) do spec.mounts[#spec.mounts + 1] = m end
    helper.write(dir .. "/config.json", json.encode(spec))
    assert(os.execute("chmod 0644 " .. q(dir .. "/config.json")))
    r = helper.unprivileged("cd " .. q(dir) .. ' && "$NSL" oci --root "$PWD/state" run ub2')
    assert.same({ 0, "hello\ntouch 1\nsingle\n" }, { r.code, r.out }, r.err)
  end)
end)
