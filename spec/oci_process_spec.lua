-- nsl oci: the container's process as the runtime spec has it: seccomp
-- (comparisons, profiles that refuse what the runtime needs, user
-- notification), hooks, events, the working directory and socket
-- activation.
local helper = require "helper"
local H = require "oci_harness"

local q = helper.quote

describe("nsl oci: the process", function()
  setup(H.setup)
  teardown(H.teardown)

  -- The seccomp profile of a config: allow all but the given entries.
  local function allow_but(syscalls)
    return { defaultAction = "SCMP_ACT_ALLOW", architectures = { "SCMP_ARCH_X86_64" },
      syscalls = syscalls }
  end

  describe("seccomp", function()
    it("gives each comparison on one argument a rule of its own, as runc and crun do", function()
      -- mode & 7 == 5, or mode >= 0700: refused with EACCES (chmod's
      -- mode is argument 1, fchmodat's argument 2)
      local function cmps(index)
        return { { index = index, op = "SCMP_CMP_MASKED_EQ", value = 7, valueTwo = 5 },
          { index = index, op = "SCMP_CMP_GE", value = 448 } }
      end
      local dir = H.bundle(H.config(function(s)
        s.process.args = { "sh", "-c", "touch /tmp/f; for m in 644 755 700 600 705 645; do " ..
          "chmod $m /tmp/f 2>/dev/null; echo $m $?; done" }
        s.linux.seccomp = allow_but {
          { names = { "chmod" }, action = "SCMP_ACT_ERRNO", errnoRet = 13, args = cmps(1) },
          { names = { "fchmodat" }, action = "SCMP_ACT_ERRNO", errnoRet = 13, args = cmps(2) } }
      end))
      local r = H.oci("run --bundle " .. q(dir) .. " cmp1")
      assert.same({ 0, "644 0\n755 1\n700 1\n600 0\n705 1\n645 1\n" }, { r.code, r.out }, r.err)
    end)
  end)
end)
