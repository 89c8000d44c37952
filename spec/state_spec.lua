-- The nsl executable's Lua state, made with nsl's allocator from its first
-- block: the panic and warning handlers of luaL_newstate all the same.
local helper = require "helper"

local q = helper.quote

describe("the nsl executable's Lua state", function()
  it("keeps warnings off until @on, then writes them to stderr, parts joined", function()
    local r = helper.sh(q(helper.nsl) .. " -e " ..
      q('warn("hidden"); warn("@on"); warn("a", "b"); warn("@off"); warn("gone")'))
    assert.same({ 0, "", "Lua warning: ab\n" }, { r.code, r.out, r.err })
  end)

  it("runs a script that makes and frees many small blocks of every size", function()
    local code = "local t = {} for i = 1, 20000 do t[i % 97 + 1] = { ('x'):rep(i % 600) } end " ..
      "collectgarbage() print(#t)"
    local r = helper.sh(q(helper.nsl) .. " -e " .. q(code))
    assert.same({ 0, "97\n", "" }, { r.code, r.out, r.err })
  end)
end)
