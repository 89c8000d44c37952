-- nsl.bpf: classic BPF seccomp programs, rewritten shorter.
--
-- libseccomp compiles a policy into a program whose length the kernel pays
-- for at every load (it checks, converts and JITs each instruction): the
-- default profile is over a thousand instructions, most of them the
-- syscall numbers of its allow list and of pseudo-syscalls it keeps for
-- other architectures. M.shrink rewrites such a program by partial
-- evaluation: following every path with the inputs (the arch, the syscall
-- number, the arguments) as ranges cuts the inputs into boxes, each with
-- one verdict. The new program is a binary search over the arch, then over
-- the nr, then over the argument words a syscall's verdict depends on:
-- the same verdict for every input, by construction, in a fraction of the
-- instructions; its many leaves then share a few returns. It keeps the
-- kernel's action cache as full as libseccomp's program does (see
-- UNCACHED): a syscall the cache allows never runs the filter.
--
--   local bpf = require "nsl.bpf"
--   local short = bpf.shrink(filter:export_bpf())   -- nil: keep the original
local M = {}

local unpack, pack, concat = string.unpack, string.pack, table.concat

local U32 = 0xffffffff
local NR, ARCH = 0, 4 -- offsets of struct seccomp_data's nr and arch
local MAXINSNS = 4096 -- BPF_MAXINSNS
local MAXPIECES = 20000

-- classic BPF opcodes (linux/bpf_common.h, linux/filter.h)
local LD_W_ABS, LD_IMM, LD_W_LEN = 0x20, 0x00, 0x80
local JA, JEQ, JGT, JGE, JSET = 0x05, 0x15, 0x25, 0x35, 0x45
local RET_K, RET_A = 0x06, 0x16
local ALU_AND_K, ALU_LSH_X, TAX = 0x54, 0x6c, 0x07
local ALU_K = { [0x04] = function(a, k) return a + k end, [0x14] = function(a, k) return a - k end,
  [0x24] = function(a, k) return a * k end,
  [0x34] = function(a, k) return k ~= 0 and a // k or nil end,
  [0x44] = function(a, k) return a | k end, [0x54] = function(a, k) return a & k end,
  [0x64] = function(a, k) return k < 32 and a << k or 0 end,
  [0x74] = function(a, k) return k < 32 and a >> k or 0 end,
  [0x84] = function(a) return -a end,
  [0x94] = function(a, k) return k ~= 0 and a % k or nil end,
  [0xa4] = function(a, k) return a ~ k end }

--- The instructions of a program (a string of struct sock_filter) as a
-- list of { code, jt, jf, k }; nil and a message if it is not one.
function M.decode(bpf)
  if type(bpf) ~= "string" or #bpf == 0 or #bpf % 8 ~= 0 or #bpf > MAXINSNS * 8 then
    return nil, "not a BPF program (1..4096 instructions of 8 bytes)"
  end
  local list = {}
  for i = 1, #bpf, 8 do
    local code, jt, jf, k = unpack("<I2I1I1I4", bpf, i)
    list[#list + 1] = { code, jt, jf, k }
  end
  return list
end

--- A list of { code, jt, jf, k } as a program string.
function M.encode(list)
  local out = {}
  for i, ins in ipairs(list) do out[i] = pack("<I2I1I1I4", ins[1], ins[2], ins[3], ins[4]) end
  return concat(out)
end

---------------------------------------------------------------------------
-- partial evaluation: the program as pieces { env, verdict }
--
-- Every word the program loads (the arch, the nr, the halves of the
-- instruction pointer and of each argument) is an input; env maps a word's
-- offset to the range { lo, hi } of values still possible on the path, and
-- a piece is one box of inputs ending in one verdict. Following both sides
-- of every test splits the boxes, so the pieces partition all inputs.

local Unsupported = {}
local function unsupported() error(Unsupported, 0) end

-- Is mask some high bits and no others (0xffff0000, not 0x00ff0000)? Then
-- (w & mask) grows with w, and (w & mask) == v is a range of w.
local function high_bits(mask)
  local low = ~mask & U32
  return low & (low + 1) == 0
end

-- Does a jump's test hold for value a?
local function test(code, a, k)
  if code == JEQ then return a == k end
  if code == JGT then return a > k end
  if code == JGE then return a >= k end
  return a & k ~= 0
end

-- The sub-ranges of [lo, hi] where (w & mask) passes the test and where
-- it does not.
local function split(code, lo, hi, mask, k)
  local first, last
  if code == JEQ then
    if k & ~mask ~= 0 then return {}, { { lo, hi } } end
    first, last = k, k | (~mask & U32)
  elseif mask == U32 and (code == JGT or code == JGE) then
    first, last = code == JGT and k + 1 or k, U32
  else
    unsupported()
  end
  first, last = math.max(first, lo), math.min(last, hi)
  if first > last then return {}, { { lo, hi } } end
  local no = {}
  if lo < first then no[#no + 1] = { lo, first - 1 } end
  if last < hi then no[#no + 1] = { last + 1, hi } end
  return { { first, last } }, no
end

-- The input a test of (word at off) & mask looks at, as a key of env:
-- the word itself (off) when the mask keeps only high bits, else the
-- masked value (a key above 63, holding off and mask).
local function key_of(off, mask)
  if high_bits(mask) then return off, mask end
  return mask << 6 | off, U32
end

local function word_of(key) return key & 63, key < 64 and U32 or key >> 6 end

-- The pieces of the program from pc on, with the accumulator a
-- ({ "const", v } or { "word", offset, mask }) and env; added to out.
local function eval(prog, pc, a, env, out)
  local ins = prog[pc]
  if not ins then unsupported() end -- fell off the end: the kernel refuses that
  local code, jt, jf, k = ins[1], ins[2], ins[3], ins[4]
  if a[1] == "word" then
    local key = key_of(a[2], a[3])
    local r = env[key]
    if r and r[1] == r[2] then a = { "const", key < 64 and r[1] & a[3] or r[1] } end
  end
  if code == RET_K or code == RET_A then
    if code == RET_A and a[1] ~= "const" then unsupported() end
    -- a program whose paths multiply past this is left as it is
    if #out >= MAXPIECES then unsupported() end
    out[#out + 1] = { env = env, verdict = code == RET_K and k or a[2] }
    return out
  end
  if code == LD_W_ABS then
    if k % 4 ~= 0 or k >= 64 then unsupported() end
    return eval(prog, pc + 1, { "word", k, U32 }, env, out)
  end
  if code == LD_IMM or code == LD_W_LEN then
    return eval(prog, pc + 1, { "const", code == LD_IMM and k or 64 }, env, out)
  end
  if code == JA then return eval(prog, pc + 1 + k, a, env, out) end
  local op = ALU_K[code]
  if op then
    if a[1] == "word" then
      if code ~= 0x54 then unsupported() end -- of arithmetic on inputs, only A &= K
      local mask = a[3] & k
      if mask == 0 then return eval(prog, pc + 1, { "const", 0 }, env, out) end
      return eval(prog, pc + 1, { "word", a[2], mask }, env, out)
    end
    local r = op(a[2], k)
    if not r then unsupported() end
    return eval(prog, pc + 1, { "const", r & U32 }, env, out)
  end
  if code ~= JEQ and code ~= JGT and code ~= JGE and code ~= JSET then unsupported() end
  local yes_pc, no_pc = pc + 1 + jt, pc + 1 + jf
  if a[1] == "const" then return eval(prog, test(code, a[2], k) and yes_pc or no_pc, a, env, out) end
  local key, mask = key_of(a[2], a[3])
  local range = env[key] or { 0, U32 }
  local yes, no = split(code, range[1], range[2], mask, k)
  for _, side in ipairs{ { yes, yes_pc }, { no, no_pc } } do
    for _, r in ipairs(side[1]) do
      local sub = { [key] = r }
      for other, v in pairs(env) do
        if other ~= key then sub[other] = v end
      end
      eval(prog, side[2], a, sub, out)
    end
  end
  return out
end

--- The verdicts of a program as pieces { env = { [offset] = { lo, hi } },
-- verdict } that partition its inputs: in each, the words at those
-- offsets (0 the nr, 4 the arch, ...) within those ranges, any other
-- word any value; a masked word has a key above 63. nil and a reason
-- when bpf is no program or does what the rewrite does not handle.
function M.pieces(bpf)
  local prog, err = M.decode(bpf)
  if not prog then return nil, err end
  local ok, pieces = pcall(eval, prog, 1, { "const", 0 }, {}, {})
  if not ok then
    if pieces == Unsupported then return nil, "the program does what the rewrite does not handle" end
    error(pieces, 0)
  end
  return pieces
end

---------------------------------------------------------------------------
-- emitting: a binary search per word, down to the verdicts

-- A two-way branch to code yes and no (lists): the jump reaches 255
-- instructions, past that through a ja.
local function branch(code, k, yes, no)
  local out
  if #yes <= 255 then
    out = { { code, 0, #yes, k } }
  else
    out = { { code, 1, 0, k }, { JA, 0, 0, #yes } }
  end
  table.move(yes, 1, #yes, #out + 1, out)
  table.move(no, 1, #no, #out + 1, out)
  return out
end

-- A binary search over sorted, adjacent ranges { lo, code } of the word
-- in the accumulator.
local function search(ranges, first, last)
  if first == last then return ranges[first][2] end
  local mid = (first + last + 1) // 2
  return branch(JGE, ranges[mid][1], search(ranges, mid, last), search(ranges, first, mid - 1))
end

-- The code for the 32 syscall numbers from base (a multiple of 32) in
-- slabs, as a bitmap: a jeq to the code of each number whose code is not
-- a plain verdict (or one of the two commonest), then one jset on
-- 1 << (nr & 31) between the two commonest verdicts.
local function bitmap(slabs, base)
  local at, j, count = {}, 1, {}
  for pos = 0, 31 do
    while slabs[j + 1] and slabs[j + 1][1] <= base + pos do j = j + 1 end
    local code = slabs[j][2]
    at[pos] = slabs[j]
    if #code == 1 and code[1][1] == RET_K then count[code[1][4]] = (count[code[1][4]] or 0) + 1 end
  end
  local verdicts = {}
  for v in pairs(count) do verdicts[#verdicts + 1] = v end
  table.sort(verdicts, function(x, y) return count[x] > count[y] or count[x] == count[y] and x < y end)
  local first, second = verdicts[1], verdicts[2]
  local out, bits = {}, 0
  for pos = 0, 31 do
    local code = at[pos][2]
    local v = #code == 1 and code[1][1] == RET_K and code[1][4]
    if v == first and v then bits = bits | 1 << pos
    elseif not v or v ~= second then
      if #code > 255 then return nil end -- past a jeq's reach: no bitmap here
      out[#out + 1] = { JEQ, 0, #code, base + pos }
      table.move(code, 1, #code, #out + 1, out)
    end
  end
  if not first then return nil end
  if second then
    for _, ins in ipairs{ { ALU_AND_K, 0, 0, 31 }, { TAX, 0, 0, 0 }, { LD_IMM, 0, 0, 1 },
      { ALU_LSH_X, 0, 0, 0 }, { JSET, 0, 1, bits }, { RET_K, 0, 0, first } } do
      out[#out + 1] = ins
    end
  end
  out[#out + 1] = { RET_K, 0, 0, second or first }
  return out
end

-- The numbers from which a bitmap costs the container nothing at run time:
-- the kernel's action cache (seccomp_cache_prepare) marks a syscall always
-- allowed only when the program's path to it loads nothing but the nr and
-- the arch and tests them (a jump or an and); a bitmap's shift takes every
-- number of its block out of the cache, and each of its calls then runs
-- the filter (+22 ns a getppid here). The cache holds the native and the
-- compat numbers (x86_64, i386), never x32's (0x40000000 and up).
local UNCACHED = 0x40000000

-- Slabs of syscall numbers with the busy blocks of 32 numbers (those where
-- a bitmap is shorter than a search over the slabs) made bitmaps, from
-- UNCACHED up.
local function with_bitmaps(slabs)
  local starts_in = {}
  for i = 2, #slabs do
    local base = slabs[i][1] - slabs[i][1] % 32
    starts_in[base] = (starts_in[base] or 0) + 1
  end
  local chosen, bases = {}, {}
  for base, n in pairs(starts_in) do
    local code = n >= 3 and base >= UNCACHED and bitmap(slabs, base)
    if code and #code < 2 * n + 1 then chosen[base], bases[#bases + 1] = code, base end
  end
  if #bases == 0 then return slabs end
  table.sort(bases)
  local out = {}
  local function add(lo, code)
    local text = M.encode(code)
    local last = out[#out]
    if not (last and last.text == text) then out[#out + 1] = { lo, code, text = text } end
  end
  for i, slab in ipairs(slabs) do
    local cur, hi = slab[1], (slabs[i + 1] and slabs[i + 1][1] or U32 + 1) - 1
    while cur <= hi do
      local base = cur - cur % 32
      if chosen[base] then
        if not (out[#out] and out[#out][1] == base) then add(base, chosen[base]) end
        cur = base + 32
      else
        local next_base = hi + 1
        for _, b in ipairs(bases) do
          if b > cur then next_base = math.min(b, hi + 1) break end
        end
        add(cur, slab[2])
        cur = next_base
      end
    end
  end
  return out
end

-- The order inputs are tested in: the arch, the nr, then the others by
-- offset (the arguments, the instruction pointer) and mask.
local function order_of(pieces)
  local keys, seen = { ARCH, NR }, { [ARCH] = true, [NR] = true }
  for _, p in ipairs(pieces) do
    for key in pairs(p.env) do
      if not seen[key] then seen[key], keys[#keys + 1] = true, key end
    end
  end
  table.sort(keys, function(x, y)
    local rank_x, rank_y = x == ARCH and 0 or x == NR and 1 or 2, y == ARCH and 0 or y == NR and 1 or 2
    if rank_x ~= rank_y then return rank_x < rank_y end
    local off_x, mask_x = word_of(x)
    local off_y, mask_y = word_of(y)
    if off_x ~= off_y then return (off_x - 16) % 64 < (off_y - 16) % 64 end
    return mask_x > mask_y
  end)
  return keys
end

local function range_of(p, key) return p.env[key] or { 0, U32 } end

-- The code deciding between pieces that partition the inputs left, from
-- word ORDER[d] on: the starts of their ranges of that word cut it into
-- slabs; each slab gets the code for the pieces over it.
local function decide(pieces, order, d)
  local verdict = pieces[1].verdict
  for _, p in ipairs(pieces) do
    if p.verdict ~= verdict then verdict = nil break end
  end
  if verdict then return { { RET_K, 0, 0, verdict } } end
  local key = order[d] or error("pieces with different verdicts over the same inputs")
  local starts, seen = {}, {}
  for _, p in ipairs(pieces) do
    local r = range_of(p, key)
    for _, s in ipairs{ r[1], r[2] + 1 } do
      if s <= U32 and not seen[s] then seen[s], starts[#starts + 1] = true, s end
    end
  end
  if #starts == 1 then return decide(pieces, order, d + 1) end
  table.sort(starts)
  -- the pieces over each slab: those whose range holds its start
  local index, over = {}, {}
  for i, lo in ipairs(starts) do index[lo], over[i] = i, {} end
  for _, p in ipairs(pieces) do
    local r = range_of(p, key)
    local last = r[2] == U32 and #starts or index[r[2] + 1] - 1
    for i = index[r[1]], last do table.insert(over[i], p) end
  end
  local slabs = {}
  for i, lo in ipairs(starts) do
    local code = decide(over[i], order, d + 1)
    local text = M.encode(code)
    local last = slabs[#slabs]
    if not (last and last.text == text) then slabs[#slabs + 1] = { lo, code, text = text } end
  end
  if #slabs == 1 then return slabs[1][2] end
  if key == NR then slabs = with_bitmaps(slabs) end
  local code = search(slabs, 1, #slabs)
  local off, mask = word_of(key)
  if mask ~= U32 then table.insert(code, 1, { 0x54, 0, 0, mask }) end
  table.insert(code, 1, { LD_W_ABS, 0, 0, off })
  return code
end

---------------------------------------------------------------------------
-- sharing the returns: the search's leaves repeat a few verdicts (allow,
-- EPERM) over and over, a return each

local function conditional(code) return code == JEQ or code == JGT or code == JGE or code == JSET end

-- Where each return of a verdict is: verdict -> ascending positions.
local function returns_of(prog)
  local at = {}
  for i, ins in ipairs(prog) do
    if ins[1] == RET_K then
      at[ins[4]] = at[ins[4]] or {}
      table.insert(at[ins[4]], i)
    end
  end
  return at
end

-- The last position in ascending list that is at most limit (at least the
-- position found, which is in the list).
local function last_within(list, limit)
  local lo, hi = 1, #list
  while lo < hi do
    local mid = (lo + hi + 1) // 2
    if list[mid] <= limit then lo = mid else hi = mid - 1 end
  end
  return list[lo]
end

-- Point every jump to a return at the farthest equal return within its
-- reach (255 ahead), and make a ja to a return that return.
local function retarget(prog)
  local at = returns_of(prog)
  for i, ins in ipairs(prog) do
    if conditional(ins[1]) then
      for slot = 2, 3 do
        local to = prog[i + 1 + ins[slot]]
        if to[1] == RET_K then ins[slot] = last_within(at[to[4]], i + 256) - i - 1 end
      end
    elseif ins[1] == JA and prog[i + 1 + ins[4]][1] == RET_K then
      prog[i] = { RET_K, 0, 0, prog[i + 1 + ins[4]][4] }
    end
  end
end

-- prog without the instructions no path reaches (jumps go forward only:
-- one pass in order sees every way into an instruction before it), the
-- jumps' offsets mended; nil when every instruction is reached.
local function without_unreached(prog)
  local reached, n = { [1] = true }, #prog
  for i, ins in ipairs(prog) do
    if reached[i] then
      local code = ins[1]
      if conditional(code) then
        reached[i + 1 + ins[2]], reached[i + 1 + ins[3]] = true, true
      elseif code == JA then
        reached[i + 1 + ins[4]] = true
      elseif code ~= RET_K and code ~= RET_A then
        reached[i + 1] = true
      end
    end
  end
  local new_at, out = {}, {}
  for i = 1, n do
    if reached[i] then out[#out + 1], new_at[i] = prog[i], #out + 1 end
  end
  if #out == n then return nil end
  for i, ins in ipairs(prog) do
    if reached[i] then
      local from = new_at[i] + 1
      if conditional(ins[1]) then
        ins[2], ins[3] = new_at[i + 1 + ins[2]] - from, new_at[i + 1 + ins[3]] - from
      elseif ins[1] == JA then
        ins[4] = new_at[i + 1 + ins[4]] - from
      end
    end
  end
  return out
end

-- The program with its jumps to a return sent to one shared return where
-- one is in reach, and the returns left unreached dropped: the same
-- verdicts, fewer instructions (a shorter program jumps farther: until
-- nothing is left to drop).
local function share_returns(code)
  -- copies: the search puts the same instruction at several places
  local prog = {}
  for i, ins in ipairs(code) do prog[i] = { ins[1], ins[2], ins[3], ins[4] } end
  repeat
    retarget(prog)
    local shorter = without_unreached(prog)
    prog = shorter or prog
  until not shorter
  return prog
end

--- The program rewritten as a search over its inputs, with the same
-- verdict as bpf for every arch, syscall number and arguments (see the top
-- of this file); nil and a reason when bpf does what the rewrite does not
-- handle (scratch memory, the X register, arithmetic on inputs other
-- than a mask).
function M.rewrite(bpf)
  local pieces, err = M.pieces(bpf)
  if not pieces then return nil, err end
  -- a rewrite that goes wrong leaves the program as it is (fail closed)
  local built, code = pcall(function()
    return M.encode(share_returns(decide(pieces, order_of(pieces), 1)))
  end)
  if not built then return nil, "the rewrite failed: " .. tostring(code) end
  if #code > MAXINSNS * 8 then return nil, "the rewrite is too long" end
  return code
end

--- M.rewrite(bpf) when it is shorter than bpf; else nil and why.
function M.shrink(bpf)
  local short, err = M.rewrite(bpf)
  if short and #short >= #bpf then return nil, "the rewrite is no shorter" end
  return short, err
end

return M
