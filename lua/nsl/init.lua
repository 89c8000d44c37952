-- nsl: the core bindings plus the library, as one module.
--
--   local nsl = require "nsl"
--   nsl.mount(...)          -- a core binding (see help "mount")
--   nsl.container.run{...}  -- a library module, loaded on first use
local core = require "nsl.core"

local nsl = {}
for name, value in pairs(core) do
  nsl[name] = value
end

-- Library modules load on first use: a script that only needs the core
-- never pays for parsing the rest.
local modules = {
  container = "nsl.container",
  repl = "nsl.repl",
  rootfs = "nsl.rootfs",
  userns = "nsl.userns",
}

return setmetatable(nsl, {
  __index = function(t, key)
    local name = modules[key]
    if name then
      local module = require(name)
      rawset(t, key, module)
      return module
    end
  end,
})
