local helper = require "helper"
local core = require "nsl.core"

local E = core.errno

-- Both ways a root resolves paths: openat2 RESOLVE_IN_ROOT, and the walk
-- that stands in for it where the kernel lacks openat2.
local HOWS = { "openat2", "walk" }

-- Checks that run inside a child raise plain strings (helper.in_child
-- reports them), so they compare by hand instead of with busted's assert.
-- assertions for a child process (see helper.child)
local same, equal = helper.child_same, helper.child_equal

local function octal(s) return tonumber(s, 8) end

-- Make entries under dir: { path, "dir" }, { path, "file", text } or
-- { path, "link", target }; parents are made as needed.
local function build(dir, entries)
  for _, e in ipairs(entries) do
    local path, kind, value = dir .. "/" .. e[1], e[2], e[3]
    local parent = path:match("^(.*)/[^/]+$")
    assert(os.execute("mkdir -p " .. helper.quote(parent)))
    if kind == "dir" then
      assert(core.mkdir(path))
    elseif kind == "link" then
      assert(core.symlink(value, path))
    else
      helper.write(path, value)
    end
  end
end

-- Everything about a tree that an escape could change: each entry's type,
-- mode, owner, size, times and link target, and each file's bytes.
local function snapshot(dir)
  local q = helper.quote(dir)
  local res = helper.sh("cd " .. q .. " && find . -printf '%p %y %m %U:%G %s " ..
    "%T@ %C@ %l\\n' | sort && find . -type f -exec sha256sum {} + | sort")
  assert(res.code == 0, res.err)
  return res.out
end

-- The mount points in a mountinfo text.
local function mount_points(text)
  local points = {}
  for line in text:gmatch("[^\n]+") do
    local point = line:match("^%S+ %S+ %S+ %S+ (%S+)")
    points[#points + 1] = point
  end
  return points
end

-- Raise unless every mount point in after but not in before is root or
-- below it.
local function mounts_inside(before, after, root)
  local old = {}
  for _, p in ipairs(mount_points(before)) do old[p] = (old[p] or 0) + 1 end
  for _, p in ipairs(mount_points(after)) do
    if old[p] and old[p] > 0 then
      old[p] = old[p] - 1
    elseif p ~= root and p:sub(1, #root + 1) ~= root .. "/" then
      error("a mount landed outside the root: " .. p, 2)
    end
  end
end

-- Where the host sentinels are; the hostile links point at them.
local SENTINELS = {
  { "etc/passwd", "file", "root:x:0:0:root:/root:/bin/sh\n" },
  { "etc/shadow", "file", "root:*:19000:0:99999:7:::\n" },
  { "dir/keep", "file", "keep\n" },
  { "target/keep", "file", "keep\n" },
  { "src/seen", "file", "from the host source\n" },
}

-- it(name) once per way of resolving: fn(r, root, host) runs in a child
-- with its own mount namespace (/ made rprivate first) on a root built
-- from entries ("@HOST" in a path or link is the host sentinel dir). After
-- it, the host sentinels are byte-for-byte what they were, the host's mount
-- table is unchanged, and every mount the child made is inside the root.
local function hostile_it(name, entries, fn)
  for _, how in ipairs(HOWS) do
    it(name .. " (" .. how .. ")", function()
      local root, host = helper.tmpdir(), helper.tmpdir()
      finally(function()
        helper.rmtree(root)
        helper.rmtree(host)
      end)
      build(host, SENTINELS)
      local list = {}
      for i, e in ipairs(entries) do
        list[i] = { e[1]:gsub("@HOST", host:sub(2)), e[2],
          e[3] and e[3]:gsub("@HOST", host) }
      end
      build(root, list)
      local before, mounts = snapshot(host), helper.mountinfo()
      helper.child(function()
        assert(core.mount(nil, "/", nil, "rec private"))
        local inner = helper.mountinfo()
        local r = assert(core.root_open(root, how))
        fn(r, root, host, how)
        mounts_inside(inner, helper.mountinfo(), root)
      end, { "mnt" })
      assert.equal(before, snapshot(host))
      assert.equal(mounts, helper.mountinfo())
    end)
  end
end

-- Absolute paths in these specs name the root's own host path (dir ..
-- "/x"): inside the root that is ROOT/ROOT/x, and should the resolver ever
-- regress, the escape still lands in the same temporary dir. Links that
-- name real host paths (/, /run) are only used for reads and for mounts in
-- a child's private mount namespace.

-- A fresh root dir for fn(r, dir), removed afterwards.
local function with_root(how, fn)
  local dir = helper.tmpdir()
  local r = assert(core.root_open(dir, how))
  local ok, err = pcall(fn, r, dir)
  r:close()
  helper.rmtree(dir)
  assert(ok, err)
end

-- fn(r, dir, src) in a child with a mount namespace, on a fresh root and
-- with a fresh dir src to bind from; the host's mount table is the same
-- afterwards.
local function with_mounted_root(how, fn)
  local dir, src = helper.tmpdir(), helper.tmpdir()
  local before = helper.mountinfo()
  local ok, err = helper.in_child(function()
    assert(core.mount(nil, "/", nil, "rec private"))
    fn(assert(core.root_open(dir, how)), dir, src)
  end, { "mnt" })
  local after = helper.mountinfo()
  helper.rmtree(dir)
  helper.rmtree(src)
  assert(ok, err)
  assert.equal(before, after)
end

-- What a root says of a write it refuses: the place is a host path bound in.
local NOT_OWN = "not on a filesystem made for the container " ..
  "(nsl never writes through a host path bound in)"

-- The mountinfo line of the mount on top of path, in this process.
local function mount_line(path)
  local found
  for line in io.lines("/proc/self/mountinfo") do
    if line:match("^%S+ %S+ %S+ %S+ (%S+)") == path then found = line end
  end
  return found
end

describe("nsl.root_open", function()
  it("opens a directory as a root handle with its fd and path", function()
    with_root("openat2", function(r, dir)
      assert.is_true(math.type(r:fd()) == "integer" and r:fd() > 2)
      assert.equal(dir, r:path())
      assert.equal("nsl.root '" .. dir .. "' (fd " .. r:fd() .. ")", tostring(r))
      assert.equal(core.stat(dir).ino, core.stat(r:fd()).ino)
    end)
  end)

  it("closes with close(), <close> and garbage collection", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    local r = assert(core.root_open(dir))
    local fd = r:fd()
    assert.is_true(r:close())
    assert.equal("nsl.root '" .. dir .. "' (closed)", tostring(r))
    assert.equal(dir, r:path())
    assert.is_nil(core.stat(fd))
    do
      local scoped <close> = assert(core.root_open(dir))
      fd = scoped:fd()
    end
    assert.is_nil(core.stat(fd))
    fd = assert(core.root_open(dir)):fd()
    collectgarbage()
    collectgarbage()
    assert.is_nil(core.stat(fd))
  end)

  it("returns nil, message and errno for a missing or non-directory path", function()
    assert.same({ nil, "root_open '/nonexistent/x': No such file or directory",
      E.ENOENT }, { core.root_open("/nonexistent/x") })
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    helper.write(dir .. "/f", "")
    assert.same({ nil, "root_open '" .. dir .. "/f': Not a directory", E.ENOTDIR },
      { core.root_open(dir .. "/f") })
  end)

  it("raises for bad arguments and for a closed root", function()
    assert.has_error(function() core.root_open() end,
      "bad argument #1 to 'root_open' (string expected, got no value)")
    assert.has_error(function() core.root_open("/", "follow") end,
      "bad argument #2 to 'root_open' (invalid option 'follow')")
    local r = assert(core.root_open("/tmp"))
    r:close()
    assert.has_error(function() r:open("x") end,
      "calling 'open' on bad self (root is closed)")
    assert.has_error(function() r.stat(nil, "x") end,
      "bad argument #1 to 'stat' (nsl.root expected, got nil)")
  end)
end)

for _, how in ipairs(HOWS) do
  describe("root methods (" .. how .. ")", function()
    it("opens, creates and reads files inside the root, close-on-exec", function()
      with_root(how, function(r, dir)
        assert(r:mkdir_all(dir))
        local fd = assert(r:open(dir .. "/f", "wronly creat excl", "0600"))
        assert.equal(5, core.write(fd, "hello"))
        local flags = helper.read("/proc/self/fdinfo/" .. fd:fileno()):match("flags:%s*(%d+)")
        assert.is_true(tonumber(flags, 8) & octal("2000000") ~= 0, "not O_CLOEXEC")
        fd:close()
        assert.equal("hello", helper.read(dir .. dir .. "/f"))
        assert.equal(octal("600"), core.stat(dir .. dir .. "/f").mode)
        assert.is_nil(core.stat(dir .. "/f"))
        assert(core.rename(dir .. dir .. "/f", dir .. "/f"))
        fd = assert(r:open("f"))
        assert.equal("hello", fd:read(100))
        fd:close()
        assert.same({ nil, "open 'f' in root '" .. dir .. "': File exists", E.EEXIST },
          { r:open("f", "wronly creat excl") })
        assert.same({ nil, "open 'none' in root '" .. dir .. "': No such file or directory",
          E.ENOENT }, { r:open("none") })
      end)
    end)

    it("opens the root itself for '', '/', '.' and '..'", function()
      with_root(how, function(r, dir)
        local ino = core.stat(dir).ino
        assert(r:mkdir_all("a"))
        for _, p in ipairs({ "", "/", ".", "..", "../../..", "/a/../.." }) do
          local fd = assert(r:open(p, "path directory"))
          assert.equal(ino, core.stat(fd).ino, p)
          fd:close()
        end
      end)
    end)

    it("follows symlinks inside the root unless nofollow", function()
      with_root(how, function(r, dir)
        helper.write(dir .. "/file", "inside")
        assert(r:symlink("/file", "abs"))
        assert(r:symlink("file", "rel"))
        for _, p in ipairs({ "abs", "rel" }) do
          local fd = assert(r:open(p))
          assert.equal("inside", fd:read(100))
          fd:close()
        end
        assert.same({ nil, "open 'abs' in root '" .. dir ..
          "': Too many levels of symbolic links", E.ELOOP },
          { r:open("abs", "rdonly nofollow") })
        local fd = assert(r:open("abs", "path nofollow"))
        assert.equal("link", core.stat(fd).type)
        fd:close()
      end)
    end)

    it("makes missing directories with mkdir_all, with a mode", function()
      with_root(how, function(r, dir)
        assert.is_true(r:mkdir_all("a/b/c", "0700"))
        assert.equal(octal("700"), core.stat(dir .. "/a/b/c").mode)
        assert.equal(octal("700"), core.stat(dir .. "/a").mode)
        assert.is_true(r:mkdir_all("a/b/c/"))
        assert.is_true(r:mkdir_all(dir .. "/abs"))
        assert.equal("dir", core.stat(dir .. dir .. "/abs").type)
        assert.is_nil(core.stat(dir .. "/abs"))
        assert.is_true(r:mkdir_all("a"))
        helper.write(dir .. "/a/file", "")
        assert.same({ nil, "mkdir_all 'a/file/x' in root '" .. dir ..
          "': Not a directory", E.ENOTDIR }, { r:mkdir_all("a/file/x") })
        assert.is_true(r:mkdir_all("a/b/../d"))
        assert.equal("dir", core.stat(dir .. "/a/d").type)
        -- deeper than the walk keeps in itself (16), and back up again
        local deep = string.rep("n/", 40) .. "end"
        assert.is_true(r:mkdir_all(deep))
        assert.equal("dir", core.stat(dir .. "/" .. deep).type)
        assert.is_true(r:touch(deep .. "/f"))
        assert.is_true(r:touch(deep .. string.rep("/..", 38) .. "/f"))
        assert.equal("file", core.stat(dir .. "/n/n/n/f").type)
      end)
    end)

    it("makes device nodes and fifos with mknod", function()
      with_root(how, function(r, dir)
        local old = core.umask(0)
        local ok, err, errno = r:mknod("null", "char", "0666", 1, 3)
        core.umask(old)
        assert.same({ true }, { ok, err, errno })
        local st = assert(r:stat("null"))
        assert.same({ "char", octal("666"), 1, 3 }, { st.type, st.mode, st.major, st.minor })
        assert.is_true(core.is_char_device(dir .. "/null", 1, 3))
        assert(r:mknod("fifo", "fifo", "0600"))
        assert.equal("fifo", r:lstat("fifo").type)
        assert.same({ nil, "mknod 'null' in root '" .. dir .. "': File exists", E.EEXIST },
          { r:mknod("null", "char", "0666", 1, 3) })
        assert.same({ nil, "mknod '/' in root '" .. dir .. "': File exists", E.EEXIST },
          { r:mknod("/", "fifo", "0600") })
      end)
    end)

    it("makes, reads and removes symlinks", function()
      with_root(how, function(r, dir)
        assert.is_true(r:symlink("/etc/passwd", "l"))
        assert.equal("/etc/passwd", core.readlink(dir .. "/l"))
        assert.equal("/etc/passwd", r:readlink("l"))
        assert.equal("link", r:lstat("l").type)
        assert.same({ nil, "symlink 'x' to 'l' in root '" .. dir .. "': File exists",
          E.EEXIST }, { r:symlink("x", "l") })
        helper.write(dir .. "/f", "")
        assert.same({ nil, "readlink 'f' in root '" .. dir .. "': Invalid argument",
          E.EINVAL }, { r:readlink("f") })
        assert.is_true(r:unlink("l"))
        assert.is_nil(core.lstat(dir .. "/l"))
        assert.same({ nil, "unlink 'l' in root '" .. dir .. "': No such file or directory",
          E.ENOENT }, { r:unlink("l") })
        assert(r:mkdir_all("d"))
        assert.same({ nil, "unlink 'd' in root '" .. dir .. "': Is a directory", E.EISDIR },
          { r:unlink("d") })
      end)
    end)

    it("stats like nsl.stat and nsl.lstat", function()
      with_root(how, function(r, dir)
        helper.write(dir .. "/f", "12345")
        assert(core.symlink("f", dir .. "/l"))
        assert.same(core.stat(dir .. "/f"), r:stat("l"))
        assert.same(core.lstat(dir .. "/l"), r:lstat("/l"))
        assert.same({ nil, "stat 'none' in root '" .. dir .. "': No such file or directory",
          E.ENOENT }, { r:stat("none") })
        assert.same({ nil, "lstat 'none' in root '" .. dir .. "': No such file or directory",
          E.ENOENT }, { r:lstat("none") })
      end)
    end)

    it("changes modes and owners with chmod, chown and lchown", function()
      with_root(how, function(r, dir)
        helper.write(dir .. "/f", "")
        assert(core.symlink("f", dir .. "/l"))
        assert.is_true(r:chmod("l", "0640"))
        assert.equal(octal("640"), core.stat(dir .. "/f").mode)
        assert.is_true(r:chown("l", 1, 2))
        assert.same({ 1, 2 }, { core.stat(dir .. "/f").uid, core.stat(dir .. "/f").gid })
        assert.is_true(r:lchown("l", 3))
        assert.same({ 3, 0 }, { core.lstat(dir .. "/l").uid, core.lstat(dir .. "/l").gid })
        assert.same({ 1, 2 }, { core.stat(dir .. "/f").uid, core.stat(dir .. "/f").gid })
        assert.same({ nil, "chmod 'none' to 0600 in root '" .. dir ..
          "': No such file or directory", E.ENOENT }, { r:chmod("none", "0600") })
        assert.same({ nil, "chown 'none' to 0:0 in root '" .. dir ..
          "': No such file or directory", E.ENOENT }, { r:chown("none", 0, 0) })
        for _, id in ipairs { -1, 0xffffffff, 1 << 32, math.mininteger } do
          assert.has_error(function() r:chown("f", id, 0) end, string.format(
            "bad argument #2 to 'chown' (uid %d out of range 0..4294967294)", id))
          assert.has_error(function() r:lchown("l", 0, id) end, string.format(
            "bad argument #3 to 'lchown' (gid %d out of range 0..4294967294)", id))
        end
      end)
    end)

    it("touches a file to bind onto, and refuses symlinks and directories", function()
      with_root(how, function(r, dir)
        assert(r:mkdir_all("dev"))
        assert.is_true(r:touch("dev/console", "0600"))
        local st = core.lstat(dir .. "/dev/console")
        assert.same({ "file", 0, octal("600") }, { st.type, st.size, st.mode })
        helper.write(dir .. "/dev/console", "kept")
        assert.is_true(r:touch("dev/console"))
        assert.equal("kept", helper.read(dir .. "/dev/console"))
        assert(core.mknod(dir .. "/dev/fifo", "fifo", "0600"))
        assert.is_true(r:touch("dev/fifo"))
        assert(core.symlink("console", dir .. "/dev/tty"))
        assert.same({ nil, "touch 'dev/tty' in root '" .. dir ..
          "': Too many levels of symbolic links", E.ELOOP }, { r:touch("dev/tty") })
        assert.same({ nil, "touch 'dev' in root '" .. dir .. "': Is a directory",
          E.EISDIR }, { r:touch("dev") })
        assert.same({ nil, "touch 'none/x' in root '" .. dir ..
          "': No such file or directory", E.ENOENT }, { r:touch("none/x") })
      end)
    end)

    it("raises for bad arguments", function()
      with_root(how, function(r)
        assert.has_error(function() r:open("x", "bogus") end,
          "bad argument #2 to 'open' (unknown open flag 'bogus')")
        assert.has_error(function() r:open("x", "nocloexec") end,
          "bad argument #2 to 'open' (unknown open flag 'nocloexec')")
        assert.has_error(function() r:open() end,
          "bad argument #1 to 'open' (string expected, got no value)")
        assert.has_error(function() r:mkdir_all("x", "999") end,
          "bad argument #2 to 'mkdir_all' (bad mode '999' (octal, like \"0755\"))")
        assert.has_error(function() r:mknod("x", "dir", "0644") end,
          "bad argument #2 to 'mknod' (invalid option 'dir')")
        assert.has_error(function() r:mknod("x", "char", "0644", 1, -1) end,
          "bad argument #5 to 'mknod' (minor out of range)")
        assert.has_error(function() r:symlink("x") end,
          "bad argument #2 to 'symlink' (string expected, got no value)")
        assert.has_error(function() r:chown("x", -2, 0) end,
          "bad argument #2 to 'chown' (uid -2 out of range 0..4294967294)")
        assert.has_error(function() r:mount_on("x", "tmpfs", "tmpfs", "bind rec") end,
          "bad argument #4 to 'mount_on' (mount_on does not take 'bind|rec')")
        assert.has_error(function() r:mount_on("x", "tmpfs") end,
          "bad argument #3 to 'mount_on' (string expected, got no value)")
        assert.has_error(function() r:bind_on("x", "/y", "sync") end,
          "bad argument #3 to 'bind_on' (bind_on does not take 'sync')")
        assert.has_error(function() r:bind_on("x", "/y", "private shared") end,
          "bad argument #3 to 'bind_on' (more than one propagation word)")
        assert.has_error(function() r:remount("x", "rdonly", "private") end,
          "bad argument #3 to 'remount' (remount does not take 'private')")
        assert.has_error(function() r:remount("x", "move") end,
          "bad argument #2 to 'remount' (remount does not take 'move')")
      end)
    end)
  end)

  describe("root mounts (" .. how .. ")", function()
    it("mounts a tmpfs with flags and data onto a path in the root", function()
      with_mounted_root(how, function(r, dir)
        assert(r:mkdir_all("dev"))
        assert(r:mount_on("dev", "tmpfs", "tmpfs", "nosuid nodev", "mode=0711,size=1m"))
        equal("tmpfs", core.fs_type(dir .. "/dev"), "fs type")
        equal(octal("711"), core.stat(dir .. "/dev").mode, "mode")
        local line = mount_line(dir .. "/dev")
        assert(line:find(" rw,nosuid,nodev,", 1, true), line)
        assert(line:find("size=1024k", 1, true), line)
      end)
    end)

    it("writes on every tmpfs it mounted, however many, and not in a bind of the host's", function()
      -- more mounts than a root's set of them holds in itself (8): the ids
      -- move to a larger array, and a subroot copies them all
      with_mounted_root(how, function(r, _, src)
        for i = 1, 12 do
          assert(r:mkdir_all("d" .. i))
          assert(r:mount_on("d" .. i, "tmpfs", "tmpfs"))
        end
        assert(r:mkdir_all("host"))
        assert(r:bind_on("host", src))
        for i = 1, 12 do assert(r:touch("d" .. i .. "/f")) end
        local sub <close> = assert(r:subroot("d12"))
        assert(sub:touch("g"))
        local ok, err, errno = r:touch("host/f")
        same({ nil, E.EXDEV }, { ok, errno })
        assert(err:find(NOT_OWN, 1, true), err)
        equal(nil, core.lstat(src .. "/f"), "a file in the host's directory")
      end)
    end)

    it("mounts proc, sysfs and devpts and they are what was asked", function()
      with_mounted_root(how, function(r)
        for _, m in ipairs({ { "proc", "proc" }, { "sys", "sysfs" }, { "dev/pts", "devpts" } }) do
          assert(r:mkdir_all(m[1]))
          assert(r:mount_on(m[1], m[2], m[2], "nosuid noexec",
            m[2] == "devpts" and "newinstance,ptmxmode=0666,mode=620" or nil))
          local fd = assert(r:open(m[1], "path directory"))
          equal(m[2], core.fs_type(fd), m[1])
          fd:close()
        end
        assert(r:stat("proc/self/status"))
        assert(r:stat("dev/pts/ptmx"))
      end)
    end)

    it("names the call that failed: fsopen, fsconfig", function()
      with_mounted_root(how, function(r, dir)
        same({ nil, "mount_on '/' in root '" .. dir .. "' (fsopen 'nosuchfs'): No such device",
          E.ENODEV }, { r:mount_on("/", nil, "nosuchfs") })
        same({ nil, "mount_on '/' in root '" .. dir ..
          "' (fsconfig 'bogus'): Invalid argument", E.EINVAL },
          { r:mount_on("/", "tmpfs", "tmpfs", nil, "mode=755,bogus") })
        same({ nil, "mount_on 'none' in root '" .. dir .. "': No such file or directory",
          E.ENOENT }, { r:mount_on("none", "tmpfs", "tmpfs") })
      end)
    end)

    it("detaches a mount the path does not reach and says what it found", function()
      with_mounted_root(how, function(r, dir)
        -- a mount onto the root itself is under the handle's fd: the path
        -- "/" reaches the old root, not the new mount
        local found = core.fs_type(dir)
        local before = helper.mountinfo()
        same({ nil, "mount_on '/' in root '" .. dir .. "': expected proc, found " .. found,
          E.EXDEV }, { r:mount_on("/", "proc", "proc") })
        equal(before, helper.mountinfo(), "mount table")
        assert(core.mount("tmpfs", dir, "tmpfs"))
        local inner = assert(core.root_open(dir, how))
        same({ nil, "mount_on '' in root '" .. dir ..
          "': expected the new tmpfs, found another tmpfs", E.EXDEV },
          { inner:mount_on("", "tmpfs", "tmpfs") })
      end)
    end)

    it("cannot mount through a root opened in another mount namespace", function()
      local dir = helper.tmpdir()
      finally(function() helper.rmtree(dir) end)
      local r <close> = assert(core.root_open(dir, how))
      local before = helper.mountinfo()
      -- the handle's fd holds a mount of the host's namespace: the kernel
      -- refuses to attach anything to it from the child's (move_mount(2))
      helper.child(function()
        assert(core.mount(nil, "/", nil, "rec private"))
        local at = " in root '" .. dir .. "' (move_mount): Invalid argument"
        same({ nil, "mount_on '/'" .. at, E.EINVAL }, { r:mount_on("/", "tmpfs", "tmpfs") })
        same({ nil, "bind_on '/tmp' on '/'" .. at, E.EINVAL }, { r:bind_on("/", "/tmp") })
      end, { "mnt" })
      assert.equal(before, helper.mountinfo())
    end)

    it("writes only on its own mount and on mounts mount_on made, never through a bind", function()
      with_mounted_root(how, function(r, dir, src)
        helper.write(src .. "/file", "host file")
        assert(core.symlink("file", src .. "/link"))
        assert(r:mkdir_all("dev"))
        assert(r:bind_on("dev", src))
        equal(true, r:owns("/"), "the root's own mount")
        equal(false, r:owns("dev"), "a host directory bound in")
        equal(false, r:owns("dev/file"), "a file in it")
        local function refused(op, path, ...)
          same({ nil, op .. " '" .. path .. "' in root '" .. dir .. "': " .. NOT_OWN, E.EXDEV },
            { ... })
        end
        refused("mknod", "dev/null", r:mknod("dev/null", "char", "0666", 1, 3))
        refused("symlink", "dev/ptmx", r:symlink("pts/ptmx", "dev/ptmx"))
        refused("unlink", "dev/link", r:unlink("dev/link"))
        refused("touch", "dev/new", r:touch("dev/new"))
        refused("mkdir_all", "dev/a/b", r:mkdir_all("dev/a/b"))
        refused("chmod", "dev/file", r:chmod("dev/file", "0600"))
        refused("chown", "dev/file", r:chown("dev/file", 7, 7))
        refused("lchown", "dev/link", r:lchown("dev/link", 7, 7))
        refused("open", "dev/file", r:open("dev/file", "wronly trunc"))
        refused("open", "dev/new", r:open("dev/new", "wronly creat"))
        -- a dangling link on the root's own mount into the bind: not through it
        assert(r:symlink("dev/fresh", "via"))
        refused("open", "via", r:open("via", "wronly creat"))
        equal(nil, core.lstat(src .. "/fresh"), "nothing made through the link")
        -- reading and mounting over it write nothing: allowed
        assert(r:touch("dev/file")) -- already there: left as it is
        assert(r:open("dev/file", "rdonly")):close()
        assert(r:mkdir_all("dev")) -- there already
        equal("host file", helper.read(src .. "/file"), "the host's file")
        equal("file", core.readlink(src .. "/link"), "the host's link")
        equal(nil, core.lstat(src .. "/new"), "nothing new on the host")
        equal(nil, core.lstat(src .. "/a"), "no directory on the host")
        -- a filesystem made for the container on top is the root's to write on
        assert(r:mount_on("dev", "tmpfs", "tmpfs"))
        equal(true, r:owns("dev"), "a tmpfs mount_on made")
        assert(r:mknod("dev/null", "char", "0666", 1, 3))
        assert(r:symlink("pts/ptmx", "dev/ptmx"))
        assert(r:mkdir_all("dev/a/b"))
        equal(nil, core.lstat(src .. "/null"), "the node is on the tmpfs")
      end)
    end)

    it("gives a root for a directory in it, writing only where it writes (subroot)", function()
      with_mounted_root(how, function(r, dir, src)
        assert(r:mkdir_all("dev"))
        assert(r:mount_on("dev", "tmpfs", "tmpfs"))
        local dev <close> = assert(r:subroot("/dev"))
        equal(dir .. "/dev", dev:path(), "its path names the directory")
        assert(dev:mknod("null", "char", "0666", 1, 3))
        equal(true, core.is_char_device(dir .. "/dev/null", 1, 3), "a node in the directory")
        assert(dev:symlink("pts/ptmx", "ptmx"))
        equal("pts/ptmx", core.readlink(dir .. "/dev/ptmx"), "a link in the directory")
        same({ nil, "mknod 'null' in root '" .. dir .. "/dev': File exists", E.EEXIST },
          { dev:mknod("null", "char", "0666", 1, 3) })
        -- `..` stops at it, as at any root
        assert(dev:symlink("x", "../up"))
        equal("x", core.readlink(dir .. "/dev/up"), "the link is made in the directory")
        equal(nil, core.lstat(dir .. "/up"), "nothing above it")
        -- a symlink to it resolves inside the root
        assert(core.symlink("/dev", dir .. "/devlink"))
        local via <close> = assert(r:subroot("devlink"))
        assert(via:mknod("zero", "char", "0666", 1, 5))
        equal(true, core.is_char_device(dir .. "/dev/zero", 1, 5), "through the link, inside")
        -- a host directory bound in: nothing is written through it
        assert(r:mkdir_all("host"))
        assert(r:bind_on("host", src))
        local host <close> = assert(r:subroot("host"))
        same({ nil, "mknod 'null' in root '" .. dir .. "/host': " .. NOT_OWN, E.EXDEV },
          { host:mknod("null", "char", "0666", 1, 3) })
        same({ nil, "symlink 'l' in root '" .. dir .. "/host': " .. NOT_OWN, E.EXDEV },
          { host:symlink("x", "l") })
        equal(nil, core.lstat(src .. "/null"), "no node on the host")
        equal(nil, core.lstat(src .. "/l"), "no link on the host")
        -- the mounts it writes on are the root's when it was opened
        assert(r:mkdir_all("dev/shm"))
        assert(r:mount_on("dev/shm", "tmpfs", "tmpfs"))
        same({ nil, "mknod 'shm/x' in root '" .. dir .. "/dev': " .. NOT_OWN, E.EXDEV },
          { dev:mknod("shm/x", "fifo", "0600") })
        same({ nil, "subroot 'nope' in root '" .. dir .. "': No such file or directory",
          E.ENOENT }, { r:subroot("nope") })
        same({ nil, "subroot 'dev/null' in root '" .. dir .. "': Not a directory", E.ENOTDIR },
          { r:subroot("dev/null") })
      end)
    end)

    it("binds a host file and a host directory, read-only on request", function()
      with_mounted_root(how, function(r, dir, src)
        helper.write(src .. "/seen", "from the host")
        assert(r:mkdir_all("data"))
        assert(r:bind_on("data", src, "bind rdonly nosuid"))
        equal("from the host", helper.read(dir .. "/data/seen"), "bound file")
        same({ nil, "open 'data/new' in root '" .. dir .. "': " .. NOT_OWN, E.EXDEV },
          { r:open("data/new", "wronly creat") })
        assert(mount_line(dir .. "/data"):find(" ro,nosuid,", 1, true))
        assert(r:touch("null"))
        assert(r:bind_on("null", "/dev/null"))
        assert(core.is_char_device(assert(r:open("null", "path")), 1, 3))
        same({ nil, "bind_on '/nonexistent' on 'data' in root '" .. dir ..
          "' (open_tree): No such file or directory", E.ENOENT },
          { r:bind_on("data", "/nonexistent") })
        same({ nil, "bind_on '" .. src .. "' on 'none' in root '" .. dir ..
          "': No such file or directory", E.ENOENT }, { r:bind_on("none", src) })
      end)
    end)

    it("binds only a detached tree given as an fd, never moves a mount", function()
      with_mounted_root(how, function(r, dir, src)
        assert(core.mount("tmpfs", src, "tmpfs"))
        helper.write(src .. "/seen", "tmpfs")
        assert(r:mkdir_all("data"))
        local attached <close> = assert(core.open(src, "path"))
        same({ nil, "bind_on 'tree fd " .. attached:fileno() .. "' on 'data' in root '" .. dir ..
          "': not a detached tree (nsl.open_tree): Invalid argument", E.EINVAL },
          { r:bind_on("data", attached) })
        equal("tmpfs", helper.read(src .. "/seen"), "the mount stays where it is")
        assert.is_nil(helper.read(dir .. "/data/seen"))
        local tree <close> = assert(core.open_tree(src))
        assert(r:bind_on("data", tree))
        equal("tmpfs", helper.read(dir .. "/data/seen"))
        -- attached now: a second bind would move it
        local again, _, errno = r:bind_on("data", tree)
        same({ nil, E.EINVAL }, { again, errno })
      end)
    end)

    it("binds recursively with rbind, and sets flags on every mount", function()
      with_mounted_root(how, function(r, dir, src)
        assert(core.mkdir(src .. "/sub"))
        assert(core.mount("tmpfs", src .. "/sub", "tmpfs"))
        assert(r:mkdir_all("plain"))
        assert(r:mkdir_all("rec"))
        assert(r:bind_on("plain", src))
        assert(r:bind_on("rec", src, "rbind rdonly"))
        equal(core.fs_type(src), core.fs_type(dir .. "/plain/sub"), "plain bind")
        equal("tmpfs", core.fs_type(dir .. "/rec/sub"), "rbind")
        assert(mount_line(dir .. "/rec/sub"):find(" ro,", 1, true))
      end)
    end)

    it("remounts a mount in the root: sets and clears flags, propagation", function()
      with_mounted_root(how, function(r, dir)
        assert(r:mkdir_all("t"))
        assert(r:mount_on("t", "tmpfs", "tmpfs", "nosuid"))
        assert.is_true(r:remount("t", "bind remount rdonly noexec"))
        local line = mount_line(dir .. "/t")
        assert(line:find(" ro,nosuid,noexec,", 1, true), line)
        same({ nil, "mkdir_all 't/x' in root '" .. dir .. "': Read-only file system",
          E.EROFS }, { r:mkdir_all("t/x") })
        assert.is_true(r:remount("t", nil, "rdonly"))
        assert(r:mkdir_all("t/x"))
        assert.is_true(r:remount("t", "shared"))
        assert(mount_line(dir .. "/t"):find(" shared:", 1, true))
        same({ nil, "remount 't/x' in root '" .. dir .. "': Invalid argument", E.EINVAL },
          { r:remount("t/x", "rdonly") })
      end)
    end)
  end)
end

describe("hostile roots", function()
  hostile_it("mkdir_all dev/pts through dev -> HOST/dir creates it inside the root",
    { { "dev", "link", "@HOST/dir" } }, function(r, root, host)
      assert.is_true(r:mkdir_all("dev/pts"))
      equal("dir", core.lstat(root .. host .. "/dir/pts").type, "inside")
      equal("dir", r:stat("dev/pts").type, "through the root")
      equal(nil, core.lstat(host .. "/dir/pts"), "on the host")
    end)

  hostile_it("mounts proc through proc -> HOST/etc inside the root, never on it",
    { { "proc", "link", "@HOST/etc" } }, function(r, root, host)
      same({ nil, "mount_on 'proc' in root '" .. root .. "': No such file or directory",
        E.ENOENT }, { r:mount_on("proc", "proc", "proc", "nosuid nodev noexec") })
      assert(r:mkdir_all("proc"))
      assert(r:mount_on("proc", "proc", "proc", "nosuid nodev noexec"))
      equal("proc", core.fs_type(root .. host .. "/etc"), "inside")
      equal("proc", core.fs_type(assert(r:open("proc", "path directory"))), "via root")
      equal(core.fs_type(host), core.fs_type(host .. "/etc"), "host etc")
    end)

  hostile_it("refuses devpts on dev/pts -> / (it lands on the root itself)",
    { { "dev/pts", "link", "/" } }, function(r, root)
      same({ nil, "mount_on 'dev/pts' in root '" .. root .. "': expected devpts, found "
        .. core.fs_type(root), E.EXDEV },
        { r:mount_on("dev/pts", "devpts", "devpts", nil, "newinstance") })
      equal(nil, mount_line(root), "a mount left on the root")
      equal("/", r:readlink("dev/pts"), "the link")
    end)

  hostile_it("refuses sysfs on sys -> / and a bind on top -> /",
    { { "sys", "link", "/" }, { "top", "link", "/" } }, function(r, root, host)
      local found = core.fs_type(root)
      same({ nil, "mount_on 'sys' in root '" .. root .. "': expected sysfs, found " .. found,
        E.EXDEV }, { r:mount_on("sys", "sysfs", "sysfs") })
      local src = host .. "/src"
      same({ nil, "bind_on '" .. src .. "' on 'top' in root '" .. root ..
        "': expected the bind of '" .. src .. "', found " .. found, E.EXDEV },
        { r:bind_on("top", src) })
      equal(nil, mount_line(root), "a mount left on the root")
    end)

  hostile_it("stops at run -> /run, a link to itself, with ELOOP",
    { { "run", "link", "/run" } }, function(r, root)
      local loop = "': Too many levels of symbolic links"
      same({ nil, "mount_on 'run' in root '" .. root .. loop, E.ELOOP },
        { r:mount_on("run", "tmpfs", "tmpfs") })
      same({ nil, "open 'run' in root '" .. root .. loop, E.ELOOP },
        { r:open("run", "path") })
      same({ nil, "stat 'run/lock' in root '" .. root .. loop, E.ELOOP },
        { r:stat("run/lock") })
    end)

  hostile_it("never writes through dev/null -> HOST/etc/passwd",
    { { "dev/null", "link", "@HOST/etc/passwd" } }, function(r, root, host)
      local at = "' in root '" .. root .. "': "
      same({ nil, "mknod 'dev/null" .. at .. "File exists", E.EEXIST },
        { r:mknod("dev/null", "char", "0666", 1, 3) })
      same({ nil, "touch 'dev/null" .. at .. "Too many levels of symbolic links", E.ELOOP },
        { r:touch("dev/null") })
      same({ nil, "symlink 'x' to 'dev/null" .. at .. "File exists", E.EEXIST },
        { r:symlink("x", "dev/null") })
      same({ nil, "open 'dev/null" .. at .. "No such file or directory", E.ENOENT },
        { r:open("dev/null", "wronly trunc") })
      local inroot = " in root '" .. root .. "': No such file or directory"
      same({ nil, "chmod 'dev/null' to 0666" .. inroot, E.ENOENT },
        { r:chmod("dev/null", "0666") })
      same({ nil, "chown 'dev/null' to 1:1" .. inroot, E.ENOENT },
        { r:chown("dev/null", 1, 1) })
      same({ nil, "bind_on '/dev/null' on 'dev/null" .. at .. "No such file or directory",
        E.ENOENT }, { r:bind_on("dev/null", "/dev/null") })
      -- with the target's directory made (inside), a create lands inside
      assert(r:mkdir_all(host .. "/etc"))
      local fd = assert(r:open("dev/null", "wronly creat trunc"))
      assert(core.write(fd, "inside"))
      fd:close()
      equal("inside", helper.read(root .. host .. "/etc/passwd"), "inside")
      assert(r:unlink("dev/null"))
      equal(nil, core.lstat(root .. "/dev/null"), "the link")
    end)

  hostile_it("never binds a console through dev/console -> HOST/etc/shadow",
    { { "dev/console", "link", "@HOST/etc/shadow" } }, function(r, root, host)
      local at = "' in root '" .. root .. "': "
      same({ nil, "touch 'dev/console" .. at .. "Too many levels of symbolic links",
        E.ELOOP }, { r:touch("dev/console") })
      same({ nil, "bind_on '/dev/null' on 'dev/console" .. at ..
        "No such file or directory", E.ENOENT }, { r:bind_on("dev/console", "/dev/null") })
      same({ nil, "mount_on 'dev/console" .. at .. "No such file or directory", E.ENOENT },
        { r:mount_on("dev/console", "tmpfs", "tmpfs") })
      assert(r:lchown("dev/console", 7, 7))
      equal(7, core.lstat(root .. "/dev/console").uid, "the link's owner")
      equal(host .. "/etc/shadow", r:readlink("dev/console"), "the link")
    end)

  hostile_it("binds onto mnt -> HOST/target inside the root",
    { { "mnt", "link", "@HOST/target" } }, function(r, root, host)
      local src = host .. "/src"
      same({ nil, "bind_on '" .. src .. "' on 'mnt' in root '" .. root ..
        "': No such file or directory", E.ENOENT }, { r:bind_on("mnt", src, "rdonly") })
      assert(r:mkdir_all("mnt"))
      assert(r:bind_on("mnt", src, "rdonly"))
      equal("from the host source\n", helper.read(root .. host .. "/target/seen"), "inside")
      equal(nil, core.lstat(host .. "/target/seen"), "on the host")
      same({ nil, "open 'mnt/new' in root '" .. root .. "': " .. NOT_OWN, E.EXDEV },
        { r:open("mnt/new", "wronly creat") })
      assert(r:remount("mnt", nil, "rdonly"))
      assert(r:mount_on("mnt", "tmpfs", "tmpfs"))
      equal("tmpfs", core.fs_type(root .. host .. "/target"), "stacked inside")
    end)

  hostile_it("keeps .. chains inside the root",
    { { "a/b", "link", string.rep("../", 12) .. "@HOST/x" } }, function(r, root, host)
      assert(r:mkdir_all("a/b/c"))
      equal("dir", core.lstat(root .. host .. "/x/c").type, "inside")
      equal(nil, core.lstat(host .. "/x"), "on the host")
      assert(r:mkdir_all("../../../.." .. host .. "/y"))
      equal("dir", core.lstat(root .. host .. "/y").type, "inside")
      equal(nil, core.lstat(host .. "/y"), "on the host")
      equal(core.stat(root).ino, r:stat("../../../..").ino, "the root")
      assert(r:symlink("x", "../../../../" .. host:sub(2) .. "/z"))
      equal("x", core.readlink(root .. host .. "/z"), "inside")
    end)

  hostile_it("fails with ELOOP on an absolute symlink loop",
    { { "a", "link", "/b" }, { "b", "link", "/a" } }, function(r, root)
      local loop = "' in root '" .. root .. "': Too many levels of symbolic links"
      same({ nil, "open 'a" .. loop, E.ELOOP }, { r:open("a") })
      same({ nil, "stat 'b/x" .. loop, E.ELOOP }, { r:stat("b/x") })
      same({ nil, "mount_on 'a" .. loop, E.ELOOP }, { r:mount_on("a", "tmpfs", "tmpfs") })
      equal("link", r:lstat("a").type, "lstat")
    end)

  -- the same loop between two absolute paths that are the host sentinel
  -- dir's own, so that even a regressed mkdir_all could only write there
  hostile_it("fails with ELOOP when mkdir_all or a create meets a loop",
    { { "@HOST/l1", "link", "@HOST/l2" }, { "@HOST/l2", "link", "@HOST/l1" } },
    function(r, root, host)
      local loop = "' in root '" .. root .. "': Too many levels of symbolic links"
      local l1 = host .. "/l1"
      same({ nil, "mkdir_all '" .. l1 .. "/x" .. loop, E.ELOOP }, { r:mkdir_all(l1 .. "/x") })
      same({ nil, "open '" .. l1 .. loop, E.ELOOP }, { r:open(l1, "wronly creat") })
      same({ nil, "touch '" .. l1 .. "/x" .. loop, E.ELOOP }, { r:touch(l1 .. "/x") })
    end)

  hostile_it("never follows a /proc magic link out of the root",
    { { "proc", "dir" }, { "self", "link", "/proc/self/root" } }, function(r, root, host, how)
      assert(r:mount_on("proc", "proc", "proc"))
      -- openat2 refuses the magic link (RESOLVE_NO_MAGICLINKS); the walk
      -- reads its text ("/") and resolves that inside the root
      local errno = how == "openat2" and E.ELOOP or E.ENOENT
      local path = "self" .. host .. "/etc/passwd"
      same({ nil, "open '" .. path .. "' in root '" .. root .. "': " ..
        core.strerror(errno), errno }, { r:open(path) })
      same({ nil, "bind_on '/dev/null' on '" .. path .. "' in root '" .. root .. "': " ..
        core.strerror(errno), errno }, { r:bind_on(path, "/dev/null") })
    end)
end)

describe("nsl.fs_type", function()
  it("names the filesystem of a path or an fd", function()
    assert.equal("proc", core.fs_type("/proc"))
    assert.equal("sysfs", core.fs_type("/sys"))
    local fd = assert(core.open("/proc/self", "path"))
    assert.equal("proc", core.fs_type(fd))
    fd:close()
  end)

  it("returns nil, message and errno for a missing path", function()
    assert.same({ nil, "statfs '/nonexistent': No such file or directory", E.ENOENT },
      { core.fs_type("/nonexistent") })
  end)

  it("raises for a bad argument", function()
    assert.has_error(function() core.fs_type({}) end,
      "bad argument #1 to 'fs_type' (fd or integer expected, got table)")
  end)
end)

describe("nsl.is_char_device", function()
  it("tells a device by type, major and minor", function()
    assert.is_true(core.is_char_device("/dev/null", 1, 3))
    assert.is_false(core.is_char_device("/dev/zero", 1, 3))
    assert.is_false(core.is_char_device("/etc/passwd", 1, 3))
    local fd = assert(core.open("/dev/zero", "path"))
    assert.is_true(core.is_char_device(fd, 1, 5))
    fd:close()
  end)

  it("returns nil, message and errno for a missing path", function()
    assert.same({ nil, "stat '/nonexistent': No such file or directory", E.ENOENT },
      { core.is_char_device("/nonexistent", 1, 3) })
  end)

  it("raises for bad arguments", function()
    assert.has_error(function() core.is_char_device("/dev/null", 1) end,
      "bad argument #3 to 'is_char_device' (number expected, got no value)")
  end)
end)

describe("root handles as an unprivileged user", function()
  it("mounts a tmpfs through a hostile dev link inside the root, uid 65534", function()
    local root, host = helper.tmpdir(), helper.tmpdir()
    finally(function()
      helper.rmtree(root)
      helper.rmtree(host)
    end)
    build(host, SENTINELS)
    build(root, { { "dev", "link", host .. "/dir" }, { host:sub(2) .. "/dir", "dir" } })
    local before, mounts = snapshot(host), helper.mountinfo()
    local res = helper.unprivileged_lua(string.format([[
      local nsl = require "nsl"
      local root, host = %q, %q
      assert(nsl.unshare({ "user", "mnt" }))
      local function put(name, text)
        local f = assert(io.open("/proc/self/" .. name, "w"))
        assert(f:write(text))
        assert(f:close())
      end
      put("setgroups", "deny")
      put("uid_map", "0 65534 1\n")
      put("gid_map", "0 65534 1\n")
      assert(nsl.mount(nil, "/", nil, "rec private"))
      local r = assert(nsl.root_open(root))
      assert(r:mount_on("dev", "tmpfs", "tmpfs", "nosuid", "mode=0700"))
      print(nsl.fs_type(root .. host .. "/dir"), nsl.fs_type(host .. "/dir") ~= "tmpfs")
      print(nsl.stat(host .. "/dir/keep") ~= nil, r:stat("dev/keep"))
    ]], root, host))
    assert.equal(0, res.code, res.err)
    assert.equal("tmpfs\ttrue\ntrue\tnil\tstat 'dev/keep' in root '" .. root ..
      "': No such file or directory\t" .. E.ENOENT .. "\n", res.out)
    assert.equal(before, snapshot(host))
    assert.equal(mounts, helper.mountinfo())
  end)
end)
