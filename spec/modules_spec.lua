-- The library's shape: a dependency between modules goes one way, and only
-- the places meant for it print (the executable, the scripts, the REPL).
local helper = require "helper"

-- module name -> its source, for every Lua file of the library.
local function library()
  local modules = {}
  local p = assert(io.popen("cd " .. helper.quote(helper.root) .. " && find lua/nsl -name '*.lua'"))
  for path in p:lines() do
    local name = path:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/", "."):gsub("%.init$", "")
    local f = assert(io.open(helper.root .. "/" .. path))
    modules[name] = f:read("a"):gsub("%-%-[^\n]*", "") -- code only, no comments
    f:close()
  end
  p:close()
  return modules
end

-- The nsl modules that source requires (eagerly or lazily).
local function requires(source)
  local found = {}
  for name in source:gmatch("require%s*%(?%s*[\"'](nsl[%w_.]*)[\"']") do found[name] = true end
  return found
end

describe("the library's modules", function()
  it("never require a module that requires them back, directly or through others", function()
    local modules, graph = library(), {}
    for name, source in pairs(modules) do
      graph[name] = requires(source)
      graph[name][name], graph[name]["nsl.core"] = nil, nil
    end
    local cycles = {}
    local function walk(name, path, on_path)
      for dep in pairs(graph[name] or {}) do
        if on_path[dep] then
          cycles[#cycles + 1] = table.concat(path, " -> ") .. " -> " .. dep
        elseif not path[dep] then
          on_path[dep] = true
          path[#path + 1] = dep
          walk(dep, path, on_path)
          path[#path] = nil
          on_path[dep] = nil
        end
      end
    end
    for name in pairs(graph) do
      if name ~= "nsl" then walk(name, { name }, { [name] = true }) end
    end
    table.sort(cycles)
    assert.same({}, cycles)
  end)

  it("print nowhere but the REPL, a script's main and a forked child's last word", function()
    local allowed = {
      ["nsl.repl"] = true, -- the REPL is the executable's
      ["nsl.examples"] = true, -- data: examples that print
      ["nsl.container.run"] = "main", -- container.main, the scripts' main program
      ["nsl.oci.script"] = "run_script", -- the main program of a script nsl oci lua made
      ["nsl.options"] = "args", -- options.args and fail, the scripts' argument parsing
      ["nsl.process"] = "child", -- a child with no report pipe has only stderr left
    }
    local printing = {}
    for name, source in pairs(library()) do
      local count = select(2, source:gsub("io%.stderr:write", "")) +
        select(2, source:gsub("%f[%w_.]print%(", ""))
      if count > 0 and not allowed[name] then printing[#printing + 1] = name end
    end
    table.sort(printing)
    assert.same({}, printing)
  end)
end)
