-- nsl.container: the standard container setup, as small named steps over
-- one config table.
--
--   local container = require "nsl.container"
--   local c = container.config{ rootfs = "/srv/box", command = { "/bin/sh" } }
--   os.exit(container.main(c))
--
-- The order is early Docker libcontainer's, with the tutorial's pivot_root:
-- propagation, bind_rootfs (overlay_root for a throwaway root), mount_system,
-- devices, links, sysfs (mounted last: see mount_system), console,
-- network_files (a network's /etc files), workdir,
-- readonly (last, so that the mount targets and the working directory are
-- made first, as runc does), enter_root, nsl.identity's readonly_paths and
-- masked_paths, root_propagation (the root's own, when not the default),
-- then the privileges (nsl.identity's rlimits, capabilities, user,
-- no_new_privs) and the seccomp filter last; then the command is executed
-- (under a tiny init by default). Every step is a plain function in
-- container.step; c.steps lists what runs, so a script can drop, reorder
-- or replace steps, and c.mounts, c.devices and c.links are data.
-- Every path a step touches in the root goes through a root handle
-- (nsl.root_open), so a symlink in the image never leads to the host.
local core = require "nsl.core"
local userns = require "nsl.userns"
local identity = require "nsl.identity"
local errors = require "nsl.errors"
local util = require "nsl.util"

local M = {}

--- The system mounts, in order: source, target (inside the root), fstype,
-- mount(8) flag words, data. gid=5 is dropped when gid 5 is not mapped.
-- sysfs is read-only, as Docker and runc mount it (/sys/power/state,
-- /sys/kernel/mm are the host's), and last, as runc has it: it shows the
-- network namespace it is mounted in, which the setup may still be waiting
-- for (see join_network).
M.mounts = {
  { source = "proc", target = "/proc", fstype = "proc", flags = "nosuid nodev noexec" },
  { source = "tmpfs", target = "/dev", fstype = "tmpfs", flags = "nosuid strictatime",
    data = "mode=755" },
  { source = "shm", target = "/dev/shm", fstype = "tmpfs", flags = "nosuid nodev noexec",
    data = "mode=1777" },
  { source = "devpts", target = "/dev/pts", fstype = "devpts", flags = "nosuid noexec",
    data = "newinstance,ptmxmode=0666,mode=620,gid=5" },
  { source = "tmpfs", target = "/run", fstype = "tmpfs", flags = "nosuid nodev strictatime",
    data = "mode=755" },
  { source = "sysfs", target = "/sys", fstype = "sysfs", flags = "rdonly nosuid nodev noexec" },
}

--- The device nodes made in /dev: name, major, minor (character devices,
-- mode 0666). In a user namespace mknod is refused: the host's nodes are
-- bind-mounted instead.
M.devices = {
  { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
  { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
}

--- The symlinks made in /dev: { target, link }.
M.links = {
  { "pts/ptmx", "/dev/ptmx" },
  { "/proc/self/fd", "/dev/fd" },
  { "/proc/self/fd/0", "/dev/stdin" },
  { "/proc/self/fd/1", "/dev/stdout" },
  { "/proc/self/fd/2", "/dev/stderr" },
  { "/proc/kcore", "/dev/core" },
}

--- The steps of the standard setup, in order (names in container.step).
-- readonly_paths, masked_paths, rlimits, capabilities, user and
-- no_new_privs are nsl.identity's (the privileges); seccomp is nsl.seccomp's,
-- last, so that the init and the command are both filtered.
M.steps = { "propagation", "bind_rootfs", "mount_system", "devices", "links", "sysfs",
  "console", "network_files", "workdir", "readonly", "enter_root", "readonly_paths", "masked_paths",
  "root_propagation", "loopback", "hostname", "umask", "chdir", "rlimits", "capabilities",
  "user", "no_new_privs", "seccomp" }

--- The namespaces a container gets (plus "user" where one is used).
M.namespaces = { "mnt", "pid", "uts", "ipc", "net" }

--- The steps that may run before the container is in its network
-- namespace, when that is made beside the setup (c.netns_later, see
-- join_network): none of them looks at the network. The setup joins the
-- namespace before any other step (a script's own function too), and
-- mount_system before a sysfs mount.
M.before_network = { propagation = true, bind_rootfs = true, overlay_root = true,
  mount_system = true, devices = true, links = true, console = true, network_files = true,
  workdir = true, readonly = true, enter_root = true, readonly_paths = true,
  masked_paths = true, root_propagation = true }

--- Join the network namespace made beside the setup (c.netns_job, from
-- core.netns_prepare), if it is not joined yet; raises when it could not
-- be made. Every container process is in it before its command runs.
function M.join_network(c)
  local job = c.netns_job
  if not job or c.netns_joined then return end
  c.netns_joined = true
  M.check("network namespace", job:enter())
end

--- The environment a command starts with (HOSTNAME and TERM are added).
M.env = {
  PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  HOME = "/root",
}

local copy, has_word, contains = util.copy, util.has_word, util.contains

-- The root's propagation unless c.propagation says otherwise: the host's
-- mounts still reach the container, nothing goes back.
local DEFAULT_PROPAGATION = "rec slave"

--- The kernel's known traps (nsl.errors.hints): a failed call whose
-- message matches `call` with errno `errno` gets `hint` on a line of its own.
M.hints = errors.hints

--- A failed call's message with its errno name, and a hint for a known
-- trap (nsl.errors.explain).
M.explain = errors.explain

--- Raise "setup step 'NAME': MESSAGE (ERRNO)" when a core call failed
-- (nsl.errors.check).
M.check = errors.check
local check = M.check

--- The mount options of the mount at path, from /proc/self/mountinfo.
function M.mount_options(path)
  local found
  for line in io.lines("/proc/self/mountinfo") do
    local target, options = line:match("^%S+ %S+ %S+ %S+ (%S+) (%S+)")
    if target == path then found = options end -- the last one is on top
  end
  return found
end

--- The container's root as a handle (nsl.root_open): every path a step
-- creates, opens or mounts onto is resolved inside it, so a symlink in the
-- image never sends a mount, a node or a link to the host. Opened on first
-- use, once the root is a mount of this namespace: the kernel attaches
-- nothing to a handle opened in the host's.
local function root_of(c)
  if not c.root then c.root = check("root", core.root_open(c.rootfs)) end
  return c.root
end
M.root_of = root_of

-- Bind the host's source onto path inside the root (made to match: a file
-- or a directory); words like rdonly are set on the copy before it is
-- attached, keeping the flags the kernel locked in a user namespace.
-- A source this process may not reach (EACCES: a user namespace's root
-- below a 0700 directory) is bound from one of c.trees[key], copies
-- (nsl.open_tree) made by a process that can, one for each bind (an
-- attached tree would move); refused where c.unlocked_trees[key] says
-- what the container could lift on them (key: M.tree_key). path is in
-- root (default the container's root: root_of).
--- The key of a bind's tree in c.trees: source and whether flags bind it
-- recursively (rbind), which makes another tree.
function M.tree_key(source, flags)
  return (has_word(flags, "rbind") and "rbind " or "bind ") .. source
end

-- The names of path, in order.
local function names(path)
  local list = {}
  for name in path:gmatch("[^/]+") do list[#list + 1] = name end
  return list
end

-- path with the symlinks on its way, its last name's too, followed inside
-- the root as if it were / (runc and crun bind onto a link's target,
-- /etc/localtime -> ../usr/share/zoneinfo/...). The walk stops at the first
-- name that does not exist: the rest is made later, in the root. A loop
-- gives path back as it is, for the root's own lookup to refuse.
local function follow_in_root(root, path)
  local done, todo, i, hops = {}, names(path), 1, 0
  while i <= #todo do
    local name = todo[i]
    if name == ".." then
      done[#done] = nil
    elseif name ~= "." then
      local here = "/" .. table.concat(done, "/") .. (#done > 0 and "/" or "") .. name
      local st = root:lstat(here)
      if not st then
        table.move(todo, i, #todo, #done + 1, done)
        break
      elseif st.type == "link" then
        hops = hops + 1
        local target = hops <= 40 and root:readlink(here)
        if not target then return path end
        if target:sub(1, 1) == "/" then done = {} end
        todo = table.move(todo, i + 1, #todo, #names(target) + 1, names(target))
        i = 0
      else
        done[#done + 1] = name
      end
    end
    i = i + 1
  end
  return "/" .. table.concat(done, "/")
end

-- Make an empty file at path in root to bind a file onto, with its
-- directories (a volume's target may be new to the image). touch does not
-- follow a link at the end: then the link is followed inside the root and
-- the file made at its target. Returns the path the file is at.
local function touch_in_root(step, root, path)
  local function touch(at)
    local dir = at:match("^(.+)/[^/]+$")
    if dir then check(step, root:mkdir_all(dir)) end
    return root:touch(at)
  end
  local ok, err, errno = touch(path)
  if not ok and errno == core.errno.ELOOP then
    path = follow_in_root(root, path)
    ok, err, errno = touch(path)
  end
  check(step, ok, err, errno)
  return path
end

local function bind_in_root(step, c, source, path, flags, root)
  root = root or root_of(c)
  local st, _, errno = core.stat(source)
  local key = M.tree_key(source, flags)
  local trees = c.trees and c.trees[key]
  local tree
  if not st and errno == core.errno.EACCES and trees and #trees > 0 then
    local unlocked = c.unlocked_trees and c.unlocked_trees[key]
    if unlocked then
      check(step, nil, string.format("bind of %s: the container's root cannot reach it and " ..
        "the caller's copy of its tree is not locked by a user namespace copy: %s, which " ..
        "the container could lift", source, unlocked), errno)
    end
    tree = table.remove(trees, 1)
    source = tree
    st = core.stat(tree)
  end
  if st and st.type ~= "dir" then
    path = touch_in_root(step, root, path)
  else
    -- the walk follows a link inside the root, and makes what is missing
    check(step, root:mkdir_all(path))
  end
  local words = {}
  for w in tostring(flags or ""):gmatch("[^%s,|]+") do
    if w ~= "bind" then words[#words + 1] = w end
  end
  check(step, root:bind_on(path, source, table.concat(words, " ")))
  if tree then tree:close() end
end

-- Is gid mapped inside the container (always, without a user namespace)?
local function gid_mapped(c, gid)
  return not c.userns or userns.maps(c.gid_map, gid)
end

---------------------------------------------------------------------------
-- the steps: each takes the config and raises with its name on failure

M.step = {}

--- Make / recursively slave, so that nothing mounted in the container
-- propagates back to the host. Another c.propagation is the container
-- root's, set by step root_propagation: pivot_root refuses a shared root,
-- a bind refuses an unbindable source, and a private or slave / alone
-- would leave the mount under it that holds the root shared with the host,
-- the root's bind then a mount on the host.
function M.step.propagation()
  check("propagation", core.mount(nil, "/", nil, "rec slave"))
end

--- Bind the root onto itself (recursively): pivot_root needs a mount point.
function M.step.bind_rootfs(c)
  check("bind_rootfs", core.mount(c.rootfs, c.rootfs, nil, "rbind"))
end

-- "/proc/self/fd/N": a path the kernel resolves to what fd N is open on,
-- for the overlay's layers, which are named by path: the directory opened
-- is the one used, whatever its path names by then.
local function fd_path(handle, sub)
  return string.format("/proc/self/fd/%d%s", handle:fd(), sub or "")
end

-- The real path of dir's nearest existing ancestor (the setup's working
-- directory, c.rootfs, is restored).
local function real_ancestor(c, dir)
  while dir ~= "" and not core.chdir(dir) do dir = dir:match("^(.*)/[^/]*$") end
  local real = dir == "" and "/" or check("overlay_root", core.getcwd())
  check("overlay_root", core.chdir(c.rootfs))
  return real
end

-- Raise unless dir (absolute) is outside c.rootfs (real, absolute), its
-- symlinks followed as far as it exists.
local function refuse_dir_in_root(c, dir)
  local real = real_ancestor(c, dir)
  for _, path in ipairs { dir, real } do
    if path == c.rootfs or path:sub(1, #c.rootfs + 1) == c.rootfs .. "/" then
      error(string.format("setup step 'overlay_root': overlay dir '%s' is in the root '%s', " ..
        "which an overlay leaves as it is: put it elsewhere (EINVAL)", dir, c.rootfs), 0)
    end
  end
end

-- Where the overlay keeps its changes: a fresh tmpfs over the root's path
-- (c.overlay == true; the lower layer is opened before it is covered) or
-- the caller's DIR (c.overlay.dir), with upper and work made in it. A
-- root handle on it, to write only there.
local function overlay_state(c)
  if c.overlay == true then
    check("overlay_root", core.mount("tmpfs", c.rootfs, "tmpfs", "nosuid nodev", "mode=755"))
    local state = check("overlay_root", core.root_open(c.rootfs))
    check("overlay_root", state:mkdir_all("/upper"))
    check("overlay_root", state:mkdir_all("/work"))
    return state
  end
  -- the caller's directory, made (with upper and work) as the caller asked,
  -- but never in the root, which the overlay is there to leave alone
  refuse_dir_in_root(c, c.overlay.dir)
  local rootfs = require "nsl.rootfs"
  for _, sub in ipairs { "/upper", "/work" } do
    check("overlay_root", rootfs.mkdir_all(c.overlay.dir .. sub))
  end
  return check("overlay_root", core.root_open(c.overlay.dir))
end

-- The kernel's reason when an overlay mount fails where it could work.
local function overlay_hint(errno)
  if errno == core.errno.EPERM or errno == core.errno.EINVAL then
    return "\n  hint: an overlay in a user namespace needs Linux 5.11 or later, and its " ..
      "upper and work directories on one filesystem that supports them " ..
      "(tmpfs, ext4, xfs, btrfs; not another overlay or NFS)"
  end
  return ""
end

--- Replaces bind_rootfs when c.overlay is set: the root becomes an overlay
-- mounted by nsl, whose lower layer is c.rootfs (never written: changes go
-- to a tmpfs, or to c.overlay.dir's upper directory, kept).
function M.step.overlay_root(c)
  local lower = check("overlay_root", core.root_open(c.rootfs))
  local state = overlay_state(c)
  local data = string.format("lowerdir=%s,upperdir=%s,workdir=%s",
    fd_path(lower), fd_path(state, "/upper"), fd_path(state, "/work"))
  local ok, err, errno = core.mount("overlay", c.rootfs, "overlay", "", data)
  lower:close()
  state:close()
  if not ok then
    error(string.format("setup step 'overlay_root': %s%s", M.explain(err, errno),
      overlay_hint(errno)), 0)
  end
  -- the root's path now leads to the overlay (root_of opens it there)
  local fstype = core.fs_type(c.rootfs)
  if fstype ~= "overlay" then
    error(string.format("setup step 'overlay_root': '%s' is %s after the overlay mount, " ..
      "not the overlay (EXDEV)", c.rootfs, tostring(fstype)), 0)
  end
end

--- Remount the root read-only when c.readonly: after the mounts, nodes,
-- links and the working directory were made in it.
function M.step.readonly(c)
  if not c.readonly then return end
  check("readonly", root_of(c):remount("/", "rdonly"))
end

-- The filesystems whose target must be a real directory of the image:
-- through a symlink (proc -> dev/procl) procfs would land where the later
-- steps do not look for it, unmasked (runc since CVE-2019-19921).
local NO_SYMLINK = { proc = true, sysfs = true }

-- Refuse a symlink at path or at any directory on the way to it.
local function refuse_symlinks(root, path)
  local prefix = ""
  for name in path:gmatch("[^/]+") do
    prefix = prefix .. "/" .. name
    local st = root:lstat(prefix)
    if st and st.type == "link" then
      error(string.format("setup step 'mount_system': '%s' in the root is a symlink " ..
        "(to '%s'): %s is mounted on a real directory only (ELOOP)", prefix,
        tostring(root:readlink(prefix)), path), 0)
    end
  end
end

-- One entry of c.mounts, inside the root; the root handle checks that
-- what got mounted is what was asked for (a fake /proc is refused).
local function mount_entry(c, m)
  local root = root_of(c)
  if m.remount then -- flags on a mount made before (a tmpfs, read-only once binds are in it)
    check("mount_system", root:remount(m.target, m.remount))
    return
  end
  if NO_SYMLINK[m.fstype] or m.source == "/sys" then refuse_symlinks(root, m.target) end
  if has_word(m.flags, "bind") or has_word(m.flags, "rbind") then
    bind_in_root("mount_system", c, m.source, m.target, m.flags)
    -- read-write below (m.rw_below), read-only on top only (m.readonly_top)
    if m.rw_below then check("mount_system", root:remount(m.target, "rec", "rdonly")) end
    if m.readonly_top then check("mount_system", root:remount(m.target, "rdonly")) end
    return
  end
  -- the target is made only when missing: an image has most of them
  local ok, err, errno = root:mount_on(m.target, m.source, m.fstype, m.flags, m.data)
  if not ok and errno == core.errno.ENOENT then
    check("mount_system", root:mkdir_all(m.target))
    ok, err, errno = root:mount_on(m.target, m.source, m.fstype, m.flags, m.data)
  end
  check("mount_system", ok, err, errno)
end

-- Is the step name in c.steps after the one running (mount_system)?
local function step_later(c, name)
  local after
  for _, step in ipairs(c.steps) do
    if step == "mount_system" then after = true elseif after and step == name then return true end
  end
  return false
end

-- May the sysfs entry m (the last of c.mounts) wait for the step sysfs?
-- Only while the network namespace is still being made, and when nothing
-- made before that step goes below its target: the nodes are in /dev, and
-- no link is under it.
local function sysfs_can_wait(c, m)
  if not c.netns_job or c.netns_joined or not step_later(c, "sysfs") then return false end
  local below = m.target:gsub("/*$", "") .. "/"
  for _, link in ipairs(c.links or {}) do
    if (link[2] .. "/"):sub(1, #below) == below then return false end
  end
  return true
end

--- Mount c.mounts in order (proc, /dev, /dev/shm, /dev/pts, /run, sysfs by
-- default). sysfs shows the network namespace it is mounted in: it waits
-- for the container's. While that is still being made (c.netns_job), a
-- last sysfs entry is left to the step sysfs, after the nodes and links.
-- Entries with the bind or rbind flag bind a host path; such an
-- entry's readonly_top makes only its top mount read-only after the bind
-- (flag rdonly: every mount of an rbind), rw_below clears read-only on all.
-- An entry { target =, remount = flags } sets flags on the mount made there.
function M.step.mount_system(c)
  for i, m in ipairs(c.mounts) do
    if m.fstype == "sysfs" and c.userns and not contains(c.namespaces, "net") then
      -- sysfs may only be mounted by the owner of the network namespace
      -- (sysfs_mount): without a net namespace, bind the host's read-only
      m = { source = "/sys", target = m.target, flags = "rbind rdonly nosuid nodev noexec" }
    elseif m.fstype == "sysfs" and i == #c.mounts and sysfs_can_wait(c, m) then
      c.sysfs_later = m -- for the step sysfs, once the namespace is there
      return
    elseif m.fstype == "sysfs" then
      M.join_network(c) -- its /sys/class/net is the namespace it is made in
    elseif m.fstype == "devpts" and m.data and not gid_mapped(c, 5) then
      -- devpts refuses (EINVAL) a gid that is not mapped in its user namespace
      m = copy(m)
      m.data = m.data:gsub(",?gid=5", "")
    end
    mount_entry(c, m)
  end
end

--- Mount the sysfs that mount_system left for later (c.sysfs_later), in
-- the container's network namespace: the namespace is made beside the
-- setup, and the nodes and links go first meanwhile.
function M.step.sysfs(c)
  local m = c.sysfs_later
  if not m then return end
  c.sysfs_later = nil
  M.join_network(c)
  mount_entry(c, m)
end

-- Is the directory path is in on a filesystem made for the container (its
-- /dev tmpfs, its root)? A host directory bound there (a host /dev given as
-- a volume, the working directory) is the host's: the steps leave it as it
-- is, as runc leaves a bound /dev (the root handle refuses writes there
-- anyway, EXDEV). seen (dir -> answer) keeps the answers of one step:
-- its nodes and links are all in /dev, and nothing else mounts meanwhile.
local function in_own_dir(step, c, path, seen)
  local dir = path:match("^(.*)/[^/]*$")
  dir = dir == "" and "/" or dir
  if seen[dir] ~= nil then return seen[dir] end
  local own, err, errno = root_of(c):owns(dir)
  if own == nil then check(step, own, err, errno) end
  seen[dir] = own
  return own
end

-- The directories of one step's nodes and links as root handles
-- (root:subroot), dir -> handle, closed with the table (a <close> local):
-- /dev is resolved once for the step, not again for every node and link
-- (the step mounts nothing meanwhile).
local function dir_roots()
  return setmetatable({}, { __close = function(dirs)
    for _, d in pairs(dirs) do d:close() end
  end })
end

-- The handle to make path in and path's last name in it: root itself for
-- a name in the root, else the handle of path's directory from dirs.
local function in_dir(step, root, path, dirs)
  local dir, name = path:match("^(.*)/([^/]+)$")
  if not dir or dir == "" then return root, path end
  if not dirs[dir] then dirs[dir] = check(step, root:subroot(dir)) end
  return dirs[dir], name
end

--- Create c.devices in /dev: mknod as real root, a bind of the host's node
-- inside a user namespace (where mknod is refused; c.bind_devices when
-- nsl itself runs in one, as under rootless podman). Nothing is made in a
-- /dev that is a host directory bound in.
function M.step.devices(c)
  local root, seen = root_of(c), {}
  local dirs <close> = dir_roots()
  local bind = c.userns or c.bind_devices
  -- the modes as given (0666): umask 0 for the nodes, restored after
  local old = not bind and core.umask(0)
  for _, d in ipairs(c.devices) do
    local name, major, minor = d[1], d[2], d[3]
    local path = "/dev/" .. name
    -- a host /dev bound in: its nodes are the host's, left as they are
    if in_own_dir("devices", c, path, seen) then
      if bind then
        local at, at_name = in_dir("devices", root, path, dirs)
        bind_in_root("devices", c, path, at_name, nil, at)
      else
        local at, at_name = in_dir("devices", root, path, dirs)
        local ok, err, errno = at:mknod(at_name, "char", "0666", major, minor)
        if not ok and errno ~= core.errno.EEXIST then
          core.umask(old)
          check("devices", ok, err, errno)
        end
      end
    end
  end
  if old then core.umask(old) end
end

--- Create c.links in /dev (replacing what the image has there), in a /dev
-- made for the container only: a host /dev bound in keeps its own.
function M.step.links(c)
  local root, seen = root_of(c), {}
  local dirs <close> = dir_roots()
  for _, l in ipairs(c.links) do
    if in_own_dir("links", c, l[2], seen) then
      local at, name = in_dir("links", root, l[2], dirs)
      local ok, err, errno = at:symlink(l[1], name)
      if not ok and errno == core.errno.EEXIST then
        check("links", at:unlink(name))
        ok, err, errno = at:symlink(l[1], name)
      end
      check("links", ok, err, errno)
    end
  end
end

--- Bind c.console (a tty; the container's pty when it has one) onto
-- /dev/console.
function M.step.console(c)
  if not c.console then return end
  bind_in_root("console", c, c.console, "/dev/console")
end

--- Make the working directory c.cwd inside the root when c.make_cwd and
-- it is missing (docker's -w): through the root handle, so never on a host
-- path bound in (EXDEV).
function M.step.workdir(c)
  if not c.make_cwd then return end
  local root = root_of(c)
  if root:stat(c.cwd) then return end
  check("workdir", root:mkdir_all(c.cwd))
end

-- Is path the target of one of c.mounts (a user's own bind)?
local function mounted_by_user(c, path)
  for _, m in ipairs(c.mounts) do
    if m.target == path then return true end
  end
  return false
end



--- The container's /etc/resolv.conf, /etc/hosts and /etc/hostname for a
-- network other than "none": written by the parent (nsl.net.files) into
-- a pipe, made here on the container's own /run tmpfs (/run/nsl) and
-- bound onto the image's files, which are never written. A file the user
-- binds in c.mounts wins; an image without the file gets none.
function M.step.network_files(c)
  if not c.network_fd then return end
  local text = util.read_fd(c.network_fd) or ""
  c.network_fd:close()
  c.network_fd = nil
  local files = (load(text, "=network files", "t", {}) or error)()
  local root = root_of(c)
  check("network_files", root:mkdir_all("/run/nsl"))
  for _, name in ipairs { "hostname", "hosts", "resolv.conf" } do
    local target = "/etc/" .. name
    if not mounted_by_user(c, target) and root:stat(target) then
      local source = "/run/nsl/" .. name
      local f = check("network_files", root:open(source, "wronly creat trunc", "0644"))
      check("network_files", f:write(files[name]))
      f:close()
      -- the host path of the file is the container's own: bound through
      -- an fd, so no symlink of the image's /run can lead elsewhere
      local fd <close> = check("network_files", root:open(source, "rdonly"))
      check("network_files", root:bind_on(target, "/proc/self/fd/" .. fd:fileno(), "rdonly"))
    end
  end
end

-- Before MS_MOVE + chroot, which leave the host's mounts in the mount
-- namespace: while a host procfs or sysfs there is fully visible, the
-- kernel lets the container mount a fresh, unmasked one (see
-- mnt_already_visible in fs/namespace.c). Detach each outside the root (a
-- slave first, so nothing propagates back), or cover one that cannot be
-- detached (locked in a user namespace) with a tmpfs: runc's msMoveRoot.
local function hide_host_proc(c)
  local mounts, err = require("nsl.inspect").mountinfo()
  if not mounts then check("enter_root", nil, err) end
  local prefix = c.rootfs:gsub("/$", "") .. "/"
  for _, m in ipairs(mounts) do
    local inside = m.target == c.rootfs or m.target:sub(1, #prefix) == prefix
    if (m.fstype == "proc" or m.fstype == "sysfs") and m.root == "/" and not inside then
      local ok, serr, errno = core.mount(nil, m.target, nil, "rec slave")
      -- ENOENT: gone with a parent detached before it
      if not ok and errno ~= core.errno.ENOENT then check("enter_root", ok, serr, errno) end
      if ok then
        ok, serr, errno = core.umount(m.target, "detach")
        if not ok and (errno == core.errno.EINVAL or errno == core.errno.EPERM) then
          ok, serr, errno = core.mount("tmpfs", m.target, "tmpfs", "rdonly nosuid nodev noexec")
        end
        check("enter_root", ok, serr, errno)
      end
    end
  end
end

--- Make the root the container's /: pivot_root and detach the old root,
-- or (c.pivot == false) MS_MOVE + chroot, for roots pivot_root refuses
-- (an initramfs), with the host's procfs and sysfs detached first.
function M.step.enter_root(c)
  -- into the root through the handle when there is one: the path could
  -- have been replaced since
  check("enter_root", core.chdir(c.root and c.root:fd() or c.rootfs))
  if c.root then
    c.root:close()
    c.root = nil
  end
  if c.pivot then
    -- pivot_root(".", ".") stacks the old root on the new one, so no
    -- directory is needed for it, even in a read-only root: see the NOTES
    -- of pivot_root(2)
    check("enter_root", core.pivot_root(".", "."))
    check("enter_root", core.umount(".", "detach"))
  else
    hide_host_proc(c)
    check("enter_root", core.mount(c.rootfs, "/", nil, "move"))
    check("enter_root", core.chroot("."))
  end
  check("enter_root", core.chdir("/"))
end

--- Give the container's root c.propagation ("rec shared", "private",
-- "unbindable", ...), once the root's last bind is made.
function M.step.root_propagation(c)
  if c.propagation ~= DEFAULT_PROPAGATION then
    check("root_propagation", core.mount(nil, "/", nil, c.propagation))
  end
end

--- Bring the loopback interface up in a new network namespace (one made
-- beside the setup has its helper bring it up too: whichever comes second
-- finds it up, and leaves it so).
function M.step.loopback(c)
  if contains(c.namespaces, "net") then
    M.join_network(c)
    check("loopback", core.if_up("lo"))
  end
end

--- Set c.hostname in the container's UTS namespace.
function M.step.hostname(c)
  if c.hostname and contains(c.namespaces, "uts") then
    check("hostname", core.sethostname(c.hostname))
  end
end

--- Set the umask the command starts with (c.umask, 0022).
function M.step.umask(c)
  core.umask(c.umask)
end

--- Change to the working directory c.cwd inside the root.
function M.step.chdir(c)
  check("chdir", core.chdir(c.cwd))
  -- a directory outside the root shows as "(unreachable)/..." (a leaked
  -- directory fd, CVE-2024-21626): refuse to start there
  local cwd, err, errno = core.getcwd()
  check("chdir", cwd, err, errno)
  if cwd:sub(1, 1) ~= "/" then
    error(string.format("setup step 'chdir': working directory %s is outside the root", cwd), 0)
  end
end

-- the privilege steps (readonly_paths, masked_paths, rlimits, capabilities,
-- user, no_new_privs) live in nsl.identity
for name, fn in pairs(identity.step) do M.step[name] = fn end

--- Load the seccomp filter of c.seccomp (see nsl.seccomp), compiled or
-- found in the cache by config.
function M.step.seccomp(c)
  if c.seccomp_bpf then require("nsl.seccomp").step(c) end
end

---------------------------------------------------------------------------
-- the configuration

--- A complete config from the given fields and the defaults: rootfs
-- (required), command, env, cwd, hostname, readonly, pivot, propagation,
-- namespaces, userns (default: when not root), uid_map, gid_map, tty
-- (default: stdin is a terminal), init (default true), mounts, devices,
-- links, steps, umask, pass_fds (fds besides stdio the command gets,
-- ascending), network ("none": its own namespace with lo only, the
-- default; "host"; "bridge"; "pasta"; or a CNI config table: see nsl.net),
-- publish ({ { host_ip =, host_port =, port =, proto = } }), name
-- (recorded for `nsl ps` and `nsl enter`: nsl.running);
-- and nsl.identity's user, capabilities, ambient,
-- no_new_privs (default true), rlimits, masked_paths, readonly_paths;
-- seccomp (a policy table, "default", "unconfined" or a policy file: see
-- nsl.seccomp; default "default", Docker's profile); resources (memory,
-- pids, cpus, ... limits: see nsl.cgroup) and cgroup (its path); overlay
-- (true: a throwaway root, its changes on a tmpfs; { dir = DIR }: kept in
-- DIR/upper) and make_cwd (make cwd in the root when it is missing).
function M.config(opts)
  if opts._complete then return opts end
  local c = copy(opts)
  assert(type(c.rootfs) == "string", "container.config: rootfs (a directory) is required")
  c.command = c.command or { "/bin/sh" }
  c.cwd = c.cwd or "/"
  c.umask = c.umask or "0022"
  c.propagation = c.propagation or DEFAULT_PROPAGATION
  if c.pivot == nil then c.pivot = true end
  if c.init == nil then c.init = true end
  if c.tty == nil then c.tty = core.isatty(0) end
  c.namespaces = c.namespaces or copy(M.namespaces)
  c.network = c.network or "none"
  if c.network ~= "none" or c.publish then
    require("nsl.net").check(c)
    if c.network == "host" then
      for i, ns in ipairs(c.namespaces) do
        if ns == "net" then table.remove(c.namespaces, i) end
      end
    elseif not contains(c.namespaces, "net") then
      error(string.format("network '%s' needs a network namespace (\"net\" in namespaces)",
        type(c.network) == "table" and "cni" or c.network), 0)
    end
  end
  if c.userns == nil then c.userns = core.geteuid() ~= 0 end
  if c.userns then
    if not contains(c.namespaces, "user") then table.insert(c.namespaces, 1, "user") end
    -- an ordinary user maps itself to root (and the ranges /etc/subuid
    -- grants it to ids 1 and up); real root keeps its ids (the
    -- capabilities are the namespace's all the same)
    local uid_map, gid_map = userns.default_maps()
    if core.geteuid() == 0 then
      uid_map, gid_map = { { 0, 0, 65536 } }, { { 0, 0, 65536 } }
    end
    c.uid_map = c.uid_map or uid_map
    c.gid_map = c.gid_map or gid_map
  end
  c.mounts = c.mounts or copy(M.mounts)
  c.devices = c.devices or copy(M.devices)
  c.links = c.links or copy(M.links)
  c.steps = c.steps or copy(M.steps)
  if c.overlay ~= nil and c.overlay ~= false then
    if c.overlay ~= true and not (type(c.overlay) == "table" and type(c.overlay.dir) == "string") then
      error(string.format("container.config: overlay is true or { dir = DIR }, not %s",
        type(c.overlay) == "string" and "'" .. c.overlay .. "'" or tostring(c.overlay)), 0)
    end
    -- the caller's relative DIR, not one in the root (the setup starts there)
    if type(c.overlay) == "table" and c.overlay.dir:sub(1, 1) ~= "/" then
      c.overlay.dir = assert(core.getcwd()) .. "/" .. c.overlay.dir
    end
    -- a throwaway root instead of the bind of the directory itself
    for i, step in ipairs(c.steps) do
      if step == "bind_rootfs" then c.steps[i] = "overlay_root" end
    end
  end
  local env = copy(M.env)
  env.TERM = os.getenv("TERM") or "xterm"
  env.HOSTNAME = c.hostname
  for k, v in pairs(c.env or {}) do env[k] = v end
  c.env = env
  identity.config(c, opts)
  if c.resources then c.resources = require("nsl.cgroup").limits(c.resources) end
  -- Docker's default profile unless told otherwise, compiled (or found in
  -- the cache) here, in the parent: the cache is out of reach later
  if c.seccomp == nil then c.seccomp = "default" end
  if c.seccomp and c.seccomp ~= "unconfined" then require("nsl.seccomp").prepare(c) end
  if c.no_new_privs == false and not opts.steps then
    -- as runc does: without no_new_privs the kernel takes a filter only
    -- from a process with CAP_SYS_ADMIN, so load it before the drop
    for i, step in ipairs(c.steps) do
      if step == "seccomp" then table.remove(c.steps, i) end
    end
    for i, step in ipairs(c.steps) do
      if step == "capabilities" then
        table.insert(c.steps, i, "seccomp")
        -- the user's lookup reads files the filter may refuse (openat2)
        table.insert(c.steps, i, "resolve_user")
        break
      end
    end
  end
  c._complete = true
  return c
end

return require("nsl.container.run").attach(M)
