-- nsl.trace: print every core call as it happens, like strace but at the
-- level of the Lua API: arguments, results (errors with their errno name)
-- and the time the call took, one line each, on stderr.
--
--   nsl run --trace busybox.lua /bin/true
--   [4711] mount(nil, "/", nil, "rec slave") = true <0.021 ms>
--   [4712] mknod("/r/dev/null", "char", "0666", 1, 3) = nil, "mknod ...: File exists", EEXIST <0.004 ms>
local core = require "nsl.core"

local M = {}

-- the tracer's own calls must not be traced (or it would trace itself)
local getpid, monotime, errno = core.getpid, core.monotime, core.errno

-- The calls that do not come back when they work: their line is printed
-- before the call, or it would never be.
local NO_RETURN = { exec = true, execp = true, _exit = true }

local originals -- name -> the untraced function, while tracing
local out = io.stderr

local function show(v)
  local t = type(v)
  if t == "string" then
    return (string.format("%q", v):gsub("\\\n", "\\n"))
  elseif t == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = show(x) end
    for k, x in pairs(v) do
      if math.type(k) ~= "integer" or k < 1 or k > #v then
        parts[#parts + 1] = tostring(k) .. " = " .. show(x)
      end
    end
    return "{ " .. table.concat(parts, ", ") .. " }"
  end
  return tostring(v)
end

local function show_list(list, n)
  local parts = {}
  for i = 1, n do parts[i] = show(list[i]) end
  return table.concat(parts, ", ")
end

-- The results of a call: a failure as nil, "message", ENAME.
local function show_results(res)
  if res.n == 3 and res[1] == nil and math.type(res[3]) == "integer" then
    return string.format("nil, %s, %s", show(res[2]), errno[res[3]] or res[3])
  end
  return res.n == 0 and "(nothing)" or show_list(res, res.n)
end

local function traced(name, fn)
  return function(...)
    local args = table.pack(...)
    local call = string.format("[%d] %s(%s)", getpid(), name, show_list(args, args.n))
    if NO_RETURN[name] then
      out:write(call, " ...\n")
      out:flush()
    end
    local t0 = monotime()
    local res = table.pack(fn(...))
    local ms = (monotime() - t0) * 1000
    -- after clone the child has a pid of its own: say which side this is
    out:write(string.format("[%d] %s(%s) = %s <%.3f ms>\n", getpid(), name,
      show_list(args, args.n), show_results(res), ms))
    out:flush()
    return table.unpack(res, 1, res.n)
  end
end

--- Start tracing every core call to file (default io.stderr). The `nsl`
-- facade reaches the core's functions through it, so they are traced too.
function M.enable(file)
  out = file or io.stderr
  if originals then return end
  originals = {}
  for name, fn in pairs(core) do
    if type(fn) == "function" then originals[name] = fn end
  end
  for name, fn in pairs(originals) do core[name] = traced(name, fn) end
end

--- Stop tracing: the core's functions are the untraced ones again.
function M.disable()
  if not originals then return end
  for name, fn in pairs(originals) do core[name] = fn end
  originals = nil
end

--- Is tracing on?
function M.enabled()
  return originals ~= nil
end

return M
