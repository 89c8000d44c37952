-- nsl.devbpf: device rules as the eBPF program a cgroup v2 directory
-- enforces (BPF_PROG_TYPE_CGROUP_DEVICE): v2 has no devices.allow, so
-- crun and runc compile the OCI rules into such a program; this is nsl's.
--
--   local devbpf = require "nsl.devbpf"
--   assert(devbpf.attach("/sys/fs/cgroup/box", {   -- or a program of devbpf.load
--     { allow = false, type = "a", access = "rwm" },
--     { allow = true, type = "c", major = 1, minor = 3, access = "rwm" } }))
--
-- The instructions are written here, in Lua, and only the bpf(2) calls are
-- C (nsl.bpf_prog_load, nsl.bpf_prog_attach): the rules are parsed and
-- checked in Lua anyway, the emitter stays a page of data, and a spec can
-- read a program without privileges.
--
-- The program: the kernel asks it about one device (type, major, minor)
-- and the access wanted (a set of read, write and mknod). The rules are
-- read from the last to the first, and for each access bit the last rule
-- that matches the device and names that bit decides it (last match wins,
-- as the rules are written to a v1 devices cgroup in order): a deny of any
-- wanted bit denies, an allow of the remaining ones allows. A request no
-- rule decides gets the default, allow: no opinion, so that the programs
-- of the cgroups above decide, as a new v1 devices cgroup inherits its
-- parent's (a config's leading "deny all" is what makes a list of allows).
-- Where the v1 kernel differs: it removes only an exception equal to a
-- rule, so there "deny c 1:3 rwm" after "allow c *:* m" leaves mknod of
-- 1:3 allowed; here the later deny decides m too.
local core = require "nsl.core"

local M = {}

-- struct bpf_cgroup_dev_ctx (linux/bpf.h): u32 access_type (the type in
-- the low 16 bits, the access in the high ones), u32 major, u32 minor
local TYPE = { b = 1, c = 2 } -- BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR
local ACCESS = { m = 1, r = 2, w = 4 } -- BPF_DEVCG_ACC_MKNOD, _READ, _WRITE
local ALL = 7

-- opcodes (linux/bpf_common.h, linux/bpf.h): a load of a u32 from the
-- context, 32-bit and, shift, compares (JMP32: a major above 2^31 stays
-- one), a 64-bit move of the verdict into r0, exit
local LDX_W, AND32, RSH32 = 0x61, 0x54, 0x74
local JNE32, JEQ32, JSET32 = 0x56, 0x16, 0x46
local MOV64, EXIT = 0xb7, 0x95
local R0, R1, R2, R3, R4, R5 = 0, 1, 2, 3, 4, 5 -- r1: the context
local MAXINSNS = 4096 -- BPF_MAXINSNS: and every jump fits the s16 offset
local U32 = 0xffffffff

--- The license the program is loaded with: it calls no helper, so the
-- kernel takes any string.
M.LICENSE = "Apache-2.0"

-- A rule's major or minor: nil or -1 (any) gives nil; else 0..2^32-1.
local function number(r, field, i)
  local v = r[field]
  if v == nil or v == -1 then return nil end
  local n = math.tointeger(v)
  if not n or n < 0 or n > U32 then
    error(string.format("device rule %d: %s %s is not -1 or a number 0..%d", i, field,
      tostring(v), U32), 0)
  end
  return n
end

-- The rule i as { type = 1, 2 or nil (any), major, minor, access bits,
-- allow }; raises for a bad one.
local function checked(r, i)
  local kind = r.type or "a"
  if kind ~= "a" and not TYPE[kind] then
    error(string.format("device rule %d: type %s is not a, b or c", i, tostring(kind)), 0)
  end
  local access = r.access or "rwm"
  if type(access) ~= "string" or not access:match("^[rwm]+$") then
    error(string.format("device rule %d: access %s is not made of r, w and m", i,
      tostring(access)), 0)
  end
  local bits = 0
  for c in access:gmatch(".") do bits = bits | ACCESS[c] end
  -- "a" is every device whatever the numbers, as the v1 kernel reads it
  local any = kind == "a"
  return { type = TYPE[kind], major = not any and number(r, "major", i) or nil,
    minor = not any and number(r, "minor", i) or nil, access = bits, allow = r.allow == true }
end

--- The program (a string of struct bpf_insn) for a list of device rules
-- { allow, type ("a", "b", "c"), major, minor (nil or -1: any), access
-- ("rwm") }, in the order written; default (true: allow) for a request no
-- rule decides. Raises for a bad rule.
function M.program(rules, default)
  local prog = {
    { LDX_W, R2, R1, 0, 0 }, { AND32, R2, 0, 0, 0xffff }, -- r2 = type
    { LDX_W, R3, R1, 0, 0 }, { RSH32, R3, 0, 0, 16 }, -- r3 = access not decided yet
    { LDX_W, R4, R1, 4, 0 }, -- r4 = major
    { LDX_W, R5, R1, 8, 0 }, -- r5 = minor
  }
  local labels, used = {}, {}
  local function jump(code, reg, imm, label)
    prog[#prog + 1] = { code, reg, 0, label, imm }
    used[label] = true
  end
  -- the verdict v at label, where a jump goes there (the verifier
  -- refuses unreachable instructions)
  local function verdict(label, v)
    if label and not used[label] then return end
    if label then labels[label] = #prog + 1 end
    prog[#prog + 1] = { MOV64, R0, 0, 0, v }
    prog[#prog + 1] = { EXIT, 0, 0, 0, 0 }
  end
  for i = #rules, 1, -1 do
    local r, skip = checked(rules[i], i), "next" .. i
    if r.type then jump(JNE32, R2, r.type, skip) end
    if r.major then jump(JNE32, R4, r.major, skip) end
    if r.minor then jump(JNE32, R5, r.minor, skip) end
    if r.allow then
      prog[#prog + 1] = { AND32, R3, 0, 0, ALL & ~r.access }
      jump(JEQ32, R3, 0, "allow")
    else
      jump(JSET32, R3, r.access, "deny")
    end
    labels[skip] = #prog + 1
    -- every device and every access: the rules before it are never reached
    if not (r.type or r.major or r.minor) and r.access == ALL then break end
  end
  verdict(nil, default == false and 0 or 1) -- no rule decided
  verdict("deny", 0)
  verdict("allow", 1)
  if #prog > MAXINSNS then
    error(string.format("%d device rules make a program of %d instructions, over the " ..
      "kernel's %d", #rules, #prog, MAXINSNS), 0)
  end
  local out = {}
  for pc, ins in ipairs(prog) do
    local off = ins[4]
    if type(off) == "string" then off = labels[off] - (pc + 1) end -- from the next one
    local imm = ins[5] > 0x7fffffff and ins[5] - (U32 + 1) or ins[5]
    out[pc] = string.pack("<I1I1i2i4", ins[1], ins[2] | ins[3] << 4, off, imm)
  end
  return table.concat(out)
end

--- A rule from a line of the v1 devices cgroup's syntax ("c 1:3 rwm",
-- "b *:* m", "a"), allowing or denying; nil and a message for another.
function M.rule(line, allow)
  if line == "a" then return { allow = allow, type = "a", access = "rwm" } end
  local kind, major, minor, access = tostring(line):match("^([abc]) ([%d*]+):([%d*]+) ([rwm]+)$")
  -- "*" is any (nil); a number too big for an integer is no rule
  local function field(text) return text == "*" or math.tointeger(tonumber(text)) end
  if not (kind and field(major) and field(minor)) then
    return nil, string.format("device rule '%s' is not 'TYPE MAJOR:MINOR ACCESS'", line)
  end
  return { allow = allow, type = kind, access = access,
    major = major ~= "*" and field(major) or nil, minor = minor ~= "*" and field(minor) or nil }
end

--- Load the program of rules (M.program): its fd, or nil, a message
-- (with the verifier's reason) and errno. Raises for a bad rule.
function M.load(rules, default)
  local prog, err, errno = core.bpf_prog_load("cgroup_device", M.program(rules, default), M.LICENSE)
  if not prog then return nil, "device program: " .. err, errno end
  return prog
end

--- Attach the device program prog (an fd of M.load, or a list of rules
-- to load) to the cgroup v2 directory dir with BPF_F_ALLOW_MULTI (the
-- programs there stay, and a nested runtime may add its own below): from
-- then on it decides for every process in dir and below. true, or nil, a
-- message and errno.
function M.attach(dir, prog)
  local loaded, err, errno
  if type(prog) == "table" then
    loaded, err, errno = M.load(prog)
    if not loaded then return nil, string.format("%s: %s", dir, err), errno end
    prog = loaded
  end
  local ok
  local cgroup_fd <close>, oerr, oerrno = core.open(dir, "rdonly directory")
  if cgroup_fd then
    ok, err, errno = core.bpf_prog_attach(prog, cgroup_fd, "cgroup_device", "allow_multi")
    if not ok then err = string.format("device program for %s: %s", dir, err) end
  else
    err, errno = oerr, oerrno
  end
  if loaded then loaded:close() end
  if not ok then return nil, err, errno end
  return true
end

--- Replace the device programs attached to the cgroup v2 directory dir
-- with prog (an fd of M.load, or a list of rules to load): prog is
-- attached first, then each program that was there is detached, so that
-- there is no moment without one (while both are there a device needs
-- both to allow it). true, or nil, a message and errno (a program that
-- could not be detached is left there beside prog: stricter, not wider).
function M.replace(dir, prog)
  local cgroup_fd <close>, err, errno = core.open(dir, "rdonly directory")
  if not cgroup_fd then return nil, err, errno end
  local before
  before, err, errno = core.bpf_prog_query(cgroup_fd, "cgroup_device")
  if not before then return nil, string.format("device programs of %s: %s", dir, err), errno end
  local ok
  ok, err, errno = M.attach(dir, prog)
  if not ok then return nil, err, errno end
  for _, id in ipairs(before) do
    local old <close>, gerr, gerrno = core.bpf_prog_get_fd_by_id(id)
    if not old then return nil, string.format("device program %d of %s: %s", id, dir, gerr), gerrno end
    ok, err, errno = core.bpf_prog_detach(old, cgroup_fd, "cgroup_device")
    if not ok then return nil, string.format("device program %d of %s: %s", id, dir, err), errno end
  end
  return true
end

return M
