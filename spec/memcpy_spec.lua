-- src/memcpy.c, the memcpy and memmove of the nsl executable linked with
-- musl: every length, alignment and overlap the fixture tries copies what a
-- byte-by-byte copy does.
local helper = require "helper"

local q = helper.quote

describe("nsl's memcpy and memmove (src/memcpy.c, for musl)", function()
  it("copy as a byte-by-byte copy does, for every length, alignment and overlap tried", function()
    local dir = helper.tmpdir()
    local check = dir .. "/memcpy_check"
    local built = helper.sh("musl-gcc -O2 -Wall -Wextra -static -o " .. q(check) .. " " ..
      q(helper.root .. "/spec/fixtures/memcpy_check.c") .. " " .. q(helper.root .. "/src/memcpy.c"))
    assert.equal(0, built.code, built.err)
    -- the fixture's copies are these, not musl's
    local nm = helper.sh("nm " .. q(check))
    assert.matches("\n%x+ T memcpy\n", "\n" .. nm.out)
    local r = helper.sh(q(check))
    helper.rmtree(dir)
    assert.equal(0, r.code, r.out .. r.err)
    assert.matches("^ok %d+\n$", r.out)
  end)
end)
