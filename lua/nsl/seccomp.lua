-- nsl.seccomp: seccomp policies as plain Lua tables, compiled by libseccomp.
--
--   local seccomp = require "nsl.seccomp"
--   local policy = {
--     default = "errno EPERM",                 -- what every other syscall gets
--     allow = { "read", "write", "exit_group", "execve", ... },
--     rules = {                                -- a syscall, an action, comparisons
--       { "mkdir", action = "errno EACCES" },
--       { "ioctl", action = "errno EPERM",
--         args = { { 1, "masked_eq", 0xffffffff, TIOCSTI } } },
--     },
--   }
--   local filter = seccomp.compile(policy)     -- a libseccomp filter
--   local bpf = seccomp.bpf(policy)            -- its BPF, from the cache when warm
--
-- Fields of a policy:
--   default       the action for syscalls no entry names (default "errno EPERM")
--   allow         syscall names allowed unconditionally
--   rules         { NAME, action = ACTION (default "allow"), args = { CMP... } }
--                 with CMP = { index 0..5, op, value } where op is ne lt le eq
--                 ge gt, or { index, "masked_eq", mask, value }; at most one
--                 comparison per argument. A rule without args overrides allow.
--   arches        other architectures to match besides the native one, a list
--                 ({ "x86", "x32" }) or by native arch ({ x86_64 = { "x86" } })
--   skip_unknown  names libseccomp does not know are skipped, not errors
--   newer_enosys  a syscall numbered above every syscall libseccomp's
--                 program gives another verdict than the default (on each
--                 architecture of the filter) gets errno ENOSYS,
--                 not the default, as runc's profiles do: a C library then
--                 falls back from a syscall newer than the policy (clone3
--                 to clone). Only where the default refuses (not allow,
--                 log or trace).
--   optimize      libseccomp's ctl_optimize: 1 (default) or 2 (a binary tree)
-- ACTION is allow, kill (the process), kill_thread, trap, log, notify,
-- "errno NAME" ("errno EPERM", "errno 13") or "trace N".
--
-- Comparisons of an ioctl request or other 32-bit argument should be
-- masked_eq with the mask 0xffffffff: the kernel only looks at the low 32
-- bits, so a caller can set the high ones to slip past an eq
-- (CVE-2019-10063).
local core = require "nsl.core"

local M = {}

--- The syscalls nsl makes between loading the filter and the command's
-- exec (the exec, the allocator, and reporting a failed exec): a policy
-- that refuses one of them is refused before it is loaded.
M.exec_needs = { "execve", "brk", "mmap", "munmap", "write", "exit_group" }

--- Counts for this process: filters compiled by libseccomp, and programs
-- read from the cache instead.
M.stats = { compiled = 0, cached = 0 }

local function fail(fmt, ...)
  require("nsl.errors").raise("seccomp policy " .. fmt, ...)
end

-- Checking and compiling a policy (M.check, M.compile, M.last_syscalls,
-- M.enosys_stub, M.program) are in nsl/seccomp_compile.lua, added to M on
-- first use: a start whose program is in the cache needs none of them.
local function add_compiler()
  setmetatable(M, nil)
  require("nsl.seccomp_compile")(M)
end
setmetatable(M, {
  __index = function(t, key) add_compiler(); return rawget(t, key) end,
  __pairs = function(t) add_compiler(); return next, t, nil end,
})

---------------------------------------------------------------------------
-- the cache: BPF by policy content

-- Keys of mixed types in one order: booleans, numbers, strings.
local function key_less(a, b)
  if type(a) ~= type(b) then return type(a) < type(b) end
  if type(a) == "boolean" then return not a and b end
  return a < b
end

-- A canonical text of a value: the list part in order, then the other
-- keys sorted; numbers exact.
local function serialize(v, out, depth)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = string.format("%q", v)
  elseif t == "number" then
    out[#out + 1] = math.type(v) == "integer" and string.format("%d", v) or string.format("%a", v)
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "table" and depth < 16 then
    local n, keys = #v, {}
    for k in pairs(v) do
      if type(k) == "table" then fail("cannot hold a table as a key") end
      if math.type(k) ~= "integer" or k < 1 or k > n then keys[#keys + 1] = k end
    end
    table.sort(keys, key_less)
    out[#out + 1] = "{"
    for i = 1, n do
      -- a hole in the list (#v is any border) is written as nil
      if v[i] == nil then out[#out + 1] = "nil" else serialize(v[i], out, depth + 1) end
      out[#out + 1] = ","
    end
    for _, k in ipairs(keys) do
      serialize(k, out, depth + 1)
      out[#out + 1] = "="
      serialize(v[k], out, depth + 1)
      out[#out + 1] = ";"
    end
    out[#out + 1] = "}"
  else
    fail("cannot hold a %s", t == "table" and "table nested this deep" or t)
  end
end

-- A 64-bit hash of s, 8 bytes at a time (a multiply and an xorshift per
-- word, as in splitmix64): a cache key, not a defence; the cache is the
-- user's own.
local function hash(s)
  local n, unpack = #s, string.unpack
  s = s .. string.rep("\0", -n % 8)
  local h = 0xcbf29ce484222325 ~ n
  for i = 1, #s, 8 do
    h = (h ~ unpack("<i8", s, i)) * 0x9e3779b97f4a7c15
    h = h ~ (h >> 29)
  end
  h = (h ~ (h >> 32)) * 0xbf58476d1ce4e5b9
  return h ~ (h >> 31)
end

-- What else a compiled program depends on: this architecture, libseccomp's
-- version, the kernel's seccomp API level, and the rewrite of nsl.bpf
-- (its version, so that a cache of another nsl is not taken for it) and
-- of M.enosys_stub.
local function platform()
  return string.format("|%s|%s|%d|shrink3|enosys2", core.seccomp_arch_native(),
    core.seccomp_version(), core.seccomp_api_get())
end

--- The cache key of a policy: a hash of its canonical text, this
-- architecture, libseccomp's version, the kernel's seccomp API level and
-- the version of nsl.bpf's rewrite.
function M.key(policy)
  local out = {}
  serialize(policy, out, 0)
  out[#out + 1] = platform()
  return string.format("%016x", hash(table.concat(out)))
end

--- The directory of cached programs: nsl.rootfs.cache_dir() .. "/seccomp".
function M.cache_dir()
  return require("nsl.rootfs").cache_dir() .. "/seccomp"
end

-- A cached program, when it looks like one: whole 8-byte instructions.
local function read_cached(path)
  local bpf = require("nsl.util").read_file(path)
  if bpf and #bpf > 0 and #bpf % 8 == 0 and #bpf <= 4096 * 8 then return bpf end
end

-- Write atomically (a temporary file renamed over), so that a concurrent
-- start never reads half a program. A cache that cannot be written is
-- no error: the next start compiles again.
local function write_cached(dir, path, bpf)
  local ok, _, errno = core.mkdir(dir, "0700")
  if not ok and errno ~= core.errno.EEXIST then return end
  require("nsl.util").write_atomic(path, bpf, "0600")
end

-- The key of a named built-in profile from the digest of its source that
-- the nsl executable carries (made at build time): far cheaper than
-- serializing the table, and a cache hit then needs no policy table.
local function builtin_key(name)
  local digests = package.loaded["nsl.digests"]
  local digest = digests and digests["lua/nsl/seccomp_" .. name .. ".lua"]
  return digest and string.format("%016x", hash("builtin:" .. name .. "|" .. digest .. platform()))
end

--- The compiled program of policy (a table, or the name of a built-in
-- profile like "default"): read from the cache (dir, default
-- M.cache_dir()) when a start already compiled it, else compiled and
-- exported (M.program), shortened by nsl.bpf.shrink and cached. Returns bpf, path of
-- the cache file.
function M.bpf(policy, dir)
  dir = dir or M.cache_dir()
  local key = type(policy) == "string" and builtin_key(policy)
  if type(policy) == "string" then
    if not key then policy = M.policy(policy) end
  end
  local path = string.format("%s/%s.bpf", dir, key or M.key(policy))
  local bpf = read_cached(path)
  if bpf then
    M.stats.cached = M.stats.cached + 1
    return bpf, path
  end
  if type(policy) == "string" then policy = M.policy(policy) end
  bpf = M.program(policy)
  -- the same verdicts in fewer instructions: the kernel's load is
  -- proportional to the length (nil: libseccomp's program as it is)
  bpf = require("nsl.bpf").shrink(bpf) or bpf
  write_cached(dir, path, bpf)
  return bpf, path
end

---------------------------------------------------------------------------
-- containers

--- The policy a --seccomp value names: "default" (nsl.seccomp_default),
-- "unconfined" (nil: no filter), a table, or a Lua file returning one.
function M.policy(spec)
  if spec == nil or spec == false or spec == "unconfined" then return nil end
  if type(spec) == "table" then return spec end
  if spec == "default" then return require "nsl.seccomp_default" end
  local chunk, err = loadfile(spec, "t")
  if not chunk then fail("'%s': %s", spec, err) end
  local policy = chunk()
  if type(policy) ~= "table" then fail("'%s' returns %s, not a policy table", spec, type(policy)) end
  return policy
end

--- Compile (or find in the cache) c.seccomp's program into c.seccomp_bpf.
-- Runs in the parent, before the clone: the cache is out of reach once
-- the container has its own root.
function M.prepare(c)
  if c.seccomp == "default" then
    c.seccomp_bpf = M.bpf("default")
    return c
  end
  local policy = M.policy(c.seccomp)
  c.seccomp_bpf = policy and M.bpf(policy) or nil
  return c
end

--- Load a BPF program into this process (seccomp_load_bpf, with its
-- flags: "new_listener" returns the notification fd). Without
-- CAP_SYS_ADMIN the kernel wants no_new_privs first (EACCES, see
-- seccomp(2)): set it then, and only then, and try again.
function M.load(bpf, flags)
  local ok, err, errno = core.seccomp_load_bpf(bpf, flags)
  if not ok and errno == core.errno.EACCES and not core.no_new_privs() then
    assert(core.no_new_privs(true))
    ok, err, errno = core.seccomp_load_bpf(bpf, flags)
  end
  return ok, err, errno
end

--- The container step: load c.seccomp_bpf, the last thing before the
-- command's exec. Raises "setup step 'seccomp': ...".
function M.step(c)
  if not c.seccomp_bpf then return end
  local ok, err, errno = M.load(c.seccomp_bpf)
  if not ok then
    local name = errno and core.errno[errno]
    error(string.format("setup step 'seccomp': %s%s", err, name and " (" .. name .. ")" or ""), 0)
  end
end

return M
