-- userns_spec.lua: nsl.userns.clone's handshake. A child with nothing to
-- wait for (no maps for the parent to write, nothing to prepare) goes on at
-- once, and an ordinary user's child writes its own single-id maps.
local helper = require "helper"

local q = helper.quote

-- Lua for `nsl -e`: a subreaper (so the orphan comes back to it) forks P;
-- P calls userns.clone(NAMESPACES, MAPS, { pdeathsig = "KILL" }) and ends
-- at once; the child prints "ran" if userns.clone returns in it. The
-- subreaper reaps both and prints how each ended.
local ORPHAN = [[
local core, userns = require "nsl.core", require "nsl.userns"
assert(core.child_subreaper(true))
local p = assert(core.clone())
if p == 0 then
  local pid = userns.clone(NAMESPACES, MAPS, { pdeathsig = "KILL" })
  if pid == 0 then io.stdout:write("ran\n"); io.stdout:flush(); core._exit(0) end
  core._exit(0)
end
local ends = {}
for _ = 1, 2 do
  local pid, how, code = assert(core.wait())
  ends[#ends + 1] = (pid == p and "parent " or "child ") .. how .. " " .. code
end
table.sort(ends)
io.stdout:write(table.concat(ends, ", "), "\n")
]]

-- ORPHAN under strace, every prctl(2) held 200 ms at its entry: the
-- child's PR_SET_PDEATHSIG among them, so its parent has ended before the
-- signal is set, and the signal never comes.
local function orphan_cmd(nsl, namespaces, maps)
  local code = ORPHAN:gsub("NAMESPACES", namespaces):gsub("MAPS", maps)
  return "strace -f -qq -o /dev/null -e trace=prctl -e inject=prctl:delay_enter=200000 " ..
    nsl .. " -e " .. q(code)
end

describe("nsl.userns.clone", function()
  it("ends a child whose parent died before its parent-death signal was set (no wait)",
    function()
    local r = helper.sh(orphan_cmd(q(helper.nsl), "{}", "nil"), nil, 30)
    assert.equal(0, r.code, r.err)
    assert.equal("child exited 125, parent exited 0\n", r.out)
  end)

  it("ends such a child as uid 65534, whose maps the child writes itself", function()
    local r = helper.unprivileged(orphan_cmd('"$NSL"', '{ "user" }',
      "{ uid = { { 0, 65534, 1 } }, gid = { { 0, 65534, 1 } } }"), nil, 30)
    assert.equal(0, r.code, r.err)
    assert.equal("child exited 125, parent exited 0\n", r.out)
  end)

  it("as uid 65534 has the child write its own maps, setgroups denied first", function()
    local r = helper.unprivileged_lua([[
local core, userns = require "nsl.core", require "nsl.userns"
local pid = assert(userns.clone({ "user" }, { uid = { { 0, 65534, 1 } },
  gid = { { 0, 65534, 1 } } }))
if pid == 0 then
  local function read(f) local h = io.open(f); local s = h:read("a"); h:close(); return s end
  io.stdout:write(core.getuid(), " ", core.getgid(), "|", read("/proc/self/setgroups"),
    "|", (read("/proc/self/uid_map"):gsub("%s+", " ")), "|",
    (read("/proc/self/gid_map"):gsub("%s+", " ")), "\n")
  io.stdout:flush()
  core._exit(0)
end
local _, how, code = core.wait(pid)
io.stdout:write(how, " ", code, "\n")]])
    assert.equal(0, r.code, r.err)
    assert.equal("0 0|deny\n| 0 65534 1 | 0 65534 1 \nexited 0\n", r.out)
  end)

  it("as uid 65534 leaves a map with setgroups 'allow' to the parent, which the kernel refuses",
    function()
    local r = helper.unprivileged_lua([[
local userns = require "nsl.userns"
print(userns.clone({ "user" }, { uid = { { 0, 65534, 1 } }, gid = { { 0, 65534, 1 } },
  setgroups = "allow" }))]])
    assert.equal(0, r.code, r.err)
    assert.matches("^nil\twrite \"0 65534 1\" to /proc/%d+/gid_map: ", r.out)
  end)
end)
