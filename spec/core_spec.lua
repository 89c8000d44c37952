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

  it("raises for a non-number errno", function()
    assert.has_error(function() core.strerror("x") end)
  end)
end)
