-- nsl.net: a container's network beyond `lo`, from the components podman
-- and CNI runtimes use: the CNI reference plugins (Debian's
-- containernetworking-plugins) for a bridge as root, pasta (Debian's passt)
-- for an ordinary user, slirp4netns where pasta is missing.
--
--   local net = require "nsl.net"
--   local result = net.cni.add(net.cni.bridge{}, "/proc/1234/ns/net", "web")
--   net.cni.del(net.cni.bridge{}, "/proc/1234/ns/net", "web", { result = result })
--   local pasta_pid = net.pasta.attach(1234, { publish = { net.parse_publish("8080:80") } })
--   local links, routes = net.interfaces(1234)
--
-- A container's network (c.network: "none", "host", "bridge", "pasta" or a
-- CNI config table) is attached by M.for_container from the parent, once
-- the child's network namespace exists and before its command runs, and
-- detached when it ends; a record in the runtime directory lets the next
-- start or `nsl ps` detach the network of a container whose nsl was killed.
local core = require "nsl.core"
local util = require "nsl.util"
local common = require "nsl.net.common"

local M = {}

--- The CNI plugins (nsl.net.cni), pasta and slirp4netns (nsl.net.pasta).
M.cni = require "nsl.net.cni"
M.pasta = require("nsl.net.pasta").pasta
M.slirp = require("nsl.net.pasta").slirp

--- Where the CNI plugins are looked for (CNI_PATH): $NSL_CNI_PATH, else
-- Debian's /usr/lib/cni (nsl.net.common.CNI_PATH).
M.CNI_PATH = common.CNI_PATH

--- The address pasta answers DNS queries on (nsl.net.common.PASTA_DNS).
M.PASTA_DNS = common.PASTA_DNS

--- The DNS forwarder slirp4netns offers the container (nsl.net.common.SLIRP_DNS).
M.SLIRP_DNS = common.SLIRP_DNS

--- The network modes c.network takes (or a CNI config table).
M.MODES = { none = true, host = true, bridge = true, pasta = true }

local json, run = common.json, common.run
local read_file = util.read_file

---------------------------------------------------------------------------
-- addresses and option strings

M.overlaps = common.overlaps

local function port_number(text, what, spec)
  local n = math.tointeger(tonumber(text))
  if not n or n < 1 or n > 65535 or not tostring(text):match("^%d+$") then
    error(string.format("publish '%s': %s '%s' is not a port (1-65535)", spec, what,
      tostring(text)), 0)
  end
  return n
end

--- A -p/--publish string "[HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]" as
-- a c.publish entry { host_ip =, host_port =, port =, proto = }. Raises
-- "publish 'SPEC': ..." for bad input.
function M.parse_publish(spec)
  local text = tostring(spec)
  local ports, proto = text:match("^(.*)/(%a+)$")
  ports, proto = ports or text, proto or "tcp"
  if proto ~= "tcp" and proto ~= "udp" then
    error(string.format("publish '%s': protocol '%s' is not tcp or udp", text, proto), 0)
  end
  local host_ip, host_port, port = ports:match("^([%d.]+):([^:]*):([^:]*)$")
  if not host_ip then host_port, port = ports:match("^([^:]*):([^:]*)$") end
  if not host_port then
    error(string.format("publish '%s': expected [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]",
      text), 0)
  end
  if host_ip and not common.ipv4(host_ip) then
    error(string.format("publish '%s': '%s' is not an IPv4 address", text, host_ip), 0)
  end
  return { host_ip = host_ip, host_port = port_number(host_port, "host port", text),
    port = port_number(port, "container port", text), proto = proto }
end

--- Check a c.publish entry (a table, as parse_publish makes); returns it
-- with proto defaulted to "tcp". Raises "publish: ..." for bad fields.
function M.check_publish(p)
  if type(p) ~= "table" then error("publish: an entry is not a table", 0) end
  local spec = string.format("%s:%s:%s/%s", tostring(p.host_ip), tostring(p.host_port),
    tostring(p.port), tostring(p.proto))
  local proto = p.proto or "tcp"
  if proto ~= "tcp" and proto ~= "udp" then
    error(string.format("publish '%s': protocol '%s' is not tcp or udp", spec, proto), 0)
  end
  if p.host_ip ~= nil and not common.ipv4(p.host_ip) then
    error(string.format("publish '%s': '%s' is not an IPv4 address", spec, tostring(p.host_ip)), 0)
  end
  return { host_ip = p.host_ip, host_port = port_number(p.host_port, "host port", spec),
    port = port_number(p.port, "container port", spec), proto = proto }
end

--- A --network string as c.network: "none", "host", "bridge", "pasta", or
-- the path of a CNI config or conflist file (JSON, read here, as a table).
-- Raises "network 'TEXT': ..." for anything else.
function M.parse_mode(text)
  text = tostring(text)
  if M.MODES[text] then return text end
  if text:find("/", 1, true) then
    local data = read_file(text)
    if not data then error(string.format("network '%s': cannot read the CNI config", text), 0) end
    local config, _, err = json().decode(data)
    if type(config) ~= "table" then
      error(string.format("network '%s': not a CNI config: %s", text, tostring(err)), 0)
    end
    return config
  end
  error(string.format("network '%s': expected none, host, bridge, pasta " ..
    "or the path of a CNI config", text), 0)
end

---------------------------------------------------------------------------
-- checks before a network is attached: one clear line, nothing made

-- The local ports in use in this network namespace, from /proc/net:
-- { { ip = "0.0.0.0"|"::"|..., port =, proto = } } (TCP listeners, UDP
-- sockets).
local function ports_in_use()
  local used = {}
  for _, f in ipairs { { "tcp", "tcp", "0A" }, { "tcp6", "tcp", "0A" },
      { "udp", "udp", "07" }, { "udp6", "udp", "07" } } do
    for line in (read_file("/proc/net/" .. f[1]) or ""):gmatch("[^\n]+") do
      local ip, port, state = line:match("^%s*%d+: (%x+):(%x+) %x+:%x+ (%x+)")
      if ip and state == f[3] then
        local any = not ip:find("[1-9a-fA-F]")
        local addr = #ip == 8 and string.format("%d.%d.%d.%d", tonumber(ip:sub(7, 8), 16),
          tonumber(ip:sub(5, 6), 16), tonumber(ip:sub(3, 4), 16), tonumber(ip:sub(1, 2), 16))
        used[#used + 1] = { ip = any and "any" or addr or ip, port = tonumber(port, 16),
          proto = f[2] }
      end
    end
  end
  return used
end

--- Refuse a c.publish entry whose host port is taken in this network
-- namespace: raises "publish HOST:PORT/PROTO: the port is in use".
function M.check_ports(publish)
  local used = ports_in_use()
  for _, p in ipairs(publish or {}) do
    for _, u in ipairs(used) do
      if u.port == p.host_port and u.proto == p.proto and
          (u.ip == "any" or not p.host_ip or u.ip == p.host_ip) then
        error(string.format("publish %s:%d/%s: the port is in use on this host",
          p.host_ip or "0.0.0.0", p.host_port, p.proto), 0)
      end
    end
  end
end

---------------------------------------------------------------------------
-- what a container's network looks like

-- Run `ip -j ARGS` in the network namespace of pid (and its user
-- namespace when it is not this process's, for an ordinary user).
local function ip_in(pid, args)
  pid = math.tointeger(pid) or error("interfaces: pid is not a number", 2)
  local ns = string.format("/proc/%d/ns/", pid)
  local user = ""
  if core.geteuid() ~= 0 and core.readlink(ns .. "user") ~= core.readlink("/proc/self/ns/user") then
    user = "-U --preserve-credentials "
  end
  local out, ok = run(string.format("nsenter -t %d %s-n ip -j %s 2>&1", pid, user, args))
  if not ok then return nil, "interfaces: " .. out:gsub("%s+$", "") end
  return json().decode(out) or {}
end

--- The network of process pid as data: its interfaces { { name, up, mac,
-- mtu, addresses = { "10.88.0.2/16", ... } } } and its routes { { dst,
-- gateway, dev } } (IPv4 and IPv6). nil, message when they cannot be read.
function M.interfaces(pid)
  local links, err = ip_in(pid, "addr show")
  if not links then return nil, err end
  local list = {}
  for _, l in ipairs(links) do
    local addrs = {}
    for _, a in ipairs(l.addr_info or {}) do addrs[#addrs + 1] = a["local"] .. "/" .. a.prefixlen end
    local up = false
    for _, flag in ipairs(l.flags or {}) do up = up or flag == "UP" end
    list[#list + 1] = { name = l.ifname, up = up, mac = l.address, mtu = l.mtu, addresses = addrs }
  end
  local routes = {}
  for _, family in ipairs { "-4", "-6" } do
    for _, r in ipairs(ip_in(pid, family .. " route show") or {}) do
      routes[#routes + 1] = { dst = r.dst, gateway = r.gateway, dev = r.dev }
    end
  end
  return list, routes
end

---------------------------------------------------------------------------
-- /etc/resolv.conf, /etc/hosts, /etc/hostname of a container

-- The host's resolv.conf; without its loopback nameservers (a local
-- resolver the container cannot reach) unless keep_loopback.
local function host_resolv(keep_loopback)
  local lines = {}
  for line in (read_file("/etc/resolv.conf") or ""):gmatch("[^\n]+") do
    local server = line:match("^%s*nameserver%s+(%S+)")
    local loopback = server and (server:match("^127%.") or server == "::1")
    if not loopback or keep_loopback then lines[#lines + 1] = line end
  end
  return table.concat(lines, "\n") .. (#lines > 0 and "\n" or "")
end

--- The files a container with network handle h (M.for_container) gets
-- in /etc, as { hostname =, hosts =, resolv = } texts: its name, itself
-- and localhost, and the host's resolvers (pasta's DNS forwarder for
-- pasta). h nil: a container of the host's network.
function M.files(c, h)
  local hostname = c.hostname or core.gethostname() or "localhost"
  local address = h and h:address() or "127.0.1.1"
  local resolv
  if h and h.slirp then
    resolv = "nameserver " .. M.SLIRP_DNS .. "\n"
  elseif h and h.mode == "pasta" then
    resolv = "nameserver " .. M.PASTA_DNS .. "\n"
  else
    resolv = host_resolv(not h or h.mode == "host")
  end
  return {
    hostname = hostname .. "\n",
    hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" ..
      address .. "\t" .. hostname .. "\n",
    resolv = resolv,
  }
end

---------------------------------------------------------------------------
-- records: the networks of containers whose nsl was killed are detached
-- later (as nsl.cgroup reclaims cgroups)

local function records_dir()
  local dir = require("nsl.rootfs").runtime_dir() .. "/.net"
  local ok, err, errno = core.mkdir(dir, "0700")
  if not ok and errno ~= core.errno.EEXIST then error("network record: " .. err, 0) end
  return dir
end

local function write_record(h)
  local process = require "nsl.process"
  local path = h.record or string.format("%s/%d-%s", records_dir(), core.getpid(), h.id)
  local text = string.format("return { pid = %d, start = %q, kind = %q, id = %q, " ..
    "config = %q, result = %q, publish = %q, helper_pid = %s, helper_start = %q }\n",
    core.getpid(),
    process.start_time(core.getpid()) or "", h.mode == "pasta" and "pasta" or "cni", h.id,
    h.config and json().encode(h.config) or "", h.result and json().encode(h.result) or "",
    json().encode(h.publish or {}), tostring(h.helper_pid or "nil"), h.helper_start or "")
  if not util.write_atomic(path, text) then
    error("network record: cannot write " .. path, 0)
  end
  h.record = path
end

local function load_record(path)
  local rec = util.load_record(path)
  if rec and math.tointeger(rec.pid) and type(rec.id) == "string" then return rec end
end

-- The bridge plugin undoes its outbound NAT only while the namespace it
-- configured is there (it reads the addresses from the interface); once
-- the namespace has gone with a killed nsl's container, its rules are
-- found by the container id in their comment and removed here.
local function remove_masquerade(id)
  local out, ok = run("iptables -t nat -S POSTROUTING 2>/dev/null")
  if not ok then return end
  for line in out:gmatch("[^\n]+") do
    if line:find('id: \\"' .. id .. '\\"', 1, true) then
      local chain = line:match("%-j (CNI%-%x+)$")
      -- iptables -S quotes its output as sh does
      run("iptables -t nat " .. line:gsub("^%-A", "-D") .. " 2>&1")
      if chain then run(string.format("iptables -t nat -F %s && iptables -t nat -X %s 2>&1",
        chain, chain)) end
    end
  end
end

-- Undo what a record says was attached; true when nothing is left.
local function detach_record(rec)
  if rec.kind == "pasta" then
    M.pasta.detach(rec.helper_pid, rec.helper_start)
    os.remove(string.format("%s/%s.sock", records_dir(), rec.id)) -- slirp4netns's API
    return true
  end
  local config = json().decode(rec.config or "")
  if type(config) ~= "table" then return true end
  local result = rec.result ~= "" and json().decode(rec.result) or nil
  local publish = json().decode(rec.publish or "")
  -- the namespace went with the container: DEL without one, as the spec allows
  local done = M.cni.del(config, "", rec.id, { result = result,
    publish = type(publish) == "table" and publish or nil }) == true
  if done and rec.id:match("^nsl%-%d+%-%d+$") then remove_masquerade(rec.id) end
  return done
end

--- Detach the networks that this user's nsl attached and left behind
-- (killed before it could detach them): a record whose owner is gone.
-- Returns how many were detached.
function M.reclaim()
  local process, dir, done = require "nsl.process", records_dir(), 0
  for _, name in ipairs(core.readdir(dir) or {}) do
    local path = dir .. "/" .. name
    local rec = not name:match("%.tmp$") and load_record(path)
    if rec and process.start_time(rec.pid) ~= rec.start and detach_record(rec) then
      core.unlink(path)
      done = done + 1
    end
  end
  return done
end

---------------------------------------------------------------------------
-- a container's network

local Net = {}
Net.__index = Net

--- Check c.network and c.publish (raises "network '...': ..." or
-- "publish ...: ..."); returns the mode ("none", "host", "bridge",
-- "pasta" or "cni" for a config table) and the checked publish list.
function M.check(c)
  local mode = c.network or "none"
  if type(mode) == "table" then
    M.cni.conflist(mode)
    mode = "cni"
  elseif not M.MODES[mode] then
    M.parse_mode(mode) -- raises for an unknown word
    error(string.format("network '%s': a CNI config is given as a table", tostring(mode)), 0)
  end
  local publish = {}
  for _, p in ipairs(c.publish or {}) do publish[#publish + 1] = M.check_publish(p) end
  if #publish > 0 and (mode == "none" or mode == "host") then
    error(string.format("publish: network '%s' has no ports to publish " ..
      "(use bridge or pasta)", mode), 0)
  end
  return mode, publish
end

--- The network of container config c (c.network, c.publish), to attach
-- from the parent: nil for "none" (the container's own namespace with
-- lo only). h:attach(pid) once the child's namespace exists, h:detach()
-- when it has ended, h:address() its IPv4 address.
function M.for_container(c)
  local mode, publish = M.check(c)
  if mode == "none" then return nil end
  local config = mode == "bridge" and M.cni.bridge() or mode == "cni" and c.network or nil
  return setmetatable({ mode = mode, publish = publish, config = config }, Net)
end

--- The container's IPv4 address (from the CNI result), or nil.
function Net:address()
  for _, ip in ipairs(self.result and self.result.ips or {}) do
    local addr = tostring(ip.address):match("^([%d.]+)/")
    if addr then return addr end
  end
end

local function attach(self, pid)
  if self.mode == "host" then return end
  pcall(M.reclaim)
  self.id = string.format("nsl-%d-%d", core.getpid(), pid)
  if self.mode == "pasta" then
    M.check_ports(self.publish)
    if M.pasta.path() or not M.slirp.path() then
      self.helper_pid = M.pasta.attach(pid, { publish = self.publish })
    else
      self.slirp = true
      self.helper_pid = M.slirp.attach(pid, { publish = self.publish,
        socket = string.format("%s/%s.sock", records_dir(), self.id) })
    end
    self.helper_start = require("nsl.process").start_time(self.helper_pid)
    write_record(self)
    return
  end
  if core.geteuid() ~= 0 or not require("nsl.userns").initial() then
    error(string.format("network '%s' needs root (the CNI plugins configure the host's " ..
      "side); an ordinary user has pasta", self.mode == "cni" and tostring(self.config.name)
      or self.mode), 0)
  end
  M.cni.check(self.config)
  M.cni.check_subnets(self.config)
  M.check_ports(self.publish)
  -- held open until the DEL: the bridge plugin undoes its NAT rules only
  -- while the namespace (and the container's interface) is still there
  self.netns = assert(core.open(string.format("/proc/%d/ns/net", pid), "rdonly"))
  self.netns_path = string.format("/proc/%d/fd/%d", core.getpid(), self.netns:fileno())
  -- recorded first: a kill during the ADD is undone by the next reclaim
  write_record(self)
  self.result = M.cni.add(self.config, self.netns_path, self.id, { publish = self.publish })
  write_record(self)
end

--- Attach the network to the network namespace of process pid (the
-- container's, held before its command): CNI ADD or pasta. Returns true,
-- or nil and the message (what was done is undone).
function Net:attach(pid)
  local ok, err = pcall(attach, self, pid)
  if ok then return true end
  self:detach()
  return nil, tostring(err)
end

--- Detach the network once the container has ended (CNI DEL, pasta
-- stopped) and drop its record. nil, message when a plugin failed (the
-- record stays for a later reclaim).
function Net:detach()
  local ok, err = true, nil
  if self.helper_pid then
    M.pasta.detach(self.helper_pid, self.helper_start)
    self.helper_pid = nil
    if self.slirp then os.remove(string.format("%s/%s.sock", records_dir(), self.id)) end
  elseif self.record and self.config then
    ok, err = M.cni.del(self.config, self.netns_path or "", self.id,
      { result = self.result, publish = self.publish })
  end
  if self.netns then
    self.netns:close()
    self.netns, self.netns_path = nil, nil
  end
  if ok and self.record then
    core.unlink(self.record)
    self.record = nil
  end
  return ok, err
end

return M
