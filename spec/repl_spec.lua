-- The REPL: lua/nsl/repl.lua directly (pretty, results, complete, help), and
-- the nsl executable's REPL driven through a pseudo-terminal.
local helper = require "helper"
local core = require "nsl.core"
local repl = require "nsl.repl"

local q = helper.quote

-- ---- driving the REPL through a pty -------------------------------------------
--
-- util-linux script(1) gives nsl a pty and copies our input into it. Input
-- typed before the REPL reads it is still read in order (it waits in the
-- tty), but a Ctrl-C is a signal the moment it is typed, and an input byte
-- typed while the tty is not in readline's raw mode is cooked by the kernel.
-- So the feeder waits for what the REPL printed where timing matters:
--   "text"            type text
--   { wait = "x" }    wait until x appears in the output (10 s at most)
--   { prompt = true } wait until the output ends with the "nsl> " prompt:
--                     all input read, the tty in raw mode
-- Every session ends with a line printing "session-end", a wait for it and
-- the prompt after it, then Ctrl-D: the REPL's own way out.

local END = 'print("session" .. "-end")\n'

local FEEDER_FUNCTIONS = [[
fail() { echo "feeder: $1" >&2; exit 1; }
wait_for() {
  n=0
  until grep -qaF -e "$1" "$out" 2>/dev/null; do
    n=$((n + 1)); [ "$n" -le 400 ] || fail "no '$1' in the output"; sleep 0.025
  done
}
at_prompt() {
  n=0
  until [ "$(tail -c 5 "$out" 2>/dev/null)" = "nsl> " ]; do
    n=$((n + 1)); [ "$n" -le 400 ] || fail "no prompt"; sleep 0.025
  done
}
]]

local function feeder(steps)
  local lines = { "feed() {" }
  -- typed before the REPL is up, input is echoed by the pty ahead of the
  -- banner (it comes in cooked mode): the first line waits for the prompt
  local all = { { prompt = true } }
  for _, s in ipairs(steps) do all[#all + 1] = s end
  for _, s in ipairs({ END, { wait = "session-end" }, { prompt = true }, "\4" }) do
    all[#all + 1] = s
  end
  for _, step in ipairs(all) do
    if type(step) == "string" then
      lines[#lines + 1] = "  printf '%s' " .. q(step)
    elseif step.wait then
      lines[#lines + 1] = "  wait_for " .. q(step.wait)
    else
      lines[#lines + 1] = "  at_prompt"
    end
  end
  lines[#lines + 1] = "}"
  return table.concat(lines, "\n")
end

-- The shell command of a session in dir; `env` maps variables to values
-- (false: unset), `nsl` is the binary's shell word.
local function session_command(dir, steps, env, nsl)
  local vars = { "env -u XDG_STATE_HOME -u NSL_HISTORY -u HOME TERM=dumb" }
  for k, v in pairs(env) do
    if v then vars[#vars + 1] = k .. "=" .. q(v) end
  end
  return table.concat({
    "out=" .. q(dir .. "/out"),
    FEEDER_FUNCTIONS,
    feeder(steps),
    -- exec: a shell left between script and nsl (dash, when SHELL is unset)
    -- would die of the Ctrl-C that nsl catches, and script reports that.
    "feed | " .. table.concat(vars, " ") .. " script -qfec \"exec \"" .. nsl ..
      " /dev/null >\"$out\"",
    "rc=$?",
    "cat \"$out\"",
    "exit $rc",
  }, "\n")
end

-- Run one REPL session in dir; returns { code =, out =, err = } with the
-- pty's output (\r\n line ends) in out.
local function session(dir, steps, env)
  env = env or { HOME = dir, NSL_HISTORY = dir .. "/history" }
  return helper.sh(session_command(dir, steps, env, q(helper.nsl)), nil, 40)
end

-- The output shows s as a line of its own.
local function has_line(out, s)
  return out:find("\r\n" .. s .. "\r\n", 1, true) ~= nil
end

local function lines_of(path)
  local t = {}
  for line in (helper.read(path) or ""):gmatch("[^\n]+") do t[#t + 1] = line end
  return t
end

-- ---- nsl.repl, the Lua side ---------------------------------------------------

describe("nsl.repl", function()
  describe("pretty", function()
    it("shows scalars as Lua would write them", function()
      assert.equal("nil", repl.pretty(nil))
      assert.equal("true", repl.pretty(true))
      assert.equal("42", repl.pretty(42))
      assert.equal("1.5", repl.pretty(1.5))
      assert.equal('"a\\"b\\n\\t\\\\c\\000"', repl.pretty('a"b\n\t\\c\0'))
    end)

    it("shows a table with its sequence first and the other keys sorted", function()
      assert.equal('{ 10, 20, [5] = true, alpha = "a", beta = { 1 }, ["two words"] = 2 }',
        repl.pretty({ 10, 20, beta = { 1 }, alpha = "a", ["two words"] = 2, [5] = true }))
      assert.equal("{}", repl.pretty({}))
      assert.equal('{ ["end"] = 1 }', repl.pretty({ ["end"] = 1 }))
    end)

    it("marks cycles", function()
      local t = { name = "t" }
      t.self = t
      t.child = { parent = t }
      assert.equal('{ child = { parent = <cycle> }, name = "t", self = <cycle> }',
        repl.pretty(t))
    end)

    it("shows tables deeper than the depth limit as {...}", function()
      local deep = { a = { b = { c = { d = { e = 1 } } } } }
      assert.equal("{ a = { b = { c = { d = {...} } } } }", repl.pretty(deep))
      assert.equal("{ a = {...} }", repl.pretty(deep, { depth = 1 }))
    end)

    it("breaks a table wider than the width over indented lines", function()
      local long = string.rep("x", 40)
      assert.equal('{\n  "' .. long .. '",\n  "' .. long .. '",\n  { n = 1 }\n}',
        repl.pretty({ long, long, { n = 1 } }))
    end)

    it("cuts a long table after max_items", function()
      assert.equal("{ 1, 2, 3, ... (2 more) }",
        repl.pretty({ 1, 2, 3, 4, 5 }, { max_items = 3 }))
    end)

    it("uses a table's __tostring", function()
      local t = setmetatable({}, { __tostring = function() return "<thing>" end })
      assert.equal("{ <thing> }", repl.pretty({ t }))
    end)
  end)

  describe("results", function()
    it("shows the nil, message, errno convention with the errno's name", function()
      assert.equal('nil, "mkdir \'/x\': File exists", EEXIST',
        repl.results(nil, "mkdir '/x': File exists", core.errno.EEXIST))
      assert.equal('nil, "x", EPERM', repl.results(nil, "x", core.errno.EPERM))
    end)

    it("separates several results with commas and keeps nils", function()
      assert.equal('1, nil, "two"', repl.results(1, nil, "two"))
      assert.equal("nil", repl.results(nil))
      assert.equal("", repl.results())
    end)

    it("leaves a number that is not an errno alone", function()
      assert.equal('nil, "x", 100000', repl.results(nil, "x", 100000))
      assert.equal('nil, "x", 1.5', repl.results(nil, "x", 1.5))
    end)
  end)

  describe("complete", function()
    local env = {
      nsl = require "nsl",
      obj = { alpha = 1, alpine = 2, beta = 3, _hidden = 4, [1] = 5, ["not id"] = 6,
        inner = { leaf = true } },
      str = "text",
      methods = setmetatable({ field = 1, fn = function() end },
        { __index = { inherited = function() end } }),
    }

    it("completes the fields of nsl", function()
      assert.same({ "nsl.strerror" }, repl.complete("nsl.stre", env))
      if core.mount then
        local got = repl.complete("nsl.mo", env)
        assert.truthy(#got >= 2)
        assert.truthy(table.concat(got, " "):find("nsl.mount", 1, true))
        for _, name in ipairs(got) do assert.matches("^nsl%.mo", name) end
      end
    end)

    it("completes fields along a dotted path, sorted", function()
      assert.same({ "obj.alpha", "obj.alpine" }, repl.complete("obj.al", env))
      assert.same({ "obj.inner.leaf" }, repl.complete("obj.inner.", env))
      assert.same({ "obj.alpha", "obj.alpine", "obj.beta", "obj.inner" },
        repl.complete("obj.", env))
    end)

    it("offers names starting with _ once _ is typed", function()
      assert.same({ "obj._hidden" }, repl.complete("obj._", env))
    end)

    it("completes global names and keywords", function()
      assert.same({ "obj" }, repl.complete("ob", env))
      assert.same({ "repeat", "return" }, repl.complete("re", env))
    end)

    it("completes methods after a colon, through the metatable's __index", function()
      assert.same({ "str:upper" }, repl.complete("str:up", env))
      assert.same({ "methods:fn", "methods:inherited" }, repl.complete("methods:", env))
      assert.same({ "methods.field", "methods.fn", "methods.inherited" },
        repl.complete("methods.", env))
    end)

    it("gives nothing for a path that leads nowhere", function()
      assert.same({}, repl.complete("nothing.here", env))
      assert.same({}, repl.complete("obj.alpha.x", env))
      assert.same({}, repl.complete("1.", env))
    end)
  end)

  describe("help", function()
    local dir

    before_each(function() dir = helper.tmpdir() end)
    after_each(function() helper.rmtree(dir) end)

    -- the sig, the doc and the example (nsl.examples, see examples_spec)
    local function core_text(name)
      local example = require("nsl.examples")[name]:gsub("%s+$", "")
      return "nsl." .. core._doc[name].sig .. "\n  " .. core._doc[name].doc ..
        "\n  example:\n    " .. example:gsub("\n", "\n    ")
    end

    it("gives the sig and doc of a core function by name and by value", function()
      assert.equal(core_text("strerror"), repl.help("strerror"))
      assert.equal(core_text("strerror"), repl.help("nsl.strerror"))
      assert.equal(core_text("strerror"), repl.help(core.strerror))
      assert.equal(core_text("strerror"), repl.help(require("nsl").strerror))
    end)

    it("lists every core function with its doc line", function()
      local text = repl.help()
      assert.truthy(text:find(core.version, 1, true))
      for name, d in pairs(core._doc) do
        assert.truthy(text:find("\n  " .. name .. " +" .. d.doc:gsub("%p", "%%%0") .. "\n"),
          name .. " is not listed")
      end
    end)

    local MODULE = table.concat({
      "local M = {}",
      "",
      "--- Add two numbers.",
      "-- Both are integers.",
      "function M.add(a, b) return a + b end",
      "",
      "function M.bare(x, ...) return x end",
      "",
      "-------------------------------------------------",
      "--- Scale a value.",
      "local function scale(v, by) return v * by end",
      "M.scale = scale",
      "return M",
    }, "\n")

    it("reads the --- comment above a Lua function's definition in its file", function()
      local path = dir .. "/helpmod.lua"
      helper.write(path, MODULE)
      local m = assert(loadfile(path))()
      package.loaded.helpmod = m
      finally(function() package.loaded.helpmod = nil end)
      assert.equal("helpmod.add(a, b)\n  Add two numbers.\n  Both are integers.\n" ..
        "  defined at " .. path .. ":5", repl.help(m.add))
      assert.equal("helpmod.scale(v, by)\n  Scale a value.\n  defined at " .. path .. ":11",
        repl.help(m.scale))
      assert.equal("helpmod.bare(x, ...)\n  (no --- comment above its definition)\n" ..
        "  defined at " .. path .. ":7", repl.help(m.bare))
      assert.equal(repl.help(m.add), repl.help("helpmod.add"))
    end)

    it("reads the embedded source of the nsl binary from nsl.sources", function()
      local saved = package.loaded["nsl.sources"]
      finally(function() package.loaded["nsl.sources"] = saved end)
      package.loaded["nsl.sources"] = { ["virtual/helpmod.lua"] = MODULE }
      local m = assert(load(MODULE, "@virtual/helpmod.lua"))()
      assert.equal("function(a, b)\n  Add two numbers.\n  Both are integers.\n" ..
        "  defined at virtual/helpmod.lua:5", repl.help(m.add))
    end)

    it("lists a module's functions with their first doc sentence", function()
      local path = dir .. "/helpmod.lua"
      helper.write(path, MODULE)
      local m = assert(loadfile(path))()
      package.loaded.helpmod = m
      finally(function() package.loaded.helpmod = nil end)
      assert.equal("helpmod:\n  add(a, b)     Add two numbers.\n  bare(x, ...)\n" ..
        "  scale(v, by)  Scale a value.", repl.help(m))
      assert.equal(repl.help(m), repl.help("helpmod"))
    end)

    it("points to the Lua manual for a Lua built-in", function()
      assert.equal("string.format: a Lua built-in, see the manual: " ..
        "https://www.lua.org/manual/5.4/manual.html#pdf-string.format",
        repl.help(string.format))
    end)

    it("says when it knows nothing", function()
      assert.matches("^no help for 'no_such_name_here'", repl.help("no_such_name_here"))
      assert.matches("^42: a number value", repl.help(42))
    end)
  end)

  describe("install", function()
    it("gives the globals nsl and a help that prints", function()
      local env = {}
      repl.install(env)
      assert.equal(require "nsl", env.nsl)
      assert.is_function(env.help)
      assert.matches("^function%(x%)\n  help%(x%): explain x", repl.help(env.help))
    end)

    it("gives a trace switch that turns nsl.trace on and off", function()
      local env = {}
      repl.install(env)
      local trace = require "nsl.trace"
      finally(function() trace.disable() end)
      assert.is_true(env.trace(true))
      assert.is_true(trace.enabled())
      assert.is_false(env.trace(false))
      assert.is_false(trace.enabled())
    end)
  end)
end)

-- ---- the REPL of the nsl executable ---------------------------------------------

describe("nsl REPL", function()
  local dir

  before_each(function() dir = helper.tmpdir() end)
  after_each(function() helper.rmtree(dir) end)

  local function ok(r)
    assert.equal(0, r.code, "exit " .. tostring(r.code) .. "\n" .. r.out .. r.err)
    assert.equal("", r.err)
    return r.out
  end

  it("prints the banner, then an expression's value", function()
    local out = ok(session(dir, { "6*7\n" }))
    assert.truthy(out:find("nsl " .. core.version ..
      " (Lua 5.4) - help() for help, Ctrl-D to quit\r\nnsl> ", 1, true), out)
    assert.truthy(has_line(out, "42"), out)
  end)

  it("prints a table readably and a failure with its errno name", function()
    local out = ok(session(dir, { '{3,2,x="y",[10]=true}\n',
      "nsl.strerror(nsl.errno.EPERM), nil, (function() return nil, 'm', 1 end)()\n" }))
    assert.truthy(has_line(out, '{ 3, 2, [10] = true, x = "y" }'), out)
    assert.truthy(has_line(out, '"' .. core.strerror(1) .. '", nil, nil, "m", 1'), out)
    local out2 = ok(session(dir, { "(function() return nil, 'bad' .. 'thing', 13 end)()\n" }))
    assert.truthy(has_line(out2, 'nil, "badthing", EACCES'), out2)
  end)

  it("reads a function over several lines, then calls it", function()
    local out = ok(session(dir, { "function twice(x)\n", "  return 2 * x\n", "end\n",
      "twice(21)\n" }))
    assert.truthy(out:find("\r\n>> ", 1, true), out)
    assert.truthy(has_line(out, "42"), out)
  end)

  it("prints an error with its traceback and goes on", function()
    local r = session(dir, { 'error("bo" .. "om")\n', 'print("still" .. "-alive")\n' })
    local out = ok(r)
    assert.truthy(has_line(out, "stdin:1: boom"), out)
    assert.truthy(out:find("\r\nstack traceback:\r\n", 1, true), out)
    assert.truthy(has_line(out, "still-alive"), out)
  end)

  it("reports a syntax error and goes on", function()
    local out = ok(session(dir, { "x = = 1\n", "1 + 1\n" }))
    assert.truthy(has_line(out, "stdin:1: unexpected symbol near '='"), out)
    assert.truthy(has_line(out, "2"), out)
  end)

  it("has nsl and help as globals; help shows a function's doc", function()
    local name = core._doc.mount and "mount" or "strerror"
    local out = ok(session(dir, { 'nsl == require "nsl"\n', 'help("' .. name .. '")\n' }))
    assert.truthy(has_line(out, "true"), out)
    assert.truthy(has_line(out, "nsl." .. core._doc[name].sig), out)
    assert.truthy(has_line(out, "  " .. core._doc[name].doc), out)
  end)

  it("lists the core functions for help()", function()
    local out = ok(session(dir, { "help()\n" }))
    assert.truthy(out:find("\r\n  strerror +" .. core._doc.strerror.doc:gsub("%p", "%%%0")
      .. "\r\n"), out)
  end)

  it("completes nsl.stre<Tab> to nsl.strerror", function()
    local out = ok(session(dir, { "nsl.stre\t(2)\n" }))
    assert.truthy(has_line(out, '"' .. core.strerror(2) .. '"'), out)
  end)

  it("writes the history file without empty or repeated lines", function()
    local hist = dir .. "/hist/sub/history"
    ok(session(dir, { "x = 1\n", "\n", "x = 1\n", "print(x)\n", "x = 1\n" },
      { HOME = dir, NSL_HISTORY = hist }))
    assert.same({ "x = 1", "print(x)", "x = 1", END:sub(1, -2) }, lines_of(hist))
  end)

  it("reads the history back on the next start", function()
    local hist = dir .. "/history"
    ok(session(dir, { 'print("round" .. "-trip")\n' }))
    -- Ctrl-P twice: back over the session's last line to the one before
    local out = ok(session(dir, { { prompt = true }, "\16\16\n" }))
    assert.truthy(has_line(out, "round-trip"), out)
    assert.same({ 'print("round" .. "-trip")', END:sub(1, -2), 'print("round" .. "-trip")',
      END:sub(1, -2) }, lines_of(hist))
  end)

  it("keeps at most 1000 history entries", function()
    local hist = dir .. "/history"
    local old = {}
    for i = 1, 1100 do old[i] = "n = " .. i end
    helper.write(hist, table.concat(old, "\n") .. "\n")
    local out = ok(session(dir, { { prompt = true }, "\16\n" }))
    assert.truthy(out:find("nsl> n = 1100", 1, true), out)
    local lines = lines_of(hist)
    assert.equal(1000, #lines)
    assert.equal("n = 102", lines[1])
    assert.equal(END:sub(1, -2), lines[1000])
  end)

  it("keeps the history in $XDG_STATE_HOME/nsl, else in ~/.local/state/nsl", function()
    ok(session(dir, { "1\n" }, { HOME = dir .. "/nohome", XDG_STATE_HOME = dir .. "/state" }))
    assert.same({ "1", END:sub(1, -2) }, lines_of(dir .. "/state/nsl/history"))
    assert.is_nil(helper.read(dir .. "/nohome"), "HOME must not be created")
    ok(session(dir, { "2\n" }, { HOME = dir }))
    assert.same({ "2", END:sub(1, -2) }, lines_of(dir .. "/.local/state/nsl/history"))
  end)

  it("runs without a history file and without complaint when HOME is unset", function()
    local out = ok(session(dir, { '"no" .. "-home"\n' }, {}))
    assert.truthy(has_line(out, '"no-home"'), out)
  end)

  it("keeps NSL_HISTORY=/dev/null a device (no history)", function()
    ok(session(dir, { "1\n" }, { HOME = dir, NSL_HISTORY = "/dev/null" }))
    assert.equal("yes\n", helper.sh("test -c /dev/null && echo yes").out)
  end)

  it("interrupts a running chunk on Ctrl-C and goes on", function()
    local out = ok(session(dir, { 'io.write("loop", "-started\\n") while true do end\n',
      { wait = "loop-started" }, "\3", { wait = "interrupted!" },
      'print("after" .. "-interrupt")\n' }))
    assert.truthy(out:find("interrupted!\r\nstack traceback:", 1, true), out)
    assert.truthy(has_line(out, "after-interrupt"), out)
  end)

  it("discards the line on Ctrl-C at the prompt, also a continued one", function()
    local out = ok(session(dir, {
      { prompt = true }, "undefined_fn(", { wait = "undefined_fn(" }, "\3",
      'function half()\n', { wait = ">> " }, "\3",
      'print("after" .. "-cancel")\n' }))
    assert.truthy(has_line(out, "after-cancel"), out)
    assert.falsy(out:find("stdin:", 1, true), out)
  end)

  it("runs as uid 65534 with an unwritable HOME, without history", function()
    local sub = dir .. "/nobody"
    assert(os.execute("mkdir -m 0777 " .. q(sub)))
    local cmd = session_command(sub, { '"as" .. "-nobody"\n' },
      { HOME = "/nonexistent" }, '"$NSL"')
    local r = helper.unprivileged(cmd, nil, 40)
    local out = ok(r)
    assert.truthy(has_line(out, '"as-nobody"'), out)
    assert.is_nil(out:find("nsl:", 1, true), out)
  end)
end)
