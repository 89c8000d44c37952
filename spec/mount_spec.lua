local helper = require "helper"
local core = require "nsl.core"

local E = core.errno

-- Checks that run inside a child raise plain strings (helper.in_child
-- reports them), so they compare by hand instead of with busted's assert.
-- assertions for a child process (see helper.child)
local same, equal = helper.child_same, helper.child_equal

local function list(t)
  return table.concat(t, ",")
end

-- The start of every child that mounts: nothing propagates to the host.
local function private_root()
  assert(core.mount(nil, "/", nil, "rec private"))
end

-- Run fn(dir) in a child with namespaces, in a fresh tmpdir, and check that
-- the host's mount table is the same afterwards.
local function in_mnt_child(fn, namespaces)
  local dir = helper.tmpdir()
  local before = helper.mountinfo()
  local ok, err = helper.in_child(function()
    private_root()
    fn(dir)
  end, namespaces or { "mnt" })
  local after = helper.mountinfo()
  helper.rmtree(dir)
  assert(ok, err)
  assert.equal(before, after)
end

describe("nsl.mount", function()
  it("mounts a tmpfs with data and flags", function()
    in_mnt_child(function(dir)
      assert(core.mount("tmpfs", dir, "tmpfs", "nosuid nodev", "mode=755"))
      local st = assert(core.stat(dir))
      equal("dir", st.type, "type")
      equal(tonumber("755", 8), st.mode, "mode")
      local line
      for l in io.lines("/proc/self/mountinfo") do
        if l:find(" " .. dir .. " ", 1, true) then line = l end
      end
      assert(line and line:find(" %- tmpfs tmpfs "), "no tmpfs line: "
        .. tostring(line))
      assert(line:find("nosuid,nodev"), "flags missing: " .. line)
    end)
  end)

  it("binds, remounts read-only, and then a write fails with EROFS", function()
    in_mnt_child(function(dir)
      local src, dst = dir .. "/src", dir .. "/dst"
      assert(core.mkdir(src))
      assert(core.mkdir(dst))
      assert(core.mount(src, dst, nil, "bind"))
      assert(core.mkdir(dst .. "/seen"))
      equal("dir", assert(core.stat(src .. "/seen")).type, "bound dir")
      assert(core.mount(nil, dst, nil, "remount bind ro"))
      same({ nil, "mkdir '" .. dst .. "/x': Read-only file system", E.EROFS },
        { core.mkdir(dst .. "/x") })
      assert(core.mkdir(src .. "/x")) -- the source itself stays writable
    end)
  end)

  it("mounts proc in a new pid namespace", function()
    in_mnt_child(function(dir)
      assert(core.mount("proc", dir, "proc", "nosuid nodev noexec"))
      -- the child is pid 1 of its pid namespace, and this proc shows it
      equal("1", core.readlink(dir .. "/self"), "/proc/self")
    end, { "mnt", "pid" })
  end)

  it("returns nil, message and errno for a missing target", function()
    in_mnt_child(function(dir)
      local missing = dir .. "/missing"
      same({ nil, "mount 'tmpfs' on '" .. missing ..
          "' (fstype 'tmpfs'): No such file or directory", E.ENOENT },
        { core.mount("tmpfs", missing, "tmpfs") })
      same({ nil, "mount on '" .. missing ..
          "' (flags 'rec|slave'): No such file or directory", E.ENOENT },
        { core.mount(nil, missing, nil, { "rec", "slave" }) })
      same({ nil, "mount '" .. missing .. "' on '" .. dir ..
          "' (flags 'bind|rec'): No such file or directory", E.ENOENT },
        { core.mount(missing, dir, nil, "rbind") })
      same({ nil, "mount 'none' on '" .. dir .. "' (fstype 'nonesuchfs', " ..
          "flags 'nosuid'): No such device", E.ENODEV },
        { core.mount("none", dir, "nonesuchfs", "nosuid") })
    end)
  end)

  it("returns EPERM for an unprivileged user", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    local res = helper.unprivileged_lua(string.format([[
      local nsl = require "nsl"
      print(nsl.mount("tmpfs", %q, "tmpfs", nil, "mode=755"))
    ]], dir))
    assert.equal(0, res.code, res.err)
    assert.equal("nil\tmount 'tmpfs' on '" .. dir ..
      "' (fstype 'tmpfs'): Operation not permitted\t" .. E.EPERM .. "\n",
      res.out)
  end)

  it("mounts a tmpfs in a user namespace as an unprivileged user", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    local before = helper.mountinfo()
    local res = helper.unprivileged_lua(string.format([[
      local nsl = require "nsl"
      local dir = %q
      local go_r, go_w = assert(nsl.pipe())
      local pid = assert(nsl.clone({ "user", "mnt" }))
      if pid == 0 then
        go_w:close()
        assert(go_r:read(1) == "") -- the parent has written the maps
        assert(nsl.mount(nil, "/", nil, "rec private"))
        local ok, msg = nsl.mount("tmpfs", dir, "tmpfs", "nosuid nodev",
          "mode=700")
        if not ok then io.stderr:write(msg, "\n") nsl._exit(1) end
        local st = assert(nsl.stat(dir))
        local f = assert(io.open(dir .. "/written", "w"))
        f:close()
        print(string.format("mounted %%o %%d", st.mode, st.uid))
        io.stdout:flush()
        nsl._exit(0)
      end
      go_r:close()
      local function put(name, text)
        local f = assert(io.open("/proc/" .. pid .. "/" .. name, "w"))
        assert(f:write(text))
        assert(f:close())
      end
      put("uid_map", "0 65534 1\n")
      put("setgroups", "deny")
      put("gid_map", "0 65534 1\n")
      go_w:close()
      local _, how, code = assert(nsl.wait(pid))
      print(how, code)
    ]], dir))
    assert.equal(0, res.code, res.err)
    assert.equal("mounted 700 0\nexited\t0\n", res.out)
    assert.equal(before, helper.mountinfo())
    assert.same({}, core.readdir(dir)) -- the file went into the tmpfs
  end)

  it("raises for an unknown flag word and bad argument types", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    -- a missing target: even a broken check could not mount anything
    local missing = dir .. "/missing"
    assert.error_matches(function()
      core.mount(nil, missing, nil, "rec bogus")
    end, "^bad argument #4 to '[%w.]*mount' %(unknown mount flag 'bogus'%)$")
    assert.error_matches(function()
      core.mount(nil, missing, nil, { "rec", 7 })
    end, "^bad argument #4 to '[%w.]*mount' %(mount flag words must be strings%)$")
    assert.error_matches(function()
      core.mount("tmpfs", nil, "tmpfs")
    end, "^bad argument #2 to '[%w.]*mount' %(string expected, got nil%)$")
  end)
end)

describe("nsl.mount_flags", function()
  it("maps every word mount() takes to its bits", function()
    local flags = core.mount_flags()
    assert.equal(flags.bind | flags.rec, flags.rbind)
    assert.equal(flags.private | flags.rec, flags.rprivate)
    assert.equal(flags.slave | flags.rec, flags.rslave)
    assert.equal(flags.shared | flags.rec, flags.rshared)
    assert.equal(flags.unbindable | flags.rec, flags.runbindable)
    assert.equal(flags.rdonly, flags.ro)
    assert.equal(0, flags.rw)
    -- each single-bit word has a bit of its own, but for the ro alias
    local words = {}
    for word, bits in pairs(flags) do
      assert.is_true(math.type(bits) == "integer", word)
      if bits ~= 0 and bits & (bits - 1) == 0 then
        words[bits] = words[bits] or {}
        table.insert(words[bits], word)
      end
    end
    for bits, names in pairs(words) do
      table.sort(names)
      if bits == flags.ro then
        assert.same({ "rdonly", "ro" }, names)
      else
        assert.equal(1, #names, table.concat(names, " "))
      end
    end
  end)

  it("lists only words that mount() accepts", function()
    in_mnt_child(function(dir)
      local missing = dir .. "/missing"
      for word in pairs(core.mount_flags()) do
        local _, msg, err = core.mount(nil, missing, nil, word)
        equal(E.ENOENT, err, word .. ": " .. tostring(msg))
      end
    end)
  end)
end)

describe("nsl.umount", function()
  it("unmounts, lazily with detach", function()
    in_mnt_child(function(dir)
      assert(core.mount("tmpfs", dir, "tmpfs"))
      assert(core.mkdir(dir .. "/in_tmpfs"))
      assert(core.umount(dir))
      equal("", list(core.readdir(dir)), "after umount")
      assert(core.mount("tmpfs", dir, "tmpfs"))
      local fd = assert(core.open(dir, "directory"))
      assert(core.umount(dir, "detach")) -- busy: only detach works
      equal("", list(core.readdir(dir)), "after detach")
      fd:close()
    end)
  end)

  it("returns nil, message and errno for a non-mount and a missing path", function()
    in_mnt_child(function(dir)
      same({ nil, "umount '" .. dir .. "': Invalid argument", E.EINVAL },
        { core.umount(dir) })
      same({ nil, "umount '" .. dir .. "' (flags 'detach'): Invalid argument",
        E.EINVAL }, { core.umount(dir, "detach") })
      same({ nil, "umount '" .. dir .. "/missing': No such file or directory",
        E.ENOENT }, { core.umount(dir .. "/missing") })
      assert(core.mount("tmpfs", dir, "tmpfs"))
      local fd = assert(core.open(dir, "directory"))
      same({ nil, "umount '" .. dir .. "': Device or resource busy", E.EBUSY },
        { core.umount(dir) })
      fd:close()
      assert(core.umount(dir))
    end)
  end)

  it("returns EPERM for an unprivileged user", function()
    local res = helper.unprivileged_lua([[
      local nsl = require "nsl"
      print(nsl.umount("/proc"))
    ]])
    assert.equal(0, res.code, res.err)
    assert.equal("nil\tumount '/proc': Operation not permitted\t" .. E.EPERM
      .. "\n", res.out)
  end)

  it("raises for an unknown flag word", function()
    assert.error_matches(function() core.umount("/nonexistent", "lazy") end,
      "^bad argument #2 to '[%w.]*umount' %(unknown umount flag 'lazy'%)$")
  end)
end)

describe("nsl.pivot_root", function()
  it("enters a tmpfs root and detaches the old one", function()
    in_mnt_child(function(dir)
      local root = dir .. "/root"
      assert(core.mkdir(root))
      assert(core.mount("tmpfs", root, "tmpfs", nil, "mode=755"))
      assert(core.mkdir(root .. "/old"))
      assert(core.mkdir(root .. "/etc"))
      assert(core.pivot_root(root, root .. "/old"))
      assert(core.chdir("/"))
      equal("/", core.getcwd(), "cwd")
      -- the old root is under /old until it is detached
      equal("dir", assert(core.stat("/old" .. dir)).type, "old root")
      assert(core.umount("/old", "detach"))
      equal("", list(core.readdir("/old")), "/old after detach")
      equal("etc,old", list(core.readdir("/")), "new root")
      same({ nil, "stat '" .. dir .. "': No such file or directory",
        E.ENOENT }, { core.stat(dir) })
    end)
  end)

  it("returns EINVAL when new_root is not a mount point", function()
    in_mnt_child(function(dir)
      assert(core.mount("tmpfs", dir, "tmpfs"))
      local sub, old = dir .. "/sub", dir .. "/sub/old"
      assert(core.mkdir(sub))
      assert(core.mkdir(old))
      same({ nil, "pivot_root '" .. sub .. "' (put_old '" .. old ..
        "'): Invalid argument", E.EINVAL }, { core.pivot_root(sub, old) })
    end)
  end)

  it("returns EBUSY when new_root is on the mount of the current root", function()
    in_mnt_child(function(dir)
      local old = dir .. "/old"
      assert(core.mkdir(old))
      same({ nil, "pivot_root '" .. dir .. "' (put_old '" .. old ..
        "'): Device or resource busy", E.EBUSY }, { core.pivot_root(dir, old) })
    end)
  end)

  it("returns ENOENT and ENOTDIR for bad paths", function()
    in_mnt_child(function(dir)
      assert(core.mount("tmpfs", dir, "tmpfs"))
      local missing = dir .. "/missing"
      same({ nil, "pivot_root '" .. dir .. "' (put_old '" .. missing ..
        "'): No such file or directory", E.ENOENT },
        { core.pivot_root(dir, missing) })
      local file = dir .. "/file"
      helper.write(file, "x")
      same({ nil, "pivot_root '" .. dir .. "' (put_old '" .. file ..
        "'): Not a directory", E.ENOTDIR }, { core.pivot_root(dir, file) })
    end)
  end)

  it("returns EPERM for an unprivileged user", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    local res = helper.unprivileged_lua(string.format([[
      local nsl = require "nsl"
      print(nsl.pivot_root(%q, %q))
    ]], dir, dir))
    assert.equal(0, res.code, res.err)
    assert.equal("nil\tpivot_root '" .. dir .. "' (put_old '" .. dir ..
      "'): Operation not permitted\t" .. E.EPERM .. "\n", res.out)
  end)
end)

describe("nsl.chroot", function()
  it("changes the root, leaving the cwd outside until chdir", function()
    in_mnt_child(function(dir)
      helper.write(dir .. "/marker", "x")
      assert(core.chdir(dir .. "/.."))
      assert(core.chroot(dir))
      -- the cwd is outside the new root: getcwd(3) says ENOENT
      same({ nil, "getcwd: No such file or directory", E.ENOENT },
        { core.getcwd() })
      assert(core.chdir("/"))
      equal("/", core.getcwd(), "cwd")
      equal("marker", list(core.readdir("/")), "new root")
    end)
  end)

  it("returns nil, message and errno for bad paths and as nobody", function()
    in_mnt_child(function(dir)
      same({ nil, "chroot '" .. dir .. "/missing': No such file or directory",
        E.ENOENT }, { core.chroot(dir .. "/missing") })
      helper.write(dir .. "/file", "x")
      same({ nil, "chroot '" .. dir .. "/file': Not a directory", E.ENOTDIR },
        { core.chroot(dir .. "/file") })
    end)
    local res = helper.unprivileged_lua([[
      local nsl = require "nsl"
      print(nsl.chroot("/"))
    ]])
    assert.equal(0, res.code, res.err)
    assert.equal("nil\tchroot '/': Operation not permitted\t" .. E.EPERM
      .. "\n", res.out)
  end)
end)

describe("nsl.chdir and nsl.getcwd", function()
  it("changes to a path and to a directory fd", function()
    in_mnt_child(function(dir)
      assert(core.mkdir(dir .. "/sub"))
      assert(core.chdir(dir))
      equal(dir, core.getcwd(), "after chdir")
      local fd = assert(core.open(dir .. "/sub", "directory"))
      assert(core.chdir(fd))
      equal(dir .. "/sub", core.getcwd(), "after fchdir")
      assert(core.chdir(".."))
      assert(core.chdir(fd:fileno()))
      equal(dir .. "/sub", core.getcwd(), "after fchdir of a number")
      fd:close()
    end)
  end)

  it("returns nil, message and errno for bad targets", function()
    in_mnt_child(function(dir)
      same({ nil, "chdir '" .. dir .. "/missing': No such file or directory",
        E.ENOENT }, { core.chdir(dir .. "/missing") })
      helper.write(dir .. "/file", "x")
      same({ nil, "chdir '" .. dir .. "/file': Not a directory", E.ENOTDIR },
        { core.chdir(dir .. "/file") })
      local fd = assert(core.open(dir .. "/file"))
      same({ nil, "fchdir " .. fd:fileno() .. ": Not a directory", E.ENOTDIR },
        { core.chdir(fd) })
      fd:close()
    end)
  end)

  it("raises for a value that is neither a path nor an fd", function()
    assert.error_matches(function() core.chdir({}) end,
      "^bad argument #1 to '[%w.]*chdir' %(fd or integer expected, got table%)$")
  end)
end)
