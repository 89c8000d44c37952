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

  it("maps errno names to numbers and back", function()
    assert.equal(1, core.errno.EPERM)
    assert.equal("ENOENT", core.errno[2])
    assert.equal("No such file or directory", core.strerror(core.errno.ENOENT))
  end)

  it("raises for a non-number errno", function()
    assert.has_error(function() core.strerror("x") end)
  end)
end)
