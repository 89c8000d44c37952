-- nsl.examples: one example for every function of the core and the library,
-- as the REPL's help shows it ("example:" under the doc).
--
-- Each example is what a user types at the nsl REPL, a line at a time (so
-- names are globals: a `local` would be gone on the next line), with the
-- REPL's `nsl` (require "nsl"). `--> x` after an expression is what the
-- REPL prints for it; pids, fds, inode numbers and the like differ from
-- machine to machine. /tmp/box stands for a container root, such as
-- nsl.rootfs.busybox("/tmp/box") builds.
--
-- Keys: a core function by its name ("mount"); a method of the objects the
-- core makes as "fd:read", "root:mount_on", "filter:rule_add"; a library
-- function as "MODULE.NAME" ("userns.parse_map"); a method of the library's
-- objects as "lab:step" (nsl.lab.new) and "cgroup:add" (nsl.cgroup).
-- spec/examples_spec.lua checks that every function has one, that each
-- compiles as the REPL reads it, and runs the ones safe to run.
return {
  ---------------------------------------------------------------------------
  -- the core (nsl.core, also the fields of nsl)

  _exit = [[
pid = nsl.clone({}) if pid == 0 then nsl._exit(3) end
nsl.wait(pid) --> 4711, "exited", 3]],

  accept = [[
srv = assert(nsl.unix_listen("/tmp/demo.sock"))
cli = assert(nsl.unix_connect("/tmp/demo.sock"))
conn = assert(nsl.accept(srv))
conn --> fd 7]],

  access = [[
nsl.access("/etc/passwd", "r") --> true
nsl.access("/nonexistent") --> nil, "access '/nonexistent' for 'f': No such file or directory", ENOENT]],

  bpf_prog_attach = [[
cg = assert(nsl.open("/sys/fs/cgroup/box", "rdonly directory"))
prog = assert(nsl.bpf_prog_load("cgroup_device", nsl.devbpf.program{ { allow = false, type = "c", major = 1, minor = 5 } }, "GPL"))
nsl.bpf_prog_attach(prog, cg, "cgroup_device", "allow_multi") --> true]],

  bpf_prog_detach = [[
cg = assert(nsl.open("/sys/fs/cgroup/box", "rdonly directory"))
old = assert(nsl.bpf_prog_get_fd_by_id(nsl.bpf_prog_query(cg, "cgroup_device")[1]))
nsl.bpf_prog_detach(old, cg, "cgroup_device") --> true]],

  bpf_prog_get_fd_by_id = [[
cg = assert(nsl.open("/sys/fs/cgroup/box", "rdonly directory"))
nsl.bpf_prog_get_fd_by_id(nsl.bpf_prog_query(cg, "cgroup_device")[1]) --> fd 8
nsl.bpf_prog_get_fd_by_id(99999999) --> nil, "bpf BPF_PROG_GET_FD_BY_ID 99999999: No such file or directory", ENOENT]],

  bpf_prog_load = [[
insns = nsl.devbpf.program{ { allow = false, type = "c", major = 1, minor = 5 } }
nsl.bpf_prog_load("cgroup_device", insns, "GPL") --> fd 7
nsl.bpf_prog_load("cgroup_device", ("\0"):rep(8), "GPL") --> nil, "bpf BPF_PROG_LOAD (1 instructions): verifier: last insn is not an exit or jmp: Invalid argument", EINVAL]],

  bpf_prog_query = [[
cg = assert(nsl.open("/sys/fs/cgroup/box", "rdonly directory"))
nsl.bpf_prog_query(cg, "cgroup_device") --> { 42 }]],

  cap_ambient = [[
nsl.cap_ambient("net_bind_service") --> false]],

  cap_ambient_clear = [[
nsl.cap_ambient_clear() --> true
nsl.cap_ambient("net_bind_service") --> false]],

  cap_ambient_lower = [[
nsl.cap_ambient_lower("net_bind_service") --> true]],

  cap_ambient_raise = [[
nsl.cap_set(nsl.cap_get() .. " cap_net_bind_service+i") --> true
nsl.cap_ambient_raise("net_bind_service") --> true
nsl.cap_ambient("net_bind_service") --> true]],

  cap_bound = [[
nsl.cap_bound("sys_admin") --> true]],

  cap_bound_drop = [[
nsl.cap_bound_drop({ "sys_module", "sys_rawio" }) --> true
nsl.cap_bound("sys_module") --> false]],

  cap_bound_list = [[
nsl.cap_bound_list()[1] --> "cap_chown"]],

  cap_from_name = [[
nsl.cap_from_name("sys_admin") --> 21
nsl.cap_from_name("CAP_NET_ADMIN") --> 12]],

  cap_get = [[
nsl.cap_get() --> "=ep"
nsl.cap_get(1) --> "=ep"]],

  cap_max_bits = [[
nsl.cap_max_bits() --> 41
#nsl.cap_names() == nsl.cap_max_bits() --> true]],

  cap_names = [[
nsl.cap_names()[22] --> "cap_sys_admin"]],

  cap_set = [[
nsl.cap_set("cap_chown,cap_net_bind_service=ep") --> true
nsl.cap_get() --> "cap_chown,cap_net_bind_service=ep"
nsl.cap_set { effective = { "chown" }, permitted = { "chown", "kill" } } --> true
nsl.cap_get() --> "cap_chown=ep cap_kill+p"]],

  chdir = [[
nsl.chdir("/tmp") --> true
nsl.getcwd() --> "/tmp"]],

  child_subreaper = [[
nsl.child_subreaper(true) --> true]],

  chmod = [[
nsl.chmod("/tmp/box/tmp", "1777") --> true
string.format("%o", nsl.stat("/tmp/box/tmp").mode) --> "1777"]],

  chown = [[
nsl.chown("/tmp/box/home/app", 1000) --> true
nsl.chown("/tmp/box/home/app", nil, 100) --> true]],

  chroot = [[
nsl.chroot("/tmp/box") --> true
nsl.chdir("/") --> true]],

  clone = [[
pid = nsl.clone({ "pid", "uts" }) if pid == 0 then nsl._exit(nsl.getpid()) end
nsl.wait(pid) --> 4711, "exited", 1]],

  close = [[
r, w = nsl.pipe()
nsl.close(w) --> true
r:read() --> ""]],

  close_range = [[
nsl.close_range(3, nil, "cloexec") --> true]],

  dumpable = [[
nsl.dumpable(false) --> false]],

  dup = [[
out = nsl.dup(1)
out:write("hello\n") --> 6
out:fileno() ~= 1 --> true]],

  dup2 = [[
log = assert(nsl.open("/tmp/log", "wronly creat append", "0644"))
nsl.dup2(log, 2) --> 2]],

  exec = [[
nsl.exec("/nonexistent", { "x" }) --> nil, "exec '/nonexistent': No such file or directory", ENOENT
nsl.exec("/bin/ls", { "ls", "-l", "/" }, { PATH = "/bin" }) -- this process becomes ls]],

  exec_sealed = [[
pid = nsl.clone({}) if pid == 0 then nsl.exec_sealed("/bin/busybox", { "readlink", "/proc/self/exe" }) nsl._exit(127) end
nsl.wait(pid) --> 4711, "exited", 0]],

  execp = [[
pid = nsl.clone({}) if pid == 0 then nsl.execp("ls", { "ls", "/" }) nsl._exit(127) end
nsl.wait(pid) --> 4711, "exited", 0]],

  fd = [[
listener = nsl.fd(3) -- the socket systemd passes (LISTEN_FDS=1)
conn = assert(nsl.accept(listener))]],

  fs_type = [[
nsl.fs_type("/proc") --> "proc"
nsl.fs_type("/sys") --> "sysfs"]],

  get_pdeathsig = [[
nsl.get_pdeathsig() --> 0]],

  get_winsize = [[
master, slave = nsl.openpty()
nsl.set_winsize(master, 40, 120) --> true
nsl.get_winsize(slave) --> 40, 120]],

  getcwd = [[
nsl.getcwd() --> "/root"]],

  getegid = [[
nsl.getegid() --> 0]],

  geteuid = [[
nsl.geteuid() --> 0]],

  getgid = [[
nsl.getgid() --> 0]],

  getgroups = [[
nsl.getgroups() --> { 0 }]],

  gethostname = [[
nsl.gethostname() --> "myhost"]],

  init_exec = [[
-- pid 1 of a container becomes the sealed init, which starts the command:
nsl.init_exec("/bin/sh", { "sh" }, { PATH = "/bin" }, { report = report_w, rootfs = "/srv/box" })
--> nil, "init exec for '/bin/sh': Permission denied", EACCES (returns only on failure)]],

  wait_exec = [[
-- nsl's process, once the command runs: a waiter takes its place (pid: the init, status_r: its status)
nsl.wait_exec(pid, status_r)
--> nil, "wait exec for pid 4242: No such file or directory", ENOENT (returns only on failure)]],

  getpgid = [[
nsl.getpgid() --> 4711
nsl.getpgid(1) --> 1]],

  getpgrp = [[
nsl.getpgrp() --> 4711]],

  getpid = [[
nsl.getpid() --> 4711]],

  getppid = [[
nsl.getppid() --> 4700]],

  getresgid = [[
nsl.getresgid() --> 0, 0, 0]],

  getresuid = [[
nsl.getresuid() --> 0, 0, 0]],

  getrlimit = [[
nsl.getrlimit("nofile") --> 1024, 524288
nsl.getrlimit("core") --> 0, "unlimited"]],

  gettid = [[
nsl.gettid() --> 4711]],

  getuid = [[
nsl.getuid() --> 0]],

  if_down = [[
nsl.unshare("net") --> true
nsl.if_up("lo") --> true
nsl.if_down("lo") --> true]],

  if_up = [[
nsl.unshare("net") --> true
nsl.if_up("lo") --> true]],

  is_char_device = [[
nsl.is_char_device("/dev/null", 1, 3) --> true
nsl.is_char_device("/dev/zero", 1, 3) --> false]],

  isatty = [[
nsl.isatty(0) --> true
nsl.isatty(nsl.open("/dev/null")) --> false]],

  keepcaps = [[
nsl.keepcaps(true) --> true]],

  kill = [[
nsl.kill(nsl.getpid(), 0) --> true
nsl.kill(99999999, 0) --> nil, "kill 99999999 '0': No such process", ESRCH]],

  lchown = [[
nsl.symlink("/etc/passwd", "/tmp/link") --> true
nsl.lchown("/tmp/link", 65534, 65534) --> true]],

  lstat = [[
nsl.lstat("/proc/self").type --> "link"
nsl.stat("/proc/self").type --> "dir"]],

  mkdir = [[
nsl.mkdir("/tmp/x", "0755") --> true
nsl.mkdir("/tmp/x") --> nil, "mkdir '/tmp/x': File exists", EEXIST]],

  mkdtemp = [[
nsl.mkdtemp("/tmp/nsl-XXXXXX") --> "/tmp/nsl-Zq3x9A"]],

  mknod = [[
nsl.mknod("/tmp/box/dev/null", "char", "0666", 1, 3) --> true
nsl.mknod("/tmp/fifo", "fifo", "0600") --> true]],

  monotime = [[
t = nsl.monotime()
nsl.monotime() - t --> 2.318504512]],

  mount = [[
nsl.mkdir("/tmp/x") --> true
nsl.mount("tmpfs", "/tmp/x", "tmpfs", "nosuid nodev", "mode=755") --> true
nsl.mount(nil, "/tmp/x", nil, "remount bind rdonly nosuid nodev") --> true]],

  mount_flags = [[
nsl.mount_flags().rbind --> 20480
nsl.mount_flags().bind | nsl.mount_flags().rec --> 20480]],

  netns_prepare = [[
pid = nsl.clone({}) if pid == 0 then job = nsl.netns_prepare{ loopback = true } end
if pid == 0 then assert(job:enter()) job:close() nsl._exit(0) end
nsl.wait(pid) --> 4711, "exited", 0]],

  no_new_privs = [[
nsl.no_new_privs() --> false
nsl.no_new_privs(true) --> true]],

  open = [[
f = assert(nsl.open("/tmp/out", "wronly creat trunc", "0644"))
f:write("hello\n") --> 6
f:close() --> true]],

  openpty = [[
master, slave, path = nsl.openpty()
path --> "/dev/pts/3"]],

  pdeathsig = [[
nsl.pdeathsig("KILL") --> true
nsl.get_pdeathsig() --> 9]],

  open_tree = [[
tree = assert(nsl.open_tree("/srv/data", "rec"))
tree --> fd 6
root = assert(nsl.root_open("/tmp/box"))
root:bind_on("/mnt", tree, "rdonly") --> true]],

  pidfd_open = [[
pidfd = assert(nsl.pidfd_open(nsl.getppid()))
pidfd --> fd 5
nsl.pidfd_open(99999999) --> nil, "pidfd_open 99999999: No such process", ESRCH]],

  pidfd_send_signal = [[
pid, pidfd = nsl.clone({}, { pidfd = true }) if pid == 0 then nsl.exec("/bin/sleep", { "sleep", "60" }) nsl._exit(127) end
nsl.pidfd_send_signal(pidfd, "TERM") --> true
nsl.wait(pid) --> 4711, "killed", 15]],

  pipe = [[
r, w = nsl.pipe()
w:write("ping") --> 4
r:read() --> "ping"]],

  pivot_root = [[
nsl.unshare("mnt") --> true
nsl.mount(nil, "/", nil, "rec private") --> true
nsl.mount("/tmp/box", "/tmp/box", nil, "rbind") --> true
nsl.chdir("/tmp/box"); nsl.pivot_root(".", "."); nsl.umount(".", "detach")]],

  poll = [[
r, w = nsl.pipe()
nsl.poll({ r }, 0) --> { false }, 0
w:write("x") --> 1
nsl.poll({ r, w }, 100, "in out") --> { "in", "out" }, 2]],

  read = [[
f = assert(nsl.open("/proc/sys/kernel/ostype"))
nsl.read(f) --> "Linux\n"
nsl.read(f) --> ""]],

  read_signal = [[
nsl.sigprocmask("block", { "USR1" }) --> true, {}
sfd = assert(nsl.signalfd({ "USR1" }))
nsl.kill(nsl.getpid(), "USR1") --> true
nsl.read_signal(sfd) --> "USR1", 4711]],

  readdir = [[
nsl.readdir("/tmp/box/etc") --> { "group", "hostname", "passwd" }]],

  readlink = [[
nsl.readlink("/proc/self/ns/mnt") --> "mnt:[4026531841]"]],

  recv = [[
srv = assert(nsl.unix_dgram("/tmp/notify.sock", "nonblock"))
nsl.sendto(nsl.unix_dgram(), "/tmp/notify.sock", ("STATUS=" .. ("x"):rep(5000) .. "\nREADY=1"))
#nsl.recv(srv) --> 5015
nsl.recv(srv) --> nil, "recv 5: Resource temporarily unavailable", EAGAIN]],

  recv_fd = [[
srv = assert(nsl.unix_listen("/tmp/console.sock")); cli = assert(nsl.unix_connect("/tmp/console.sock"))
master = nsl.openpty(); nsl.send_fd(cli, master)
nsl.recv_fd(nsl.accept(srv)) --> fd 9, "/dev/ptmx"]],

  socketpair = [[
a, b = assert(nsl.socketpair())
nsl.send_fd(a, nsl.open("/etc/hostname"), "hostname")
fd, what = nsl.recv_fd(b)
what --> "hostname"]],

  relay = [[
master, slave = nsl.openpty()
pid = nsl.clone({}) if pid == 0 then nsl.setsid() nsl.set_ctty(slave) for i = 0, 2 do nsl.dup2(slave, i) end nsl.exec("/bin/sh", { "sh" }) nsl._exit(127) end
slave:close(); saved = nsl.tty_raw(0)
nsl.relay(master, { pid = pid }); nsl.tty_restore(0, saved); nsl.wait(pid)]],

  rename = [[
nsl.mkdir("/tmp/box.new") --> true
nsl.rename("/tmp/box.new", "/tmp/box2") --> true
nsl.stat("/tmp/box2").type --> "dir"]],

  rmdir = [[
nsl.mkdir("/tmp/x") --> true
nsl.rmdir("/tmp/x") --> true
nsl.rmdir("/etc") --> nil, "rmdir '/etc': Directory not empty", ENOTEMPTY]],

  root_open = [[
root = assert(nsl.root_open("/tmp/box"))
root --> nsl.root '/tmp/box' (fd 7)
root:readlink("/bin/sh") --> "../bin/busybox"]],

  seccomp_api_get = [[
nsl.seccomp_api_get() --> 6]],

  seccomp_arch_add = [[
f = nsl.seccomp_init("allow")
nsl.seccomp_arch_add(f, "x86") --> true]],

  seccomp_arch_native = [[
nsl.seccomp_arch_native() --> "x86_64"]],

  seccomp_arch_remove = [[
f = nsl.seccomp_init("allow")
nsl.seccomp_arch_add(f, "x86") --> true
nsl.seccomp_arch_remove(f, "x86") --> true]],

  seccomp_attr_set = [[
f = nsl.seccomp_init("errno EPERM")
nsl.seccomp_attr_set(f, "ctl_nnp", false) --> true
nsl.seccomp_attr_set(f, "act_badarch", "kill") --> true]],

  seccomp_export_bpf = [[
f = nsl.seccomp_init("allow")
bpf = nsl.seccomp_export_bpf(f)
#bpf % 8 --> 0]],

  seccomp_export_pfc = [[
f = nsl.seccomp_init("allow"); nsl.seccomp_rule_add(f, "errno EPERM", "mkdir")
print(nsl.seccomp_export_pfc(f))]],

  seccomp_init = [[
f = nsl.seccomp_init("errno EPERM")
f --> seccomp filter (0x55d0c1a2b2a0)
nsl.seccomp_init("trace 7") --> seccomp filter (0x55d0c1a2c3b0)]],

  seccomp_load = [[
f = nsl.seccomp_init("allow"); nsl.seccomp_rule_add(f, "errno EPERM", "mkdir")
pid = nsl.clone({}) if pid == 0 then nsl.seccomp_load(f) nsl._exit(select(3, nsl.mkdir("/tmp/y")) or 0) end
nsl.wait(pid) --> 4711, "exited", 1]],

  seccomp_load_bpf = [[
f = nsl.seccomp_init("allow"); nsl.seccomp_rule_add(f, "errno EPERM", "mkdir")
bpf = nsl.seccomp_export_bpf(f)
pid = nsl.clone({}) if pid == 0 then nsl.seccomp_load_bpf(bpf) nsl._exit(select(3, nsl.mkdir("/tmp/y")) or 0) end
nsl.wait(pid) --> 4711, "exited", 1]],

  seccomp_notify_receive = [[
f = nsl.seccomp_init("allow"); nsl.seccomp_rule_add(f, "notify", "mkdir")
listener = nsl.seccomp_load_bpf(nsl.seccomp_export_bpf(f), "new_listener") -- in a child
req = nsl.seccomp_notify_receive(listener) -- in the supervisor, given the listener
req --> { id = 1234, pid = 4711, syscall = "mkdir", arch = "x86_64", args = { ... } }]],

  seccomp_notify_respond = [[
req = nsl.seccomp_notify_receive(listener)
nsl.seccomp_notify_respond(listener, req.id, "EACCES") --> true
nsl.seccomp_notify_respond(listener, nsl.seccomp_notify_receive(listener).id, "continue")]],

  seccomp_release = [[
f = nsl.seccomp_init("allow")
nsl.seccomp_release(f) --> true
f --> seccomp filter (released)]],

  seccomp_rule_add = [[
f = nsl.seccomp_init("allow")
nsl.seccomp_rule_add(f, "errno EACCES", "mkdir") --> true
nsl.seccomp_rule_add(f, "errno EPERM", "ioctl", { { 1, "masked_eq", 0xffffffff, nsl.seccomp_values.TIOCSTI } }) --> true]],

  seccomp_syscall_resolve_name = [[
nsl.seccomp_syscall_resolve_name("openat") --> 257
nsl.seccomp_syscall_resolve_name("openat", "aarch64") --> 56]],

  seccomp_syscall_resolve_num = [[
nsl.seccomp_syscall_resolve_num(56, "aarch64") --> "openat"]],

  seccomp_version = [[
nsl.seccomp_version() --> "2.5.4"]],

  send_fd = [[
srv = assert(nsl.unix_listen("/tmp/console.sock")); cli = assert(nsl.unix_connect("/tmp/console.sock"))
master = nsl.openpty()
nsl.send_fd(cli, master) --> true
nsl.recv_fd(nsl.accept(srv)) --> fd 9, "/dev/ptmx"]],

  sendto = [[
srv = assert(nsl.unix_dgram("/tmp/notify.sock"))
cli = assert(nsl.unix_dgram())
nsl.sendto(cli, "/tmp/notify.sock", "READY=1", 5) --> 7
nsl.recv(srv) --> "READY=1"]],

  set_cloexec = [[
log = assert(nsl.open("/tmp/log", "wronly creat append", "0644"))
nsl.set_cloexec(log, false) --> true]],

  set_ctty = [[
master, slave = nsl.openpty()
pid = nsl.clone({}) if pid == 0 then nsl.setsid() nsl._exit(nsl.set_ctty(slave) and 0 or 1) end
nsl.wait(pid) --> 4711, "exited", 0]],

  set_name = [[
nsl.set_name("nsl-worker") --> true
io.open("/proc/self/comm"):read("l") --> "nsl-worker"]],

  set_winsize = [[
master, slave = nsl.openpty()
nsl.set_winsize(master, 40, 120) --> true
nsl.get_winsize(slave) --> 40, 120]],

  setdomainname = [[
nsl.unshare("uts") --> true
nsl.setdomainname("example.org") --> true]],

  setgroups = [[
nsl.setgroups({}) --> true
nsl.getgroups() --> {}]],

  sethostname = [[
nsl.unshare("uts") --> true
nsl.sethostname("box") --> true
nsl.gethostname() --> "box"]],

  setns = [[
nsl.setns("/proc/4711/ns/uts") --> true
pidfd = assert(nsl.pidfd_open(4711))
nsl.setns(pidfd, { "mnt", "net" }) --> true]],

  setpgid = [[
nsl.setpgid(0, 0) --> true]],

  setresgid = [[
nsl.setresgid(65534, 65534, 65534) --> true
nsl.getresgid() --> 65534, 65534, 65534]],

  setresuid = [[
nsl.setresuid(65534, 65534, 65534) --> true
nsl.getresuid() --> 65534, 65534, 65534]],

  setrlimit = [[
nsl.setrlimit("nofile", 1024, 4096) --> true
nsl.getrlimit("nofile") --> 1024, 4096]],

  setsid = [[
nsl.setsid() --> nil, "setsid: Operation not permitted", EPERM
pid = nsl.clone({}) if pid == 0 then nsl._exit(nsl.setsid() == nsl.getpid() and 0 or 1) end
nsl.wait(pid) --> 4711, "exited", 0]],

  signalfd = [[
nsl.sigprocmask("block", { "CHLD" }) --> true, {}
sfd = assert(nsl.signalfd({ "CHLD" }))
pid = nsl.clone({}) if pid == 0 then nsl._exit(0) end
nsl.read_signal(sfd) --> "CHLD", 4711]],

  sigprocmask = [[
nsl.sigprocmask("block", { "INT", "TERM" }) --> true, {}
nsl.sigprocmask("unblock", "all") --> true, { "INT", "TERM" }]],

  spawn = [[
pid = nsl.spawn("/bin/ls", { "ls", "/" }, nil, { sigmask = {} })
nsl.wait(pid) --> 4711, "exited", 0
nsl.spawn("/nonexistent", { "x" }) --> nil, "spawn '/nonexistent': No such file or directory", ENOENT]],

  stat = [[
nsl.stat("/etc/passwd").type --> "file"
nsl.stat("/dev/null").major, nsl.stat("/dev/null").minor --> 1, 3]],

  strerror = [[
nsl.strerror(nsl.errno.EACCES) --> "Permission denied"]],

  strsignal = [[
nsl.strsignal(31) --> "Bad system call"
nsl.strsignal("KILL") --> "Killed"]],

  symlink = [[
nsl.symlink("/proc/self/fd", "/tmp/box/dev/fd") --> true
nsl.readlink("/tmp/box/dev/fd") --> "/proc/self/fd"]],

  tcgetpgrp = [[
nsl.tcgetpgrp(0) --> 4711]],

  tcsetpgrp = [[
nsl.sigprocmask("block", { "TTOU" }) --> true, {}
nsl.tcsetpgrp(0, nsl.getpgrp()) --> true]],

  tty_raw = [[
master, slave = nsl.openpty()
saved = nsl.tty_raw(slave)
nsl.tty_restore(slave, saved) --> true]],

  tty_restore = [[
saved = nsl.tty_raw(0)
nsl.tty_restore(0, saved) --> true]],

  ttyname = [[
master, slave, path = nsl.openpty()
nsl.ttyname(slave) == path --> true
nsl.ttyname(0) --> "/dev/pts/0"]],

  umask = [[
string.format("%04o", nsl.umask("0077")) --> "0022"]],

  umount = [[
nsl.mkdir("/tmp/x"); nsl.mount("tmpfs", "/tmp/x", "tmpfs")
nsl.umount("/tmp/x") --> true
nsl.umount("/tmp/x", "detach") --> nil, "umount '/tmp/x' (flags 'detach'): Invalid argument", EINVAL]],

  unix_connect = [[
srv = assert(nsl.unix_listen("/tmp/demo.sock"))
cli = assert(nsl.unix_connect("/tmp/demo.sock"))
nsl.unix_connect("/tmp/none.sock") --> nil, "connect '/tmp/none.sock': No such file or directory", ENOENT]],

  unix_dgram = [[
srv = assert(nsl.unix_dgram("/tmp/notify.sock", "nonblock"))
nsl.read(srv, 4096) --> nil, "read 5: Resource temporarily unavailable", EAGAIN
nsl.unix_dgram("/tmp/notify.sock") --> nil, "bind '/tmp/notify.sock': Address already in use", EADDRINUSE]],

  unix_listen = [[
srv = assert(nsl.unix_listen("/tmp/demo.sock"))
srv --> fd 5
nsl.unix_listen("/tmp/demo.sock") --> nil, "listen '/tmp/demo.sock': Address already in use", EADDRINUSE]],

  unlink = [[
nsl.symlink("/etc/passwd", "/tmp/out") --> true
nsl.unlink("/tmp/out") --> true
nsl.unlink("/tmp/out") --> nil, "unlink '/tmp/out': No such file or directory", ENOENT]],

  unshare = [[
nsl.unshare({ "mnt", "uts" }) --> true
nsl.mount(nil, "/", nil, "rec private") --> true]],

  wait = [[
pid = nsl.clone({}) if pid == 0 then nsl._exit(7) end
nsl.wait(pid) --> 4711, "exited", 7]],

  write = [[
r, w = nsl.pipe()
nsl.write(w, "hello") --> 5
nsl.read(r) --> "hello"]],

  -- the core's tables
  errno = [[
nsl.errno.EEXIST --> 17
nsl.errno[17] --> "EEXIST"]],

  signals = [[
nsl.signals.TERM --> 15
nsl.signals[9] --> "KILL"]],

  ---------------------------------------------------------------------------
  -- fd objects (nsl.open, nsl.pipe, nsl.dup ...)

  ["fd:chmod"] = [[
master, slave = nsl.openpty()
slave:chmod("0620") --> true]],

  ["fd:chown"] = [[
master, slave = nsl.openpty()
slave:chown(nil, 5) --> true]],

  ["fd:close"] = [[
r, w = nsl.pipe()
w:close() --> true
w --> fd (closed)]],

  ["fd:fileno"] = [[
f = assert(nsl.open("/etc/hostname"))
f:fileno() --> 5]],

  ["fd:read"] = [[
f = assert(nsl.open("/proc/sys/kernel/ostype"))
f:read(3) --> "Lin"
f:read() --> "ux\n"]],

  ["fd:release"] = [[
f = assert(nsl.open("/dev/null"))
n = f:release()
f --> fd (closed)
nsl.close(n) --> true]],

  ["fd:write"] = [[
r, w = nsl.pipe()
w:write("hello") --> 5
r:read() --> "hello"]],

  ---------------------------------------------------------------------------
  -- root handles (nsl.root_open): every path resolves inside the root

  ["root:bind_on"] = [[
root = assert(nsl.root_open("/tmp/box"))
root:touch("/etc/resolv.conf") --> true
root:bind_on("/etc/resolv.conf", "/etc/resolv.conf", "rdonly") --> true]],

  ["root:chmod"] = [[
root = assert(nsl.root_open("/tmp/box"))
root:chmod("/tmp", "1777") --> true]],

  ["root:chown"] = [[
root = assert(nsl.root_open("/tmp/box"))
root:chown("/home/app", 1000, 1000) --> true]],

  ["root:close"] = [[
root = assert(nsl.root_open("/tmp/box"))
root:close() --> true
root --> nsl.root '/tmp/box' (closed)]],

  ["root:fd"] = [[
root = assert(nsl.root_open("/tmp/box"))
root:fd() --> 7
nsl.chdir(root:fd()) --> true]],

  ["root:lchown"] = [[
root = assert(nsl.root_open("/tmp/box"))
root:lchown("/bin/sh", 0, 0) --> true]],

  ["root:lstat"] = [[
root = assert(nsl.root_open("/tmp/box"))
root:lstat("/bin/sh").type --> "link"
root:stat("/bin/sh").type --> "file"]],

  ["root:mkdir_all"] = [[
root = assert(nsl.root_open("/tmp/box"))
root:mkdir_all("/var/lib/app", "0750") --> true]],

  ["root:mknod"] = [[
root = assert(nsl.root_open("/tmp/box"))
root:mknod("/dev/null", "char", "0666", 1, 3) --> true]],

  ["root:mount_on"] = [[
nsl.unshare("mnt"); nsl.mount(nil, "/", nil, "rec private"); nsl.mount("/tmp/box", "/tmp/box", nil, "rbind")
root = assert(nsl.root_open("/tmp/box"))
root:mount_on("/proc", "proc", "proc", "nosuid nodev noexec") --> true
root:mount_on("/tmp", "tmpfs", "tmpfs", "nosuid nodev", "mode=1777") --> true]],

  ["root:open"] = [[
root = assert(nsl.root_open("/tmp/box"))
f = assert(root:open("/etc/hostname"))
f:read() --> "busybox\n"]],

  ["root:owns"] = [[
root = assert(nsl.root_open("/tmp/box")); root:bind_on("/mnt", "/srv/data")
root:owns("/mnt") --> false
root:touch("/mnt/new") --> nil, "touch '/mnt/new' in root '/tmp/box': not on a filesystem made for the container (nsl never writes through a host path bound in)", EXDEV
root:mount_on("/dev", "tmpfs", "tmpfs") and root:owns("/dev") --> true]],

  ["root:path"] = [[
root = assert(nsl.root_open("/tmp/box"))
root:path() --> "/tmp/box"]],

  ["root:readlink"] = [[
root = assert(nsl.root_open("/tmp/box"))
root:readlink("/bin/sh") --> "../bin/busybox"]],

  ["root:remount"] = [[
nsl.unshare("mnt"); nsl.mount(nil, "/", nil, "rec private"); nsl.mount("/tmp/box", "/tmp/box", nil, "rbind")
root = assert(nsl.root_open("/tmp/box"))
root:remount("/", "rdonly") --> true
root:remount("/", nil, "rdonly") --> true]],

  ["root:stat"] = [[
root = assert(nsl.root_open("/tmp/box"))
root:stat("/etc/passwd").type --> "file"
root:stat("/../../etc/shadow") --> nil, "stat '/../../etc/shadow' in root '/tmp/box': No such file or directory", ENOENT]],

  ["root:subroot"] = [[
root = assert(nsl.root_open("/tmp/box"))
dev = assert(root:subroot("/dev"))
dev:mknod("null", "char", "0666", 1, 3) --> true]],

  ["root:symlink"] = [[
root = assert(nsl.root_open("/tmp/box"))
root:symlink("/proc/self/fd", "/dev/fd") --> true]],

  ["root:touch"] = [[
root = assert(nsl.root_open("/tmp/box"))
root:touch("/dev/console") --> true]],

  ["root:unlink"] = [[
root = assert(nsl.root_open("/tmp/box"))
root:symlink("pts/ptmx", "/dev/ptmx") --> true
root:unlink("/dev/ptmx") --> true
root:unlink("/dev") --> nil, "unlink '/dev' in root '/tmp/box': Is a directory", EISDIR]],

  ---------------------------------------------------------------------------
  -- seccomp filters (nsl.seccomp_init): the seccomp_* functions as methods

  ["netns_job:enter"] = [[
pid = nsl.clone({}) if pid == 0 then job = nsl.netns_prepare() end
if pid == 0 then print(job:enter(), nsl.readlink("/proc/self/ns/net")) nsl._exit(0) end
nsl.wait(pid) --> 4711, "exited", 0]],

  ["netns_job:close"] = [[
job = nsl.netns_prepare()
job:close()]],

  ["filter:arch_add"] = [[
f = nsl.seccomp_init("allow")
f:arch_add("x86") --> true]],

  ["filter:arch_remove"] = [[
f = nsl.seccomp_init("allow")
f:arch_add("x86") --> true
f:arch_remove("x86") --> true]],

  ["filter:attr_set"] = [[
f = nsl.seccomp_init("allow")
f:attr_set("ctl_optimize", 2) --> true]],

  ["filter:export_bpf"] = [[
f = nsl.seccomp_init("allow")
f:rule_add("errno EPERM", "mkdir") --> true
#f:export_bpf() % 8 --> 0]],

  ["filter:export_pfc"] = [[
f = nsl.seccomp_init("allow")
f:rule_add("errno EPERM", "mkdir") --> true
print(f:export_pfc())]],

  ["filter:load"] = [[
f = nsl.seccomp_init("allow"); f:rule_add("errno EPERM", "mkdir")
pid = nsl.clone({}) if pid == 0 then f:load() nsl._exit(select(3, nsl.mkdir("/tmp/y")) or 0) end
nsl.wait(pid) --> 4711, "exited", 1]],

  ["filter:release"] = [[
f = nsl.seccomp_init("allow")
f:release() --> true
f --> seccomp filter (released)]],

  ["filter:rule_add"] = [[
f = nsl.seccomp_init("allow")
f:rule_add("errno EACCES", "mkdir") --> true
f:rule_add("kill", "ptrace") --> true]],

  ---------------------------------------------------------------------------
  -- nsl.container

  ["container.check"] = [[
nsl.container.check("volumes", nsl.mkdir("/tmp")) --> error: setup step 'volumes': mkdir '/tmp': File exists (EEXIST)
pcall(nsl.container.check, "volumes", nsl.mkdir("/nonexistent/x")) --> false, "setup step 'volumes': mkdir '/nonexistent/x': No such file or directory (ENOENT)"]],

  ["container.child"] = [[
c = nsl.container.config{ rootfs = "/tmp/box", command = { "/bin/true" }, tty = false }
r, w = nsl.pipe(); pid = nsl.userns.clone(c.namespaces) if pid == 0 then r:close() nsl.container.child(c, w) end
w:close(); report = r:read()
report, nsl.wait(pid) --> "", 4711, "exited", 0]],

  ["container.config"] = [[
c = nsl.container.config{ rootfs = "/tmp/box", hostname = "box" }
c.command, c.cwd --> { "/bin/sh" }, "/"
c.steps[1], c.env.HOSTNAME --> "propagation", "box"]],

  ["container.explain"] = [[
nsl.container.explain(select(2, nsl.mkdir("/etc"))) --> "mkdir '/etc': File exists (EEXIST)"]],

  ["container.find_command"] = [[
nsl.container.find_command({ rootfs = "/", env = { PATH = "/usr/bin:/bin" } }, "ls") --> "/usr/bin/ls"
nsl.container.find_command({ rootfs = "/tmp/box", env = { PATH = "/bin" } }, "nope") --> nil, 127, "command not found: nope in rootfs /tmp/box (PATH /bin)"]],

  ["container.exit"] = [[
nsl.container.exit{ rootfs = "/tmp/box", command = { "/bin/true" } }]],

  ["container.join_network"] = [[
c = nsl.container.config{ rootfs = "/tmp/box" }
c.steps = { function(c) nsl.container.join_network(c) end, "propagation", "bind_rootfs" }]],

  ["container.main"] = [[
os.exit(nsl.container.main{ rootfs = "/tmp/box", command = { "/bin/sh" } })]],

  ["container.mount_options"] = [[
nsl.container.mount_options("/proc") --> "rw,nosuid,nodev,noexec,relatime"]],

  ["container.root_of"] = [[
c = nsl.container.config{ rootfs = "/tmp/box" }
nsl.container.root_of(c) --> nsl.root '/tmp/box' (fd 7)]],

  ["container.tree_key"] = [[
nsl.container.tree_key("/srv/data", "rbind rdonly") --> "rbind /srv/data"]],

  ["container.run"] = [[
nsl.container.run{ rootfs = "/tmp/box", command = { "/bin/echo", "hi" } } --> 0, nil
nsl.container.run{ rootfs = "/tmp/box", command = { "/bin/nope" } } --> 127, "command not found: /bin/nope in rootfs /tmp/box"]],

  ["container.spawn"] = [[
pid, master = nsl.container.spawn{ rootfs = "/tmp/box", command = { "/bin/sleep", "2" }, tty = false }
nsl.container.wait(pid, master) --> 0]],

  ["container.wait"] = [[
pid, master = nsl.container.spawn{ rootfs = "/tmp/box", command = { "/bin/sh", "-c", "exit 3" } }
nsl.container.wait(pid, master) --> 3]],

  ---------------------------------------------------------------------------
  -- nsl.process

  ["process.child"] = [[
r, w = assert(nsl.pipe())
pid = nsl.clone({}) if pid == 0 then nsl.process.child(w, function() error("boom", 0) end) end
w:close()
nsl.process.report(r) --> 125, "boom" (and the child exited with 125)]],

  ["process.last_word"] = [[
pid = nsl.clone({})
if pid == 0 then nsl.process.last_word(125, "startContainer hook failed") end -- on its stderr
nsl.wait(pid) --> 4711, "exited", 125]],

  ["process.close_on_exec"] = [[
local pid = nsl.clone({})   -- in a child: the fds it would pass on an exec
if pid == 0 then nsl.process.close_on_exec({ 5 }); nsl.exec("/bin/ls", { "ls", "/proc/self/fd" }) end
nsl.wait(pid) --> 4711, "exited", 0]],

  ["process.die"] = [[
r, w = assert(nsl.pipe())
pid = nsl.clone({}) if pid == 0 then nsl.process.die(w, 127, "not found") end
w:close()
nsl.process.report(r) --> 127, "not found"]],

  ["process.exit_code"] = [[
nsl.process.exit_code("exited", 3) --> 3
nsl.process.exit_code("killed", 9) --> 137]],

  ["process.join"] = [[
pid = nsl.clone({}) if pid == 0 then nsl.process.child(nil, function() assert(nsl.process.join(1)) end) end
nsl.wait(pid) --> 4711, "exited", 0]],

  ["process.report"] = [[
r, w = assert(nsl.pipe())
w:close()
nsl.process.report(r) --> nil (EOF: the child executed)]],

  ["process.run"] = [[
nsl.process.run({ "sh", "-c", "exit 3" }, { PATH = "/bin" }) --> "exited", 3
nsl.process.run({ "nope" }, { PATH = "/bin" }) --> "exited", 127, "execp 'nope': No such file or directory"]],

  ["process.start_time"] = [[
nsl.process.start_time(nsl.getpid()) --> "123456", "R"]],

  ["process.wait"] = [[
pid, master = nsl.container.spawn{ rootfs = "/tmp/box", command = { "/bin/sh", "-c", "exit 3" } }
nsl.process.wait(pid, master) --> 3]],

  ["process.watched_signals"] = [[
nsl.process.watched_signals() --> { "HUP", "INT", "QUIT", "TERM", "USR1", "USR2", "WINCH", "CONT", "CHLD" }]],

  ---------------------------------------------------------------------------
  -- nsl.errors

  ["errors.check"] = [[
nsl.errors.check("volumes", nsl.mkdir("/tmp")) --> error: setup step 'volumes': mkdir '/tmp': File exists (EEXIST)]],

  ["errors.explain"] = [[
nsl.errors.explain(select(2, nsl.mkdir("/etc"))) --> "mkdir '/etc': File exists (EEXIST)"]],

  ["errors.raise"] = [[
pcall(nsl.errors.raise, "bad id '%s'", "x/y") --> false, "bad id 'x/y'"]],

  ["errors.step"] = [[
nsl.errors.step("workdir", select(2, nsl.mkdir("/etc"))) --> "setup step 'workdir': mkdir '/etc': File exists (EEXIST)"]],

  ---------------------------------------------------------------------------
  -- nsl.util

  ["util.contains"] = [[
nsl.util.contains({ "mnt", "pid" }, "pid") --> true]],

  ["util.copy"] = [[
nsl.util.copy({ a = { 1, 2 } }) --> { a = { 1, 2 } } (a new table, all the way down)]],

  ["util.has_word"] = [[
nsl.util.has_word("nosuid nodev,noexec", "nodev") --> true]],

  ["util.load_record"] = [[
nsl.util.load_record("/run/user/0/nsl/box") --> { name = "box", pid = 4711, start = "123456", ... }]],

  ["util.mkdir_all"] = [[
nsl.util.mkdir_all("/tmp/demo/a/b") --> true]],

  ["util.quote"] = [[
nsl.util.quote("it's") --> "'it'\\''s'"]],

  ["util.read_fd"] = [[
r, w = nsl.pipe(); w:write("hi"); w:close()
nsl.util.read_fd(r) --> "hi"]],

  ["util.read_file"] = [[
nsl.util.read_file("/proc/sys/kernel/ostype") --> "Linux\n"]],

  ["util.write_atomic"] = [[
nsl.util.write_atomic("/tmp/demo.txt", "whole or not at all\n") --> true]],

  ["util.write_once"] = [[
nsl.util.write_once("/proc/self/oom_score_adj", 100) --> true]],

  ---------------------------------------------------------------------------
  -- nsl.oci.common and nsl.net.common: what the parts of nsl.oci and nsl.net share

  ["oci.common.abs"] = [[
require("nsl.oci.common").abs("rootfs", "/srv/bundle") --> "/srv/bundle/rootfs"]],

  ["oci.common.fail"] = [[
pcall(require("nsl.oci.common").fail, "container %s does not exist", "box") --> false, "container box does not exist"]],

  ["oci.common.nested_userns"] = [[
require("nsl.oci.common").nested_userns() --> false (as real root on the host)]],

  ["oci.common.now_rfc3339"] = [[
require("nsl.oci.common").now_rfc3339() --> "2026-12-07T01:02:03.000000000Z"]],

  ["oci.common.object"] = [[
require("nsl.oci.common").json.encode(require("nsl.oci.common").object()) --> "{}"]],

  ["oci.common.proc_stat"] = [[
require("nsl.oci.common").proc_stat(nsl.getpid()) --> "123456", "R"]],

  ["oci.common.read_all"] = [[
require("nsl.oci.common").read_all("/proc/sys/kernel/ostype") --> "Linux\n"]],

  ["oci.common.sleep_ms"] = [[
require("nsl.oci.common").sleep_ms(10)]],

  ["oci.common.val"] = [[
common = require("nsl.oci.common")
common.val(common.json.null) --> nil
common.val(3) --> 3]],

  ["oci.common.write_atomic"] = [[
require("nsl.oci.common").write_atomic("/tmp/demo.json", "{}")]],

  ["net.common.ipv4"] = [[
require("nsl.net.common").ipv4("10.88.0.1") --> 173539329]],

  ["net.common.json"] = [[
require("nsl.net.common").json().decode("[1]") --> { 1 }]],

  ["net.common.overlaps"] = [[
require("nsl.net.common").overlaps("10.88.0.0/16", "10.88.3.0/24") --> true]],

  ["net.common.prefix"] = [[
require("nsl.net.common").prefix("10.88.3.7/16") --> 173539328, 16]],

  ["net.common.program"] = [[
require("nsl.net.common").program("sh") --> "/usr/bin/sh"]],

  ["net.common.run"] = [[
require("nsl.net.common").run("echo hi") --> "hi\n", true]],

  ---------------------------------------------------------------------------
  -- nsl.identity

  ["identity.cap_name"] = [[
nsl.identity.cap_name("cap_sys_admin") --> "SYS_ADMIN"
nsl.identity.cap_name("nope") --> nil, "unknown capability 'nope'"]],

  ["identity.check_id"] = [[
nsl.identity.check_id(1000, "uid") --> 1000
nsl.identity.check_id(-1, "uid") --> nil, "uid -1 out of range 0..4294967294"]],

  ["identity.config"] = [[
c = nsl.identity.config({ env = {} }, {})
#c.capabilities, c.no_new_privs --> 14, true
c.user --> { gid = 0, groups = {}, uid = 0 }]],

  ["identity.parse_rlimit"] = [[
nsl.identity.parse_rlimit("nofile=1024:4096") --> "nofile", { 1024, 4096 }
nsl.identity.parse_rlimit("core=unlimited") --> "core", { "unlimited", "unlimited" }]],

  ["identity.parse_user"] = [[
nsl.identity.parse_user("1000:100") --> { gid = 100, groups = {}, uid = 1000 }
nsl.identity.parse_user("nobody") --> { groups = {}, uid = "nobody" }]],

  ["identity.with_capabilities"] = [[
nsl.identity.with_capabilities({ "CHOWN", "KILL" }, { "net_admin" }, { "kill" }) --> { "CHOWN", "NET_ADMIN" }]],

  ---------------------------------------------------------------------------
  -- nsl.userns

  ["userns.clone"] = [[
u, g = nsl.userns.self_maps()
pid = nsl.userns.clone({ "user", "mnt" }, { uid = u, gid = g }) if pid == 0 then nsl._exit(nsl.getuid()) end
nsl.wait(pid) --> 4711, "exited", 0]],

  ["userns.default_maps"] = [[
-- as uid 1000, given "user:100000:65536" in /etc/subuid and /etc/subgid
nsl.userns.default_maps() --> { { 0, 1000, 1 }, { 1, 100000, 65536 } }, { { 0, 1000, 1 }, { 1, 100000, 65536 } }]],

  ["userns.format_map"] = [[
nsl.userns.format_map({ { 0, 1000, 1 }, { 1, 100000, 65536 } }) --> "0 1000 1\n1 100000 65536\n"]],

  ["userns.helper"] = [[
nsl.userns.helper("uid") --> "/usr/bin/newuidmap"]],

  ["userns.map_text"] = [[
nsl.userns.map_text({ { 0, 1000, 1 }, { 1, 100000, 65536 } }) --> "0:1000:1,1:100000:65536"]],

  ["userns.initial"] = [[
nsl.userns.initial() --> true (false in a container's user namespace)]],

  ["userns.maps"] = [[
nsl.userns.maps({ { 0, 1000, 1 } }, 0) --> true
nsl.userns.maps({ { 0, 1000, 1 } }, 5) --> false]],

  ["userns.parse_map"] = [[
nsl.userns.parse_map("0:1000:1,1:100000:65536") --> { { 0, 1000, 1 }, { 1, 100000, 65536 } }]],

  ["userns.self_maps"] = [[
-- as uid 1000 (gid 1000)
nsl.userns.self_maps() --> { { 0, 1000, 1 } }, { { 0, 1000, 1 } }]],

  ["userns.subordinate_ranges"] = [[
-- as a user given "user:100000:65536" in /etc/subuid
nsl.userns.subordinate_ranges("uid") --> { { 100000, 65536 } }]],

  ["userns.user_name"] = [[
nsl.userns.user_name(0) --> "root"]],

  ["userns.write_maps"] = [[
pid = nsl.clone({ "user" }) if pid == 0 then nsl.poll({}, 1000) nsl._exit(0) end
nsl.userns.write_maps(pid, { { 0, 1000, 1 } }, { { 0, 1000, 1 } }) --> true
nsl.wait(pid) --> 4711, "exited", 0]],

  ---------------------------------------------------------------------------
  -- nsl.rootfs

  ["image.cache_dir"] = [[
nsl.image.cache_dir() --> "/root/.cache/nsl/images"]],

  ["image.check_ref"] = [[
nsl.image.check_ref("oci:/srv/layout:12") --> "oci"
nsl.image.check_ref("debian") --> nil, "image 'debian': want TRANSPORT:NAME with a transport of oci, oci-archive, docker-archive, containers-storage, dir, docker (containers-storage:debian for podman's store)"]],

  ["image.config"] = [[
img = nsl.image.pull("oci:/srv/layout:12")
c = nsl.image.config(img, { args = { "cat", "/etc/os-release" }, env = { LANG = "C.UTF-8" } })
c.command --> { "cat", "/etc/os-release" }
nsl.container.main(c) --> 0]],

  ["image.digest"] = [[
nsl.image.digest("oci:/srv/layout:12") --> "sha256:9b2a0c..."]],

  ["image.pull"] = [[
img = nsl.image.pull("oci:/srv/layout:12", { progress = print })
-- prints: unpacking oci:/srv/layout:12 (sha256:9b2a0c4d1e5) into /root/.cache/nsl/images/sha256-9b2a...
img.rootfs, img.cached, img.config.Cmd --> "/root/.cache/nsl/images/sha256-9b2a.../rootfs", false, { "bash" }]],

  ["image.subids_missing"] = [[
nsl.image.subids_missing("podman's store") --> nil (root, or a user with /etc/subuid ranges)]],

  ["rootfs.busybox"] = [[
nsl.rootfs.busybox("/tmp/box") --> "/tmp/box"
nsl.readlink("/tmp/box/bin/sh") --> "../bin/busybox"]],

  ["rootfs.runtime_dir"] = [[
nsl.rootfs.runtime_dir() --> "/run/user/0/nsl"]],

  ["rootfs.cache_dir"] = [[
nsl.rootfs.cache_dir() --> "/root/.cache/nsl"]],

  ["rootfs.check"] = [[
nsl.rootfs.check("/") --> true
nsl.rootfs.check("/etc/passwd") --> nil, "rootfs '/etc/passwd' is a file, not a directory"]],

  ["rootfs.mkdir_all"] = [[
nsl.rootfs.mkdir_all("/tmp/box/var/lib/app") --> true]],

  ["rootfs.unpack"] = [[
nsl.rootfs.unpack("rootfs.tar", "/tmp/alpine") --> "/tmp/alpine", {}
nsl.rootfs.unpack("debian.tar", "/tmp/debian") --> "/tmp/debian", { "./dev/null", "./dev/zero" } (an ordinary user: no mknod)]],

  ---------------------------------------------------------------------------
  -- nsl.inspect (mountinfo, mount_diff and namespaces are nsl's fields too)

  ["inspect.find_mount"] = [[
nsl.inspect.find_mount(nsl.mountinfo(), "/proc").fstype --> "proc"]],

  ["inspect.format_diff"] = [[
before = nsl.mountinfo()
nsl.unshare("mnt"); nsl.mount(nil, "/", nil, "rec private"); nsl.mount("tmpfs", "/mnt", "tmpfs")
print(nsl.inspect.format_diff(nsl.mount_diff(before, nsl.mountinfo())))]],

  ["inspect.format_mounts"] = [[
print(nsl.inspect.format_mounts(nsl.mountinfo()))]],

  ["inspect.mount_diff"] = [[
before = nsl.mountinfo()
nsl.unshare("mnt"); nsl.mount(nil, "/", nil, "rec private"); nsl.mount("tmpfs", "/mnt", "tmpfs")
diff = nsl.mount_diff(before, nsl.mountinfo())
diff.added[1].target, #diff.removed --> "/mnt", 0]],

  ["inspect.mountinfo"] = [[
root = nsl.inspect.find_mount(nsl.mountinfo(), "/")
root.target, root.parent ~= root.id --> "/", true
nsl.inspect.mountinfo(99999999) --> nil, "/proc/99999999/mountinfo: No such file or directory"]],

  ["inspect.namespaces"] = [[
nsl.namespaces().mnt --> 4026531841]],

  ["inspect.parse_mountinfo_line"] = [[
m = nsl.inspect.parse_mountinfo_line("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue")
m.target, m.fstype, m.propagation, m.master --> "/mnt2", "ext3", "slave", 1]],

  ---------------------------------------------------------------------------
  -- nsl.lab: nsl.lab.new's container, built one step at a time

  ["lab.new"] = [[
c = require("nsl.lab").new{ rootfs = "/tmp/box" }
c:pending()[1] --> "propagation"]],

  ["lab:destroy"] = [[
c = nsl.lab.new{ rootfs = "/tmp/box" }
c:finish() --> true
c:destroy()]],

  ["lab:finish"] = [[
c = nsl.lab.new{ rootfs = "/tmp/box" }
c:finish() --> true
c:sh("hostname") --> "exited", 0]],

  ["lab:ls"] = [[
c = nsl.lab.new{ rootfs = "/tmp/box" }
c:ls("/etc") --> { "group", "hostname", "passwd" }]],

  ["lab:mounts"] = [[
c = nsl.lab.new{ rootfs = "/tmp/box" }
c:step(); c:step(); c:step(); c:step() -- through mount_system
nsl.inspect.find_mount(c:mounts(), "/tmp/box/proc").fstype --> "proc"]],

  ["lab:pending"] = [[
c = nsl.lab.new{ rootfs = "/tmp/box" }
c:step() --> "propagation", true
c:pending()[1] --> "bind_rootfs"]],

  ["lab:run"] = [[
c = nsl.lab.new{ rootfs = "/tmp/box" }
c:finish() --> true
c:run({ "/bin/ls", "/" }) --> "exited", 0]],

  ["lab:sh"] = [[
c = nsl.lab.new{ rootfs = "/tmp/box" }
c:finish() --> true
c:sh("mount; exit 3") --> "exited", 3]],

  ["lab:start"] = [[
c = nsl.lab.new{ rootfs = "/tmp/box" }
c:start() --> 4711]],

  ["lab:step"] = [[
c = nsl.lab.new{ rootfs = "/tmp/box" }
c:step() --> "propagation", true
c:step() --> "bind_rootfs", true
-- after a step that failed: c:step() raises, c:step{ force = true } goes on]],

  ---------------------------------------------------------------------------
  -- nsl.running (`nsl ps`, `nsl enter`)

  ["running.dir"] = [[
require("nsl.running").dir() --> "/run/user/1000/nsl"]],

  ["running.enter"] = [[
require("nsl.running").enter("web", { "/bin/ps" }) --> 0]],

  ["running.find"] = [[
require("nsl.running").find("web").pid --> 4711
require("nsl.running").find("nope") --> nil, "no running container 'nope' ('nsl ps' lists them)"]],

  ["running.forget"] = [[
require("nsl.running").forget("web", 4711)]],

  ["running.list"] = [[
for _, r in ipairs(require("nsl.running").list()) do print(r.name, r.pid, r.command) end]],

  ["running.ps"] = [[
require("nsl.running").ps()]],

  ["running.reserve"] = [[
c = nsl.container.config{ rootfs = "/tmp/box", name = "web" }
require("nsl.running").reserve(c) --> true
require("nsl.running").reserve(c) --> error: a container named 'web' is starting already]],

  ["running.start_time"] = [[
require("nsl.running").start_time(nsl.getpid()) --> "1234567"]],

  ["running.record"] = [[
c = nsl.container.config{ rootfs = "/tmp/box", name = "web", command = { "/bin/httpd", "-f" } }
require("nsl.running").record(c, 4711) --> true]],

  ---------------------------------------------------------------------------
  -- nsl.trace (the REPL's trace(true) and trace(false))

  ["trace.disable"] = [[
require("nsl.trace").disable()
require("nsl.trace").enabled() --> false]],

  ["trace.enable"] = [[
require("nsl.trace").enable()
nsl.getuid() -- stderr: [4711] getuid() = 0 <0.001 ms>]],

  ["trace.enabled"] = [[
require("nsl.trace").enabled() --> false]],

  ---------------------------------------------------------------------------
  -- nsl.doctor

  ["doctor.run"] = [[
nsl.doctor.run() --> 0]],

  ---------------------------------------------------------------------------
  -- nsl.seccomp: policies as tables

  ["seccomp.bpf"] = [[
bpf, path = nsl.seccomp.bpf("default")
#bpf % 8, path:match("%.bpf$") --> 0, ".bpf"]],

  ["seccomp.cache_dir"] = [[
nsl.seccomp.cache_dir() --> "/root/.cache/nsl/seccomp"]],

  ["seccomp.check"] = [[
p = nsl.seccomp.check{ default = "errno EPERM", allow = { "write", "read" } }
p.default, p.allow --> "errno 1", { "read", "write" }]],

  ["seccomp.compile"] = [[
f = nsl.seccomp.compile{ default = "allow", rules = { { "mkdir", action = "errno EACCES" } } }
print(f:export_pfc())]],

  ["seccomp.enosys_stub"] = [[
p = { newer_enosys = true, allow = { "read", "write", "execve", "brk", "mmap", "munmap", "exit_group" } }
f = nsl.seccomp.compile(p)
#nsl.seccomp.enosys_stub(nsl.seccomp.check(p), f:export_bpf()) // 8 --> 10]],

  ["seccomp.key"] = [[
nsl.seccomp.key{ allow = { "read" } } --> "81c4c642b03db01e"]],

  ["seccomp.last_syscalls"] = [[
p = { allow = { "read", "write", "exit_group" }, arches = { "x86" } }
f = nsl.seccomp.compile(p)
nsl.seccomp.last_syscalls(nsl.seccomp.check(p), f:export_bpf()) --> { x86_64 = 231, x86 = 252 }]],

  ["seccomp.load"] = [[
bpf = nsl.seccomp.bpf{ default = "allow", rules = { { "mkdir", action = "errno EACCES" } } }
pid = nsl.clone({}) if pid == 0 then nsl.seccomp.load(bpf) nsl._exit(select(3, nsl.mkdir("/tmp/y")) or 0) end
nsl.wait(pid) --> 4711, "exited", 13]],

  ["seccomp.policy"] = [[
nsl.seccomp.policy("unconfined") --> nil
nsl.seccomp.policy("default").default --> "errno EPERM"]],

  ["seccomp.prepare"] = [[
c = nsl.seccomp.prepare{ seccomp = "default" }
#c.seccomp_bpf % 8 --> 0]],

  ["seccomp.program"] = [[
p = { newer_enosys = true, allow = { "read", "write", "execve", "brk", "mmap", "munmap", "exit_group" } }
#nsl.seccomp.program(p) // 8 --> 25 -- the stub's 10, then libseccomp's]],

  ["seccomp.step"] = [[
c = nsl.seccomp.prepare{ seccomp = "default" }
pid = nsl.clone({}) if pid == 0 then nsl.seccomp.step(c) nsl._exit(nsl.unshare("user") and 0 or 1) end
nsl.wait(pid) --> 4711, "exited", 1]],

  ---------------------------------------------------------------------------
  -- nsl.devbpf

  ["devbpf.attach"] = [[
nsl.devbpf.attach("/sys/fs/cgroup/box", { { allow = false, type = "a" }, { allow = true, type = "c", major = 1, minor = 3 } }) --> true
prog = assert(nsl.devbpf.load{ { allow = false, type = "c", major = 1, minor = 5 } })
nsl.devbpf.attach("/sys/fs/cgroup/box/inner", prog) --> true]],

  ["devbpf.replace"] = [[
nsl.devbpf.replace("/sys/fs/cgroup/box", { { allow = false, type = "c", major = 1, minor = 5 } }) --> true]],

  ["devbpf.load"] = [[
nsl.devbpf.load{ { allow = false, type = "a" }, { allow = true, type = "c", major = 1, minor = 3, access = "rw" } } --> fd 7]],

  ["devbpf.program"] = [[
#nsl.devbpf.program{ { allow = false, type = "c", major = 1, minor = 5 } } // 8 --> 14]],

  ["devbpf.rule"] = [[
nsl.devbpf.rule("c 1:3 rwm", true) --> { access = "rwm", allow = true, major = 1, minor = 3, type = "c" }]],

  ---------------------------------------------------------------------------
  -- nsl.cgroup

  ["cgroup.any"] = [[
nsl.cgroup.any({}) --> false
nsl.cgroup.any(nsl.cgroup.limits{ pids = 20 }) --> true]],

  ["cgroup.check_path"] = [[
nsl.cgroup.check_path("nsl/box") -- nothing: a good path
nsl.cgroup.check_path("nsl/../x") --> error: bad cgroup path 'nsl/../x': no '.' or '..' components]],

  ["cgroup.create"] = [[
cg = assert(nsl.cgroup.create("nsl/box", { memory = "64m", pids = 20 }))
cg:read("pids.max") --> "20"]],

  ["cgroup.files"] = [[
nsl.cgroup.files(2, nsl.cgroup.limits{ pids = 20, cpus = 0.5 }) --> { { "unified", "pids.max", 20 }, { "unified", "cpu.max", "50000 100000" } }]],

  ["cgroup.for_container"] = [[
cg = nsl.cgroup.for_container({ hostname = "box", resources = { pids = 20 } }, true)
cg.path --> "nsl/box-4711"]],

  ["cgroup.from"] = [[
cg = assert(nsl.cgroup.create("nsl/box", { pids = 20 })); cg:add(4711)
saved = cg:save()
nsl.cgroup.from(saved):procs() --> { 4711 }]],

  ["cgroup.hierarchies"] = [[
nsl.cgroup.hierarchies().version --> 2
nsl.cgroup.hierarchies().unified.mount --> "/sys/fs/cgroup"]],

  ["cgroup.limits"] = [[
nsl.cgroup.limits{ memory = "64m", cpus = 0.5 } --> { cpu_period = 100000, cpu_quota = 50000, memory = 67108864 }]],

  ["cgroup.notice"] = [[
nsl.cgroup.notice("mkdir /sys/fs/cgroup/nsl: Permission denied") -- says it on stderr, once]],

  ["cgroup.open"] = [[
cg = assert(nsl.cgroup.open("nsl/box"))
cg.dirs --> { unified = "/sys/fs/cgroup/user.slice/nsl/box" }]],

  ["cgroup.parse_size"] = [[
nsl.cgroup.parse_size("64m") --> 67108864
nsl.cgroup.parse_size("max") --> -1]],

  ["cgroup.reclaim"] = [[
-- after an nsl with --memory was killed (kill -9) before it removed its cgroup
nsl.cgroup.reclaim() --> 1]],

  ["cgroup.write_file"] = [[
nsl.cgroup.write_file("/sys/fs/cgroup/nsl/box/pids.max", 20) --> true]],

  ["cgroup:add"] = [[
cg = assert(nsl.cgroup.create("nsl/box", { pids = 20 }))
cg:add(4711) --> true]],

  ["cgroup:exists"] = [[
cg = assert(nsl.cgroup.create("nsl/box", { pids = 20 }))
cg:exists() --> true
cg:remove() --> true
cg:exists() --> false]],

  ["cgroup:freeze"] = [[
cg = assert(nsl.cgroup.create("nsl/box", { pids = 20 }))
cg:freeze() --> true
cg:frozen() --> true]],

  ["cgroup:frozen"] = [[
cg = assert(nsl.cgroup.create("nsl/box", { pids = 20 }))
cg:frozen() --> false]],

  ["cgroup:kill"] = [[
cg = assert(nsl.cgroup.create("nsl/box", { pids = 20 }))
cg:kill("KILL") --> true
cg:procs() --> {}]],

  ["cgroup:make_in_every_hierarchy"] = [[
cg = assert(nsl.cgroup.create("nsl/box", { pids = 20 }))   -- on a v1 host, running in /
cg:make_in_every_hierarchy() --> true
cg.dirs["name=systemd"] --> "/sys/fs/cgroup/systemd/nsl/box"]],

  ["cgroup:procs"] = [[
cg = assert(nsl.cgroup.create("nsl/box", { pids = 20 }))
cg:add(4711) --> true
cg:procs() --> { 4711 }]],

  ["cgroup:read"] = [[
cg = assert(nsl.cgroup.create("nsl/box", { memory = "64m" }))
cg:read("memory.max") --> "67108864"]],

  ["cgroup:remove"] = [[
cg = assert(nsl.cgroup.create("nsl/box", { pids = 20 }))
cg:kill("KILL") --> true
cg:remove() --> true]],

  ["cgroup:save"] = [[
cg = assert(nsl.cgroup.open("nsl/box"))
cg:save() --> { dirs = { unified = "/sys/fs/cgroup/user.slice/nsl/box" }, path = "nsl/box", version = 2 }]],

  ["cgroup:set"] = [[
cg = assert(nsl.cgroup.create("nsl/box", { pids = 20 }))
cg:set{ pids = 50, memory = "128m" } --> true
cg:read("pids.max") --> "50"]],

  ["cgroup:thaw"] = [[
cg = assert(nsl.cgroup.create("nsl/box", { pids = 20 }))
cg:thaw() --> true
cg:frozen() --> false]],

  ["cgroup:v1_dir"] = [[
cg = assert(nsl.cgroup.open("nsl/box"))   -- on a v1 host, running in /
cg:v1_dir("devices") --> "/sys/fs/cgroup/devices/nsl/box"]],

  ---------------------------------------------------------------------------
  -- nsl.repl: what the REPL prints, completes and explains

  ["options.args"] = [[
cli = { script = "box.lua", { "--readonly", "--read-only", help = "a read-only root" } }
opts, command = nsl.options.args(cli, { "--read-only", "sh" })
opts.readonly, command[1] --> true, "sh"]],

  ["options.bind"] = [[
nsl.options.bind("/tmp", "/data") --> { flags = "rbind", source = "/tmp", target = "/data" }]],

  ["options.env"] = [[
nsl.options.env("LANG=C") --> { "LANG", "C" }]],

  ["options.env_file"] = [[
f = io.open("/tmp/env", "w") f:write("# docker's format\nA=1\n") f:close()
nsl.options.env_file("/tmp/env")[1] --> { "A", "1" }]],

  ["options.env_options"] = [[
nsl.options.env_options()[1][2] --> "-e"]],

  ["options.environment"] = [[
nsl.options.environment { { "A", "1" }, { { "A", "2" }, { "B", "3" } } } --> { A = "2", B = "3" }]],

  ["options.fail"] = [[
cli = { script = "box.lua" }
nsl.options.fail(cli, "a COMMAND is needed")   -- prints two lines, exits 2]],

  ["options.help"] = [[
cli = { script = "box.lua", { "--rootfs", value = "DIR", help = "the root" } }
nsl.options.help(cli):match("\n[^\n]*") --> "\n  --rootfs DIR  the root"]],

  ["options.mount"] = [[
nsl.options.mount("type=bind,source=/tmp,target=/data,readonly") --> { flags = "rbind rdonly", source = "/tmp", target = "/data" }
nsl.options.mount("type=tmpfs,target=/t,tmpfs-size=64m").data --> "size=64m,mode=1777"]],

  ["options.mount_options"] = [[
nsl.options.mount_options()[1][1] --> "--volume"]],

  ["options.network_options"] = [[
cli = nsl.options.with({ script = "box.lua" }, nsl.options.network_options())
opts = nsl.options.args(cli, { "--network", "pasta", "-p", "8080:80", "sh" })
opts.network, opts.publish[1].port --> "pasta", 80]],

  ["options.parse"] = [[
cli = { { "--rootfs", value = "DIR" }, { "--readonly", "--read-only" } }
nsl.options.parse(cli, { "--read-only", "--rootfs", "/r", "sh" }) --> { readonly = true, rootfs = "/r" }, { "sh" }
nsl.options.parse(cli, { "-x" }) --> nil, "unknown option '-x'"]],

  ["options.ro_bind"] = [[
nsl.options.ro_bind("/tmp", "/data") --> { flags = "rbind rdonly", source = "/tmp", target = "/data" }]],

  ["options.target"] = [[
nsl.options.target("/work") --> "/work"]],

  ["options.tmpfs"] = [[
nsl.options.tmpfs("/t:size=64m").data --> "size=64m,mode=1777"]],

  ["options.volume"] = [[
nsl.options.volume("/tmp:/data:ro") --> { flags = "rbind rdonly", source = "/tmp", target = "/data" }]],

  ["options.with"] = [[
cli = nsl.options.with({ script = "box.lua" }, nsl.options.mount_options())
#cli --> 5]],

  ---------------------------------------------------------------------------
  -- nsl.net

  ["net.check"] = [[
nsl.net.check{ network = "bridge", publish = { { host_port = 8080, port = 80 } } } --> "bridge", { { host_port = 8080, port = 80, proto = "tcp" } }]],

  ["net.check_ports"] = [[
nsl.net.check_ports{ nsl.net.parse_publish("8080:80") } -- nothing: the port is free
nsl.net.check_ports{ nsl.net.parse_publish("22:22") } --> error: publish 0.0.0.0:22/tcp: the port is in use on this host]],

  ["net.check_publish"] = [[
nsl.net.check_publish{ host_port = 8080, port = 80 } --> { host_port = 8080, port = 80, proto = "tcp" }]],

  ["net.files"] = [[
nsl.net.files({ hostname = "box" }).hosts --> "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tbox\n"]],

  ["net.for_container"] = [[
h = nsl.net.for_container{ network = "bridge" }
h:attach(4711) --> true
h:address() --> "10.88.0.2"
h:detach() --> true]],

  ["net.interfaces"] = [[
links, routes = nsl.net.interfaces(4711)
links[2] --> { addresses = { "10.88.0.2/16" }, mac = "5e:1c:...", mtu = 1500, name = "eth0", up = true }
routes[1] --> { dev = "eth0", dst = "default", gateway = "10.88.0.1" }]],

  ["net.overlaps"] = [[
nsl.net.overlaps("10.88.0.0/16", "10.88.5.0/24") --> true
nsl.net.overlaps("10.88.0.0/16", "10.89.0.0/16") --> false]],

  ["net.parse_mode"] = [[
nsl.net.parse_mode("pasta") --> "pasta"
nsl.net.parse_mode("/etc/cni/net.d/web.conflist").name --> "web"]],

  ["net.parse_publish"] = [[
nsl.net.parse_publish("127.0.0.1:8080:80/tcp") --> { host_ip = "127.0.0.1", host_port = 8080, port = 80, proto = "tcp" }]],

  ["net.reclaim"] = [[
nsl.net.reclaim() --> 0]],

  ["repl.complete"] = [[
nsl.repl.complete("string.up") --> { "string.upper" }
nsl.repl.complete("nsl.stre") --> { "nsl.strerror" }]],

  ["repl.help"] = [[
print(nsl.repl.help("mount"))]],

  ["repl.install"] = [[
env = {}; nsl.repl.install(env)
env.nsl == nsl, type(env.help) --> true, "function"]],

  ["repl.pretty"] = [[
nsl.repl.pretty({ 1, a = "x" }) --> "{ 1, a = \"x\" }"]],

  ["repl.results"] = [[
nsl.repl.results(nil, "mkdir '/x': File exists", 17) --> "nil, \"mkdir '/x': File exists\", EEXIST"]],
}
