-- The sealed C init (pid 1 of a container): what it leaves the command.
local helper = require "helper"

local q = helper.quote

local tmp, ROOT

setup(function()
  tmp = helper.tmpdir()
  ROOT = helper.busybox_root(tmp .. "/busybox")
end)

teardown(function() helper.rmtree(tmp) end)

describe("the init of nsl run -t", function()
  it("holds the container's pty as fds 0-2, not the caller's terminal", function()
    -- seen from the host (the init is not dumpable: the command cannot
    -- look): the same file (device and inode) as the command's own stdio
    local pty, up, done = ROOT .. "/tmp/pty", ROOT .. "/tmp/up", ROOT .. "/tmp/done"
    finally(function() os.remove(pty); os.remove(up); os.remove(done) end)
    local command = "sh -c " .. q("stat -L -c %d:%i /proc/self/fd/0 > /tmp/pty; touch /tmp/up; " ..
      "until [ -e /tmp/done ]; do sleep 0.01; done")
    local r = helper.sh("script -qec " .. q(q(helper.nsl) .. " run busybox.lua --rootfs " ..
      q(ROOT) .. " " .. command) .. " /dev/null </dev/null >/dev/null & s=$!\n" .. [[
init_below() {
  for p in $(cat /proc/$1/task/*/children); do
    case "$(tr '\0' ' ' < /proc/$p/cmdline)" in nsl-init*) echo $p; return;; esac
    init_below $p
  done
}
i=0; until [ -e ]] .. q(up) .. [[ ]; do i=$((i+1)); [ $i -lt 500 ] || exit 9; sleep 0.01; done
init=$(init_below $s)
for fd in 0 1 2; do
  [ "$(stat -L -c %d:%i /proc/$init/fd/$fd)" = "$(cat ]] .. q(pty) .. [[)" ] && echo same || echo other
done
touch ]] .. q(done) .. [[; wait $s]], nil, 30)
    assert.same({ 0, "same\nsame\nsame\n" }, { r.code, r.out }, r.err)
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
