local helper = require "helper"
local core = require "nsl.core"

local E = core.errno

local function octal(s)
  return tonumber(s, 8)
end

-- `stat -c FORMAT path` through the shell: an opinion other than ours.
local function shell_stat(format, path)
  local res = helper.sh("stat -c " .. helper.quote(format) .. " " ..
    helper.quote(path))
  assert(res.code == 0, res.err)
  return (res.out:gsub("\n$", ""))
end

-- Run Lua code as uid 65534; returns what it printed.
local function as_nobody(code)
  local res = helper.unprivileged_lua('local nsl = require "nsl"\n' .. code)
  assert.equal(0, res.code, res.err)
  return res.out
end

-- "nil\tMESSAGE\tERRNO\n": a failure triple as print() shows it.
local function printed(msg, errno)
  return "nil\t" .. msg .. "\t" .. errno .. "\n"
end

local dir
before_each(function() dir = helper.tmpdir() end)
after_each(function() helper.rmtree(dir) end)

describe("nsl.mknod", function()
  it("makes a fifo, a file and a char device as root", function()
    assert.is_true(core.mknod(dir .. "/fifo", "fifo", "0640"))
    assert.is_true(core.mknod(dir .. "/file", "file", octal("600")))
    assert.is_true(core.mknod(dir .. "/null", "char", "0666", 1, 3))
    local fifo = core.stat(dir .. "/fifo")
    assert.equal("fifo", fifo.type)
    assert.equal(octal("640"), fifo.mode)
    assert.equal("fifo", shell_stat("%F", dir .. "/fifo"))
    assert.equal("regular empty file", shell_stat("%F", dir .. "/file"))
    local null = core.stat(dir .. "/null")
    assert.equal("char", null.type)
    assert.same({ 1, 3 }, { null.major, null.minor })
    assert.equal("1,3", shell_stat("%Hr,%Lr", dir .. "/null"))
    helper.write(dir .. "/null", "discarded") -- it is the real null device
    assert.equal("", helper.read(dir .. "/null"))
  end)

  it("returns nil, message and errno for EEXIST, ENOENT and ENOTDIR", function()
    local p = dir .. "/fifo"
    assert(core.mknod(p, "fifo", "0644"))
    assert.same({ nil, "mknod '" .. p .. "': File exists", E.EEXIST },
      { core.mknod(p, "fifo", "0644") })
    local missing = dir .. "/missing/fifo"
    assert.same({ nil, "mknod '" .. missing .. "': No such file or directory",
      E.ENOENT }, { core.mknod(missing, "fifo", "0644") })
    helper.write(dir .. "/file", "x")
    local under = dir .. "/file/fifo"
    assert.same({ nil, "mknod '" .. under .. "': Not a directory", E.ENOTDIR },
      { core.mknod(under, "fifo", "0644") })
  end)

  it("returns EPERM for a device node as an unprivileged user", function()
    assert(core.chown(dir, helper.NOBODY, helper.NOBODY))
    local p = dir .. "/null"
    assert.equal(printed("mknod '" .. p .. "': Operation not permitted",
      E.EPERM), as_nobody(string.format(
        "print(nsl.mknod(%q, 'char', '0666', 1, 3))", p)))
    -- the directory was writable: a fifo works
    assert.equal("true\n", as_nobody(string.format(
      "print(nsl.mknod(%q, 'fifo', '0644'))", dir .. "/fifo")))
    assert.equal(helper.NOBODY, core.stat(dir .. "/fifo").uid)
  end)

  it("raises for a bad type, a bad mode and a bad device number", function()
    local p = dir .. "/x"
    assert.error_matches(function() core.mknod(p, "pipe", "0644") end,
      "^bad argument #2 to '[%w.]*mknod' %(invalid option 'pipe'%)$")
    assert.error_matches(function() core.mknod(p, "fifo", "0999") end,
      "^bad argument #3 to '[%w.]*mknod' %(bad mode '0999' %(octal, like \"0755\"%)%)$")
    assert.error_matches(function() core.mknod(p, "fifo", octal("10000")) end,
      "^bad argument #3 to '[%w.]*mknod' %(mode out of range 0..07777%)$")
    assert.error_matches(function() core.mknod(p, "char", "0644", -1, 3) end,
      "^bad argument #4 to '[%w.]*mknod' %(major out of range%)$")
    assert.is_nil(core.lstat(p))
  end)
end)

describe("nsl.symlink and nsl.readlink", function()
  it("makes a symlink and reads it back", function()
    local link = dir .. "/fd"
    assert.is_true(core.symlink("/proc/self/fd", link))
    assert.equal("/proc/self/fd", core.readlink(link))
    assert.equal("/proc/self/fd", shell_stat("%N", link):match("-> '(.*)'$"))
    assert.equal("link", core.lstat(link).type)
    assert.equal("dir", core.stat(link).type)
  end)

  it("returns nil, message and errno naming both paths", function()
    local link = dir .. "/fd"
    assert(core.symlink("/proc/self/fd", link))
    assert.same({ nil, "symlink '/proc/self/fd' to '" .. link ..
      "': File exists", E.EEXIST }, { core.symlink("/proc/self/fd", link) })
    local missing = dir .. "/missing/fd"
    assert.same({ nil, "symlink 'x' to '" .. missing ..
      "': No such file or directory", E.ENOENT }, { core.symlink("x", missing) })
  end)

  it("returns EINVAL for a file that is no symlink and ENOENT for none", function()
    helper.write(dir .. "/file", "x")
    assert.same({ nil, "readlink '" .. dir .. "/file': Invalid argument",
      E.EINVAL }, { core.readlink(dir .. "/file") })
    assert.same({ nil, "readlink '" .. dir .. "/none': No such file or " ..
      "directory", E.ENOENT }, { core.readlink(dir .. "/none") })
  end)
end)

describe("nsl.mkdir and nsl.rmdir", function()
  it("makes a directory with a mode and removes it", function()
    local p = dir .. "/d"
    assert.is_true(core.mkdir(p, "0700"))
    assert.equal("700 directory", shell_stat("%a %F", p))
    assert.is_true(core.rmdir(p))
    assert.same({}, core.readdir(dir))
  end)

  it("returns nil, message and errno for EEXIST, ENOENT and ENOTDIR", function()
    assert.same({ nil, "mkdir '" .. dir .. "': File exists", E.EEXIST },
      { core.mkdir(dir) })
    assert.same({ nil, "mkdir '" .. dir .. "/a/b': No such file or directory",
      E.ENOENT }, { core.mkdir(dir .. "/a/b") })
    helper.write(dir .. "/file", "x")
    assert.same({ nil, "mkdir '" .. dir .. "/file/d': Not a directory",
      E.ENOTDIR }, { core.mkdir(dir .. "/file/d") })
    assert.same({ nil, "rmdir '" .. dir .. "/file': Not a directory",
      E.ENOTDIR }, { core.rmdir(dir .. "/file") })
    assert.same({ nil, "rmdir '" .. dir .. "': Directory not empty",
      E.ENOTEMPTY }, { core.rmdir(dir) })
    assert.same({ nil, "rmdir '" .. dir .. "/none': No such file or directory",
      E.ENOENT }, { core.rmdir(dir .. "/none") })
  end)

  it("returns EACCES for an unprivileged user in root's directory", function()
    local p = dir .. "/d"
    assert.equal(printed("mkdir '" .. p .. "': Permission denied", E.EACCES),
      as_nobody(string.format("print(nsl.mkdir(%q))", p)))
    assert(core.mkdir(p))
    assert.equal(printed("rmdir '" .. p .. "': Permission denied", E.EACCES),
      as_nobody(string.format("print(nsl.rmdir(%q))", p)))
    assert.equal("dir", core.stat(p).type)
  end)

  it("raises for a bad mode", function()
    assert.error_matches(function() core.mkdir(dir .. "/d", "rwx") end,
      "^bad argument #2 to '[%w.]*mkdir' %(bad mode 'rwx'")
  end)
end)

describe("nsl.mkdtemp", function()
  it("makes a new private directory from a template", function()
    local p = core.mkdtemp(dir .. "/t.XXXXXX")
    assert.matches("^" .. dir:gsub("%p", "%%%0") .. "/t%.[%w]+$", p)
    assert.is_not.equal(dir .. "/t.XXXXXX", p)
    assert.equal("700 directory", shell_stat("%a %F", p))
    assert.is_not.equal(p, core.mkdtemp(dir .. "/t.XXXXXX"))
  end)

  it("returns EINVAL for a bad template and ENOENT for a missing parent", function()
    assert.same({ nil, "mkdtemp '" .. dir .. "/t': Invalid argument",
      E.EINVAL }, { core.mkdtemp(dir .. "/t") })
    assert.same({ nil, "mkdtemp '" .. dir .. "/no/t.XXXXXX': No such file or " ..
      "directory", E.ENOENT }, { core.mkdtemp(dir .. "/no/t.XXXXXX") })
  end)
end)

describe("nsl.readdir", function()
  it("lists the names in byte order without . and ..", function()
    assert.same({}, core.readdir(dir))
    for _, name in ipairs({ "b", "a", "B", ".hidden", "a0" }) do
      helper.write(dir .. "/" .. name, "")
    end
    assert(core.mkdir(dir .. "/sub"))
    local res = helper.sh("cd " .. helper.quote(dir) ..
      " && LC_ALL=C ls -A | tr '\\n' ' '")
    assert.equal(res.out, table.concat(core.readdir(dir), " ") .. " ")
    assert.same({ ".hidden", "B", "a", "a0", "b", "sub" }, core.readdir(dir))
  end)

  it("returns nil, message and errno for ENOENT and ENOTDIR", function()
    assert.same({ nil, "readdir '" .. dir .. "/none': No such file or " ..
      "directory", E.ENOENT }, { core.readdir(dir .. "/none") })
    helper.write(dir .. "/file", "x")
    assert.same({ nil, "readdir '" .. dir .. "/file': Not a directory",
      E.ENOTDIR }, { core.readdir(dir .. "/file") })
  end)
end)

describe("nsl.unlink and nsl.rename", function()
  it("renames and removes files", function()
    helper.write(dir .. "/a", "data")
    assert.is_true(core.rename(dir .. "/a", dir .. "/b"))
    assert.same({ "b" }, core.readdir(dir))
    assert.equal("data", helper.read(dir .. "/b"))
    assert.is_true(core.unlink(dir .. "/b"))
    assert.same({}, core.readdir(dir))
  end)

  it("returns nil, message and errno naming both paths", function()
    local a, b = dir .. "/a", dir .. "/b"
    assert.same({ nil, "rename '" .. a .. "' to '" .. b ..
      "': No such file or directory", E.ENOENT }, { core.rename(a, b) })
    helper.write(a, "x")
    assert(core.mkdir(b))
    helper.write(b .. "/inside", "x")
    assert.same({ nil, "rename '" .. a .. "' to '" .. b ..
      "': Is a directory", E.EISDIR }, { core.rename(a, b) })
    assert(core.mkdir(dir .. "/c"))
    assert.same({ nil, "rename '" .. dir .. "/c' to '" .. b ..
      "': Directory not empty", E.ENOTEMPTY }, { core.rename(dir .. "/c", b) })
    assert.same({ nil, "rename '" .. b .. "' to '" .. a ..
      "': Not a directory", E.ENOTDIR }, { core.rename(b, a) })
  end)

  it("returns nil, message and errno for unlink", function()
    assert.same({ nil, "unlink '" .. dir .. "/a': No such file or directory",
      E.ENOENT }, { core.unlink(dir .. "/a") })
    assert.same({ nil, "unlink '" .. dir .. "': Is a directory", E.EISDIR },
      { core.unlink(dir) })
    helper.write(dir .. "/f", "x")
    assert.equal(printed("unlink '" .. dir .. "/f': Permission denied",
      E.EACCES), as_nobody(string.format("print(nsl.unlink(%q))", dir .. "/f")))
  end)
end)

describe("nsl.chmod, nsl.chown and nsl.lchown", function()
  it("changes the mode, setuid and sticky bits included", function()
    local p = dir .. "/f"
    helper.write(p, "x")
    assert.is_true(core.chmod(p, "4751"))
    assert.equal("4751", shell_stat("%a", p))
    assert.equal(octal("4751"), core.stat(p).mode)
    assert.is_true(core.chmod(dir, octal("1777")))
    assert.equal("1777", shell_stat("%a", dir))
    assert.equal(octal("1777"), core.stat(dir).mode)
    assert(core.chmod(dir, "0755"))
  end)

  it("changes owners, keeping what is nil, and a symlink's own", function()
    local p, link = dir .. "/f", dir .. "/l"
    helper.write(p, "x")
    assert.is_true(core.chown(p, helper.NOBODY))
    assert.equal(helper.NOBODY .. ":0", shell_stat("%u:%g", p))
    assert.is_true(core.chown(p, nil, helper.NOBODY))
    assert.equal(helper.NOBODY .. ":" .. helper.NOBODY, shell_stat("%u:%g", p))
    assert(core.symlink(p, link))
    assert.is_true(core.lchown(link, 1, 2))
    assert.equal("1:2", shell_stat("%u:%g", link))
    assert.equal(helper.NOBODY .. ":" .. helper.NOBODY, shell_stat("%u:%g", p))
    assert.is_true(core.chown(link, 3, 4)) -- follows the link
    assert.equal("3:4", shell_stat("%u:%g", p))
  end)

  it("raises for -1, 4294967295 and ids out of range, before any call", function()
    local p = dir .. "/f"
    helper.write(p, "x")
    for _, id in ipairs { -1, 0xffffffff, 1 << 32, math.maxinteger, math.mininteger } do
      local uid_error = "uid " .. id .. " out of range 0..4294967294"
      local gid_error = "gid " .. id .. " out of range 0..4294967294"
      assert.has_error(function() core.chown(p, id, 0) end,
        "bad argument #2 to 'chown' (" .. uid_error .. ")")
      assert.has_error(function() core.chown(p, 0, id) end,
        "bad argument #3 to 'chown' (" .. gid_error .. ")")
      assert.has_error(function() core.lchown(p, id, 0) end,
        "bad argument #2 to 'lchown' (" .. uid_error .. ")")
      assert.has_error(function() core.lchown(p, 0, id) end,
        "bad argument #3 to 'lchown' (" .. gid_error .. ")")
    end
    assert.equal("0:0", shell_stat("%u:%g", p))
  end)

  it("returns nil, message and errno for ENOENT", function()
    local p = dir .. "/none"
    assert.same({ nil, "chmod '" .. p .. "' to 0644: No such file or directory",
      E.ENOENT }, { core.chmod(p, "644") })
    assert.same({ nil, "chown '" .. p .. "' to 0:-1: No such file or directory",
      E.ENOENT }, { core.chown(p, 0, nil) })
    assert.same({ nil, "lchown '" .. p .. "' to 1:2: No such file or directory",
      E.ENOENT }, { core.lchown(p, 1, 2) })
  end)

  it("returns EPERM for an unprivileged user", function()
    local p = dir .. "/f"
    helper.write(p, "x")
    assert.equal(printed("chown '" .. p .. "' to 0:0: Operation not permitted",
      E.EPERM), as_nobody(string.format("print(nsl.chown(%q, 0, 0))", p)))
    assert.equal(printed("chmod '" .. p .. "' to 0777: Operation not permitted",
      E.EPERM), as_nobody(string.format("print(nsl.chmod(%q, '777'))", p)))
    assert.equal("644", shell_stat("%a", p))
  end)

  it("raises for a bad mode and an id out of range", function()
    local p = dir .. "/f"
    assert.error_matches(function() core.chmod(p, "0999") end,
      "^bad argument #2 to '[%w.]*chmod' %(bad mode '0999' %(octal, like \"0755\"%)%)$")
    assert.error_matches(function() core.chown(p, -2, 0) end,
      "^bad argument #2 to '[%w.]*chown' %(uid %-2 out of range 0..4294967294%)$")
    assert.error_matches(function() core.lchown(p, 0, "x") end,
      "^bad argument #3 to '[%w.]*lchown' %(number expected, got string%)$")
  end)
end)

describe("nsl.stat and nsl.lstat", function()
  it("returns the fields stat(1) shows", function()
    local p = dir .. "/f"
    helper.write(p, "hello")
    assert(core.chmod(p, "2640"))
    assert(core.chown(p, 12, 34))
    local st = core.stat(p)
    assert.equal("file", st.type)
    local want = shell_stat("%a %u %g %s %d %i %h %X %Y %Z", p)
    assert.equal(want, string.format("%o %d %d %d %d %d %d %d %d %d", st.mode,
      st.uid, st.gid, st.size, st.dev, st.ino, st.nlink, st.atime, st.mtime,
      st.ctime))
    assert.same({ 0, 0, 0 }, { st.rdev, st.major, st.minor })
    local tty = core.stat("/dev/null")
    assert.equal("char", tty.type)
    assert.equal(shell_stat("%Hr %Lr", "/dev/null"),
      tty.major .. " " .. tty.minor)
    assert.equal("dir", core.stat(dir).type)
  end)

  it("stats an fd like its path", function()
    local p = dir .. "/f"
    helper.write(p, "hello")
    local fd = assert(core.open(p))
    assert.same(core.stat(p), core.stat(fd))
    assert.same(core.stat(p), core.stat(fd:fileno()))
    fd:close()
  end)

  it("tells a link from its target", function()
    assert(core.symlink("none", dir .. "/dangling"))
    local st = core.lstat(dir .. "/dangling")
    assert.equal("link", st.type)
    assert.equal(4, st.size) -- the length of "none"
    assert.same({ nil, "stat '" .. dir .. "/dangling': No such file or " ..
      "directory", E.ENOENT }, { core.stat(dir .. "/dangling") })
  end)

  it("returns nil, message and errno for ENOENT, ENOTDIR and EBADF", function()
    assert.same({ nil, "lstat '" .. dir .. "/none': No such file or directory",
      E.ENOENT }, { core.lstat(dir .. "/none") })
    helper.write(dir .. "/f", "x")
    assert.same({ nil, "stat '" .. dir .. "/f/x': Not a directory", E.ENOTDIR },
      { core.stat(dir .. "/f/x") })
    local r, w = assert(core.pipe())
    local n = r:release()
    assert(core.close(n))
    w:close()
    assert.same({ nil, "fstat " .. n .. ": Bad file descriptor", E.EBADF },
      { core.stat(n) })
  end)

  it("raises for a value that is neither a path nor an fd", function()
    assert.error_matches(function() core.stat(true) end,
      "^bad argument #1 to '[%w.]*stat' %(fd or integer expected, got boolean%)$")
  end)
end)

describe("nsl.umask", function()
  it("sets the mask and returns the old one", function()
    helper.child(function()
      core.umask("022")
      assert(core.umask("077") == octal("022"), "old mask")
      assert(core.umask(0) == octal("077"), "old mask 077")
      assert(core.mkdir(dir .. "/open", "0777"))
      core.umask("027")
      assert(core.mkdir(dir .. "/masked", "0777"))
    end)
    assert.equal("777", shell_stat("%a", dir .. "/open"))
    assert.equal("750", shell_stat("%a", dir .. "/masked"))
  end)

  it("raises for a bad mask", function()
    assert.error_matches(function() core.umask("8") end,
      "^bad argument #1 to '[%w.]*umask' %(bad mode '8'")
    assert.error_matches(function() core.umask() end,
      "^bad argument #1 to '[%w.]*umask' %(number expected, got no value%)$")
  end)
end)

describe("nsl.access", function()
  it("checks existence and permissions", function()
    local p = dir .. "/f"
    helper.write(p, "x")
    assert(core.chmod(p, "0644"))
    assert.is_true(core.access(p))
    assert.is_true(core.access(p, "f"))
    assert.is_true(core.access(p, "rw"))
    assert.is_true(core.access(dir, "rwx"))
  end)

  it("returns nil, message and errno for EACCES and ENOENT", function()
    local p = dir .. "/f"
    helper.write(p, "x")
    assert(core.chmod(p, "0644"))
    -- even root needs an x bit somewhere to execute: see access(2)
    assert.same({ nil, "access '" .. p .. "' for 'rx': Permission denied",
      E.EACCES }, { core.access(p, "rx") })
    assert.same({ nil, "access '" .. dir .. "/none' for 'f': No such file or " ..
      "directory", E.ENOENT }, { core.access(dir .. "/none") })
    assert.equal(printed("access '" .. p .. "' for 'w': Permission denied",
      E.EACCES), as_nobody(string.format("print(nsl.access(%q, 'w'))", p)))
    assert.equal("true\n",
      as_nobody(string.format("print(nsl.access(%q, 'r'))", p)))
  end)

  it("raises for an unknown letter", function()
    assert.error_matches(function() core.access(dir, "rwz") end,
      "^bad argument #2 to '[%w.]*access' %(unknown access mode 'z' %(one of r w x f%)%)$")
  end)
end)

describe("nsl.open", function()
  -- The flags line of /proc/self/fdinfo/N, as a number.
  local function fd_flags(fd)
    local text = helper.read("/proc/self/fdinfo/" .. fd:fileno())
    return tonumber(text:match("flags:%s*(%d+)"), 8)
  end
  local O_CLOEXEC = octal("2000000")

  it("creates a file with a mode, close-on-exec by default", function()
    local p = dir .. "/f"
    local fd = assert(core.open(p, "wronly creat excl", "0640"))
    assert.equal(5, fd:write("hello"))
    assert.is_true(fd_flags(fd) & O_CLOEXEC ~= 0)
    fd:close()
    assert.equal("hello", helper.read(p))
    assert.equal("640", shell_stat("%a", p))
    local kept = assert(core.open(p, { "rdonly", "nocloexec" }))
    assert.is_true(fd_flags(kept) & O_CLOEXEC == 0)
    assert.equal("hello", kept:read())
    kept:close()
    local appended = assert(core.open(p, "wronly append"))
    appended:write("!")
    appended:close()
    assert.equal("hello!", helper.read(p))
    assert(core.open(p, "wronly trunc")):close()
    assert.equal("", helper.read(p))
  end)

  it("opens an unnamed tmpfile and a directory", function()
    local fd = assert(core.open(dir, "rdwr tmpfile", "0600"))
    fd:write("anonymous")
    assert.equal(0, core.stat(fd).nlink)
    assert.same({}, core.readdir(dir))
    fd:close()
    local d = assert(core.open(dir, "directory path"))
    assert.equal("dir", core.stat(d).type)
    d:close()
  end)

  it("returns nil, message and errno for EEXIST, ENOENT, ENOTDIR, ELOOP", function()
    local p = dir .. "/f"
    helper.write(p, "x")
    assert.same({ nil, "open '" .. p .. "': File exists", E.EEXIST },
      { core.open(p, "wronly creat excl") })
    assert.same({ nil, "open '" .. dir .. "/none': No such file or directory",
      E.ENOENT }, { core.open(dir .. "/none") })
    assert.same({ nil, "open '" .. p .. "': Not a directory", E.ENOTDIR },
      { core.open(p, "directory") })
    assert(core.symlink(p, dir .. "/l"))
    assert.same({ nil, "open '" .. dir .. "/l': Too many levels of symbolic " ..
      "links", E.ELOOP }, { core.open(dir .. "/l", "rdonly nofollow") })
    assert.equal(printed("open '" .. p .. "': Permission denied", E.EACCES),
      as_nobody(string.format("print(nsl.open(%q, 'wronly'))", p)))
  end)

  it("raises for an unknown flag word and a bad mode", function()
    assert.error_matches(function() core.open(dir .. "/f", "wronly create") end,
      "^bad argument #2 to '[%w.]*open' %(unknown open flag 'create'%)$")
    assert.error_matches(function() core.open(dir .. "/f", "creat", "0999") end,
      "^bad argument #3 to '[%w.]*open' %(bad mode '0999'")
    assert.same({}, core.readdir(dir))
  end)
end)
