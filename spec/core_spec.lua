local core = require "nsl.core"

describe("nsl.core", function()
  it("has a one-line doc for every function", function()
    for name, value in pairs(core) do
      if type(value) == "function" then
        local doc = core._doc[name]
        assert.is_table(doc, name .. " has no doc")
        assert.matches("^" .. name:gsub("%p", "%%%0") .. "%(", doc.sig)
        assert.is_true(#doc.doc > 10, name .. ": doc too short")
        assert.is_nil(doc.doc:find("\n"), name .. ": doc is not one line")
      end
    end
  end)

  it("raises for a list of words or signals whose __len is huge, rather than reading on", function()
    -- an __index that always answers made the loop run 2^63 times
    local function endless(word)
      return setmetatable({}, { __len = function() return math.maxinteger end,
        __index = function() return word end })
    end
    assert.has_error(function() core.open("/dev/null", endless("rdonly")) end,
      "bad argument #2 to 'open' (length 9223372036854775807 out of range 0..1048576)")
    assert.has_error(function() core.sigprocmask("block", endless("USR2")) end,
      "bad argument #2 to 'sigprocmask' (length 9223372036854775807 out of range 0..1048576)")
  end)

  it("maps errno names to numbers and back", function()
    assert.equal(1, core.errno.EPERM)
    assert.equal("ENOENT", core.errno[2])
    assert.equal("No such file or directory", core.strerror(core.errno.ENOENT))
  end)

  it("makes its functions, errno and signals on first use, and pairs() still sees them all", function()
    -- the table starts without them (a start uses a few dozen): run in a
    -- fresh lua5.4, as this process's core has been iterated already
    local helper = require "helper"
    local r = helper.sh(helper.lua5_4() .. " -e " .. helper.quote("local core = require 'nsl.core' " ..
      "print(rawget(core, 'mount'), rawget(core, 'errno'), rawget(core, 'signals'), " ..
      "core.errno.EEXIST, core.errno[17], core.signals.TERM) " ..
      "local mount = core.mount print(rawget(core, 'mount') == mount)"))
    assert.equal(0, r.code, r.err)
    assert.equal("nil\tnil\tnil\t17\tEEXIST\t15\ntrue\n", r.out)
    local functions, names = 0, 0
    for _, v in pairs(core) do
      if type(v) == "function" then functions = functions + 1 end
    end
    for name in pairs(core._doc) do names = names + (core[name] and 1 or 0) end
    assert.equal(names, functions)
    assert.is_true(functions > 100, functions .. " functions")
    local errnos = 0
    for k, v in pairs(core.errno) do
      if type(k) == "string" then errnos = errnos + 1; assert.equal(k, core.errno[v]) end
    end
    assert.is_true(errnos > 120, errnos .. " errno names")
    assert.is_nil(core.errno.ENOSUCHERROR)
    assert.is_nil(core.errno[0])
  end)

  it("names errnos and signals in the nsl executable as in nsl/core.so, whatever C library each has", function()
    -- the executable may be linked with musl, which has no strerrorname_np
    -- or sigabbrev_np (src/libc.c has glibc's names); core.so is glibc's
    local helper = require "helper"
    local code = "local core = require 'nsl.core' local t = {} " ..
      "for k, v in pairs(core.errno) do t[#t + 1] = tostring(k) .. '=' .. tostring(v) end " ..
      "for k, v in pairs(core.signals) do t[#t + 1] = 'SIG' .. tostring(k) .. '=' .. tostring(v) end " ..
      "table.sort(t) return table.concat(t, ' ')"
    local r = helper.sh(helper.quote(helper.nsl) .. " -e " .. helper.quote("io.write((function() " ..
      code .. " end)())"))
    assert.equal(0, r.code, r.err)
    local here = assert(load(code))()
    assert.matches("ENOENT=2 ", here)
    assert.matches("SIGTERM=15 ", here)
    assert.equal(here, r.out)
  end)

  it("raises for a non-number errno", function()
    assert.has_error(function() core.strerror("x") end)
  end)
end)
