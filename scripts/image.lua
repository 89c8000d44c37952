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
local options = require "nsl.options"

-- the options, as data: nsl.options parses them and writes --help
local cli = options.with({
  script = "image.lua",
  usage = "nsl run image.lua [OPTIONS] IMAGE [COMMAND [ARGS...]]",
  footer = "IMAGE: oci:DIR[:TAG], docker-archive:FILE, containers-storage:NAME, docker://NAME",
  { "--overlay-dir", value = "DIR", help = "keep the root's changes in DIR (default: a tmpfs)" },
  { "--user", "-u", value = "U[:G]", parse = identity.parse_user,
    help = "run as uid[:gid] or name[:group] (default: the image's)" },
  { "--workdir", "-w", value = "DIR", parse = options.target,
    help = "the working directory (default: the image's; made if missing)" },
  { "--hostname", value = "NAME", help = "the container's hostname (default: the image's name)" },
  { "--name", value = "NAME", help = "record the container for `nsl ps` and `nsl enter NAME`" },
  { "--tty", help = "a pseudo-terminal (default: when stdin is one)" },
  { "--no-tty", key = "tty", set = false, help = "no pseudo-terminal" },
  { "--rm", help = "accepted for docker's habit: nsl keeps no container anyway" },
}, options.mount_options(), options.env_options(), options.network_options())

local o, rest = options.args(cli, arg)
local ref = rest[1]
if not ref then options.fail(cli, "no image given") end
local opts = { user = o.user, overlay_dir = o.overlay_dir, hostname = o.hostname,
  name = o.name, tty = o.tty, network = o.network, publish = o.publish,
  args = table.move(rest, 2, #rest, 1, {}) }
if o.env then opts.env = options.environment(o.env) end
if o.workdir then opts.cwd, opts.make_cwd = o.workdir, true end

local progress
if nsl.isatty(2) then
  progress = function(text) io.stderr:write("nsl: ", text, " ...\n") end
end
local ok, c = pcall(function()
  local img = image.pull(ref, { progress = progress })
  return image.config(img, opts)
end)
if not ok then io.stderr:write("nsl: ", tostring(c), "\n"); os.exit(125) end
if o.mounts then
  -- the standard mounts first, then the volumes in the order given
  c.mounts = table.move(container.mounts, 1, #container.mounts, 1, {})
  table.move(o.mounts, 1, #o.mounts, #c.mounts + 1, c.mounts)
end
container.exit(c)
