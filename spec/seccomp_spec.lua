-- Seccomp: the libseccomp bindings, policies as Lua tables (nsl.seccomp),
-- the default profile and its cache, and containers run under it as root
-- and as uid 65534.
local helper = require "helper"
local core = require "nsl.core"
local seccomp = require "nsl.seccomp"

local q = helper.quote
local E = core.errno

-- A shallow copy of the default profile with extra rules.
local function default_with(rules)
  local p = {}
  for k, v in pairs(require "nsl.seccomp_default") do p[k] = v end
  p.rules = { table.unpack(p.rules) }
  for _, r in ipairs(rules) do p.rules[#p.rules + 1] = r end
  return p
end

local function sha256(data, dir)
  helper.write(dir .. "/data", data)
  local r = helper.sh("sha256sum " .. q(dir .. "/data"))
  assert.equal(0, r.code, r.err)
  return r.out:match("^(%x+)")
end

-- The "NAME RESULT" lines of spec/fixtures/seccomp_probe.c as a table.
local function probe_results(out)
  local t = {}
  for name, result in out:gmatch("(%S+) (%S+)\n") do t[name] = result end
  return t
end

describe("nsl.core seccomp bindings", function()
  it("reports libseccomp's version, API level and the native architecture", function()
    assert.matches("^%d+%.%d+%.%d+$", core.seccomp_version())
    assert.is_true(core.seccomp_api_get() >= 1)
    local machine = helper.sh("uname -m").out:gsub("%s+$", "")
    local names = { x86_64 = "x86_64", aarch64 = "aarch64", i686 = "x86", riscv64 = "riscv64",
      s390x = "s390x", ppc64le = "ppc64le" }
    assert.equal(names[machine] or machine, core.seccomp_arch_native())
  end)

  it("resolves syscall names and numbers both ways", function()
    local nr = assert(core.seccomp_syscall_resolve_name("mkdir"))
    assert.equal("mkdir", core.seccomp_syscall_resolve_num(nr))
    assert.equal(11, core.seccomp_syscall_resolve_name("execve", "x86"))
    assert.same({ nil, "seccomp_syscall_resolve_name 'mkdri': Invalid argument", E.EINVAL },
      { core.seccomp_syscall_resolve_name("mkdri") })
  end)

  it("returns nil, message and errno for a rule libseccomp refuses", function()
    local f <close> = assert(core.seccomp_init("errno EPERM"))
    assert.same({ nil, "seccomp_rule_add 'mkdri': Invalid argument", E.EINVAL },
      { core.seccomp_rule_add(f, "allow", "mkdri") })
    -- a rule that does what the default does
    assert.same({ nil, "seccomp_rule_add 'write': Permission denied", E.EACCES },
      { f:rule_add("errno EPERM", "write") })
    -- one comparison per argument
    assert.same({ nil, "seccomp_rule_add 'read': Invalid argument", E.EINVAL },
      { f:rule_add("allow", "read", { { 0, "ne", 1 }, { 0, "ne", 2 } }) })
    assert.same({ nil, "seccomp_arch_add 'x86_64': File exists", E.EEXIST },
      { f:arch_add("x86_64") })
    assert.is_true(f:rule_add("allow", "read", { { 0, "eq", 0 } }))
  end)

  it("raises for unknown actions, operators, architectures and attributes", function()
    local f <close> = assert(core.seccomp_init("allow"))
    local function raises(fn, message)
      local ok, err = pcall(fn)
      assert.is_false(ok)
      assert.matches(message, err, 1, true)
    end
    raises(function() core.seccomp_init("errno EPREM") end, "unknown seccomp action 'errno EPREM'")
    raises(function() f:rule_add("bogus", "read") end, "unknown seccomp action 'bogus'")
    raises(function() f:rule_add("kill", "read", { { 0, "like", 1 } }) end,
      "comparison 1: unknown operator 'like'")
    raises(function() f:rule_add("kill", "read", { { 7, "eq", 1 } }) end,
      "comparison 1: argument index 0..5")
    raises(function() f:rule_add("kill", "read", { { 1, "masked_eq", 0xff } }) end,
      "masked_eq needs mask and value")
    raises(function() f:arch_add("vax") end, "unknown architecture 'vax'")
    raises(function() f:attr_set("ctl_bogus", 1) end, "unknown seccomp attribute 'ctl_bogus'")
    raises(function() core.seccomp_load_bpf("1234567") end, "not a BPF program")
  end)

  it("raises for a syscall number out of int range rather than truncating it", function()
    -- 2^32 + 59 was execve (59 on x86_64, whatever the number here)
    local f <close> = assert(core.seccomp_init("allow"))
    local nr = core.seccomp_syscall_resolve_name("execve")
    for _, bad in ipairs { (1 << 32) + nr, math.maxinteger, math.mininteger } do
      assert.has_error(function() f:rule_add("errno EPERM", bad) end, string.format(
        "bad argument #2 to 'rule_add' (syscall %d out of range -2147483648..2147483647)", bad))
      assert.has_error(function() core.seccomp_syscall_resolve_num(bad) end, string.format(
        "bad argument #1 to 'seccomp_syscall_resolve_num' (syscall %d out of range " ..
        "-2147483648..2147483647)", bad))
    end
  end)

  it("raises for comparisons whose __len is negative", function()
    -- the count was cast to unsigned and libseccomp read past the six
    helper.child(function()
      local f <close> = assert(core.seccomp_init("allow"))
      for _, n in ipairs { -1, math.mininteger } do
        local cmps = setmetatable({}, { __len = function() return n end })
        assert.has_error(function() f:rule_add("kill", "read", cmps) end,
          "bad argument #3 to 'rule_add' (at most 6 comparisons)")
      end
    end)
  end)

  it("exports BPF and pseudo filter code, and refuses a released filter", function()
    local f = assert(core.seccomp_init("allow"))
    assert.is_true(f:rule_add("errno EACCES", "mkdir"))
    local bpf = assert(f:export_bpf())
    assert.is_true(#bpf > 0 and #bpf % 8 == 0)
    assert.matches('filter for syscall "mkdir"', assert(f:export_pfc()), 1, true)
    assert.is_true(core.seccomp_release(f))
    assert.matches("seccomp filter is released", select(2, pcall(f.export_bpf, f)), 1, true)
    assert.equal("seccomp filter (released)", tostring(f))
  end)

  it("loads an exported program with seccomp_load_bpf in a child", function()
    local f <close> = assert(core.seccomp_init("allow"))
    assert(f:rule_add("errno EACCES", "mkdir"))
    local bpf = assert(f:export_bpf())
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    helper.child(function()
      assert(core.seccomp_load_bpf(bpf))
      local p = dir .. "/x"
      assert.same({ nil, "mkdir '" .. p .. "': Permission denied", E.EACCES },
        { core.mkdir(p) })
      -- root (CAP_SYS_ADMIN) needs no no_new_privs for it
      assert.is_false(core.no_new_privs())
    end)
    assert.is_nil(core.lstat(dir .. "/x"))
  end)

  it("loads with seccomp_load, which sets no_new_privs unless ctl_nnp is off", function()
    helper.child(function()
      local f <close> = assert(core.seccomp_init("allow"))
      assert(f:rule_add("errno ENOSYS", "getcpu"))
      assert(f:load())
      assert.is_true(core.no_new_privs())
    end)
  end)
end)

describe("nsl.seccomp", function()
  it("names the entry of an unknown syscall, action, field or comparison", function()
    local function message(policy)
      local ok, err = pcall(seccomp.compile, policy)
      assert.is_false(ok)
      return err
    end
    local base = { "read", "write", "execve", "brk", "mmap", "munmap", "exit_group" }
    assert.equal("seccomp policy rules[3]: unknown syscall 'mkdri'", message{
      allow = base, rules = { { "ioctl" }, { "open" }, { "mkdri", action = "kill" } } })
    assert.equal("seccomp policy allow[2]: unknown syscall 'wirte'", message{ allow = { "read", "wirte" } })
    assert.equal("seccomp policy rules[1]: unknown action 'errno EPREM'", message{
      allow = base, rules = { { "mkdir", action = "errno EPREM" } } })
    assert.equal("seccomp policy default: unknown action 'deny'", message{ default = "deny" })
    assert.equal("seccomp policy has an unknown field 'alow'", message{ alow = base })
    assert.equal("seccomp policy rules[1]: unknown field 'arg'", message{
      allow = base, rules = { { "ioctl", action = "kill", arg = { { 1, "eq", 1 } } } } })
    assert.equal("seccomp policy rules[1].args[2]: argument 0 is compared twice " ..
      "(libseccomp takes one comparison per argument)", message{
      allow = base, rules = { { "kill", args = { { 0, "ne", 1 }, { 0, "ne", 2 } } } } })
    assert.equal("seccomp policy arches[1]: unknown architecture 'vax'", message{
      allow = base, arches = { "vax" } })
  end)

  it("refuses a policy that blocks the exec or what nsl does before it", function()
    local ok, err = pcall(seccomp.compile, { default = "allow",
      rules = { { "execve", action = "errno EPERM" } } })
    assert.is_false(ok)
    assert.equal("seccomp policy refuses 'execve', which nsl needs between loading the " ..
      "filter and the command's exec", err)
    ok, err = pcall(seccomp.compile, { allow = { "execve", "read" } })
    assert.is_false(ok)
    assert.matches("refuses 'brk'", err, 1, true)
  end)

  it("refuses a conditional refusal of an allowed syscall it cannot express", function()
    local ok, err = pcall(seccomp.compile, default_with{
      { "ioctl", action = "errno EPERM", args = { { 1, "eq", core.seccomp_values.TIOCSTI } } } })
    assert.is_false(ok)
    assert.matches("^seccomp policy rules%[%d+%]: 'ioctl' is also in allow, so a conditional " ..
      "rule on it must be one masked_eq on the low 32 bits of one argument", err)
  end)

  it("skips unknown names with skip_unknown", function()
    local p = default_with{}
    p.allow = { table.unpack(p.allow) }
    p.allow[#p.allow + 1] = "no_such_syscall"
    local f <close> = seccomp.compile(p)
    assert.is_true(#assert(f:export_bpf()) > 0)
  end)

  it("refuses mkdir with EACCES under a policy that says so", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    local bpf = seccomp.bpf(default_with{ { "mkdir", action = "errno EACCES" } }, dir .. "/cache")
    helper.child(function()
      assert(seccomp.load(bpf))
      local p = dir .. "/x"
      assert.same({ nil, "mkdir '" .. p .. "': Permission denied", E.EACCES }, { core.mkdir(p) })
      -- what the default profile refuses
      assert.same({ nil, "unshare 'user': Operation not permitted", E.EPERM },
        { core.unshare("user") })
    end)
  end)

  it("loads its compiler only when a program is not in the cache yet", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    local code = "local s = require 'nsl.seccomp' local bpf = s.bpf('default', ...) " ..
      "print(#bpf % 8, package.loaded['nsl.seccomp_compile'] ~= nil)"
    local function run()
      local r = helper.sh(q(helper.nsl) .. " -e " .. q(code) .. " " .. q(dir .. "/cache"))
      assert.equal(0, r.code, r.err)
      return r.out
    end
    assert.equal("0\ttrue\n", run()) -- compiled
    assert.equal("0\tfalse\n", run()) -- from the cache
    -- and the compiler's functions are the module's, for a policy table or help
    assert.is_function(seccomp.check)
    local names = {}
    for k in pairs(seccomp) do names[#names + 1] = k end
    table.sort(names)
    for _, name in ipairs { "check", "compile", "enosys_stub", "last_syscalls", "program" } do
      assert.truthy(table.concat(names, " "):find(name, 1, true), name)
    end
  end)

  -- The golden export: the default profile compiles to the same program
  -- as long as the profile, libseccomp and the kernel's seccomp API level
  -- stay. After changing nsl/seccomp_default.lua (or with a new
  -- libseccomp) check the change, then refresh the fixture with:
  --   lua5.4 -e 'package.path="lua/?.lua;"..package.path
  --     package.cpath="build/lib/?.so;"..package.cpath
  --     io.write(require("nsl.seccomp").compile(require "nsl.seccomp_default"):export_bpf())' |
  --     sha256sum | sed 's/-$/default profile, x86_64/' > spec/fixtures/seccomp_default.sha256
  it("compiles the default profile to the golden program (x86_64)", function()
    if core.seccomp_arch_native() ~= "x86_64" then
      pending("the golden export is an x86_64 program")
      return
    end
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    local golden = helper.read(helper.root .. "/spec/fixtures/seccomp_default.sha256"):match("^(%x+)")
    local f <close> = seccomp.compile(require "nsl.seccomp_default")
    assert.equal(golden, sha256(assert(f:export_bpf()), dir),
      "libseccomp " .. core.seccomp_version() .. ", API level " .. core.seccomp_api_get())
  end)

  it("caches the program by content and does not compile it again", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    local cache = dir .. "/cache"
    local policy = default_with{ { "mkdir", action = "errno EACCES" } }
    local compiled = seccomp.stats.compiled
    local bpf, path = seccomp.bpf(policy, cache)
    assert.equal(compiled + 1, seccomp.stats.compiled)
    assert.equal(cache .. "/" .. seccomp.key(policy) .. ".bpf", path)
    assert.equal(bpf, helper.read(path))
    assert.same({ seccomp.key(policy) .. ".bpf" }, core.readdir(cache)) -- no temporary left
    local cached = seccomp.stats.cached
    -- an equal table built anew has the same key
    local again = seccomp.bpf(default_with{ { "mkdir", action = "errno EACCES" } }, cache)
    assert.equal(bpf, again)
    assert.same({ compiled + 1, cached + 1 }, { seccomp.stats.compiled, seccomp.stats.cached })
    -- another policy, another key
    assert.are_not.equal(seccomp.key(policy), seccomp.key(default_with{}))
    -- a damaged file (not whole instructions) is compiled and written again
    helper.write(path, "1234567")
    assert.equal(bpf, (seccomp.bpf(policy, cache)))
    assert.equal(compiled + 2, seccomp.stats.compiled)
    assert.equal(bpf, helper.read(path))
  end)
end)

-- Containers under the profile, with the probe built static into the root.
local ROOT, tmp

local function run(args, env)
  return helper.sh((env or "") .. "XDG_CACHE_HOME=" .. q(tmp .. "/cache") .. " " .. q(helper.nsl) ..
    " run busybox.lua --rootfs " .. q(ROOT) .. " " .. args)
end

local function unprivileged_run(args)
  return helper.unprivileged("XDG_CACHE_HOME=" .. q(tmp .. "/ucache") ..
    " \"$NSL\" run busybox.lua --rootfs " .. q(ROOT) .. " " .. args)
end

describe("nsl run busybox.lua --seccomp", function()
  setup(function()
    tmp = helper.tmpdir()
    ROOT = tmp .. "/busybox"
    local r = helper.sh(q(helper.nsl) .. " -e " ..
      q("require('nsl').rootfs.busybox(" .. string.format("%q", ROOT) .. ")"))
    assert.equal(0, r.code, r.err)
    r = helper.sh("gcc -static -O -o " .. q(ROOT .. "/bin/seccomp_probe") .. " " ..
      q(helper.root .. "/spec/fixtures/seccomp_probe.c"))
    assert.equal(0, r.code, r.err)
    -- policies and the unprivileged cache, readable and writable by 65534
    assert(os.execute("mkdir -p " .. q(tmp .. "/ucache") .. " && chown 65534:65534 " ..
      q(tmp .. "/ucache")))
    helper.write(tmp .. "/mkdir.lua", [[
local p = {}
for k, v in pairs(require "nsl.seccomp_default") do p[k] = v end
p.rules = { table.unpack(p.rules) }
p.rules[#p.rules + 1] = { "mkdir", action = "errno EACCES" }
return p
]])
    helper.write(tmp .. "/typo.lua", [[
return { allow = { "read", "write" }, rules = { { "ioctl" }, { "open" }, { "mkdri" } } }
]])
    helper.write(tmp .. "/noexec.lua", [[
return { default = "allow", rules = { { "execve", action = "kill" } } }
]])
    assert(os.execute("chmod a+r " .. q(tmp) .. "/*.lua"))
  end)

  teardown(function()
    helper.rmtree(tmp)
  end)

  it("runs ordinary commands and refuses unshare and mount as root (default)", function()
    local r = run("/bin/sh -c " .. q("echo hi | cat; ls / >/dev/null && echo ls; " ..
      "grep Seccomp: /proc/self/status; unshare -U true; echo rc=$?; " ..
      "mount -t tmpfs t /mnt; echo rc=$?"))
    assert.equal(0, r.code, r.err)
    assert.equal("hi\nls\nSeccomp:\t2\nrc=1\nrc=1\n", r.out)
    assert.equal("unshare: unshare(0x10000000): Operation not permitted\n" ..
      "mount: permission denied (are you root?)\n", r.err)
  end)

  it("refuses TIOCSTI, TIOCLINUX, new namespaces, clone3 and io_uring inside (default)", function()
    local r = run("/bin/seccomp_probe")
    assert.equal(0, r.code, r.err)
    assert.same({ TIOCGWINSZ = "ok", TIOCSTI = "EPERM", TIOCSTI_HIGH = "EPERM",
      TIOCLINUX = "EPERM", clone = "ok", clone_newuser = "EPERM", clone3 = "ENOSYS",
      io_uring_setup = "EPERM", io_uring_enter = "EPERM", io_uring_register = "EPERM" },
      probe_results(r.out))
    -- the control: without the filter the kernel says otherwise
    local u = probe_results(run("--seccomp unconfined /bin/seccomp_probe").out)
    assert.are_not.equal("EPERM", u.TIOCSTI)
    assert.are_not.equal("EPERM", u.TIOCSTI_HIGH)
    assert.are_not.equal("EPERM", u.TIOCLINUX)
    assert.are_not.equal("ENOSYS", u.clone3)
    -- (io_uring_setup itself may be refused by kernel.io_uring_disabled)
    assert.are_not.equal("EPERM", u.io_uring_enter)
    assert.are_not.equal("EPERM", u.io_uring_register)
  end)

  it("makes mkdir fail with EACCES under a policy file that says so", function()
    local r = run("--seccomp " .. q(tmp .. "/mkdir.lua") .. " /bin/sh -c 'mkdir /tmp/x; echo rc=$?'")
    assert.same({ 0, "rc=1\n", "mkdir: can't create directory '/tmp/x': Permission denied\n" },
      { r.code, r.out, r.err })
  end)

  it("stops before the start with the entry of an unknown syscall", function()
    local r = run("--seccomp " .. q(tmp .. "/typo.lua") .. " /bin/true")
    assert.same({ 125, "nsl: seccomp policy rules[3]: unknown syscall 'mkdri'\n" }, { r.code, r.err })
  end)

  it("refuses a policy that would kill the exec", function()
    local r = run("--seccomp " .. q(tmp .. "/noexec.lua") .. " /bin/true")
    assert.same({ 125, "nsl: seccomp policy refuses 'execve', which nsl needs between " ..
      "loading the filter and the command's exec\n" }, { r.code, r.err })
  end)

  it("loads the cached program on the second start without compiling", function()
    local cache = tmp .. "/cache-warm"
    local env = "XDG_CACHE_HOME=" .. q(cache) .. " "
    local first = helper.sh(env .. q(helper.nsl) .. " run busybox.lua --rootfs " .. q(ROOT) .. " /bin/true")
    assert.equal(0, first.code, first.err)
    local files = assert(core.readdir(cache .. "/nsl/seccomp"))
    assert.equal(1, #files)
    local path = cache .. "/nsl/seccomp/" .. files[1]
    local st = assert(core.stat(path))
    -- a second start only reads the file: a compiled one would be a new
    -- file (tmp + rename) with a new inode
    local r = helper.sh(env .. q(helper.nsl) .. " -e " .. q([[
      local seccomp = require("nsl").seccomp
      local c = require("nsl").container.config{ rootfs = "/", seccomp = "default" }
      io.write(seccomp.stats.compiled, " ", seccomp.stats.cached, " ", #c.seccomp_bpf)]]))
    assert.same({ 0, "0 1 " .. st.size }, { r.code, r.out })
    local second = helper.sh(env .. q(helper.nsl) .. " run busybox.lua --rootfs " .. q(ROOT) ..
      " /bin/sh -c 'grep Seccomp: /proc/self/status'")
    assert.same({ 0, "Seccomp:\t2\n" }, { second.code, second.out })
    local after = assert(core.stat(path))
    assert.same({ st.ino, st.mtime }, { after.ino, after.mtime })
    assert.same(files, core.readdir(cache .. "/nsl/seccomp"))
  end)
end)

describe("nsl run busybox.lua --seccomp as an ordinary user", function()
  setup(function()
    tmp = helper.tmpdir()
    ROOT = tmp .. "/busybox"
    local r = helper.sh(q(helper.nsl) .. " -e " ..
      q("require('nsl').rootfs.busybox(" .. string.format("%q", ROOT) .. ")"))
    assert.equal(0, r.code, r.err)
    r = helper.sh("gcc -static -O -o " .. q(ROOT .. "/bin/seccomp_probe") .. " " ..
      q(helper.root .. "/spec/fixtures/seccomp_probe.c"))
    assert.equal(0, r.code, r.err)
    assert(os.execute("mkdir -p " .. q(tmp .. "/ucache") .. " && chown 65534:65534 " ..
      q(tmp .. "/ucache")))
    helper.write(tmp .. "/mkdir.lua", [[
local p = {}
for k, v in pairs(require "nsl.seccomp_default") do p[k] = v end
p.rules = { table.unpack(p.rules) }
p.rules[#p.rules + 1] = { "mkdir", action = "errno EACCES" }
return p
]])
    assert(os.execute("chmod a+r " .. q(tmp .. "/mkdir.lua")))
  end)

  teardown(function()
    helper.rmtree(tmp)
  end)

  it("refuses unshare, mount, TIOCSTI and io_uring in the user namespace (default)", function()
    local r = unprivileged_run("/bin/sh -c " .. q("id -u; unshare -U true; echo rc=$?; " ..
      "mount -t tmpfs t /mnt; echo rc=$?; seccomp_probe"))
    assert.equal(0, r.code, r.err)
    assert.matches("^0\nrc=1\nrc=1\n", r.out)
    assert.same({ TIOCGWINSZ = "ok", TIOCSTI = "EPERM", TIOCSTI_HIGH = "EPERM",
      TIOCLINUX = "EPERM", clone = "ok", clone_newuser = "EPERM", clone3 = "ENOSYS",
      io_uring_setup = "EPERM", io_uring_enter = "EPERM", io_uring_register = "EPERM" },
      probe_results(r.out:gsub("^0\nrc=1\nrc=1\n", "")))
    assert.equal("unshare: unshare(0x10000000): Operation not permitted\n" ..
      "mount: permission denied (are you root?)\n", r.err)
    -- the program went to the user's cache
    assert.equal(1, #assert(core.readdir(tmp .. "/ucache/nsl/seccomp")))
    -- the control: the kernel alone lets the nested user namespace be made
    local u = unprivileged_run("--seccomp unconfined /bin/seccomp_probe")
    assert.equal(0, u.code, u.err)
    assert.equal("ok", probe_results(u.out).clone_newuser)
  end)

  it("makes mkdir fail with EACCES under a policy file that says so", function()
    local r = unprivileged_run("--seccomp " .. q(tmp .. "/mkdir.lua") ..
      " /bin/sh -c 'mkdir /tmp/x; echo rc=$?'")
    assert.same({ 0, "rc=1\n", "mkdir: can't create directory '/tmp/x': Permission denied\n" },
      { r.code, r.out, r.err })
  end)

  it("sets no_new_privs to load a filter without CAP_SYS_ADMIN, and only then", function()
    local path = tmp .. "/never"
    local r = helper.unprivileged_lua(string.format([[
      local nsl = require "nsl"
      local f = nsl.seccomp.compile{ default = "allow", rules = { { "mkdir", action = "errno EACCES" } } }
      local bpf = f:export_bpf()
      print(#bpf // 8, nsl.no_new_privs())
      print(nsl.seccomp_load_bpf(bpf))
      print(nsl.seccomp.load(bpf), nsl.no_new_privs())
      print(nsl.mkdir(%q))]], path))
    assert.equal(0, r.code, r.err)
    local n = assert(tonumber(r.out:match("^(%d+)")))
    assert.equal(string.format("%d\tfalse\nnil\tseccomp_load_bpf (%d instructions): " ..
      "Permission denied\t%d\ntrue\ttrue\nnil\tmkdir '%s': Permission denied\t%d\n",
      n, n, E.EACCES, path, E.EACCES), r.out)
    assert.is_nil(core.lstat(path))
  end)
end)

-- An interpreter of classic BPF seccomp programs, written apart from
-- nsl.bpf so that a misreading of an opcode there does not hide here:
-- returns the verdict and the offsets of the argument words it read.
local function decode(bpf)
  local prog = {}
  for i = 1, #bpf, 8 do prog[#prog + 1] = { string.unpack("<I2I1I1I4", bpf, i) } end
  return prog
end

local ALU = { [0x00] = function(a, b) return a + b end, [0x10] = function(a, b) return a - b end,
  [0x20] = function(a, b) return a * b end, [0x30] = function(a, b) return a // b end,
  [0x40] = function(a, b) return a | b end, [0x50] = function(a, b) return a & b end,
  [0x60] = function(a, b) return a << b end, [0x70] = function(a, b) return a >> b end,
  [0x80] = function(a) return -a end, [0x90] = function(a, b) return a % b end,
  [0xa0] = function(a, b) return a ~ b end }
local JUMP = { [0x10] = function(a, b) return a == b end, [0x20] = function(a, b) return a > b end,
  [0x30] = function(a, b) return a >= b end, [0x40] = function(a, b) return a & b ~= 0 end }

-- The verdict of prog on the input words (offset -> value), and the
-- values worth trying for the argument words it read: the constants it
-- compared or masked them with, and their neighbours, by offset.
local function run_bpf(prog, words)
  local A, X, mem, pc = 0, 0, {}, 1
  local tried, from, mask = {}, nil, 0xffffffff
  local function note(k)
    if not from then return end
    local list = tried[from] or {}
    tried[from] = list
    for _, v in ipairs{ k, k - 1, k + 1, k | ~mask, (k | ~mask) + 1 } do list[#list + 1] = v & 0xffffffff end
  end
  while true do
    local code, jt, jf, k = table.unpack((assert(prog[pc], "ran off the end")))
    local class, pc_next = code & 7, pc + 1
    if class == 0 or class == 1 then -- ld, ldx
      local mode, v = code & 0xe0, nil
      if mode == 0x20 then
        assert(code & 0x18 == 0 and k % 4 == 0 and k < 64, "a load the kernel refuses")
        v = words[k] or 0
        if class == 0 then from, mask = k >= 8 and k or nil, 0xffffffff end
        if k >= 8 then tried[k] = tried[k] or {} end
      elseif mode == 0x00 then v = k
      elseif mode == 0x60 then v = assert(mem[k], "scratch read before written")
      elseif mode == 0x80 then v = 64
      else error("unknown load " .. code) end
      if class == 0 then A = v else X = v end
    elseif class == 2 then mem[k] = A
    elseif class == 3 then mem[k] = X
    elseif class == 4 then
      local b = code & 8 ~= 0 and X or k
      if code & 0xf0 == 0x50 then mask = mask & b end
      note(b)
      A = assert(ALU[code & 0xf0], "unknown alu")(A, b) & 0xffffffff
    elseif class == 5 then
      if code & 0xf0 == 0 then pc_next = pc + 1 + k
      else
        local b = code & 8 ~= 0 and X or k
        note(b)
        local hit = assert(JUMP[code & 0xf0], "unknown jump")(A, b)
        pc_next = pc + 1 + (hit and jt or jf)
      end
    elseif class == 6 then
      return code & 0x18 == 0x10 and A or k, tried
    else
      if code & 0xf8 == 0 then X = A else A = X end
    end
    pc = pc_next
  end
end

local AUDIT_X86_64, AUDIT_I386 = 0xc000003e, 0x40000003

-- Every constant of a program and its neighbours: syscall numbers to try.
local function constants(prog, out)
  for _, ins in ipairs(prog) do
    local k = ins[4]
    for _, v in ipairs{ k, k - 1, k + 1 } do out[v & 0xffffffff] = true end
  end
  return out
end

-- Do the two programs give the same verdict for every syscall number of
-- x86_64, x32 and i386 (and every number either compares with), for other
-- architectures, and for the arguments either reads: each argument word
-- through every value either compares it with (and its neighbours, again
-- until no run finds a new one), and pairs of arguments through theirs?
-- Returns how many inputs it tried.
local function assert_same_verdicts(old, new)
  local p1, p2 = decode(old), decode(new)
  local count = 0
  local function same(words)
    local v1, tried = run_bpf(p1, words)
    local v2, tried2 = run_bpf(p2, words)
    count = count + 1
    if v1 ~= v2 then
      local text = {}
      for off, v in pairs(words) do text[#text + 1] = string.format("[%d]=0x%x", off, v) end
      table.sort(text)
      error(string.format("%s: libseccomp's program says 0x%08x, the short one 0x%08x",
        table.concat(text, " "), v1, v2), 2)
    end
    for off, list in pairs(tried2) do
      tried[off] = tried[off] or {}
      table.move(list, 1, #list, #tried[off] + 1, tried[off])
    end
    return tried
  end
  local function with(base, extra)
    local words = {}
    for k, v in pairs(base) do words[k] = v end
    for k, v in pairs(extra) do words[k] = v end
    return words
  end
  -- the argument words of one (arch, nr): every value until none is new
  local function arguments(base, tried)
    local values, queue = {}, {}
    local function add(found)
      for off, list in pairs(found) do
        values[off] = values[off] or { [0] = true, [1] = true, [0x80000000] = true, [0xffffffff] = true }
        for _, v in ipairs(list) do
          if not values[off][v] then values[off][v] = true; queue[#queue + 1] = { off, v } end
        end
        for v in pairs(values[off]) do queue[#queue + 1] = { off, v } end
      end
    end
    add(tried)
    local done = {}
    while #queue > 0 do
      local off, v = table.unpack(table.remove(queue))
      local key = off .. ":" .. v
      if not done[key] then
        done[key] = true
        add(same(with(base, { [off] = v })))
      end
    end
    -- pairs of words through their values
    local offs = {}
    for off in pairs(values) do offs[#offs + 1] = off end
    for i = 1, #offs do
      for j = i + 1, #offs do
        for a in pairs(values[offs[i]]) do
          for b in pairs(values[offs[j]]) do same(with(base, { [offs[i]] = a, [offs[j]] = b })) end
        end
      end
    end
  end
  local nrs = constants(p2, constants(p1, {}))
  local cases = {}
  for _, arch in ipairs{ AUDIT_X86_64, AUDIT_I386 } do
    for nr = 0, 1023 do cases[#cases + 1] = { arch, nr } end
    for nr in pairs(nrs) do cases[#cases + 1] = { arch, nr } end
  end
  for nr = 0x40000000, 0x400003ff do cases[#cases + 1] = { AUDIT_X86_64, nr } end -- x32
  for _, arch in ipairs{ 0, 0xc00000b7, 0x40000028, AUDIT_X86_64 + 1, AUDIT_X86_64 - 1,
    AUDIT_I386 + 1, 0xffffffff } do
    for _, nr in ipairs{ 0, 1, 59, 0x40000000, 0xffffffff } do cases[#cases + 1] = { arch, nr } end
  end
  for _, case in ipairs(cases) do
    local base = { [0] = case[2], [4] = case[1] }
    local tried = same(base)
    if next(tried) then arguments(base, tried) end
  end
  return count
end

describe("nsl.bpf.shrink", function()
  local bpf = require "nsl.bpf"

  -- libseccomp's program of a policy, and its rewrite
  local function both(policy)
    local f <close> = seccomp.compile(policy)
    local old = assert(f:export_bpf())
    return old, assert(bpf.rewrite(old))
  end

  it("gives the default profile's verdicts in half the instructions or fewer", function()
    local old, new = both(require "nsl.seccomp_default")
    assert.is_true(#new * 2 <= #old, string.format("%d instructions of %d", #new // 8, #old // 8))
    assert.is_true(assert_same_verdicts(old, new) > 5000)
  end)

  it("shares its returns: every jump to one goes to the farthest equal one in reach", function()
    local old, new = both(require "nsl.seccomp_default")
    local prog = decode(new)
    local function cond(code) return code & 7 == 5 and code ~= 0x05 end
    local reached = { [1] = true }
    for i, ins in ipairs(prog) do
      local code = ins[1]
      if reached[i] then
        if cond(code) then
          for slot = 2, 3 do
            local to = i + 1 + ins[slot]
            reached[to] = true
            -- a return jumped to: none equal to it farther within reach
            if prog[to][1] == 0x06 then
              for j = to + 1, math.min(i + 256, #prog) do
                assert.is_false(prog[j][1] == 0x06 and prog[j][4] == prog[to][4],
                  string.format("jump at %d to the return at %d, an equal one at %d", i - 1, to - 1, j - 1))
              end
            end
          end
        elseif code == 0x05 then
          reached[i + 1 + ins[4]] = true
        elseif code & 7 ~= 6 then
          reached[i + 1] = true
        end
      end
    end
    for i = 1, #prog do assert.is_true(reached[i], "instruction " .. (i - 1) .. " is never reached") end
    assert.is_true(#new * 3 <= #old, string.format("%d instructions of %d", #new // 8, #old // 8))
  end)

  -- The kernel's action cache (seccomp_is_const_allow in kernel/seccomp.c):
  -- does the program allow (arch, nr) on a path that loads only the nr and
  -- the arch and tests them? Such a syscall never runs the filter again.
  local function const_allow(prog, arch, nr)
    local a, pc = 0, 1
    while prog[pc] do
      local code, jt, jf, k = table.unpack(prog[pc])
      if code == 0x20 then
        if k == 0 then a = nr elseif k == 4 then a = arch else return false end
      elseif code == 0x06 then
        return k == 0x7fff0000
      elseif code == 0x05 then
        pc = pc + k
      elseif code == 0x15 or code == 0x25 or code == 0x35 or code == 0x45 then
        local hit = code == 0x15 and a == k or code == 0x25 and a > k or code == 0x35 and a >= k
          or code == 0x45 and a & k ~= 0
        pc = pc + (hit and jt or jf)
      elseif code == 0x54 then
        a = a & k
      else
        return false
      end
      pc = pc + 1
    end
    return false
  end

  it("leaves the kernel's action cache every syscall libseccomp's program leaves it", function()
    if core.seccomp_arch_native() ~= "x86_64" then
      pending("the cache's arches here are x86_64's native and compat (i386)")
      return
    end
    local old, new = both(require "nsl.seccomp_default")
    local p1, p2 = decode(old), decode(new)
    for _, arch in ipairs{ AUDIT_X86_64, AUDIT_I386 } do
      local cached, lost = 0, {}
      for nr = 0, 1023 do
        if const_allow(p1, arch, nr) then
          cached = cached + 1
          if not const_allow(p2, arch, nr) then lost[#lost + 1] = nr end
        end
      end
      assert.is_true(cached > 250, string.format("arch 0x%x: %d cached", arch, cached))
      assert.same({}, lost, string.format("arch 0x%x: numbers out of the cache", arch))
    end
  end)

  it("keeps the verdicts of a profile with more rules and another default", function()
    assert_same_verdicts(both(default_with{ { "mkdir", action = "errno EACCES" },
      { "reboot", args = { { 0, "gt", 0x1ff } } },
      { "ptrace", args = { { 0, "le", 1 }, { 1, "masked_eq", 0xff, 9 } } } }))
    local rules = { { "bpf", action = "errno ENOSYS" },
      { "mkdir", action = "errno EACCES", args = { { 1, "ge", 0x100 } } },
      { "ioctl", action = "trap", args = { { 1, "masked_eq", 0xffffffff, 0x5412 } } } }
    for _, name in ipairs{ "acct", "add_key", "delete_module", "finit_module", "init_module",
      "kexec_load", "keyctl", "mount", "move_pages", "open_by_handle_at", "perf_event_open",
      "pivot_root", "process_vm_readv", "ptrace", "quotactl", "reboot", "request_key", "setns",
      "swapoff", "swapon", "umount2", "unshare", "userfaultfd", "vm86" } do
      rules[#rules + 1] = { name, action = "kill" }
    end
    assert_same_verdicts(both{ default = "allow", arches = { x86_64 = { "x86", "x32" } },
      optimize = 2, skip_unknown = true, rules = rules })
  end)

  it("is what seccomp.bpf caches and loads, and the kernel takes it", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    local old = both(require "nsl.seccomp_default")
    local short = seccomp.bpf("default", dir)
    assert.is_true(#short < #old)
    assert_same_verdicts(old, short)
    helper.child(function()
      assert(seccomp.load(short))
      assert.same({ nil, "unshare 'user': Operation not permitted", E.EPERM },
        { core.unshare("user") })
    end)
  end)

  it("leaves a program it does not handle as it is, and refuses what is not a program", function()
    -- tax; ret A: the X register
    local x = string.pack("<I2I1I1I4", 0x07, 0, 0, 0) .. string.pack("<I2I1I1I4", 0x16, 0, 0, 0)
    assert.same({ nil, "the program does what the rewrite does not handle" }, { bpf.shrink(x) })
    -- ret 0x7fff0000 (allow): already as short as it gets
    local short = string.pack("<I2I1I1I4", 0x06, 0, 0, 0x7fff0000)
    assert.same({ nil, "the rewrite is no shorter" }, { bpf.shrink(short) })
    assert.same({ nil, "not a BPF program (1..4096 instructions of 8 bytes)" }, { bpf.shrink("1234") })
  end)
end)

describe("nsl.seccomp_notify_respond", function()
  -- the answer is checked before the fd is used: a pipe is enough
  it("refuses an errno above 4095, as a number or as a string", function()
    local r, w = assert(core.pipe())
    finally(function() r:close(); w:close() end)
    for _, answer in ipairs { 5000, "5000", 65535, "4096" } do
      local ok, err = pcall(core.seccomp_notify_respond, r, 1, answer)
      assert.is_false(ok, tostring(answer))
      assert.matches("bad argument #3 .*errno", err)
    end
    -- within the range, the answer goes to the ioctl (which a pipe refuses)
    assert.same({ nil, "seccomp_notify_respond " .. r:fileno() .. ": Inappropriate ioctl for device",
      E.ENOTTY }, { core.seccomp_notify_respond(r, 1, "4095") })
  end)
end)

describe("nsl.seccomp newer_enosys", function()
  local ENOSYS_VERDICT = 0x00050000 | E.ENOSYS
  local policy = { default = "errno EPERM", arches = { "x86", "x32" }, newer_enosys = true,
    allow = { "read", "write", "close", "brk", "mmap", "munmap", "execve", "exit_group" },
    rules = { { "openat", action = "errno EACCES" },
      { "ioctl", action = "errno EPERM", args = { { 1, "masked_eq", 0xffffffff, 0x5412 } } } } }

  it("names the last syscall of each architecture of the filter", function()
    -- openat is the last on x86_64 (257) and x86 (295); execve (520) on x32
    assert.same({ x86_64 = 257, x86 = 295, x32 = 0x40000000 + 520 },
      seccomp.last_syscalls(seccomp.check(policy), seccomp.compile(policy):export_bpf()))
  end)

  it("gives ENOSYS above the last syscall and libseccomp's verdict everywhere else", function()
    local f <close> = seccomp.compile(policy)
    local plain, prog = decode(assert(f:export_bpf())), decode(seccomp.program(policy))
    assert.is_true(#prog > #plain)
    local last = { [AUDIT_X86_64] = 257, [AUDIT_I386] = 295 }
    local cases = {}
    for _, arch in ipairs{ AUDIT_X86_64, AUDIT_I386, 0xc00000b7 } do
      for nr = 0, 1023 do cases[#cases + 1] = { arch, nr } end
      for _, nr in ipairs{ 0x3fffffff, 0x7fffffff, 0x80000000, 0xffffffff } do
        cases[#cases + 1] = { arch, nr }
      end
    end
    for nr = 0x40000000, 0x400003ff do cases[#cases + 1] = { AUDIT_X86_64, nr } end
    local enosys = 0
    for _, case in ipairs(cases) do
      local arch, nr = case[1], case[2]
      local words = { [0] = nr, [4] = arch, [24] = 0x5412 }
      local want = run_bpf(plain, words)
      local above = last[arch] and nr > last[arch]
      if arch == AUDIT_X86_64 and nr >= 0x40000000 then above = nr > 0x40000000 + 520 end
      if above then want, enosys = ENOSYS_VERDICT, enosys + 1 end
      local got = run_bpf(prog, words)
      if got ~= want then
        error(string.format("arch 0x%x nr 0x%x: 0x%08x, not 0x%08x", arch, nr, got, want))
      end
    end
    assert.is_true(enosys > 2000)
  end)

  -- Every verdict of libseccomp's program for arch and nr 0..1023 that is
  -- not the default's EPERM is the program's with the stub too.
  local EPERM_VERDICT = 0x00050000 | E.EPERM
  local function assert_keeps_verdicts(p, arch)
    local f <close> = seccomp.compile(p)
    local plain, prog = decode(assert(f:export_bpf())), decode(seccomp.program(p))
    local kept = 0
    for nr = 0, 1023 do
      local want = run_bpf(plain, { [0] = nr, [4] = arch })
      if want ~= EPERM_VERDICT then
        local got = run_bpf(prog, { [0] = nr, [4] = arch })
        if got ~= want then error(string.format("arch 0x%x nr %d: 0x%08x, not 0x%08x", arch, nr, got, want)) end
        kept = kept + 1
      end
    end
    return prog, kept
  end

  it("keeps i386's socket calls, which libseccomp names by pseudo numbers", function()
    -- socket, accept4 and recvmmsg resolve to negative numbers on x86 while
    -- libseccomp's program also matches their own syscalls (359, 364, 337)
    local p = { default = "errno EPERM", arches = { "x86" }, newer_enosys = true,
      allow = { "socket", table.unpack(seccomp.exec_needs) },
      rules = { { "accept4", action = "kill" }, { "recvmmsg", action = "notify" } } }
    local prog, kept = assert_keeps_verdicts(p, AUDIT_I386)
    assert.is_true(kept >= #seccomp.exec_needs + 3)
    for nr, verdict in pairs{ [359] = 0x7fff0000, [364] = 0x80000000, [337] = 0x7fc00000,
      [1000] = ENOSYS_VERDICT } do
      assert.equal(verdict, (run_bpf(prog, { [0] = nr, [4] = AUDIT_I386 })), nr)
    end
    -- bit 30 means x32 on x86_64 only: on i386 it is a number above all
    assert.equal(ENOSYS_VERDICT, (run_bpf(prog, { [0] = 0x40000000 | 359, [4] = AUDIT_I386 })))
    assert.equal(ENOSYS_VERDICT, (run_bpf(prog, { [0] = 0x40000000 | 4, [4] = AUDIT_I386 })))
  end)

  it("gives s390x's number 0 ENOSYS and keeps its other verdicts", function()
    -- libseccomp adds no big-endian arch to this host's filter: a program
    -- as it writes one for s390x (mkdir, 39, kills; the rest EPERM)
    local AUDIT_S390X = 0x80000016
    local plain = {}
    for i, ins in ipairs{ { 0x20, 0, 0, 4 }, { 0x15, 0, 4, AUDIT_S390X }, { 0x20, 0, 0, 0 },
      { 0x15, 0, 1, 39 }, { 0x06, 0, 0, 0x80000000 }, { 0x06, 0, 0, EPERM_VERDICT },
      { 0x06, 0, 0, 0 } } do
      plain[i] = string.pack("<I2I1I1I4", table.unpack(ins))
    end
    plain = table.concat(plain)
    local p = seccomp.check{ default = "errno EPERM", arches = { "s390x" }, newer_enosys = true,
      allow = seccomp.exec_needs, rules = { { "mkdir", action = "kill" } } }
    local prog = decode(seccomp.enosys_stub(p, plain) .. plain)
    for nr, verdict in pairs{ [0] = ENOSYS_VERDICT, [1] = EPERM_VERDICT, [38] = EPERM_VERDICT,
      [39] = 0x80000000, [40] = ENOSYS_VERDICT, [1000] = ENOSYS_VERDICT } do
      assert.equal(verdict, (run_bpf(prog, { [0] = nr, [4] = AUDIT_S390X })), nr)
    end
    -- x86_64, which this program does not let through, is left as it was
    assert.equal(0, (run_bpf(prog, { [0] = 1000, [4] = AUDIT_X86_64 })))
  end)

  it("names the stub when it takes a program past the kernel's 4096 instructions", function()
    local function ioctls(n)
      local rules = {}
      for i = 1, n do
        rules[i] = { "ioctl", action = "errno EACCES", args = { { 1, "masked_eq", 0xffffffff, i } } }
      end
      return { default = "errno EPERM", arches = { "x86", "x32" }, newer_enosys = true,
        allow = seccomp.exec_needs, rules = rules }
    end
    local function length(n)
      local f <close> = seccomp.compile(ioctls(n))
      return #assert(f:export_bpf()) // 8
    end
    -- about one instruction a rule: a program a few short of the limit
    local n = 4040
    local without_stub = length(n)
    while without_stub > 4094 do
      n = n - (without_stub - 4094)
      without_stub = length(n)
    end
    assert.is_true(without_stub > 4080, without_stub)
    local f <close> = seccomp.compile(ioctls(n))
    local stub = seccomp.enosys_stub(seccomp.check(ioctls(n)), f:export_bpf())
    assert.has_error(function() seccomp.program(ioctls(n)) end, string.format(
      "seccomp policy compiles to %d instructions and newer_enosys's stub adds %d, " ..
      "past the kernel's limit of 4096", without_stub, #stub // 8))
  end)

  it("adds nothing where the default allows, logs or traces, or without newer_enosys", function()
    for _, default in ipairs{ "allow", "log", "trace 1", "errno ENOSYS" } do
      local p = { default = default, newer_enosys = true, rules = { { "mkdir", action = "kill" } } }
      if default ~= "allow" and default ~= "log" then p.allow = { "execve", "brk", "mmap",
        "munmap", "write", "exit_group" } end
      assert.equal("", seccomp.enosys_stub(seccomp.check(p), "\0"), default)
    end
    assert.equal("", seccomp.enosys_stub(seccomp.check{ allow = { "read" } }, "\0"))
    assert.has_error(function() seccomp.check{ newer_enosys = "yes" } end,
      "seccomp policy newer_enosys must be true or false")
  end)

  it("keeps its verdicts through nsl.bpf's rewrite and the cache (the default profile)", function()
    local dir = helper.tmpdir()
    finally(function() helper.rmtree(dir) end)
    local p = default_with{}
    p.newer_enosys = true
    local prog = seccomp.program(p)
    local short = seccomp.bpf(p, dir)
    assert.is_true(#short * 2 <= #prog, string.format("%d instructions of %d", #short // 8, #prog // 8))
    assert.is_true(assert_same_verdicts(prog, short) > 5000)
    assert.equal(short, (seccomp.bpf(p, dir)))
    assert.are_not.equal(seccomp.key(p), seccomp.key(default_with{}))
    -- the stub is there: x86_64's 1000 is ENOSYS, not the default's EPERM
    assert.equal(ENOSYS_VERDICT, (run_bpf(decode(short), { [0] = 1000, [4] = AUDIT_X86_64 })))
  end)
end)
