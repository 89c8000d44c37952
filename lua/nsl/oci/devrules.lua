-- nsl.oci.devrules: the rule set of a v1 devices cgroup as the kernel
-- keeps it, and the fewest writes that turn one set into another.
--
-- The kernel (security/device_cgroup.c) keeps a default (allow or deny
-- every device) and a list of exceptions, each a type, major, minor and
-- access. A write of "a" to devices.allow or devices.deny sets the default
-- and drops every exception; any other write adds to or takes from the
-- exception whose type, major and minor are exactly those written.
-- Writing a container's rules again from the top ("a" denied, then each
-- allowed) would take every device away from its processes for a moment;
-- M.transition writes only what differs, taking away first what the new
-- set drops and then giving what it gains, so that a device both sets
-- allow stays allowed throughout (runc's devices emulator,
-- libcontainer/cgroups/devices, does the same).
--
--   local rules = devrules.parse(devices_list_text)   -- what the cgroup has
--   local target = devrules.parse(parent_list_text)    -- what it started from
--   devrules.apply(target, "devices.deny", "a *:* rwm") -- ... then each line
--   for _, w in ipairs(devrules.transition(rules, target)) do write(w[1], w[2]) end
local M = {}

local ACCESS = { r = 1, w = 2, m = 4 }

-- An access bit set as its letters, in the kernel's order.
local function letters(set)
  return (set & 1 ~= 0 and "r" or "") .. (set & 2 ~= 0 and "w" or "") .. (set & 4 ~= 0 and "m" or "")
end

--- The bit set of an access string (r 1, w 2, m 4); letters other than
-- r, w and m count for nothing, as in runc (its "rwa" is "rw").
function M.access_set(access)
  local set = 0
  for ch in access:gmatch(".") do set = set | (ACCESS[ch] or 0) end
  return set
end

--- An access string as the kernel takes it: its r, w and m in that order
-- ("rwa" -> "rw"; "" when it has none of them).
function M.access(access)
  return letters(M.access_set(access))
end

-- "c 1:3 rwm" -> "c", "1", "3", "rwm"; nil when it is not a rule.
local function split(line)
  return line:match("^%s*([abc])%s+([%d*]+):([%d*]+)%s+(%S+)%s*$")
end

local function new_set(allow_all)
  return { allow_all = allow_all, rules = {} }
end

-- Add access to (or, with remove, take it from) the exception key.
local function change(set, key, access, remove)
  local now = set.rules[key] or 0
  now = remove and now & ~access or now | access
  set.rules[key] = now ~= 0 and now or nil
end

--- Apply one write to a rule set: file "devices.allow" or "devices.deny",
-- line "c 1:3 rwm" or "a *:* rwm". nil and a message for a line that is
-- not a rule.
function M.apply(set, file, line)
  local kind, major, minor, access = split(line)
  if not kind then return nil, string.format("'%s' is not a device rule", line) end
  local allow = file == "devices.allow"
  if kind == "a" then
    set.allow_all, set.rules, set.unlisted = allow, {}, nil
    return true
  end
  -- an exception is added in the default's opposite sense, and taken
  -- away in its own (only from the exception with the same numbers)
  change(set, kind .. " " .. major .. ":" .. minor, M.access_set(access), allow == set.allow_all)
  return true
end

--- The rule set of a devices.list text: "a *:* rwm" alone for a cgroup
-- that allows every device (its exceptions are not listed: the set is
-- marked unlisted), else the devices it allows. nil and a message for a
-- line that is not a rule.
function M.parse(text)
  local set = new_set(false)
  for line in text:gmatch("[^\n]+") do
    local ok, err = M.apply(set, "devices.allow", line)
    if not ok then return nil, "devices.list: " .. err end
  end
  set.unlisted = set.allow_all or nil
  return set
end

--- A copy of a rule set, to apply writes to.
function M.copy(set)
  local rules = {}
  for key, access in pairs(set.rules) do rules[key] = access end
  return { allow_all = set.allow_all, rules = rules, unlisted = set.unlisted }
end

-- The exceptions of a set in a fixed order (type, then major, minor).
local function sorted(rules)
  local keys = {}
  for key in pairs(rules) do keys[#keys + 1] = key end
  table.sort(keys)
  return keys
end

--- The writes that turn rule set from into rule set to, in order:
-- { { "devices.deny" or "devices.allow", "c 1:3 rw" }, ... }; none when
-- they are the same. From an unlisted set (read from devices.list of a
-- cgroup that allows every device: its exceptions are not known) or into
-- the other default, the first write sets the default (an "a" line:
-- every device is allowed or denied until the rest are written); then
-- what to drops, then what it gains.
function M.transition(from, to)
  local writes, old = {}, from.rules
  -- an exception of to's default is added through the other file
  local add = to.allow_all and "devices.deny" or "devices.allow"
  local take = to.allow_all and "devices.allow" or "devices.deny"
  if from.unlisted or from.allow_all ~= to.allow_all then
    writes[1] = { to.allow_all and "devices.allow" or "devices.deny", "a *:* rwm" }
    old = {}
  end
  for _, key in ipairs(sorted(old)) do
    local dropped = old[key] & ~(to.rules[key] or 0)
    if dropped ~= 0 then writes[#writes + 1] = { take, key .. " " .. letters(dropped) } end
  end
  for _, key in ipairs(sorted(to.rules)) do
    local gained = to.rules[key] & ~(old[key] or 0)
    if gained ~= 0 then writes[#writes + 1] = { add, key .. " " .. letters(gained) } end
  end
  return writes
end

--- Do two rule sets allow the same? (For a set that allows every device,
-- only the default can be compared: devices.list shows nothing else.)
function M.same(a, b)
  if a.allow_all ~= b.allow_all then return false end
  if a.allow_all then return true end
  for key, access in pairs(a.rules) do
    if b.rules[key] ~= access then return false end
  end
  for key in pairs(b.rules) do
    if not a.rules[key] then return false end
  end
  return true
end

return M
