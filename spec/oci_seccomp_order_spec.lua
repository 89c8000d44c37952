-- nsl oci with a seccomp filter loaded before the privileges are dropped
-- (noNewPrivileges false: the kernel takes the filter only from a process
-- with CAP_SYS_ADMIN, so it goes before the user step, as in runc): what
-- the setup does after it must not need a syscall the profile refuses.
-- Found by the OCI runtime-tools validation programs, whose profile
-- allows openat but not openat2.
local H = require "oci_harness"
local oci = H.oci

setup(H.setup)
teardown(H.teardown)

describe("nsl oci run under a filter loaded before the user step", function()
  it("looks the user up first: a profile refusing openat2 still runs a named user's process",
    function()
      for _, user in ipairs { { uid = 1000, gid = 1000 }, { uid = 0, gid = 0 } } do
        local r = H.run("order", "id -u; id -g", function(s)
          s.process.noNewPrivileges = false
          s.process.user = user
          s.linux.seccomp = { defaultAction = "SCMP_ACT_ALLOW", architectures = { "SCMP_ARCH_X86_64" },
            syscalls = { { names = { "openat2" }, action = "SCMP_ACT_ERRNO" } } }
        end)
        oci("delete --force order")
        assert.same({ 0, user.uid .. "\n" .. user.gid .. "\n", "" }, { r.code, r.out, r.err })
      end
    end)
end)
