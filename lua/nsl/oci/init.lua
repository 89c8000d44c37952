-- nsl.oci: the OCI runtime operations (runc's create, start, state, kill,
-- delete, exec, pause, resume, ps, list, update, events) over nsl.container's steps.
--
--   local oci = require "nsl.oci"
--   local spec = oci.read_bundle("/srv/bundle")      -- config.json as Lua data
--   local c = oci.config(spec, "/srv/bundle")        -- a container.config table
--   oci.create(root, "box", "/srv/bundle", {})       -- set up, blocked until start
--   oci.start(root, "box")
--
-- The OCI config maps onto container.config: process (args, env, cwd,
-- user, terminal, capabilities, rlimits, noNewPrivileges, oomScoreAdj),
-- root, hostname, mounts, linux.namespaces (a path joins one), id maps,
-- devices, maskedPaths, readonlyPaths, rootfsPropagation, sysctl,
-- seccomp (onto nsl.seccomp's policy table), resources (nsl.cgroup) and
-- hooks. What the standard steps do not cover is a few steps here, added
-- to c.steps: join (namespaces by path), hooks, sysctl and hold (wait
-- for `start`, as runc's exec.fifo). validate refuses, as runc's
-- validator does, what would change the caller's namespaces: a config
-- without a mount namespace, a sysctl of a namespace that is not the
-- container's own.
--
-- A container's state lives in ROOT/ID/state.json; ROOT/ID/exec.fifo
-- exists from create until start.
--
-- The parts, each a module of its own under nsl.oci:
--   config      config.json as Lua data, checked and mapped (pure)
--   hooks       the OCI hooks
--   state       the state directory and a container's status
--   operations  create, start, kill, delete, pause, exec, update and their steps
--   subcgroup   the sub-cgroups of the container's that exec --cgroup joins
--   features    the default config.json and `features`
--   events      a container's cgroup stats and OOM kills (`events`)
--   script      a bundle as a Lua script (`nsl oci lua`), and run: create,
--               start, wait, delete (`nsl oci run` and such a script)
local common = require "nsl.oci.common"

local M = {
  version = common.version,
  spec_version = common.spec_version,
}

-- the public functions of the parts, as one module (what scripts/oci.lua
-- and the REPL's nsl.oci see)
local PUBLIC = {
  config = { "read_bundle", "validate", "seccomp_policy", "process_options", "options" },
  hooks = { "run_hook", "run_hooks" },
  state = { "default_root", "load", "status", "state_object", "pids", "ids" },
  operations = { "config", "create", "start", "kill", "delete", "pause", "exec", "update" },
  features = { "default_spec", "features", "json", "object" },
  script = { "script", "run", "run_script" },
  events = { "stats", "events" },
}
for part, names in pairs(PUBLIC) do
  local module = require("nsl.oci." .. part)
  for _, name in ipairs(names) do M[name] = module[name] end
end

return M
