local helper = require "helper"

local q = helper.quote

describe("nsl doctor", function()
  it("passes every check here, as root", function()
    local r = helper.sh(q(helper.nsl) .. " doctor")
    assert.equal(0, r.code, r.out)
    assert.is_nil(r.out:find("FAIL"))
    assert.matches("ok    this user can create a user namespace", r.out, 1, true)
  end)

  it("passes them as uid 65534", function()
    local r = helper.unprivileged("\"$NSL\" doctor")
    assert.equal(0, r.code, r.out .. r.err)
    assert.matches("uid 65534", r.out, 1, true)
  end)

  it("checks the networks' tools: the CNI plugins, pasta and tun access", function()
    local r = helper.sh(q(helper.nsl) .. " doctor")
    assert.matches("ok    the CNI plugins are installed (bridge, host-local, portmap, loopback)\n" ..
      "ok    pasta is installed (networks for ordinary users)\n" ..
      "ok    this user can open /dev/net/tun (pasta)\n", r.out, 1, true)
  end)

  it("warns, without failing, about a network tool that is missing or refused", function()
    local r = helper.unprivileged("NSL_CNI_PATH=/nonexistent \"$NSL\" doctor")
    assert.equal(0, r.code, r.out .. r.err)
    assert.matches("WARN  the CNI plugins are installed (bridge, host-local, portmap, loopback)\n" ..
      "      why: cni: plugin 'bridge' not found in /nonexistent (Debian: apt-get install " ..
      "containernetworking-plugins)\n" ..
      "      fix: apt-get install containernetworking-plugins iptables (--network bridge)\n",
      r.out, 1, true)
    assert.matches("WARN  this user can open /dev/net/tun (pasta)\n" ..
      "      why: open '/dev/net/tun': Permission denied\n" ..
      "      fix: chmod 0666 /dev/net/tun (as podman's hosts have it; the kernel still checks " ..
      "CAP_NET_ADMIN in the namespace for each device)\n", r.out, 1, true)
  end)

  it("names the sysctl and the fix when user namespaces are disabled", function()
    -- a throwaway user namespace whose own limit is 0: the host is untouched
    local r = helper.sh("unshare -U -r -m sh -c " ..
      q("echo 0 > /proc/sys/user/max_user_namespaces && exec " .. q(helper.nsl) .. " doctor"))
    assert.equal(1, r.code, r.out .. r.err)
    assert.matches("FAIL  user namespaces are enabled (user.max_user_namespaces > 0)\n" ..
      "      why: user.max_user_namespaces is 0\n" ..
      "      fix: sysctl -w user.max_user_namespaces=15000\n", r.out, 1, true)
    assert.matches("FAIL  this user can create a user namespace with mount, pid, uts, ipc and net\n" ..
      "      why: clone 'ipc|mnt|net|pid|user|uts': No space left on device", r.out, 1, true)
  end)
end)
