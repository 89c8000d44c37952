-- strip_names.lua IN OUT: copy a Lua 5.4 binary chunk (luac's output)
-- without the names of its locals (parameters included) and upvalues.
--
-- A start loads the library's bytecode, and interning its strings is most
-- of that: those names were a quarter of them. The line information stays,
-- for errors and tracebacks; help() reads a function's parameters from its
-- source text (nsl.sources), and a runtime error's "(local 'x')" or
-- "(upvalue 'x')" loses its name. The format is ldump.c's (Lua 5.4).
local input, output = arg[1], arg[2]
local f = assert(io.open(input, "rb"))
local s = f:read("a")
f:close()

local pos = 1
local out = {}

local function bytes(n)
  local b = s:sub(pos, pos + n - 1)
  assert(#b == n, "truncated chunk")
  pos = pos + n
  return b
end

-- ldump.c's dumpSize: 7 bits a byte, most significant first, the last byte
-- marked with 0x80
local function read_size()
  local x = 0
  repeat
    local b = s:byte(pos)
    assert(b, "truncated chunk")
    pos = pos + 1
    x = (x << 7) | (b & 0x7f)
  until b & 0x80 ~= 0
  return x
end

local function size_text(x)
  local t = { string.char((x & 0x7f) | 0x80) }
  x = x >> 7
  while x ~= 0 do
    table.insert(t, 1, string.char(x & 0x7f))
    x = x >> 7
  end
  return table.concat(t)
end

local function emit(b) out[#out + 1] = b end
local function copy(n) emit(bytes(n)) end
local function copy_size() local x = read_size(); emit(size_text(x)); return x end
local function copy_string() local n = copy_size(); if n > 0 then copy(n - 1) end end
local function skip_string() local n = read_size(); if n > 0 then bytes(n - 1) end end

local VFALSE, VTRUE, VNIL, VNUMINT, VNUMFLT, VSHRSTR, VLNGSTR = 1, 17, 0, 3, 19, 4, 20

local function copy_function()
  copy_string() -- source
  copy_size() -- linedefined
  copy_size() -- lastlinedefined
  copy(3) -- numparams, is_vararg, maxstacksize
  copy(4 * copy_size()) -- code
  for _ = 1, copy_size() do -- constants
    local tag = s:byte(pos)
    copy(1)
    if tag == VNUMINT or tag == VNUMFLT then
      copy(8)
    elseif tag == VSHRSTR or tag == VLNGSTR then
      copy_string()
    else
      assert(tag == VNIL or tag == VFALSE or tag == VTRUE, "unknown constant tag " .. tag)
    end
  end
  copy(3 * copy_size()) -- upvalues: instack, idx, kind
  for _ = 1, copy_size() do copy_function() end -- protos
  copy(copy_size()) -- lineinfo
  for _ = 1, copy_size() do copy_size(); copy_size() end -- abslineinfo: pc, line
  emit(size_text(0)) -- no local variables
  for _ = 1, read_size() do skip_string(); read_size(); read_size() end -- name, startpc, endpc
  emit(size_text(0)) -- no upvalue names
  for _ = 1, read_size() do skip_string() end
end

-- the header: signature, version, format, LUAC_DATA, three sizes, LUAC_INT,
-- LUAC_NUM, then the main closure's number of upvalues
assert(s:sub(1, 6) == "\27Lua\x54\0", input .. ": not a Lua 5.4 chunk")
assert(s:sub(13, 15) == "\4\8\8", input .. ": not 4-byte instructions, 8-byte numbers")
copy(4 + 1 + 1 + 6 + 3 + 8 + 8 + 1)
copy_function()
assert(pos == #s + 1, input .. ": trailing bytes")

f = assert(io.open(output, "wb"))
f:write(table.concat(out))
f:close()
