-- nsl.oci.events: runc's `events`, a container's cgroup statistics and
-- its OOM kills, one JSON object a line ({"type":"stats","id":ID,
-- "data":{...}} and {"type":"oom","id":ID}), read from its cgroup (v1 or
-- v2).
local core = require "nsl.core"
local common = require "nsl.oci.common"
local statedir = require "nsl.oci.state"

local json, fail = common.json, common.fail

local M = {}

-- how often the OOM counter is read between two stats events (ms)
local OOM_POLL = 100

local function number(text)
  return tonumber(text and text:match("^%s*(%d+)"))
end

-- "key value" lines (memory.stat, cpu.stat) as numbers by key.
local function keyed(text)
  local t = common.object()
  for k, v in (text or ""):gmatch("(%S+)%s+(%d+)") do t[k] = tonumber(v) end
  return t
end

-- A limit file: nil for "max" or the v1 "no limit" value.
local function limit(text)
  local n = number(text)
  if not n or n >= 0x7ffffffffffff000 then return nil end
  return n
end

local function percpu(text)
  local list = {}
  for n in (text or ""):gmatch("%d+") do list[#list + 1] = tonumber(n) end
  return list
end

-- The stats of a v1 cgroup, in runc's types.Stats shape (the parts
-- nsl-oci reads: cpu, memory, pids).
local function stats_v1(cg)
  local cpuacct = keyed(cg:read("cpuacct.stat"))
  local hz = 100 -- USER_HZ: cpuacct.stat counts ticks
  return {
    cpu = { usage = { total = number(cg:read("cpuacct.usage")) or 0,
      percpu = percpu(cg:read("cpuacct.usage_percpu")),
      user = (cpuacct.user or 0) * (1000000000 // hz),
      kernel = (cpuacct.system or 0) * (1000000000 // hz) },
      throttling = keyed(cg:read("cpu.stat")) },
    memory = { usage = { usage = number(cg:read("memory.usage_in_bytes")) or 0,
      max = number(cg:read("memory.max_usage_in_bytes")) or 0,
      limit = limit(cg:read("memory.limit_in_bytes")),
      failcnt = number(cg:read("memory.failcnt")) or 0 },
      raw = keyed(cg:read("memory.stat")) },
    pids = { current = number(cg:read("pids.current")) or 0, limit = limit(cg:read("pids.max")) },
  }
end

local function stats_v2(cg)
  local cpu = keyed(cg:read("cpu.stat"))
  return {
    cpu = { usage = { total = (cpu.usage_usec or 0) * 1000, user = (cpu.user_usec or 0) * 1000,
      kernel = (cpu.system_usec or 0) * 1000 },
      throttling = { periods = cpu.nr_periods, throttled_periods = cpu.nr_throttled,
        throttled_time = cpu.throttled_usec and cpu.throttled_usec * 1000 } },
    memory = { usage = { usage = number(cg:read("memory.current")) or 0,
      max = number(cg:read("memory.peak")) or 0, limit = limit(cg:read("memory.max")) },
      raw = keyed(cg:read("memory.stat")) },
    pids = { current = number(cg:read("pids.current")) or 0, limit = limit(cg:read("pids.max")) },
  }
end

-- How many processes the kernel's OOM killer killed in the cgroup.
local function oom_kills(cg)
  local file = cg.version == 2 and "memory.events" or "memory.oom_control"
  return keyed(cg:read(file)).oom_kill or 0
end

-- One event line, "type" and "id" first as runc writes them.
local function line(kind, id, data)
  return json.encode({ type = kind, id = id, data = data },
    { keyorder = { "type", "id", "data" } })
end

--- The stats event of container id (a JSON line).
function M.stats(root, id)
  local st = statedir.load(root, id)
  if statedir.status(st) == "stopped" then fail("container %s is not running", id) end
  local cg = statedir.cgroup_of(st) or fail("container %s has no cgroup", id)
  return line("stats", id, cg.version == 2 and stats_v2(cg) or stats_v1(cg))
end

--- runc's events: emit(line) a stats event every interval_ms and an oom
-- event for each OOM kill in the container's cgroup, until the container
-- stops or is deleted.
function M.events(root, id, interval_ms, emit)
  local st = statedir.load(root, id)
  if statedir.status(st) == "stopped" then fail("container %s is not running", id) end
  local cg = statedir.cgroup_of(st) or fail("container %s has no cgroup", id)
  local ooms = oom_kills(cg)
  local next_stats = core.monotime()
  while statedir.status(st) ~= "stopped" do
    local kills = oom_kills(cg)
    for _ = ooms + 1, kills do emit(line("oom", id)) end
    ooms = kills
    if core.monotime() >= next_stats then
      local ok, stats = pcall(M.stats, root, id)
      if not ok then break end -- deleted meanwhile
      emit(stats)
      next_stats = next_stats + interval_ms / 1000
    end
    core.poll({}, math.min(OOM_POLL, interval_ms))
  end
end

return M
