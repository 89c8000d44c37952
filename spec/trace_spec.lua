local helper = require "helper"

local q = helper.quote

describe("nsl run --trace", function()
  it("prints every core call with its arguments, results and time", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    helper.write(dir .. "/t.lua", string.format([[
      local nsl = require "nsl"
      nsl.mkdir(%q, "0700")
      nsl.mkdir(%q, "0700")
      local pid = nsl.clone({})
      if pid == 0 then nsl._exit(7) end
      nsl.wait(pid)
    ]], dir .. "/a", dir .. "/a"))
    local r = helper.sh(q(helper.nsl) .. " run --trace " .. q(dir .. "/t.lua"))
    assert.equal(0, r.code, r.err)
    local lines = {}
    for line in r.err:gmatch("[^\n]+") do lines[#lines + 1] = line end
    local pid = lines[1]:match("^%[(%d+)%]")
    local a = q(dir .. "/a"):gsub("'", '"')
    local function expect(i, text)
      local pattern = "^%[" .. pid .. "%] " .. text:gsub("[%p]", "%%%0") .. " <%d+%.%d%d%d ms>$"
      assert.matches(pattern, lines[i])
    end
    expect(1, "mkdir(" .. a .. ", \"0700\") = true")
    expect(2, "mkdir(" .. a .. ", \"0700\") = nil, \"mkdir '" .. dir .. "/a': File exists\", EEXIST")
    -- both sides of the clone report, the child with its own pid
    local child = r.err:match("%[(%d+)%] clone%(%{  %}%) = 0")
    assert.truthy(child, r.err)
    assert.matches("%[" .. pid .. "%] clone%(%{  %}%) = " .. child, r.err)
    assert.matches("%[" .. child .. "%] _exit%(7%) %.%.%.\n", r.err)
    assert.matches("%[" .. pid .. "%] wait%(" .. child .. "%) = " .. child .. ", \"exited\", 7", r.err)
  end)
end)

describe("nsl.trace", function()
  it("traces to a file until disabled, and restores the functions", function()
    local trace = require "nsl.trace"
    local nsl = require "nsl"
    local core = require "nsl.core"
    local getpid = core.getpid
    local path = os.tmpname()
    finally(function() trace.disable(); os.remove(path) end)
    local f = assert(io.open(path, "w"))
    trace.enable(f)
    assert.is_true(trace.enabled())
    nsl.getuid()
    trace.disable()
    nsl.getgid()
    f:close()
    assert.equal(getpid, core.getpid)
    local text = helper.read(path)
    assert.matches("^%[%d+%] getuid%(%) = %d+ <", text)
    assert.is_nil(text:find("getgid"))
  end)
end)
