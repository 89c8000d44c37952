-- nsl.oci.sdnotify: systemd's sd_notify protocol (NOTIFY_SOCKET) relayed
-- for the container, as runc and crun do. When nsl oci runs with
-- NOTIFY_SOCKET set (a Type=notify unit), the container cannot reach the
-- caller's socket: create binds a directory of the container's state,
-- ROOT/ID/notify, into the container at the caller's path (crun's layout:
-- crun's suite looks for it there) and sets the container's NOTIFY_SOCKET
-- to that path/notify; start binds a datagram socket there, lets the
-- container run and waits until it says READY=1 (or ends), then sends
-- READY=1 and MAINPID to the caller's socket (runc's two messages; the
-- first exactly crun's). Other messages (STATUS=...) are not relayed,
-- as neither peer relays them.
--
-- The directory is 0700, owned by the container process's user as the
-- host sees it: only the container's process (and root) reaches the
-- socket, no other user of the host can say READY=1 for it. It is bound
-- read-only (runc's options): the container sends to the socket but
-- cannot replace it. nsl oci writes only in its own state directory; the
-- caller's socket is only sent to.
local core = require "nsl.core"
local errors = require "nsl.errors"
local process = require "nsl.process"
local common = require "nsl.oci.common"
local fail = common.fail

local M = {}

-- sun_path's size, less its terminating NUL.
local SOCKET_PATH_MAX = 107

--- The caller's NOTIFY_SOCKET, checked: nil when unset or empty (runc
-- takes "" as unset), else an absolute path without . or .. and not the
-- root itself (it becomes a mount point in the container); raises
-- "NOTIFY_SOCKET 'PATH': ..." for another.
function M.check(path)
  if path == nil or path == "" then return nil end
  local function refuse(why) fail("NOTIFY_SOCKET '%s': %s", path, why) end
  if path:sub(1, 1) == "@" then
    refuse("an abstract socket address: nsl oci binds the container's socket in at the " ..
      "path of the caller's, so it needs a path")
  end
  if path:sub(1, 1) ~= "/" then refuse("not an absolute path") end
  local names = {}
  for name in path:gmatch("[^/]+") do
    if name == "." or name == ".." then refuse("a path with . or .. in it") end
    names[#names + 1] = name
  end
  if #names == 0 then refuse("the root: the container's socket is bound in at this path") end
  local clean = "/" .. table.concat(names, "/")
  if #clean + #"/notify" > SOCKET_PATH_MAX then
    refuse(string.format("the container's socket, %s/notify, is longer than a socket " ..
      "address takes (%d bytes)", clean, SOCKET_PATH_MAX))
  end
  return clean
end

--- The directory of the container's socket in its state directory dir.
function M.dir_of(dir) return dir .. "/notify" end

-- The host's id of id inside, through map ({ { inside, outside, count } });
-- id itself without a map, nil when map does not map it.
local function host_id(map, id)
  if not map then return id end
  for _, m in ipairs(map) do
    if id >= m[1] and id < m[1] + m[3] then return m[2] + id - m[1] end
  end
  return nil
end

-- Raise "NOTIFY_SOCKET: CALL 'PATH': message (ERRNO)" for a failed core call.
local function check(ok, err, errno)
  if not ok then fail("NOTIFY_SOCKET: %s", errors.explain(err, errno)) end
  return ok
end

--- Make the socket's directory in the state directory dir, for the
-- caller's socket at host (see M.check), and have c (a container.config)
-- bind it in there and set NOTIFY_SOCKET: create's part.
function M.prepare(c, dir, host)
  local notify_dir = M.dir_of(dir)
  if #notify_dir + #"/notify" > SOCKET_PATH_MAX then
    fail("NOTIFY_SOCKET: the container's socket %s/notify is longer than a socket address " ..
      "takes (%d bytes): give nsl oci a shorter --root", notify_dir, SOCKET_PATH_MAX)
  end
  check(core.mkdir(notify_dir, "0700"))
  -- the ids of config.json's process.user (a script's box may name a user,
  -- resolved in the container later: then the directory stays nsl oci's)
  local user = type(c.user) == "table" and c.user or { uid = 0, gid = 0 }
  local uid = math.type(user.uid) == "integer" and host_id(c.userns and c.uid_map, user.uid)
  local gid = math.type(user.gid) == "integer" and host_id(c.userns and c.gid_map, user.gid)
  -- an id the map leaves out fails the container's own user step, which says so
  if uid and gid then check(core.chown(notify_dir, uid, gid)) end
  local mounts = table.move(c.mounts, 1, #c.mounts, 1, {})
  mounts[#mounts + 1] = { source = notify_dir, target = host,
    flags = "bind rdonly nosuid nodev noexec" }
  c.mounts = mounts
  local env = {}
  for k, v in pairs(c.env or {}) do env[k] = v end
  env.NOTIFY_SOCKET = host .. "/notify"
  c.env = env
end

--- The container's socket, bound in its state directory dir: start's
-- part, before the container runs (a socket left by a start that failed
-- is replaced). Raises when the container was created without
-- NOTIFY_SOCKET (runc and crun fail there too).
function M.listen(dir, id)
  local notify_dir = M.dir_of(dir)
  local st = core.lstat(notify_dir)
  if not (st and st.type == "dir") then
    fail("NOTIFY_SOCKET is set, but container %s was created without NOTIFY_SOCKET: it has " ..
      "no socket to say READY=1 on (unset it for start, or create the container with it)", id)
  end
  local path = notify_dir .. "/notify"
  core.unlink(path)
  local sock = check(core.unix_dgram(path, "nonblock"))
  -- any user the container runs as may send; the directory says who reaches it
  local ok, err, errno = core.chmod(path, "0777")
  if not ok then
    sock:close()
    check(ok, err, errno)
  end
  return sock
end

--- Close sock (M.listen's; nil: none) and remove its file from the state
-- directory dir: nothing listens there any more.
function M.close(sock, dir)
  if not sock then return end
  sock:close()
  core.unlink(M.dir_of(dir) .. "/notify")
end

-- Does the datagram hold the line READY=1?
local function says_ready(data)
  for line in data:gmatch("[^\n]+") do
    if line == "READY=1" then return true end
  end
  return false
end

-- Send READY=1 and MAINPID=mainpid to the caller's socket at host.
local function forward(host, mainpid)
  local client = check(core.unix_dgram(nil, "nonblock"))
  for _, message in ipairs { "READY=1", "MAINPID=" .. mainpid } do
    local ok, err, errno = core.sendto(client, host, message)
    if not ok then
      client:close()
      check(ok, err, errno)
    end
  end
  client:close()
end

--- Wait on sock (M.listen's) until the container says READY=1, then send
-- READY=1 and MAINPID=mainpid to host: true. False, and nothing sent,
-- when alive() says the container ended first. Closes sock and removes
-- its file (dir: the state directory); raises when host cannot be sent to.
function M.relay(sock, dir, host, alive, mainpid)
  local function done() M.close(sock, dir) end
  while true do
    local ready = core.poll({ sock }, 100)
    if ready[1] then
      local data = sock:read(4096)
      if data and says_ready(data) then
        done()
        forward(host, mainpid)
        return true
      end
    elseif not alive() and not core.poll({ sock }, 0)[1] then
      -- ended, and nothing it sent before is left to read
      done()
      return false
    end
  end
end

--- M.relay in a child process of this one, for `run` in the foreground,
-- which waits for the container meanwhile; warn(message) when host
-- cannot be sent to (the container goes on). Returns the child's pid:
-- the caller reaps it once the container ended (it ends then too).
function M.relay_in_child(sock, dir, host, alive, mainpid, warn)
  local pid = assert(core.clone({}))
  if pid == 0 then
    process.child(nil, function()
      core.pdeathsig("KILL") -- nothing to relay to once nsl oci is gone
      local ok, err = pcall(M.relay, sock, dir, host, alive, mainpid)
      if not ok and warn then warn(err) end
    end)
  end
  sock:close()
  return pid
end

--- Remove the socket and its directory from the state directory dir
-- (delete's part; nothing there when created without NOTIFY_SOCKET).
function M.remove(dir)
  local notify_dir = M.dir_of(dir)
  core.unlink(notify_dir .. "/notify")
  core.rmdir(notify_dir)
end

return M
