-- nsl.seccomp_compile: checking a seccomp policy and compiling it with
-- libseccomp, the part of nsl.seccomp a start with a cached program does
-- not load. It returns a function that adds M.check, M.compile,
-- M.last_syscalls, M.enosys_stub and M.program to nsl.seccomp's table
-- (which calls it on first use of any of them); see nsl.seccomp for what a
-- policy holds.
local core = require "nsl.core"

return function(M)
  local ACTIONS = { allow = true, kill = true, kill_process = true, kill_thread = true,
    log = true, notify = true, trap = true }
  local OPS = { ne = true, lt = true, le = true, eq = true, ge = true, gt = true,
    masked_eq = true }
  local POLICY_FIELDS = { default = true, allow = true, rules = true, arches = true,
    skip_unknown = true, optimize = true, comment = true, name = true, newer_enosys = true }
  local RULE_FIELDS = { [1] = true, action = true, args = true, comment = true }
  local LOW32 = 0xffffffff

  local function fail(fmt, ...)
    require("nsl.errors").raise("seccomp policy " .. fmt, ...)
  end

  ---------------------------------------------------------------------------
  -- checking a policy: every error names the entry

  -- "errno EPERM" -> "errno 1"; nil for an unknown action.
  local function parse_action(value)
    if type(value) ~= "string" then return nil end
    local word, data = value:match("^%s*(%S+)%s*(.-)%s*$")
    if ACTIONS[word] and data == "" then
      return word == "kill_process" and "kill" or word
    end
    if (word == "errno" or word == "trace") and data ~= "" then
      local n = math.tointeger(tonumber(data)) or core.errno[data]
      if n and n >= 0 and n <= 0xffff then return word .. " " .. n end
    end
  end

  local function check_action(entry, value)
    local action = parse_action(value)
    if not action then fail("%s: unknown action '%s'", entry, tostring(value)) end
    return action
  end

  -- The comparisons of a rule, checked: { { index, op, a, b }... }.
  local function check_args(entry, args)
    if args == nil then return nil end
    if type(args) ~= "table" then fail("%s: args must be a list of comparisons", entry) end
    local seen, list = {}, {}
    for i, cmp in ipairs(args) do
      local where = string.format("%s.args[%d]", entry, i)
      if type(cmp) ~= "table" then fail("%s: a comparison is { index, op, value }", where) end
      local index, op, a, b = cmp[1], cmp[2], cmp[3], cmp[4]
      if math.type(index) ~= "integer" or index < 0 or index > 5 then
        fail("%s: argument index must be 0..5", where)
      end
      if not OPS[op] then fail("%s: unknown operator '%s'", where, tostring(op)) end
      if math.type(a) ~= "integer" or (op == "masked_eq" and math.type(b) ~= "integer") then
        fail("%s: %s", where, op == "masked_eq" and "masked_eq needs { index, \"masked_eq\", mask, value }"
          or "the value must be an integer")
      end
      if seen[index] then
        fail("%s: argument %d is compared twice (libseccomp takes one comparison per argument)",
          where, index)
      end
      seen[index] = true
      list[i] = { index, op, a, op == "masked_eq" and b or nil }
    end
    return #list > 0 and list or nil
  end

  -- Is name a syscall libseccomp knows (on any architecture)?
  local function known(name)
    return core.seccomp_syscall_resolve_name(name) ~= nil
  end

  local function check_name(entry, name, skip_unknown)
    if type(name) ~= "string" then fail("%s: a syscall name is a string", entry) end
    if known(name) then return name end
    if not skip_unknown then fail("%s: unknown syscall '%s'", entry, name) end
  end

  -- The extra architectures for this system, from a list or a map by arch.
  local function check_arches(arches)
    if arches == nil then return {} end
    if type(arches) ~= "table" then fail("arches must be a list of architecture names") end
    local list = arches[1] and arches or arches[core.seccomp_arch_native()] or {}
    for i, a in ipairs(list) do
      if type(a) ~= "string" then fail("arches[%d]: an architecture name is a string", i) end
    end
    return list
  end

  --- Check a policy table and return it normalised: actions canonical
  -- ("errno 1"), allow a sorted set, unknown names dropped when
  -- skip_unknown. Raises "seccomp policy rules[3]: unknown syscall 'mkdri'".
  function M.check(policy)
    if type(policy) ~= "table" then fail("must be a table, not %s", type(policy)) end
    for k in pairs(policy) do
      if not POLICY_FIELDS[k] then fail("has an unknown field '%s'", tostring(k)) end
    end
    local skip = policy.skip_unknown == true
    local p = { default = check_action("default", policy.default or "errno EPERM"),
      arches = check_arches(policy.arches), optimize = policy.optimize or 1,
      allow = {}, rules = {} }
    if p.optimize ~= 1 and p.optimize ~= 2 then fail("optimize must be 1 or 2") end
    if policy.newer_enosys ~= nil and type(policy.newer_enosys) ~= "boolean" then
      fail("newer_enosys must be true or false")
    end
    p.newer_enosys = policy.newer_enosys == true
    local set = {}
    for i, name in ipairs(policy.allow or {}) do
      name = check_name(string.format("allow[%d]", i), name, skip)
      if name and not set[name] then
        set[name] = true
        p.allow[#p.allow + 1] = name
      end
    end
    table.sort(p.allow)
    for i, rule in ipairs(policy.rules or {}) do
      local entry = string.format("rules[%d]", i)
      if type(rule) ~= "table" then fail("%s: a rule is { NAME, action = ..., args = ... }", entry) end
      for k in pairs(rule) do
        if not RULE_FIELDS[k] then fail("%s: unknown field '%s'", entry, tostring(k)) end
      end
      local name = check_name(entry, rule[1], skip)
      local r = { name = name, entry = entry, action = check_action(entry, rule.action or "allow"),
        args = check_args(entry, rule.args) }
      if name then p.rules[#p.rules + 1] = r end
    end
    return p
  end

  ---------------------------------------------------------------------------
  -- planning the rules libseccomp gets

  -- libseccomp lets an unconditional rule for a syscall override its
  -- conditional rules, whatever their actions (found with 2.5.4: an allowed
  -- ioctl with an "errno" rule for TIOCSTI let TIOCSTI through). So for an
  -- allowed syscall with conditional refusals the allow becomes the
  -- complement of the refused values: a union of masked_eq "cubes", each
  -- { mask, value }, in which the refused values are not.

  -- The cubes outside one cube: the values that agree with it on the bits
  -- above bit b and differ at b, for each bit b of its mask.
  local function outside(cube)
    local mask, value = cube[1], cube[2]
    local list, above = {}, 0
    for b = 31, 0, -1 do
      local bit = 1 << b
      if mask & bit ~= 0 then
        list[#list + 1] = { above | bit, (value & above) | (~value & bit) }
        above = above | bit
      end
    end
    return list
  end

  local function intersect(c1, c2)
    local common = c1[1] & c2[1]
    if c1[2] & common ~= c2[2] & common then return nil end
    return { c1[1] | c2[1], c1[2] | c2[2] }
  end

  -- The cubes of values that none of the refused cubes hold.
  local function complement(refused)
    local result = { { 0, 0 } } -- every value
    for _, cube in ipairs(refused) do
      local next_result = {}
      for _, a in ipairs(result) do
        for _, b in ipairs(outside(cube)) do
          next_result[#next_result + 1] = intersect(a, b)
        end
      end
      result = next_result
    end
    return result
  end

  -- The argument index and cubes of conditional refusals of an allowed
  -- syscall, or an error naming the rule that cannot be turned around.
  local function refused_cubes(name, rules)
    local index, cubes = nil, {}
    for _, r in ipairs(rules) do
      local cmp = r.args[1]
      if #r.args ~= 1 or cmp[2] ~= "masked_eq" or cmp[3] & ~LOW32 ~= 0
        or (index and cmp[1] ~= index) then
        fail("%s: '%s' is also in allow, so a conditional rule on it must be one masked_eq " ..
          "on the low 32 bits of one argument (libseccomp lets an unconditional allow " ..
          "override anything else)", r.entry, name)
      end
      index = cmp[1]
      if cmp[4] & ~cmp[3] == 0 then cubes[#cubes + 1] = { cmp[3], cmp[4] } end
    end
    return index, cubes
  end

  -- The rule_add calls for one syscall: { action, name, args, entry }.
  local function plan_syscall(p, name, allowed, rules, out)
    local default = p.default
    local unconditional, conditional, refusals = nil, {}, {}
    for _, r in ipairs(rules) do
      if not r.args then
        if unconditional and unconditional.action ~= r.action then
          fail("%s: '%s' already has a rule without args (%s)", r.entry, name, unconditional.entry)
        end
        unconditional = r
      else
        conditional[#conditional + 1] = r
        if r.action ~= "allow" then refusals[#refusals + 1] = r end
      end
    end
    local function add(action, args, entry)
      -- libseccomp refuses (EACCES) a rule that does what the default does
      if action ~= default then out[#out + 1] = { action, name, args, entry } end
    end
    if unconditional then
      if #conditional > 0 then
        fail("%s: '%s' has a rule without args (%s) that would override this one",
          conditional[1].entry, name, unconditional.entry)
      end
      return add(unconditional.action, nil, unconditional.entry)
    end
    if allowed and #refusals > 0 and default ~= "allow" then
      local index, cubes = refused_cubes(name, refusals)
      for _, cube in ipairs(complement(cubes)) do
        add("allow", { { index, "masked_eq", cube[1], cube[2] } }, "allow")
      end
      for _, r in ipairs(refusals) do add(r.action, r.args, r.entry) end
      return
    end
    if allowed then add("allow", nil, "allow") end
    for _, r in ipairs(conditional) do
      if not allowed or r.action ~= "allow" then add(r.action, r.args, r.entry) end
    end
  end

  -- Would the policy refuse a syscall of M.exec_needs?
  local function check_exec_needs(p, allowed, by_name)
    for _, name in ipairs(M.exec_needs) do
      local ok = allowed[name] or p.default == "allow" or p.default == "log"
      for _, r in ipairs(by_name[name] or {}) do
        if not r.args and r.action ~= "allow" and r.action ~= "log" then ok = false end
      end
      if not ok then
        fail("refuses '%s', which nsl needs between loading the filter and the command's exec",
          name)
      end
    end
  end

  -- The ordered rule_add calls of a checked policy.
  local function plan(p)
    local allowed, by_name, names = {}, {}, {}
    for _, name in ipairs(p.allow) do
      allowed[name] = true
      names[#names + 1] = name
    end
    for _, r in ipairs(p.rules) do
      if not by_name[r.name] then
        by_name[r.name] = {}
        if not allowed[r.name] then names[#names + 1] = r.name end
      end
      table.insert(by_name[r.name], r)
    end
    check_exec_needs(p, allowed, by_name)
    local out = {}
    for _, name in ipairs(names) do
      plan_syscall(p, name, allowed[name] or p.default == "allow", by_name[name] or {}, out)
    end
    return out
  end

  ---------------------------------------------------------------------------
  -- compiling

  --- Compile a policy into a libseccomp filter (not loaded). Raises with the
  -- entry at fault; a policy that refuses what the exec needs is refused.
  function M.compile(policy)
    local p = M.check(policy)
    local calls = plan(p)
    local filter = assert(core.seccomp_init(p.default))
    -- nsl.seccomp loads exported BPF and sets no_new_privs itself when needed
    assert(filter:attr_set("ctl_nnp", false))
    assert(filter:attr_set("ctl_optimize", p.optimize))
    for i, arch in ipairs(p.arches) do
      local ok, added, err, errno = pcall(filter.arch_add, filter, arch)
      if not ok then fail("arches[%d]: unknown architecture '%s'", i, arch) end
      if not added and errno ~= core.errno.EEXIST then fail("arches[%d]: %s", i, err) end
    end
    for _, call in ipairs(calls) do
      local ok, err = filter:rule_add(call[1], call[2], call[3])
      if not ok then fail("%s: %s", call[4], err) end
    end
    M.stats.compiled = M.stats.compiled + 1
    return filter
  end

  ---------------------------------------------------------------------------
  -- ENOSYS for syscalls newer than the policy (newer_enosys)

  -- struct seccomp_data's arch of each architecture (AUDIT_ARCH_* of
  -- linux/audit.h); x32 shares x86_64's and sets bit 30 of the number.
  local AUDIT_ARCH = { x86 = 0x40000003, x86_64 = 0xc000003e, x32 = 0xc000003e,
    arm = 0x40000028, aarch64 = 0xc00000b7, mips = 0x8, mipsel = 0x40000008,
    mips64 = 0x80000008, mipsel64 = 0xc0000008, mips64n32 = 0xa0000008,
    mipsel64n32 = 0xe0000008, ppc = 0x14, ppc64 = 0x80000015, ppc64le = 0xc0000015,
    s390 = 0x16, s390x = 0x80000016, parisc = 0xf, parisc64 = 0x8000000f,
    riscv64 = 0xc00000f3 }
  local X32_BIT = 0x40000000
  local MAXINSNS = 4096 -- BPF_MAXINSNS
  local RET_ENOSYS = 0x00050000 | 38 -- SECCOMP_RET_ERRNO | ENOSYS
  local LD_W_ABS, JA, JEQ, JGT, JGE, RET_K = 0x20, 0x05, 0x15, 0x25, 0x35, 0x06

  -- SECCOMP_RET_* of an action as M.check writes it ("errno 1").
  local RET = { allow = 0x7fff0000, kill = 0x80000000, kill_thread = 0, trap = 0x00030000,
    log = 0x7ffc0000, notify = 0x7fc00000 }
  local function ret_of(action)
    local word, n = action:match("^(%S+) (%d+)$")
    if word == "errno" then return 0x00050000 | tonumber(n) end
    if word == "trace" then return 0x7ff00000 | tonumber(n) end
    return RET[action]
  end

  -- The numbers of an architecture's ABI under its arch value: x86_64's
  -- below bit 30, x32's from it; any number elsewhere.
  local function numbers_of(arch)
    if arch == "x86_64" then return 0, X32_BIT - 1 end
    if arch == "x32" then return X32_BIT, 0xffffffff end
    return 0, 0xffffffff
  end

  --- The highest syscall number to which program (libseccomp's export of
  -- the checked policy p) gives another verdict than p's default, on each
  -- architecture of the filter (the native one and p.arches) with a known
  -- arch value; one with none is left out. Read from the program, not from
  -- the names: libseccomp matches syscalls besides the ones a name resolves
  -- to (i386's socket calls resolve to pseudo numbers, and it matches
  -- socketcall and the direct socket syscalls too).
  function M.last_syscalls(p, program)
    local pieces, err = require("nsl.bpf").pieces(program)
    if not pieces then fail("newer_enosys: cannot read libseccomp's program: %s", err) end
    local default, last, any = ret_of(p.default), {}, { 0, 0xffffffff }
    for _, arch in ipairs { core.seccomp_arch_native(), table.unpack(p.arches) } do
      local audit, lo, hi = AUDIT_ARCH[arch], numbers_of(arch)
      for _, piece in ipairs(audit and pieces or {}) do
        -- a word the piece does not bound (or bounds masked) may be anything
        local a, nr = piece.env[4] or any, piece.env[0] or any
        if piece.verdict ~= default and a[1] <= audit and audit <= a[2]
          and nr[1] <= hi and nr[2] >= lo then
          last[arch] = math.max(last[arch] or -1, math.min(nr[2], hi))
        end
      end
    end
    return last
  end

  -- Instructions with labels: { code, jt, jf, k } where jt, jf (and k of a
  -- ja) may name a label; labels are strings in the list. Returns the
  -- program string.
  local function assemble(list)
    local at, n = {}, 0
    for _, ins in ipairs(list) do
      if type(ins) == "string" then at[ins] = n else n = n + 1 end
    end
    local out, pc = {}, 0
    for _, ins in ipairs(list) do
      if type(ins) == "table" then
        local function off(target)
          return type(target) == "string" and at[target] - pc - 1 or target
        end
        local code, jt, jf, k = ins[1], off(ins[2]), off(ins[3]), ins[4]
        if code == JA then k, jt, jf = off(k), 0, 0 end
        assert(jt <= 255 and jf <= 255, "a conditional jump past 255 instructions")
        out[#out + 1] = string.pack("<I2I1I1I4", code, jt, jf, k)
        pc = pc + 1
      end
    end
    return table.concat(out)
  end

  --- The program prepended to program, libseccomp's export of the checked
  -- policy p, for newer_enosys: for
  -- each architecture of M.last_syscalls(p, program), a syscall number above the
  -- last gets errno ENOSYS (on x86_64 the numbers from 0x40000000 up,
  -- x32's, against x32's last; on s390 also number 0, which stands for any number the
  -- kernel does not know); everything else falls through to the filter.
  -- "" when the policy has no newer_enosys or a default that allows.
  function M.enosys_stub(p, program)
    local default = p.default
    if not p.newer_enosys or default == "allow" or default == "log" or default:match("^trace ")
      or default == "errno 38" then
      return ""
    end
    local last, by_audit, order = M.last_syscalls(p, program), {}, {}
    for arch, nr in pairs(last) do
      local audit = AUDIT_ARCH[arch]
      if audit then
        if not by_audit[audit] then
          by_audit[audit] = {}
          order[#order + 1] = audit
        end
        by_audit[audit][arch] = nr
      end
    end
    if #order == 0 then return "" end
    table.sort(order)
    local list = { { LD_W_ABS, 0, 0, 4 } }
    for _, audit in ipairs(order) do
      list[#list + 1] = { JEQ, 0, 1, audit }
      list[#list + 1] = { JA, 0, 0, "arch" .. audit }
    end
    list[#list + 1] = { JA, 0, 0, "filter" }
    for _, audit in ipairs(order) do
      local last_of = by_audit[audit]
      list[#list + 1] = "arch" .. audit
      list[#list + 1] = { LD_W_ABS, 0, 0, 0 }
      if last_of.s390 or last_of.s390x then list[#list + 1] = { JEQ, "enosys", 0, 0 } end
      if audit == AUDIT_ARCH.x86_64 then
        -- the two ABIs of one arch value: x32's numbers have bit 30 set (a
        -- jge, not a jset, as libseccomp tests it: nsl.bpf follows ranges)
        list[#list + 1] = { JGE, "x32_" .. audit, 0, X32_BIT }
        if last_of.x86_64 then list[#list + 1] = { JGT, "enosys", 0, last_of.x86_64 } end
        list[#list + 1] = { JA, 0, 0, "filter" }
        list[#list + 1] = "x32_" .. audit
        if last_of.x32 then list[#list + 1] = { JGT, "enosys", 0, last_of.x32 } end
      else
        local _, nr = next(last_of)
        list[#list + 1] = { JGT, "enosys", 0, nr }
      end
      list[#list + 1] = { JA, 0, 0, "filter" }
    end
    list[#list + 1] = "enosys"
    list[#list + 1] = { RET_K, 0, 0, RET_ENOSYS }
    list[#list + 1] = "filter"
    return assemble(list)
  end

  --- The program of a policy as loaded before nsl.bpf shortens it:
  -- libseccomp's export of M.compile(policy), after M.enosys_stub's.
  function M.program(policy)
    local p = M.check(policy)
    local filter <close> = M.compile(policy)
    local plain = assert(filter:export_bpf())
    if #plain > MAXINSNS * 8 then
      fail("compiles to %d instructions, past the kernel's limit of %d",
        #plain // 8, MAXINSNS)
    end
    local stub = M.enosys_stub(p, plain)
    if #stub + #plain > MAXINSNS * 8 then
      fail("compiles to %d instructions and newer_enosys's stub adds %d, past the kernel's " ..
        "limit of %d", #plain // 8, #stub // 8, MAXINSNS)
    end
    return stub .. plain
  end
end
