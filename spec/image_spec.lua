-- nsl.image and scripts/image.lua: real images from the three local
-- transports (an OCI layout made with umoci, a docker-archive written by
-- skopeo, podman's store in a private root), as root and as uid 65534.
-- Every image is built here from a busybox root: nothing is downloaded.
local helper = require "helper"
local q = helper.quote

local tmp, host_mounts
local LAYOUT, ARCHIVE, STORE
local no_podman -- why the podman spec is pending, or nil

-- What the "cfg" image's Entrypoint prints: $0|$*|$GREETING|cwd|uid.
local ENTRY = 'echo "$0|$*|$GREETING|$(pwd)|$(id -u)"'

local function image_run(args, seconds)
  return helper.sh(q(helper.nsl) .. " run image.lua " .. args, nil, seconds)
end

local function must(cmd)
  local r = helper.sh(cmd, nil, 120)
  assert(r.code == 0, cmd .. ": " .. tostring(r.err) .. tostring(r.out))
  return r
end

-- The overlay root (container.c.overlay) is another branch's: until it
-- is there, the specs that need it are pending with that reason.
local function has_overlay()
  local r = helper.sh(helper.lua5_4() .. " -e " ..
    q('io.write(tostring(require("nsl.container").step.overlay_root ~= nil))'))
  return r.out == "true"
end

setup(function()
  host_mounts = helper.mountinfo()
  tmp = helper.tmpdir()
  local bb = tmp .. "/bb"
  must(q(helper.nsl) .. " -e " .. q(string.format("require('nsl').rootfs.busybox(%q)", bb)))
  helper.write(bb .. "/etc/os-release", 'NAME="bbtest"\nID=bbtest\n')
  must("mkdir " .. q(bb .. "/work"))
  -- an owner besides root, which a root that maps only itself cannot chown to
  must("chown 65534:65534 " .. q(bb .. "/home"))
  LAYOUT = tmp .. "/layout"
  local L = q(LAYOUT)
  must(table.concat({
    "umoci init --layout " .. L,
    "umoci new --image " .. L .. ":plain",
    "umoci insert --image " .. L .. ":plain " .. q(bb) .. " /",
    "umoci config --image " .. L .. ":plain --tag cfg --config.entrypoint /bin/sh " ..
      "--config.entrypoint -c --config.entrypoint " .. q(ENTRY) .. " --config.cmd from-cmd " ..
      "--config.env GREETING=hello --config.workingdir /work --config.user nobody",
  }, " && "))
  ARCHIVE = tmp .. "/bb-archive.tar"
  must("skopeo copy --quiet oci:" .. L .. ":plain docker-archive:" .. q(ARCHIVE) ..
    ":localhost/bbarchive:latest")
  must("chmod -R a+rX " .. q(tmp))
  if os.execute("command -v podman >/dev/null") then
    must("tar -C " .. q(bb) .. " -cf " .. q(tmp .. "/bb.tar") .. " .")
    -- a private store (vfs: no mounts), no events in the host's journal,
    -- its temporary files and its lock file (/dev/shm/libpod_lock) in a
    -- mount namespace of its own
    local import = string.format("TMPDIR=%s podman --root %s --runroot %s --storage-driver vfs " ..
      "--events-backend none import %s localhost/bbtest >/dev/null", q(tmp), q(tmp .. "/store"),
      q(tmp .. "/run"), q(tmp .. "/bb.tar"))
    must("unshare -m --propagation private sh -c " ..
      q("mount -t tmpfs -o mode=1777 tmpfs /dev/shm && " .. import))
    STORE = string.format("containers-storage:[vfs@%s+%s]localhost/bbtest", tmp .. "/store",
      tmp .. "/run")
  else
    no_podman = "podman is not installed (./bootstrap test installs it as root)"
  end
end)

teardown(function()
  assert.equal(host_mounts, helper.mountinfo())
  helper.rmtree(tmp)
end)

-- The unpacked root of ref in the cache the specs' commands use.
local function cached_rootfs(ref)
  local r = must(q(helper.nsl) .. " -e " ..
    q(string.format("io.write(require('nsl.image').pull(%q).rootfs)", ref)))
  return r.out
end

describe("image.lua as root", function()
  it("runs an OCI layout made with umoci, with the command given", function()
    local r = image_run(q("oci:" .. LAYOUT .. ":plain") .. " cat /etc/os-release")
    assert.same({ 0, 'NAME="bbtest"\nID=bbtest\n' }, { r.code, r.out }, r.err)
  end)

  it("uses the image's Entrypoint, Cmd, Env, WorkingDir and User (a name from its passwd)",
    function()
      local r = image_run(q("oci:" .. LAYOUT .. ":cfg"))
      assert.same({ 0, "from-cmd||hello|/work|65534\n" }, { r.code, r.out }, r.err)
    end)

  it("replaces Cmd with the command-line arguments and keeps the Entrypoint", function()
    local r = image_run(q("oci:" .. LAYOUT .. ":cfg") .. " a b")
    assert.same({ 0, "a|b|hello|/work|65534\n" }, { r.code, r.out }, r.err)
  end)

  it("lets --user and --env override the image's", function()
    local r = image_run("--user 0 --env GREETING=bye " .. q("oci:" .. LAYOUT .. ":cfg") .. " x")
    assert.same({ 0, "x||bye|/work|0\n" }, { r.code, r.out }, r.err)
  end)

  it("takes the scripts' options: a read-only volume and a working directory", function()
    local data = tmp .. "/volume"
    assert(os.execute("mkdir -p " .. q(data) .. " && echo shared > " .. q(data .. "/x")))
    local r = image_run("-v " .. q(data .. ":/data:ro") .. " -w /work " ..
      q("oci:" .. LAYOUT .. ":plain") .. " sh -c 'cat /data/x; pwd; touch /data/y || echo ro'")
    assert.same({ 0, "shared\n/work\nro\n" }, { r.code, r.out }, r.err)
    assert.is_nil(helper.read(data .. "/y"))
  end)

  it("runs a docker-archive (what podman save and docker save write)", function()
    local r = image_run(q("docker-archive:" .. ARCHIVE) .. " sh -c 'cat /etc/os-release'")
    assert.same({ 0, 'NAME="bbtest"\nID=bbtest\n' }, { r.code, r.out }, r.err)
  end)

  it("runs an image from podman's store (containers-storage, a private root)", function()
    if no_podman then return pending(no_podman) end
    local r = image_run(q(STORE) .. " sh -c 'cat /etc/os-release'")
    assert.same({ 0, 'NAME="bbtest"\nID=bbtest\n' }, { r.code, r.out }, r.err)
  end)

  it("unpacks an image once, by manifest digest, and announces only that unpack", function()
    local cache = tmp .. "/cache-once"
    local r = must(q(helper.nsl) .. " -e " .. q(string.format([[
local image = require "nsl.image"
local said = {}
local function progress(text) said[#said + 1] = text end
local a = image.pull(%q, { cache = %q, progress = progress })
local b = image.pull(%q, { cache = %q, progress = progress })
print(a.cached, b.cached, #said, a.rootfs == b.rootfs, a.digest:match("^sha256:%%x+$") ~= nil)
print(a.rootfs:sub(#%q + 2, #%q + 8))]], "oci:" .. LAYOUT .. ":plain", cache,
      "oci:" .. LAYOUT .. ":plain", cache, cache, cache)))
    assert.equal("false\ttrue\t1\ttrue\ttrue\nsha256-\n", r.out)
    -- nothing half-made is left beside it
    local entries = helper.sh("ls -A " .. q(cache)).out
    assert.truthy(entries:match("^sha256%-%x+\n$"), entries)
  end)

  it("unpacks with --rootless as root in a user namespace that maps only itself", function()
    local r = helper.sh("unshare --user --map-root-user " .. q(helper.nsl) .. " -e " ..
      q(string.format("local img = require('nsl.image').pull(%q, { cache = %q }) " ..
        "io.write(require('nsl.core').stat(img.rootfs .. '/home').uid)",
        "oci:" .. LAYOUT .. ":plain", tmp .. "/cache-userns")))
    assert.same({ 0, "0" }, { r.code, r.out }, r.err)
  end)

  it("lets two runs unpack the same image at once, keeping one copy", function()
    local cache = tmp .. "/cache-race"
    local pull = q(helper.nsl) .. " -e " .. q(string.format(
      "io.write(require('nsl.image').pull(%q, { cache = %q }).rootfs)",
      "oci:" .. LAYOUT .. ":plain", cache))
    local r = helper.sh(string.format("%s >%s & %s >%s & wait", pull, q(tmp .. "/race1"), pull,
      q(tmp .. "/race2")))
    assert.equal(0, r.code, r.err)
    local one, two = helper.read(tmp .. "/race1"), helper.read(tmp .. "/race2")
    assert.truthy(one:match("/sha256%-%x+/rootfs$"), one .. r.err)
    assert.equal(one, two)
    assert.truthy(helper.sh("ls -A " .. q(cache)).out:match("^sha256%-%x+\n$"))
  end)

  it("prints a progress line on a first unpack when stderr is a terminal, and only then",
    function()
      local cache = tmp .. "/cache-tty"
      local cmd = string.format("XDG_CACHE_HOME=%s script -qec %s /dev/null", q(cache),
        q(q(helper.nsl) .. " run image.lua " .. q("oci:" .. LAYOUT .. ":plain") .. " true"))
      local first, second = helper.sh(cmd), helper.sh(cmd)
      assert.equal(0, first.code, first.err)
      assert.truthy(first.out:find("nsl: unpacking oci:" .. LAYOUT .. ":plain (sha256:", 1, true),
        first.out)
      assert.equal(0, second.code, second.err)
      assert.is_nil(second.out:find("unpacking", 1, true), second.out)
      -- not on a pipe or a file
      local plain = helper.sh("XDG_CACHE_HOME=" .. q(tmp .. "/cache-file") .. " " ..
        q(helper.nsl) .. " run image.lua " .. q("oci:" .. LAYOUT .. ":plain") .. " true")
      assert.same({ 0, "" }, { plain.code, plain.err })
    end)

  it("never writes the unpacked cache", function()
    local ref = "oci:" .. LAYOUT .. ":plain"
    local root = cached_rootfs(ref)
    local before = helper.sh("cd " .. q(root) .. " && ls -lR --time-style=full-iso . | md5sum").out
    image_run(q(ref) .. " sh -c 'echo changed > /etc/os-release; rm -f /bin/ls; mkdir /new'")
    local after = helper.sh("cd " .. q(root) .. " && ls -lR --time-style=full-iso . | md5sum").out
    assert.equal(before, after)
    assert.equal('NAME="bbtest"\nID=bbtest\n', helper.read(root .. "/etc/os-release"))
  end)

  it("gives the command a writable throwaway root over the cache (overlay)", function()
    if not has_overlay() then
      return pending("needs the overlay root: container.step.overlay_root is missing")
    end
    local ref = "oci:" .. LAYOUT .. ":plain"
    local root = cached_rootfs(ref)
    local r = image_run(q(ref) .. " sh -c 'echo changed > /etc/os-release; cat /etc/os-release'")
    assert.same({ 0, "changed\n" }, { r.code, r.out }, r.err)
    assert.equal('NAME="bbtest"\nID=bbtest\n', helper.read(root .. "/etc/os-release"))
  end)

  it("keeps the changes in --overlay-dir DIR for the next run", function()
    local ref = q("oci:" .. LAYOUT .. ":plain")
    local dir = tmp .. "/kept"
    if not has_overlay() then
      local r = image_run("--overlay-dir " .. q(dir) .. " " .. ref .. " true")
      assert.same({ 125, "nsl: image: --overlay-dir needs the overlay root " ..
        "(container.step.overlay_root), which this nsl does not have\n" }, { r.code, r.err })
      return pending("needs the overlay root: container.step.overlay_root is missing")
    end
    local r = image_run("--overlay-dir " .. q(dir) .. " " .. ref .. " sh -c 'echo kept > /marker'")
    assert.equal(0, r.code, r.err)
    r = image_run("--overlay-dir " .. q(dir) .. " " .. ref .. " cat /marker")
    assert.same({ 0, "kept\n" }, { r.code, r.out }, r.err)
    assert.is_nil(helper.read(cached_rootfs("oci:" .. LAYOUT .. ":plain") .. "/marker"))
  end)

  it("prints its options for --help, and exits 0", function()
    local r = image_run("--help")
    assert.equal(0, r.code, r.err)
    assert.truthy(r.out:find("usage: nsl run image.lua [OPTIONS] IMAGE [COMMAND [ARGS...]]\n", 1,
      true), r.out)
    for _, option in ipairs { "--overlay-dir DIR", "--user, -u U[:G]", "--volume, -v",
      "--env, -e" } do
      assert.truthy(r.out:find("\n  " .. option .. " ", 1, true), option)
    end
  end)

  it("refuses bad input with a clear message and the shell's exit codes", function()
    local L = "oci:" .. LAYOUT .. ":plain"
    local cases = {
      { "", 2, "image.lua: no image given\n" },
      { "--bogus " .. q(L), 2, "image.lua: unknown option '--bogus'\n" },
      { "--overlay-dir", 2, "image.lua: --overlay-dir needs a value (DIR)\n" },
      { "--user 'a:b:c' " .. q(L), 2, "image.lua: bad user 'a:b:c'" },
      { "busybox", 125, "nsl: image 'busybox': want TRANSPORT:NAME with a transport of oci, " ..
        "oci-archive, docker-archive, containers-storage, dir, docker (containers-storage:busybox " ..
        "for podman's store)\n" },
      { "oci:/nonexistent/layout", 125, "nsl: image: inspect oci:/nonexistent/layout: skopeo " ..
        "inspect: Error parsing image name \"oci:/nonexistent/layout\": " },
      { "docker://localhost:1/nothing", 125, "connect: connection refused\n" },
      { q(L), 125, "nsl: image '" .. L .. "' has no Entrypoint or Cmd: give a command " ..
        "(nsl run image.lua " .. L .. " COMMAND [ARGS...])\n" },
      { q(L) .. " /nonexistent", 127, "nsl: command not found: /nonexistent in rootfs " },
      { "--user nosuchuser " .. q(L) .. " true", 125,
        "nsl: setup step 'user': no user 'nosuchuser' in the container's /etc/passwd\n" },
    }
    for _, case in ipairs(cases) do
      local r = image_run(case[1])
      assert.equal(case[2], r.code, case[1] .. ": " .. r.err)
      assert.truthy(r.err:find(case[3], 1, true), case[1] .. ": " .. r.err)
    end
  end)

  it("removes a half-made unpack when the copy fails, and says why", function()
    -- a layout whose layer blob is cut short: inspect works, the copy fails
    local broken = tmp .. "/broken"
    must("cp -r " .. q(LAYOUT) .. " " .. q(broken))
    local big = must("ls -S " .. q(broken .. "/blobs/sha256") .. " | head -1").out:match("%S+")
    must("truncate -s 1000 " .. q(broken .. "/blobs/sha256/" .. big))
    local cache = tmp .. "/cache-broken"
    local r = helper.sh("XDG_CACHE_HOME=" .. q(cache) .. " " .. q(helper.nsl) ..
      " run image.lua " .. q("oci:" .. broken .. ":plain") .. " true")
    assert.equal(125, r.code, r.err)
    local says = "nsl: image: copy oci:" .. broken .. ":plain: skopeo copy: "
    assert.equal(says, r.err:sub(1, #says))
    assert.equal("", helper.sh("ls -A " .. q(cache .. "/nsl/images")).out)
    assert.same({}, helper.leftovers(broken))
  end)
end)

describe("nsl.image", function()
  -- image.config's error for a pulled image with this config, or its command
  local function config_of(config)
    local r = helper.sh(q(helper.nsl) .. " -e " .. q(string.format([[
local ok, c = pcall(require("nsl.image").config, { ref = "oci:x", rootfs = "/", config = %s })
io.write(ok and table.concat(c.command, " ") or c)]], config)))
    return r.out
  end

  it("refuses an image config whose Entrypoint or Cmd is not a list of strings", function()
    assert.equal("image 'oci:x': Entrypoint in the image's config is not a list of strings",
      config_of("{ Entrypoint = { 1, {} } }"))
    assert.equal("image 'oci:x': Cmd in the image's config is not a list of strings",
      config_of('{ Cmd = "/bin/sh" }'))
    assert.equal("/bin/sh -c true", config_of('{ Entrypoint = { "/bin/sh", "-c" }, Cmd = { "true" } }'))
  end)

  it("names the image and the field for a bad User", function()
    assert.equal("image 'oci:x': User 'a:b:c' in the image's config: bad user 'a:b:c': " ..
      "want UID[:GID] or NAME[:GROUP], like 1000:1000", config_of('{ User = "a:b:c", Cmd = { "x" } }'))
  end)

  it("names the call, the path and the errno when the cache cannot be made", function()
    helper.write(tmp .. "/a-file", "")
    local r = helper.sh(q(helper.nsl) .. " -e " .. q(string.format(
      "io.write(select(2, pcall(require('nsl.image').pull, %q, { cache = %q })))",
      "oci:" .. LAYOUT .. ":plain", tmp .. "/a-file/cache")))
    assert.equal("image: cache: mkdir '" .. tmp .. "/a-file/cache': Not a directory (ENOTDIR)",
      r.out)
  end)

  it("says which package to install when skopeo is missing", function()
    local r = helper.sh("PATH=/nonexistent " .. q(helper.nsl) .. " run image.lua " ..
      q("oci:" .. LAYOUT .. ":plain") .. " true")
    assert.same({ 125, "nsl: image: inspect oci:" .. LAYOUT .. ":plain: skopeo not found " ..
      "(Debian's skopeo package: apt-get install skopeo)\n" }, { r.code, r.err })
  end)
end)

describe("image.lua as uid 65534", function()
  local SUBUID, SUBGID = "nobody:100000:65536\n", "nobody:200000:65536\n"

  it("runs an OCI layout unpacked with umoci --rootless, without a subuid range", function()
    local r = helper.unprivileged('"$NSL" run image.lua ' .. q("oci:" .. LAYOUT .. ":plain") ..
      " sh -c 'id -u; cat /etc/os-release; stat -c %u /bin/busybox'", nil, 120)
    assert.same({ 0, '0\nNAME="bbtest"\nID=bbtest\n0\n' }, { r.code, r.out }, r.err)
  end)

  it("runs a docker-archive and never writes the unpacked cache", function()
    local ref = q("docker-archive:" .. ARCHIVE)
    local r = helper.unprivileged('"$NSL" run image.lua ' .. ref ..
      " sh -c 'echo changed > /etc/os-release; rm -f /bin/ls' 2>/dev/null; " ..
      '"$NSL" run image.lua ' .. ref .. " sh -c 'cat /etc/os-release; ls /bin/ls'", nil, 120)
    assert.same({ 0, 'NAME="bbtest"\nID=bbtest\n/bin/ls\n' }, { r.code, r.out }, r.err)
  end)

  it("runs the image's User with a subuid range, and says how to add one without it", function()
    local ref = q("oci:" .. LAYOUT .. ":cfg")
    local r = helper.unprivileged('"$NSL" run image.lua ' .. ref, nil, 120,
      helper.with_subids(tmp, SUBUID, SUBGID))
    assert.same({ 0, "from-cmd||hello|/work|65534\n" }, { r.code, r.out }, r.err)
    r = helper.unprivileged('"$NSL" run image.lua ' .. ref, nil, 120)
    assert.same({ 125, "nsl: image: user 'nobody' of the image needs a range of subordinate " ..
      "ids for uid 65534 (nobody), and /etc/subuid grants it none: as root, run `usermod " ..
      "--add-subuids 100000-165535 --add-subgids 100000-165535 nobody` (or add the line " ..
      "'nobody:100000:65536' to /etc/subuid and /etc/subgid)\n" }, { r.code, r.err })
  end)

  it("runs an image from its own podman store with a subuid range", function()
    -- the store is written by skopeo as 65534 (rootless podman would leave
    -- its pause process running)
    local own = tmp .. "/nobody"
    must("mkdir " .. q(own) .. " && chown 65534:65534 " .. q(own))
    local ref = string.format("containers-storage:[vfs@%s/store+%s/run]localhost/bbtest", own, own)
    local r = helper.unprivileged("skopeo copy --quiet " .. q("oci:" .. LAYOUT .. ":plain") .. " " ..
      q(ref) .. ' 2>/dev/null && "$NSL" run image.lua ' .. q(ref) ..
      " sh -c 'cat /etc/os-release'", nil, 120, helper.with_subids(tmp, SUBUID, SUBGID))
    assert.same({ 0, 'NAME="bbtest"\nID=bbtest\n' }, { r.code, r.out }, r.err)
  end)

  it("says what is missing for podman's store without a subuid range, and how to add it",
    function()
      local ref = "containers-storage:localhost/bbtest"
      local r = helper.unprivileged('"$NSL" run image.lua ' .. ref .. " true")
      assert.same({ 125, "nsl: image: podman's store (containers-storage) as an ordinary user " ..
        "needs a range of subordinate ids for uid 65534 (nobody), and /etc/subuid grants it " ..
        "none: as root, run `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 " ..
        "nobody` (or add the line 'nobody:100000:65536' to /etc/subuid and /etc/subgid)\n" },
        { r.code, r.err })
    end)
end)
