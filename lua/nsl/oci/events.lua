-- nsl.oci.events: runc's `events`: the container's cgroup statistics as
-- runc's types.Stats (cpu, memory, pids), and its OOM kills, as events
-- { type = "stats" | "oom", id = ID, data = STATS }.
local common = require "nsl.oci.common"
local statedir = require "nsl.oci.state"
local fail, sleep_ms = common.fail, common.sleep_ms

local M = {}

-- The integer in a cgroup file (nil when missing; 0 for "max").
local function number(cg, file)
  local text = cg:read(file)
  if text == "max" then return 0 end
  return text and math.tointeger(tonumber(text))
end

-- A flat-keyed file ("cache 123\nrss 456") as a table of integers.
local function keyed(cg, file)
  local t = {}
  for k, v in (cg:read(file) or ""):gmatch("(%S+) (%d+)") do t[k] = math.tointeger(tonumber(v)) end
  return t
end

local NS_PER_TICK = 10000000 -- cpuacct.stat counts USER_HZ (100) ticks

local function v1_stats(cg)
  local cpu, throttle = keyed(cg, "cpuacct.stat"), keyed(cg, "cpu.stat")
  local percpu = {}
  for v in (cg:read("cpuacct.usage_percpu") or ""):gmatch("%d+") do
    percpu[#percpu + 1] = math.tointeger(tonumber(v))
  end
  local function entry(prefix)
    return { usage = number(cg, prefix .. "usage_in_bytes") or 0,
      max = number(cg, prefix .. "max_usage_in_bytes") or 0,
      limit = number(cg, prefix .. "limit_in_bytes") or 0, failcnt = number(cg, prefix .. "failcnt") or 0 }
  end
  local raw = keyed(cg, "memory.stat")
  return {
    cpu = { usage = { total = number(cg, "cpuacct.usage") or 0, percpu = percpu,
      kernel = (cpu.system or 0) * NS_PER_TICK, user = (cpu.user or 0) * NS_PER_TICK },
      throttling = { periods = throttle.nr_periods or 0, throttled_periods = throttle.nr_throttled or 0,
        throttled_time = throttle.throttled_time or 0 } },
    memory = { cache = raw.cache or 0, usage = entry("memory."), swap = entry("memory.memsw."),
      kernel = entry("memory.kmem."), kernelTCP = entry("memory.kmem.tcp."), raw = raw },
    pids = { current = number(cg, "pids.current") or 0, limit = number(cg, "pids.max") or 0 },
  }, keyed(cg, "memory.oom_control").oom_kill or 0
end

local function v2_stats(cg)
  local cpu, raw = keyed(cg, "cpu.stat"), keyed(cg, "memory.stat")
  return {
    cpu = { usage = { total = (cpu.usage_usec or 0) * 1000, kernel = (cpu.system_usec or 0) * 1000,
      user = (cpu.user_usec or 0) * 1000 },
      throttling = { periods = cpu.nr_periods or 0, throttled_periods = cpu.nr_throttled or 0,
        throttled_time = (cpu.throttled_usec or 0) * 1000 } },
    memory = { cache = raw.file or 0, raw = raw,
      usage = { usage = number(cg, "memory.current") or 0, max = number(cg, "memory.peak") or 0,
        limit = number(cg, "memory.max") or 0, failcnt = 0 },
      swap = { usage = number(cg, "memory.swap.current") or 0, limit = number(cg, "memory.swap.max") or 0,
        failcnt = 0 } },
    pids = { current = number(cg, "pids.current") or 0, limit = number(cg, "pids.max") or 0 },
  }, keyed(cg, "memory.events").oom_kill or 0
end

-- The container's state and cgroup; raises when it is not running.
local function running(root, id)
  local st = statedir.load(root, id)
  if statedir.status(st) == "stopped" then fail("events: container %s is not running", id) end
  local cg = statedir.cgroup_of(st)
  if not cg then fail("events: container %s has no cgroup (none could be made for it)", id) end
  return st, cg
end

local function stats_of(cg)
  if cg.version == 2 then return v2_stats(cg) end
  return v1_stats(cg)
end

--- The stats event of a running container: { type = "stats", id, data }
-- with data as runc's (cpu, memory, pids).
function M.stats(root, id)
  local _, cg = running(root, id)
  return { type = "stats", id = id, data = (stats_of(cg)) }
end

--- runc's events stream: emit(event) a stats event every interval_ms,
-- and an { type = "oom", id } event when the cgroup counts a new OOM kill;
-- returns once the container is gone.
function M.events(root, id, interval_ms, emit)
  if math.type(interval_ms) ~= "integer" or interval_ms <= 0 then
    fail("events: the interval must be positive")
  end
  local st, cg = running(root, id)
  local _, ooms = stats_of(cg)
  while statedir.alive(st) do
    local data, count = stats_of(cg)
    if count > ooms then emit { type = "oom", id = id } end
    ooms = count
    -- the cgroup may go with the container between the check and the read
    if not statedir.alive(st) then break end
    emit { type = "stats", id = id, data = data }
    sleep_ms(interval_ms)
  end
end

--- A duration as Go writes it ("5s", "100ms", "1m30s", "2h") in ms; nil
-- for anything else.
function M.parse_interval(text)
  if type(text) ~= "string" or text == "" then return nil end
  local UNITS = { ns = 1e-6, us = 1e-3, ms = 1, s = 1000, m = 60000, h = 3600000 }
  local total, rest = 0, text
  while rest ~= "" do
    local n, unit, after = rest:match("^(%d+%.?%d*)(%a+)(.*)$")
    if not n or not UNITS[unit] then return nil end
    total, rest = total + tonumber(n) * UNITS[unit], after
  end
  return math.tointeger(math.floor(total))
end

return M
