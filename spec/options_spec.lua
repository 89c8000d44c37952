-- nsl.options (one option parser for every script), the options busybox.lua
-- and sandbox.lua take from docker, podman and bwrap (volumes, tmpfs,
-- workdir, env files, aliases), a read-only root with volumes, and
-- throwaway roots (--volatile, --overlay-dir), as root and as uid 65534.
local helper = require "helper"
local options = require "nsl.options"

local q = helper.quote

describe("nsl.options", function()
  local cli = {
    script = "t.lua",
    { "--rootfs", value = "DIR", help = "the root" },
    { "--readonly", "--read-only", help = "read-only" },
    { "--no-init", key = "init", set = false, help = "no init" },
    { "--group-add", value = "G", many = true, help = "a group" },
    { "--volume", "-v", value = "SRC:DST", parse = options.volume, into = "mounts", help = "v" },
    { "--bind", value = { "SRC", "DST" }, parse = options.bind, into = "mounts", help = "b" },
  }

  it("parses flags, aliases, values, repeatable options and --name=value", function()
    local opts, rest = options.parse(cli, { "--read-only", "--rootfs=/r", "--no-init",
      "--group-add", "a", "--group-add", "b", "/bin/sh", "--readonly" })
    assert.same({ readonly = true, rootfs = "/r", init = false, group_add = { "a", "b" } }, opts)
    assert.same({ "/bin/sh", "--readonly" }, rest)
  end)

  it("ends the options at -- and keeps the order of shared lists", function()
    local opts, rest = options.parse(cli, { "-v", "/tmp:/a:ro", "--bind", "/etc", "/b", "--",
      "-v" })
    assert.same({ { source = "/tmp", target = "/a", flags = "rbind rdonly" },
      { source = "/etc", target = "/b", flags = "rbind" } }, opts.mounts)
    assert.same({ "-v" }, rest)
  end)

  it("returns nil and a message for an unknown option, a missing value, a bad value", function()
    assert.same({ nil, "unknown option '-x'" }, { options.parse(cli, { "-x" }) })
    assert.same({ nil, "--rootfs needs a value (DIR)" }, { options.parse(cli, { "--rootfs" }) })
    assert.same({ nil, "--bind needs 2 values (SRC DST)" },
      { options.parse(cli, { "--bind", "/tmp" }) })
    assert.same({ nil, "--readonly takes no value" }, { options.parse(cli, { "--readonly=1" }) })
    assert.same({ nil, "bad volume '/tmp:x': the target 'x' must be an absolute path in " ..
      "the container" }, { options.parse(cli, { "-v", "/tmp:x" }) })
    assert.same({ nil, nil, "help" }, { options.parse(cli, { "-h" }) })
  end)

  it("writes the help from the declarations", function()
    local text = options.help(cli)
    assert.matches("^usage: nsl run t.lua %[OPTIONS%]\n", text)
    assert.matches("\n  %-%-readonly, %-%-read%-only +read%-only\n", text)
    assert.matches("\n  %-%-bind SRC DST +b\n", text)
    assert.matches("\n  %-h, %-%-help +this text$", text)
  end)

  it("parses volumes, tmpfs and docker's --mount into c.mounts entries", function()
    assert.same({ source = "/etc/hostname", target = "/h", flags = "rbind" },
      options.volume("/etc/hostname:/h:rw"))
    assert.same({ source = "tmpfs", target = "/t", fstype = "tmpfs", flags = "nosuid nodev",
      data = "size=1m,mode=1777" }, options.tmpfs("/t:size=1m"))
    assert.same({ source = "tmpfs", target = "/t", fstype = "tmpfs",
      flags = "nosuid nodev rdonly", data = "size=2m,mode=700" },
      options.mount("type=tmpfs,dst=/t,tmpfs-size=2m,tmpfs-mode=700,readonly"))
    assert.same({ source = "/tmp", target = "/x", flags = "rbind rdonly" },
      options.mount("type=bind,src=/tmp,target=/x,ro=true"))
    assert.has_error(function() options.volume("/tmp:/x:z") end,
      "bad volume '/tmp:/x:z': unknown volume option 'z' (ro or rw)")
    assert.has_error(function() options.volume("/nonexistent-nsl:/x") end,
      "bad volume '/nonexistent-nsl:/x': host path '/nonexistent-nsl' does not exist " ..
      "(nsl creates nothing on the host)")
    assert.has_error(function() options.mount("type=volume,target=/x") end,
      "bad --mount 'type=volume,target=/x': type is bind or tmpfs, not 'volume'")
    assert.has_error(function() options.tmpfs("/t:size=1m;x") end,
      "bad --tmpfs '/t:size=1m;x': unknown tmpfs option 'size=1m;x'")
  end)

  it("reads env files as docker does, a later value winning", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    helper.write(dir .. "/env", "# a comment\n\nA=1\n  B = x\nHOME\n")
    assert.has_error(function() options.env_file(dir .. "/env") end,
      "bad --env-file '" .. dir .. "/env' line 4: want K=V or K, got 'B = x'")
    helper.write(dir .. "/env", "# a comment\n\nA=1\nB=two words\nHOME\n")
    local env = options.environment { { "A", "0" }, options.env_file(dir .. "/env"),
      options.env("C=3") }
    assert.same({ A = "1", B = "two words", HOME = os.getenv("HOME"), C = "3" }, env)
  end)
end)

local tmp, ROOT, NOBODY_ROOT, host_mounts
-- untouched copies for the README's example, whose /data no other spec makes
local README_ROOT, README_NOBODY_ROOT

-- A busybox root for root and a copy owned by uid 65534, as a user unpacks
-- its own.
setup(function()
  tmp = helper.tmpdir()
  ROOT = tmp .. "/busybox"
  local r = helper.sh(q(helper.nsl) .. " -e " ..
    q(string.format("require('nsl').rootfs.busybox(%q)", ROOT)))
  assert.equal(0, r.code, r.err)
  NOBODY_ROOT = tmp .. "/nobody"
  assert(os.execute("cp -a " .. q(ROOT) .. " " .. q(NOBODY_ROOT) ..
    " && chown -R 65534:65534 " .. q(NOBODY_ROOT)))
  README_ROOT, README_NOBODY_ROOT = tmp .. "/readme", tmp .. "/readme-nobody"
  assert(os.execute("cp -a " .. q(ROOT) .. " " .. q(README_ROOT) .. " && cp -a " ..
    q(NOBODY_ROOT) .. " " .. q(README_NOBODY_ROOT)))
  host_mounts = helper.mountinfo()
end)

teardown(function()
  assert.equal(host_mounts, helper.mountinfo())
  helper.rmtree(tmp)
end)

local function as_root(args)
  return helper.sh(q(helper.nsl) .. " run busybox.lua --rootfs " .. q(ROOT) .. " " .. args)
end

local function as_nobody(args)
  return helper.unprivileged("\"$NSL\" run busybox.lua --rootfs " .. q(NOBODY_ROOT) .. " " .. args)
end

local RUNS = { { "as root", as_root, 0 }, { "as uid 65534", as_nobody, 65534 } }

-- A host directory with a file, owned by uid (for the run that uses it).
local function host_dir(uid)
  local dir = helper.tmpdir()
  helper.write(dir .. "/hello", "from the host\n")
  assert(os.execute(string.format("chown -R %d:%d %s", uid, uid, q(dir))))
  return dir
end

-- What a directory holds: names, types, modes, owners, sizes, times and
-- checksums, to compare before and after.
local function listing(dir)
  local r = helper.sh("cd " .. q(dir) .. " && find . -printf '%p %y %m %U %G %s %T@ %C@ %l\\n'" ..
    " | sort && find . -type f -exec sha256sum {} + | sort")
  assert.equal(0, r.code, r.err)
  return r.out
end

describe("busybox.lua's options", function()
  it("exits 2 on an unknown option with one line and a pointer to --help", function()
    local r = as_root("-x /bin/true")
    assert.same({ 2, "", "busybox.lua: unknown option '-x'\n" ..
      "Try 'nsl run busybox.lua --help' for the options.\n" }, { r.code, r.out, r.err })
    r = as_root("-h")
    assert.same({ 0, "" }, { r.code, r.err })
    assert.matches("^usage: nsl run busybox.lua", r.out)
    assert.matches("\n  %-%-volume, %-v SRC:DST%[:ro|rw%] ", r.out)
  end)

  for _, run in ipairs(RUNS) do
    it("binds a volume, read-only with :ro, and creates nothing on the host " .. run[1], function()
      local dir = host_dir(run[3])
      finally(function() helper.rmtree(dir) end)
      -- a rw volume is the container's to write on
      local r = run[2]("--volume " .. q(dir) .. ":/data /bin/sh -c 'echo new > /data/new'")
      assert.equal(0, r.code, r.err)
      assert.equal("new\n", helper.read(dir .. "/new"))
      os.remove(dir .. "/new")
      -- nsl itself writes nothing there
      local before = listing(dir)
      r = run[2]("-v " .. q(dir) .. ":/data/in/here:ro -v " .. q(dir .. "/hello") ..
        ":/etc/greeting /bin/sh -c 'cat /data/in/here/hello /etc/greeting; " ..
        "touch /data/in/here/x 2>&1; echo rc=$?'")
      assert.equal(0, r.code, r.err)
      assert.equal("from the host\nfrom the host\n" ..
        "touch: /data/in/here/x: Read-only file system\nrc=1\n", r.out)
      assert.equal(before, listing(dir))
      -- a target inside another volume would be made on the host: refused
      r = run[2]("-v " .. q(dir) .. ":/data -v " .. q(dir) .. ":/data/sub/x /bin/true")
      assert.equal(125, r.code)
      assert.matches("setup step 'mount_system': .*EXDEV", r.err)
      assert.equal(before, listing(dir))
    end)

    it("takes bwrap's --bind/--ro-bind, --tmpfs and docker's --mount " .. run[1], function()
      local dir = host_dir(run[3])
      finally(function() helper.rmtree(dir) end)
      local r = run[2]("--bind " .. q(dir) .. " /rw --ro-bind " .. q(dir) .. " /ro " ..
        "--mount type=bind,source=" .. dir .. ",target=/m,readonly " ..
        "--tmpfs /t:size=1m,mode=700 --mount type=tmpfs,target=/t2 /bin/sh -c " ..
        q("cat /rw/hello; touch /rw/w && echo rw; touch /ro/x /m/x 2>&1; " ..
          "grep -E ' /t2? ' /proc/mounts | cut -d' ' -f2,4; stat -c %a /t /t2"))
      assert.equal(0, r.code, r.err)
      assert.equal("from the host\nrw\n" ..
        "touch: /ro/x: Read-only file system\ntouch: /m/x: Read-only file system\n" ..
        "/t rw,nosuid,nodev,relatime,size=1024k,mode=700\n" ..
        "/t2 rw,nosuid,nodev,relatime\n" ..
        "700\n1777\n", (r.out:gsub(",inode64", ""):gsub(",uid=%d+,gid=%d+", "")))
    end)

    it("takes -w (made if missing), -e, --env-file, -u, --ulimit and --rm " .. run[1], function()
      local dir = host_dir(run[3])
      finally(function() helper.rmtree(dir) end)
      helper.write(dir .. "/env", "# docker's format\nA=from file\nB=2\n")
      -- uid 65534 has no subuid range: only 0 is mapped
      local user = run[3] == 0 and "1" or "0"
      local r = run[2]("--rm -w /work/here -e B=3 --env-file " .. q(dir .. "/env") ..
        " -e C=4 -u " .. user .. ":" .. user .. " --ulimit nofile=100:200 /bin/sh -c " ..
        q("pwd; echo \"$A $B $C\"; id -u; ulimit -n"))
      assert.equal(0, r.code, r.err)
      assert.equal("/work/here\nfrom file 2 4\n" .. user .. "\n100\n", r.out)
    end)

    it("makes the working directory and mounts in a --read-only root " .. run[1], function()
      local dir = host_dir(run[3])
      finally(function() helper.rmtree(dir) end)
      local r = run[2]("--read-only -w /new -v " .. q(dir) .. ":/data /bin/sh -c " ..
        q("pwd; cat /data/hello; touch /x 2>&1"))
      assert.equal(1, r.code, r.err)
      assert.equal("/new\nfrom the host\ntouch: /x: Read-only file system\n", r.out)
    end)
  end
end)

describe("the README's library example: readonly = true with a /data bind", function()
  -- the example as the README shows it, with the test's root and data
  local function example(root, data)
    return string.format([[
local nsl = require "nsl"
local container = nsl.container
local c = container.config {
  rootfs = %q,
  command = { "/bin/sh", "-c", "echo hello from $(hostname); cat /data/hello; touch /x" },
  hostname = "box",
  readonly = true,
  tty = false,
}
table.insert(c.mounts, { source = %q, target = "/data", flags = "rbind rdonly" })
os.exit(container.main(c))]], root, data)
  end

  for _, run in ipairs(RUNS) do
    it("works as shown " .. run[1], function()
      local dir = host_dir(run[3])
      finally(function() helper.rmtree(dir) end)
      local code = example(run[3] == 0 and README_ROOT or README_NOBODY_ROOT, dir)
      local r = run[3] == 0 and helper.sh(q(helper.nsl) .. " -e " .. q(code))
        or helper.unprivileged_lua(code)
      assert.equal(1, r.code, r.err)
      assert.equal("hello from box\nfrom the host\n", r.out)
      assert.equal("touch: /x: Read-only file system\n", r.err)
    end)
  end
end)

describe("throwaway roots", function()
  -- writes, deletes, chmods and chowns in / and reads back what it did
  local CHANGES = "echo new > /scribble; rm /bin/ls; chmod 700 /etc; echo more >> /etc/passwd; " ..
    "mkdir -p /var/made; touch -d 2001-02-03 /etc/group; ls /bin/ls 2>/dev/null; cat /scribble; " ..
    "stat -c '%a' /etc; date -r /etc/group +%Y"

  for _, run in ipairs(RUNS) do
    local root = function() return run[3] == 0 and ROOT or NOBODY_ROOT end

    it("leaves the lower directory byte-identical with --volatile " .. run[1], function()
      local before = listing(root())
      local r = run[2]("--volatile /bin/sh -c " .. q(CHANGES))
      assert.equal(0, r.code, r.err)
      assert.equal("new\n700\n2001\n", r.out, r.err)
      assert.equal(before, listing(root()))
      -- the next run starts from the lower directory again
      r = run[2]("--overlay /bin/sh -c 'ls /scribble 2>&1; stat -c %a /etc'")
      assert.equal("ls: /scribble: No such file or directory\n755\n", r.out)
    end)

    it("keeps the changes in DIR/upper with --overlay-dir " .. run[1], function()
      local dir = helper.tmpdir()
      finally(function() helper.rmtree(dir) end)
      assert(os.execute(string.format("chown %d:%d %s", run[3], run[3], q(dir))))
      local before = listing(root())
      local r = run[2]("--overlay-dir " .. q(dir .. "/changes") .. " /bin/sh -c " .. q(CHANGES))
      assert.equal(0, r.code, r.err)
      assert.equal("new\n700\n2001\n", r.out, r.err)
      assert.equal(before, listing(root()))
      assert.equal("new\n", helper.read(dir .. "/changes/upper/scribble"))
      assert.truthy(helper.read(dir .. "/changes/upper/etc/passwd"):find("more\n$"))
      -- and the next run with the same directory sees them, named relative
      -- to the current directory
      local cmd = "cd " .. q(dir) .. " && %s run busybox.lua --rootfs " .. q(root()) ..
        " --overlay-dir changes /bin/cat /scribble"
      r = run[3] == 0 and helper.sh(cmd:format(q(helper.nsl)))
        or helper.unprivileged(cmd:format("\"$NSL\""))
      assert.same({ 0, "new\n" }, { r.code, r.out }, r.err)
    end)
  end

  it("refuses an --overlay-dir inside the root, which must stay as it is", function()
    local before = listing(ROOT)
    for _, dir in ipairs { ROOT .. "/tmp/changes", ROOT, tmp .. "/busybox/./var/../x" } do
      local r = as_root("--overlay-dir " .. q(dir) .. " /bin/true")
      assert.same({ 125, "nsl: setup step 'overlay_root': overlay dir '" .. dir .. "' is in the " ..
        "root '" .. ROOT .. "', which an overlay leaves as it is: put it elsewhere (EINVAL)\n" },
        { r.code, r.err })
    end
    assert.equal(before, listing(ROOT))
  end)

  it("refuses an overlay that is neither true nor { dir = DIR }", function()
    local r = helper.sh(q(helper.nsl) .. " -e " .. q(string.format(
      "os.exit(require('nsl').container.main { rootfs = %q, overlay = 'yes' })", ROOT)))
    assert.same({ 125, "nsl: container.config: overlay is true or { dir = DIR }, not 'yes'\n" },
      { r.code, r.err })
  end)
end)

describe("sandbox.lua's options", function()
  for _, run in ipairs { { "as root", 0 }, { "as uid 65534", 65534 } } do
    it("takes volumes, -w, -e and --env-file " .. run[1], function()
      local dir = host_dir(run[2])
      finally(function() helper.rmtree(dir) end)
      helper.write(dir .. "/env", "A=1\n")
      local cmd = "cd " .. q(dir) .. " && %s run sandbox.lua -v " .. q(dir .. "/hello") ..
        ":/opt/greeting:ro --tmpfs /scratch -w /scratch/w -e B=2 --env-file env -- " ..
        "/bin/sh -c " .. q("pwd; cat /opt/greeting; echo $A$B")
      local r = run[2] == 0 and helper.sh(cmd:format(q(helper.nsl)))
        or helper.unprivileged(cmd:format("\"$NSL\""))
      assert.equal(0, r.code, r.err)
      assert.equal("/scratch/w\nfrom the host\n12\n", r.out)
    end)
  end

  it("exits 2 on an unknown option with one line and a pointer to --help", function()
    local r = helper.sh(q(helper.nsl) .. " run sandbox.lua --bogus true")
    assert.same({ 2, "sandbox.lua: unknown option '--bogus'\n" ..
      "Try 'nsl run sandbox.lua --help' for the options.\n" }, { r.code, r.err })
  end)
end)
