-- nsl: the core bindings plus the library, as one module.
--
--   local nsl = require "nsl"
--   nsl.mount(...)          -- a core binding (see help "mount")
--   nsl.container.run{...}  -- a library module, loaded on first use
local core = require "nsl.core"

-- The core's functions are reached through __index, not copied: a copy
-- named all 150 of them at every start, and `nsl run --trace` finds the
-- core's own (traced) functions here.
local nsl = {}

-- Library modules load on first use: a script that only needs the core
-- never pays for parsing the rest.
local modules = {
  cgroup = "nsl.cgroup",
  container = "nsl.container",
  devbpf = "nsl.devbpf",
  identity = "nsl.identity",
  image = "nsl.image",
  doctor = "nsl.doctor",
  errors = "nsl.errors",
  inspect = "nsl.inspect",
  lab = "nsl.lab",
  net = "nsl.net",
  oci = "nsl.oci",
  options = "nsl.options",
  process = "nsl.process",
  repl = "nsl.repl",
  rootfs = "nsl.rootfs",
  seccomp = "nsl.seccomp",
  userns = "nsl.userns",
  util = "nsl.util",
}

-- Library functions offered at the top level, from their modules.
local functions = {
  mount_diff = "nsl.inspect",
  mountinfo = "nsl.inspect",
  namespaces = "nsl.inspect",
}

--- The names of the library modules (loaded on first use), for help and
-- completion.
nsl._modules = {}
for name in pairs(modules) do nsl._modules[#nsl._modules + 1] = name end
table.sort(nsl._modules)

return setmetatable(nsl, {
  __index = function(t, key)
    local name = modules[key]
    if name then
      local module = require(name)
      rawset(t, key, module)
      return module
    end
    name = functions[key]
    if name then
      local fn = require(name)[key]
      rawset(t, key, fn)
      return fn
    end
    return core[key]
  end,
  -- pairs(nsl) sees the core's functions too, as when they were copied
  __pairs = function(t)
    local all = {}
    for k, v in pairs(core) do all[k] = v end
    for k, v in next, t do all[k] = v end
    return next, all, nil
  end,
})
