-- Exit codes in shell convention on every path a command's status takes to
-- the caller: the init (C in nsl, Lua under plain lua5.4) or none, a pty or
-- none, as root and as uid 65534. Exit K gives K; a command killed by
-- signal N gives 128+N. (`nsl enter` is in running_spec.lua.)
local helper = require "helper"

local q = helper.quote

local tmp, ROOT, SCRIPT

-- The commands and their codes. A shell cannot kill itself as pid 1 (the
-- kernel drops a signal pid 1 has no handler for), so without the init the
-- signal is a fault's (segv: SIGSEGV, 11).
local COMMANDS = {
  { "/bin/sh -c 'exit 3'", 3 },
  { "/bin/sh -c 'exit 0'", 0 },
  { "/bin/segv", 128 + 11 },
  { "/bin/sh -c 'kill -USR1 $$'", 128 + 10, init_only = true },
  { "/bin/sh -c 'kill -TERM $$'", 128 + 15, init_only = true },
}

-- The ways to run a command: name, whether the init runs, and the shell
-- text that runs CMD as root (nil for uid 65534: see `unprivileged`).
local function nsl_run(options)
  return function(cmd)
    return helper.sh(q(helper.nsl) .. " run busybox.lua --rootfs " .. q(ROOT) .. " " .. options .. " " .. cmd)
  end
end

-- container.main under plain lua5.4 with build/lib/nsl/core.so: no C init
-- to exec, so the init is container.lua's Lua loop.
local function plain_lua(init)
  return function(cmd)
    return helper.sh(helper.lua5_4() .. " " .. q(SCRIPT) .. " " .. init .. " " .. cmd)
  end
end

local function unprivileged(options)
  return function(cmd)
    return helper.unprivileged("\"$NSL\" run busybox.lua --rootfs " .. q(ROOT) .. " " .. options .. " " .. cmd)
  end
end

local PATHS = {
  { "nsl run", true, nsl_run("--no-tty") },
  { "nsl run --no-init", false, nsl_run("--no-tty --no-init") },
  { "nsl run --tty", true, nsl_run("--tty") },
  { "nsl run --tty --no-init", false, nsl_run("--tty --no-init") },
  { "plain lua5.4 with the library", true, plain_lua("init") },
  { "plain lua5.4 with the library, without the init", false, plain_lua("no-init") },
  { "nsl run as uid 65534", true, unprivileged("--no-tty") },
  { "nsl run --no-init as uid 65534", false, unprivileged("--no-tty --no-init") },
}

setup(function()
  tmp = helper.tmpdir()
  ROOT = tmp .. "/busybox"
  local r = helper.sh(q(helper.nsl) .. " -e " .. q(string.format("require('nsl').rootfs.busybox(%q)", ROOT)))
  assert.equal(0, r.code, r.err)
  r = helper.sh(string.format("cc -static -O0 -o %s %s", q(ROOT .. "/bin/segv"),
    q(helper.root .. "/spec/fixtures/segv.c")))
  assert.equal(0, r.code, r.err)
  -- for lua5.4: init or no-init, then the command
  SCRIPT = tmp .. "/main.lua"
  helper.write(SCRIPT, string.format([[
    local container = require("nsl").container
    os.exit(container.main { rootfs = %q, init = arg[1] == "init", tty = false,
      command = { table.unpack(arg, 2) } })]], ROOT))
end)

teardown(function() helper.rmtree(tmp) end)

describe("the exit code", function()
  for _, path in ipairs(PATHS) do
    local name, with_init, run = path[1], path[2], path[3]
    for _, case in ipairs(COMMANDS) do
      local cmd, code = case[1], case[2]
      if with_init or not case.init_only then
        it("is " .. code .. " for " .. cmd .. " through " .. name, function()
          local r = run(cmd)
          assert.equal(code, r.code, r.err)
        end)
      end
    end
  end
end)
