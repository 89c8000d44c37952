-- nsl.image: run real images, from anything skopeo can read.
--
--   local image = require "nsl.image"
--   local img = image.pull("oci:/srv/layouts/debian:12")
--   os.exit(nsl.container.main(image.config(img, { args = { "cat", "/etc/os-release" } })))
--
-- skopeo copies the image to an OCI layout (`skopeo copy REF
-- oci:DIR/layout:nsl`), umoci unpacks it (`umoci raw unpack`, with
-- --rootless for an ordinary user: every file is then the caller's, root
-- inside the container). Nothing here reads a tar or a manifest by hand.
-- Unpacked images are cached by the source's manifest digest under
-- nsl.rootfs.cache_dir()/images, so a second run of the same image starts
-- at once. The library never prints: a slow first pull is announced
-- through opts.progress, and errors are raised with the step, the command
-- and what it said.
local core = require "nsl.core"
local errors = require "nsl.errors"
local util = require "nsl.util"
local rootfs = require "nsl.rootfs"
local userns = require "nsl.userns"
local identity = require "nsl.identity"

local M = {}

--- The transports taken (skopeo's names): local layouts, archives and
-- podman's store, and registries where one is reachable.
M.transports = { "oci", "oci-archive", "docker-archive", "containers-storage", "dir", "docker" }

--- The programs used, as found on PATH (Debian's skopeo and umoci).
M.tools = { skopeo = "skopeo", umoci = "umoci" }

-- The tag the copy gets in the cache's layout.
local TAG = "nsl"

local quote = util.quote

local function fail(step, fmt, ...)
  errors.raise("image: %s: " .. fmt, step, ...)
end

-- skopeo says `level=fatal msg="..."`, umoci `⨯ ...`: the message alone.
local function tool_message(out)
  local msg = out:match('level=fatal msg="(.-)"%s*$') or out:match('msg="(.-)"') or
    out:match("\u{2a2f} ([^\n]*)") or out
  msg = msg:gsub('\\"', '"'):gsub("%s+$", "")
  return msg ~= "" and msg or "no message"
end

-- Run argv (a list of words) through sh; returns its stdout, or raises
-- naming the step, the command and its message. PATH is the caller's.
local function run(step, argv)
  local words = {}
  for i, w in ipairs(argv) do words[i] = quote(w) end
  local errfile = os.tmpname()
  local p = io.popen(table.concat(words, " ") .. " 2>" .. quote(errfile) .. " </dev/null")
  local out = p:read("a")
  local ok, how, code = p:close()
  local f = io.open(errfile)
  local err = f and f:read("a") or ""
  if f then f:close() end
  os.remove(errfile)
  if not ok then
    if how == "exit" and code == 127 then
      fail(step, "%s not found (Debian's %s package: apt-get install %s)", argv[1], argv[1], argv[1])
    end
    fail(step, "%s %s: %s", argv[1], argv[2] == "raw" and "raw unpack" or argv[2],
      tool_message(err .. out))
  end
  return out
end

-- A core call's message with its errno's name: "...: No such file or directory (ENOENT)".
local function with_errno(err, errno)
  local name = errno and core.errno[errno]
  return tostring(err) .. (name and " (" .. name .. ")" or "")
end

-- Remove a directory this module made in the cache (rootless umoci may
-- leave directories without write permission).
local function remove_tree(dir)
  os.execute("chmod -R u+rwX " .. quote(dir) .. " 2>/dev/null; rm -rf --one-file-system " ..
    quote(dir))
end

--- Check an image reference: TRANSPORT:NAME with a transport skopeo reads
-- (image.transports). Returns the transport, or nil and a message.
function M.check_ref(ref)
  if type(ref) ~= "string" or ref == "" then
    return nil, "image: no image given (oci:DIR[:TAG], docker-archive:FILE, containers-storage:NAME)"
  end
  if ref:sub(1, 1) == "-" then return nil, string.format("image '%s': not an image reference", ref) end
  local transport = ref:match("^([%w-]+):")
  for _, t in ipairs(M.transports) do
    if t == transport and ref:sub(#t + 2) ~= "" then return transport end
  end
  return nil, string.format("image '%s': want TRANSPORT:NAME with a transport of %s " ..
    "(containers-storage:%s for podman's store)", ref, table.concat(M.transports, ", "),
    ref:match("^[^:]*$") and ref or "NAME")
end

--- What an ordinary user lacks for an image run that needs ids besides its
-- own (podman's store, an image User that is not root): nil when
-- /etc/subuid and /etc/subgid grant it ranges (or it is root), else a
-- message that says how to add them.
function M.subids_missing(why)
  if core.geteuid() == 0 then return nil end
  local uids, gids = userns.subordinate_ranges("uid"), userns.subordinate_ranges("gid")
  if #uids > 0 and #gids > 0 then return nil end
  local uid = core.getuid()
  local name = userns.user_name(uid) or tostring(uid)
  return string.format("%s needs a range of subordinate ids for uid %d (%s), and %s grants " ..
    "it none: as root, run `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s` " ..
    "(or add the line '%s:100000:65536' to /etc/subuid and /etc/subgid)", why, uid, name,
    #uids == 0 and userns.subid_files.uid or userns.subid_files.gid, name, name)
end

--- The manifest digest of the image at ref, as skopeo reports it
-- ("sha256:..."): the cache's key.
function M.digest(ref)
  local transport, err = M.check_ref(ref)
  if not transport then error(err, 0) end
  local out = run("inspect " .. ref, { M.tools.skopeo, "inspect", "--format", "{{.Digest}}", ref })
  local digest = out:match("^%s*(%w+:%x+)%s*$")
  if not digest then fail("inspect " .. ref, "skopeo gave no digest: %s", out) end
  return digest
end

--- The directory that holds the cached images (rootfs.cache_dir()/images).
function M.cache_dir()
  local dir = rootfs.cache_dir() .. "/images"
  local ok, err, errno = rootfs.mkdir_all(dir)
  if not ok then fail("cache", "%s", with_errno(err, errno)) end
  return dir
end

local read_file = util.read_file

local function write_file(path, data)
  local f, err = io.open(path, "wb")
  if not f then fail("cache", "write %s", err) end
  f:write(data)
  f:close()
end

-- The image's config (the OCI image config's "config" object) from the
-- JSON skopeo wrote.
local function decode_config(path)
  local json = require "dkjson"
  local text = read_file(path)
  local doc, _, err = json.decode(text or "")
  if type(doc) ~= "table" then fail("config", "%s: %s", path, err or "not a JSON object") end
  return type(doc.config) == "table" and doc.config or {}
end

-- A cached image: its directory holds rootfs/ and config.json, made
-- complete before the directory got its name.
local function cached(dir)
  local st = core.stat(dir .. "/rootfs")
  return st and st.type == "dir" and core.stat(dir .. "/config.json") ~= nil
end

-- Unpacks that a killed nsl left behind (.tmp-HEX-PID of a pid that is gone).
local function remove_stale(cache)
  for _, name in ipairs(core.readdir(cache) or {}) do
    local pid = name:match("^%.tmp%-%x+%-(%d+)$")
    if pid and not core.stat("/proc/" .. pid) then remove_tree(cache .. "/" .. name) end
  end
end

-- Copy ref to an OCI layout in tmp and unpack it there: tmp/rootfs and
-- tmp/config.json; the layout is removed afterwards.
local function unpack(ref, tmp)
  local layout = "oci:" .. tmp .. "/layout:" .. TAG
  run("copy " .. ref, { M.tools.skopeo, "copy", "--quiet", ref, layout })
  local unpack_argv = { M.tools.umoci, "raw", "unpack" }
  -- an ordinary user cannot chown, nor can root in a user namespace to
  -- ids it does not map: every file becomes the caller's
  if core.geteuid() ~= 0 or not userns.initial() then
    unpack_argv[#unpack_argv + 1] = "--rootless"
  end
  for _, w in ipairs { "--image", tmp .. "/layout:" .. TAG, tmp .. "/rootfs" } do
    unpack_argv[#unpack_argv + 1] = w
  end
  run("unpack " .. ref, unpack_argv)
  write_file(tmp .. "/config.json",
    run("config " .. ref, { M.tools.skopeo, "inspect", "--config", layout }))
  remove_tree(tmp .. "/layout")
end

--- Make the image at ref ready to run: copied and unpacked into the cache
-- (by manifest digest) unless it is there already. opts.progress(text) is
-- called before a slow first unpack; opts.cache is another cache
-- directory. Returns { ref, digest, dir, rootfs, config (the image's
-- Entrypoint, Cmd, Env, WorkingDir, User ...), cached (true when nothing
-- was unpacked) }.
function M.pull(ref, opts)
  opts = opts or {}
  local transport, err = M.check_ref(ref)
  if not transport then error(err, 0) end
  if transport == "containers-storage" then
    local missing = M.subids_missing("podman's store (containers-storage) as an ordinary user")
    if missing then error("image: " .. missing, 0) end
  end
  local digest = M.digest(ref)
  local algo, hex = digest:match("^(%w+):(%x+)$")
  local cache = opts.cache or M.cache_dir()
  local made_cache, cerr, cerrno = rootfs.mkdir_all(cache)
  if not made_cache then fail("cache", "%s", with_errno(cerr, cerrno)) end
  local dir = string.format("%s/%s-%s", cache, algo, hex)
  local img = { ref = ref, digest = digest, dir = dir, rootfs = dir .. "/rootfs", cached = true }
  if not cached(dir) then
    img.cached = false
    remove_stale(cache)
    if opts.progress then
      opts.progress(string.format("unpacking %s (%s) into %s", ref, digest:sub(1, 19), dir))
    end
    local tmp = string.format("%s/.tmp-%s-%d", cache, hex, core.getpid())
    remove_tree(tmp)
    local made, merr, merrno = core.mkdir(tmp, "0700")
    if not made then fail("cache", "%s", with_errno(merr, merrno)) end
    local ok, uerr = pcall(unpack, ref, tmp)
    if ok then core.chmod(tmp, "0755") end
    local renamed, rerr, rerrno
    if ok then renamed, rerr, rerrno = core.rename(tmp, dir) end
    -- another nsl may have unpacked the same image meanwhile: keep its copy
    if not ok or (not renamed and not cached(dir)) then
      remove_tree(tmp)
      error(ok and "image: cache: " .. with_errno(rerr, rerrno) or uerr, 0)
    end
    if core.stat(tmp) then remove_tree(tmp) end
  end
  img.config = decode_config(dir .. "/config.json")
  return img
end

-- A hostname from the image's name: "localhost/bbtest:1" -> "bbtest".
local function hostname_of(ref)
  local name = ref:gsub("^[%w-]+:", ""):gsub("^//", ""):gsub("^%[[^%]]*%]", "")
  name = name:gsub("[@:][^/]*$", ""):match("([^/]+)/*$") or ""
  name = name:gsub("%.tar$", ""):gsub("[^%w.-]", "-"):sub(1, 63)
  return name ~= "" and name or "image"
end

local function list(t)
  return type(t) == "table" and t or {}
end

-- A command list of the image's config (Entrypoint, Cmd): absent, or a
-- list of strings; anything else is refused, naming the field.
local function words(img, field)
  local value = (img.config or {})[field]
  if value == nil then return {} end
  local ok, count = type(value) == "table", 0
  for _, w in pairs(ok and value or {}) do
    ok, count = ok and type(w) == "string", count + 1
  end
  if not ok or count ~= #value then
    error(string.format("image '%s': %s in the image's config is not a list of strings",
      img.ref, field), 0)
  end
  return value
end

-- The image's Env ("K=V" strings) as a table, with overrides on top.
local function environment(config, overrides)
  local env = {}
  for _, kv in ipairs(list(config.Env)) do
    local k, v = tostring(kv):match("^([^=]+)=(.*)$")
    if k then env[k] = v end
  end
  for k, v in pairs(overrides or {}) do env[k] = v end
  return env
end

--- A container config (nsl.container.config fields) for a pulled image:
-- command (Entrypoint, then opts.args or else Cmd), env (the image's Env
-- and opts.env), cwd (WorkingDir), user (opts.user, else User: names are
-- resolved in the image's /etc/passwd by the user step), hostname, and a
-- throwaway root: overlay = true, or { dir = opts.overlay_dir } to keep
-- the changes. Where this nsl has no overlay step the root is read-only
-- instead, so the cache is never written. Other opts fields are copied.
function M.config(img, opts)
  opts = opts or {}
  local config = img.config or {}
  local c = {}
  for k, v in pairs(opts) do c[k] = v end
  c.args, c.overlay_dir = nil, nil
  local command = {}
  for _, w in ipairs(words(img, "Entrypoint")) do command[#command + 1] = w end
  local rest = (opts.args and #opts.args > 0) and opts.args or words(img, "Cmd")
  for _, w in ipairs(rest) do command[#command + 1] = w end
  if #command == 0 then
    error(string.format("image '%s' has no Entrypoint or Cmd: give a command " ..
      "(nsl run image.lua %s COMMAND [ARGS...])", img.ref, img.ref), 0)
  end
  c.rootfs, c.command = img.rootfs, command
  c.env = environment(config, opts.env)
  local workdir = type(config.WorkingDir) == "string" and config.WorkingDir ~= "" and config.WorkingDir
  c.cwd = opts.cwd or workdir or nil
  c.hostname = opts.hostname or hostname_of(img.ref)
  local user = opts.user
  if user == nil and type(config.User) == "string" and config.User ~= "" then
    local ok, parsed = pcall(identity.parse_user, config.User)
    if not ok then
      error(string.format("image '%s': User '%s' in the image's config: %s", img.ref,
        config.User, tostring(parsed):gsub("^[^:]*:%d+: ", "")), 0)
    end
    user = parsed
  elseif type(user) == "string" then
    user = identity.parse_user(user)
  end
  c.user = user
  if user and (user.uid ~= 0 and user.uid ~= "root") then
    local missing = M.subids_missing(string.format(opts.user and "user '%s'" or
      "user '%s' of the image", tostring(user.uid)))
    if missing then error("image: " .. missing, 0) end
  end
  if require("nsl.container").step.overlay_root then
    c.overlay = opts.overlay or (opts.overlay_dir and { dir = opts.overlay_dir }) or true
  elseif opts.overlay_dir then
    error("image: --overlay-dir needs the overlay root (container.step.overlay_root), " ..
      "which this nsl does not have", 0)
  else
    -- no throwaway root here: the cache must not be written all the same
    c.readonly = true
  end
  return c
end

return M
