-- nsl.net.common: what nsl.net and its parts (cni, pasta) share: the
-- constants, the shell runner, JSON, IPv4 prefixes.
local core = require "nsl.core"

local M = {}

--- Where the CNI plugins are looked for (CNI_PATH): $NSL_CNI_PATH, else
-- Debian's /usr/lib/cni.
M.CNI_PATH = os.getenv("NSL_CNI_PATH") or "/usr/lib/cni"

--- The address pasta answers DNS queries on (forwarded to the host's
-- resolver), as the container's nameserver.
M.PASTA_DNS = "169.254.1.1"

--- The DNS forwarder slirp4netns offers the container.
M.SLIRP_DNS = "10.0.2.3"

--- Seconds a plugin or pasta may take before it is given up on.
M.TIMEOUT = 30

function M.json()
  return require "dkjson"
end




--- Run a shell command line; its stdout, and true when it exited 0.
function M.run(cmdline)
  local p = assert(io.popen(cmdline, "r"))
  local out = p:read("a")
  local ok = p:close()
  return out, ok == true
end

--- An IPv4 address as a number, or nil.
function M.ipv4(text)
  local a, b, c, d = tostring(text):match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil end
  local n = 0
  for _, part in ipairs { a, b, c, d } do
    part = tonumber(part)
    if part > 255 then return nil end
    n = n * 256 + part
  end
  return n
end

--- An IPv4 prefix "a.b.c.d/n" as its network number and length, or nil.
function M.prefix(text)
  local addr, len = tostring(text):match("^([%d.]+)/(%d+)$")
  if not addr then addr, len = text, "32" end
  local n, bits = M.ipv4(addr), tonumber(len)
  if not n or bits > 32 then return nil end
  local size = 1 << (32 - bits)
  return n - n % size, bits
end

--- Do two IPv4 prefixes ("10.88.0.0/16", "10.88.3.0/24") overlap?
function M.overlaps(a, b)
  local na, la = M.prefix(a)
  local nb, lb = M.prefix(b)
  if not (na and nb) then return false end
  local size = 1 << (32 - math.min(la, lb))
  return na - na % size == nb - nb % size
end

--- The executable name on PATH (or in /usr/bin), or nil.
function M.program(name)
  for dir in ((os.getenv("PATH") or "") .. ":/usr/bin:/usr/sbin"):gmatch("[^:]+") do
    if core.access(dir .. "/" .. name, "x") then return dir .. "/" .. name end
  end
end

return M
