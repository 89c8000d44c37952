-- spec/oci_harness.lua: what the nsl oci specs share. A spec file calls
-- H.setup() and H.teardown() from its own setup and teardown, then builds
-- bundles with H.bundle(H.config(fn)) and runs runc's command line with
-- H.oci(args) against a state directory of its own.
local helper = require "helper"
local core = require "nsl.core"
local json = require "dkjson"
local cgroup = require "nsl.cgroup"

local q = helper.quote
local H = { cgroup_of = {} } -- bundle directory -> its container's cgroup path

-- The config of `nsl oci spec` (no terminal), changed by fn.
function H.config(fn)
  local r = helper.sh(string.format("cd %s && rm -f config.json && %s oci spec && cat config.json",
    q(H.tmp), q(helper.nsl)))
  assert(r.code == 0, r.err)
  local spec = json.decode(r.out)
  spec.root.path = H.ROOTFS
  spec.root.readonly = false
  spec.process.terminal = false
  spec.hostname = "box"
  if fn then fn(spec) end
  return spec
end

local count = 0
-- A bundle directory with config.json for spec; returns its path. Its
-- cgroup is below this file's own (the default, nsl-oci/ID, is shared by
-- every run on a host).
function H.bundle(spec)
  count = count + 1
  local dir = string.format("%s/bundle%d", H.tmp, count)
  if spec.linux and spec.linux.cgroupsPath == nil then
    spec.linux.cgroupsPath = string.format("%s/b%d", H.CGROUP, count)
  end
  H.cgroup_of[dir] = spec.linux and spec.linux.cgroupsPath
  assert(os.execute("mkdir -p " .. q(dir)))
  helper.write(dir .. "/config.json", json.encode(spec))
  return dir
end

-- The shell command line of `nsl oci ARGS` with this file's state directory.
function H.cmd(args)
  return string.format("%s oci --root %s %s", q(helper.nsl), q(H.STATE), args)
end

function H.oci(args, input)
  return helper.sh(H.cmd(args), input)
end

function H.state(id)
  local r = H.oci("state " .. id)
  return r.code == 0 and json.decode(r.out) or nil, r
end

-- Reap the container process (this process is its subreaper) once it
-- ended; true when it did within seconds.
function H.reap(pid, seconds)
  local deadline = core.monotime() + (seconds or 5)
  while core.monotime() < deadline do
    local got = core.wait(pid, "nohang")
    if got == pid then return true end
    if not got then return false end -- not this process's to reap
    core.poll({}, 10)
  end
  return false
end

-- `nsl oci run` of a bundle whose process runs sh -c script (fn changes
-- the config further); returns helper.sh's table.
function H.run(id, script, fn)
  local dir = H.bundle(H.config(function(s)
    s.process.args = { "sh", "-c", script }
    if fn then fn(s) end
  end))
  return H.oci("run --bundle " .. q(dir) .. " " .. id)
end

-- Create and start a container running sh -c script; returns its pid and
-- its bundle directory.
function H.started(id, script, fn)
  local dir = H.bundle(H.config(function(s)
    s.process.args = { "sh", "-c", script }
    if fn then fn(s) end
  end))
  -- the container keeps the stdout it is given: not helper.sh's pipe
  local r = helper.sh(H.cmd("create --bundle " .. q(dir) .. " " .. id) .. " > /dev/null")
  assert(r.code == 0, r.err)
  local st = assert(H.state(id))
  r = H.oci("start " .. id)
  assert(r.code == 0, r.err)
  return st.pid, dir
end

-- Create id from bundle dir with a terminal over a console socket, start
-- it and read the pty master until the process ends; returns what it
-- printed. nsl(args) runs nsl oci (default: as root).
function H.console_of(id, dir, nsl)
  nsl = nsl or function(args) return helper.sh(H.cmd(args)) end
  local sock_path = H.tmp .. "/" .. id .. ".sock"
  local listener = assert(core.unix_listen(sock_path))
  assert(core.chmod(sock_path, "0777")) -- uid 65534 connects too
  local pid
  local ok, out = pcall(function()
    local r = nsl("create --console-socket " .. q(sock_path) .. " --bundle " .. q(dir) .. " " ..
      id .. " > /dev/null")
    assert(r.code == 0, r.err)
    pid = json.decode(nsl("state " .. id).out).pid
    local conn = assert(core.accept(listener))
    local master = assert(core.recv_fd(conn))
    conn:close()
    assert(nsl("start " .. id).code == 0, "start " .. id)
    local text = ""
    while not text:find("end\r?\n") do -- the whole last line
      local ready = core.poll({ master }, 5000)
      if not ready[1] then break end
      local s = master:read(256)
      if not s or s == "" then break end
      text = text .. s
    end
    master:close()
    return (text:gsub("\r", ""))
  end)
  listener:close()
  nsl("delete --force " .. id)
  if pid then H.reap(pid) end
  if not ok then error(out, 0) end
  return out
end

function H.finish(id, pid)
  H.oci("delete --force " .. id)
  if pid then H.reap(pid) end
end

-- A temp dir with a busybox root and a state directory; this process
-- becomes the containers' subreaper.
function H.setup()
  H.tmp = helper.tmpdir()
  H.ROOTFS = H.tmp .. "/rootfs"
  H.STATE = H.tmp .. "/state"
  H.CGROUP = "nsl-spec/oci-" .. H.tmp:match("[^.]+$")
  local r = helper.sh(q(helper.nsl) .. " -e " ..
    q(string.format("require('nsl').rootfs.busybox(%q)", H.ROOTFS)))
  assert(r.code == 0, r.err)
  -- containers outlive `nsl oci create`: this process reaps them, as
  -- conmon and containerd's shim do
  core.child_subreaper(true)
end

function H.teardown()
  -- the containers a failed test left (before its finally was set): ended
  -- and deleted with their cgroups, which would keep the parent's
  for _, id in ipairs(core.readdir(H.STATE) or {}) do
    local st = H.state(id)
    H.finish(id, st and st.pid ~= 0 and st.pid or nil)
  end
  core.child_subreaper(false)
  helper.rmtree(H.tmp)
  -- the containers' cgroups went with them: their parent goes too
  local parent = cgroup.open(H.CGROUP)
  if parent then parent:remove() end
end

return H
