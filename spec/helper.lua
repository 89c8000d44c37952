-- spec/helper.lua: what the specs share.
--
-- The rules every spec keeps (see README "Tests"):
--   * never unshare, mount or pivot in the busted process itself: do it in a
--     child (helper.in_child) and assert on what the child reports;
--   * every temporary file lives under a helper.tmpdir() removed in finally;
--   * every process a spec starts is waited for.
local helper = {}

local function repo_root()
  local src = debug.getinfo(1, "S").source:sub(2)
  local dir = src:match("^(.*)/spec/[^/]*$") or "."
  local p = io.popen("cd '" .. dir .. "' && pwd")
  local abs = p:read("l")
  p:close()
  return abs
end

helper.root = repo_root()
-- NSL_BUILD picks another build directory than build/ (one per engineer).
helper.build = os.getenv("NSL_BUILD") or helper.root .. "/build"
helper.nsl = helper.build .. "/nsl"
package.cpath = helper.build .. "/lib/?.so;" .. package.cpath
local core = require "nsl.core"
helper.NOBODY = 65534

--- Quote a string for sh.
function helper.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- Read a whole file, or nil.
function helper.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

--- Write a whole file.
function helper.write(path, data)
  local f = assert(io.open(path, "wb"))
  assert(f:write(data))
  f:close()
end

--- Run a shell command; returns { code =, out =, err = }. `input` feeds
-- stdin. Every command runs under timeout(1) so that a hang fails a spec
-- instead of CI.
function helper.sh(cmd, input, seconds)
  local errf = os.tmpname()
  local inf
  if input then
    inf = os.tmpname()
    helper.write(inf, input)
  end
  -- nsl's caches (roots, compiled seccomp filters) stay in a temporary
  -- directory, not in the home of whoever runs the suite. LD_PRELOAD goes:
  -- the sanitizer suite (tools/sanitize) preloads libasan into busted's
  -- lua5.4 only; nsl links it, and ps deadlocks under it.
  local full = string.format("env -u LD_PRELOAD XDG_CACHE_HOME=%s timeout -k 5 %d sh -c %s <%s 2>%s",
    helper.quote(helper.cache()), seconds or 60, helper.quote(cmd), inf or "/dev/null", errf)
  local p = io.popen(full, "r")
  local out = p:read("a")
  local _, _, code = p:close()
  local err = helper.read(errf)
  os.remove(errf)
  if inf then os.remove(inf) end
  return { code = code, out = out, err = err }
end

local cache_dir

--- The XDG_CACHE_HOME of every command a spec runs as root: one temporary
-- directory per busted run (uid 65534 gets its own in the staged copy).
function helper.cache()
  if not cache_dir then
    cache_dir = helper.tmpdir()
    helper._uncache = setmetatable({}, { __gc = function() helper.rmtree(cache_dir) end })
  end
  return cache_dir
end

--- A fresh temporary directory (mode 0755 so that an unprivileged uid can
-- enter it); remove it with helper.rmtree in a finally.
function helper.tmpdir()
  local p = io.popen("mktemp -d /tmp/nsl-spec.XXXXXX")
  local dir = p:read("l")
  p:close()
  assert(dir and dir:match("^/tmp/nsl%-spec%."), "mktemp failed")
  assert(os.execute("chmod 0755 " .. helper.quote(dir)))
  return dir
end

--- A busybox root built at dir by the nsl under test (nsl.rootfs.busybox);
-- returns dir.
function helper.busybox_root(dir)
  local r = helper.sh(helper.quote(helper.nsl) .. " -e " ..
    helper.quote(string.format("require('nsl').rootfs.busybox(%q)", dir)))
  assert(r.code == 0, "busybox root: " .. r.err)
  return dir
end

--- Remove a directory made by helper.tmpdir (and nothing else).
function helper.rmtree(dir)
  assert(dir:match("^/tmp/nsl%-spec%.[%w]+"), "refusing to remove " .. dir)
  os.execute("rm -rf --one-file-system " .. helper.quote(dir))
end

--- Run fn in a child process made by nsl.clone(namespaces); returns
-- true, or false and the child's error message. The child never returns
-- into busted: it _exits with 0 (fn returned) or 1 (fn raised).
function helper.in_child(fn, namespaces)
  local r, w = assert(core.pipe())
  local pid = assert(core.clone(namespaces or {}))
  if pid == 0 then
    r:close()
    local ok, err = xpcall(fn, debug.traceback)
    if not ok then w:write(tostring(err)) end
    core._exit(ok and 0 or 1)
  end
  w:close()
  local chunks = {}
  repeat
    local s = assert(r:read(4096))
    chunks[#chunks + 1] = s
  until s == ""
  r:close()
  local _, how, code = assert(core.wait(pid))
  if how == "exited" and code == 0 then return true end
  local msg = table.concat(chunks)
  return false, string.format("child %s %d: %s", how, code, msg)
end

--- Assert that fn succeeds in a child (see helper.in_child).
function helper.child(fn, namespaces)
  local ok, err = helper.in_child(fn, namespaces)
  assert(ok, err)
end

local function show3(t)
  local parts = {}
  for i = 1, 3 do parts[i] = tostring(t[i]) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

--- In a child (helper.child), where luassert's output would be lost:
-- raise unless the first three values of got are want's (a result triple).
function helper.child_same(want, got)
  for i = 1, 3 do
    if want[i] ~= got[i] then
      error("expected " .. show3(want) .. ", got " .. show3(got), 2)
    end
  end
end

--- In a child: raise "what: expected X, got Y" unless want == got.
function helper.child_equal(want, got, what)
  if want ~= got then
    error(string.format("%s: expected %s, got %s", what, tostring(want), tostring(got)), 2)
  end
end

--- The sections of a probe's output: lines after "== NAME" go to s.NAME.
function helper.sections(out)
  local s, name = {}, nil
  for line in out:gmatch("[^\n]*") do
    local header = line:match("^== (%S+)$")
    if header then
      name = header
      s[name] = ""
    elseif name and line ~= "" then
      s[name] = s[name] .. line .. "\n"
    end
  end
  return s
end

--- The namespaces an ordinary user can make: a user namespace with them.
helper.USERNS = { "user", "mnt", "pid" }

--- Write maps for a child in a user namespace that map 0 to the caller.
function helper.map_self(pid, uid, gid)
  helper.write("/proc/" .. pid .. "/setgroups", "deny")
  helper.write("/proc/" .. pid .. "/uid_map", string.format("0 %d 1\n", uid))
  helper.write("/proc/" .. pid .. "/gid_map", string.format("0 %d 1\n", gid))
end

local staged

--- A world-readable copy of what an unprivileged run needs, made once per
-- busted run (the clone may sit where uid 65534 cannot enter):
--   DIR/bin/nsl, DIR/lib/nsl/core.so, DIR/lua/nsl/*.lua,
--   DIR/share/nsl/scripts/*.lua (found by bin/nsl as its bundled scripts).
function helper.stage()
  if staged then return staged end
  local dir = helper.tmpdir()
  local cmd = table.concat({
    "set -e",
    "mkdir -p %s/bin %s/lib %s/share/nsl",
    "cp %s/nsl %s/bin/nsl",
    "cp -r %s/lib/nsl %s/lib/nsl",
    "cp -r %s/lua %s/lua",
    "cp -r %s/scripts %s/share/nsl/scripts",
    "chmod -R a+rX %s",
    "mkdir %s/cache && chown 65534:65534 %s/cache",
  }, "\n")
  local d, r, b = helper.quote(dir), helper.quote(helper.root),
    helper.quote(helper.build)
  local res = helper.sh(cmd:format(d, d, d, b, d, b, d, r, d, r, d, d, d, d))
  assert(res.code == 0, "staging failed: " .. res.err)
  staged = dir
  -- removed when busted closes its Lua state at exit
  helper._unstage = setmetatable({}, { __gc = function() helper.rmtree(dir) end })
  return dir
end

--- Shell text that runs plain lua5.4 with the library from the source tree
-- and nsl.core from the build (build/lib/nsl/core.so); append the
-- arguments.
function helper.lua5_4()
  -- a sanitizer build's core.so needs its runtime preloaded, which
  -- helper.sh takes away from other commands (tools/sanitize sets it)
  local preload = os.getenv("LD_PRELOAD")
  return string.format("%sLUA_PATH=%s LUA_CPATH=%s lua5.4",
    preload and "LD_PRELOAD=" .. helper.quote(preload) .. " " or "",
    helper.quote(helper.root .. "/lua/?.lua;" .. helper.root .. "/lua/?/init.lua;;"),
    helper.quote(helper.build .. "/lib/?.so;;"))
end

--- Run a shell command as uid/gid 65534 with no supplementary groups, in the
-- staged directory, with a clean environment; returns helper.sh's table.
-- The command sees $NSL (the staged nsl binary) and $STAGE. wrap, if given,
-- turns the whole command line (run as root) into another, such as
-- helper.throwaway_dev.
function helper.unprivileged(cmd, input, seconds, wrap)
  local dir = helper.stage()
  local wrapped = string.format(
    "cd %s && exec setpriv --reuid=%d --regid=%d --clear-groups -- " ..
    "env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/nonexistent " ..
    "XDG_CACHE_HOME=" .. helper.quote(dir .. "/cache") .. " " ..
    "STAGE=%s NSL=%s/bin/nsl " ..
    "LUA_PATH=%s LUA_CPATH=%s sh -c %s",
    helper.quote(dir), helper.NOBODY, helper.NOBODY, helper.quote(dir),
    helper.quote(dir),
    helper.quote(dir .. "/lua/?.lua;" .. dir .. "/lua/?/init.lua;;"),
    helper.quote(dir .. "/lib/?.so;;"), helper.quote(cmd))
  return helper.sh(wrap and wrap(wrapped) or wrapped, input, seconds)
end

--- A wrap for helper.unprivileged: the command line runs in a private
-- mount namespace where /etc/subuid and /etc/subgid read subuid and
-- subgid (files written in dir, bound over them), so a grant for uid 65534
-- never edits the host's files.
function helper.with_subids(dir, subuid, subgid)
  helper.write(dir .. "/subuid", subuid)
  helper.write(dir .. "/subgid", subgid)
  assert(os.execute("chmod 0644 " .. helper.quote(dir .. "/subuid") .. " " ..
    helper.quote(dir .. "/subgid")))
  return function(cmd)
    return "unshare --mount --propagation private -- sh -c " .. helper.quote(string.format(
      "mount --bind %s /etc/subuid && mount --bind %s /etc/subgid && exec sh -c %s",
      helper.quote(dir .. "/subuid"), helper.quote(dir .. "/subgid"), helper.quote(cmd)))
  end
end

-- The nodes of a throwaway /dev: name, major, minor.
local THROWAWAY_NODES = { { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
  { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 } }

--- Shell text that runs the shell command cmd (as root) in a private mount
-- namespace of its own whose /dev is a throwaway tmpfs with fresh nodes
-- (mknod): code under test that should regress and write into /dev writes
-- there, never into the host's /dev.
function helper.throwaway_dev(cmd)
  local setup = { "mount -t tmpfs -o mode=755 nsl-spec-dev /dev", "mkdir /dev/pts /dev/shm" }
  for _, n in ipairs(THROWAWAY_NODES) do
    setup[#setup + 1] = string.format("mknod -m 666 /dev/%s c %d %d", n[1], n[2], n[3])
  end
  setup[#setup + 1] = "exec sh -c " .. helper.quote(cmd)
  return "unshare -m --propagation private -- sh -c " .. helper.quote(table.concat(setup, " && "))
end

--- Run Lua code as uid 65534 through the staged `nsl -e`.
function helper.unprivileged_lua(code, seconds)
  return helper.unprivileged("exec \"$NSL\" -e " .. helper.quote(code), nil,
    seconds)
end

--- The pids of processes whose command line contains text (plain), read
-- from /proc: what a spec left running.
function helper.leftovers(text)
  local pids = {}
  for _, name in ipairs(assert(core.readdir("/proc"))) do
    if name:match("^%d+$") then
      local cmdline = helper.read("/proc/" .. name .. "/cmdline")
      if cmdline and cmdline:gsub("%z", " "):find(text, 1, true) then
        pids[#pids + 1] = tonumber(name)
      end
    end
  end
  return pids
end

--- The parent cgroups the specs and the runtimes make below this
-- process's cgroup (nsl.cgroup resolves a relative path there).
helper.CGROUP_PARENTS = { "nsl", "nsl-spec", "nsl-oci", "nsl-ctr", "nsl-podman" }

-- A parent cgroup's directories in every hierarchy mounted (blkio and
-- devices too, which nsl's own cgroups leave out but podman's use).
local function parent_dirs(cg)
  local dirs, seen = {}, {}
  local function add(dir)
    if dir and not seen[dir] then dirs[#dirs + 1], seen[dir] = dir, true end
  end
  for _, dir in pairs(cg.dirs) do add(dir) end
  for controller in pairs(cg.version == 1 and cg.hierarchies.v1 or {}) do
    add(cg:v1_dir(controller))
  end
  return dirs
end

--- Which of the parent cgroups exist now (call in setup).
function helper.cgroups_present()
  local cgroup = require "nsl.cgroup"
  local present = {}
  for _, name in ipairs(helper.CGROUP_PARENTS) do
    local cg = cgroup.open(name)
    for _, dir in ipairs(cg and parent_dirs(cg) or {}) do
      if core.stat(dir) then present[name] = true end
    end
  end
  return present
end

--- Remove the parent cgroups that were not present at setup (call in
-- teardown), with the empty cgroups the runtimes left below them (podman's
-- conmon, a container's own): a run leaves the host's cgroup tree as it
-- found it. Returns the errors of what could not be removed.
function helper.remove_new_cgroups(present)
  local cgroup = require "nsl.cgroup"
  local errors = {}
  for _, name in ipairs(helper.CGROUP_PARENTS) do
    local cg = not present[name] and cgroup.open(name)
    if cg then
      -- the parent was not there at setup: all of it is this run's
      cg.made = parent_dirs(cg)
      cg.dirs = cg.made
      local ok, err = cg:remove(true)
      if not ok then errors[#errors + 1] = err end
    end
  end
  return errors
end

-- What the run found, and what it leaves: removed when busted closes its
-- Lua state. busted reloads this file for every spec file (it insulates
-- each file's package.loaded), so the first load's record is kept in the
-- registry: a later load would count the earlier files' leftovers as the
-- host's.
local registry = debug.getregistry()
if not registry.nsl_spec_uncgroup then
  local cgroups_at_start = helper.cgroups_present()
  registry.nsl_spec_uncgroup = setmetatable({}, {
    __gc = function()
      for _, err in ipairs(helper.remove_new_cgroups(cgroups_at_start)) do
        io.stderr:write("spec/helper.lua: a cgroup the run made stays: ", err, "\n")
      end
    end })
end

--- This process's mount table as text, to compare before and after.
function helper.mountinfo()
  return helper.read("/proc/self/mountinfo")
end

return helper
