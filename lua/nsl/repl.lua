-- nsl.repl: what the nsl REPL prints, completes and explains.
--
-- src/repl.c is the terminal (readline, history, Ctrl-C); everything a user
-- reads comes from here, as plain functions over values, so that it can be
-- tested without a terminal:
--
--   repl.pretty({ 1, a = "x" })      --> '{ 1, a = "x" }'
--   repl.results(nil, "msg", 1)      --> 'nil, "msg", EPERM'
--   repl.complete("nsl.mo")          --> { "nsl.mount", "nsl.mount_flags", ... }
--   repl.help("mount")               --> the sig and doc of nsl.mount
local core = require "nsl.core"

local concat, sort = table.concat, table.sort
local format = string.format
local getinfo, getlocal, getregistry = debug.getinfo, debug.getlocal, debug.getregistry
local getmetatable, ipairs, next, pairs, pcall, rawget, select, tostring, type =
  getmetatable, ipairs, next, pairs, pcall, rawget, select, tostring, type

local M = {}

-- ---- names ----------------------------------------------------------------

local KEYWORDS = {}
for word in ([[and break do else elseif end false for function goto if in
  local nil not or repeat return then true until while]]):gmatch("%S+") do
  KEYWORDS[word] = true
end

local function is_identifier(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil
    and not KEYWORDS[s]
end

-- The value at a dotted path ("nsl.container") below env, or nil. Indexing
-- may run __index (the facade loads a library module on first use).
local function resolve(path, env)
  local value = env
  for name in (path .. "."):gmatch("(.-)%.") do
    if not is_identifier(name) then return nil end
    local t = type(value)
    if t ~= "table" and t ~= "userdata" and t ~= "string" then return nil end
    local ok, v = pcall(function() return value[name] end)
    if not ok then return nil end
    value = v
  end
  return value
end

-- The value at "module.field.field" where "module" is in package.loaded.
local function module_path(path)
  for module, rest in path:gmatch("()%.()") do
    local m = package.loaded[path:sub(1, module - 1)]
    if type(m) == "table" then
      local v = resolve(path:sub(rest), m)
      if v ~= nil then return v end
    end
  end
  return nil
end

-- The name under which package.loaded holds value: "nsl.container", or nil.
local function module_name(value)
  local best
  for name, module in pairs(package.loaded) do
    if module == value and name ~= "_G" and (not best or #name > #best) then
      best = name
    end
  end
  return best
end

-- A name for table t: its module's ("nsl.userns"), a module's field's
-- ("nsl.container.step"), else "table".
local function table_name(t)
  local name = module_name(t)
  if name then return name end
  for mod, module in pairs(package.loaded) do
    if type(module) == "table" and mod ~= "_G" then
      for k, v in next, module do
        if v == t and is_identifier(k) then return mod .. "." .. k end
      end
    end
  end
  return "table"
end

-- The library modules of a module table: names "NAME.sub" in package.preload
-- or package.loaded that the table gives as a field (the nsl facade loads
-- them lazily, so its fields are probed rather than listed).
local function submodules(value)
  local name = module_name(value)
  local found = {}
  if not name then return found end
  local prefix = "^" .. name:gsub("%p", "%%%0") .. "%.([%w_]+)$"
  for _, list in ipairs({ package.preload, package.loaded }) do
    for full in pairs(list) do
      local sub = type(full) == "string" and full:match(prefix)
      if sub and not found[sub] then
        local ok, v = pcall(function() return value[sub] end)
        if ok and type(v) == "table" then found[sub] = v end
      end
    end
  end
  return found
end

-- ---- pretty ---------------------------------------------------------------

local ESCAPES = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\a"] = "\\a", ["\b"] = "\\b",
  ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
  ["\v"] = "\\v",
}

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESCAPES[c] or format("\\%03d", c:byte())
  end) .. '"'
end

local TYPE_RANK = { number = 1, string = 2, boolean = 3 }

-- Keys in a stable order: numbers, then strings, then the rest by name.
local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    local ra, rb = TYPE_RANK[ta] or 4, TYPE_RANK[tb] or 4
    if ra ~= rb then return ra < rb end
    return ta < tb
  end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local render

local function render_key(k, ctx, indent, depth)
  if is_identifier(k) then return k end
  return "[" .. render(k, ctx, indent, depth) .. "]"
end

-- The items of table t: its sequence 1..n first, then the other keys sorted.
local function table_items(t, ctx, indent, depth)
  local items, n = {}, 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  local keys = {}
  for k in next, t do
    if math.type(k) ~= "integer" or k < 1 or k > n then keys[#keys + 1] = k end
  end
  sort(keys, key_less)
  local total = n + #keys
  for i = 1, math.min(total, ctx.max_items) do
    if i <= n then
      items[i] = render(t[i], ctx, indent, depth)
    else
      local k = keys[i - n]
      items[i] = render_key(k, ctx, indent, depth) .. " = "
        .. render(rawget(t, k), ctx, indent, depth)
    end
  end
  if total > ctx.max_items then
    items[#items + 1] = format("... (%d more)", total - ctx.max_items)
  end
  return items
end

local function render_table(t, ctx, indent, depth)
  local mt = getmetatable(t)
  if type(mt) == "table" and rawget(mt, "__tostring") then return tostring(t) end
  if next(t) == nil then return "{}" end
  if ctx.path[t] then return "<cycle>" end
  if depth >= ctx.depth then return "{...}" end
  ctx.path[t] = true
  local items = table_items(t, ctx, indent + 2, depth + 1)
  ctx.path[t] = nil
  local line = "{ " .. concat(items, ", ") .. " }"
  if indent + #line <= ctx.width and not line:find("\n") then return line end
  local pad = string.rep(" ", indent + 2)
  return "{\n" .. pad .. concat(items, ",\n" .. pad) .. "\n"
    .. string.rep(" ", indent) .. "}"
end

function render(v, ctx, indent, depth)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "table" then return render_table(v, ctx, indent, depth) end
  return tostring(v)
end

--- Readable text for a value: strings quoted, tables as nested tables with
-- sorted keys, cycles shown as <cycle>, nesting deeper than opts.depth (4)
-- as {...}, tables wider than opts.width (78) over several lines, at most
-- opts.max_items (200) items a table.
function M.pretty(value, opts)
  opts = opts or {}
  local ctx = {
    path = {},
    depth = opts.depth or 4,
    width = opts.width or 78,
    max_items = opts.max_items or 200,
  }
  return render(value, ctx, 0, 0)
end

--- The results of a chunk as the REPL prints them: each value pretty,
-- separated by ", "; the failure convention `nil, message, errno` shows the
-- errno's name: nil, "mkdir '/x': File exists", EEXIST.
function M.results(...)
  local n = select("#", ...)
  local values, out = { ... }, {}
  for i = 1, n do out[i] = M.pretty(values[i]) end
  if n == 3 and values[1] == nil and type(values[2]) == "string"
      and math.type(values[3]) == "integer" and core.errno[values[3]] then
    out[3] = core.errno[values[3]]
  end
  return concat(out, ", ")
end

-- ---- completion -----------------------------------------------------------

-- The field names of value usable after "." (or after ":" with methods_only):
-- its own keys, those its metatable's __index tables give (string methods,
-- fd methods), and the library modules of a module table.
local function field_names(value, methods_only)
  local names, seen = {}, {}
  local function add(k, v)
    if is_identifier(k) and (not methods_only or type(v) == "function") then
      names[k] = true
    end
  end
  local t = value
  while t ~= nil and not seen[t] do
    seen[t] = true
    if type(t) == "table" then
      for k, v in pairs(t) do add(k, v) end -- __pairs: the core's lazy names
    end
    local mt = getmetatable(t)
    t = type(mt) == "table" and rawget(mt, "__index") or nil
    if type(t) ~= "table" then t = nil end
  end
  if type(value) == "table" then
    for k, v in pairs(submodules(value)) do add(k, v) end
  end
  return names
end

--- The completions of text (the word before the cursor) as full words,
-- sorted: global names and keywords, or the fields of the table a dotted
-- or colon path reaches ("nsl.mo" -> "nsl.mount", "nsl.mount_flags"...).
-- Names starting with "_" are offered only once "_" is typed.
function M.complete(text, env)
  env = env or _G
  local head, sep, word = text:match("^(.*)([.:])([%w_]*)$")
  local names
  if head then
    local value = resolve(head, env)
    if value == nil then return {} end
    names = field_names(value, sep == ":")
  else
    word, head, sep = text, "", ""
    if not word:match("^[%a_]?[%w_]*$") then return {} end
    names = field_names(env, false)
    for k in pairs(KEYWORDS) do names[k] = true end
  end
  local out = {}
  for name in pairs(names) do
    if name:sub(1, #word) == word
        and (word:sub(1, 1) == "_" or name:sub(1, 1) ~= "_") then
      out[#out + 1] = head .. sep .. name
    end
  end
  sort(out)
  return out
end

-- ---- help -----------------------------------------------------------------

-- The name of a core function value, or nil.
local function core_name(f)
  for name, v in pairs(core) do
    if v == f and core._doc[name] then return name end
  end
end

-- nsl.examples (key -> lines typed at the REPL), loaded on the first help
-- that wants one: false when it cannot be loaded.
local examples_table

-- "  example:" and the example of key indented under it, or nil.
local function example_text(key)
  if examples_table == nil then
    local ok, t = pcall(require, "nsl.examples")
    examples_table = ok and type(t) == "table" and t or false
  end
  local text = key and examples_table and examples_table[key]
  if type(text) ~= "string" then return nil end
  return "  example:\n    " .. text:gsub("%s+$", ""):gsub("\n", "\n    ")
end

local function core_help(name)
  local d = core._doc[name]
  local text = format("nsl.%s\n  %s", d.sig, d.doc)
  local example = example_text(name)
  return example and text .. "\n" .. example or text
end

-- The objects whose methods are the core's C functions: what help calls
-- them, their metatable's name in the registry (luaL_newmetatable) and
-- what they are.
local CORE_OBJECTS = {
  { "fd", "nsl.fd", "fd objects (nsl.open, nsl.pipe, nsl.fd ...)" },
  { "root", "nsl.root", "root handles (nsl.root_open)" },
  { "filter", "nsl.seccomp", "seccomp filters (nsl.seccomp_init)" },
}

-- The methods of a core object (its metatable's __index), or nil.
local function core_methods(object)
  local mt = getregistry()[object[2]]
  local index = type(mt) == "table" and rawget(mt, "__index")
  return type(index) == "table" and index or nil
end

-- Help for method `name` of a core object: what it is, its doc (from C,
-- core._method_doc) or that of the core function it is the same as (fd:read
-- is nsl.read), and its example.
local function core_method_help(object, name, f)
  local key = object[1] .. ":" .. name
  local same = core_name(f)
  local own = core._method_doc[key]
  local out = { format("%s: a method of %s%s", key, object[3],
    same and ", the same as nsl." .. same or "") }
  if own then
    out[#out + 1] = format("  %s\n  %s", own.sig, own.doc)
  elseif same then
    out[#out + 1] = format("  nsl.%s\n  %s", core._doc[same].sig, core._doc[same].doc)
  end
  out[#out + 1] = example_text(key) or (same and example_text(same))
  return concat(out, "\n")
end

-- The core object and method name of C function f, or nil.
local function core_method_of(f)
  for _, object in ipairs(CORE_OBJECTS) do
    for name, v in pairs(core_methods(object) or {}) do
      if v == f then return object, name end
    end
  end
end

-- The text of a chunk: the nsl binary's embedded copy, else the file.
local function source_text(source)
  if source:sub(1, 1) ~= "@" then return nil end
  local path = source:sub(2)
  local embedded = package.loaded["nsl.sources"]
  if type(embedded) == "table" and embedded[path] then return embedded[path] end
  local f = io.open(path, "r")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

-- The LDoc comment right above line `line` of text: the block of "--" lines
-- that ends on the line before, from its last "---" line on; nil if none.
local function ldoc_above(text, line)
  local lines, i = {}, 0
  for l in (text .. "\n"):gmatch("(.-)\r?\n") do
    i = i + 1
    if i >= line then break end
    lines[i] = l
  end
  local first = #lines + 1
  while first > 1 and lines[first - 1]:match("^%s*%-%-") do first = first - 1 end
  local start
  for k = first, #lines do
    -- "--- Doc", "--- --bind SRC DST", "---"; not a "------ rule"
    if lines[k]:match("^%s*%-%-%-+%s*[^%-%s]") or lines[k]:match("^%s*%-%-%-%s")
        or lines[k]:match("^%s*%-%-%-$") then
      start = k
    end
  end
  if not start then return nil end
  local doc = {}
  for k = start, #lines do
    doc[#doc + 1] = lines[k]:gsub("^%s*%-%-%-?%s?", "", 1)
  end
  return concat(doc, "\n")
end

-- "nsl.container.run": the most specific module holding f, else a global.
local function function_name(f)
  local best, best_module
  for name, module in pairs(package.loaded) do
    if type(module) == "table" then
      for k, v in next, module do
        if v == f and is_identifier(k) then
          local rank = name == "_G" and "" or name
          if not best or #rank > #best_module then
            best, best_module = (name == "_G" and k or name .. "." .. k), rank
          end
        end
      end
    end
  end
  return best
end

-- Line n of text, or nil.
local function line_at(text, n)
  local i = 0
  for l in (text .. "\n"):gmatch("(.-)\r?\n") do
    i = i + 1
    if i == n then return l end
  end
end

-- The parameter names in the source of the function defined at line
-- `line` ("function M.f(a, b)", "function T:m(a)": self first), or nil.
local function source_parameters(text, line)
  local lines = {}
  for n = line, line + 4 do lines[#lines + 1] = line_at(text, n) end
  local name, list = concat(lines, "\n"):match("function%s*([%w_.:]*)%s*%(([^)]*)%)")
  if not list then return nil end
  local names = name:find(":", 1, true) and { "self" } or {}
  for p in list:gmatch("[%a_][%w_]*") do names[#names + 1] = p end
  return names
end

-- The parameter names of f from number `first` on (default 1; 2 leaves out
-- a method's self): from its debug information, or from its source text
-- when that has none (the library's embedded bytecode keeps no names).
local function parameters(f, first)
  local info, params = getinfo(f, "uS"), {}
  local names = {}
  for i = 1, info.nparams do names[i] = getlocal(f, i) end
  if info.nparams > 0 and not names[1] then
    local text = source_text(info.source)
    names = text and source_parameters(text, info.linedefined) or {}
  end
  for i = first or 1, info.nparams do params[#params + 1] = names[i] or "?" end
  if info.isvararg then params[#params + 1] = "..." end
  return concat(params, ", ")
end

-- "lab:step" for a method of the library's objects: a function defined as
-- `function Lab:step(` in lua/nsl/lab.lua (no module table holds it).
local function method_name(info, text)
  local module = info.source:match("nsl/([%w_]+)%.lua$")
  local line = module and text and line_at(text, info.linedefined)
  local method = line and line:match("^%s*function%s+[%a_][%w_]*:([%a_][%w_]*)%s*%(")
  return method and module .. ":" .. method
end

-- The help of a Lua function: name(params), its --- doc, the example
-- (nsl.examples' "userns.parse_map" or "lab:step") and where it is.
local function lua_help(name, params, doc, key, where)
  local out = { format("%s(%s)", name, params) }
  if doc then
    out[#out + 1] = "  " .. doc:gsub("\n", "\n  ")
  else
    out[#out + 1] = "  (no --- comment above its definition)"
  end
  out[#out + 1] = example_text(key)
  out[#out + 1] = "  defined at " .. where
  return concat(out, "\n")
end

local function lua_function_help(f)
  local info = getinfo(f, "S")
  local text = source_text(info.source)
  local name, first = function_name(f), 1
  local key = name and name:match("^nsl%.(.+)$")
  if not name then
    name = method_name(info, text)
    key, first = name, name and 2 -- a method's first parameter is self
  end
  local doc = text and ldoc_above(text, info.linedefined)
  return lua_help(name or "function", parameters(f, first), doc, key,
    info.short_src .. ":" .. info.linedefined)
end

local function function_help(f)
  local name = core_name(f)
  if name then return core_help(name) end
  if getinfo(f, "S").what ~= "C" then return lua_function_help(f) end
  local object, method = core_method_of(f)
  if object then return core_method_help(object, method, f) end
  name = function_name(f)
  if name then
    return format("%s: a Lua built-in, see the manual: "
      .. "https://www.lua.org/manual/5.4/manual.html#pdf-%s", name, name)
  end
  return "a C function without documentation"
end

-- One line for function f in a listing: its summary (first doc line).
local function summary(f)
  local name = core_name(f)
  if name then return core._doc[name].doc end
  local info = getinfo(f, "S")
  local text = info.what ~= "C" and source_text(info.source)
  local doc = text and ldoc_above(text, info.linedefined)
  if not doc then return "" end
  -- LDoc's summary: the first sentence, before any @tag line
  doc = (doc:match("^(.-)\n%s*@") or doc):gsub("%s+", " ")
  doc = doc:match("^(.-%.)%s") or doc
  return #doc > 90 and doc:sub(1, 87) .. "..." or doc
end

local function listing(rows)
  sort(rows, function(a, b) return a[1] < b[1] end)
  local width = 0
  for _, row in ipairs(rows) do width = math.max(width, #row[1]) end
  local out = {}
  for i, row in ipairs(rows) do
    out[i] = ("  %-" .. width .. "s  %s"):format(row[1], row[2]):gsub("%s+$", "")
  end
  return concat(out, "\n")
end

local function module_list(t)
  local names = {}
  for sub in pairs(submodules(t)) do
    if sub ~= "repl" then names[#names + 1] = "nsl." .. sub end
  end
  sort(names)
  return concat(names, "  ")
end

local function overview()
  local rows = {}
  for name, d in pairs(core._doc) do rows[#rows + 1] = { name, d.doc } end
  local ok, facade = pcall(require, "nsl")
  local modules = ok and type(facade) == "table" and module_list(facade) or ""
  return concat({
    format("nsl %s: Linux containers from Lua 5.4. help \"name\" or "
      .. "help(nsl.name) shows a function; help(nsl.module) a module.", core.version),
    "",
    "Core functions (nsl.NAME, thin syscall bindings):",
    listing(rows),
    "",
    "Library modules: " .. (modules ~= "" and modules or "(none loaded)"),
    "Tab completes names; Up/Down walk the history; Ctrl-C cancels; Ctrl-D quits.",
  }, "\n")
end

local function table_help(t)
  if t == core or t == package.loaded.nsl then return overview() end
  local rows, name = {}, table_name(t)
  for k, v in pairs(t) do
    if is_identifier(k) and type(v) == "function" then
      rows[#rows + 1] = { k .. "(" .. (getinfo(v, "S").what == "C" and "..."
        or parameters(v)) .. ")", summary(v) }
    elseif is_identifier(k) and type(v) == "table" then
      rows[#rows + 1] = { k, "(table)" }
    end
  end
  -- nsl.errno and nsl.signals have an example
  local example = example_text(name:match("^nsl%.core%.(.+)$") or name:match("^nsl%.(.+)$"))
  if #rows == 0 then return name .. ": no functions" .. (example and "\n" .. example or "") end
  return name .. ":\n" .. listing(rows)
end

-- The text of library module nsl.NAME and the path to show, or nil.
local function module_source(name)
  local rel = "lua/nsl/" .. name .. ".lua"
  local embedded = package.loaded["nsl.sources"]
  if type(embedded) == "table" and embedded[rel] then return embedded[rel], rel end
  local path = package.searchpath("nsl." .. name, package.path)
  local text = path and source_text("@" .. path)
  if text then return text, path end
end

-- Help for "kind:method" by name: a core object's method ("root:mount_on"),
-- else a library object's, found by its definition in lua/nsl/KIND.lua
-- ("lab:step" is `function Lab:step(` in lab.lua); nil when neither.
local function method_help(kind, method)
  for _, object in ipairs(CORE_OBJECTS) do
    local f = object[1] == kind and (core_methods(object) or {})[method]
    if f then return core_method_help(object, method, f) end
  end
  local text, path = module_source(kind)
  local n = 0
  for line in ((text or "") .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    local params = line:match("^%s*function%s+[%a_][%w_]*:" .. method .. "%s*%(([^)]*)%)")
    if params then
      local name = kind .. ":" .. method
      return lua_help(name, params, ldoc_above(text, n), name, path .. ":" .. n)
    end
  end
end

-- A function of a library module the nsl facade does not load
-- ("running.list"), or nil.
local function library_function(name)
  local module, rest = name:match("^([%a_][%w_]*)%.(.+)$")
  module = module and "nsl." .. module
  if module and (package.loaded[module] or package.preload[module]
      or package.searchpath(module, package.path)) then
    local ok, m = pcall(require, module)
    if ok and type(m) == "table" then return resolve(rest, m) end
  end
end

local function name_help(s)
  local bare = s:gsub("^nsl%.", "")
  if core._doc[bare] then return core_help(bare) end
  local kind, method = bare:match("^([%a_][%w_]*):([%a_][%w_]*)$")
  local text = kind and method_help(kind, method)
  if text then return text end
  local value = resolve(s, _G) or resolve("nsl." .. s, _G) or module_path(s)
    or library_function(bare) or (type(core[bare]) == "table" and core[bare] or nil)
  if value == nil then
    for _, module in ipairs({ s, "nsl." .. s }) do
      if package.loaded[module] or package.preload[module] then
        local ok, m = pcall(require, module)
        if ok then value = m break end
      end
    end
  end
  if value == nil then
    return format("no help for '%s': not a function of nsl, a module nor a "
      .. "global name (help() lists them)", s)
  end
  return M.help(value)
end

--- The help text for x: help() lists the core functions with their docs;
-- a core function (or its name: help "mount") gives its sig and doc; a Lua
-- function the --- comment above its definition; a table its functions.
-- A function's help ends with its example from nsl.examples; a method is
-- named like "root:mount_on" or "lab:step".
function M.help(x)
  local t = type(x)
  if x == nil then return overview() end
  if t == "string" then return name_help(x) end
  if t == "function" then return function_help(x) end
  if t == "table" then return table_help(x) end
  return format("%s: a %s value; help explains functions, modules and names",
    M.pretty(x), t)
end

--- Give env (the REPL's globals) `help` and `nsl` (= require "nsl").
function M.install(env)
  --- help(x): explain x (a function, a module or a name like "mount");
  -- help() lists nsl's functions.
  env.help = function(x)
    io.write(M.help(x), "\n")
  end
  env.nsl = require "nsl"
  --- trace(on): print every core call as it happens (nsl.trace), or stop.
  env.trace = function(on)
    local trace = require "nsl.trace"
    if on == false then trace.disable() else trace.enable() end
    return trace.enabled()
  end
end

return M
