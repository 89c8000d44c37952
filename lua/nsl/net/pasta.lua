-- nsl.net.pasta: pasta and its fallback slirp4netns, a user-mode network
-- for an ordinary user's container (nsl.net.pasta, nsl.net.slirp).
local core = require "nsl.core"
local util = require "nsl.util"
local common = require "nsl.net.common"

local json, run = common.json, common.run
local quote, read_file = util.quote, util.read_file

local M = { pasta = {}, slirp = {} }

---------------------------------------------------------------------------
-- pasta


--- The pasta executable: $NSL_PASTA if set, else pasta on PATH; nil when
-- there is none.
function M.pasta.path()
  local given = os.getenv("NSL_PASTA")
  if given then return core.access(given, "x") and given or nil end
  return common.program("pasta")
end

-- pasta's -t/-u option value for a publish entry: [ADDR/]HOST:CONTAINER.
local function pasta_spec(p)
  return string.format("%s%d:%d", p.host_ip and p.host_ip .. "/" or "", p.host_port, p.port)
end

--- Attach pasta to the network namespace of process pid (joining its user
-- namespace, as the caller may own it): the host's addresses and routes
-- copied in (--config-net), DNS forwarded from common.PASTA_DNS, and
-- opts.publish as -t/-u forwards (nothing forwarded otherwise). pasta
-- runs in the background; returns its pid. Raises "pasta: MESSAGE".
function M.pasta.attach(pid, opts)
  opts = opts or {}
  local pasta = M.pasta.path()
  if not pasta then error("pasta: not found (Debian: apt-get install passt)", 0) end
  local args = { quote(pasta), "--config-net", "--quiet", "--dns-forward", common.PASTA_DNS,
    "-T", "none", "-U", "none" }
  local tcp, udp = {}, {}
  for _, p in ipairs(opts.publish or {}) do
    local list = p.proto == "udp" and udp or tcp
    list[#list + 1] = pasta_spec(p)
  end
  args[#args + 1] = "-t " .. (#tcp > 0 and table.concat(tcp, ",") or "none")
  args[#args + 1] = "-u " .. (#udp > 0 and table.concat(udp, ",") or "none")
  local pidfile = os.tmpname()
  args[#args + 1] = "-P " .. quote(pidfile)
  pid = math.tointeger(pid) or error("pasta: pid is not a number", 0)
  local cmdline
  if core.geteuid() == 0 then
    -- pasta run by root becomes nobody, who may not open a root process's
    -- /proc/PID/ns/net: it gets the namespace as a file instead, bound on
    -- a tmpfs of a private mount namespace of its own (as podman's
    -- /run/netns, but seen by pasta alone), and stays root (--runas 0)
    local dir = require("nsl.rootfs").runtime_dir()
    cmdline = string.format("unshare -m --propagation private -- sh -c %s", quote(string.format(
      "mount -t tmpfs -o size=4k,mode=0700 nsl-pasta %s && touch %s/net && " ..
      "mount --bind /proc/%d/ns/net %s/net && exec %s --runas 0 --netns %s/net",
      quote(dir), quote(dir), pid, quote(dir), table.concat(args, " "), quote(dir))))
  else
    cmdline = table.concat(args, " ") .. " " .. pid
  end
  local out, ok = run(string.format("timeout -k 2 %d %s 2>&1", common.TIMEOUT, cmdline))
  local pasta_pid = tonumber(read_file(pidfile) or "")
  os.remove(pidfile)
  if not ok or not pasta_pid then
    error("pasta: " .. (out:gsub("%s+$", ""):match("([^\n]*)$") or "failed"), 0)
  end
  return pasta_pid
end

--- Stop the pasta (or slirp4netns) of pid helper_pid, if it is still the
-- process that started at start (its start time, nsl.process.start_time).
function M.pasta.detach(helper_pid, start)
  local process = require "nsl.process"
  if helper_pid and process.start_time(helper_pid) == start then
    -- KILL: started by nsl while it holds TERM blocked (container.run),
    -- the helper inherited the mask; it keeps nothing that needs a goodbye
    core.kill(helper_pid, "KILL")
  end
end

---------------------------------------------------------------------------
-- slirp4netns: pasta's fallback

--- The DNS forwarder slirp4netns offers the container.
common.SLIRP_DNS = "10.0.2.3"

--- The slirp4netns executable on PATH, or nil.
function M.slirp.path()
  return common.program("slirp4netns")
end

-- Ask the slirp4netns API at socket to forward a publish entry.
local function slirp_forward(socket, p)
  local fd, err = core.unix_connect(socket)
  if not fd then error("slirp4netns: " .. err, 0) end
  fd:write(json().encode({ execute = "add_hostfwd", arguments = { proto = p.proto,
    host_addr = p.host_ip or "0.0.0.0", host_port = p.host_port, guest_port = p.port } }))
  local reply = json().decode(fd:read(4096) or "")
  fd:close()
  if type(reply) ~= "table" or reply.error then
    error(string.format("slirp4netns: publish %d:%d/%s: %s", p.host_port, p.port, p.proto,
      type(reply) == "table" and tostring(reply.error.desc or "refused") or "no reply"), 0)
  end
end

--- Attach slirp4netns to the network namespace of process pid (in its
-- user namespace for an ordinary user): 10.0.2.100 with the host's
-- loopback at 10.0.2.2 and DNS at common.SLIRP_DNS; opts.publish forwarded
-- through its API socket opts.socket. Runs in the background; returns its
-- pid once the network is up. Raises "slirp4netns: MESSAGE".
function M.slirp.attach(pid, opts)
  local slirp = M.slirp.path()
  if not slirp then error("slirp4netns: not found (Debian: apt-get install slirp4netns)", 0) end
  pid = math.tointeger(pid) or error("slirp4netns: pid is not a number", 0)
  local userns = ""
  if core.geteuid() ~= 0 then userns = string.format("--userns-path=/proc/%d/ns/user ", pid) end
  local errors = os.tmpname()
  -- its pid first, then the ready byte ("1") on fd 3 once configured
  local p = assert(io.popen(string.format("%s --configure --mtu=65520 --ready-fd=3 " ..
    "--api-socket %s %s%d tap0 3>&1 >/dev/null 2>%s </dev/null & echo $!", quote(slirp),
    quote(opts.socket), userns, pid, quote(errors))))
  local slirp_pid = tonumber(p:read("l") or "")
  local ready = p:read(1)
  p:close()
  local err = (read_file(errors) or ""):gsub("%s+$", "")
  os.remove(errors)
  if ready ~= "1" then error("slirp4netns: " .. (err:match("([^\n]*)$") or "failed"), 0) end
  local ok, ferr = pcall(function()
    for _, entry in ipairs(opts.publish or {}) do slirp_forward(opts.socket, entry) end
  end)
  if not ok then
    core.kill(slirp_pid, "KILL")
    error(ferr, 0)
  end
  return slirp_pid
end

return M
