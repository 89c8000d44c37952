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

describe("the init under a seccomp profile that refuses close_range", function()
  -- as a kernel before 5.11 (ENOSYS) or a profile written for one (EPERM)
  for _, errno in ipairs { "EPERM", "ENOSYS" } do
    it("closes and marks the fds through /proc/self/fd instead (" .. errno .. ")", function()
      local policy = tmp .. "/no-close-range-" .. errno .. ".lua"
      helper.write(policy, string.format(
        "return { default = 'allow', rules = { { 'close_range', action = 'errno %s' } } }", errno))
      -- fd 7 is the caller's: neither the init (pid 1) nor the command has it
      local r = helper.sh("exec 7</dev/null; " .. q(helper.nsl) .. " run busybox.lua --rootfs " ..
        q(ROOT) .. " --no-tty --seccomp " .. q(policy) ..
        " sh -c 'ls /proc/1/fd /proc/self/fd | sort -n | uniq | tr \"\\n\" \" \"'")
      assert.same({ 0, "" }, { r.code, r.err })
      assert.is_nil(r.out:find(" 7 ", 1, true), r.out)
    end)
  end
end)
