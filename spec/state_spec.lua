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

  it("keeps the bytes of blocks that grow and shrink across its size classes", function()
    -- buffers and tables that double through the small (<= 512 bytes),
    -- medium (<= 64 KB, by power of two; a mapping each from 16 KB) and
    -- malloc'd sizes, some freed and made again from the free lists; the
    -- same code in plain lua5.4 (the C library's allocator) must print the
    -- same
    local code = [[
      local sizes = { 500, 513, 1000, 1024, 1025, 4095, 4097, 8193, 16383, 16384, 16385,
        32767, 32768, 32769, 65535, 65536, 65537, 140000 }
      local out = {}
      for round = 1, 3 do
        local kept = {}
        for _, n in ipairs(sizes) do
          local b = {}
          for i = 1, n do b[i] = string.char(97 + (i * round) % 26) end
          local s = table.concat(b)
          local sum = 0
          for i = 1, #b do sum = sum + b[i]:byte() end
          kept[#kept + 1] = s
          out[#out + 1] = #s .. ":" .. sum .. ":" .. s:sub(-3)
        end
        for i = 1, #kept, 2 do kept[i] = nil end
        collectgarbage()
        for i = 2, #kept, 2 do out[#out + 1] = #kept[i] .. kept[i]:sub(1, 2) end
      end
      io.write(table.concat(out, " "))]]
    local r = helper.sh(q(helper.nsl) .. " -e " .. q(code))
    local plain = helper.sh(helper.lua5_4() .. " -e " .. q(code))
    assert.equal(0, r.code, r.err)
    assert.equal(0, plain.code, plain.err)
    assert.matches("^500:", plain.out)
    assert.equal(plain.out, r.out)
  end)
end)
