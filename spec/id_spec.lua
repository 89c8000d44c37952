local helper = require "helper"
local core = require "nsl.core"

local E = core.errno

-- /proc/PID/status (default: this process, which in helper.child is the
-- child).
local function status(pid)
  return assert(helper.read("/proc/" .. (pid or "self") .. "/status"))
end

-- A hex capability mask of /proc/PID/status ("CapEff", "CapBnd", ...).
local function capmask(field, pid)
  return tonumber(status(pid):match(field .. ":%s*(%x+)"), 16)
end

-- The mask of every capability the kernel knows.
local function all_caps()
  local last = tonumber(helper.read("/proc/sys/kernel/cap_last_cap"))
  return (1 << (last + 1)) - 1
end

-- The sets that cap_to_text(3)'s text describes, as masks { e, p, i }:
-- clauses "names OP flags [OP flags]...", where no names means all and
-- "=" clears the named capabilities before it raises flags.
local function parse_caps(text)
  local sets = { e = 0, p = 0, i = 0 }
  for clause in text:gmatch("%S+") do
    local names, ops = clause:match("^([^=+-]*)(.*)$")
    local mask = 0
    if names == "" or names == "all" then
      mask = all_caps()
    else
      for name in names:gmatch("[^,]+") do
        mask = mask | (1 << core.cap_from_name(tonumber(name) or name))
      end
    end
    for op, flags in ops:gmatch("([=+-])(%a*)") do
      if op == "=" then
        for k in pairs(sets) do sets[k] = sets[k] & ~mask end
      end
      for f in flags:gmatch(".") do
        sets[f] = op == "-" and sets[f] & ~mask or sets[f] | mask
      end
    end
  end
  return sets
end

-- The capability sets of /proc/PID/status, for parse_caps.
local function proc_caps(pid)
  return { e = capmask("CapEff", pid), p = capmask("CapPrm", pid),
    i = capmask("CapInh", pid) }
end

local function bit(name)
  return 1 << core.cap_from_name(name)
end

-- Run Lua as uid 65534 (see helper.unprivileged_lua); returns its stdout.
local function unprivileged(code)
  local res = helper.unprivileged_lua("local nsl = require 'nsl'\n" .. code)
  assert.equal(0, res.code, res.err)
  return res.out
end

-- The pid of a child that has exited and been reaped.
local function reaped_pid()
  local pid = assert(core.clone())
  if pid == 0 then core._exit(0) end
  assert(core.wait(pid))
  return pid
end

-- A signal's number, from the shell rather than from nsl.
local function signum(name)
  return tonumber(helper.sh("/bin/kill -l " .. name).out)
end

describe("nsl.getuid, geteuid, getgid, getegid, getresuid, getresgid",
  function()
    it("return the ids /proc/self/status shows", function()
      local r, e, s = status():match("\nUid:%s+(%d+)%s+(%d+)%s+(%d+)")
      assert.same({ tonumber(r), tonumber(e), tonumber(s) },
        { core.getresuid() })
      assert.equal(tonumber(r), core.getuid())
      assert.equal(tonumber(e), core.geteuid())
      r, e, s = status():match("\nGid:%s+(%d+)%s+(%d+)%s+(%d+)")
      assert.same({ tonumber(r), tonumber(e), tonumber(s) },
        { core.getresgid() })
      assert.equal(tonumber(r), core.getgid())
      assert.equal(tonumber(e), core.getegid())
    end)

    it("return uid and gid 65534 for an unprivileged run", function()
      assert.equal("65534 65534 65534 65534 65534 65534 65534 65534\n",
        (unprivileged([[
          local ur, ue, us = nsl.getresuid()
          local gr, ge, gs = nsl.getresgid()
          print(nsl.getuid(), nsl.geteuid(), ur, ue, us,
            nsl.getgid(), nsl.getegid(), gr)
        ]]):gsub("\t", " ")))
    end)
  end)

describe("nsl.setresuid and nsl.setresgid", function()
  it("change the ids, keep those given as nil and drop the caps", function()
    helper.child(function()
      assert.is_true(core.setresgid(nil, 65534, nil))
      assert.same({ 0, 65534, 0 }, { core.getresgid() })
      assert.is_true(core.setresgid(65534, 65534, 65534))
      assert.same({ 65534, 65534, 65534 }, { core.getresgid() })
      assert.is_true(core.setresuid(nil, 65534))
      assert.same({ 0, 65534, 0 }, { core.getresuid() })
      assert.is_true(core.setresuid(65534, 65534, 65534))
      assert.same({ 65534, 65534, 65534 }, { core.getresuid() })
      assert.equal("=", core.cap_get())
      assert.equal(0, capmask("CapEff"))
      assert.equal(0, capmask("CapPrm"))
    end)
  end)

  it("return nil, message and errno without privilege", function()
    assert.equal(table.concat({
      "nil", "setresuid 0 0 0: Operation not permitted", E.EPERM,
      "nil", "setresgid 0 -1 -1: Operation not permitted", E.EPERM }, " ") ..
      "\n", unprivileged([[
        local a = { nsl.setresuid(0, 0, 0) }
        local b = { nsl.setresgid(0) }
        io.write(table.concat({ tostring(a[1]), a[2], a[3],
          tostring(b[1]), b[2], b[3] }, " "), "\n")
      ]]))
  end)

  it("raise for a wrong or out of range id", function()
    assert.has_error(function() core.setresuid("a", 0, 0) end,
      "bad argument #1 to 'setresuid' (number expected, got string)")
    assert.has_error(function() core.setresuid(0, 0, -2) end,
      "bad argument #3 to 'setresuid' (uid -2 out of range 0..4294967294)")
    assert.has_error(function() core.setresgid(0, 1 << 32) end,
      "bad argument #2 to 'setresgid' (gid 4294967296 out of range 0..4294967294)")
  end)

  it("raise for -1 and 4294967295, which the kernel reads as 'keep'", function()
    -- refused before any call: as root, a -1 that got through would leave
    -- the process root (in a child, in case one does get through)
    helper.child(function()
      for _, id in ipairs { -1, 0xffffffff, 1 << 32, math.maxinteger, math.mininteger } do
        for _, at in ipairs { 1, 2, 3 } do
          local args = { 65534, 65534, 65534 }
          args[at] = id
          assert.has_error(function() core.setresuid(table.unpack(args, 1, 3)) end,
            string.format("bad argument #%d to 'setresuid' (uid %d out of range 0..4294967294)",
              at, id))
          assert.has_error(function() core.setresgid(table.unpack(args, 1, 3)) end,
            string.format("bad argument #%d to 'setresgid' (gid %d out of range 0..4294967294)",
              at, id))
        end
      end
      assert.same({ 0, 0, 0 }, { core.getresuid() })
      assert.same({ 0, 0, 0 }, { core.getresgid() })
    end)
  end)
end)

describe("nsl.setgroups and nsl.getgroups", function()
  it("set and read back the supplementary groups", function()
    helper.child(function()
      assert.is_true(core.setgroups({ 5, 100 }))
      assert.same({ 5, 100 }, core.getgroups())
      assert.equal("5 100", status():match("\nGroups:%s*([%d ]-)%s*\n"))
      assert.is_true(core.setgroups({}))
      assert.same({}, core.getgroups())
    end)
  end)

  it("getgroups returns what /proc/self/status shows", function()
    local groups = {}
    for g in status():match("\nGroups:([^\n]*)"):gmatch("%d+") do
      groups[#groups + 1] = tonumber(g)
    end
    assert.same(groups, core.getgroups())
  end)

  it("returns nil, message and errno without privilege", function()
    assert.equal("nil setgroups '7,8': Operation not permitted " .. E.EPERM ..
      "\n", unprivileged([[
        local r = { nsl.setgroups({ 7, 8 }) }
        print(tostring(r[1]) .. " " .. r[2] .. " " .. r[3])
      ]]))
  end)

  it("raises for a list that is not of gids", function()
    assert.has_error(function() core.setgroups(5) end,
      "bad argument #1 to 'setgroups' (table expected, got number)")
    assert.has_error(function() core.setgroups({ 1, "x" }) end,
      "bad argument #1 to 'setgroups' (item 2 is not a gid)")
    assert.has_error(function() core.setgroups({ -1 }) end,
      "bad argument #1 to 'setgroups' (item 1 is not a gid)")
    for _, gid in ipairs { 0xffffffff, 1 << 32, math.maxinteger, math.mininteger } do
      assert.has_error(function() core.setgroups({ 5, gid }) end,
        "bad argument #1 to 'setgroups' (item 2 is not a gid)")
    end
  end)

  it("raises for a list whose __len is negative or huge", function()
    -- (size_t) of a negative length wrapped: an allocation of 2^64 - 4
    -- bytes, or a tiny one that the gids were then written past
    helper.child(function()
      for _, n in ipairs { -1, math.mininteger, 1 << 62, math.maxinteger } do
        local list = setmetatable({}, { __len = function() return n end,
          __index = function() return 5 end })
        assert.has_error(function() core.setgroups(list) end,
          string.format("bad argument #1 to 'setgroups' (length %d out of range 0..65536)", n))
      end
    end)
  end)
end)

describe("nsl.cap_get", function()
  it("describes this process's sets as /proc/self/status has them", function()
    local text = core.cap_get()
    assert.same(proc_caps(), parse_caps(text))
    assert.equal(text, core.cap_get(core.getpid()))
  end)

  it("describes another process's sets", function()
    assert.same(proc_caps(1), parse_caps(core.cap_get(1)))
  end)

  it("returns nil, message and errno for a process that is gone", function()
    local pid = reaped_pid()
    assert.same({ nil, "cap_get " .. pid .. ": No such process", E.ESRCH },
      { core.cap_get(pid) })
  end)

  it("raises for a pid out of range rather than reading a truncated one", function()
    -- 2^32 + getpid() used to read this process's sets
    for _, pid in ipairs { -1, (1 << 32) + core.getpid(), math.maxinteger, math.mininteger } do
      assert.has_error(function() core.cap_get(pid) end,
        string.format("bad argument #1 to 'cap_get' (pid %d out of range 0..2147483647)", pid))
    end
  end)

  it("shows full capabilities in a new user namespace of an ordinary user",
    function()
      local out = unprivileged([[
        local r, w = assert(nsl.pipe())
        local pid = assert(nsl.clone({ "user" }))
        if pid == 0 then
          w:close()
          r:read(1) -- "" once the parent has written the maps
          io.write(nsl.getuid(), " ", nsl.getgid(), " ", nsl.cap_get(), "\n")
          io.stdout:flush()
          nsl._exit(0)
        end
        r:close()
        local function put(file, s)
          local f = assert(io.open("/proc/" .. pid .. "/" .. file, "w"))
          assert(f:write(s))
          assert(f:close())
        end
        put("setgroups", "deny")
        put("uid_map", "0 65534 1\n")
        put("gid_map", "0 65534 1\n")
        w:close()
        local _, how, code = nsl.wait(pid)
        print(how, code, nsl.cap_get())
      ]])
      local inside, outside = out:match("^([^\n]*)\n([^\n]*)\n$")
      local uid, gid, text = inside:match("^(%d+) (%d+) (.*)$")
      assert.same({ "0", "0" }, { uid, gid })
      local sets = parse_caps(text)
      assert.same({ e = all_caps(), p = all_caps(), i = 0 }, sets)
      assert.equal("exited\t0\t=", outside)
    end)
end)

describe("nsl.cap_set", function()
  it("sets this process's capabilities from text", function()
    helper.child(function()
      assert.is_true(core.cap_set("cap_chown,cap_kill=ep cap_kill-e"))
      assert.equal(bit("chown"), capmask("CapEff"))
      assert.equal(bit("chown") | bit("kill"), capmask("CapPrm"))
      assert.same(proc_caps(), parse_caps(core.cap_get()))
      assert.is_true(core.cap_set("="))
      assert.equal("=", core.cap_get())
    end)
  end)

  it("returns nil, message and EINVAL for text it cannot parse", function()
    assert.same({ nil, "cap_set 'cap_nonsense+ep': Invalid argument",
      E.EINVAL }, { core.cap_set("cap_nonsense+ep") })
  end)

  it("returns nil, message and errno for capabilities not permitted",
    function()
      assert.equal("nil cap_set '=ep': Operation not permitted " .. E.EPERM ..
        "\n", unprivileged([[
          local r = { nsl.cap_set("=ep") }
          print(tostring(r[1]) .. " " .. r[2] .. " " .. r[3])
        ]]))
    end)

  it("raises without text", function()
    assert.has_error(function() core.cap_set() end,
      "bad argument #1 to 'cap_set' (string expected, got no value)")
  end)

  it("sets the sets of a table, by name or number, an absent one empty", function()
    helper.child(function()
      assert.is_true(core.cap_set { effective = { "chown" },
        permitted = { "CHOWN", core.cap_from_name("kill") }, inheritable = { "kill" } })
      assert.same({ bit("chown"), bit("chown") | bit("kill"), bit("kill") },
        { capmask("CapEff"), capmask("CapPrm"), capmask("CapInh") })
      assert.is_true(core.cap_set { permitted = { "chown" } })
      assert.same({ 0, bit("chown"), 0 }, { capmask("CapEff"), capmask("CapPrm"), capmask("CapInh") })
      assert.is_true(core.cap_set {})
      assert.equal("=", core.cap_get())
    end)
  end)

  it("checks a table whole before it sets anything", function()
    helper.child(function() -- should one get through, not this process's sets
      local before = core.cap_get()
      for _, case in ipairs {
        { { effective = { "chown" }, bogus = {} }, "unknown option 'bogus'" },
        { { effective = { "chown", "nonsense" } }, "unknown capability 'nonsense'" },
        { { permitted = { core.cap_max_bits() } }, "unknown capability " .. core.cap_max_bits() },
        { { inheritable = "chown" }, "inheritable is not a list of capabilities" },
      } do
        assert.has_error(function() core.cap_set(case[1]) end,
          "bad argument #1 to 'cap_set' (" .. case[2] .. ")")
      end
      assert.equal(before, core.cap_get())
    end)
  end)

  it("names the sets it could not set in libcap's text", function()
    assert.equal("nil cap_set 'cap_chown=ep': Operation not permitted " .. E.EPERM ..
      "\n", unprivileged([[
        local r = { nsl.cap_set { effective = { "chown" }, permitted = { "chown" } } }
        print(tostring(r[1]) .. " " .. r[2] .. " " .. r[3])
      ]]))
  end)
end)

describe("nsl.cap_names and nsl.cap_from_name", function()
  it("list every capability the kernel knows, in number order", function()
    local names = core.cap_names()
    local last = tonumber(helper.read("/proc/sys/kernel/cap_last_cap"))
    assert.equal(last + 1, #names)
    for i, name in ipairs(names) do
      assert.matches("^cap_[a-z_]+$", name)
      assert.equal(i - 1, core.cap_from_name(name))
    end
  end)

  it("take a name with or without cap_, in any case", function()
    local n = core.cap_from_name("cap_sys_admin")
    assert.equal(n, core.cap_from_name("sys_admin"))
    assert.equal(n, core.cap_from_name("SYS_ADMIN"))
    assert.equal(n, core.cap_from_name("Cap_Sys_Admin"))
    assert.equal("cap_sys_admin", core.cap_names()[n + 1])
  end)

  it("raises for an unknown name", function()
    assert.has_error(function() core.cap_from_name("nope") end,
      "bad argument #1 to 'cap_from_name' (unknown capability 'nope')")
    assert.has_error(function() core.cap_from_name("cap_") end,
      "bad argument #1 to 'cap_from_name' (unknown capability 'cap_')")
    assert.has_error(function() core.cap_from_name({}) end,
      "bad argument #1 to 'cap_from_name' (capability name or number " ..
      "expected, got table)")
  end)

  -- libcap's own lookup reads a number or the first name of a list too
  it("raise for a number in a string, a list, or a name with more around it", function()
    for _, text in ipairs { "12", "cap_12", "cap_kill,cap_chown", "kill chown", " kill",
      "kill ", "cap_kill+ep", "sys_admin\0" } do
      local ok, err = pcall(core.cap_from_name, text)
      assert.is_false(ok, text)
      assert.matches("(unknown capability '", err, 1, true)
    end
  end)

  it("cap_max_bits counts the names", function()
    assert.equal(#core.cap_names(), core.cap_max_bits())
  end)
end)

describe("nsl.cap_bound, cap_bound_list and cap_bound_drop", function()
  it("read the bounding set as /proc/self/status has it", function()
    local bnd = capmask("CapBnd")
    local listed = 0
    for _, name in ipairs(core.cap_bound_list()) do
      listed = listed | bit(name)
    end
    assert.equal(bnd, listed)
    for i, name in ipairs(core.cap_names()) do
      assert.equal(bnd & (1 << (i - 1)) ~= 0, core.cap_bound(name))
    end
  end)

  it("drop one capability or a list of them", function()
    helper.child(function()
      assert.is_true(core.cap_bound("mknod"))
      assert.is_true(core.cap_bound_drop("mknod"))
      assert.is_false(core.cap_bound("mknod"))
      assert.equal(0, capmask("CapBnd") & bit("mknod"))
      assert.is_true(core.cap_bound_drop({ "CAP_NET_RAW", "sys_chroot" }))
      assert.is_false(core.cap_bound("net_raw"))
      assert.is_false(core.cap_bound("sys_chroot"))
      for _, name in ipairs(core.cap_bound_list()) do
        assert.is_nil(({ cap_mknod = 1, cap_net_raw = 1,
          cap_sys_chroot = 1 })[name], name)
      end
    end)
  end)

  it("returns nil, message and errno without CAP_SETPCAP", function()
    assert.equal("nil cap_bound_drop 'cap_mknod': Operation not permitted " ..
      E.EPERM .. " true\n", unprivileged([[
        local r = { nsl.cap_bound_drop("mknod") }
        print(tostring(r[1]) .. " " .. r[2] .. " " .. r[3] .. " " ..
          tostring(nsl.cap_bound("mknod")))
      ]]))
  end)

  it("returns nil, message and EINVAL for a capability the kernel lacks",
    function()
      local n = #core.cap_names() + 10
      assert.same({ nil, "cap_bound '" .. n .. "': Invalid argument",
        E.EINVAL }, { core.cap_bound(n) })
    end)

  it("raises for an unknown name, before dropping any", function()
    helper.child(function()
      assert.has_error(function() core.cap_bound_drop({ "chown", "nope" }) end,
        "bad argument #1 to 'cap_bound_drop' (unknown capability 'nope')")
      assert.is_true(core.cap_bound("chown"))
    end)
    assert.has_error(function() core.cap_bound_drop(true) end,
      "bad argument #1 to 'cap_bound_drop' (capability name or number " ..
      "expected, got boolean)")
    assert.has_error(function() core.cap_bound(-1) end,
      "bad argument #1 to 'cap_bound' (capability out of range)")
  end)
end)

describe("nsl.cap_ambient, cap_ambient_raise, cap_ambient_lower, " ..
  "cap_ambient_clear", function()
    it("raise, read, lower and clear ambient capabilities", function()
      helper.child(function()
        assert.is_true(core.cap_set(core.cap_get() ..
          " cap_net_bind_service,cap_kill+i"))
        assert.is_false(core.cap_ambient("net_bind_service"))
        assert.is_true(core.cap_ambient_raise("net_bind_service"))
        assert.is_true(core.cap_ambient("net_bind_service"))
        assert.equal(bit("net_bind_service"), capmask("CapAmb"))
        assert.is_true(core.cap_ambient_lower("net_bind_service"))
        assert.is_false(core.cap_ambient("net_bind_service"))
        assert.is_true(core.cap_ambient_raise("net_bind_service"))
        assert.is_true(core.cap_ambient_raise("kill"))
        assert.equal(bit("net_bind_service") | bit("kill"), capmask("CapAmb"))
        assert.is_true(core.cap_ambient_clear())
        assert.equal(0, capmask("CapAmb"))
      end)
    end)

    it("return nil, message and errno for a capability not inheritable",
      function()
        helper.child(function()
          assert.is_true(core.cap_set(core.cap_get() .. " all-i"))
          assert.same({ nil, "cap_ambient_raise 'cap_net_bind_service': " ..
            "Operation not permitted", E.EPERM },
            { core.cap_ambient_raise("net_bind_service") })
          local n = #core.cap_names() + 10
          assert.same({ nil, "cap_ambient '" .. n .. "': Invalid argument",
            E.EINVAL }, { core.cap_ambient(n) })
        end)
      end)

    it("raise for an unknown name", function()
      assert.has_error(function() core.cap_ambient_raise("nope") end,
        "bad argument #1 to 'cap_ambient_raise' (unknown capability 'nope')")
      assert.has_error(function() core.cap_ambient("x") end,
        "bad argument #1 to 'cap_ambient' (unknown capability 'x')")
    end)
  end)

describe("nsl.no_new_privs", function()
  it("sets the flag, which /proc/self/status then shows", function()
    local before = status():match("\nNoNewPrivs:%s*(%d)")
    assert.equal(before == "1", core.no_new_privs())
    helper.child(function()
      assert.is_true(core.no_new_privs(true))
      assert.is_true(core.no_new_privs())
      assert.equal("1", status():match("\nNoNewPrivs:%s*(%d)"))
    end)
  end)

  it("returns nil, message and EINVAL for false", function()
    helper.child(function()
      assert.same({ nil, "no_new_privs false: Invalid argument", E.EINVAL },
        { core.no_new_privs(false) })
    end)
  end)

  it("raises for a value that is not a boolean", function()
    assert.has_error(function() core.no_new_privs("yes") end,
      "bad argument #1 to 'no_new_privs' (boolean expected, got string)")
  end)
end)

describe("nsl.pdeathsig and nsl.get_pdeathsig", function()
  it("set, read back and clear the signal, by name or number", function()
    helper.child(function()
      assert.equal(0, core.get_pdeathsig())
      assert.is_true(core.pdeathsig("KILL"))
      assert.equal(signum("KILL"), core.get_pdeathsig())
      assert.is_true(core.pdeathsig("sigterm"))
      assert.equal(signum("TERM"), core.get_pdeathsig())
      assert.is_true(core.pdeathsig(signum("HUP")))
      assert.equal(signum("HUP"), core.get_pdeathsig())
      assert.is_true(core.pdeathsig(0))
      assert.equal(0, core.get_pdeathsig())
    end)
  end)

  it("kills a child whose parent exits, reaped by a subreaper", function()
    helper.child(function()
      assert.is_false(core.child_subreaper())
      assert.is_true(core.child_subreaper(true))
      assert.is_true(core.child_subreaper())
      local r, w = assert(core.pipe())
      local hold_r, hold_w = assert(core.pipe())
      local parent = assert(core.clone())
      if parent == 0 then
        local pid = assert(core.clone())
        if pid == 0 then
          core.pdeathsig("KILL")
          w:close() -- tells the parent: set
          -- waits to be killed; 3 if that does not come
          core.poll({ hold_r }, 5000)
          core._exit(3)
        end
        w:close()
        r:read(1)
        core._exit(0)
      end
      w:close()
      assert.equal("", r:read(1))
      assert.same({ parent, "exited", 0 }, { core.wait(parent) })
      local pid, how, sig = core.wait(-1)
      hold_w:close()
      assert.is_number(pid)
      assert.same({ "killed", signum("KILL") }, { how, sig })
    end)
  end)

  it("raises for an unknown or out of range signal", function()
    assert.has_error(function() core.pdeathsig("NOPE") end,
      "bad argument #1 to 'pdeathsig' (unknown signal 'NOPE')")
    assert.has_error(function() core.pdeathsig(65) end,
      "bad argument #1 to 'pdeathsig' (signal 65 out of range)")
    assert.has_error(function() core.pdeathsig() end,
      "bad argument #1 to 'pdeathsig' (signal is no value, not a name or " ..
      "number)")
  end)
end)

describe("nsl.child_subreaper", function()
  it("leaves orphans to init without it", function()
    helper.child(function()
      local parent = assert(core.clone())
      if parent == 0 then
        local pid = assert(core.clone())
        if pid == 0 then core._exit(0) end
        core._exit(0)
      end
      assert.same({ parent, "exited", 0 }, { core.wait(parent) })
      local r = { core.wait(-1) }
      assert.same({ nil, E.ECHILD }, { r[1], r[3] })
    end)
  end)

  it("raises for a value that is not a boolean", function()
    assert.has_error(function() core.child_subreaper(1) end,
      "bad argument #1 to 'child_subreaper' (boolean expected, got number)")
  end)
end)

describe("nsl.dumpable", function()
  it("sets and reads back the flag", function()
    helper.child(function()
      assert.is_boolean(core.dumpable())
      assert.is_false(core.dumpable(false))
      assert.is_false(core.dumpable())
      assert.is_true(core.dumpable(true))
    end)
  end)

  it("raises for a value that is not a boolean", function()
    assert.has_error(function() core.dumpable(1) end,
      "bad argument #1 to 'dumpable' (boolean expected, got number)")
  end)
end)

describe("nsl.keepcaps", function()
  it("keeps the permitted set across a change of uid", function()
    helper.child(function()
      assert.is_false(core.keepcaps(false))
      assert.is_true(core.keepcaps(true))
      assert.is_true(core.keepcaps())
      local permitted = capmask("CapPrm")
      assert.is_true(core.setresuid(65534, 65534, 65534))
      assert.equal(permitted, capmask("CapPrm"))
      assert.equal(0, capmask("CapEff"))
      assert.same(proc_caps(), parse_caps(core.cap_get()))
    end)
  end)

  it("raises for a value that is not a boolean", function()
    assert.has_error(function() core.keepcaps("on") end,
      "bad argument #1 to 'keepcaps' (boolean expected, got string)")
  end)
end)

describe("nsl.set_name", function()
  it("names the thread in /proc/self/comm, keeping 15 bytes", function()
    helper.child(function()
      assert.is_true(core.set_name("nsl-spec"))
      assert.equal("nsl-spec\n", helper.read("/proc/self/comm"))
      assert.is_true(core.set_name("abcdefghijklmnopqrstuvwxyz"))
      assert.equal("abcdefghijklmno\n", helper.read("/proc/self/comm"))
    end)
  end)

  it("raises without a name", function()
    assert.has_error(function() core.set_name() end,
      "bad argument #1 to 'set_name' (string expected, got no value)")
  end)
end)

describe("nsl.getrlimit and nsl.setrlimit", function()
  -- soft and hard of a line of /proc/self/limits, as getrlimit gives them
  local function limits(title)
    local soft, hard = helper.read("/proc/self/limits"):match(
      "\n" .. title .. "%s+(%S+)%s+(%S+)")
    return tonumber(soft) or soft, tonumber(hard) or hard
  end

  it("read the limits /proc/self/limits shows", function()
    assert.same({ limits("Max open files") }, { core.getrlimit("nofile") })
    assert.same({ limits("Max stack size") }, { core.getrlimit("stack") })
    assert.same({ limits("Max core file size") }, { core.getrlimit("core") })
    assert.same({ limits("Max file size") }, { core.getrlimit("fsize") })
  end)

  it("lower a limit and take \"unlimited\"", function()
    helper.child(function()
      local _, hard = core.getrlimit("fsize")
      assert.is_true(core.setrlimit("fsize", 4096, hard))
      assert.same({ 4096, hard }, { core.getrlimit("fsize") })
      assert.same({ 4096, hard }, { limits("Max file size") })
      assert.is_true(core.setrlimit("fsize", hard, hard))
      assert.same({ hard, hard }, { core.getrlimit("fsize") })
      assert.is_true(core.setrlimit("nofile", 100, 200))
      assert.same({ 100, 200 }, { core.getrlimit("nofile") })
    end)
  end)

  it("lowers and refuses to raise the hard limit without privilege",
    function()
      assert.equal("true 64 128 nil setrlimit 'nofile' 64 256: " ..
        "Operation not permitted " .. E.EPERM .. "\n", unprivileged([[
          local ok = nsl.setrlimit("nofile", 64, 128)
          local soft, hard = nsl.getrlimit("nofile")
          local r = { nsl.setrlimit("nofile", 64, 256) }
          print(table.concat({ tostring(ok), soft, hard, tostring(r[1]),
            r[2], r[3] }, " "))
        ]]))
    end)

  it("returns nil, message and errno naming \"unlimited\"", function()
    helper.child(function()
      assert.is_true(core.setrlimit("nofile", 10, 20))
      assert.same({ nil, "setrlimit 'nofile' 30 20: Invalid argument",
        E.EINVAL }, { core.setrlimit("nofile", 30, 20) })
      assert.same({ nil, "setrlimit 'nofile' 10 unlimited: Operation not " ..
        "permitted", E.EPERM }, { core.setrlimit("nofile", 10, "unlimited") })
    end)
  end)

  it("raise for an unknown limit or a bad value", function()
    assert.has_error(function() core.getrlimit("bogus") end,
      "bad argument #1 to 'getrlimit' (unknown resource limit 'bogus')")
    assert.has_error(function() core.setrlimit("nofile", -1, 5) end,
      "bad argument #2 to 'setrlimit' (a count >= 0 or \"unlimited\")")
    assert.has_error(function() core.setrlimit("nofile", 5, "lots") end,
      "bad argument #3 to 'setrlimit' (a count >= 0 or \"unlimited\")")
    assert.has_error(function() core.setrlimit("nofile", 5) end,
      "bad argument #3 to 'setrlimit' (a count >= 0 or \"unlimited\")")
  end)
end)
