-- luacost.lua: the Lua part of a container start, measured inside one nsl
-- process: CPU microseconds per operation (os.clock over many repeats).
--
-- usage: nsl run bench/luacost.lua SCRIPT ROOT   (bench/profile runs it)
--   SCRIPT: a script to parse (busybox.lua); ROOT: a root for rootfs.check
--   and container.config.
local script, root = ...
assert(script and root, "usage: nsl run bench/luacost.lua SCRIPT ROOT")
local REPEAT = 300

local function cost(label, fn)
  fn() -- the first call may allocate what later ones reuse
  local t0 = os.clock()
  for _ = 1, REPEAT do fn() end
  local us = (os.clock() - t0) / REPEAT * 1e6
  print(string.format("  %-72s %8.1f", label, us))
  return us
end

local preload, sources = package.preload, package.loaded["nsl.sources"] or {}
local function module(name, file)
  local src = sources["lua/nsl/" .. file]
  if src then
    local chunk = assert(load(src, "=" .. file))
    local bytecode, stripped = string.dump(chunk), string.dump(chunk, true)
    cost(string.format("%s: parse only (%d bytes of source)", name, #src), function()
      assert(load(src, "=" .. file))
    end)
    cost(string.format("%s: load bytecode instead (%d bytes, with line info)",
      name, #bytecode), function() assert(load(bytecode, "=" .. file, "b")) end)
    cost(string.format("%s: load stripped bytecode instead (%d bytes)",
      name, #stripped), function() assert(load(stripped, "=" .. file, "b")) end)
  end
  if preload[name] then
    cost(name .. ": require (parse + run the chunk)", function() preload[name](name) end)
  end
end

print(string.format("  %-72s %8s", "operation", "us"))
if preload["nsl.core"] then
  cost("nsl.core: luaopen_nsl_core (functions, docs, errno, signals tables)",
    function() preload["nsl.core"]("nsl.core") end)
end
-- every embedded module of the library (preloaded; its source text is
-- nsl.sources["lua/nsl/NAME.lua"])
local names = {}
for name in pairs(preload) do
  if name == "nsl" or name:match("^nsl%.[%w_]+$") and name ~= "nsl.core"
      and name ~= "nsl.init" and name ~= "nsl.repl" then
    names[#names + 1] = name
  end
end
table.sort(names)
for _, name in ipairs(names) do
  module(name, name == "nsl" and "init.lua" or name:sub(5) .. ".lua")
end
local f = assert(io.open(script))
local src = f:read("a")
f:close()
cost(string.format("%s: parse (loadfile)", script:match("[^/]+$")), function()
  assert(load(src, "@" .. script))
end)
local nsl = require "nsl"
cost("rootfs.check(ROOT) (stat + readdir of the root)", function()
  assert(nsl.rootfs.check(root))
end)
cost("container.config{rootfs, command} (copies of mounts, devices, links)", function()
  nsl.container.config { rootfs = root, command = { "/bin/true" }, hostname = "busybox" }
end)
cost("collectgarbage('collect') with the library loaded (what a full GC costs)", function()
  collectgarbage("collect")
end)
print(string.format("  Lua memory in use with the library loaded: %.0f KiB",
  collectgarbage("count")))
