-- nsl.lab: a container built one step at a time, to look at between steps.
--
--   c = nsl.container.new{ rootfs = "/tmp/box" }
--   c:step()            --> "propagation", true
--   c:mounts()          -- its mount table, as nsl.mountinfo data
--   c:ls "/dev"         -- what is in its /dev now
--   c:finish()          -- every step left
--   c:sh "ps; mount"    -- a command inside it (stdio is yours)
--   c:destroy()
--
-- A worker process in the container's namespaces runs the steps on
-- request: this process (the REPL) never changes namespace or root.
local core = require "nsl.core"
local container = require "nsl.container"
local userns = require "nsl.userns"

local M = {}
local Lab = {}
Lab.__index = Lab

-- The worker: read a request line, answer "ok" or "error <message>".
local function serve(c, requests, replies)
  local function answer(ok, err)
    replies:write(ok and "ok\n" or ("error " .. tostring(err):gsub("\n", " ") .. "\n"))
  end
  local buffer = ""
  while true do
    local chunk = requests:read(4096)
    if not chunk or chunk == "" then core._exit(0) end
    buffer = buffer .. chunk
    for line in buffer:gmatch("([^\n]*)\n") do
      local what, arg = line:match("^(%S+) ?(.*)$")
      if what == "step" then
        local step = c.steps[tonumber(arg)]
        local fn = type(step) == "function" and step or container.step[step]
        answer(pcall(fn, c))
      elseif what == "run" then
        local argv = load("return " .. arg, "=lab", "t", {})()
        local pid = core.clone({})
        if pid == 0 then
          core.execp(argv[1], argv, c.env)
          core._exit(127)
        end
        local _, how, code = core.wait(pid)
        answer(true)
        replies:write(string.format("%s %d\n", how, code))
      end
    end
    buffer = buffer:match("[^\n]*$")
  end
end

--- A container to build step by step: the config of container.config,
-- its worker not started until the first step.
function M.new(opts)
  return setmetatable({ config = container.config(opts), done = 0 }, Lab)
end

--- Start the worker in the container's namespaces (the first step does);
-- returns its pid.
function Lab:start()
  if self.pid then return self.pid end
  local c = self.config
  local req_r, req_w = assert(core.pipe())
  local rep_r, rep_w = assert(core.pipe())
  local maps = c.userns and { uid = c.uid_map, gid = c.gid_map, setgroups = c.setgroups }
  local pid, err, errno = userns.clone(c.namespaces, maps, { pdeathsig = "KILL" })
  if not pid then error("start: " .. container.explain(err, errno), 2) end
  if pid == 0 then
    req_w:close(); rep_r:close()
    assert(core.chdir(c.rootfs))
    c.rootfs = assert(core.getcwd())
    serve(c, req_r, rep_w)
  end
  req_r:close(); rep_w:close()
  self.pid, self.requests, self.replies = pid, req_w, rep_r
  return pid
end

local function reply(self)
  local line = {}
  repeat
    local ch = self.replies:read(1)
    if ch == "" or not ch then error("the container's worker is gone", 3) end
    line[#line + 1] = ch
  until ch == "\n"
  return table.concat(line, "", 1, #line - 1)
end

--- Run the next step; returns its name and true, or its name, false and
-- the error. Nothing is left to do when it returns nil.
function Lab:step()
  local c = self.config
  if self.done >= #c.steps then return nil end
  self:start()
  self.done = self.done + 1
  local step = c.steps[self.done]
  local name = type(step) == "function" and "(function)" or step
  self.requests:write(string.format("step %d\n", self.done))
  local answer = reply(self)
  if answer == "ok" then
    if step == "enter_root" then self.entered = true end
    return name, true
  end
  return name, false, answer:match("^error (.*)$")
end

--- Run every step left; stops at the first that fails (name, false, err).
function Lab:finish()
  while true do
    local name, ok, err = self:step()
    if not name then return true end
    if not ok then return name, false, err end
  end
end

--- The names of the steps still to run.
function Lab:pending()
  local left = {}
  for i = self.done + 1, #self.config.steps do
    local s = self.config.steps[i]
    left[#left + 1] = type(s) == "function" and "(function)" or s
  end
  return left
end

--- The container's mount table now (nsl.mountinfo data).
function Lab:mounts()
  return require("nsl.inspect").mountinfo(self:start())
end

--- The names in a directory of the container (path inside its root, as it
-- is now: before enter_root, inside the host's view).
function Lab:ls(path)
  local base = string.format("/proc/%d/root", self:start())
  if not self.entered then base = base .. self.config.rootfs end
  return core.readdir(base .. (path or "/"))
end

--- Run a command inside the container (argv list or a shell string) and
-- wait for it: returns how ("exited"/"killed") and the code.
function Lab:run(argv)
  if type(argv) == "string" then argv = { "/bin/sh", "-c", argv } end
  self:start()
  local parts = {}
  for i, a in ipairs(argv) do parts[i] = string.format("%q", a) end
  self.requests:write("run {" .. table.concat(parts, ","):gsub("\n", "\\n") .. "}\n")
  reply(self)
  local how, code = reply(self):match("^(%S+) (%d+)$")
  return how, tonumber(code)
end

--- A shell command inside the container (see Lab:run).
function Lab:sh(command)
  return self:run(command)
end

--- End the worker and everything in the container.
function Lab:destroy()
  if not self.pid then return end
  self.requests:close()
  self.replies:close()
  core.kill(self.pid, "KILL")
  core.wait(self.pid)
  self.pid = nil
end

Lab.__close = Lab.destroy
Lab.__gc = Lab.destroy

return M
