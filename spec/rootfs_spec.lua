-- nsl.rootfs.unpack as an ordinary user: a tarball with device nodes and
-- files of several owners (what a distribution's root tarball holds).
local helper = require "helper"

local q = helper.quote

local tmp, TAR

setup(function()
  tmp = helper.tmpdir()
  -- made as root: a node, a root-owned file, a file of uid and gid 1000
  local r = helper.sh(table.concat({
    "set -e",
    "mkdir -p " .. q(tmp .. "/src/dev") .. " " .. q(tmp .. "/src/etc") .. " " ..
      q(tmp .. "/src/home/u"),
    "cd " .. q(tmp .. "/src"),
    "mknod dev/null c 1 3",
    "echo root > etc/hostname",
    "echo user > home/u/file && chown -R 1000:1000 home/u",
    "tar -cf ../root.tar .",
    "chmod 644 ../root.tar",
  }, "\n"))
  assert.equal(0, r.code, r.err)
  TAR = tmp .. "/root.tar"
end)

teardown(function() helper.rmtree(tmp) end)

-- Unpack TAR into dir as uid 65534 (with wrap, e.g. a subuid grant);
-- prints the skipped nodes, then the owners as the host sees them.
local function unpack_as_nobody(dir, wrap)
  local code = string.format([[
    local nsl = require "nsl"
    local dir, skipped = nsl.rootfs.unpack(%q, %q)
    print(table.concat(skipped, " "))
    for _, p in ipairs { "etc/hostname", "home/u/file" } do
      local st = assert(nsl.stat(dir .. "/" .. p))
      print(p, st.uid, st.gid)
    end
    print(nsl.lstat(dir .. "/dev/null") == nil)]], TAR, dir)
  return helper.unprivileged("exec \"$NSL\" -e " .. q(code), nil, nil, wrap)
end

describe("nsl.rootfs.unpack as uid 65534", function()
  it("skips the device nodes and says which, instead of failing", function()
    local dir = tmp .. "/plain"
    assert(os.execute("mkdir " .. q(dir) .. " && chown 65534:65534 " .. q(dir)))
    local r = unpack_as_nobody(dir)
    assert.same({ 0, "./dev/null\netc/hostname\t65534\t65534\nhome/u/file\t65534\t65534\ntrue\n" },
      { r.code, r.out }, r.err)
  end)

  it("keeps the owners inside the user's subordinate range when it has one", function()
    local dir = tmp .. "/mapped"
    assert(os.execute("mkdir " .. q(dir) .. " && chown 65534:65534 " .. q(dir)))
    -- root inside is the user itself, uid 1000 inside is 200000 + 999
    local r = unpack_as_nobody(dir, helper.with_subids(tmp, "nobody:200000:65536\n",
      "nobody:200000:65536\n"))
    assert.same({ 0, "./dev/null\netc/hostname\t65534\t65534\nhome/u/file\t200999\t200999\ntrue\n" },
      { r.code, r.out }, r.err)
  end)
end)
