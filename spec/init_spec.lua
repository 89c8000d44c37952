-- The sealed C init (pid 1 of a container): what it leaves the command.
local helper = require "helper"

local q = helper.quote

local tmp, ROOT

setup(function()
  tmp = helper.tmpdir()
  ROOT = helper.busybox_root(tmp .. "/busybox")
end)

teardown(function() helper.rmtree(tmp) end)

-- nsl run busybox.lua ARGS with script(1)'s pty as the caller's terminal.
local function on_tty(args)
  return helper.sh("script -qec " .. q(q(helper.nsl) .. " run busybox.lua --rootfs " .. q(ROOT) ..
    " " .. args) .. " /dev/null </dev/null", nil, 30)
end

describe("the init of nsl run -t", function()
  it("holds the container's pty as fds 0-2, not the caller's terminal", function()
    -- the same file (device and inode) as the command's own stdio
    local same = "for fd in 0 1 2; do " ..
      "[ \"$(stat -L -c %d:%i /proc/1/fd/$fd)\" = \"$(stat -L -c %d:%i /proc/self/fd/0)\" ] " ..
      "&& echo same || echo other; done"
    local r = on_tty("sh -c " .. q(same))
    assert.equal(0, r.code, r.out .. r.err)
    assert.matches("same\r?\nsame\r?\nsame\r?\n$", r.out)
  end)
end)
