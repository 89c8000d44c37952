-- Named containers: `nsl run busybox.lua --name`, `nsl ps`, `nsl enter`.
local helper = require "helper"

local q = helper.quote

-- Start a named container in the background (a shell around nsl, which
-- it waits for), enter it, then end the nsl we started, by its pid.
local SESSION = [[
err=$(mktemp); trap 'rm -f "$err"' EXIT
"$NSL" run busybox.lua --name box /bin/sh -c 'echo made-inside > /tmp/mark; exec sleep 60' >/dev/null 2>"$err" &
nsl=$!
i=0; until "$NSL" ps | grep -q '^box '; do
  i=$((i+1)); [ $i -lt 100 ] || { echo "no box in nsl ps after 10 s; nsl run said:"; cat "$err"; "$NSL" ps; exit 9; } >&2
  sleep 0.1
done
echo "== ps"; "$NSL" ps
echo "== enter"; "$NSL" enter box /bin/sh -c 'cat /tmp/mark; hostname; id -u; grep -E "^(CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; ps -o pid= > /tmp/pids; wc -l < /tmp/pids'
echo "rc=$?"
echo "== code"; "$NSL" enter box /bin/sh -c 'exit 7'; echo "rc=$?"
echo "== signal"; "$NSL" enter box /bin/sh -c 'kill -USR1 $$'; echo "rc=$?"
echo "== nocmd"; "$NSL" enter box /nonexistent 2>&1; echo "rc=$?"
kill $nsl; wait $nsl
echo "== after"; "$NSL" ps | wc -l
echo "== missing"; "$NSL" enter box 2>&1; echo "rc=$?"
]]

local function check(out, bounding)
  assert.matches("== ps\nNAME%s+PID%s+ROOTFS%s+COMMAND\nbox%s+%d+ ", out)
  assert.matches("== enter\nmade%-inside\nbusybox\n0\nCapBnd:\t" .. bounding ..
    "\nNoNewPrivs:\t1\nSeccomp:\t2\n%s*4\nrc=0\n", out) -- init, sleep, sh, ps
  -- (ps alone, not in a pipe: the shell may start ps before wc, which it
  -- then did not always count)
  assert.matches("== code\nrc=7\n", out, 1, true)
  assert.matches("== signal\nrc=138\n", out, 1, true) -- 128 + SIGUSR1
  assert.matches("== nocmd\nnsl: enter: execp '/nonexistent': No such file or directory\n" ..
    "rc=127\n", out, 1, true)
  assert.matches("== after\n1\n", out, 1, true) -- the header only
  assert.matches("== missing\nnsl: no running container 'box' ('nsl ps' lists them)\nrc=125\n", out, 1, true)
end

-- Enter the same container three ways: by name, by the host pid of its
-- pid 1 and by the host pid of its command; each time with fd 7 open on
-- $SECRET. Then enter a container started without --name, by pid.
local ENTER_WAYS = [[
trap 'kill $nsl $anon 2>/dev/null; wait' EXIT
box_pid() { "$NSL" ps | awk '$1 == "box" { print $2 }'; }
children() { awk '{ print $1 }' /proc/$1/task/$1/children 2>/dev/null; }
# the command (sleep) among them: during the setup the container's first
# process has another child for a while (netns_prepare's helper)
command_of() {
  for p in $(children $1); do
    case "$(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null)" in sleep*) echo $p;; esac
  done
}
wait_for() { # the output of a command, once it has one (10 s at most)
  i=0; until out=$("$@") && [ -n "$out" ]; do i=$((i+1)); [ $i -lt 100 ] || return 9; sleep 0.1; done
  echo "$out"
}
probe() {
  echo "== $1"
  "$NSL" enter "$2" /bin/sh -c 'ls /proc/self/fd
    grep -E "^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status
    if unshare -U true 2>/dev/null; then echo unshare ran; else echo unshare refused; fi' 7<"$SECRET"
  echo "rc=$?"
}
"$NSL" run busybox.lua --name box /bin/sh -c 'exec sleep 60' >/dev/null 2>&1 &
nsl=$!
init=$(wait_for box_pid) && cmd=$(wait_for command_of $init) || exit 9
probe name box
probe init "$init"
probe command "$cmd"
"$NSL" run busybox.lua /bin/sh -c 'exec sleep 60' >/dev/null 2>&1 &
anon=$!
anon_init=$(wait_for children $anon) && wait_for command_of $anon_init >/dev/null || exit 9
echo "== unnamed"; "$NSL" enter "$anon_init" true 2>&1; echo "rc=$?"
]]

-- The three ways in show one process state: no fd 7, the filter, no new
-- user namespace; an unnamed container's filter is unknown: refused.
local function check_ways(out)
  local s = helper.sections(out)
  assert.matches("^0\n1\n2\n3\nUid:", s.name or "", nil, nil, out) -- 3: ls's own directory
  assert.matches("\nCapBnd:\t00000000a80425fb\n.*NoNewPrivs:\t1\nSeccomp:\t2\n" ..
    "unshare refused\nrc=0\n$", s.name, nil, nil, out)
  assert.equal(s.name, s.init, out)
  assert.equal(s.name, s.command, out)
  assert.matches("^nsl: .*seccomp.*nsl enter NAME.*\nrc=125\n$", s.unnamed, nil, nil, out)
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

  it("enter a container whose command is not root with its bounding set, not a larger one", function()
    local run = helper.tmpdir()
    finally(function() helper.rmtree(run) end)
    local r = helper.sh("export NSL=" .. q(helper.nsl) .. " XDG_RUNTIME_DIR=" .. q(run) .. "\n" .. [[
"$NSL" run busybox.lua --no-tty --name lowly --user 1000:1000 /bin/sleep 60 >/dev/null 2>&1 &
nsl=$!
i=0; until "$NSL" ps | grep -q '^lowly '; do i=$((i+1)); [ $i -lt 100 ] || exit 9; sleep 0.1; done
"$NSL" enter lowly /bin/grep -E "^(Uid|CapBnd|CapEff):" /proc/self/status; echo "rc=$?"
kill $nsl; wait $nsl
]])
    assert.equal("Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n" ..
      "CapBnd:\t00000000a80425fb\nrc=0\n", r.out, r.err)
  end)

  it("enter by name or by pid with the same filter and ids, and no fd of the caller, as root", function()
    local run = helper.tmpdir()
    finally(function() helper.rmtree(run) end)
    helper.write(run .. "/secret", "secret\n")
    local r = helper.sh("export NSL=" .. q(helper.nsl) .. " XDG_RUNTIME_DIR=" .. q(run) ..
      " SECRET=" .. q(run .. "/secret") .. "\n" .. ENTER_WAYS)
    assert.equal(0, r.code, r.out .. r.err)
    check_ways(r.out)
  end)

  it("enter by name or by pid with the same filter and ids, and no fd of the caller, as uid 65534", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    helper.write(dir .. "/secret", "secret\n")
    local r = helper.unprivileged("export SECRET=" .. q(dir .. "/secret") .. "\n" .. ENTER_WAYS)
    assert.equal(0, r.code, r.out .. r.err)
    check_ways(r.out)
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

-- A second container under the name of one that runs: refused before its
-- command runs. The first is ended by its pid.
local TAKEN = [[
"$NSL" run busybox.lua --no-tty --name box /bin/sleep 60 >/dev/null 2>&1 &
nsl=$!
i=0; until "$NSL" ps | grep -q '^box '; do i=$((i+1)); [ $i -lt 100 ] || exit 9; sleep 0.1; done
"$NSL" run busybox.lua --no-tty --name box /bin/echo ran; echo "rc=$?"
"$NSL" run busybox.lua --no-tty --name ../x /bin/echo ran; echo "rc=$?"
"$NSL" run busybox.lua --no-tty --name 4711 /bin/echo ran; echo "rc=$?"
kill $nsl; wait $nsl || :
]]

describe("nsl run busybox.lua --name", function()
  local function check_refused(r)
    assert.equal(0, r.code, r.out .. r.err)
    assert.equal("rc=125\nrc=125\nrc=125\n", r.out)
    assert.equal("nsl: a container named 'box' is running already\n" ..
      "nsl: container name '../x': letters, digits, '.', '_', '-' only, not digits alone\n" ..
      "nsl: container name '4711': letters, digits, '.', '_', '-' only, not digits alone\n", r.err)
  end

  it("refuses a bad name and a name in use before the command runs, as root", function()
    local run = helper.tmpdir()
    finally(function() helper.rmtree(run) end)
    check_refused(helper.sh("export NSL=" .. q(helper.nsl) .. " XDG_RUNTIME_DIR=" .. q(run) .. "\n" .. TAKEN))
  end)

  it("does the same as uid 65534", function()
    check_refused(helper.unprivileged(TAKEN))
  end)
end)
