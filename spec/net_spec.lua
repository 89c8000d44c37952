-- nsl.net: the CNI plugins invoked as the CNI spec says, pasta, a
-- container's network as data, and c.network / c.publish end to end.
--
-- Every container network here lives in a "host" network namespace the
-- spec makes first (unshare -n, with its own /run for iptables' lock):
-- the machine's interfaces, routes and firewall are never touched, and
-- traffic only goes between namespaces the spec made.
local helper = require "helper"
local core = require "nsl.core"
local net = require "nsl.net"

local q = helper.quote

-- A busybox container on network MODE (none, host, bridge, pasta or the
-- path of a CNI config), publishing PUBLISH ("-" for none), running CMD.
local BOX = [[
local container = require "nsl.container"
local net = require "nsl.net"
local root = require("nsl.rootfs").busybox(os.getenv("XDG_CACHE_HOME") .. "/busybox")
local mode, publish, cmd = ...
os.exit(container.main{ rootfs = root, tty = false, hostname = "box",
  network = mode:find("/", 1, true) and net.parse_mode(mode) or mode,
  publish = publish ~= "-" and { net.parse_publish(publish) } or nil,
  command = { "sh", "-c", cmd } })
]]

-- Shell text that makes the spec's "host" network namespace (and a
-- private mount namespace with its own /run) and runs script in it.
local function in_host_ns(script)
  return "unshare -n -m --propagation private -- sh -c " .. q(
    "mount -t tmpfs nsl-spec-run /run && ip link set lo up && " .. script)
end

-- What is left in the spec's namespace: veths, CNI rules of nsl's
-- containers, leases, records.
local LEFT = [[
echo == veth; ip -o link show type veth | grep -v ' v[01]@' | cut -d: -f2
echo == rules; iptables-save -t nat | grep -e 'nsl-[0-9]' -e '^-A CNI-DN-'
echo == leases; ls "$RUN/nsl/cni/nsl" 2>/dev/null | grep -v -e lock -e last_reserved
echo == records; ls "$RUN/nsl/.net" 2>/dev/null
]]

local tmp
before_each(function()
  tmp = helper.tmpdir()
  helper.write(tmp .. "/box.lua", BOX)
  os.execute("chmod 0644 " .. q(tmp .. "/box.lua"))
end)
after_each(function() helper.rmtree(tmp) end)

-- Run script as root in a host namespace of its own, with $NSL, $BOX
-- and $RUN (the runtime directory).
local function root_run(script, seconds)
  return helper.sh(string.format("export NSL=%s BOX=%s RUN=%s XDG_RUNTIME_DIR=%s; %s",
    q(helper.nsl), q(tmp .. "/box.lua"), q(tmp), q(tmp), in_host_ns(script)), nil, seconds or 90)
end

describe("nsl.net.parse_publish", function()
  it("turns -p strings into publish entries", function()
    assert.same({ host_port = 8080, port = 80, proto = "tcp" }, net.parse_publish("8080:80"))
    assert.same({ host_ip = "127.0.0.1", host_port = 53, port = 5353, proto = "udp" },
      net.parse_publish("127.0.0.1:53:5353/udp"))
  end)

  it("raises one line for bad input", function()
    assert.has_error(function() net.parse_publish("80") end,
      "publish '80': expected [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]")
    assert.has_error(function() net.parse_publish("0:80") end,
      "publish '0:80': host port '0' is not a port (1-65535)")
    assert.has_error(function() net.parse_publish("8080:99999") end,
      "publish '8080:99999': container port '99999' is not a port (1-65535)")
    assert.has_error(function() net.parse_publish("8080:80/sctp") end,
      "publish '8080:80/sctp': protocol 'sctp' is not tcp or udp")
    assert.has_error(function() net.parse_publish("1.2.3.400:8080:80") end,
      "publish '1.2.3.400:8080:80': '1.2.3.400' is not an IPv4 address")
  end)
end)

describe("nsl.net.parse_mode", function()
  it("takes the modes and reads a CNI config file", function()
    for _, mode in ipairs { "none", "host", "bridge", "pasta" } do
      assert.equal(mode, net.parse_mode(mode))
    end
    helper.write(tmp .. "/n.conflist", '{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"bridge"}]}')
    assert.equal("bridge", net.parse_mode(tmp .. "/n.conflist").plugins[1].type)
  end)

  it("raises for an unknown mode and an unreadable config", function()
    assert.has_error(function() net.parse_mode("bogus") end,
      "network 'bogus': expected none, host, bridge, pasta or the path of a CNI config")
    assert.has_error(function() net.parse_mode(tmp .. "/none.conf") end,
      "network '" .. tmp .. "/none.conf': cannot read the CNI config")
  end)
end)

describe("nsl.net.overlaps", function()
  it("compares IPv4 prefixes", function()
    assert.is_true(net.overlaps("10.88.0.0/16", "10.88.5.0/24"))
    assert.is_true(net.overlaps("10.88.5.7", "10.88.0.0/16"))
    assert.is_false(net.overlaps("10.88.0.0/16", "10.89.0.0/16"))
  end)
end)

describe("nsl.net.cni", function()
  -- A plugin that records its environment and stdin and answers with a
  -- result naming itself (or fails, for FAIL=its name).
  local PLUGIN = [[#!/bin/sh
in=$(cat)
{ echo "$0 $CNI_COMMAND $CNI_NETNS $CNI_CONTAINERID $CNI_IFNAME $CNI_PATH"; echo "$in"; } >> "$(dirname "$0")/log"
name=$(basename "$0")
if [ "$FAIL" = "$name" ]; then echo '{"code":11,"msg":"it failed","details":"on purpose"}'; exit 1; fi
[ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.0.0","ips":[{"address":"10.1.2.3/24"}],"dns":{"nameservers":["'$name'"]}}'
exit 0
]]
  local path, log
  before_each(function()
    path = tmp .. "/plugins"
    log = path .. "/log"
    assert(core.mkdir(path))
    for _, name in ipairs { "one", "two" } do
      helper.write(path .. "/" .. name, PLUGIN)
      os.execute("chmod 0755 " .. q(path .. "/" .. name))
    end
  end)

  local LIST = { cniVersion = "1.0.0", name = "spec",
    plugins = { { type = "one", mtu = 1400 }, { type = "two", capabilities = { portMappings = true } } } }

  -- The log as { { argv line, decoded config } }.
  local function calls()
    local json, out, lines = require "dkjson", {}, {}
    for line in (helper.read(log) or ""):gmatch("[^\n]+") do lines[#lines + 1] = line end
    for i = 1, #lines, 2 do out[#out + 1] = { lines[i]:sub(#path + 2), json.decode(lines[i + 1]) } end
    return out
  end

  it("chains a conflist's plugins with prevResult and the runtime config", function()
    local result = net.cni.add(LIST, "/proc/1/ns/net", "c1",
      { path = path, publish = { net.parse_publish("8080:80") } })
    assert.same({ "two" }, result.dns.nameservers)
    local c = calls()
    assert.equal(2, #c)
    assert.equal("one ADD /proc/1/ns/net c1 eth0 " .. path, c[1][1])
    assert.same({ "1.0.0", "spec", 1400 }, { c[1][2].cniVersion, c[1][2].name, c[1][2].mtu })
    assert.is_nil(c[1][2].prevResult)
    assert.is_nil(c[1][2].runtimeConfig)
    assert.same({ "one" }, c[2][2].prevResult.dns.nameservers)
    assert.same({ { hostPort = 8080, containerPort = 80, protocol = "tcp" } },
      c[2][2].runtimeConfig.portMappings)
    assert.is_true(net.cni.del(LIST, "", "c1", { path = path, result = result }))
    c = calls()
    assert.same({ "two DEL  c1 eth0 " .. path, "one DEL  c1 eth0 " .. path }, { c[3][1], c[4][1] })
    assert.same({ "two" }, c[3][2].prevResult.dns.nameservers)
  end)

  it("undoes a failed ADD with DEL and raises the plugin's message", function()
    -- FAIL reaches the plugins through the environment of nsl -e
    local r = helper.sh(string.format("FAIL=two %s -e %s", q(helper.nsl), q(string.format(
      "local list = { cniVersion = '1.0.0', name = 'spec', plugins = { { type = 'one' }, " ..
      "{ type = 'two' } } } print(select(2, pcall(require('nsl.net').cni.add, list, " ..
      "'/proc/1/ns/net', 'c2', { path = %q })))", path))))
    assert.equal("cni ADD 'two' (network 'spec'): it failed: on purpose\n", r.out, r.err)
    local names = {}
    for _, c in ipairs(calls()) do names[#names + 1] = c[1]:match("^(%S+ %S+)") end
    assert.same({ "one ADD", "two ADD", "two DEL", "one DEL" }, names)
  end)

  it("raises for a plugin that is not there, before running any", function()
    local list = { cniVersion = "1.0.0", name = "spec", plugins = { { type = "one" }, { type = "nsl-none" } } }
    assert.has_error(function() net.cni.add(list, "/proc/1/ns/net", "c3", { path = path }) end,
      "cni: plugin 'nsl-none' not found in " .. path ..
      " (Debian: apt-get install containernetworking-plugins)")
    assert.is_nil(helper.read(log))
  end)
end)

describe("nsl.net.interfaces", function()
  it("lists a process's interfaces and routes as data", function()
    local r, w = assert(core.pipe())
    local pid = assert(core.clone({ "net" }))
    if pid == 0 then
      r:close()
      core.if_up("lo")
      w:close()
      core.exec("/bin/sleep", { "sleep", "30" })
      core._exit(127)
    end
    w:close()
    r:read(1) -- EOF once lo is up
    r:close()
    finally(function() core.kill(pid, "KILL"); core.wait(pid) end)
    local links, routes = net.interfaces(pid)
    assert.same({ { name = "lo", up = true, mac = "00:00:00:00:00:00", mtu = 65536,
      addresses = { "127.0.0.1/8", "::1/128" } } }, links)
    assert.same({}, routes)
  end)
end)

describe("container network", function()
  it("puts bridge containers on one network, with a published port and nothing left", function()
    local r = root_run([[
"$NSL" run "$BOX" none - true # the root, built once
"$NSL" run "$BOX" bridge 127.0.0.1:8080:80 'echo hello > /run/index.html; exec httpd -f -p 80 -h /run' & A=$!
i=0; until "$NSL" run "$BOX" host - 'wget -qO- http://10.88.0.2/' >/dev/null 2>&1 || [ $i -gt 50 ]; do sleep 0.1; i=$((i+1)); done
echo == b
"$NSL" run "$BOX" bridge - 'ping -c1 -W2 10.88.0.2 >/dev/null && echo pinged; wget -qO- http://10.88.0.2/; cat /etc/hostname; grep box /etc/hosts'
echo == published
"$NSL" run "$BOX" host - 'wget -qO- http://127.0.0.1:8080/'
kill $A; wait $A; a=$?; echo == a; echo $a
]] .. LEFT)
    assert.equal(0, r.code, r.err)
    assert.same({ b = "pinged\nhello\nbox\n10.88.0.3\tbox\n", published = "hello\n", a = "143\n" },
      { b = helper.sections(r.out).b, published = helper.sections(r.out).published,
        a = helper.sections(r.out).a }, r.err)
    local s = helper.sections(r.out)
    assert.same({ "", "", "", "" }, { s.veth, s.rules, s.leases, s.records }, r.out)
  end)

  it("binds its /etc files over the image's without writing them; a user's bind wins", function()
    helper.write(tmp .. "/hosts", "10.9.9.9 mine\n")
    helper.write(tmp .. "/own.lua", string.format([[
local container = require "nsl.container"
local root = os.getenv("XDG_CACHE_HOME") .. "/busybox"
local mounts = {}
for _, m in ipairs(container.mounts) do mounts[#mounts + 1] = m end
if ... then mounts[#mounts + 1] = { source = %q, target = "/etc/hosts", flags = "bind rdonly" } end
os.exit(container.main{ rootfs = root, tty = false, hostname = "box", network = "host",
  mounts = mounts, command = { "sh", "-c", "cat /etc/hosts /etc/hostname; mount | grep -c /etc/" } })
]], tmp .. "/hosts"))
    local r = root_run([[
"$NSL" run "$BOX" none - true # the root, built once
echo == generated; "$NSL" run "$RUN/own.lua"
echo == own; "$NSL" run "$RUN/own.lua" own
echo == image; cat "$XDG_CACHE_HOME/busybox/etc/hosts" "$XDG_CACHE_HOME/busybox/etc/hostname"
]])
    assert.equal(0, r.code, r.err)
    local s = helper.sections(r.out)
    assert.same({
      generated = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" ..
        "127.0.1.1\tbox\nbox\n3\n",
      own = "10.9.9.9 mine\nbox\n3\n",
      image = "127.0.0.1\tlocalhost\nbusybox\n",
    }, { generated = s.generated, own = s.own, image = s.image }, r.err)
  end)

  it("detaches the network of a killed nsl at the next nsl ps", function()
    local r = root_run([[
"$NSL" run "$BOX" none - true # the root, built once
"$NSL" run "$BOX" bridge 8080:80 'exec sleep 30' & A=$!
# killed once the ADD is done (its result recorded): a kill during the ADD
# leaves a plugin running that the next reclaim may race
i=0; until grep -qs 'result = "{' "$RUN"/nsl/.net/* || [ $i -gt 50 ]; do sleep 0.1; i=$((i+1)); done
kill -KILL $A; wait $A
echo == before; ls "$RUN/nsl/.net" | wc -l
"$NSL" ps >/dev/null
]] .. LEFT)
    assert.equal(0, r.code, r.err)
    local s = helper.sections(r.out)
    assert.same({ "1\n", "", "", "", "" }, { s.before, s.veth, s.rules, s.leases, s.records },
      r.out)
  end)

  it("refuses an unknown mode, a taken port, a missing plugin and a subnet collision", function()
    helper.write(tmp .. "/missing.conflist",
      '{"cniVersion":"1.0.0","name":"nsl","plugins":[{"type":"bridge","bridge":"nsl0"},{"type":"nsl-no-such"}]}')
    local r = root_run([[
"$NSL" run "$BOX" none - true # the root, built once
busybox nc -l -p 8080 & L=$!
sleep 0.2
for args in "bogus -" "bridge 8080:80" "$RUN/missing.conflist -"; do
  "$NSL" run "$BOX" $args true; echo "rc=$?"
done
kill $L; wait $L 2>/dev/null
ip link add v0 type veth peer name v1 && ip addr add 10.88.5.1/24 dev v0 && ip link set v0 up
"$NSL" run "$BOX" bridge - true; echo "rc=$?"
]] .. LEFT)
    assert.equal(0, r.code, r.err)
    assert.equal("rc=125\nrc=125\nrc=125\nrc=125\n", r.out:match("^(.-)==") or r.out, r.err)
    assert.equal(table.concat({
      "nsl: network 'bogus': expected none, host, bridge, pasta or the path of a CNI config",
      "nsl: start: publish 0.0.0.0:8080/tcp: the port is in use on this host",
      "nsl: start: cni: plugin 'nsl-no-such' not found in /usr/lib/cni " ..
        "(Debian: apt-get install containernetworking-plugins)",
      "nsl: start: network 'nsl': subnet 10.88.0.0/16 collides with route 10.88.5.0/24 dev v0 " ..
        "(choose another subnet)", "" }, "\n"), r.err)
    local s = helper.sections(r.out)
    assert.same({ "", "", "", "" }, { s.veth, s.rules, s.leases, s.records }, r.out)
  end)
end)

-- The spec's host namespace for pasta: an uplink (a veth with an
-- address and a default route, for pasta to copy), a server on its
-- loopback, and a 0666 tun node bound over /dev/net/tun in this private
-- mount namespace only (the host's is 0600: see README).
local function pasta_host(tun)
  return function(cmd)
    return in_host_ns(table.concat({
      "ip link add v0 type veth peer name v1",
      "ip addr add 10.0.2.15/24 dev v0", "ip link set v1 up", "ip link set v0 up",
      "ip route add default via 10.0.2.2",
      "mknod -m 666 " .. q(tun) .. " c 10 200", "mount --bind " .. q(tun) .. " /dev/net/tun",
      "echo from-host > " .. q(tmp .. "/index.html"),
      "{ busybox httpd -f -p 127.0.0.1:8081 -h " .. q(tmp) .. " & H=$!; }",
      "(" .. cmd .. "); rc=$?; kill $H; wait $H; exit $rc" }, " && "))
  end
end

describe("container network pasta", function()
  it("reaches the host's loopback and a published port as root", function()
    local r = root_run(pasta_host(tmp .. "/tun")([[
"$NSL" run "$BOX" none - true # the root, built once
"$NSL" run "$BOX" pasta 127.0.0.1:8080:80 'echo hello > /run/index.html; exec httpd -f -p 80 -h /run' & A=$!
i=0; until "$NSL" run "$BOX" host - 'wget -qO- http://127.0.0.1:8080/' >/dev/null 2>&1 || [ $i -gt 50 ]; do sleep 0.1; i=$((i+1)); done
echo == out
"$NSL" run "$BOX" pasta - 'wget -qO- http://10.0.2.2:8081/index.html'
echo == published
"$NSL" run "$BOX" host - 'wget -qO- http://127.0.0.1:8080/'
kill $A; wait $A; a=$?; echo == a; echo $a
echo == left; ls "$RUN/nsl/.net"; pgrep -f "pasta.*--netns $RUN"; true
]]):gsub("^unshare %-n %-m %-%-propagation private %-%- sh %-c ", "sh -c "), 90)
    assert.equal(0, r.code, r.out .. r.err)
    local s = helper.sections(r.out)
    assert.same({ out = "from-host\n", published = "hello\n", a = "143\n", left = "" },
      { out = s.out, published = s.published, a = s.a, left = s.left }, r.err)
  end)

  it("reaches the host's loopback and a published port as uid 65534", function()
    local r = helper.unprivileged(string.format([[
BOX=%s
"$NSL" run "$BOX" none - true # the root, built once
"$NSL" run "$BOX" pasta 8080:80 'echo hello > /run/index.html; exec httpd -f -p 80 -h /run' & A=$!
i=0; until "$NSL" run "$BOX" host - 'wget -qO- http://127.0.0.1:8080/' >/dev/null 2>&1 || [ $i -gt 50 ]; do sleep 0.1; i=$((i+1)); done
echo == out
"$NSL" run "$BOX" pasta - 'wget -qO- http://10.0.2.2:8081/index.html; cat /etc/resolv.conf'
echo == published
"$NSL" run "$BOX" host - 'wget -qO- http://127.0.0.1:8080/'
kill $A; wait $A; a=$?; echo == a; echo $a
echo == left; ls "$XDG_CACHE_HOME/nsl/run/.net"; pgrep -u 65534 pasta; true
]], q(tmp .. "/box.lua")), nil, 90, pasta_host(tmp .. "/tun"))
    assert.equal(0, r.code, r.out .. r.err)
    local s = helper.sections(r.out)
    assert.same({ out = "from-host\nnameserver 169.254.1.1\n", published = "hello\n", a = "143\n",
      left = "" }, { out = s.out, published = s.published, a = s.a, left = s.left }, r.err)
  end)

  it("falls back to slirp4netns without pasta, as uid 65534", function()
    local r = helper.unprivileged(string.format([[
export NSL_PASTA=/nonexistent BOX=%s
"$NSL" run "$BOX" none - true # the root, built once
"$NSL" run "$BOX" pasta 8080:80 'echo hello > /run/index.html; exec httpd -f -p 80 -h /run' & A=$!
i=0; until "$NSL" run "$BOX" host - 'wget -qO- http://127.0.0.1:8080/' >/dev/null 2>&1 || [ $i -gt 50 ]; do sleep 0.1; i=$((i+1)); done
echo == out
"$NSL" run "$BOX" pasta - 'wget -qO- http://10.0.2.2:8081/index.html; cat /etc/resolv.conf'
echo == published
"$NSL" run "$BOX" host - 'wget -qO- http://127.0.0.1:8080/'
kill $A; wait $A; a=$?; echo == a; echo $a
# killed, it takes a moment to leave its namespace
i=0; while pgrep -u 65534 slirp4netns >/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
echo == left; ls "$XDG_CACHE_HOME/nsl/run/.net"; pgrep -u 65534 slirp4netns; true
]], q(tmp .. "/box.lua")), nil, 90, pasta_host(tmp .. "/tun"))
    assert.equal(0, r.code, r.out .. r.err)
    local s = helper.sections(r.out)
    assert.same({ out = "from-host\nnameserver 10.0.2.3\n", published = "hello\n", a = "143\n",
      left = "" }, { out = s.out, published = s.published, a = s.a, left = s.left }, r.out .. r.err)
  end)

  it("leaves no pasta and no record after a killed nsl and the next nsl ps, as uid 65534", function()
    local r = helper.unprivileged(string.format([[
BOX=%s
"$NSL" run "$BOX" none - true # the root, built once
"$NSL" run "$BOX" pasta - 'exec sleep 30' & A=$!
i=0; until [ -n "$(ls "$XDG_CACHE_HOME/nsl/run/.net" 2>/dev/null)" ] || [ $i -gt 50 ]; do sleep 0.1; i=$((i+1)); done
kill -KILL $A; wait $A
echo == before; ls "$XDG_CACHE_HOME/nsl/run/.net" | wc -l
"$NSL" ps >/dev/null
# the reclaim stops a pasta that has not ended with the namespace
i=0; while pgrep -u 65534 -x pasta >/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
echo == after; pgrep -u 65534 -x pasta | wc -l; ls "$XDG_CACHE_HOME/nsl/run/.net" | wc -l
]], q(tmp .. "/box.lua")), nil, 90, pasta_host(tmp .. "/tun"))
    assert.equal(0, r.code, r.out .. r.err)
    local s = helper.sections(r.out)
    assert.same({ "1\n", "0\n0\n" }, { s.before, s.after }, r.out .. r.err)
  end)
end)

describe("container network checks", function()
  it("refuses ports without a network to publish them on", function()
    local container = require "nsl.container"
    assert.has_error(function()
      container.config{ rootfs = "/", publish = { net.parse_publish("8080:80") } }
    end, "publish: network 'none' has no ports to publish (use bridge or pasta)")
    assert.has_error(function()
      container.config{ rootfs = "/", network = "bridge", namespaces = { "mnt", "pid" } }
    end, "network 'bridge' needs a network namespace (\"net\" in namespaces)")
  end)

  it("refuses bridge for an ordinary user with one line, before any plugin runs", function()
    local r = helper.unprivileged(string.format([[
"$NSL" run %s bridge - true; echo "rc=$?"
ls "$XDG_CACHE_HOME/nsl/run/.net"
]], q(tmp .. "/box.lua")))
    assert.same({ "rc=125\n", "nsl: start: network 'bridge' needs root (the CNI plugins " ..
      "configure the host's side); an ordinary user has pasta\n" }, { r.out, r.err })
  end)
end)

describe("busybox.lua --network and -p", function()
  local HTTPD = "'echo hello > /run/index.html; exec httpd -f -p 80 -h /run'"

  it("publishes a bridge container's port to the host namespace, as root", function()
    local r = root_run([[
"$NSL" run busybox.lua --no-tty --network bridge -p 127.0.0.1:8080:80 /bin/sh -c ]] .. HTTPD ..
      [[ & A=$!
i=0; until busybox wget -qO- http://127.0.0.1:8080/ >/dev/null 2>&1 || [ $i -gt 80 ]; do sleep 0.1; i=$((i+1)); done
echo == published; busybox wget -qO- http://127.0.0.1:8080/
kill $A; wait $A
]] .. LEFT)
    assert.equal(0, r.code, r.err)
    local s = helper.sections(r.out)
    assert.equal("hello\n", s.published, r.out .. r.err)
    assert.same({ "", "", "", "" }, { s.veth, s.rules, s.leases, s.records }, r.out)
  end)

  it("publishes a pasta container's port, as uid 65534", function()
    local r = helper.unprivileged([[
"$NSL" run busybox.lua --no-tty --network pasta -p 8080:80 /bin/sh -c ]] .. HTTPD .. [[ & A=$!
i=0; until busybox wget -qO- http://127.0.0.1:8080/ >/dev/null 2>&1 || [ $i -gt 80 ]; do sleep 0.1; i=$((i+1)); done
echo == published; busybox wget -qO- http://127.0.0.1:8080/
kill $A; wait $A; true
]], nil, 90, pasta_host(tmp .. "/tun"))
    assert.equal(0, r.code, r.out .. r.err)
    assert.equal("hello\n", helper.sections(r.out).published, r.out .. r.err)
  end)

  it("refuses a mode it does not know as a usage error", function()
    local r = helper.sh(q(helper.nsl) .. " run busybox.lua --network bogus true")
    assert.same({ 2, "" }, { r.code, r.out })
    assert.matches("^busybox.lua: network 'bogus': expected none, host, bridge, pasta", r.err)
  end)
end)
