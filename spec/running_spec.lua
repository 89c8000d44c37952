-- Named containers: `nsl run busybox.lua --name`, `nsl ps`, `nsl enter`.
local helper = require "helper"

local q = helper.quote

-- Start a named container in the background (a shell around nsl, which
-- it waits for), enter it, then end the nsl we started, by its pid.
local SESSION = [[
"$NSL" run busybox.lua --name box /bin/sh -c 'echo made-inside > /tmp/mark; exec sleep 60' >/dev/null 2>&1 &
nsl=$!
i=0; until "$NSL" ps | grep -q '^box '; do i=$((i+1)); [ $i -lt 100 ] || exit 9; sleep 0.1; done
echo "== ps"; "$NSL" ps
echo "== enter"; "$NSL" enter box /bin/sh -c 'cat /tmp/mark; hostname; id -u; grep -E "^(CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; ps -o pid= | wc -l'
echo "rc=$?"
echo "== code"; "$NSL" enter box /bin/sh -c 'exit 7'; echo "rc=$?"
echo "== signal"; "$NSL" enter box /bin/sh -c 'kill -USR1 $$'; echo "rc=$?"
kill $nsl; wait $nsl
echo "== after"; "$NSL" ps | wc -l
echo "== missing"; "$NSL" enter box 2>&1; echo "rc=$?"
]]

local function check(out, bounding)
  assert.matches("== ps\nNAME%s+PID%s+ROOTFS%s+COMMAND\nbox%s+%d+ ", out)
  assert.matches("== enter\nmade%-inside\nbusybox\n0\nCapBnd:\t" .. bounding ..
    "\nNoNewPrivs:\t1\nSeccomp:\t2\n%s*5\nrc=0\n", out) -- init, sleep, sh, ps, wc
  assert.matches("== code\nrc=7\n", out, 1, true)
  assert.matches("== signal\nrc=138\n", out, 1, true) -- 128 + SIGUSR1
  assert.matches("== after\n1\n", out, 1, true) -- the header only
  assert.matches("== missing\nnsl: no running container 'box' ('nsl ps' lists them)\nrc=125\n", out, 1, true)
end

describe("nsl ps and nsl enter", function()
  it("list a named container and run a command in it, as root", function()
    local run = helper.tmpdir()
    finally(function() helper.rmtree(run) end)
    local r = helper.sh("export NSL=" .. q(helper.nsl) .. " XDG_RUNTIME_DIR=" .. q(run) .. "\n" .. SESSION)
    assert.equal(0, r.code, r.out .. r.err)
    check(r.out, "00000000a80425fb") -- Docker's 14
  end)

  it("do the same as uid 65534, through the user namespace", function()
    local r = helper.unprivileged(SESSION)
    assert.equal(0, r.code, r.out .. r.err)
    check(r.out, "00000000a80425fb")
  end)

  it("keep no_new_privs in a container without a seccomp filter", function()
    -- libseccomp sets no_new_privs where it loads a filter: without one,
    -- only nsl enter's own step keeps it
    local run = helper.tmpdir()
    finally(function() helper.rmtree(run) end)
    local r = helper.sh("export NSL=" .. q(helper.nsl) .. " XDG_RUNTIME_DIR=" .. q(run) .. "\n" .. [[
"$NSL" run busybox.lua --name bare --seccomp unconfined /bin/sleep 60 >/dev/null 2>&1 &
nsl=$!
i=0; until "$NSL" ps | grep -q '^bare '; do i=$((i+1)); [ $i -lt 100 ] || exit 9; sleep 0.1; done
"$NSL" enter bare /bin/grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status; echo "rc=$?"
kill $nsl; wait $nsl
]])
    assert.equal("NoNewPrivs:\t1\nSeccomp:\t0\nrc=0\n", r.out, r.err)
  end)

  it("drop the record of a container that is gone", function()
    local run = helper.tmpdir()
    finally(function() helper.rmtree(run) end)
    assert(os.execute("mkdir -m 700 " .. q(run .. "/nsl")))
    helper.write(run .. "/nsl/ghost",
      'return { name = "ghost", pid = 999999999, start = "1", rootfs = "/", command = "x", seccomp = "" }\n')
    local r = helper.sh("XDG_RUNTIME_DIR=" .. q(run) .. " " .. q(helper.nsl) .. " ps")
    assert.equal(0, r.code, r.err)
    assert.is_nil(r.out:find("ghost"))
    assert.is_nil(helper.read(run .. "/nsl/ghost"))
  end)
end)
