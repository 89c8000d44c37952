-- nsl.net.cni: the CNI plugins, invoked as the CNI spec says (nsl.net.cni).
local core = require "nsl.core"
local util = require "nsl.util"
local common = require "nsl.net.common"

local json, run = common.json, common.run
local quote, copy, read_file = util.quote, util.copy, util.read_file

local M = {}

---------------------------------------------------------------------------
-- CNI: the plugins, invoked as the CNI spec says

--- The CNI conflist of the "bridge" mode: a bridge (nsl0, 10.88.0.0/16,
-- the gateway, outbound NAT) with host-local addresses (leases in
-- opts.data_dir, default the runtime directory's cni/), and portmap for
-- published ports. opts: name, bridge, subnet, data_dir.
function M.bridge(opts)
  opts = opts or {}
  local data_dir = opts.data_dir or (require("nsl.rootfs").runtime_dir() .. "/cni")
  return {
    cniVersion = "1.0.0",
    name = opts.name or "nsl",
    plugins = {
      { type = "bridge", bridge = opts.bridge or "nsl0", isGateway = true, ipMasq = true,
        hairpinMode = true,
        ipam = { type = "host-local", dataDir = data_dir,
          ranges = { { { subnet = opts.subnet or "10.88.0.0/16" } } },
          routes = { { dst = "0.0.0.0/0" } } } },
      { type = "portmap", capabilities = { portMappings = true } },
    },
  }
end

--- A config or conflist as a conflist (a lone plugin is a list of one).
function M.conflist(config)
  if type(config) ~= "table" then error("cni: the config is not a table", 0) end
  if config.plugins then return config end
  local plugin = copy(config)
  plugin.cniVersion, plugin.name = nil, nil
  return { cniVersion = config.cniVersion, name = config.name, plugins = { plugin } }
end

-- The executable of plugin type kind in the CNI path, or raise.
local function plugin_path(kind, cni_path)
  if type(kind) ~= "string" or not kind:match("^[%w_.-]+$") then
    error(string.format("cni: plugin type '%s' is not a plugin name", tostring(kind)), 0)
  end
  for dir in cni_path:gmatch("[^:]+") do
    local path = dir .. "/" .. kind
    if core.access(path, "x") then return path end
  end
  error(string.format("cni: plugin '%s' not found in %s (Debian: apt-get install " ..
    "containernetworking-plugins)", kind, cni_path), 0)
end

--- Check that every plugin of config (a config or conflist) is there;
-- raises "cni: plugin 'NAME' not found in PATH ..." for a missing one.
function M.check(config, opts)
  for _, plugin in ipairs(M.conflist(config).plugins) do
    plugin_path(plugin.type, (opts or {}).path or common.CNI_PATH)
  end
end

-- The JSON a plugin gets: its own fields, the list's version and name,
-- the previous result, and the runtime config it asks for by capability.
local function plugin_config(list, plugin, prev, opts)
  local conf = copy(plugin)
  conf.cniVersion = list.cniVersion or "1.0.0"
  conf.name = list.name
  conf.prevResult = prev
  if plugin.capabilities and plugin.capabilities.portMappings and opts.publish then
    local mappings = {}
    for _, p in ipairs(opts.publish) do
      mappings[#mappings + 1] = { hostPort = p.host_port, containerPort = p.port,
        protocol = p.proto or "tcp", hostIP = p.host_ip }
    end
    conf.runtimeConfig = { portMappings = mappings }
  end
  return conf
end

-- Invoke one plugin: nil and the plugin's error message on failure, else
-- its decoded result (ADD) or true.
local function invoke(command, list, plugin, prev, netns, id, opts)
  local path = plugin_path(plugin.type, opts.path or common.CNI_PATH)
  local input = os.tmpname()
  local f = assert(io.open(input, "w"))
  f:write(json().encode(plugin_config(list, plugin, prev, opts)))
  f:close()
  -- stderr apart: the result on stdout stays plain JSON
  local errors = os.tmpname()
  local out, ok = run(string.format("CNI_COMMAND=%s CNI_NETNS=%s CNI_CONTAINERID=%s " ..
    "CNI_IFNAME=%s CNI_PATH=%s timeout -k 2 %d %s <%s 2>%s", command, quote(netns or ""),
    quote(id), quote(opts.ifname or "eth0"), quote(opts.path or common.CNI_PATH), common.TIMEOUT,
    quote(path), quote(input), quote(errors)))
  local stderr = read_file(errors) or ""
  os.remove(input)
  os.remove(errors)
  local result = json().decode(out)
  if not ok then
    local msg = type(result) == "table" and result.msg or (out .. stderr):gsub("%s+$", "")
    if type(result) == "table" and result.details and result.details ~= "" then
      msg = msg .. ": " .. result.details
    end
    return nil, string.format("cni %s '%s' (network '%s'): %s", command, plugin.type,
      tostring(list.name), msg ~= "" and msg or "failed")
  end
  if command == "ADD" and type(result) ~= "table" then
    return nil, string.format("cni ADD '%s' (network '%s'): no result", plugin.type,
      tostring(list.name))
  end
  return result or true
end

--- CNI DEL of config (a config or conflist) for container id, its plugins
-- in reverse order; opts: ifname (eth0), path (the CNI path), result (the
-- ADD's, as prevResult), publish. Every plugin is asked even when one
-- fails; returns true, or nil and the first error.
function M.del(config, netns_path, id, opts)
  opts = opts or {}
  local list = M.conflist(config)
  local first_err
  for i = #list.plugins, 1, -1 do
    local ok, res, err = pcall(invoke, "DEL", list, list.plugins[i], opts.result, netns_path,
      id, opts)
    if not ok or not res then first_err = first_err or (ok and err or res) end
  end
  if first_err then return nil, first_err end
  return true
end

--- CNI ADD of config (a config or conflist table, as CNI JSON) for
-- container id in the network namespace at netns_path: each plugin in
-- order, chained with prevResult; returns the last result (a table).
-- opts: ifname (eth0), path (the CNI path), publish (c.publish, for
-- plugins with the portMappings capability). On a failure the plugins
-- are asked to DEL what they did, and it raises the plugin's message.
function M.add(config, netns_path, id, opts)
  opts = opts or {}
  local list = M.conflist(config)
  M.check(list, opts)
  local result
  for _, plugin in ipairs(list.plugins) do
    local res, err = invoke("ADD", list, plugin, result, netns_path, id, opts)
    if not res then
      M.del(list, netns_path, id, { ifname = opts.ifname, path = opts.path,
        publish = opts.publish, result = result })
      error(err, 0)
    end
    result = res
  end
  return result
end

-- The IPv4 routes of this process's network namespace: { dst =, dev = }.
local function host_routes()
  local out, ok = run("ip -j -4 route show 2>/dev/null")
  local routes = ok and json().decode(out)
  return type(routes) == "table" and routes or {}
end

--- Refuse a bridge subnet of config that overlaps a route of this network
-- namespace on another device (a subnet collision): raises "network
-- 'NAME': subnet S collides with route R dev D".
function M.check_subnets(config)
  local list = M.conflist(config)
  local routes = host_routes()
  for _, plugin in ipairs(list.plugins) do
    local ipam = type(plugin.ipam) == "table" and plugin.ipam or {}
    local subnets = { ipam.subnet }
    for _, range in ipairs(ipam.ranges or {}) do
      for _, r in ipairs(range) do subnets[#subnets + 1] = r.subnet end
    end
    for _, subnet in ipairs(subnets) do
      for _, route in ipairs(routes) do
        if route.dst ~= "default" and route.dev ~= plugin.bridge and common.overlaps(subnet, route.dst) then
          error(string.format("network '%s': subnet %s collides with route %s dev %s " ..
            "(choose another subnet)", tostring(list.name), subnet, route.dst,
            tostring(route.dev)), 0)
        end
      end
    end
  end
end

return M
