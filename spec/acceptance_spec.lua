-- nsl-oci driven by real clients: podman (with conmon) and containerd's
-- ctr, as root, with the busybox root imported offline. Everything they
-- keep (storage, state, sockets) lives in a temporary directory; their
-- cgroups are made below this process's own (--cgroup-parent, --cgroup).
local helper = require "helper"
local core = require "nsl.core"

local q = helper.quote

local function have(cmd)
  return helper.sh("command -v " .. cmd).code == 0
end

local PODMAN = have("podman") and have("conmon")
local CTR = have("containerd") and have("ctr")

local tmp, RUNTIME, podman, opts, host_mounts, pod_podman, host_cgroups, host_shm,
  host_cgroup_parents

-- A process in a private mount namespace of its own, kept while the specs
-- run: every podman command enters it (nsenter -m), so the mounts podman
-- and conmon make (container shm, ...) never reach the host's table, and
-- what they keep in /run (libpod, containers, netns, the runtime's state)
-- and /var/tmp lands on tmpfs mounts that end with it.
local holder, holder_pid

-- Shell words that cover /run, /var/tmp and /dev/shm with fresh tmpfs mounts, and
-- /sys/fs/cgroup with a throwaway tmpfs that holds the host's hierarchies
-- bound back in: podman's cgroupfs manager makes the directories of every
-- controller the kernel has, also of one this host does not mount
-- (hugetlb, net_cls, ...), and on the host's tmpfs such a directory would
-- be a plain one left behind.
local PRIVATE_RUN = "mount -t tmpfs -o mode=755 tmpfs /run && mount -t tmpfs -o mode=1777 tmpfs /var/tmp" ..
  " && mount -t tmpfs -o mode=1777 tmpfs /dev/shm" .. -- podman's lock file (libpod_lock)
  " && mkdir /run/cgroup-host && mount --rbind /sys/fs/cgroup /run/cgroup-host" ..
  " && mount -t tmpfs -o mode=755 cgroup-view /sys/fs/cgroup" ..
  " && for d in /run/cgroup-host/*; do mountpoint -q $d || continue;" ..
  " mkdir /sys/fs/cgroup/${d##*/} && mount --rbind $d /sys/fs/cgroup/${d##*/} || exit 1; done"

local function start_holder()
  holder = io.popen("exec unshare -m --propagation private sh -c '" .. PRIVATE_RUN ..
    " && echo $$ && exec sleep 3600'")
  holder_pid = tonumber(holder:read("l"))
  assert(holder_pid, "unshare -m failed")
end

local function stop_holder()
  if not holder_pid then return end
  core.kill(holder_pid, "KILL")
  holder:close()
  holder_pid = nil
end

-- This process's memory cgroup (v1), or its cgroup (v2): the containers'
-- cgroups go below it.
local function own_cgroup()
  local text = helper.read("/proc/self/cgroup") or ""
  local path = text:match("%d+:[^:\n]*memory[^:\n]*:([^\n]*)") or text:match("0::([^\n]*)") or "/"
  return (path:gsub("/$", ""))
end

-- `script` gives the client a terminal (podman -t, ctr -t want one).
local function on_tty(cmd)
  return helper.sh("script -qec " .. q(cmd) .. " /dev/null")
end

local function setup_podman()
  start_holder()
  podman = string.format("nsenter -t %d -m -- podman --root %s/pm/root --runroot %s/pm/run " ..
    "--cgroup-manager cgroupfs --events-backend file --storage-driver vfs --runtime %s",
    holder_pid, tmp, tmp, RUNTIME)
  -- podman's default nofile limit is above what this machine allows
  opts = string.format("--cgroup-parent %s/nsl-podman --ulimit nofile=9000:9000 " ..
    "--ulimit nproc=9000:9000", own_cgroup())
  local r = helper.sh(podman .. " import " .. q(tmp .. "/busybox.tar") .. " localhost/busybox:nsl", nil, 120)
  assert(r.code == 0, r.err)
  -- a pod's infra container (podman builds its image offline, from
  -- catatonit) takes no --ulimit: the defaults come from a containers.conf
  helper.write(tmp .. "/pm/containers.conf",
    '[containers]\ndefault_ulimits = ["nofile=9000:9000", "nproc=9000:9000"]\n')
  pod_podman = "env CONTAINERS_CONF=" .. q(tmp .. "/pm/containers.conf") .. " " .. podman
end

setup(function()
  if not (PODMAN or CTR) then return end
  host_mounts = helper.mountinfo()
  host_cgroups = helper.sh("ls /sys/fs/cgroup").out
  host_shm = helper.sh("ls -A /dev/shm").out
  host_cgroup_parents = helper.cgroups_present()
  tmp = helper.tmpdir()
  RUNTIME = helper.build .. "/nsl-oci"
  local r = helper.sh(q(helper.nsl) .. " -e " ..
    q(string.format("require('nsl').rootfs.busybox(%q)", tmp .. "/rootfs")) ..
    " && tar -C " .. q(tmp .. "/rootfs") .. " -cf " .. q(tmp .. "/busybox.tar") .. " .")
  assert(r.code == 0, r.err)
  if PODMAN then setup_podman() end
end)

teardown(function()
  if not tmp then return end
  if PODMAN then helper.sh(podman .. " rm -af -t 0") end
  stop_holder()
  helper.rmtree(tmp)
  assert.equal(host_mounts, helper.mountinfo())
  -- nothing new beside the host's hierarchies (see PRIVATE_RUN)
  assert.equal(host_cgroups, helper.sh("ls /sys/fs/cgroup").out)
  assert.equal(host_shm, helper.sh("ls -A /dev/shm").out) -- podman's locks (see PRIVATE_RUN)
  -- the parents the clients' cgroups went under, with what podman's conmon
  -- and the containers left in them
  assert.same({}, helper.remove_new_cgroups(host_cgroup_parents))
  assert.same(host_cgroup_parents, helper.cgroups_present())
end)

local function pm(args, input)
  return helper.sh(podman .. " " .. args, input, 90)
end

-- The names, types, modes and owners of /dev's entries (a pty number or a
-- timestamp may change meanwhile, by anyone), to compare before and after.
local DEV_LIST = "find /dev -maxdepth 1 ! -path /dev -printf '%p %y %m %U %G\\n' | sort"

local function pending_without(what)
  pending(what .. " is not installed (`./bootstrap test` installs it as root)")
end

describe("podman --runtime nsl-oci", function()
  if not PODMAN then
    it("runs containers", function() pending_without("podman") end)
    return
  end

  it("runs echo with --rm and passes the exit code", function()
    local r = pm("run --rm " .. opts .. " localhost/busybox:nsl echo hello")
    assert.same({ 0, "hello\n" }, { r.code, r.out }, r.err)
    r = pm("run --rm " .. opts .. " localhost/busybox:nsl sh -c 'exit 42'")
    assert.equal(42, r.code, r.err)
  end)

  it("passes stdin with -i and gives a terminal with -t", function()
    local r = pm("run --rm -i " .. opts .. " localhost/busybox:nsl cat", "piped in\n")
    assert.same({ 0, "piped in\n" }, { r.code, r.out }, r.err)
    r = on_tty(podman .. " run --rm -t " .. opts .. " localhost/busybox:nsl sh -c 'tty; exit 6'")
    assert.equal(6, r.code, r.err)
    assert.matches("/dev/console\r*\n", r.out)
  end)

  it("honours --read-only, --user, --workdir, --env, --hostname, --cap-drop all, --network none",
    function()
      local r = pm("run --rm " .. opts .. " --read-only --user 65534:65534 --workdir /tmp " ..
        "--env FOO=bar --hostname hh --cap-drop all --network none localhost/busybox:nsl " ..
        "sh -c 'echo $FOO $(id -u) $(pwd) $(hostname); touch /x 2>&1; grep CapBnd /proc/self/status; " ..
        "tail -n +3 /proc/net/dev | cut -d: -f1'")
      assert.equal(0, r.code, r.err)
      assert.equal("bar 65534 /tmp hh\ntouch: /x: Read-only file system\n" ..
        "CapBnd:\t0000000000000000\n    lo\n", r.out)
    end)

  it("runs detached, execs into it, pauses, unpauses and stops it", function()
    local r = pm("run -d --name d1 " .. opts .. " --memory 64m --pids-limit 30 localhost/busybox:nsl sleep 1000")
    assert.equal(0, r.code, r.err)
    finally(function() pm("rm -f -t 0 d1") end)
    r = pm("exec d1 sh -c 'cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes " ..
      "2>/dev/null || cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/memory.max; exit 5'")
    assert.same({ 5, "30\n67108864\n" }, { r.code, r.out }, r.err)
    r = on_tty(podman .. " exec -t d1 tty")
    assert.equal(0, r.code, r.err)
    assert.matches("/dev/pts/%d+\r*\n", r.out) -- the container's own pty
    assert.equal(0, pm("pause d1").code)
    assert.equal("Paused\n", pm("inspect --format '{{.State.Status}}' d1").out:gsub("^p", "P"))
    assert.equal(0, pm("unpause d1").code)
    assert.equal("running\n", pm("inspect --format '{{.State.Status}}' d1").out)
    r = pm("stop -t 1 d1")
    assert.equal(0, r.code, r.err)
    assert.equal("exited\n", pm("inspect --format '{{.State.Status}}' d1").out)
  end)

  -- podman tells them apart by nsl-oci's message (its status is 255 for
  -- both, as runc's), as it does with runc
  it("gives 127 for an exec of a command that is not there and 126 for one that cannot run", function()
    assert.equal(0, pm("run -d --name e1 " .. opts .. " localhost/busybox:nsl sleep 1000").code)
    finally(function() pm("rm -f -t 0 e1") end)
    local got = {}
    for _, command in ipairs { "no-such-command", "/no/such", "/etc/passwd" } do
      got[#got + 1] = pm("exec e1 " .. command).code
    end
    assert.same({ 127, 127, 126 }, got)
  end)

  it("kills a container and removes a running one with rm -f", function()
    assert.equal(0, pm("run -d --name k1 " .. opts .. " localhost/busybox:nsl sleep 1000").code)
    finally(function() pm("rm -f -t 0 k1"); pm("rm -f -t 0 k2") end)
    assert.equal(0, pm("kill k1").code)
    assert.equal(0, pm("wait k1").code)
    assert.equal("137\n", pm("inspect --format '{{.State.ExitCode}}' k1").out)
    assert.equal(0, pm("run -d --name k2 " .. opts .. " localhost/busybox:nsl sleep 1000").code)
    assert.equal(0, pm("rm -f -t 0 k2").code)
    assert.equal("", pm("ps -a -q --filter name=k2").out)
  end)

  it("changes the limits of a running container with podman update", function()
    assert.equal(0, pm("run -d --name u1 " .. opts .. " --memory 64m --cpu-quota 20000 " ..
      "localhost/busybox:nsl sleep 1000").code)
    finally(function() pm("rm -f -t 0 u1") end)
    local read = "sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us " ..
      "2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max'"
    local r = pm("update --memory 128m --cpu-quota 50000 --cpu-period 100000 u1")
    assert.equal(0, r.code, r.err)
    r = pm("exec u1 " .. read)
    assert.equal(0, r.code, r.err)
    assert.matches("^134217728\n50000", r.out)
  end)

  it("runs containers in a pod that share its namespaces", function()
    local function pod(args) return helper.sh(pod_podman .. " " .. args, nil, 90) end
    local r = pod("pod create --name p1 --cgroup-parent " .. own_cgroup() .. "/nsl-podman")
    assert.equal(0, r.code, r.err)
    finally(function() pod("pod rm -f -t 0 p1") end)
    r = pod("run -d --pod p1 --name p1a localhost/busybox:nsl sleep 1000")
    assert.equal(0, r.code, r.err)
    local namespaces = "readlink /proc/self/ns/net; readlink /proc/self/ns/ipc"
    r = pod("run --rm --pod p1 localhost/busybox:nsl sh -c " .. q("hostname; " .. namespaces))
    assert.equal(0, r.code, r.err)
    local inside = pod("exec p1a sh -c " .. q(namespaces))
    assert.equal("p1\n" .. inside.out, r.out, inside.err)
    assert.equal("Running\n", pod("pod ps --filter name=p1 --format '{{.Status}}'").out)
    assert.equal(0, pod("pod rm -f -t 0 p1").code)
    assert.equal("", pod("pod ps -q --filter name=p1").out)
  end)

  it("leaves the host's /dev as it is with -v /dev:/dev", function()
    local before = helper.sh(DEV_LIST)
    local r = pm("run --rm -v /dev:/dev " .. opts .. " localhost/busybox:nsl " ..
      "sh -c 'test -c /dev/null && echo null; test -e /dev/console; cat /proc/self/mounts | grep -c \" /dev\"'")
    assert.equal(0, r.code, r.err)
    assert.matches("^null\n%d+\n$", r.out)
    assert.equal(0, before.code, before.err)
    assert.equal(before.out, helper.sh(DEV_LIST).out)
  end)
end)

describe("rootless podman --runtime nsl-oci as uid 65534", function()
  if not PODMAN then
    it("runs containers", function() pending_without("podman") end)
    return
  end

  it("runs, execs into and removes containers in podman's user namespace", function()
    local stage = helper.stage()
    assert(os.execute("ln -sf nsl " .. q(stage .. "/bin/nsl-oci")))
    local dir = tmp .. "/rootless"
    assert(os.execute(string.format("mkdir -p %s/xdg && cp %s %s/ && chown -R 65534:65534 %s",
      q(dir), q(tmp .. "/busybox.tar"), q(dir), q(dir))))
    -- --network none: slirp4netns needs /dev/net/tun, which uid 65534 may
    -- not open here
    local script = [[
      mkdir -p "$1/tmp"
      export HOME="$1" XDG_RUNTIME_DIR="$1/xdg" TMPDIR="$1/tmp"
      P="podman --root $1/root --runroot $1/run --tmpdir $1/tmp --cgroup-manager cgroupfs
        --events-backend file --storage-driver vfs --runtime $STAGE/bin/nsl-oci"
      U="--network none --ulimit nofile=9000:9000 --ulimit nproc=9000:9000"
      $P import "$1/busybox.tar" localhost/busybox:nsl > /dev/null || exit 1
      $P run --rm $U localhost/busybox:nsl sh -c 'echo $(id -u) $(cat /proc/self/uid_map); exit 7'
      echo "run $?"
      echo piped | $P run --rm -i $U localhost/busybox:nsl cat
      $P run -d --name r1 $U localhost/busybox:nsl sleep 100 > /dev/null; echo "detached $?"
      $P exec r1 sh -c 'echo exec; exit 3'; echo "exec $?"
      $P rm -f -t 0 r1 > /dev/null; echo "rm $?"
      CONTAINERS_CONF="$1/containers.conf" $P pod create --name p1 > /dev/null; echo "pod $?"
      CONTAINERS_CONF="$1/containers.conf" $P run --rm --pod p1 localhost/busybox:nsl hostname
      CONTAINERS_CONF="$1/containers.conf" $P pod rm -f -t 0 p1 > /dev/null; echo "pod rm $?"
      $P run --rm -v /dev:/dev $U localhost/busybox:nsl sh -c 'test -c /dev/null && echo dev'
    ]]
    -- podman leaves a pause process (catatonit) holding its user
    -- namespace: this run's, known by the run's XDG_RUNTIME_DIR in its
    -- environment, ends with the spec
    finally(function()
      for _, pid in ipairs(helper.leftovers("catatonit")) do
        local env = helper.read("/proc/" .. pid .. "/environ") or ""
        if env:find("XDG_RUNTIME_DIR=" .. dir .. "/xdg", 1, true) then core.kill(pid, "KILL") end
      end
    end)
    -- a pod's infra container takes its ulimits from containers.conf
    helper.write(dir .. "/containers.conf", '[containers]\ndefault_ulimits = ["nofile=9000:9000", ' ..
      '"nproc=9000:9000"]\nnetns = "none"\n')
    assert(os.execute("chmod 0644 " .. q(dir .. "/containers.conf")))
    local before = helper.sh(DEV_LIST)
    -- in a mount namespace of its own with a fresh /dev/shm, where podman
    -- keeps its lock file (libpod_rootless_lock_65534)
    local function private_shm(line)
      return "unshare -m --propagation private sh -c " ..
        q("mount -t tmpfs -o mode=1777 tmpfs /dev/shm && " .. line)
    end
    local r = helper.unprivileged("sh -c " .. q(script) .. " sh " .. q(dir), nil, 180, private_shm)
    assert.equal(0, r.code, r.err)
    assert.equal("0 0 65534 1\nrun 7\npiped\ndetached 0\nexec\nexec 3\nrm 0\n" ..
      "pod 0\np1\npod rm 0\ndev\n", r.out, r.err)
    assert.equal(before.out, helper.sh(DEV_LIST).out)
  end)
end)

describe("ctr run --runc-binary nsl-oci", function()
  if not CTR then
    it("runs containers", function() pending_without("containerd") end)
    return
  end

  local ctr, daemon, run

  setup(function()
    local dir = tmp .. "/ctrd"
    assert(os.execute("mkdir -p " .. q(dir)))
    helper.write(dir .. "/config.toml", string.format([[
version = 2
root = "%s/root"
state = "%s/state"
[grpc]
  address = "%s/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  disable = true
]], dir, dir, dir))
    -- containerd and its shims mount in a namespace of their own, with a
    -- /run of their own for what they keep there
    daemon = assert(core.clone({ "mnt" }))
    if daemon == 0 then
      assert(core.mount(nil, "/", nil, "rec private"))
      assert(core.mount("tmpfs", "/run", "tmpfs", "nosuid nodev", "mode=755"))
      local log = assert(core.open(dir .. "/log", "wronly creat", "0644"))
      core.dup2(log, 1)
      core.dup2(log, 2)
      core.exec("/usr/bin/containerd", { "containerd", "--config", dir .. "/config.toml" })
      core._exit(127)
    end
    -- ctr makes its stdio fifos in /run/containerd: the daemon's /run
    ctr = string.format("nsenter -t %d -m -- ctr -a %s/containerd.sock -n nsl", daemon, dir)
    for _ = 1, 200 do
      if helper.sh(ctr .. " version").code == 0 then break end
      core.poll({}, 50)
    end
    -- an OCI archive of the image, as podman saves it, or the root packed by hand
    local archive = dir .. "/busybox-oci.tar"
    local r = PODMAN and pm("save --format oci-archive -o " .. q(archive) .. " localhost/busybox:nsl")
    assert(r and r.code == 0, "an OCI archive needs podman save")
    r = helper.sh(ctr .. " images import --all-platforms " .. q(archive))
    assert(r.code == 0, r.err)
    run = string.format("%s run --runc-binary %s --runc-root %s/runc", ctr, RUNTIME, dir)
  end)

  teardown(function()
    if daemon then
      core.kill(daemon, "TERM")
      core.wait(daemon)
    end
  end)

  local function cg(id)
    return string.format("--cgroup %s/nsl-ctr/%s", own_cgroup(), id)
  end

  it("runs a command and passes the exit code", function()
    local r = helper.sh(run .. " --rm " .. cg("c1") .. " localhost/busybox:nsl c1 sh -c 'echo hello ctr; exit 3'")
    assert.same({ 3, "hello ctr\n" }, { r.code, r.out }, r.err)
  end)

  it("gives a terminal with -t", function()
    local r = on_tty(run .. " -t --rm " .. cg("c2") .. " localhost/busybox:nsl c2 sh -c 'tty; exit 5'")
    assert.equal(5, r.code, r.err)
    assert.matches("/dev/console\r*\n", r.out)
  end)

  it("runs detached, execs, kills and removes", function()
    local r = helper.sh(run .. " -d " .. cg("c3") .. " localhost/busybox:nsl c3 sleep 1000")
    assert.equal(0, r.code, r.err)
    finally(function()
      helper.sh(ctr .. " task kill -s KILL c3")
      helper.sh(ctr .. " task rm -f c3")
      helper.sh(ctr .. " c rm c3")
    end)
    r = helper.sh(ctr .. " task exec --exec-id e1 c3 sh -c 'echo in exec; exit 4'")
    assert.same({ 4, "in exec\n" }, { r.code, r.out }, r.err)
    assert.equal(0, helper.sh(ctr .. " task kill -s KILL c3").code)
    local status
    for _ = 1, 100 do
      status = helper.sh(ctr .. " task ls").out:match("c3%s+%d+%s+(%u+)")
      if status == "STOPPED" then break end
      core.poll({}, 50)
    end
    assert.equal("STOPPED", status)
    assert.equal(0, helper.sh(ctr .. " task rm c3").code)
    assert.equal(0, helper.sh(ctr .. " c rm c3").code)
  end)
end)
