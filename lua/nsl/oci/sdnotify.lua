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
-- as neither peer relays them. A container that never says READY=1
-- keeps start (and run -d) waiting until it ends, as runc does: the unit's
-- TimeoutStartSec is what bounds that wait.
--
-- Permissions are runc's: the directory is nsl-oci's own (root's), 0711,
-- the socket 0777, so whichever user the container's processes run as
-- (a service that drops privileges, a user given by name) can say READY=1;
-- so can any user of the host that knows the path, as with runc. Nobody
-- but nsl-oci's own uid can write in the directory: no other user can put
-- a link there for start to follow, and a root of the container's own
-- user namespace that remounts the bind read-write still cannot write in
-- a directory of the host's root. The socket gets its mode at bind time
-- (umask 0), never from a chmod of a path; start and delete reach the
-- directory's entries through a descriptor of it opened without following
-- symlinks. The bind is read-only (runc's options): the container sends to
-- the socket but cannot replace it. nsl oci writes only in its own state
-- directory; the caller's socket is only sent to, with a bounded wait.
local core = require "nsl.core"
local errors = require "nsl.errors"
local process = require "nsl.process"
local common = require "nsl.oci.common"
local fail = common.fail

local M = {}

-- sun_path's size, less its terminating NUL.
local SOCKET_PATH_MAX = 107

-- Seconds a full caller's socket is waited on before start fails: systemd
-- reads its socket at once, a longer wait means nobody does.
local SEND_TIMEOUT = 5

local function octal(text) return math.tointeger(tonumber(text, 8)) end

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

-- Raise "NOTIFY_SOCKET: CALL 'PATH': message (ERRNO)" for a failed core call.
local function check(ok, err, errno)
  if not ok then fail("NOTIFY_SOCKET: %s", errors.explain(err, errno)) end
  return ok
end

-- Is target (a mount point) path itself or a directory above it?
local function covers(target, path)
  target = ("/" .. target):gsub("/+", "/"):gsub("(.)/$", "%1")
  return target == "/" or target == path or path:sub(1, #target + 1) == target .. "/"
end

-- Raise when one of c's bind mounts covers the caller's path host: the
-- container would see the host's files there (the caller's socket itself,
-- not a directory: ENOTDIR), and nsl oci makes nothing in a host's tree.
local function refuse_covering_bind(c, host)
  for _, m in ipairs(c.mounts or {}) do
    local bind = (" " .. (m.flags or "") .. " "):find(" r?bind ")
    if bind and m.target and covers(m.target, host) then
      fail("NOTIFY_SOCKET '%s': the config's bind mount at %s (of %s) covers the caller's " ..
        "socket's path, where nsl oci binds the container's socket directory: bind that " ..
        "elsewhere in the container, or unset NOTIFY_SOCKET", host, m.target, tostring(m.source))
    end
  end
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
  refuse_covering_bind(c, host)
  local old = core.umask(0) -- 0711 whatever the caller's umask
  local ok, err, errno = core.mkdir(notify_dir, "0711")
  core.umask(old)
  check(ok, err, errno)
  local mounts = table.move(c.mounts, 1, #c.mounts, 1, {})
  mounts[#mounts + 1] = { source = notify_dir, target = host,
    flags = "bind rdonly nosuid nodev noexec" }
  c.mounts = mounts
  local env = {}
  for k, v in pairs(c.env or {}) do env[k] = v end
  env.NOTIFY_SOCKET = host .. "/notify"
  c.env = env
end

-- The socket's directory notify_dir opened (O_PATH, not following a
-- symlink) and checked to be this process's uid's, writable by it alone:
-- nil, message and errno when it cannot be opened; raises when another
-- user could have written in it (a state directory of an older nsl oci).
local function open_dir(notify_dir)
  local fd, err, errno = core.open(notify_dir, "path directory nofollow cloexec")
  if not fd then return nil, err, errno end
  local st = assert(core.stat(fd))
  if st.uid ~= core.geteuid() or st.mode & octal("022") ~= 0 then
    fd:close()
    fail("NOTIFY_SOCKET: %s is not nsl oci's own (uid %d, mode %o): another user could " ..
      "put a link in it; delete the container and create it again", notify_dir, st.uid,
      st.mode & octal("7777"))
  end
  return fd
end

-- name in the directory fd (open_dir's), as a path through /proc.
local function at(fd, name) return "/proc/self/fd/" .. fd:fileno() .. "/" .. name end

-- err of a call on at(fd, name), naming path instead.
local function named(err, path)
  return (tostring(err):gsub("^(%a+) '[^']*'", function(call) return call .. " '" .. path .. "'" end))
end

-- Remove the socket from notify_dir (nothing there: fine). unlink(2)
-- removes a link itself, never what it names: a directory another user
-- could write (open_dir raises) is no danger here.
local function unlink_socket(notify_dir)
  local opened, fd = pcall(open_dir, notify_dir)
  if not opened then
    core.unlink(notify_dir .. "/notify")
  elseif fd then
    core.unlink(at(fd, "notify"))
    fd:close()
  end
end

--- The container's socket, bound in its state directory dir: start's
-- part, before the container runs (a socket left by a start that failed
-- is replaced). Raises when the container was created without
-- NOTIFY_SOCKET (runc and crun fail there too).
function M.listen(dir, id)
  local notify_dir = M.dir_of(dir)
  local fd = open_dir(notify_dir)
  if not fd then
    fail("NOTIFY_SOCKET is set, but container %s was created without NOTIFY_SOCKET: it has " ..
      "no socket to say READY=1 on (unset it for start, or create the container with it)", id)
  end
  core.unlink(at(fd, "notify"))
  -- 0777 from the bind itself: any user the container runs as may send
  local old = core.umask(0)
  local sock, err, errno = core.unix_dgram(at(fd, "notify"), "nonblock")
  core.umask(old)
  fd:close()
  return check(sock, named(err, notify_dir .. "/notify"), errno)
end

--- Close sock (M.listen's; nil: none) and remove its file from the state
-- directory dir: nothing listens there any more.
function M.close(sock, dir)
  if not sock then return end
  sock:close()
  unlink_socket(M.dir_of(dir))
end

-- Does the datagram hold the line READY=1?
local function says_ready(data)
  for line in data:gmatch("[^\n]+") do
    if line == "READY=1" then return true end
  end
  return false
end

-- Send READY=1 and MAINPID=mainpid to the caller's socket at host; a
-- full queue is waited on for SEND_TIMEOUT seconds.
local function forward(host, mainpid)
  local client = check(core.unix_dgram())
  for _, message in ipairs { "READY=1", "MAINPID=" .. mainpid } do
    local ok, err, errno = core.sendto(client, host, message, SEND_TIMEOUT)
    if not ok then
      client:close()
      if errno == core.errno.EAGAIN then
        fail("NOTIFY_SOCKET: %s: its queue stayed full for %d s: nobody reads it",
          errors.explain(err, errno), SEND_TIMEOUT)
      end
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
      local data = core.recv(sock) -- whole: READY=1 may follow a long STATUS=
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
-- cannot be sent to (the container goes on). closes: fd objects of this
-- process the child closes (the pty master: it must not outlive run in
-- the relay). Returns the child's pid: the caller reaps it once the
-- container ended (it ends then too).
function M.relay_in_child(sock, dir, host, alive, mainpid, warn, closes)
  local pid = assert(core.clone({}))
  if pid == 0 then
    process.child(nil, function()
      core.pdeathsig("KILL") -- nothing to relay to once nsl oci is gone
      for _, fd in ipairs(closes or {}) do fd:close() end
      local ok, err = pcall(M.relay, sock, dir, host, alive, mainpid)
      if not ok and warn then warn(err) end
    end)
  end
  sock:close()
  return pid
end

--- Remove the socket and its directory from the state directory dir
-- (delete's part; nothing there when created without NOTIFY_SOCKET):
-- true, or nil and "rmdir 'PATH': ... (ERRNO)" when the directory stays.
function M.remove(dir)
  local notify_dir = M.dir_of(dir)
  if not core.lstat(notify_dir) then return true end
  unlink_socket(notify_dir)
  local ok, err, errno = core.rmdir(notify_dir)
  if not ok and errno ~= core.errno.ENOENT then return nil, errors.explain(err, errno) end
  return true
end

return M
