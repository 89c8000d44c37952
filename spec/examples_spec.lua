-- nsl.examples: an example for every function of the core and the library,
-- which the REPL's help shows; each compiles as the REPL reads it, and the
-- ones safe to run in this process print what their `-->` says.
local helper = require "helper"
local core = require "nsl.core"
local nsl = require "nsl"
local repl = require "nsl.repl"
local examples = require "nsl.examples"

-- The library modules whose public functions need an example.
local MODULES = { "container", "identity", "image", "userns", "rootfs", "inspect", "lab",
  "running", "trace", "doctor", "seccomp", "cgroup", "repl", "options", "net",
  "process", "errors", "util", "oci.common", "net.common", "devbpf" }

local function sorted(t)
  table.sort(t)
  return t
end

-- The names of the functions in t, but metamethods (__gc, __close ...).
local function function_names(t)
  local names = {}
  for k, v in pairs(t) do
    if type(k) == "string" and type(v) == "function" and not k:match("^__") then
      names[#names + 1] = k
    end
  end
  return sorted(names)
end

local function methods(object)
  return assert(getmetatable(object)).__index
end

-- The methods of the objects the core and the library make, by the prefix
-- of their keys in nsl.examples ("root:mount_on").
local function object_methods()
  local r = assert(core.pipe())
  local root = assert(core.root_open("/"))
  local filter = assert(core.seccomp_init("allow"))
  -- a lab and a cgroup without a worker or a directory: nothing runs
  local lab = require("nsl.lab").new { rootfs = "/", seccomp = "unconfined", tty = false }
  local cg = assert(require("nsl.cgroup").open("nsl/examples",
    { version = 2, unified = { mount = "/sys/fs/cgroup", root = "/", own = "/" } }))
  -- a network namespace's helper, reaped unused: this process stays in its own
  local job = assert(core.netns_prepare())
  local list = { fd = methods(r), root = methods(root), filter = methods(filter),
    lab = methods(lab), cgroup = methods(cg), netns_job = methods(job) }
  job:close()
  r:close()
  root:close()
  filter:release()
  return list
end

-- The keys in names (prefixed) that have no example.
local function missing(prefix, names)
  local out = {}
  for _, name in ipairs(names) do
    local text = examples[prefix .. name]
    if type(text) ~= "string" or not text:find("%S") then out[#out + 1] = prefix .. name end
  end
  return out
end

local function lines_of(text)
  local lines = {}
  for line in (text:gsub("%s+$", "") .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = line end
  return lines
end

-- A line as the REPL runs it: as `return LINE` when that compiles (an
-- expression: its values are printed), else as a statement.
local function load_line(line, name, env)
  local code = line:match("^(.-)%s*%-%->") or line
  local f = load("return " .. code, name, "t", env)
  if f then return f, true end
  local g, err = load(code, name, "t", env)
  return g, false, err
end

describe("nsl.examples", function()
  it("has an example for every core function", function()
    local names = {}
    for name in pairs(core._doc) do names[#names + 1] = name end
    assert.same({}, missing("", sorted(names)))
  end)

  it("has an example for every method of fd objects, root handles, seccomp filters " ..
    "and network namespace jobs", function()
      local objects = object_methods()
      for _, kind in ipairs { "fd", "root", "filter", "netns_job" } do
        local names = function_names(objects[kind])
        assert.truthy(#names >= (kind == "netns_job" and 2 or 5), kind)
        assert.same({}, missing(kind .. ":", names))
      end
    end)

  it("has an example for every public function of the library modules", function()
    for _, name in ipairs(MODULES) do
      local module = require("nsl." .. name)
      local names = function_names(module)
      assert.truthy(#names >= 1, name)
      assert.same({}, missing(name .. ".", names))
    end
  end)

  it("has an example for every method of a lab and of a cgroup", function()
    local objects = object_methods()
    for _, kind in ipairs { "lab", "cgroup" } do
      local names = function_names(objects[kind])
      assert.truthy(#names >= 5, kind)
      assert.same({}, missing(kind .. ":", names))
    end
  end)

  it("names only functions that exist", function()
    local objects = object_methods()
    local stale = {}
    for key in pairs(examples) do
      local kind, method = key:match("^([%w_]+):([%w_]+)$")
      local module, name = key:match("^([%w_.]+)%.([%w_]+)$") -- "oci.common.abs" too
      local found
      if kind then
        found = objects[kind] and type(objects[kind][method]) == "function"
      elseif module then
        local ok, m = pcall(require, "nsl." .. module)
        found = ok and type(m[name]) == "function"
      else
        found = core._doc[key] ~= nil or type(core[key]) == "table"
      end
      if not found then stale[#stale + 1] = key end
    end
    assert.same({}, sorted(stale))
  end)

  it("compiles every example, a line at a time as the REPL reads it", function()
    for key, text in pairs(examples) do
      local lines = lines_of(text)
      assert.truthy(#lines >= 1 and #lines <= 4, key .. ": 1 to 4 lines")
      for _, line in ipairs(lines) do
        local f, printed, err = load_line(line, "=" .. key, {})
        assert(f, string.format("%s: %s: %s", key, line, tostring(err)))
        -- the REPL prints only what an expression gives
        if line:find("%-%->") and not line:find("%-%-> error: ") then
          assert(printed, string.format("%s: '%s' is no expression, so the REPL " ..
            "prints nothing for it", key, line))
        end
      end
    end
  end)

  -- Run an example a line at a time in a fresh environment, as the REPL
  -- would; a line with `--> x` must print x (as repl.results shows values)
  -- or, with `--> error: m`, raise m. shape: compare with the numbers
  -- blanked (pids, fds and uids differ from machine to machine).
  local function run(key, shape)
    local env = setmetatable({ nsl = nsl }, { __index = _G })
    local me = core.getpid()
    for _, line in ipairs(lines_of(examples[key])) do
      local expected = line:match("%-%->%s?(.*)$")
      local f = assert(load_line(line, "=" .. key, env))
      local res = table.pack(pcall(f))
      -- a cloned child that came back here must not go on running busted
      if core.getpid() ~= me then core._exit(70) end
      local got
      if expected and expected:match("^error: ") then
        assert(not res[1], key .. ": " .. line .. " did not raise")
        got, expected = tostring(res[2]), expected:sub(8)
      else
        assert(res[1], string.format("%s: %s: %s", key, line, tostring(res[2])))
        got = repl.results(table.unpack(res, 2, res.n))
      end
      if expected and shape then
        assert.equal(expected:gsub("%d+", "N"), (got:gsub("%d+", "N")), key .. ": " .. line)
      elseif expected then
        assert.equal(expected, got, key .. ": " .. line)
      end
    end
  end

  -- pure, or acting on this process's own fds, ptys and filters only
  local EXACT = {
    "access", "cap_from_name", "cap_names", "close", "errno", "fs_type", "get_pdeathsig",
    "get_winsize", "is_char_device", "kill", "lstat", "mount_flags", "pipe", "poll", "read",
    "seccomp_attr_set", "seccomp_export_bpf", "seccomp_release", "seccomp_rule_add",
    "seccomp_syscall_resolve_num", "set_winsize", "signals", "stat", "strerror", "tty_raw",
    "write",
    "fd:chmod", "fd:chown", "fd:close", "fd:read", "fd:release", "fd:write",
    "filter:attr_set", "filter:export_bpf", "filter:release", "filter:rule_add",
    "cgroup.any", "cgroup.files", "cgroup.limits", "cgroup.parse_size",
    "devbpf.program", "devbpf.rule",
    "container.check", "container.explain", "container.find_command",
    "errors.explain", "errors.step", "process.exit_code", "util.has_word",
    "oci.common.abs", "net.common.overlaps", "net.common.ipv4",
    "identity.cap_name", "identity.config", "identity.parse_rlimit", "identity.parse_user",
    "identity.with_capabilities",
    "inspect.find_mount", "inspect.mountinfo", "inspect.parse_mountinfo_line",
    "options.bind", "options.env", "options.env_options", "options.environment",
    "options.help", "options.mount", "options.mount_options", "options.parse",
    "options.ro_bind", "options.target", "options.tmpfs", "options.volume", "options.with",
    "repl.complete", "repl.install", "repl.pretty", "repl.results",
    "image.check_ref", "rootfs.check", "seccomp.check", "seccomp.policy", "trace.enabled",
    "userns.format_map", "userns.map_text", "userns.maps", "userns.parse_map",
    "userns.user_name",
    "net.check_publish", "net.overlaps", "net.parse_publish",
  }

  -- the numbers differ (pids, fds, ids, syscall numbers); what changes
  -- anything does so in a cloned child, which the example waits for
  local SHAPE = {
    "_exit", "cap_max_bits", "clone", "fd:fileno", "filter:load", "getegid", "geteuid",
    "getgid", "getpgid", "getpgrp", "getpid", "getppid", "getresgid", "getresuid", "gettid",
    "getuid",
    "pidfd_send_signal", "readlink", "seccomp_load", "seccomp_load_bpf",
    "seccomp_syscall_resolve_name", "set_ctty", "wait",
    "inspect.namespaces", "userns.clone", "userns.self_maps",
  }

  it("runs the pure examples and prints exactly what their --> says", function()
    -- the REPL's globals have nsl (repl.complete looks in _G)
    local saved = rawget(_G, "nsl")
    finally(function() rawset(_G, "nsl", saved) end)
    rawset(_G, "nsl", nsl)
    for _, key in ipairs(EXACT) do run(key, false) end
  end)

  it("runs the examples whose numbers vary and prints what their --> says", function()
    -- the seccomp examples' children try mkdir /tmp/y, which their filter
    -- refuses: should one get through, its directory is removed again
    local existed = core.lstat("/tmp/y") ~= nil
    finally(function()
      if not existed and core.lstat("/tmp/y") then core.rmdir("/tmp/y") end
    end)
    for _, key in ipairs(SHAPE) do run(key, true) end
    assert.equal(existed, core.lstat("/tmp/y") ~= nil)
  end)

  it("catches an example that prints something else than its --> says", function()
    examples["test:wrong"] = 'nsl.strerror(nsl.errno.ENOENT) --> "Permission denied"'
    finally(function() examples["test:wrong"] = nil end)
    assert.has_error(function() run("test:wrong", false) end)
  end)
end)

-- Each thing is documented in one place: a core function's signature and
-- doc in its nsl_Reg entry (core._doc), a core method's in its object's
-- method table (core._method_doc), a library function's in the `---`
-- comment above it, every example in nsl.examples. What two of them both
-- state, the name and the arguments of a call, must agree.
describe("the docs' sources", function()
  -- The parameters a signature names ("mount(source, target [, flags])"):
  -- their count, or math.huge for "...".
  local function arity(sig)
    local params = assert(sig:match("^[^(]*%((.-)%)"), sig)
    if params:find("%.%.%.") then return math.huge end
    params = params:gsub("%[", ""):gsub("%]", "")
    if not params:find("%S") then return 0 end
    local n = 1
    for _ in params:gmatch(",") do n = n + 1 end
    return n
  end

  -- The argument counts of every call in text that starts with prefix
  -- ("nsl.mount(", ":mount_on("): commas at the call's own level, outside
  -- strings and brackets.
  local function calls(text, prefix)
    local counts, from = {}, 1
    while true do
      local s, e = text:find(prefix, from, true)
      if not s then return counts end
      local depth, n, i, quote, any = 1, 1, e + 1, nil, false
      while i <= #text and depth > 0 do
        local c = text:sub(i, i)
        if quote then
          if c == "\\" then i = i + 1 elseif c == quote then quote = nil end
        elseif c == '"' or c == "'" then quote, any = c, true
        elseif c:match("[%(%[{]") then depth, any = depth + 1, true
        elseif c:match("[%)%]}]") then depth = depth - 1
        elseif c == "," and depth == 1 then n = n + 1
        elseif c:match("%S") then any = true end
        i = i + 1
      end
      counts[#counts + 1] = any and n or 0
      from = e + 1
    end
  end

  -- The calls in key's example that pass more arguments than sig names.
  local function too_many(key, prefix, sig)
    local out = {}
    for _, n in ipairs(calls(examples[key] or "", prefix)) do
      if n > arity(sig) then out[#out + 1] = string.format("%s: %d arguments to %s", key, n, sig) end
    end
    return out
  end

  it("documents every method of the core's objects in C, or it is a core function", function()
    local objects = object_methods()
    local undocumented, stale = {}, {}
    for _, kind in ipairs { "fd", "root", "filter", "netns_job" } do
      for _, name in ipairs(function_names(objects[kind])) do
        local key, same = kind .. ":" .. name, nil
        for fname, f in pairs(core) do
          if f == objects[kind][name] and core._doc[fname] then same = fname end
        end
        local doc = core._method_doc[key]
        if doc then
          assert.matches("^" .. key:gsub("%p", "%%%0") .. "%(", doc.sig)
          assert.is_nil(doc.doc:find("\n"), key .. ": doc is not one line")
          assert.is_nil(same, key .. " is nsl." .. tostring(same) .. ": its doc is that one's")
        elseif not same then
          undocumented[#undocumented + 1] = key
        end
      end
    end
    for key in pairs(core._method_doc) do
      local kind, name = key:match("^([%w_]+):([%w_]+)$")
      if not (objects[kind] and objects[kind][name]) then stale[#stale + 1] = key end
    end
    assert.same({}, sorted(undocumented))
    assert.same({}, sorted(stale))
  end)

  it("has a --- doc above every public function of the library modules", function()
    local missing_doc = {}
    -- nsl.oci's modules too, which have no examples: help by the function
    local by_function = { ["oci.config"] = true, ["oci.devices"] = true, ["oci.hooks"] = true,
      ["oci.notify"] = true, ["oci.operations"] = true, ["oci.script"] = true, ["oci.state"] = true,
      ["oci.features"] = true, ["oci.events"] = true, oci = true }
    local documented = table.move(MODULES, 1, #MODULES, 1, {})
    for module in pairs(by_function) do documented[#documented + 1] = module end
    for _, module in ipairs(documented) do
      local t = require("nsl." .. module)
      for _, name in ipairs(function_names(t)) do
        local text = repl.help(by_function[module] and t[name] or module .. "." .. name)
        if text:find("(no --- comment above its definition)", 1, true) then
          missing_doc[#missing_doc + 1] = module .. "." .. name
        end
      end
    end
    local objects = object_methods()
    for _, kind in ipairs { "lab", "cgroup" } do
      for _, name in ipairs(function_names(objects[kind])) do
        if repl.help(kind .. ":" .. name):find("(no --- comment", 1, true) then
          missing_doc[#missing_doc + 1] = kind .. ":" .. name
        end
      end
    end
    assert.same({}, sorted(missing_doc))
  end)

  it("calls each function in its example with no more arguments than its doc names", function()
    local wrong = {}
    local function check(key, prefix, sig)
      for _, line in ipairs(too_many(key, prefix, sig)) do wrong[#wrong + 1] = line end
    end
    for name, doc in pairs(core._doc) do check(name, "nsl." .. name .. "(", doc.sig) end
    for key, doc in pairs(core._method_doc) do check(key, ":" .. key:match(":(.*)") .. "(", doc.sig) end
    for _, module in ipairs(MODULES) do
      for _, name in ipairs(function_names(require("nsl." .. module))) do
        local key = module .. "." .. name
        local sig = repl.help(key):match("^nsl%.[%w_.]+%b()")
        if sig then check(key, key .. "(", sig) end
      end
    end
    assert.same({}, sorted(wrong))
  end)

  it("catches an example that calls a function with more arguments than its doc names", function()
    examples["test:arity"] = 'nsl.strerror(2, 3)'
    finally(function() examples["test:arity"] = nil end)
    assert.same({ "test:arity: 2 arguments to strerror(errno) -> string" },
      too_many("test:arity", "nsl.strerror(", core._doc.strerror.sig))
    assert.same({ 0, 3, 1 }, calls('f() f(a, { b, c }, "d,e") f(g(h, i))', "f("))
  end)
end)

describe("help with examples", function()
  -- "  example:" and the example's lines, as help shows them
  local function shown(key)
    return "\n  example:\n    " .. examples[key]:gsub("%s+$", ""):gsub("\n", "\n    ")
  end

  it("shows the example of a core function by name and by value", function()
    local text = repl.help("mount")
    assert.truthy(text:find("nsl." .. core._doc.mount.sig .. "\n  " .. core._doc.mount.doc
      .. shown("mount"), 1, true), text)
    assert.equal(text, repl.help(nsl.mount))
    assert.truthy(shown("mount"):find('nsl.mount("tmpfs", "/tmp/x", "tmpfs"', 1, true))
  end)

  it("shows the example of a library function after its doc", function()
    local text = repl.help(nsl.userns.parse_map)
    assert.truthy(text:find("^nsl%.userns%.parse_map%(text%)\n  Parse "), text)
    assert.truthy(text:find(shown("userns.parse_map") .. "\n  defined at ", 1, true), text)
    assert.equal(text, repl.help("userns.parse_map"))
    -- a module the nsl facade does not load, by name
    assert.truthy(repl.help("running.list"):find(shown("running.list"), 1, true))
  end)

  it("explains a method of the core's objects by name and by value", function()
    local root = assert(core.root_open("/"))
    finally(function() root:close() end)
    local text = repl.help("root:mount_on")
    local doc = core._method_doc["root:mount_on"]
    assert.equal("root:mount_on: a method of root handles (nsl.root_open)\n  " ..
      doc.sig .. "\n  " .. doc.doc .. shown("root:mount_on"), text)
    assert.equal(text, repl.help(root.mount_on))
    local read = repl.help("fd:read")
    assert.truthy(read:find("^fd:read: a method of fd objects .-, the same as nsl.read\n" ..
      "  nsl%.read%(fd"), read)
    assert.truthy(read:find(shown("fd:read"), 1, true), read)
  end)

  it("explains a method of a lab by name and by value", function()
    local lab = require("nsl.lab").new { rootfs = "/", seccomp = "unconfined", tty = false }
    local text = repl.help(lab.step)
    assert.truthy(text:find("^lab:step%(opts%)\n  Run the next step"), text)
    assert.truthy(text:find(shown("lab:step") .. "\n  defined at ", 1, true), text)
    local by_name = repl.help("lab:step")
    assert.truthy(by_name:find("^lab:step%(opts%)\n  Run the next step"), by_name)
    assert.truthy(by_name:find(shown("lab:step"), 1, true), by_name)
    assert.truthy(repl.help("cgroup:add"):find("^cgroup:add%(pid%)\n"))
  end)

  it("shows the example of nsl.errno", function()
    assert.truthy(repl.help("errno"):find(shown("errno"), 1, true))
  end)

  it("shows the example in the nsl executable's REPL", function()
    local r = helper.sh(helper.quote(helper.nsl) .. " -e " ..
      helper.quote('io.write(require("nsl.repl").help("mount"))'))
    assert.equal(0, r.code, r.err)
    assert.truthy(r.out:find(shown("mount"), 1, true), r.out)
  end)
end)
