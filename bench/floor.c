/* floor.c: the physical floor of a container start, the least a runtime
 * must do: clone(2) into new namespaces, make / recursively slave, bind the
 * root onto itself, mount proc and a tmpfs on /dev, pivot_root(2), detach
 * the old root and execve(2) the command; the parent waits for it.
 *
 * usage: floor [-u] ROOT COMMAND [ARGS...]
 *   -u  add a user namespace; the parent writes the maps (the caller's
 *       uid and gid become 0 inside) before the child goes on, as an
 *       unprivileged runtime must: see user_namespaces(7).
 *
 * Built by bench/run with `cc -O2 -static` (and without -static for the
 * floor-dynamic rows). Exit status: the command's, 125 when
 * the setup failed (with a message on stderr). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
  _exit(125);
}

static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
    die(path);
  close(fd);
}

/* setgroups "deny" first: the kernel refuses an unprivileged gid_map
 * otherwise (user_namespaces(7), "The /proc/[pid]/setgroups file"). */
static void write_maps(pid_t pid, uid_t uid, gid_t gid) {
  char path[64], map[64];
  snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
  write_file(path, "deny");
  snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
  snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
  write_file(path, map);
  snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
  snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
  write_file(path, map);
}

static void child(const char *root, char **argv) {
  char path[4096];
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0)
    die("rslave /");
  if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) != 0)
    die("bind root");
  snprintf(path, sizeof path, "%s/proc", root);
  if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
    die("mount proc");
  snprintf(path, sizeof path, "%s/dev", root);
  if (mount("tmpfs", path, "tmpfs", MS_NOSUID, "mode=755") != 0)
    die("mount /dev");
  if (chdir(root) != 0)
    die("chdir root");
  /* pivot_root(".", ".") stacks the old root on the new one: no put_old
   * directory is needed (pivot_root(2), NOTES) */
  if (syscall(SYS_pivot_root, ".", ".") != 0)
    die("pivot_root");
  if (umount2(".", MNT_DETACH) != 0)
    die("detach old root");
  if (chdir("/") != 0)
    die("chdir /");
  execv(argv[0], argv);
  die(argv[0]);
}

int main(int argc, char **argv) {
  int userns = argc > 1 && strcmp(argv[1], "-u") == 0;
  if (argc < 3 + userns) {
    fprintf(stderr, "usage: floor [-u] ROOT COMMAND [ARGS...]\n");
    return 2;
  }
  const char *root = argv[1 + userns];
  char **command = argv + 2 + userns;
  uid_t uid = getuid();
  gid_t gid = getgid();
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0)
    die("pipe");
  struct clone_args args = {.flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS |
                                     CLONE_NEWIPC | CLONE_NEWNET |
                                     (userns ? CLONE_NEWUSER : 0),
                            .exit_signal = SIGCHLD};
  pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0)
    die("clone3");
  if (pid == 0) {
    char byte;
    close(go[1]);
    if (userns) {
      /* wait for the maps; EOF means the parent gave up */
      if (read(go[0], &byte, 1) != 1)
        _exit(125);
      if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0)
        die("become root inside");
    }
    child(root, command);
  }
  close(go[0]);
  if (userns) {
    write_maps(pid, uid, gid);
    if (write(go[1], "1", 1) != 1)
      die("release the child");
  }
  close(go[1]);
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      die("waitpid");
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
