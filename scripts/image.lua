-- image.lua: run a real image, as docker run or podman run would
--
-- usage: nsl run image.lua [OPTIONS] IMAGE [COMMAND [ARGS...]]
--
--   nsl run image.lua oci:/srv/layouts/debian:12 cat /etc/os-release
--   nsl run image.lua docker-archive:busybox.tar      (what `podman save` writes)
--   nsl run image.lua containers-storage:localhost/bbtest sh -c 'id; pwd'
--
-- IMAGE is anything skopeo reads (see nsl.image): copied and unpacked once
-- into nsl's cache, then run with its Entrypoint, Cmd (COMMAND replaces
-- it), Env, WorkingDir and User, on a throwaway root over the cache.
local nsl = require "nsl"
local image, container, identity = nsl.image, nsl.container, nsl.identity

-- The options, as data: name, whether it takes a value, what it sets, and
-- its help line.
local OPTIONS = {
  { name = "--overlay-dir", value = "DIR", help = "keep the root's changes in DIR (default: a tmpfs)",
    set = function(o, v) o.overlay_dir = v end },
  { name = "--user", value = "U[:G]", help = "run as uid[:gid] or name[:group] (default: the image's)",
    set = function(o, v) o.user = identity.parse_user(v) end },
  { name = "--env", value = "K=V|K", help = "set a variable, or pass the caller's K on",
    set = function(o, v)
      local k, val = v:match("^([^=]+)=(.*)$")
      if not k then k, val = v, os.getenv(v) end
      if k == "" then error("--env wants K=V or K", 0) end
      o.env = o.env or {}
      o.env[k] = val
    end },
  { name = "--help", help = "this text" },
}

local function usage()
  local lines = { "usage: nsl run image.lua [OPTIONS] IMAGE [COMMAND [ARGS...]]",
    "IMAGE: oci:DIR[:TAG], docker-archive:FILE, containers-storage:NAME, docker://NAME" }
  for _, o in ipairs(OPTIONS) do
    local left = o.name .. (o.value and " " .. o.value or "")
    lines[#lines + 1] = string.format("  %-20s %s", left, o.help)
  end
  return table.concat(lines, "\n")
end

local function fail(message)
  io.stderr:write("image.lua: ", message, "\n", usage(), "\n")
  os.exit(2)
end

-- Options, then IMAGE, then the command ("--" ends the options).
local opts, args = {}, {}
local i = 1
while i <= #arg and arg[i]:sub(1, 1) == "-" do
  local a = arg[i]
  if a == "--" then i = i + 1; break end
  if a == "--help" or a == "-h" then print(usage()); os.exit(0) end
  local found
  for _, o in ipairs(OPTIONS) do
    if o.name == a then found = o end
  end
  if not found then fail("unknown option '" .. a .. "'") end
  local v = nil
  if found.value then
    i = i + 1
    v = arg[i]
    if v == nil then fail(a .. " needs a value") end
  end
  local ok, err = pcall(found.set, opts, v)
  -- a library parser's error as a usage error, without its position
  if not ok then fail((tostring(err):gsub("^[^:]*:%d+: ", ""))) end
  i = i + 1
end
local ref = arg[i]
if not ref then fail("no image given") end
for j = i + 1, #arg do args[#args + 1] = arg[j] end

local progress
if nsl.isatty(2) then
  progress = function(text) io.stderr:write("nsl: ", text, " ...\n") end
end
local ok, c = pcall(function()
  local img = image.pull(ref, { progress = progress })
  opts.args = args
  return image.config(img, opts)
end)
if not ok then io.stderr:write("nsl: ", tostring(c), "\n"); os.exit(125) end
os.exit(container.main(c))
