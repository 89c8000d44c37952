-- The nsl executable's command line: run, -e, scripts, stdin, exit codes.
local helper = require "helper"
local core = require "nsl.core"

local q = helper.quote
local NSL = q(helper.nsl)

-- Run nsl with a shell argument string (already quoted) and optional input.
local function nsl(args, input)
  return helper.sh(NSL .. " " .. args, input)
end

describe("nsl (the executable)", function()
  local dir

  before_each(function()
    dir = helper.tmpdir()
  end)

  after_each(function()
    helper.rmtree(dir)
  end)

  describe("the build", function()
    it("links the executable with musl when configured with musl's libraries", function()
      -- bootstrap does (tools/musl-deps); NSL_LIBC=glibc, or a plain cmake,
      -- builds with glibc
      local cache = io.open(helper.build .. "/CMakeCache.txt")
      local deps = cache and cache:read("a"):match("\nNSL_MUSL_DEPS:PATH=([^\n]*)")
      if cache then cache:close() end
      if (deps or "") == "" then
        pending("this build links nsl with glibc")
        return
      end
      local notes = helper.sh("readelf -n " .. NSL)
      assert.equal(0, notes.code, notes.err)
      -- glibc's static start carries its ABI note; musl's has none
      assert.is_nil(notes.out:find("NT_GNU_ABI_TAG", 1, true), notes.out)
    end)
  end)

  describe("--version and --help", function()
    it("prints the version of nsl and of Lua", function()
      local r = nsl("--version")
      assert.equal(0, r.code)
      assert.matches("^nsl " .. core.version:gsub("%p", "%%%0")
        .. " %(Lua 5%.4%.%d+%)\n$", r.out)
    end)

    it("prints the usage on stdout and exits 0", function()
      local r = nsl("--help")
      assert.equal(0, r.code)
      assert.equal("", r.err)
      assert.matches("^usage: nsl run %[%-%-trace%] SCRIPT", r.out)
      assert.truthy(r.out:find("nsl -e CODE", 1, true))
    end)

    it("exits 2 with the usage for an unknown command", function()
      local r = nsl("frobnicate")
      assert.equal(2, r.code)
      assert.equal("", r.out)
      assert.matches("^nsl: unknown command 'frobnicate'\nusage: nsl run %[%-%-trace%] SCRIPT", r.err)
    end)
  end)

  describe("-e CODE", function()
    it("passes the arguments after the code as ... and arg", function()
      local r = nsl("-e 'print(...)' a b")
      assert.same({ 0, "a\tb\n", "" }, { r.code, r.out, r.err })
    end)

    it("sets arg[0] to the code and arg[-1] to -e", function()
      local code = "print(arg[-1], arg[0]:sub(1, 5), arg[1], arg[2], #arg)"
      local r = nsl("-e " .. q(code) .. " one two")
      assert.equal(0, r.code, r.err)
      assert.equal("-e\tprint\tone\ttwo\t2\n", r.out)
    end)

    it("gives require 'nsl' the core and its library", function()
      local r = nsl("-e " .. q("local nsl = require 'nsl' " ..
        "print(nsl.strerror(nsl.errno.ENOENT), nsl.version)"))
      assert.equal(0, r.code, r.err)
      assert.equal(core.strerror(core.errno.ENOENT) .. "\t" .. core.version .. "\n", r.out)
    end)

    it("carries the library's sources and their SHA-256 digests", function()
      local path = "lua/nsl/seccomp_default.lua"
      local r = nsl("-e " .. q("local p = ... print(package.loaded['nsl.digests'][p], " ..
        "#package.loaded['nsl.sources'][p])") .. " " .. path)
      assert.equal(0, r.code, r.err)
      local digest = helper.sh("sha256sum " .. q(helper.root .. "/" .. path)).out:match("^%x+")
      assert.equal(digest .. "\t" .. #helper.read(helper.root .. "/" .. path) .. "\n", r.out)
    end)

    it("embeds the library without the names of locals, and help still shows parameters", function()
      -- the names were a quarter of the strings a start interns
      local r = nsl("-e " .. q("local util = require 'nsl.util' " ..
        "print(debug.getlocal(util.read_file, 1), " ..
        "require('nsl.repl').help(util.read_file):match('^[^\\n]*'))"))
      assert.equal(0, r.code, r.err)
      assert.equal("nil\tnsl.util.read_file(path)\n", r.out)
    end)

    it("names a C module it cannot load, statically linked or not", function()
      helper.write(dir .. "/notlua.so", "not an ELF object\n")
      local r = helper.sh("LUA_CPATH=" .. q(dir .. "/?.so") .. " " .. NSL ..
        " -e " .. q("require 'notlua'"))
      assert.equal(1, r.code)
      local static = not helper.sh("readelf -l " .. NSL).out:find("interpreter", 1, true)
      if static then
        assert.truthy(r.err:find("module 'notlua' is a C module (" .. dir ..
          "/notlua.so) and this nsl is linked statically: run the script with lua5.4", 1, true), r.err)
      else
        assert.truthy(r.err:find("error loading module 'notlua' from file '" .. dir ..
          "/notlua.so'", 1, true), r.err)
      end
    end)

    it("exits 1 with the message and a traceback when the code raises", function()
      local r = nsl("-e 'error(\"boom\")'")
      assert.equal(1, r.code)
      assert.matches("^nsl: %(command line%):1: boom\nstack traceback:\n", r.err)
    end)

    it("exits 2 with the usage when the code is missing", function()
      local r = nsl("-e")
      assert.equal(2, r.code)
      assert.matches("usage: nsl run %[%-%-trace%] SCRIPT", r.err)
    end)
  end)

  describe("run FILE", function()
    local function script(name, text)
      local path = dir .. "/" .. name
      helper.write(path, text)
      return path
    end

    it("passes the arguments as ... and arg", function()
      local path = script("args.lua",
        "print(select('#', ...), ...)\nprint(arg[0], arg[1], arg[2], #arg, arg[-1])\n")
      local r = nsl("run " .. q(path) .. " a 'b c'")
      assert.equal(0, r.code, r.err)
      assert.equal("2\ta\tb c\n" .. path .. "\ta\tb c\t2\trun\n", r.out)
    end)

    it("exits 1 with nsl: FILE:LINE: message and a traceback on an error", function()
      local path = script("fail.lua", "local x = 1\nerror('it broke')\n")
      local r = nsl("run " .. q(path))
      assert.equal(1, r.code)
      assert.equal("", r.out)
      local first = r.err:match("^[^\n]*")
      assert.equal("nsl: " .. path .. ":2: it broke", first)
      assert.truthy(r.err:find("\nstack traceback:\n", 1, true))
      assert.truthy(r.err:find(path .. ":2: in main chunk", 1, true))
    end)

    it("exits with the code given to os.exit", function()
      local path = script("exit3.lua", "io.write('before') os.exit(3)\n")
      local r = nsl("run " .. q(path))
      assert.same({ 3, "before", "" }, { r.code, r.out, r.err })
    end)

    it("exits 1 with the message on a syntax error", function()
      local path = script("syntax.lua", "print('fine')\nx = = 1\n")
      local r = nsl("run " .. q(path))
      assert.same({ 1, "", "nsl: " .. path .. ":2: unexpected symbol near '='\n" },
        { r.code, r.out, r.err })
    end)

    it("exits 127 with a message for a missing script path", function()
      local path = dir .. "/missing.lua"
      local r = nsl("run " .. q(path))
      assert.equal(127, r.code)
      assert.equal("", r.out)
      assert.matches("^nsl: script '" .. path:gsub("%p", "%%%0") .. "' not found", r.err)
    end)

    it("exits 2 with the usage when the script is missing", function()
      local r = nsl("run")
      assert.equal(2, r.code)
      assert.matches("usage: nsl run %[%-%-trace%] SCRIPT", r.err)
    end)

    it("runs a #!/usr/bin/env -S nsl run script found through PATH", function()
      local path = script("tool", "#!/usr/bin/env -S nsl run\nprint('tool', arg[0], ...)\n")
      assert(os.execute("chmod 0755 " .. q(path)))
      local r = helper.sh("cd " .. q(dir) .. " && PATH=" .. q(helper.build) ..
        ":$PATH ./tool x 'y z'")
      assert.same({ 0, "tool\t./tool\tx\ty z\n", "" }, { r.code, r.out, r.err })
    end)
  end)

  describe("stdin", function()
    it("runs piped stdin as a script", function()
      local r = nsl("", "local t = {}\nfor i = 1, 3 do t[i] = i * i end\n" ..
        "print(table.concat(t, ','))\n")
      assert.same({ 0, "1,4,9\n", "" }, { r.code, r.out, r.err })
    end)

    it("passes the arguments after - to the script on stdin", function()
      local r = nsl("- a b", "print(arg[0], ...)\n")
      assert.same({ 0, "-\ta\tb\n" }, { r.code, r.out })
    end)

    it("reports an error in piped stdin with exit code 1", function()
      local r = nsl("", "print('one')\nerror('from stdin')\n")
      assert.equal(1, r.code)
      assert.equal("one\n", r.out)
      assert.matches("^nsl: stdin:2: from stdin\nstack traceback:", r.err)
    end)

    it("runs stdin for the - command", function()
      local r = nsl("-", "print('dash')\n")
      assert.same({ 0, "dash\n", "" }, { r.code, r.out, r.err })
    end)
  end)

  describe("bundled scripts", function()
    local scripts

    before_each(function()
      scripts = dir .. "/scripts"
      assert(os.execute("mkdir " .. q(scripts)))
      helper.write(scripts .. "/hello.lua",
        "-- hello.lua: say hello to the arguments\nprint('hello', ...)\n")
      helper.write(scripts .. "/other.lua",
        "#!/usr/bin/env -S nsl run\n-- other: do other things\nprint('other')\n")
      helper.write(scripts .. "/notes.txt", "-- not a script\n")
    end)

    local function with_scripts(args)
      return helper.sh("NSL_SCRIPTS=" .. q(scripts) .. " " .. NSL .. " " .. args)
    end

    it("lists the .lua files of NSL_SCRIPTS with their first comment", function()
      local r = with_scripts("scripts")
      assert.equal(0, r.code, r.err)
      local lines = {}
      for line in r.out:gmatch("[^\n]+") do lines[#lines + 1] = line end
      assert.same({
        "bundled scripts in " .. scripts .. " (nsl run NAME [ARGS]):",
        "  hello.lua          say hello to the arguments",
        "  other.lua          do other things",
      }, lines)
    end)

    it("runs a script with a bundled one's text from the chunk compiled into nsl, a changed one from its file",
      function()
      helper.write(scripts .. "/sandbox.lua", helper.read(helper.root .. "/scripts/sandbox.lua"))
      helper.write(scripts .. "/busybox.lua",
        "print('changed')\n" .. helper.read(helper.root .. "/scripts/busybox.lua"))
      local r = with_scripts("scripts")
      assert.equal(0, r.code, r.err)
      assert.matches("\n  sandbox%.lua [^\n]* %(precompiled in nsl%)\n", r.out)
      assert.matches("\n  busybox%.lua *\n", r.out) -- no marker: it is not the text compiled in
      -- the changed copy runs as it is now
      r = with_scripts("run busybox.lua --help")
      assert.equal(0, r.code, r.err)
      assert.matches("^changed\nusage: nsl run busybox.lua", r.out)
      -- the same text: the same script, its chunk named after the bundled one
      r = with_scripts("run sandbox.lua")
      assert.equal(2, r.code)
      assert.matches("^sandbox.lua: a COMMAND is needed\n", r.err)
      -- the bundled text with more after it, or only the start of it: changed
      local text = helper.read(helper.root .. "/scripts/busybox.lua")
      for _, changed in ipairs { text .. "\n", text:sub(1, 4096), text:sub(1, -2) } do
        helper.write(scripts .. "/busybox.lua", changed)
        r = with_scripts("scripts")
        assert.equal(0, r.code, r.err)
        assert.matches("\n  busybox%.lua ", r.out)
        assert.not_matches("\n  busybox%.lua [^\n]*precompiled", r.out, nil, false,
          #changed .. " bytes")
      end
    end)

    it("runs a bundled script by its name and by its name without .lua", function()
      local r = with_scripts("run hello.lua a b")
      assert.same({ 0, "hello\ta\tb\n", "" }, { r.code, r.out, r.err })
      r = with_scripts("run hello world")
      assert.same({ 0, "hello\tworld\n", "" }, { r.code, r.out, r.err })
    end)

    it("exits 127 naming the scripts directory for an unknown name", function()
      local r = with_scripts("run nothere")
      assert.equal(127, r.code)
      assert.equal("nsl: script 'nothere' not found: not a file here, nor a bundled " ..
        "script in " .. scripts .. " ('nsl scripts' lists them)\n", r.err)
    end)

    it("fails with a message when the scripts directory is missing", function()
      local missing = dir .. "/none"
      local r = helper.sh("NSL_SCRIPTS=" .. q(missing) .. " " .. NSL .. " scripts")
      assert.equal(1, r.code)
      assert.equal("nsl: bundled scripts '" .. missing .. "': No such file or directory\n",
        r.err)
    end)
  end)

  describe("as uid 65534", function()
    it("runs -e with arguments as the unprivileged user", function()
      local r = helper.unprivileged("exec \"$NSL\" -e " ..
        q("print(io.open('/proc/self/status'):read('a'):match('Uid:%s+(%d+)'), ...)") ..
        " a b")
      assert.same({ 0, "65534\ta\tb\n", "" }, { r.code, r.out, r.err })
    end)

    it("runs a script file and keeps its exit code", function()
      helper.write(dir .. "/exit.lua", "print(#arg, ...) os.exit(5)\n")
      assert(os.execute("chmod 0644 " .. q(dir .. "/exit.lua")))
      local r = helper.unprivileged("exec \"$NSL\" run " .. q(dir .. "/exit.lua") .. " x")
      assert.same({ 5, "1\tx\n", "" }, { r.code, r.out, r.err })
    end)

    it("finds the bundled scripts beside the staged binary", function()
      local r = helper.unprivileged("exec \"$NSL\" scripts")
      assert.equal(0, r.code, r.err)
      assert.equal("bundled scripts in " .. helper.stage() ..
        "/bin/../share/nsl/scripts (nsl run NAME [ARGS]):", r.out:match("^[^\n]*"))
    end)
  end)
end)
