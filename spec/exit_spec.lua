-- Exit codes in shell convention on every path a command's status takes to
-- the caller: the init (C in nsl, Lua under plain lua5.4) or none, a pty or
-- none, as root and as uid 65534. Exit K gives K; a command killed by
-- signal N gives 128+N; a SIGTERM to the caller reaches the command.
-- (`nsl enter` is in running_spec.lua.)
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

-- The ways to run a command: each is a function that runs shell text
-- (the caller's side) with CMD at its end, as root or as uid 65534.
local function nsl_run(options)
  return function(text)
    return helper.sh(text:gsub("CMD", function()
      return q(helper.nsl) .. " run busybox.lua --rootfs " .. q(ROOT) .. " " .. options
    end))
  end
end

-- container.main under plain lua5.4 with build/lib/nsl/core.so: no C init
-- to exec, so the init is container.lua's Lua loop.
local function plain_lua(init)
  return function(text)
    return helper.sh(text:gsub("CMD", function()
      return helper.lua5_4() .. " " .. q(SCRIPT) .. " " .. init
    end))
  end
end

local function unprivileged(options)
  return function(text)
    return helper.unprivileged(text:gsub("CMD", function()
      return "\"$NSL\" run busybox.lua --rootfs " .. q(ROOT) .. " " .. options
    end))
  end
end

-- name, whether the init runs, the runner
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

-- The caller gets SIGTERM once the command runs; nsl and the init pass it
-- on, the command traps it and exits 7. Should the signal not arrive, the
-- caller is killed after 5 s (and the container with it).
local FORWARD = [[
CMD /bin/sh -c 'trap "echo got TERM; exit 7" TERM; touch /tmp/started; while :; do sleep 0.05; done' & caller=$!
i=0; until [ -e STARTED ]; do i=$((i+1)); [ $i -lt 500 ] || exit 9; sleep 0.01; done
kill -TERM $caller
i=0; while kill -0 $caller 2>/dev/null; do i=$((i+1)); [ $i -lt 100 ] || { kill -KILL $caller; break; }; sleep 0.05; done
wait $caller; echo rc=$?
]]

setup(function()
  tmp = helper.tmpdir()
  ROOT = tmp .. "/busybox"
  helper.busybox_root(ROOT)
  local r = helper.sh(string.format("cc -static -O0 -o %s %s", q(ROOT .. "/bin/segv"),
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
          local r = run("CMD " .. cmd)
          assert.equal(code, r.code, r.err)
        end)
      end
    end
  end
end)

-- (with --tty nsl relays the terminal and passes no signal on: a SIGTERM
-- ends nsl, and the parent-death signal the container)
describe("a SIGTERM to the caller", function()
  for _, path in ipairs(PATHS) do
    local name, run = path[1], path[3]
    if not name:find("--tty", 1, true) then
      it("reaches the command, whose exit code comes back, through " .. name, function()
        local started = ROOT .. "/tmp/started"
        os.remove(started)
        finally(function() os.remove(started) end)
        local r = run((FORWARD:gsub("STARTED", q(started))))
        assert.same({ 0, "got TERM\nrc=7\n" }, { r.code, r.out }, r.err)
      end)
    end
  end
end)

describe("a SIGTERM while the container starts", function()
  it("is passed on to the command, not the end of nsl", function()
    -- the parent slowed down after the start: a TERM then used to end nsl
    -- (143) before it watched for signals, and the container with it
    local started = ROOT .. "/tmp/started"
    os.remove(started)
    finally(function() os.remove(started) end)
    local code = string.format([[
      local nsl = require "nsl"
      local container = nsl.container
      local spawn = container.spawn
      container.spawn = function(...)
        local pid, master, message = spawn(...)
        nsl.poll({}, 500)
        return pid, master, message
      end
      os.exit(container.main { rootfs = %q, tty = false, command = { "/bin/sh", "-c",
        "trap 'echo got TERM; exit 7' TERM; touch /tmp/started; while :; do sleep 0.05; done" } })]],
      ROOT)
    local r = helper.sh(q(helper.nsl) .. " -e " .. q(code) .. " & caller=$!\n" .. [[
i=0; until [ -e ]] .. q(started) .. [[ ]; do i=$((i+1)); [ $i -lt 500 ] || exit 9; sleep 0.01; done
kill -TERM $caller
wait $caller; echo rc=$?
]])
    assert.same({ 0, "got TERM\nrc=7\n" }, { r.code, r.out }, r.err)
  end)
end)

-- Once the command runs, nsl's process is a small sealed waiter (nsl-wait,
-- nsl.core's wait_exec); its child (the init, or the command without one)
-- is killed from outside, so no status byte comes: the waiter reaps it and
-- exits as it did.
local WAITER = [[
CMD /bin/sh -c 'touch /tmp/started; sleep 1000' & nsl=$!
i=0; until [ -e STARTED ]; do i=$((i+1)); [ $i -lt 500 ] || exit 9; sleep 0.01; done
child=$(cat /proc/$nsl/task/*/children | tr -d ' ')
set -- $(tr '\0' ' ' < /proc/$nsl/cmdline)
echo "$*" | sed -e "s/ $child\$/ CHILD/" -e "s/ $child / CHILD /" -e "s/-s [0-9]*/-s FD/"
kill -KILL $child
wait $nsl; echo rc=$?
]]

describe("nsl run's process while the command runs", function()
  for _, case in ipairs {
    { "root", nsl_run("--no-tty"), "nsl-wait -w CHILD -s FD" },
    { "root, without the init", nsl_run("--no-tty --no-init"), "nsl-wait -w CHILD" },
    { "uid 65534", unprivileged("--no-tty"), "nsl-wait -w CHILD -s FD" },
  } do
    it("is the waiter, which ends as its child did when no status comes, as " .. case[1],
      function()
        local started = ROOT .. "/tmp/started"
        os.remove(started)
        finally(function() os.remove(started) end)
        local r = case[2]((WAITER:gsub("STARTED", q(started))))
        assert.same({ 0, case[3] .. "\nrc=137\n" }, { r.code, r.out }, r.err)
      end)
  end
end)

-- `nsl run NSL ARGS...` as the child of a subreaper (the harness, nsl -e):
-- nsl's exit, then every orphan that reached the harness once nsl ended
-- (reaped there). Prints "how code orphans".
local REAPER = [[
local exe = arg[1]
assert(nsl.child_subreaper(true))
local pid = assert(nsl.spawn(exe, { exe, "run", "busybox.lua", table.unpack(arg, 2) }))
local _, how, code = nsl.wait(pid)
local orphans = 0
while nsl.wait(-1) do orphans = orphans + 1 end
print(how, code, orphans)
]]

local function under_reaper(who, args)
  local words = {}
  for i, a in ipairs(args) do words[i] = q(a) end
  if who == "root" then
    return helper.sh(q(helper.nsl) .. " -e " .. q(REAPER) .. " " .. q(helper.nsl) .. " " ..
      table.concat(words, " "))
  end
  return helper.unprivileged("exec \"$NSL\" -e " .. q(REAPER) .. " \"$NSL\" " ..
    table.concat(words, " "))
end

describe("nsl run's end", function()
  for _, who in ipairs { "root", "uid 65534" } do
    it("comes with the command's status, the init left to the caller's reaper, as " .. who,
      function()
        -- the init reported the status and went on to its exit (the
        -- namespaces' teardown); the harness, nsl's reaper, reaped it
        for _, case in ipairs { { "exit 3", "exited\t3\t1\n" },
                                { "kill -TERM $$", "exited\t143\t1\n" } } do
          local r = under_reaper(who, { "--rootfs", ROOT, "--no-tty", "/bin/sh", "-c", case[1] })
          assert.same({ 0, case[2] }, { r.code, r.out }, r.err)
        end
      end)

    it("waits for the container's last processes, which end with it, as " .. who, function()
      local sleep = "/bin/sleep " .. 7000 + os.time() % 1000
      finally(function()
        for _, pid in ipairs(helper.leftovers(sleep)) do helper.sh("kill -KILL " .. pid) end
      end)
      local r = under_reaper(who, { "--rootfs", ROOT, "--no-tty", "/bin/sh", "-c",
        sleep .. " & exit 3" })
      assert.same({ 0, "exited\t3\t0\n" }, { r.code, r.out }, r.err)
      assert.same({}, helper.leftovers(sleep))
    end)
  end

  it("waits for the container when a cgroup is removed after it", function()
    local r = under_reaper("root", { "--rootfs", ROOT, "--no-tty", "--memory", "64m",
      "/bin/true" })
    assert.same({ 0, "exited\t0\t0\n" }, { r.code, r.out }, r.err)
  end)
end)
