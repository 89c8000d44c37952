-- spec/cgroup2_harness.lua: throwaway cgroups under the host's cgroup2
-- mount (on a hybrid host too: a device program attached there is enforced
-- beside the v1 devices cgroup), and shell scripts run in them over a
-- throwaway /dev, for the specs of device programs.
local helper = require "helper"
local core = require "nsl.core"

local q = helper.quote
local C = {}

-- The host's cgroup2 mount, or nil.
function C.unified_mount()
  local h = require("nsl.cgroup").hierarchies()
  return h and h.unified and h.unified.mount
end

local count, made = 0, nil

-- Kill the processes in cgroup dir and below (every one the spec's own),
-- then remove them, the deepest first.
local function remove_tree(dir)
  for _, name in ipairs(core.readdir(dir) or {}) do
    local st = core.lstat(dir .. "/" .. name)
    if st and st.type == "dir" then remove_tree(dir .. "/" .. name) end
  end
  for _ = 1, 100 do
    for pid in (helper.read(dir .. "/cgroup.procs") or ""):gmatch("%d+") do
      core.kill(tonumber(pid), "KILL")
    end
    if core.rmdir(dir) or not core.stat(dir) then return end
    core.poll({}, 10)
  end
  error("cannot remove " .. dir)
end

-- Remove the cgroups of made, the last made first.
local function remove_made()
  local list = made
  made = nil
  for i = #list, 1, -1 do remove_tree(list[i]) end
end

-- A new, empty cgroup v2 directory (below parent, default the cgroup2
-- mount's root), and its path from the hierarchy's root; removed after the
-- test with what is in it, by the spec's finally (busted's, which a module
-- cannot see) once for all of them.
function C.throwaway_cgroup(finally, parent)
  count = count + 1
  local mount = assert(C.unified_mount(), "no cgroup2 mount")
  local dir = string.format("%s/nsl-spec-cg2-%d-%d", parent or mount, core.getpid(), count)
  assert(core.mkdir(dir, "0755"))
  if not made then
    made = {}
    finally(remove_made)
  end
  made[#made + 1] = dir
  return dir, dir:sub(#mount + 1)
end

-- Run the shell script in dir's cgroup, in a private mount namespace whose
-- /dev is a tmpfs of fresh nodes (null 1:3, zero 1:5, full 1:7,
-- random 1:8, urandom 1:9, tty 5:0):
-- helper.sh's table.
function C.run_in(dir, script)
  return helper.sh(helper.throwaway_dev("echo $$ > " .. q(dir .. "/cgroup.procs") .. " && exec sh -c " ..
    q(script)))
end

-- Each device path opened for reading and for writing, 0 where it opens:
-- "null r=0 w=1 ...". (Not through /dev/null, which may be denied.)
function C.probe(...)
  local parts = {}
  for _, path in ipairs { ... } do
    parts[#parts + 1] = string.format("printf '%%s ' %s r=$( (exec 3< %s) && echo 0 || echo 1) " ..
      "w=$( (exec 3> %s) && echo 0 || echo 1)", path:match("[^/]+$"), path, path)
  end
  return table.concat(parts, "; ")
end

-- Shell text: cmd in a mount namespace of its own without the v1 cgroup
-- hierarchies (unmounted there only): a host with cgroup v2 only.
function C.v2_only(cmd)
  return "unshare -m --propagation private sh -c " ..
    q("for m in $(awk '$(NF-2) == \"cgroup\" { print $5 }' /proc/self/mountinfo); do " ..
      "umount \"$m\" || exit 125; done; exec " .. cmd)
end

return C
