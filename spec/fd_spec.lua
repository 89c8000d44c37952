local helper = require "helper"
local core = require "nsl.core"

local E = core.errno

-- O_CLOEXEC as /proc/self/fdinfo's octal "flags:" show it (see proc(5)).
local O_CLOEXEC = 0x80000

-- Is fd (a number or an fd object) close-on-exec, by /proc/self/fdinfo?
local function cloexec(fd)
  local n = type(fd) == "number" and fd or fd:fileno()
  local info = assert(helper.read("/proc/self/fdinfo/" .. n))
  return tonumber(info:match("flags:%s*(%d+)"), 8) & O_CLOEXEC ~= 0
end

-- A number that is no open fd (until something opens it again).
local function closed_fd()
  local r, w = assert(core.pipe())
  local n = r:fileno()
  r:close()
  w:close()
  return n
end

-- An fd number not in use, for dup2's target.
local function free_fd()
  for n = 100, 1000 do
    if not helper.read("/proc/self/fdinfo/" .. n) then return n end
  end
end

-- Everything fd has until end of file, waiting at most 5 s for each piece.
local function read_all(fd)
  local chunks = {}
  repeat
    local ready = core.poll({ fd }, 5000)
    assert(ready[1], "nothing to read within 5 s")
    local s = assert(core.read(fd))
    chunks[#chunks + 1] = s
  until s == ""
  return table.concat(chunks)
end

-- A line from fd, waiting at most 5 s for each piece.
local function read_line(fd)
  local line = ""
  repeat
    assert(core.poll({ fd }, 5000)[1], "no line within 5 s")
    local s = assert(core.read(fd, 1))
    assert(s ~= "", "end of file before a line: " .. line)
    line = line .. s
  until s == "\n"
  return line
end

-- The bits of signals blocked in /proc/self/status.
local function blocked()
  return helper.read("/proc/self/status"):match("\nSigBlk:%s*(%x+)")
end

describe("nsl.pipe, read, write, close and fd", function()
  it("moves bytes through a close-on-exec pipe", function()
    local r, w = assert(core.pipe())
    assert.is_true(cloexec(r) and cloexec(w))
    assert.equal(5, core.write(w, "hello"))
    assert.equal("hel", core.read(r, 3))
    assert.is_true(w:close())
    assert.equal("lo", r:read())
    assert.equal("", r:read())
    assert.equal("fd (closed)", tostring(w))
    r:close()
  end)

  it("reads with a count larger than read(2) can return, without a buffer that size", function()
    local r, w = assert(core.pipe())
    assert.equal(4, w:write("ping"))
    assert.equal("ping", r:read(1 << 40)) -- 1 TiB: no allocator gives that
    assert.equal(4, w:write("pong"))
    assert.equal("pong", r:read(math.maxinteger))
    r:close()
    w:close()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    helper.write(dir .. "/big", string.rep("x", 3 << 20))
    local f = assert(core.open(dir .. "/big"))
    assert.equal(1 << 20, #f:read(2 << 20)) -- at most 1 MiB a call
    f:close()
  end)

  it("wraps a number in an fd object that closes it", function()
    local r, w = assert(core.pipe())
    local n = r:release()
    local f = core.fd(n)
    assert.equal(n, f:fileno())
    assert.is_true(core.close(f))
    assert.is_nil(f:fileno())
    assert.same({ nil, "close " .. n .. ": Bad file descriptor", E.EBADF },
      { core.close(n) })
    w:close()
  end)

  it("returns an fd object itself, so that no fd has two owners", function()
    local r, w = assert(core.pipe())
    local n = r:fileno()
    local f = core.fd(r)
    assert.is_true(rawequal(r, f))
    -- a second owner closed, when collected, whatever had the number by then
    r:close()
    local r2, w2 = assert(core.pipe())
    assert.equal(n, r2:fileno())
    f = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.equal(1, core.write(w2, "x"))
    assert.equal("x", core.read(r2))
    assert.has_error(function() core.fd(r) end, "bad argument #1 to 'fd' (fd is closed)")
    r2:close()
    w2:close()
    w:close()
  end)

  it("raises for a number that an fd object or a root already owns", function()
    local r, w = assert(core.pipe())
    local n = r:fileno()
    assert.has_error(function() core.fd(n) end, "bad argument #1 to 'fd' (fd " .. n ..
      " already has an owner: use it, or release it first)")
    local root = assert(core.root_open("/"))
    assert.has_error(function() core.fd(root:fd()) end, "bad argument #1 to 'fd' (fd " ..
      root:fd() .. " already has an owner: use it, or release it first)")
    root:close()
    local released = r:release()
    local f = core.fd(released)
    assert.equal(n, f:fileno())
    f:close()
    w:close()
  end)

  it("closes the owner too when its number is closed", function()
    local r, w = assert(core.pipe())
    local n = r:fileno()
    assert.is_true(core.close(n))
    assert.equal("fd (closed)", tostring(r))
    assert.is_nil(r:fileno())
    local r2, w2 = assert(core.pipe())
    assert.equal(n, r2:fileno())
    r = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.equal(1, core.write(w2, "x"))
    assert.equal("x", core.read(r2))
    r2:close()
    w2:close()
    w:close()
  end)

  it("raises for a number out of range", function()
    for _, bad in ipairs { -1, 1 << 31, 1 << 32, math.maxinteger, math.mininteger } do
      assert.has_error(function() core.fd(bad) end, "bad argument #1 to 'fd' (fd out of range)")
      assert.has_error(function() core.close(bad) end,
        "bad argument #1 to 'close' (fd out of range)")
    end
  end)
end)

describe("nsl.dup and nsl.dup2", function()
  it("dup returns a close-on-exec copy as an fd object", function()
    local r, w = assert(core.pipe({}))
    assert.is_false(cloexec(w))
    local copy = assert(core.dup(w))
    assert.matches("^fd %d+$", tostring(copy))
    assert.is_true(cloexec(copy))
    assert.equal(2, core.write(copy, "hi"))
    assert.equal("hi", core.read(r))
    copy:close()
    r:close()
    w:close()
  end)

  it("dup2 puts an inheritable copy at the number given", function()
    local r, w = assert(core.pipe())
    local n = free_fd()
    assert.equal(n, core.dup2(w, n))
    assert.is_false(cloexec(n))
    assert.equal(3, core.write(n, "abc"))
    assert.equal("abc", core.read(r))
    assert.is_true(core.close(n))
    r:close()
    w:close()
  end)

  it("dup2 of an fd onto itself makes it inheritable", function()
    local r, w = assert(core.pipe())
    assert.is_true(cloexec(w))
    assert.equal(w:fileno(), core.dup2(w, w:fileno()))
    assert.is_false(cloexec(w))
    r:close()
    w:close()
  end)

  it("return nil, message and errno for a closed fd", function()
    local n, to = closed_fd(), free_fd()
    assert.same({ nil, "dup " .. n .. ": Bad file descriptor", E.EBADF },
      { core.dup(n) })
    assert.same({ nil, "dup2 " .. n .. " " .. to .. ": Bad file descriptor",
      E.EBADF }, { core.dup2(n, to) })
    assert.same({ nil, "dup2 " .. n .. " " .. n .. ": Bad file descriptor",
      E.EBADF }, { core.dup2(n, n) })
  end)

  it("raise for what is not an open fd", function()
    local r, w = assert(core.pipe())
    r:close()
    assert.has_error(function() core.dup(r) end,
      "bad argument #1 to 'dup' (fd is closed)")
    assert.has_error(function() core.dup2("x", 1) end,
      "bad argument #1 to 'dup2' (fd or integer expected, got string)")
    assert.has_error(function() core.dup2(w, -1) end,
      "bad argument #2 to 'dup2' (fd out of range)")
    w:close()
  end)
end)

describe("nsl.set_cloexec", function()
  it("clears and sets FD_CLOEXEC", function()
    local r, w = assert(core.pipe())
    assert.is_true(core.set_cloexec(w, false))
    assert.is_false(cloexec(w))
    assert.is_true(core.set_cloexec(w, true))
    assert.is_true(cloexec(w))
    assert.is_true(core.set_cloexec(w, false))
    assert.is_true(core.set_cloexec(w))
    assert.is_true(cloexec(w))
    r:close()
    w:close()
  end)

  it("returns nil, message and errno for a closed fd", function()
    local n = closed_fd()
    assert.same({ nil, "set_cloexec " .. n .. " false: Bad file descriptor",
      E.EBADF }, { core.set_cloexec(n, false) })
  end)

  it("raises for a flag that is not a boolean", function()
    assert.has_error(function() core.set_cloexec(0, "yes") end,
      "bad argument #2 to 'set_cloexec' (boolean expected, got string)")
  end)
end)

describe("nsl.openpty, isatty and ttyname", function()
  it("opens a pty pair that carries bytes both ways", function()
    local m, s, path = assert(core.openpty())
    assert.matches("^/dev/pts/%d+$", path)
    assert.is_true(cloexec(m) and cloexec(s))
    assert.equal(path, core.ttyname(s))
    assert.is_true(core.isatty(s))
    assert.is_true(core.isatty(m))
    assert.equal(5, core.write(m, "ping\n"))
    assert.equal("ping\n", core.read(s)) -- one canonical line
    assert.equal("ping\r\n", read_line(m)) -- its echo
    assert(core.tty_raw(s))
    assert.equal(5, core.write(s, "pong\n"))
    assert.equal("pong\n", read_line(m))
    m:close()
    s:close()
  end)

  it("does not make the pty the controlling terminal of a session leader",
    function()
      helper.child(function()
        assert(core.setsid())
        local m, s = assert(core.openpty())
        assert.is_nil(io.open("/dev/tty"))
        m:close()
        s:close()
      end)
    end)

  it("returns nil, message and errno when no fd is left", function()
    helper.child(function()
      local _, hard = core.getrlimit("nofile")
      assert(core.setrlimit("nofile", 0, hard))
      assert.same({ nil, "openpty: posix_openpt: Too many open files",
        E.EMFILE }, { core.openpty() })
    end)
  end)

  it("isatty is false and ttyname fails for a pipe", function()
    local r, w = assert(core.pipe())
    assert.is_false(core.isatty(r))
    assert.same({ nil, "ttyname " .. r:fileno() ..
      ": Inappropriate ioctl for device", E.ENOTTY }, { core.ttyname(r) })
    r:close()
    w:close()
  end)

  it("isatty returns nil, message and errno for a closed fd", function()
    local n = closed_fd()
    assert.same({ nil, "isatty " .. n .. ": Bad file descriptor", E.EBADF },
      { core.isatty(n) })
  end)

  it("raise for what is not an fd", function()
    assert.has_error(function() core.isatty() end,
      "bad argument #1 to 'isatty' (fd or integer expected, got no value)")
    assert.has_error(function() core.ttyname({}) end,
      "bad argument #1 to 'ttyname' (fd or integer expected, got table)")
  end)
end)

describe("nsl.tty_raw and nsl.tty_restore", function()
  it("switch a terminal to raw mode and back", function()
    local m, s = assert(core.openpty())
    local saved = assert(core.tty_raw(s))
    assert.is_string(saved)
    -- raw: bytes arrive without a newline, and "\n" is not turned into "\r\n"
    core.write(m, "ab")
    assert.equal("in", core.poll({ s }, 5000)[1])
    assert.equal("ab", core.read(s))
    core.write(s, "x\n")
    assert.equal("x\n", read_line(m))
    assert.is_true(core.tty_restore(s, saved))
    -- canonical again: nothing to read before the newline, echo and onlcr on
    core.write(m, "cd")
    assert.same({ { false }, 0 }, { core.poll({ s }, 100) })
    core.write(m, "\n")
    assert.equal("cd\n", core.read(s))
    assert.equal("cd\r\n", read_line(m)) -- the echo
    m:close()
    s:close()
  end)

  it("return nil, message and errno for a pipe", function()
    local r, w = assert(core.pipe())
    local m, s = assert(core.openpty())
    local saved = assert(core.tty_raw(s))
    local n = r:fileno()
    assert.same({ nil, "tty_raw " .. n .. ": Inappropriate ioctl for device",
      E.ENOTTY }, { core.tty_raw(r) })
    assert.same({ nil, "tty_restore " .. n ..
      ": Inappropriate ioctl for device", E.ENOTTY },
      { core.tty_restore(r, saved) })
    m:close()
    s:close()
    r:close()
    w:close()
  end)

  it("tty_restore raises for a state tty_raw did not save", function()
    assert.has_error(function() core.tty_restore(0, "short") end,
      "bad argument #2 to 'tty_restore' (not a state saved by tty_raw)")
    assert.has_error(function() core.tty_restore(0) end,
      "bad argument #2 to 'tty_restore' (string expected, got no value)")
  end)
end)

describe("nsl.get_winsize and nsl.set_winsize", function()
  it("set a pty's size and read it back from either end", function()
    local m, s = assert(core.openpty())
    assert.is_true(core.set_winsize(s, 33, 101))
    assert.same({ 33, 101 }, { core.get_winsize(m) })
    assert.is_true(core.set_winsize(m, 24, 80))
    assert.same({ 24, 80 }, { core.get_winsize(s) })
    m:close()
    s:close()
  end)

  it("return nil, message and errno for a pipe", function()
    local r, w = assert(core.pipe())
    local n = r:fileno()
    assert.same({ nil, "get_winsize " .. n ..
      ": Inappropriate ioctl for device", E.ENOTTY }, { core.get_winsize(r) })
    assert.same({ nil, "set_winsize " .. n ..
      " to 1x2: Inappropriate ioctl for device", E.ENOTTY },
      { core.set_winsize(r, 1, 2) })
    r:close()
    w:close()
  end)

  it("set_winsize raises for a size out of range", function()
    assert.has_error(function() core.set_winsize(0, -1, 5) end,
      "bad argument #2 to 'set_winsize' (rows out of range)")
    assert.has_error(function() core.set_winsize(0, 1, 65536) end,
      "bad argument #3 to 'set_winsize' (cols out of range)")
  end)
end)

describe("nsl.set_ctty", function()
  it("makes a pty the controlling terminal of a new session", function()
    helper.child(function()
      local m, s, path = assert(core.openpty()) -- luacheck: ignore m (held open: see below)
      assert(core.setsid())
      assert.is_nil(io.open("/dev/tty")) -- no controlling terminal yet
      assert.is_true(core.set_ctty(s))
      local tty = assert(io.open("/dev/tty"))
      tty:close()
      assert.equal(path, core.ttyname(s))
      -- m stays open: closing it now would hang the terminal up and
      -- SIGHUP this process; _exit closes it when the exit status is set
      s:close()
    end)
  end)

  it("returns nil, message and errno outside a session leader", function()
    helper.child(function()
      local m, s = assert(core.openpty()) -- luacheck: ignore m (held open: no hangup)
      assert.same({ nil, "set_ctty " .. s:fileno() ..
        ": Operation not permitted", E.EPERM }, { core.set_ctty(s) })
      local r = assert(core.pipe())
      assert(core.setsid())
      assert.same({ nil, "set_ctty " .. r:fileno() ..
        ": Inappropriate ioctl for device", E.ENOTTY }, { core.set_ctty(r) })
    end)
  end)

  it("raises for what is not an fd", function()
    assert.has_error(function() core.set_ctty("tty") end,
      "bad argument #1 to 'set_ctty' (fd or integer expected, got string)")
  end)
end)

describe("nsl.poll", function()
  it("reports which fds are ready, indexed like the list", function()
    local r, w = assert(core.pipe())
    assert.same({ { false, false }, 0 }, { core.poll({ r, w }, 0) })
    assert.same({ { false, "out" }, 1 }, { core.poll({ r, w }, 0, "in out") })
    core.write(w, "x")
    assert.same({ { "in", false }, 1 }, { core.poll({ r, w:fileno() }, 0) })
    w:close()
    assert.same({ { "in|hup" }, 1 }, { core.poll({ r }, 0) })
    assert.equal("x", r:read())
    assert.same({ { "hup" }, 1 }, { core.poll({ r }, -1) })
    r:close()
  end)

  it("waits for the timeout when nothing is ready", function()
    local r, w = assert(core.pipe())
    local before = helper.read("/proc/uptime"):match("^(%S+)")
    assert.same({ { false }, 0 }, { core.poll({ r }, 300) })
    local after = helper.read("/proc/uptime"):match("^(%S+)")
    assert.is_true(tonumber(after) - tonumber(before) >= 0.2)
    r:close()
    w:close()
  end)

  it("reports nval for a number that is no open fd", function()
    assert.same({ { "nval" }, 1 }, { core.poll({ closed_fd() }, 0) })
  end)

  it("returns nil, message and errno for more fds than RLIMIT_NOFILE",
    function()
      helper.child(function()
        local _, hard = core.getrlimit("nofile")
        local list = {}
        for i = 1, 64 do list[i] = 0 end
        assert(core.setrlimit("nofile", 32, hard))
        assert.same({ nil, "poll: Invalid argument", E.EINVAL },
          { core.poll(list, 0) })
      end)
    end)

  it("raises for a bad list, timeout or event", function()
    local r, w = assert(core.pipe())
    w:close()
    assert.has_error(function() core.poll(r, 0) end,
      "bad argument #1 to 'poll' (table expected, got nsl.fd)")
    assert.has_error(function() core.poll({ r, "x" }, 0) end,
      "bad argument #1 to 'poll' (item 2 is string, not an open fd)")
    assert.has_error(function() core.poll({ w }, 0) end,
      "bad argument #1 to 'poll' (item 1 is a closed fd, not an open fd)")
    assert.has_error(function() core.poll({ r }, -2) end,
      "bad argument #2 to 'poll' (timeout out of range)")
    assert.has_error(function() core.poll({ r }, 0, "bogus") end,
      "bad argument #3 to 'poll' (unknown poll event 'bogus')")
    for _, n in ipairs { -1, math.mininteger, 1 << 61, math.maxinteger } do
      local list = setmetatable({}, { __len = function() return n end })
      assert.has_error(function() core.poll(list, 0) end,
        string.format("bad argument #1 to 'poll' (length %d out of range 0..1048576)", n))
    end
    r:close()
  end)
end)

describe("nsl.relay", function()
  -- Run a console: a child R whose fd 0 reads `input` from a pipe and whose
  -- fd 1 is a pipe starts `program` on a new raw pty (no echo) and relays,
  -- checking that relay returns opts.expect (default true) and restores
  -- the signal mask. opts.pid: relay until the program's pid exits;
  -- opts.subreaper: R reaps what the program leaves behind; opts.bad_out:
  -- fd 1 is a pipe's read end. Returns what reached R's fd 1.
  local function console(input, program, opts)
    opts = opts or {}
    local in_r, in_w = assert(core.pipe())
    local out_r, out_w = assert(core.pipe())
    assert(core.write(in_w, input))
    in_w:close()
    local ok, err = helper.in_child(function()
      assert(core.dup2(in_r, 0))
      -- bad_out: a pipe's read end, where writes fail with EBADF
      assert(core.dup2(opts.bad_out and in_r or out_w, 1))
      in_r:close()
      out_w:close()
      out_r:close()
      if opts.subreaper then assert(core.child_subreaper(true)) end
      local m, s = assert(core.openpty())
      assert(core.tty_raw(s))
      local pid = assert(core.clone())
      if pid == 0 then
        local fine = pcall(function()
          for fd = 0, 2 do assert(core.dup2(s, fd)) end
          m:close()
          s:close()
          program()
        end)
        core._exit(fine and 0 or 1)
      end
      s:close()
      local mask = blocked()
      local res = { core.relay(m, opts.pid and { pid = pid }) }
      assert.equal(mask, blocked())
      assert.same({ pid, "exited", 0 }, { core.wait(pid) })
      assert.same(opts.expect or { true }, res)
      m:close()
      if opts.subreaper then
        repeat until not core.wait(-1) -- the program's children
      end
    end)
    out_w:close()
    in_r:close()
    local out = read_all(out_r)
    out_r:close()
    assert(ok, err)
    return out
  end

  it("copies the console's output until it hangs up", function()
    assert.equal("hello", console("", function()
      assert(core.write(1, "hello"))
    end))
  end)

  it("copies fd 0 to the console, and its output after fd 0's end",
    function()
      assert.equal("got ping\n", console("ping\n", function()
        local line = read_line(0)
        assert(core.write(1, "got " .. line))
      end))
    end)

  it("stops when opts.pid exits, though the console stays open", function()
    assert.equal("bye", console("", function()
      local pid = assert(core.clone())
      if pid == 0 then
        core.read(0) -- holds the slave until the master is closed
        core._exit(0)
      end
      assert(core.write(1, "bye"))
    end, { pid = true, subreaper = true }))
  end)

  -- Start a child R whose fd 0 is stdin and fd 1 a pipe; R runs program
  -- on a new raw pty in a child C and relays until C exits (opts.pid),
  -- closing the fds in closes (those only C needs) once C runs. With fill
  -- the pipe is full before R starts. Returns R's pid, the pipe's read end
  -- and what fill put there; R is killed and reaped if the test fails.
  local function start_console(stdin, program, closes, fill)
    local out_r, out_w = assert(core.pipe())
    local filler = {}
    while fill and core.poll({ out_w }, 0, "out")[1] do
      filler[#filler + 1] = string.rep(string.char(65 + #filler % 26), 4096)
      assert(core.write(out_w, filler[#filler]) == 4096)
    end
    local pid = assert(core.clone())
    if pid == 0 then
      local fine, err = pcall(function()
        assert(core.dup2(stdin, 0))
        assert(core.dup2(out_w, 1))
        out_r:close()
        out_w:close()
        local m, s = assert(core.openpty())
        assert(core.tty_raw(s))
        local child = assert(core.clone())
        if child == 0 then
          for fd = 0, 2 do assert(core.dup2(s, fd)) end
          m:close()
          s:close()
          core._exit(pcall(program) and 0 or 1)
        end
        s:close()
        for _, fd in ipairs(closes) do fd:close() end
        assert(core.relay(m, { pid = child }))
        assert.same({ child, "exited", 0 }, { core.wait(child) })
      end)
      if not fine then io.stderr:write(tostring(err), "\n") end
      core._exit(fine and 0 or 1)
    end
    out_w:close()
    finally(function()
      out_r:close()
      if core.wait(pid, "nohang") == 0 then
        core.kill(pid, "KILL")
        core.wait(pid)
      end
    end)
    return pid, out_r, table.concat(filler)
  end

  it("copies all that opts.pid wrote before it exited", function()
    -- fd 1 is a full pipe, so the relay waits to write the first piece
    -- while the program ends with the rest (less than the ~11 KiB a pty
    -- holds, more than a 4 KiB read) in the pty
    local big = string.rep("0123456789abcdef", 640)
    local in_r, in_w = assert(core.pipe())
    local done_r, done_w = assert(core.pipe())
    in_w:close()
    local pid, out_r, filler = start_console(in_r, function()
      local at = 1
      while at <= #big do
        at = at + assert(core.write(1, big:sub(at)))
      end
    end, { in_r, done_r, done_w }, true)
    in_r:close()
    done_w:close()
    assert.equal("hup", core.poll({ done_r }, 5000)[1]) -- the program exited
    done_r:close()
    local out = read_all(out_r)
    assert.equal(#filler + #big, #out)
    assert.is_true(out == filler .. big)
    assert.same({ pid, "exited", 0 }, { core.wait(pid) })
  end)

  it("passes fd 0's window size on at the start and on SIGWINCH", function()
    local om, os_ = assert(core.openpty())
    assert(core.tty_raw(os_))
    assert(core.set_winsize(os_, 30, 100))
    finally(function() om:close() end)
    local pid, out_r = start_console(os_, function()
      for _ = 1, 2 do
        read_line(0)
        core.write(1, string.format("%d %d\n", core.get_winsize(0)))
      end
    end, { om, os_ })
    os_:close()
    core.write(om, "go\n")
    assert.equal("30 100\n", read_line(out_r))
    assert(core.set_winsize(om, 40, 120))
    assert(core.kill(pid, "WINCH"))
    core.write(om, "again\n")
    assert.equal("40 120\n", read_line(out_r))
    assert.same({ pid, "exited", 0 }, { core.wait(pid) })
  end)

  it("returns nil, message and errno when fd 1 is not writable", function()
    console("", function()
      assert(core.write(1, "lost"))
    end, { expect = { nil, "relay: write 1: Bad file descriptor", E.EBADF },
      pid = true, bad_out = true })
  end)

  it("returns nil, message and errno for a pid that is gone", function()
    helper.child(function()
      local pid = assert(core.clone())
      if pid == 0 then core._exit(0) end
      assert(core.wait(pid))
      local m, s = assert(core.openpty())
      assert.same({ nil, "relay: pidfd_open " .. pid .. ": No such process",
        E.ESRCH }, { core.relay(m, { pid = pid }) })
      m:close()
      s:close()
    end)
  end)

  it("raises for a bad master or options", function()
    assert.has_error(function() core.relay("x") end,
      "bad argument #1 to 'relay' (fd or integer expected, got string)")
    assert.has_error(function() core.relay(0, { pid = "a" }) end,
      "bad argument #2 to 'relay' (pid must be a positive integer)")
    assert.has_error(function() core.relay(0, { bogus = 1 }) end,
      "bad argument #2 to 'relay' (unknown option 'bogus')")
    assert.has_error(function() core.relay(0, 5) end,
      "bad argument #2 to 'relay' (table expected, got number)")
  end)
end)
