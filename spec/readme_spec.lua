-- What the README says about the nsl command, tried as a new user would:
-- unc.lua outside a root, `nsl -e` and the REPL's global nsl, --trace among
-- nsl's own options, a copied binary looking for its scripts, and
-- `cmake --install build --prefix P` staying under P.
local helper = require "helper"

local q = helper.quote
local NSL = q(helper.nsl)

describe("the README's promises about the nsl command", function()
  local dir

  before_each(function() dir = helper.tmpdir() end)
  after_each(function() helper.rmtree(dir) end)

  for _, run in ipairs { { "as root", helper.sh, NSL }, { "as uid 65534", helper.unprivileged, "\"$NSL\"" } } do
    it("says in one line that unc.lua wants a root, outside one, " .. run[1], function()
      local r = run[2]("cd " .. q(dir) .. " && " .. run[3] .. " run unc.lua cat /etc/os-release")
      assert.same({ 125, "", "unc.lua: '" .. dir .. "' is not a root (no /proc directory in it): " ..
        "run it from inside an unpacked root, or --rootfs DIR / --tar FILE\n" },
        { r.code, r.out, r.err })
    end)
  end

  it("gives `nsl -e` the global nsl that the REPL has", function()
    local r = helper.sh(NSL .. " -e " .. q("print(nsl.getpid() == require('nsl').getpid(), " ..
      "nsl == require('nsl'))"))
    assert.same({ 0, "true\ttrue\n", "" }, { r.code, r.out, r.err })
  end)

  it("accepts --trace anywhere among nsl's own options before the script", function()
    helper.write(dir .. "/pid.lua", "require('nsl').getpid()\n")
    local script, code = q(dir .. "/pid.lua"), q("require('nsl').getpid()")
    for _, args in ipairs { "--trace run " .. script, "run --trace " .. script,
      "--trace --trace run " .. script, "--trace -e " .. code } do
      local r = helper.sh(NSL .. " " .. args)
      assert.equal(0, r.code, args .. ": " .. r.err)
      assert.matches("getpid%(%) = %d+", r.err, 1, false, args)
    end
  end)

  it("names every place a copied binary looked for its bundled scripts", function()
    assert(os.execute("mkdir " .. q(dir .. "/bin") .. " && cp " .. NSL .. " " .. q(dir .. "/bin/nsl")))
    local r = helper.sh("env -u NSL_SCRIPTS " .. q(dir .. "/bin/nsl") .. " run busybox.lua")
    assert.equal(127, r.code)
    assert.equal("nsl: script 'busybox.lua' not found: not a file here, nor a bundled script " ..
      "in $NSL_SCRIPTS (not set), " .. dir .. "/share/nsl/scripts (beside the binary) or " ..
      "/usr/local/share/nsl/scripts (where it installs) ('nsl scripts' lists them)\n", r.err)
  end)

  it("installs under --prefix P only, nsl-oci included", function()
    -- in a mount namespace of its own over an empty /usr/local: a regression
    -- that writes outside P writes there, never on the host
    local cmd = "mount -t tmpfs nsl-spec-usr-local /usr/local && " ..
      "cmake --install " .. q(helper.build) .. " --prefix " .. q(dir .. "/p") .. " >/dev/null && " ..
      "find /usr/local -mindepth 1 | wc -l && readlink -f " .. q(dir .. "/p/bin/nsl-oci")
    local r = helper.sh("unshare -m --propagation private sh -c " .. q(cmd))
    -- a hard link: a client that resolves the path still runs nsl-oci
    assert.same({ 0, "0\n" .. dir .. "/p/bin/nsl-oci\n" }, { r.code, r.out }, r.err)
    assert.truthy(helper.read(dir .. "/p/share/nsl/scripts/busybox.lua"))
    local p = helper.sh(q(dir .. "/p/bin/nsl-oci") .. " --version")
    assert.equal(0, p.code, p.err)
    assert.matches("^nsl%-oci version", p.out)
    -- installed again over an older one, it is the new nsl's link
    r = helper.sh("unshare -m --propagation private sh -c " .. q(cmd .. " >/dev/null && test " ..
      q(dir .. "/p/bin/nsl-oci") .. " -ef " .. q(dir .. "/p/bin/nsl")))
    assert.equal(0, r.code, r.err)
  end)
end)
