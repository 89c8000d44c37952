-- nsl.lab: a container built one step at a time, to look at between steps.
--
--   c = nsl.lab.new{ rootfs = "/tmp/box" }
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
local errors = require "nsl.errors"
local process = require "nsl.process"
local userns = require "nsl.userns"

local M = {}
local Lab = {}
Lab.__index = Lab

-- Run argv in a child of the worker and wait for it: "exited 0", ...,
-- and the reason when it could not be executed ("exited 127 MESSAGE").
local function run_command(c, argv)
  local how, code, message = process.run(argv, c.env)
  if not how then return nil, errors.explain(code, message) end
  return string.format("%s %d%s", how, code, message and " " .. message:gsub("\n", " ") or "")
end

-- The worker: read a request line, answer "ok" or "error <message>" (for
-- run, "ok" is followed by a line "HOW CODE").
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
        local status, err = run_command(c, load("return " .. arg, "=lab", "t", {})())
        answer(status, err)
        if status then replies:write(status .. "\n") end
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

-- The worker's next reply line, or nil and why it is gone: what it said
-- when it ended on an error ("125 message", see nsl.process.child).
local function reply(self)
  local line = {}
  repeat
    local ch = self.replies:read(1)
    if ch == "" or not ch then
      local said = table.concat(line)
      return nil, said:match("^125 (.*)$") or "the container's worker is gone"
    end
    line[#line + 1] = ch
  until ch == "\n"
  return table.concat(line, "", 1, #line - 1)
end

-- The worker ended: reap it and forget it.
local function reap(self)
  self.requests:close()
  self.replies:close()
  core.kill(self.pid, "KILL")
  core.wait(self.pid)
  self.pid = nil
end

-- The next reply; raises (and reaps the worker) when the worker is gone.
local function expect_reply(self)
  local line, err = reply(self)
  if not line then
    reap(self)
    error(err, 0)
  end
  return line
end

--- Start the worker in the container's namespaces (the first step does);
-- returns its pid. Raises when it cannot start (a rootfs that is not
-- there): the worker never returns into this code (see nsl.process.child).
function Lab:start()
  if self.pid then return self.pid end
  local c = self.config
  local req_r, req_w = assert(core.pipe())
  local rep_r, rep_w = assert(core.pipe())
  local maps = c.userns and { uid = c.uid_map, gid = c.gid_map, setgroups = c.setgroups }
  local pid, err, errno = userns.clone(c.namespaces, maps, { pdeathsig = "KILL" })
  if not pid then
    req_r:close(); req_w:close(); rep_r:close(); rep_w:close()
    error("start: " .. errors.explain(err, errno), 2)
  end
  if pid == 0 then
    req_w:close(); rep_r:close()
    process.child(rep_w, function()
      errors.check("rootfs", core.chdir(c.rootfs))
      c.rootfs = errors.check("rootfs", core.getcwd())
      rep_w:write("ok\n")
      serve(c, req_r, rep_w)
    end)
  end
  req_r:close(); rep_w:close()
  self.pid, self.requests, self.replies = pid, req_w, rep_r
  expect_reply(self)
  return pid
end

local function step_name(step)
  return type(step) == "function" and "(function)" or step
end

--- Run the next step; returns its name and true, or its name, false and
-- the error. Nothing is left to do when it returns nil. After a failed
-- step the next is refused (raises) unless opts.force: c:step{ force = true }.
function Lab:step(opts)
  local c = self.config
  if self.failed and not (opts and opts.force) then
    error(string.format("step %d '%s' failed: %s; c:step{ force = true } runs the next " ..
      "one anyway", self.failed.index, self.failed.name, self.failed.err), 0)
  end
  if self.done >= #c.steps then return nil end
  self:start()
  self.done = self.done + 1
  local step = c.steps[self.done]
  local name = step_name(step)
  self.requests:write(string.format("step %d\n", self.done))
  local replied, answer = pcall(expect_reply, self)
  if not replied then
    -- the worker is gone, and the steps before with it
    self.failed = { index = self.done, name = name, err = answer }
    error(answer, 0)
  end
  if answer == "ok" then
    self.failed = nil
    if step == "enter_root" then self.entered = true end
    return name, true
  end
  local err = answer:match("^error (.*)$")
  self.failed = { index = self.done, name = name, err = err }
  return name, false, err
end

--- Run every step left; stops at the first that fails (name, false, err).
-- opts.force goes on after a step that failed before (see Lab:step).
function Lab:finish(opts)
  while true do
    local name, ok, err = self:step(opts)
    opts = nil
    if not name then return true end
    if not ok then return name, false, err end
  end
end

--- The names of the steps still to run.
function Lab:pending()
  local left = {}
  for i = self.done + 1, #self.config.steps do
    local s = self.config.steps[i]
    left[#left + 1] = step_name(s)
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
-- wait for it: returns how ("exited"/"killed"), the code and, when it
-- could not be executed (exited 127), the reason.
function Lab:run(argv)
  if type(argv) == "string" then argv = { "/bin/sh", "-c", argv } end
  self:start()
  local parts = {}
  for i, a in ipairs(argv) do parts[i] = string.format("%q", a) end
  self.requests:write("run {" .. table.concat(parts, ","):gsub("\n", "\\n") .. "}\n")
  local answer = expect_reply(self)
  if answer ~= "ok" then error("run: " .. answer:gsub("^error ", ""), 2) end
  local how, code, message = expect_reply(self):match("^(%S+) (%d+) ?(.*)$")
  if message ~= "" then return how, tonumber(code), message end
  return how, tonumber(code)
end

--- A shell command inside the container (see Lab:run).
function Lab:sh(command)
  return self:run(command)
end

--- End the worker and everything in the container.
function Lab:destroy()
  if self.pid then reap(self) end
end

Lab.__close = Lab.destroy
Lab.__gc = Lab.destroy

return M
