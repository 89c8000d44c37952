-- sandbox.lua: run a command in a sandbox built from the host, with the current directory writable
--
-- usage: nsl run sandbox.lua [--network MODE] [-v SRC:DST[:ro]] [-w DIR] [-e K=V] [--] COMMAND [ARGS...]
--
--   nsl run sandbox.lua make test
--
-- The host's /usr, /bin, /sbin, /lib*, and /etc are bound read-only, the
-- current directory read-write at its own path; /tmp and the home are
-- fresh tmpfs; no network but loopback unless --network (--net is
-- --network host: the host's own). The command runs as
-- the calling user. Copy this file next to a project as nsl-sandbox.lua,
-- adapt it, and run it with `nsl run ./nsl-sandbox.lua`.
local nsl = require "nsl"
local container = nsl.container

local options = require "nsl.options"

local cli = options.with({
  script = "sandbox.lua",
  usage = "nsl run sandbox.lua [OPTIONS] [--] COMMAND [ARGS...]",
  footer = "Volumes and tmpfs mounts go on top of the host's directories; -h is --help.",
  { "--net", key = "network", set = "host", help = "share the host's network: --network host" },
  { "--workdir", "-w", value = "DIR", parse = options.target,
    help = "the working directory (default: the current one; made if missing)" },
  { "--rm", help = "accepted for docker's habit: nsl keeps no container anyway" },
}, options.mount_options(), options.env_options(), options.network_options())
local o, command = options.args(cli, arg)
if #command == 0 then options.fail(cli, "a COMMAND is needed") end

local uid, gid = nsl.getuid(), nsl.getgid()
local cwd = assert(nsl.getcwd())
local home = os.getenv("HOME") or "/tmp"

-- The root is an empty directory that a tmpfs covers in the container.
local root = nsl.rootfs.cache_dir() .. "/sandbox-root"
nsl.rootfs.mkdir_all(root)

local mounts = {}
local function bind_ro(path)
  mounts[#mounts + 1] = { source = path, target = path, flags = "rbind rdonly nosuid nodev" }
end
local links = {}
for _, dir in ipairs { "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc" } do
  local st = nsl.lstat(dir)
  if st and st.type == "link" then
    links[#links + 1] = { assert(nsl.readlink(dir)), dir } -- merged /usr: /bin -> usr/bin
  elseif st then
    bind_ro(dir)
  end
end
for _, m in ipairs(container.mounts) do
  if m.target ~= "/run" then mounts[#mounts + 1] = m end
end
mounts[#mounts + 1] = { source = "tmpfs", target = "/tmp", fstype = "tmpfs", flags = "nosuid nodev",
  data = "mode=1777" }
mounts[#mounts + 1] = { source = "tmpfs", target = home, fstype = "tmpfs", flags = "nosuid nodev", data = "mode=700" }
mounts[#mounts + 1] = { source = cwd, target = cwd, flags = "rbind nosuid nodev" }
-- -v, --bind, --tmpfs, --mount: after the standard ones, in the order given
for _, m in ipairs(o.mounts or {}) do mounts[#mounts + 1] = m end

-- Replaces bind_rootfs: the root is a fresh tmpfs, so nothing of the host
-- shows but what is bound into it.
local function tmpfs_root(c)
  container.check("tmpfs_root", nsl.mount("tmpfs", c.rootfs, "tmpfs", "nosuid nodev", "mode=755"))
  for _, l in ipairs(links) do
    container.check("tmpfs_root", nsl.symlink(l[1], c.rootfs .. l[2]))
  end
end

local env = { HOME = home, USER = os.getenv("USER"), LANG = os.getenv("LANG"),
  PATH = os.getenv("PATH") or container.env.PATH }
for k, v in pairs(options.environment(o.env)) do env[k] = v end

local steps = { "propagation", tmpfs_root, "mount_system", "devices", "links",
  "console", "network_files", "workdir", "enter_root", "loopback", "hostname", "umask", "chdir" }

container.exit {
  rootfs = root,
  command = command,
  cwd = o.workdir or cwd,
  make_cwd = o.workdir ~= nil,
  hostname = "sandbox",
  network = o.network,
  publish = o.publish,
  mounts = mounts,
  steps = steps,
  -- the caller keeps its own ids (an ordinary user needs a user namespace)
  uid_map = { { uid, uid, 1 } },
  gid_map = { { gid, gid, 1 } },
  env = env,
}
