-- Bad input, table-driven: for each case the exit status and the message,
-- and afterwards no mount left on the host and no process left running.
local helper = require "helper"

local q = helper.quote

local tmp, ROOT, FILE, EMPTY

setup(function()
  tmp = helper.tmpdir()
  ROOT = tmp .. "/root"
  FILE = tmp .. "/file"
  EMPTY = tmp .. "/empty"
  local r = helper.sh(q(helper.nsl) .. " -e " ..
    q(string.format("require('nsl').rootfs.busybox(%q)", ROOT)))
  assert.equal(0, r.code, r.err)
  helper.write(FILE, "not a root\n")
  -- executable, but no program the kernel can load
  helper.write(ROOT .. "/bin/garbage", "\127ELF garbage\n")
  assert(os.execute("chmod 0755 " .. q(ROOT .. "/bin/garbage")))
  assert(os.execute("mkdir " .. q(EMPTY)))
end)

teardown(function() helper.rmtree(tmp) end)

-- A script in the tmpdir, run with nsl.
local function script(name, body)
  local path = tmp .. "/" .. name
  helper.write(path, body)
  return path
end

local function busybox(args)
  return q(helper.nsl) .. " run busybox.lua " .. args
end

local CASES = {
  { "a missing rootfs", function() return busybox("--rootfs /nonexistent /bin/true") end,
    125, function() return "nsl: rootfs '/nonexistent': No such file or directory\n" end },
  { "a rootfs that is a file", function() return busybox("--rootfs " .. q(FILE) .. " /bin/true") end,
    125, function() return "nsl: rootfs '" .. FILE .. "' is a file, not a directory\n" end },
  { "an empty rootfs", function() return busybox("--rootfs " .. q(EMPTY) .. " /bin/true") end,
    125, function() return "nsl: rootfs '" .. EMPTY .. "' is empty (build one with nsl.rootfs.busybox)\n" end },
  { "a missing command", function() return busybox("--rootfs " .. q(ROOT) .. " /bin/nope") end,
    127, function() return "nsl: command not found: /bin/nope in rootfs " .. ROOT .. "\n" end },
  { "a command on no PATH", function() return busybox("--rootfs " .. q(ROOT) .. " nope") end,
    127, function()
      return "nsl: command not found: nope in rootfs " .. ROOT ..
        " (PATH /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)\n"
    end },
  { "a command that is not executable", function() return busybox("--rootfs " .. q(ROOT) .. " /etc/passwd") end,
    126, function() return "nsl: command not executable: /etc/passwd in rootfs " .. ROOT .. "\n" end },
  { "a command the kernel cannot execute", function()
      return busybox("--rootfs " .. q(ROOT) .. " /bin/garbage")
    end,
    126, function()
      return "nsl: exec '/bin/garbage': Exec format error (in rootfs " .. ROOT .. ")\n"
    end },
  { "a command the kernel cannot execute, without the init", function()
      return busybox("--rootfs " .. q(ROOT) .. " --no-init /bin/garbage")
    end,
    126, function()
      return "nsl: exec '/bin/garbage': Exec format error (in rootfs " .. ROOT .. ")\n"
    end },
  { "an unknown option", function() return busybox("--bogus /bin/true") end,
    2, function()
      return "^busybox.lua: unknown option '%-%-bogus'\nTry 'nsl run busybox.lua %-%-help' " ..
        "for the options.\n$"
    end },
  { "a script with a syntax error", function()
      return q(helper.nsl) .. " run " .. q(script("syntax.lua", "local x = = 1\n"))
    end,
    1, function()
      return "^nsl: " .. (tmp .. "/syntax.lua"):gsub("%p", "%%%0") .. ":1: unexpected symbol near '='\n"
    end },
  { "a script error in the middle of the setup", function()
      return q(helper.nsl) .. " run " .. q(script("midway.lua", string.format([[
        local c = require("nsl").container
        os.exit(c.main { rootfs = %q, command = { "/bin/true" },
          steps = { "propagation", "bind_rootfs", function() error("disk on fire", 0) end } })
      ]], ROOT)))
    end,
    125, function() return "nsl: disk on fire\n" end },
  { "pivot_root on a shared mount", function()
      return q(helper.nsl) .. " run " .. q(script("shared.lua", string.format([[
        local nsl = require "nsl"
        local c = nsl.container
        -- private first, so that the shared peer group is this namespace's own
        local function shared(cfg)
          assert(nsl.mount(nil, "/", nil, "rec private"))
          assert(nsl.mount(nil, "/", nil, "shared"))
        end
        os.exit(c.main { rootfs = %q, command = { "/bin/true" },
          steps = { shared, "bind_rootfs", "enter_root" } })
      ]], ROOT)))
    end,
    125, function()
      return "^nsl: setup step 'enter_root': pivot_root '%.' %(put_old '%.'%): Invalid argument %(EINVAL%)\n" ..
        "  hint: pivot_root refuses shared mounts"
    end },
  { "devpts with an unmapped gid 5", function()
      return q(helper.nsl) .. " run " .. q(script("devpts.lua", string.format([[
        local c = require("nsl").container
        local cfg = c.config { rootfs = %q, command = { "/bin/true" }, userns = true,
          uid_map = { { 0, 0, 1 } }, gid_map = { { 0, 0, 1 } } }
        cfg.steps = { "propagation", "bind_rootfs", function(cfg)
          c.check("devpts", require("nsl").mount("devpts", cfg.rootfs .. "/dev", "devpts",
            "nosuid noexec", "newinstance,gid=5"))
        end }
        os.exit(c.main(cfg))
      ]], ROOT)))
    end,
    125, function()
      return "^nsl: setup step 'devpts': mount 'devpts' on '.-' %(fstype 'devpts', flags 'nosuid|noexec'%): " ..
        "Invalid argument %(EINVAL%)\n" ..
        "  hint: devpts refuses gid=5"
    end },
  { "user namespaces disabled", function()
      -- a throwaway user namespace whose own limit is 0: the host is untouched
      return "unshare -U -r -m sh -c " .. q("echo 0 > /proc/sys/user/max_user_namespaces && exec " ..
        busybox("--rootfs " .. q(ROOT) .. " --userns /bin/true"))
    end,
    125, function()
      -- no net: the network namespace is made during the setup (netns_prepare)
      return "^nsl: start: clone 'ipc|mnt|pid|user|uts': No space left on device %(ENOSPC%)\n" ..
        "  hint: user namespaces are disabled or used up"
    end },
}

describe("bad input", function()
  for _, case in ipairs(CASES) do
    local what, command, code, message = table.unpack(case)
    it("ends " .. what .. " with " .. code .. " and a clear message", function()
      local mounts = helper.mountinfo()
      local r = helper.sh(command())
      assert.equal(code, r.code, r.err)
      local expected = message()
      if expected:sub(1, 1) == "^" then
        assert.matches(expected, r.err)
      else
        assert.equal(expected, r.err)
      end
      assert.equal(mounts, helper.mountinfo())
      assert.same({}, helper.leftovers(ROOT))
    end)
  end

  it("ends a uid map outside the caller's rights with 125 and the map", function()
    local r = helper.unprivileged("\"$NSL\" run busybox.lua --rootfs " .. q(ROOT) ..
      " --uid-map 0:0:1 /bin/true")
    assert.equal(125, r.code, r.err)
    -- a map of another uid goes through newuidmap, checked first against
    -- what /etc/subuid grants (nothing, to uid 65534 here)
    assert.matches("^nsl: start: uid map 0:0:1: the range 0:0:1 is not covered by /etc/subuid, " ..
      "which grants user nobody %(uid 65534%)", r.err)
  end)

  it("passes a very long argument list through", function()
    local args = {}
    for i = 1, 20000 do args[i] = "a" .. i end
    local r = helper.sh(busybox("--rootfs " .. q(ROOT) .. " /bin/sh -c 'echo $#' sh " .. table.concat(args, " ")))
    assert.same({ 0, "20000\n" }, { r.code, r.out })
  end)

  it("passes non-UTF-8 arguments through byte for byte", function()
    local r = helper.sh(busybox("--rootfs " .. q(ROOT) .. " /bin/echo " .. q("\xff\xfe\x80 caf\xe9")))
    assert.same({ 0, "\xff\xfe\x80 caf\xe9\n" }, { r.code, r.out })
  end)
end)

describe("nsl.userns.parse_map", function()
  local userns = require "nsl.userns"

  it("takes ranges the kernel can map", function()
    assert.same({ { 0, 1000, 1 }, { 1, 100000, 65536 } }, userns.parse_map("0:1000:1,1:100000:65536"))
    assert.same({ { 0, 4294967294, 1 } }, userns.parse_map("0:4294967294:1"))
  end)

  it("refuses ids past 4294967294, a count of 0 and numbers too big for an integer", function()
    for _, bad in ipairs { "0:4294967295:1", "4294967295:0:1", "0:0:0", "0:4294967290:10",
      "0:99999999999999999999:1", "0:0:18446744073709551616" } do
      assert.has_error(function() userns.parse_map(bad) end,
        "bad id map '" .. bad .. "': ids are 0..4294967294 and a count at least 1")
    end
  end)

  it("is a usage error of busybox.lua for --uid-map, before anything runs", function()
    local r = helper.sh(q(helper.nsl) .. " run busybox.lua --rootfs " .. q(ROOT) ..
      " --uid-map 0:4294967295:1 /bin/echo ran")
    assert.same({ 2, "" }, { r.code, r.out })
    assert.matches("bad id map '0:4294967295:1'", r.err)
  end)
end)
