/* lroot.c: root handles. Every path given to a root's methods is resolved
 * inside that root, never through the host: a symlink in an image (dev ->
 * /etc, proc -> /, a/b -> ../../../x) resolves as if the root were /, and
 * `..` stops at it. This is what keeps a hostile image from sending a mount,
 * a mknod or a symlink onto the host (runc CVE-2021-30465, LXC
 * CVE-2015-1335, CVE-2019-19921).
 *
 * Paths are resolved by walk.c (openat2 RESOLVE_IN_ROOT, or a checked walk
 * where the kernel lacks it); objects are then made or changed relative to
 * an fd of their resolved parent (mknodat, symlinkat, unlinkat: these never
 * follow the last component) or of the object itself (fstat, fchownat
 * AT_EMPTY_PATH, fchmodat2). Mounts (mnt.c) are made detached and attached
 * onto exactly the resolved fd; afterwards the path is resolved again and
 * must reach the new mount, or the mount is detached and the call fails
 * (EXDEV). The new mount API is Linux 5.2 (mount_setattr 5.12): older
 * kernels get ENOSYS from mount_on, bind_on and remount.
 *
 * Writes land only on filesystems made for the container: the root's own
 * mount and the mounts mount_on made. mkdir_all, mknod, symlink, unlink,
 * touch (when it creates), chmod, chown and open for writing refuse (EXDEV)
 * anything on another mount, such as a host path bound in with bind_on (a
 * volume, the working directory, the host's /dev), so that no later step
 * and no hostile image can write through it onto the host.
 *
 * Open the root after the mount namespace is made and after the root is
 * bound onto itself: the fd holds the mount it was opened on, and the
 * kernel refuses (EINVAL) to attach onto a mount of another namespace. */
#include "lnsl.h"
#include "mnt.h"
#include "sys.h"
#include "walk.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define NSL_ROOT "nsl.root"

/* ---- flag words ---------------------------------------------------------- */

/* The mount flags at arg, raising for the words outside allowed. */
static unsigned long check_mount_flags(lua_State *L, int arg,
                                       unsigned long allowed,
                                       const char *method) {
  unsigned long ms = nsl_optflags(L, arg, nsl_mount_flags, "mount flag");
  if (ms & ~allowed)
    luaL_argerror(
        L, arg,
        lua_pushfstring(L, "%s does not take '%s'", method,
                        nsl_pushflagnames(L, ms & ~allowed, nsl_mount_flags)));
  unsigned long propagation = ms & NSL_MS_PROPAGATION;
  if (propagation & (propagation - 1))
    luaL_argerror(L, arg, "more than one propagation word");
  return ms;
}

/* ---- the root handle ----------------------------------------------------- */

typedef struct nsl_root {
  nsl_walk_root root; /* own: the root's mount and what mount_on made */
  char path[];        /* as root_open had it, for messages */
} nsl_root;

static nsl_root *check_root(lua_State *L) {
  nsl_root *r = luaL_checkudata(L, 1, NSL_ROOT);
  luaL_argcheck(L, r->root.fd >= 0, 1, "root is closed");
  return r;
}

/* nil, "OP 'PATH' in root 'ROOT': strerror", errno */
static int root_fail(lua_State *L, const nsl_root *r, const char *op,
                     const char *path) {
  return nsl_fail(L, "%s '%s' in root '%s'", op, path, r->path);
}

/* root_fail, saying why when a write was refused: EXDEV from
 * nsl_mountset_check (no *at call that writes gives EXDEV itself). */
static int write_fail(lua_State *L, const nsl_root *r, const char *op,
                      const char *path) {
  if (errno != EXDEV)
    return root_fail(L, r, op, path);
  luaL_pushfail(L);
  lua_pushfstring(L,
                  "%s '%s' in root '%s': not on a filesystem made for the "
                  "container (nsl never writes through a host path bound in)",
                  op, path, r->path);
  lua_pushinteger(L, EXDEV);
  return 3;
}

/* The same with the call that failed: "(fsconfig 'gid')". */
static int step_fail(lua_State *L, const nsl_root *r, const char *what,
                     const char *step, const char *key) {
  int err = errno;
  if (key)
    lua_pushfstring(L, "%s in root '%s' (%s '%s')", what, r->path, step, key);
  else
    lua_pushfstring(L, "%s in root '%s' (%s)", what, r->path, step);
  errno = err;
  return nsl_fail(L, "%s", lua_tostring(L, -1));
}

static const char *const hows[] = {"openat2", "walk", NULL};

static int l_root_open(lua_State *L) {
  size_t len;
  const char *path = luaL_checklstring(L, 1, &len);
  int how = luaL_checkoption(L, 2, "openat2", hows);
  nsl_root *r = lua_newuserdatauv(L, sizeof *r + len + 1, 0);
  r->root.fd = -1;
  r->root.how = how;
  memset(&r->root.own, 0, sizeof r->root.own);
  r->root.fd_is_own = 0;
  memcpy(r->path, path, len + 1);
  luaL_setmetatable(L, NSL_ROOT);
  /* the root itself is the caller's choice: resolved on the host; its own
   * mount is the container's to write on (not the mounts below it) */
  uint64_t id;
  int fd = nsl_sys_open(path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0)
    return nsl_fail(L, "root_open '%s'", path);
  nsl_own(L, &r->root.fd, fd);
  if (nsl_sys_mount_id(fd, &id) != 0 || nsl_mountset_reserve(&r->root.own) != 0)
    return nsl_fail(L, "root_open '%s'", path); /* the handle closes fd */
  nsl_mountset_add(&r->root.own, id);
  r->root.fd_is_own = 1; /* the id of its own mount is the first in own */
  return 1;
}

/* root:subroot(path): a root handle for the directory path names in r
 * (resolved inside r), writing on the mounts r writes on now; its path is
 * r's and path joined, for messages. A step that makes many things in one
 * directory resolves it once: each call then works in the handle's fd. */
static int l_root_subroot(lua_State *L) {
  nsl_root *r = check_root(L);
  size_t len, plen = strlen(r->path);
  const char *path = luaL_checklstring(L, 2, &len);
  while (plen > 0 && r->path[plen - 1] == '/')
    plen--; /* "/" and "/dev": "/dev", not "//dev" */
  nsl_root *s = lua_newuserdatauv(L, sizeof *s + plen + len + 2, 0);
  s->root.fd = -1;
  s->root.how = r->root.how;
  memset(&s->root.own, 0, sizeof s->root.own);
  s->root.fd_is_own = 0;
  memcpy(s->path, r->path, plen);
  s->path[plen] = '/';
  memcpy(s->path + plen + 1, path[0] == '/' ? path + 1 : path,
         len + (path[0] == '/' ? 0 : 1));
  luaL_setmetatable(L, NSL_ROOT);
  int fd = nsl_walk_open(&r->root, path, O_PATH | O_DIRECTORY, 0);
  if (fd < 0)
    return root_fail(L, r, "subroot", path);
  nsl_own(L, &s->root.fd, fd);
  for (size_t i = 0; i < r->root.own.n; i++) {
    if (nsl_mountset_reserve(&s->root.own) != 0)
      return root_fail(L, r, "subroot", path); /* the handle closes fd */
    nsl_mountset_add(&s->root.own, r->root.own.ids[i]);
  }
  /* asked once (see fd_is_own); a failed check is asked again at each
   * write, which then fails closed with its own error */
  s->root.fd_is_own = nsl_mountset_check(&s->root.own, fd) == 0;
  return 1;
}

static int l_root_gc(lua_State *L) {
  nsl_root *r = luaL_checkudata(L, 1, NSL_ROOT);
  int fd = r->root.fd;
  nsl_disown(L, &r->root.fd);
  if (fd >= 0)
    close(fd);
  nsl_mountset_clear(&r->root.own);
  return 0;
}

static int l_root_close(lua_State *L) {
  l_root_gc(L);
  return nsl_ok(L);
}

static int l_root_tostring(lua_State *L) {
  nsl_root *r = luaL_checkudata(L, 1, NSL_ROOT);
  if (r->root.fd < 0)
    lua_pushfstring(L, "nsl.root '%s' (closed)", r->path);
  else
    lua_pushfstring(L, "nsl.root '%s' (fd %d)", r->path, r->root.fd);
  return 1;
}

static int l_root_fd(lua_State *L) {
  lua_pushinteger(L, check_root(L)->root.fd);
  return 1;
}

static int l_root_path(lua_State *L) {
  lua_pushstring(L, ((nsl_root *)luaL_checkudata(L, 1, NSL_ROOT))->path);
  return 1;
}

/* ---- opening and making things ------------------------------------------- */

/* Not O_ACCMODE: musl's has O_PATH in it (O_SEARCH), and O_PATH reads. */
static int writes(int flags) {
  return (flags & (O_CREAT | O_TRUNC | O_APPEND | O_WRONLY | O_RDWR)) != 0;
}

/* root:open (nsl.root_open has the name l_root_open) */
static int l_root_openat(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  int flags = nsl_optopenflags(L, 3, 0); /* always close-on-exec */
  mode_t mode = nsl_optmode(L, 4, 0666);
  int *slot = nsl_newfd(L);
  int fd = writes(flags) ? nsl_walk_open_to_write(&r->root, path, flags, mode)
                         : nsl_walk_open(&r->root, path, flags, mode);
  if (fd < 0)
    return write_fail(L, r, "open", path);
  nsl_own(L, slot, fd);
  return 1;
}

static int l_root_mkdir_all(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  mode_t mode = nsl_optmode(L, 3, 0755);
  /* always walked: a dangling symlink's target is made, inside the root */
  int fd = nsl_walk_mkdir_all(&r->root, path, mode);
  if (fd < 0)
    return write_fail(L, r, "mkdir_all", path);
  close(fd);
  return nsl_ok(L);
}

typedef struct node {
  mode_t mode;
  dev_t dev;
} node;

static int do_mknod(int dir, const char *name, const void *arg) {
  const node *n = arg;
  return mknodat(dir, name, n->mode, n->dev); /* never follows a symlink */
}

static int l_root_mknod(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  node n;
  n.mode = nsl_checknode(L, 3, &n.dev);
  if (nsl_walk_at_parent(&r->root, path, do_mknod, &n, EEXIST, &r->root.own) !=
      0)
    return write_fail(L, r, "mknod", path);
  return nsl_ok(L);
}

static int do_symlink(int dir, const char *name, const void *target) {
  return symlinkat(target, dir, name);
}

static int l_root_symlink(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *target = luaL_checkstring(L, 2);
  const char *linkpath = luaL_checkstring(L, 3);
  /* target is only text: it is resolved (inside a root) when used */
  if (nsl_walk_at_parent(&r->root, linkpath, do_symlink, target, EEXIST,
                         &r->root.own) != 0)
    return errno == EXDEV ? write_fail(L, r, "symlink", linkpath)
                          : nsl_fail(L, "symlink '%s' to '%s' in root '%s'",
                                     target, linkpath, r->path);
  return nsl_ok(L);
}

static int do_unlink(int dir, const char *name, const void *arg) {
  (void)arg; /* unused: at_parent's callbacks share one signature */
  return unlinkat(dir, name, 0); /* a symlink itself, never its target */
}

static int l_root_unlink(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  if (nsl_walk_at_parent(&r->root, path, do_unlink, NULL, EISDIR,
                         &r->root.own) != 0)
    return write_fail(L, r, "unlink", path);
  return nsl_ok(L);
}

static int l_root_touch(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  mode_t mode = nsl_optmode(L, 3, 0644);
  if (nsl_walk_touch(&r->root, path, mode) != 0)
    return write_fail(L, r, "touch", path);
  return nsl_ok(L);
}

/* ---- looking at things and changing them --------------------------------- */

/* nsl.stat(fd) (upvalue 1) of path opened O_PATH (plus extra) in root. */
static int stat_in_root(lua_State *L, const char *op, int extra) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  int fd = nsl_walk_open(&r->root, path, O_PATH | extra, 0);
  if (fd < 0)
    return root_fail(L, r, op, path);
  int base = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushinteger(L, fd);
  int status = lua_pcall(L, 1, LUA_MULTRET, 0);
  close(fd);
  if (status != LUA_OK)
    return lua_error(L);
  return lua_gettop(L) - base;
}

static int l_root_stat(lua_State *L) { return stat_in_root(L, "stat", 0); }

static int l_root_owns(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  int fd = nsl_walk_open(&r->root, path, O_PATH, 0);
  int rc = fd < 0 ? -1 : nsl_mountset_check(&r->root.own, fd);
  nsl_sys_close_keep_errno(fd);
  if (rc != 0 && errno != EXDEV)
    return root_fail(L, r, "owns", path);
  lua_pushboolean(L, rc == 0);
  return 1;
}

static int l_root_lstat(lua_State *L) {
  return stat_in_root(L, "lstat", O_NOFOLLOW);
}

static int l_root_readlink(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  char buf[PATH_MAX];
  struct stat st;
  ssize_t n = -1;
  int fd = nsl_walk_open(&r->root, path, O_PATH | O_NOFOLLOW, 0);
  if (fd >= 0 && fstat(fd, &st) == 0) /* EINVAL for no symlink: readlink(2) */
    n = S_ISLNK(st.st_mode) ? readlinkat(fd, "", buf, sizeof buf)
                            : (errno = EINVAL, -1);
  nsl_sys_close_keep_errno(fd);
  if (n < 0)
    return root_fail(L, r, "readlink", path);
  lua_pushlstring(L, buf, (size_t)n);
  return 1;
}

static int l_root_chmod(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  mode_t mode = nsl_checkmode(L, 3);
  int fd = nsl_walk_open(&r->root, path, O_PATH, 0);
  int rc = fd < 0 || nsl_mountset_check(&r->root.own, fd) != 0
               ? -1
               : nsl_sys_chmod_fd(fd, mode);
  nsl_sys_close_keep_errno(fd);
  if (rc != 0 && errno == EXDEV)
    return write_fail(L, r, "chmod", path);
  if (rc != 0) {
    int err = errno;
    char octal[16];
    snprintf(octal, sizeof octal, "%04o", (unsigned)mode);
    errno = err;
    return nsl_fail(L, "chmod '%s' to %s in root '%s'", path, octal, r->path);
  }
  return nsl_ok(L);
}

static int chown_in_root(lua_State *L, const char *op, int extra) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  uid_t uid = nsl_optid(L, 3, "uid"); /* nil leaves it as it is */
  gid_t gid = nsl_optid(L, 4, "gid");
  int fd = nsl_walk_open(&r->root, path, O_PATH | extra, 0);
  int rc = fd < 0 || nsl_mountset_check(&r->root.own, fd) != 0
               ? -1
               : fchownat(fd, "", uid, gid, AT_EMPTY_PATH);
  nsl_sys_close_keep_errno(fd);
  if (rc != 0 && errno == EXDEV)
    return write_fail(L, r, op, path);
  if (rc != 0)
    return nsl_fail(L, "%s '%s' to %d:%d in root '%s'", op, path, (int)uid,
                    (int)gid, r->path);
  return nsl_ok(L);
}

static int l_root_chown(lua_State *L) { return chown_in_root(L, "chown", 0); }

static int l_root_lchown(lua_State *L) {
  return chown_in_root(L, "lchown", O_NOFOLLOW);
}

/* ---- mounts -------------------------------------------------------------- */

/* nil, "WHAT in root 'ROOT': expected X, found Y", EXDEV: the path does not
 * reach the new mount (found is the filesystem it reaches). */
static int verify_fail(lua_State *L, const nsl_root *r, const char *what,
                       const char *expected, unsigned long found) {
  char buf[32];
  const char *name = nsl_mnt_fs_name(found, buf, sizeof buf);
  luaL_pushfail(L);
  if (strcmp(name, expected) == 0)
    lua_pushfstring(L, "%s in root '%s': expected the new %s, found another %s",
                    what, r->path, expected, name);
  else
    lua_pushfstring(L, "%s in root '%s': expected %s, found %s", what, r->path,
                    expected, name);
  lua_pushinteger(L, EXDEV);
  return 3;
}

/* Attach mnt onto target (both fds are closed), then check that path now
 * reaches it: else detach it again and fail. */
static int attach_verified(lua_State *L, const nsl_root *r, const char *path,
                           int target, int mnt, const char *what,
                           const char *expected) {
  int rc = nsl_mnt_attach(mnt, target);
  nsl_sys_close_keep_errno(target);
  if (rc != 0) {
    nsl_sys_close_keep_errno(mnt);
    return step_fail(L, r, what, "move_mount", NULL);
  }
  unsigned long found = 0;
  int ok = nsl_mnt_reaches(&r->root, path, mnt, &found), err = errno;
  /* through /proc/self/fd: fails without /proc, and then the mount stays
   * somewhere it was not meant to be: that is the error to report */
  int detached = ok == 1 || nsl_mnt_detach(mnt) == 0;
  nsl_sys_close_keep_errno(mnt);
  if (!detached)
    return step_fail(L, r, what, "umount2 after a failed verify", NULL);
  errno = err;
  if (ok < 0)
    return step_fail(L, r, what, "verify", NULL);
  return ok ? nsl_ok(L) : verify_fail(L, r, what, expected, found);
}

static int l_root_mount_on(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  const char *source = luaL_optstring(L, 3, NULL);
  const char *fstype = luaL_checkstring(L, 4);
  unsigned long ms =
      check_mount_flags(L, 5, NSL_MS_ATTR | NSL_MS_SB | MS_SILENT, "mount_on");
  size_t len = 0;
  const char *data = luaL_optlstring(L, 6, NULL, &len);
  /* a copy to cut into options, Lua's: nothing to free on a raise */
  char *options =
      data ? memcpy(lua_newuserdatauv(L, len + 1, 0), data, len + 1) : NULL;
  const char *what = lua_pushfstring(L, "mount_on '%s'", path);
  int target = nsl_walk_open(&r->root, path, O_PATH, 0);
  if (target < 0)
    return root_fail(L, r, "mount_on", path);
  const char *step, *key;
  uint64_t id;
  int mnt = nsl_mnt_new(fstype, source, options, ms, &step, &key);
  if (mnt >= 0 && (nsl_sys_mount_id(mnt, &id) != 0 ||
                   nsl_mountset_reserve(&r->root.own) != 0)) {
    nsl_sys_close_keep_errno(mnt);
    mnt = -1, step = "statx", key = NULL;
  }
  if (mnt < 0) {
    nsl_sys_close_keep_errno(target);
    return step_fail(L, r, what, step, key);
  }
  /* a new filesystem, made for the container: the root may write on it (the
   * id stays the mount's when it is attached) */
  int n = attach_verified(L, r, path, target, mnt, what, fstype);
  if (lua_toboolean(L, -n))
    nsl_mountset_add(&r->root.own, id);
  return n;
}

/* Is the mount fd is on in this process's mount table (/proc/self/mountinfo)?
 * A tree of nsl.open_tree is not until it is attached, and move_mount would
 * move an attached mount away from where it is. 1, 0, or -1 with errno. */
static int mount_attached(int fd) {
  uint64_t id;
  if (nsl_sys_mount_id(fd, &id) != 0)
    return -1;
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL)
    return -1;
  char *line = NULL;
  size_t cap = 0;
  int found = 0;
  while (!found && getline(&line, &cap, f) > 0) {
    uint64_t n;
    found = sscanf(line, "%" SCNu64, &n) == 1 && n == id;
  }
  free(line);
  fclose(f);
  return found;
}

static int l_root_bind_on(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  lua_settop(L, 4); /* the strings pushed below are not the flags */
  /* a detached tree (nsl.open_tree) made by a process that can reach the
   * source, or the source's host path */
  int given = lua_type(L, 3) == LUA_TSTRING ? -1 : nsl_checkfd(L, 3);
  const char *source = given < 0 ? luaL_checkstring(L, 3)
                                 : lua_pushfstring(L, "tree fd %d", given);
  unsigned long ms = check_mount_flags(
      L, 4, MS_BIND | MS_REC | NSL_MS_ATTR | NSL_MS_PROPAGATION, "bind_on");
  const char *what = lua_pushfstring(L, "bind_on '%s' on '%s'", source, path);
  const char *expected = lua_pushfstring(L, "the bind of '%s'", source);
  unsigned rec = (ms & MS_REC) ? AT_RECURSIVE : 0;
  struct mount_attr attr = nsl_mnt_attr_request(ms, 0);
  int target = nsl_walk_open(&r->root, path, O_PATH, 0);
  if (target < 0)
    return nsl_fail(L, "%s in root '%s'", what, r->path);
  int attached = given >= 0 ? mount_attached(given) : 0;
  if (attached != 0) {
    nsl_sys_close_keep_errno(target);
    if (attached < 0)
      return step_fail(L, r, what, "mountinfo", NULL);
    errno = EINVAL;
    return nsl_fail(L, "%s in root '%s': not a detached tree (nsl.open_tree)",
                    what, r->path);
  }
  /* the source is the caller's choice: resolved on the host; a given tree
   * is a copy of its own (attaching closes it; the caller's fd stays) */
  int tree = given >= 0 ? fcntl(given, F_DUPFD_CLOEXEC, 0)
                        : open_tree(AT_FDCWD, source,
                                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
  const char *step = given >= 0 ? "dup" : "open_tree";
  /* flags go on the detached copy: it is never seen writable (nor needs a
   * remount that must repeat the locked flags in a user namespace) */
  if (tree >= 0 && (attr.attr_set || attr.attr_clr || attr.propagation) &&
      mount_setattr(tree, "", AT_EMPTY_PATH | rec, &attr, sizeof attr) != 0) {
    nsl_sys_close_keep_errno(tree);
    tree = -1;
    step = "mount_setattr";
  }
  if (tree < 0) {
    nsl_sys_close_keep_errno(target);
    return step_fail(L, r, what, step, NULL);
  }
  return attach_verified(L, r, path, target, tree, what, expected);
}

static int l_root_remount(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  unsigned long ms = check_mount_flags(
      L, 3, MS_REMOUNT | MS_BIND | MS_REC | NSL_MS_ATTR | NSL_MS_PROPAGATION,
      "remount");
  unsigned long clear = check_mount_flags(L, 4, NSL_MS_ATTR, "remount");
  struct mount_attr attr = nsl_mnt_attr_request(ms, clear);
  unsigned rec = (ms & MS_REC) ? AT_RECURSIVE : 0;
  /* the path resolves through the mounts on it: the fd is the top one's root */
  int fd = nsl_walk_open(&r->root, path, O_PATH, 0);
  int rc = fd < 0
               ? -1
               : mount_setattr(fd, "", AT_EMPTY_PATH | rec, &attr, sizeof attr);
  nsl_sys_close_keep_errno(fd);
  if (rc != 0)
    return root_fail(L, r, "remount", path);
  return nsl_ok(L);
}

/* ---- module functions ---------------------------------------------------- */

static int l_open_tree(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  unsigned long ms = check_mount_flags(L, 2, MS_REC, "open_tree");
  int *slot = nsl_newfd(L);
  int fd = open_tree(AT_FDCWD, path,
                     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                         ((ms & MS_REC) ? AT_RECURSIVE : 0));
  if (fd < 0)
    return nsl_fail(L, "open_tree '%s'", path);
  nsl_own(L, slot, fd);
  return 1;
}

static int l_fs_type(lua_State *L) {
  struct statfs fs;
  char buf[32];
  if (lua_type(L, 1) == LUA_TSTRING) {
    const char *path = lua_tostring(L, 1);
    if (statfs(path, &fs) != 0)
      return nsl_fail(L, "statfs '%s'", path);
  } else {
    int fd = nsl_checkfd(L, 1);
    if (fstatfs(fd, &fs) != 0)
      return nsl_fail(L, "fstatfs %d", fd);
  }
  lua_pushstring(L, nsl_mnt_fs_name((unsigned long)fs.f_type & 0xffffffffUL,
                                    buf, sizeof buf));
  return 1;
}

static int l_is_char_device(lua_State *L) {
  struct stat st;
  lua_Integer major = luaL_checkinteger(L, 2);
  lua_Integer minor = luaL_checkinteger(L, 3);
  if (lua_type(L, 1) == LUA_TSTRING) {
    const char *path = lua_tostring(L, 1);
    if (stat(path, &st) != 0)
      return nsl_fail(L, "stat '%s'", path);
  } else {
    int fd = nsl_checkfd(L, 1);
    if (fstat(fd, &st) != 0)
      return nsl_fail(L, "fstat %d", fd);
  }
  lua_pushboolean(L, S_ISCHR(st.st_mode) && major(st.st_rdev) == major &&
                         minor(st.st_rdev) == minor);
  return 1;
}

const nsl_Reg nsl_root_lib[] = {
    {"fs_type", l_fs_type, "fs_type(path | fd) -> name",
     "statfs(2) or fstatfs(2): the filesystem's type (proc sysfs tmpfs devpts "
     "ext4 ...), or its magic number in hex"},
    {"is_char_device", l_is_char_device,
     "is_char_device(path | fd, major, minor) -> boolean",
     "stat(2) or fstat(2): is it the character device major:minor (is "
     "/dev/null char 1:3)?"},
    {"open_tree", l_open_tree, "open_tree(path [, \"rec\"]) -> fd",
     "open_tree(2) OPEN_TREE_CLONE: a detached copy of the mount at path (rec: "
     "with the mounts below it), for root:bind_on in another mount namespace"},
    {"root_open", l_root_open, "root_open(path [, how]) -> root",
     "a root handle (O_PATH fd): its methods resolve every path inside it "
     "(openat2 RESOLVE_IN_ROOT, or how = \"walk\")"},
    {NULL, NULL, NULL, NULL}};

/* The methods of a root (paths are inside it; absolute or relative both
 * start at the root). Each returns nil, "OP 'PATH' in root 'ROOT': ...",
 * errno on failure, and raises for bad arguments. Writes refused because
 * the place is not on a mount of the root's own fail with EXDEV. */
const nsl_Reg nsl_root_methods[] = {
    {"bind_on", l_root_bind_on,
     "root:bind_on(path, host_source | tree [, flags]) -> true",
     "bind host_source (resolved on the host), or a detached tree from "
     "nsl.open_tree (once: attached, it is refused), onto path, flags set "
     "before it is attached (open_tree, mount_setattr, move_mount)"},
    {"chmod", l_root_chmod, "root:chmod(path, mode) -> true",
     "chmod the object path names, on a mount of the root's own"},
    {"chown", l_root_chown, "root:chown(path, uid [, gid]) -> true",
     "chown the object path names (following links, inside the root); nil "
     "keeps an id"},
    {"close", l_root_close, "root:close() -> true", "close the root's fd"},
    {"fd", l_root_fd, "root:fd() -> n", "the root's O_PATH fd"},
    {"lchown", l_root_lchown, "root:lchown(path, uid [, gid]) -> true",
     "chown a symlink itself; nil keeps an id"},
    {"lstat", l_root_lstat, "root:lstat(path) -> table",
     "nsl.lstat of path resolved in the root: a symlink itself"},
    {"mkdir_all", l_root_mkdir_all, "root:mkdir_all(path [, mode]) -> true",
     "make path and its missing parents (mode 0755), on the root's own mounts"},
    {"mknod", l_root_mknod,
     "root:mknod(path, type, mode [, major, minor]) -> true",
     "mknodat(2) in path's resolved parent; type char block fifo file socket"},
    {"mount_on", l_root_mount_on,
     "root:mount_on(path, source, fstype [, flags [, data]]) -> true",
     "mount a new filesystem onto exactly the resolved path (fsopen, fsmount, "
     "move_mount) and check that path reaches it"},
    {"open", l_root_openat, "root:open(path [, flags [, mode]]) -> fd",
     "open path resolved in the root; flags as nsl.open's words, always "
     "close-on-exec; writes only on the root's own mounts"},
    {"owns", l_root_owns, "root:owns(path) -> boolean",
     "is path on a mount made for the container (the root's own, or one "
     "mount_on made)?"},
    {"path", l_root_path, "root:path() -> string",
     "the host path the root was opened with"},
    {"readlink", l_root_readlink, "root:readlink(path) -> target",
     "the text of the symlink at path"},
    {"remount", l_root_remount, "root:remount(path, flags [, clear]) -> true",
     "mount_setattr(2) on the mount at path: set flags, clear clear"},
    {"stat", l_root_stat, "root:stat(path) -> table",
     "nsl.stat of path resolved in the root"},
    {"subroot", l_root_subroot, "root:subroot(path) -> root",
     "a root for the directory path names in this one (resolved inside it), "
     "writing on the mounts this one writes on now"},
    {"symlink", l_root_symlink, "root:symlink(target, linkpath) -> true",
     "make linkpath a symlink to target (text, resolved when used)"},
    {"touch", l_root_touch, "root:touch(path [, mode]) -> true",
     "an empty file to bind a file onto; an existing file is left as it is"},
    {"unlink", l_root_unlink, "root:unlink(path) -> true",
     "unlink path (a symlink itself, never a directory)"},
    {NULL, NULL, NULL, NULL}};

void nsl_root_open(lua_State *L) {
  static const luaL_Reg meta[] = {{"__close", l_root_gc},
                                  {"__gc", l_root_gc},
                                  {"__index", NULL},
                                  {"__tostring", l_root_tostring},
                                  {NULL, NULL}};
  if (luaL_newmetatable(L, NSL_ROOT)) {
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    /* stat and lstat build their table with nsl.stat(fd) */
    lua_getfield(L, -3, "stat");
    nsl_setmethods(L, nsl_root_methods, 1);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
}
