-- nsl.options: a script's command-line options, declared once as data.
--
--   local options = require "nsl.options"
--   local cli = {
--     script = "box.lua", usage = "nsl run box.lua [OPTIONS] [COMMAND...]",
--     { "--volume", "-v", value = "SRC:DST[:ro]", parse = options.volume, into = "mounts",
--       help = "bind a host path in" },
--     { "--readonly", "--read-only", help = "mount the root read-only" },
--   }
--   local opts, command = options.args(cli, arg)   -- exits on --help and on errors
--
-- Each option is a table: its names (the first, without dashes and with
-- '_' for '-', is its key in the result), value (what --help calls its
-- value; none for a flag, a list of two for an option with two values),
-- parse (turns the value into what the result holds; raises on bad input),
-- many (repeatable: the result holds a list) or into (repeatable, into a
-- list shared with other options, in command-line order), pack (keep
-- all the values parse returns, as a list), set (what a
-- flag stores, default true) and help. Options come before the command;
-- "--" ends them; "--name=value" is "--name value". -h and --help print
-- the help: -h is never an option of its own (use --hostname).
local core = require "nsl.core"

local M = {}

-- The key of an option in the result: "--no-pivot" -> "no_pivot".
local function key_of(decl)
  return decl.key or decl[1]:gsub("^%-+", ""):gsub("%-", "_")
end

-- The option named name in cli, or nil.
local function find(cli, name)
  for _, decl in ipairs(cli) do
    for _, n in ipairs(decl) do
      if n == name then return decl end
    end
  end
end

-- What --help shows for an option's value: "SRC DST" for two.
local function value_text(decl)
  if type(decl.value) == "table" then return table.concat(decl.value, " ") end
  return decl.value
end

--- The help text of cli: its usage line, one line per option (names, value,
-- help), and cli.footer.
function M.help(cli)
  local lines = { "usage: " .. (cli.usage or ("nsl run " .. cli.script .. " [OPTIONS]")) }
  local rows, width = {}, 0
  for _, decl in ipairs(cli) do
    local names = table.concat(decl, ", ")
    local value = value_text(decl)
    local left = value and names .. " " .. value or names
    rows[#rows + 1] = { left, decl.help or "" }
    width = math.max(width, #left)
  end
  rows[#rows + 1] = { "-h, --help", "this text" }
  width = math.min(math.max(width, #"-h, --help"), 30)
  for _, row in ipairs(rows) do
    local pad = string.rep(" ", math.max(width - #row[1], 0) + 2)
    if #row[1] > width then pad = "\n" .. string.rep(" ", width + 4) end
    lines[#lines + 1] = "  " .. row[1] .. pad .. row[2]
  end
  if cli.footer then lines[#lines + 1] = cli.footer end
  return table.concat(lines, "\n")
end

-- Store one parsed value of decl in opts.
local function store(opts, decl, value)
  local list = decl.into or (decl.many and key_of(decl))
  if list then
    opts[list] = opts[list] or {}
    table.insert(opts[list], value)
  else
    opts[key_of(decl)] = value
  end
end

-- The value(s) of decl, parsed: a parser's error is a usage error (its
-- message says what was wrong: "bad user 'x': ...").
local function parse_value(decl, values)
  if not decl.parse then return table.unpack(values) end
  local res = table.pack(pcall(decl.parse, table.unpack(values)))
  if not res[1] then error({ usage = tostring(res[2]) }) end
  if decl.pack then return table.move(res, 2, res.n, 1, {}) end
  return res[2]
end

--- Parse argv (a list of strings) by cli: returns the options (a table by
-- key) and the rest (the command: the first word that is no option and
-- everything after it, or what follows "--"); or nil and a message for a
-- bad option; or nil, nil and "help" for -h/--help.
function M.parse(cli, argv)
  local opts, i = {}, 1
  local ok, err = pcall(function()
    while i <= #argv do
      local a = argv[i]
      if a == "--" then i = i + 1; return end
      if a == "-h" or a == "--help" then error({ help = true }) end
      if a:sub(1, 1) ~= "-" or a == "-" then return end
      local name, inline = a:match("^(%-%-[^=]+)=(.*)$")
      name = name or a
      local decl = find(cli, name)
      if not decl then error({ usage = "unknown option '" .. name .. "'" }) end
      local count = decl.value == nil and 0 or (type(decl.value) == "table" and #decl.value or 1)
      local values = {}
      if inline then
        if count ~= 1 then error({ usage = name .. " takes " .. (count == 0 and "no value" or count .. " values") }) end
        values[1] = inline
      end
      for _ = #values + 1, count do
        i = i + 1
        if argv[i] == nil then
          error({ usage = name .. " needs " .. (count == 1 and "a value" or count .. " values") ..
            " (" .. value_text(decl) .. ")" })
        end
        values[#values + 1] = argv[i]
      end
      if count == 0 then
        local set = decl.set
        if set == nil then set = true end
        store(opts, decl, set)
      else
        store(opts, decl, parse_value(decl, values))
      end
      i = i + 1
    end
  end)
  if not ok then
    if type(err) ~= "table" then error(err, 0) end
    if err.help then return nil, nil, "help" end
    return nil, err.usage
  end
  return opts, table.move(argv, i, #argv, 1, {})
end

--- Print "SCRIPT: message" and a line that points to --help on stderr,
-- and exit 2 (a usage error, as the shell has it).
function M.fail(cli, message)
  io.stderr:write(cli.script, ": ", message, "\n",
    "Try 'nsl run ", cli.script, " --help' for the options.\n")
  os.exit(2)
end

--- Parse argv by cli as a script's main program does: print the help and
-- exit 0 on -h/--help, print a usage error and exit 2 on a bad option
-- (see M.fail), else return the options and the command.
function M.args(cli, argv)
  local opts, rest, help = M.parse(cli, argv)
  if help == "help" then
    print(M.help(cli))
    os.exit(0)
  end
  if not opts then M.fail(cli, rest) end
  return opts, rest
end

---------------------------------------------------------------------------
-- value parsers for the options people bring from docker, podman and bwrap;
-- each returns what container.config takes and raises on bad input

-- A host path made absolute (relative to the current directory); it must
-- exist: nsl creates nothing on the host.
local function host_path(what, path)
  if path == "" then error(what .. ": empty host path", 0) end
  if path:sub(1, 1) ~= "/" then path = assert(core.getcwd()) .. "/" .. path end
  if not core.stat(path) then
    error(string.format("%s: host path '%s' does not exist (nsl creates nothing on the host)",
      what, path), 0)
  end
  return path
end

-- A path inside the container: absolute.
local function container_path(what, path)
  if not path or path:sub(1, 1) ~= "/" then
    error(string.format("%s: the target '%s' must be an absolute path in the container",
      what, tostring(path)), 0)
  end
  return path
end

--- A path inside the container (-w, a mount's target): absolute, else an
-- error.
function M.target(path)
  return container_path("bad path", path)
end

-- A bind of the host's source at target (container.mounts' shape).
local function bind(source, target, readonly)
  return { source = source, target = target, flags = readonly and "rbind rdonly" or "rbind" }
end

--- A -v/--volume value "SRC:DST[:OPTS]" as a c.mounts entry: SRC a host
-- path (made absolute), OPTS a comma list of ro or rw.
function M.volume(text)
  local what = "bad volume '" .. text .. "'"
  local parts = {}
  for part in (text .. ":"):gmatch("([^:]*):") do parts[#parts + 1] = part end
  if #parts < 2 or #parts > 3 then error(what .. ": want SRC:DST[:ro|rw]", 0) end
  local readonly = false
  for word in (parts[3] or ""):gmatch("[^,]+") do
    if word == "ro" then readonly = true
    elseif word == "rw" then readonly = false
    else error(what .. ": unknown volume option '" .. word .. "' (ro or rw)", 0) end
  end
  return bind(host_path(what, parts[1]), container_path(what, parts[2]), readonly)
end

--- --bind SRC DST (bwrap's words) as a c.mounts entry.
function M.bind(source, target)
  local what = "bad --bind '" .. source .. "' '" .. tostring(target) .. "'"
  return bind(host_path(what, source), container_path(what, target), false)
end

--- --ro-bind SRC DST (bwrap's words) as a read-only c.mounts entry.
function M.ro_bind(source, target)
  local what = "bad --ro-bind '" .. source .. "' '" .. tostring(target) .. "'"
  return bind(host_path(what, source), container_path(what, target), true)
end

-- The words of a tmpfs option list that are mount flags, not data.
local TMPFS_FLAGS = { ro = "rdonly", rw = false, noexec = "noexec", exec = false,
  nosuid = "nosuid", nodev = "nodev" }

-- A fresh tmpfs at target: options "size=64m,mode=1777,ro,noexec" (docker's
-- default mode 1777).
local function tmpfs(what, target, list)
  local flags, data = { "nosuid", "nodev" }, {}
  for word in (list or ""):gmatch("[^,]+") do
    local flag = TMPFS_FLAGS[word]
    if flag then flags[#flags + 1] = flag
    elseif flag == nil and word:match("^[%w_]+=[%w_.:]+$") then data[#data + 1] = word
    elseif flag == nil then error(what .. ": unknown tmpfs option '" .. word .. "'", 0) end
  end
  local joined = table.concat(data, ",")
  if not joined:find("mode=", 1, true) then
    data[#data + 1] = "mode=1777"
  end
  return { source = "tmpfs", target = container_path(what, target), fstype = "tmpfs",
    flags = table.concat(flags, " "), data = table.concat(data, ",") }
end

--- A --tmpfs value "DST[:size=64m,mode=1777]" as a c.mounts entry.
function M.tmpfs(text)
  local target, list = text:match("^([^:]*):?(.*)$")
  return tmpfs("bad --tmpfs '" .. text .. "'", target, list)
end

-- docker's --mount keys and the names they go by.
local MOUNT_KEYS = { type = "type", source = "source", src = "source", target = "target",
  destination = "target", dst = "target", readonly = "readonly", ro = "readonly",
  ["tmpfs-size"] = "size", ["tmpfs-mode"] = "mode" }

--- A --mount value as docker spells it ("type=bind,source=/x,target=/y,
-- readonly" or "type=tmpfs,target=/t,tmpfs-size=64m") as a c.mounts entry.
function M.mount(text)
  local what = "bad --mount '" .. text .. "'"
  local f = {}
  for item in text:gmatch("[^,]+") do
    local k, v = item:match("^([^=]+)=(.*)$")
    k = k or item
    local name = MOUNT_KEYS[k]
    if not name then error(what .. ": unknown key '" .. k .. "'", 0) end
    f[name] = v or true
  end
  local ro = f.readonly == true or f.readonly == "true" or f.readonly == "1"
  if f.readonly and not ro and f.readonly ~= "false" and f.readonly ~= "0" then
    error(what .. ": readonly is true or false", 0)
  end
  local kind = f.type or "bind"
  if kind == "bind" then
    if f.size or f.mode then error(what .. ": tmpfs-size and tmpfs-mode are for type=tmpfs", 0) end
    if type(f.source) ~= "string" then error(what .. ": type=bind needs source=", 0) end
    return bind(host_path(what, f.source), container_path(what, f.target), ro)
  elseif kind == "tmpfs" then
    if f.source then error(what .. ": type=tmpfs takes no source", 0) end
    local list = {}
    if f.size then list[#list + 1] = "size=" .. f.size end
    if f.mode then list[#list + 1] = "mode=" .. f.mode end
    if ro then list[#list + 1] = "ro" end
    return tmpfs(what, f.target, table.concat(list, ","))
  end
  error(what .. ": type is bind or tmpfs, not '" .. tostring(kind) .. "'", 0)
end

--- An --env value: "K=V" gives K, V; a bare "K" the caller's K (nil when
-- it has none: the container gets no K).
function M.env(text)
  local k, eq, v = text:match("^([^=]+)(=?)(.*)$")
  if not k then error("bad --env '" .. text .. "': want K=V or K", 0) end
  if eq == "" then return { k, os.getenv(k) } end
  return { k, v }
end

--- An --env-file FILE as docker reads one: K=V or K (the caller's) a line,
-- blank lines and # comments skipped. Returns a list of { K, V }.
function M.env_file(path)
  local f, err = io.open(path, "r")
  if not f then error("bad --env-file " .. err, 0) end
  local list, n = {}, 0
  for line in f:lines() do
    n = n + 1
    line = line:gsub("^%s+", ""):gsub("%s+$", "")
    if line ~= "" and line:sub(1, 1) ~= "#" then
      local ok, pair = pcall(M.env, line)
      if not ok or pair[1]:find("%s") then
        f:close()
        error(string.format("bad --env-file '%s' line %d: want K=V or K, got '%s'", path, n, line), 0)
      end
      list[#list + 1] = pair
    end
  end
  f:close()
  return list
end

--- The environment the --env and --env-file values in list (in the
-- order given: a later one wins) make, as c.env takes it.
function M.environment(list)
  local env = {}
  for _, item in ipairs(list or {}) do
    if type(item[1]) == "string" then
      env[item[1]] = item[2]
    else -- a file's list of pairs
      for _, pair in ipairs(item) do env[pair[1]] = pair[2] end
    end
  end
  return env
end

--- The mount options docker, podman and bwrap users know (-v, --bind,
-- --ro-bind, --tmpfs, --mount), as declarations for a cli table: each
-- adds c.mounts entries to opts.mounts, in the order given.
function M.mount_options()
  return {
    { "--volume", "-v", value = "SRC:DST[:ro|rw]", parse = M.volume, into = "mounts",
      help = "bind the host's SRC at DST (rw, or ro: read-only)" },
    { "--bind", value = { "SRC", "DST" }, parse = M.bind, into = "mounts",
      help = "bind the host's SRC at DST, read-write" },
    { "--ro-bind", value = { "SRC", "DST" }, parse = M.ro_bind, into = "mounts",
      help = "bind the host's SRC at DST, read-only" },
    { "--tmpfs", value = "DST[:OPTS]", parse = M.tmpfs, into = "mounts",
      help = "a fresh tmpfs at DST (OPTS: size=64m,mode=1777,ro,noexec)" },
    { "--mount", value = "type=bind|tmpfs,...", parse = M.mount, into = "mounts",
      help = "docker's: type=bind,source=S,target=T[,readonly] or type=tmpfs,target=T" },
  }
end

--- The environment options (-e/--env, --env-file) as declarations for a
-- cli table: both go to opts.env in order (see M.environment).
function M.env_options()
  return {
    { "--env", "-e", value = "K=V|K", parse = M.env, into = "env",
      help = "set a variable, or pass the caller's K on" },
    { "--env-file", value = "FILE", parse = M.env_file, into = "env",
      help = "variables from FILE: K=V or K a line, # comments" },
  }
end

--- The network options (--network MODE, -p/--publish), as declarations
-- for a cli table: opts.network (nsl.net.parse_mode's) and opts.publish (a
-- list of nsl.net.parse_publish's). nsl.net is loaded only when used.
function M.network_options()
  return {
    { "--network", value = "MODE",
      parse = function(v) return require("nsl.net").parse_mode(v) end,
      help = "none (own, lo only: the default), host, bridge (root), pasta, or a CNI config file" },
    { "--publish", "-p", value = "[IP:]HOST:PORT[/tcp|udp]", many = true,
      parse = function(v) return require("nsl.net").parse_publish(v) end,
      help = "publish the container's PORT on the host's HOST (bridge, pasta)" },
  }
end

--- A cli table of options (a list of declarations) with the lists given
-- appended: options.with(cli, options.mount_options()).
function M.with(cli, ...)
  for _, list in ipairs { ... } do
    for _, decl in ipairs(list) do cli[#cli + 1] = decl end
  end
  return cli
end

return M
