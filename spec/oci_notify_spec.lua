-- nsl.oci.notify: which seccomp profiles with SCMP_ACT_NOTIFY are
-- refused before anything is made.
local notify = require "nsl.oci.notify"

-- The OCI seccomp object of one rule that holds entry's syscalls for an agent.
local function holding(entry)
  entry.action = "SCMP_ACT_NOTIFY"
  return { defaultAction = "SCMP_ACT_ALLOW", listenerPath = "/run/agent.sock", syscalls = { entry } }
end

describe("nsl.oci.notify.check", function()
  it("refuses a syscall of the handover, given as names or as name", function()
    -- between the load and send_fd the process sends, closes and allocates
    for _, name in ipairs { "sendmsg", "close", "brk", "mmap", "munmap", "mremap" } do
      for _, entry in ipairs { { names = { "getpid", name } }, { name = name } } do
        local ok, err = pcall(notify.check, holding(entry))
        assert.is_false(ok, name)
        assert.matches("SCMP_ACT_NOTIFY on '" .. name .. "'", err, 1, true)
      end
    end
  end)

  it("gives the listenerPath of a rule on other syscalls, by name or names", function()
    assert.equal("/run/agent.sock", notify.check(holding { name = "mkdir" }))
    assert.equal("/run/agent.sock", notify.check(holding { names = { "mkdir", "mkdirat" } }))
    assert.is_nil(notify.check { defaultAction = "SCMP_ACT_ALLOW", syscalls = { { names = { "brk" },
      action = "SCMP_ACT_ERRNO" } } })
  end)
end)
