-- nsl.util: the small helpers every library module would otherwise copy.
--
--   local util = require "nsl.util"
--   util.read_file("/etc/hostname")  --> "box\n"
--   util.mkdir_all("/tmp/a/b/c")     --> true
local core = require "nsl.core"

local M = {}

--- Read fd (a file or a pipe) to its end: its content, or nil, message
-- and errno.
function M.read_fd(fd)
  local chunks = {}
  repeat
    local s, err, errno = fd:read(65536)
    if not s then return nil, err, errno end
    chunks[#chunks + 1] = s
  until s == ""
  return table.concat(chunks)
end

--- The whole content of a file, or nil, message and errno.
function M.read_file(path)
  local fd, err, errno = core.open(path, "rdonly cloexec")
  if not fd then return nil, err, errno end
  local text, rerr, rerrno = M.read_fd(fd)
  fd:close()
  return text, rerr, rerrno
end

--- The table a record file (a Lua chunk "return { ... }", run with no
-- globals) returns, or nil when it is missing or not such a chunk.
function M.load_record(path)
  local chunk = load(M.read_file(path) or "", "=" .. path, "t", {})
  local ok, rec = pcall(chunk or error)
  return ok and type(rec) == "table" and rec or nil
end

--- Write a file whole and atomically: data goes to a temporary file of
-- this process's (PATH.PID.tmp, made exclusively, mode default 0644)
-- renamed over path, so that a reader never sees half of it. Returns
-- true, or nil, message and errno (and leaves no temporary file).
function M.write_atomic(path, data, mode)
  local tmp = string.format("%s.%d.tmp", path, core.getpid())
  local fd, err, errno = core.open(tmp, "wronly creat excl cloexec", mode or "0644")
  if not fd then return nil, err, errno end
  local n
  n, err, errno = fd:write(data)
  fd:close()
  if n == #data then
    local ok
    ok, err, errno = core.rename(tmp, path)
    if ok then return true end
  end
  core.unlink(tmp)
  return nil, string.format("write %s: %s", path, tostring(err or "short write")), errno
end

--- Write value to a cgroup or /proc file in one write(2): such a file
-- takes one value per write and refuses it right there (buffered io would
-- only say so at close). nil, "write 'V' to PATH: reason", errno on failure.
function M.write_once(path, value)
  local text = tostring(value)
  local fd, err, errno = core.open(path, "wronly cloexec")
  if fd then
    local n
    n, err, errno = fd:write(text)
    fd:close()
    if n == #text then return true end
  end
  local reason = err and (err:match(": ([^:]+)$") or err) or "short write"
  return nil, string.format("write '%s' to %s: %s", text, path, reason), errno
end

--- mkdir -p: create path and its missing parents (mode, default 0755).
-- Returns true, or nil, message and errno; made (a table), when given,
-- gets the directories it made, deepest last.
function M.mkdir_all(path, mode, made)
  local prefix = path:sub(1, 1) == "/" and "" or "."
  for part in path:gmatch("[^/]+") do
    prefix = prefix .. "/" .. part
    local ok, err, errno = core.mkdir(prefix, mode or "0755")
    if ok then
      if made then made[#made + 1] = prefix end
    elseif errno ~= core.errno.EEXIST then
      return nil, err, errno
    end
  end
  return true
end

--- A deep copy of t (the copy keeps each table's metatable, so dkjson's
-- object and array marks stay); anything else as it is.
function M.copy(t)
  if type(t) ~= "table" then return t end
  local c = setmetatable({}, getmetatable(t))
  for k, v in pairs(t) do c[k] = M.copy(v) end
  return c
end

--- Whether word is one of the words (separated by spaces, commas or |)
-- of the string words.
function M.has_word(words, word)
  for w in tostring(words or ""):gmatch("[^%s,|]+") do
    if w == word then return true end
  end
  return false
end

--- Whether value is an element of the list.
function M.contains(list, value)
  for _, v in ipairs(list) do
    if v == value then return true end
  end
  return false
end

--- s quoted for sh: 'it'\''s'.
function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

return M
