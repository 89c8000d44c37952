-- requires.lua: run a script as `nsl run` would, and print on stderr which
-- modules it loads and the CPU microseconds of each first require (nested
-- requires included), cold, as in a real start.
--
-- usage: nsl run bench/requires.lua SCRIPT [ARGS...]   (bench/profile runs it)
local script = assert(..., "usage: nsl run bench/requires.lua SCRIPT [ARGS...]")
local t0 = os.clock()
local real_require, depth = require, 0
local lines = {}
function require(name) -- luacheck: ignore (a global on purpose: modules use it)
  if package.loaded[name] ~= nil then return real_require(name) end
  depth = depth + 1
  local t = os.clock()
  local module = real_require(name)
  depth = depth - 1
  lines[#lines + 1] = string.format("  %s%-24s %8.0f", ("  "):rep(depth), name,
    (os.clock() - t) * 1e6)
  return module
end
local real_exit = os.exit
function os.exit(...) -- luacheck: ignore
  io.stderr:write(string.format("  %-26s %8s\n", "module (first require)", "us CPU"))
  for i = #lines, 1, -1 do io.stderr:write(lines[i], "\n") end
  io.stderr:write(string.format("  CPU of this process from the script's start to os.exit: %.0f us\n",
    (os.clock() - t0) * 1e6))
  return real_exit(...)
end
arg = { [0] = script, table.unpack(arg, 2) } -- luacheck: ignore 121 (the script sees its own arg)
local chunk = assert(loadfile(script))
chunk(table.unpack(arg))
