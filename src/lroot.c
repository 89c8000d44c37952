/* lroot.c: root handles. Every path given to a root's methods is resolved
 * inside that root, never through the host: a symlink in an image (dev ->
 * /etc, proc -> /, a/b -> ../../../x) resolves as if the root were /, and
 * `..` stops at it. This is what keeps a hostile image from sending a mount,
 * a mknod or a symlink onto the host (runc CVE-2021-30465, LXC
 * CVE-2015-1335, CVE-2019-19921).
 *
 * How a path is resolved (the root's "how", see root_open):
 *   openat2  openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS; where
 *            the kernel lacks openat2 (ENOSYS) or keeps answering EAGAIN,
 *            the walk below does the same work;
 *   walk     component by component with O_PATH|O_NOFOLLOW, each symlink
 *            read (readlinkat) and resolved by us inside the root, at most
 *            40 of them (ELOOP after, like the kernel). `..` pops the stack
 *            of directories already walked, so it cannot leave the root.
 *            The kernel never follows a link itself: a /proc magic link
 *            (/proc/self/root) is only text resolved inside the root too,
 *            where openat2 refuses it (ELOOP).
 * mkdir_all always walks (it must create what a dangling symlink names).
 *
 * Objects are then made or changed relative to an fd of their resolved
 * parent (mknodat, symlinkat, unlinkat: these never follow the last
 * component) or of the object itself (fstat, fchownat AT_EMPTY_PATH,
 * fchmodat2). Mounts use the new mount API: a new filesystem is made
 * detached (fsopen/fsconfig/fsmount), a bind is a detached clone
 * (open_tree) whose flags are set before anyone can see it (mount_setattr),
 * and either is attached onto exactly the resolved fd (move_mount with
 * MOVE_MOUNT_T_EMPTY_PATH). Afterwards the path is resolved again and must
 * reach the new mount, or the mount is detached and the call fails (EXDEV).
 * The new mount API is Linux 5.2 (mount_setattr 5.12): older kernels get
 * ENOSYS from mount_on, bind_on and remount.
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
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define NSL_ROOT "nsl.root"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452 /* Linux 6.6; one number on every architecture */
#endif

/* MAXSYMLINKS: see path_resolution(7) */
#define MAX_LINKS 40
/* openat2 answers EAGAIN when a rename or mount raced a `..` (see openat2(2),
 * RESOLVE_IN_ROOT): retry a few times, then walk. */
#define OPENAT2_TRIES 16

enum { HOW_OPENAT2, HOW_WALK };

/* close(2) an fd (or nothing for -1) keeping errno for the failure being
 * reported. */
static void close_keep_errno(int fd) {
  int err = errno;
  if (fd >= 0)
    close(fd);
  errno = err;
}

/* ---- plain helpers: the mounts a root writes on ------------------------- */

/* Mount ids (statx STATX_MNT_ID) of the filesystems made for the container. */
typedef struct mount_set {
  uint64_t *ids;
  size_t n, cap;
} mount_set;

/* Room for one more id, so that adding it later cannot fail. */
static int mount_set_reserve(mount_set *s) {
  if (s->n < s->cap)
    return 0;
  size_t cap = s->cap ? s->cap * 2 : 8;
  uint64_t *ids = realloc(s->ids, cap * sizeof *ids);
  if (ids == NULL)
    return errno = ENOMEM, -1;
  s->ids = ids;
  s->cap = cap;
  return 0;
}

static int mount_set_has(const mount_set *s, uint64_t id) {
  for (size_t i = 0; i < s->n; i++)
    if (s->ids[i] == id)
      return 1;
  return 0;
}

/* Add the mount id (room reserved first). */
static void mount_set_add(mount_set *s, uint64_t id) {
  if (!mount_set_has(s, id))
    s->ids[s->n++] = id;
}

/* 0 when the object fd refers to is on a mount of s; else -1 with EXDEV, or
 * with the error that kept the mount from being known (fail closed). */
static int mount_set_check(const mount_set *s, int fd) {
  uint64_t id;
  if (nsl_sys_mount_id(fd, &id) != 0)
    return -1;
  return mount_set_has(s, id) ? 0 : (errno = EXDEV, -1);
}

/* ---- plain helpers: resolving inside a root ------------------------------ */

/* The directories walked so far below the root, innermost last. */
typedef struct walker {
  int root;
  const mount_set *own; /* where directories may be made (mkdirs) */
  int *dirs;
  size_t n, cap;
  int links;
  char rest[PATH_MAX]; /* what is left to resolve */
} walker;

static int walker_cur(const walker *w) {
  return w->n ? w->dirs[w->n - 1] : w->root;
}

static void walker_pop_all(walker *w) {
  while (w->n)
    close(w->dirs[--w->n]);
}

static void walker_free(walker *w) {
  while (w->n)
    close_keep_errno(w->dirs[--w->n]);
  free(w->dirs);
}

static int walker_push(walker *w, int fd) {
  if (w->n == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 16;
    int *dirs = realloc(w->dirs, cap * sizeof *dirs);
    if (dirs == NULL)
      return close(fd), errno = ENOMEM, -1;
    w->dirs = dirs;
    w->cap = cap;
  }
  w->dirs[w->n++] = fd;
  return 0;
}

/* Replace the link (whose name ends at rest[pos]) by its target: what follows
 * it stays. An absolute target starts again at the root: inside it. */
static int walker_expand(walker *w, int link, size_t pos) {
  char target[PATH_MAX];
  if (++w->links > MAX_LINKS)
    return errno = ELOOP, -1;
  ssize_t n = readlinkat(link, "", target, sizeof target);
  if (n < 0)
    return -1;
  if (n == 0)
    return errno = ENOENT, -1;
  size_t tail = strlen(w->rest + pos);
  if ((size_t)n + tail >= sizeof w->rest)
    return errno = ENAMETOOLONG, -1;
  memmove(w->rest + n, w->rest + pos, tail + 1);
  memcpy(w->rest, target, (size_t)n);
  if (target[0] == '/')
    walker_pop_all(w);
  return 0;
}

/* The object at the end of the walk: returns its fd, or -1. */
static int walker_last(walker *w, int probe, const struct stat *st,
                       const char *name, int flags, mode_t mode) {
  if (flags & O_PATH) {
    if ((flags & O_DIRECTORY) && !S_ISDIR(st->st_mode))
      return close(probe), errno = ENOTDIR, -1;
    return probe; /* the very object looked at: no second lookup */
  }
  close(probe);
  /* O_NOFOLLOW: had it become a symlink since, this fails with ELOOP */
  return openat(walker_cur(w), name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
}

#define STEP_MORE (-2) /* a directory was pushed: go on */
#define STEP_LINK (-3) /* a symlink was expanded: start again on the text */

/* One component: push a directory (STEP_MORE), expand a symlink (STEP_LINK),
 * or return the final fd (or -1). mkdirs creates missing directories. */
static int walker_step(walker *w, const char *name, size_t pos, int last,
                       int flags, mode_t mode, int mkdirs) {
  int dir = walker_cur(w);
  int probe = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (probe < 0 && errno == ENOENT) {
    if (mkdirs && mount_set_check(w->own, dir) == 0 &&
        (mkdirat(dir, name, mode) == 0 || errno == EEXIST))
      probe = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    else if (last && !mkdirs && (flags & O_CREAT))
      return openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
  }
  struct stat st;
  if (probe < 0 || fstat(probe, &st) != 0) {
    if (probe >= 0)
      close(probe);
    return -1;
  }
  /* open(2): O_CREAT|O_EXCL never follows a symlink at the end */
  int follow =
      !last || mkdirs ||
      !((flags & O_NOFOLLOW) || ((flags & O_CREAT) && (flags & O_EXCL)));
  if (S_ISLNK(st.st_mode) && follow) {
    int rc = walker_expand(w, probe, pos);
    close(probe);
    return rc < 0 ? -1 : STEP_LINK;
  }
  if (last && !mkdirs)
    return walker_last(w, probe, &st, name, flags, mode);
  if (!S_ISDIR(st.st_mode))
    return close(probe), errno = ENOTDIR, -1;
  return walker_push(w, probe) < 0 ? -1 : STEP_MORE;
}

/* The next component of w->rest at *pos into name: 1, 0 at the end of the
 * text, -1 for a name longer than NAME_MAX. */
static int walker_next(walker *w, size_t *pos, char *name) {
  while (w->rest[*pos] == '/')
    (*pos)++;
  if (w->rest[*pos] == '\0')
    return 0;
  size_t len = strcspn(w->rest + *pos, "/");
  if (len > NAME_MAX)
    return errno = ENAMETOOLONG, -1;
  memcpy(name, w->rest + *pos, len);
  name[len] = '\0';
  *pos += len;
  return 1;
}

/* Resolve path inside root component by component and open it with flags
 * (own: create the missing directories, on those mounts only, and return an
 * O_PATH fd). */
static int walk(int root, const char *path, int flags, mode_t mode,
                const mount_set *own) {
  int mkdirs = own != NULL;
  walker w = {.root = root, .own = own};
  if (strlen(path) >= sizeof w.rest)
    return errno = ENAMETOOLONG, -1;
  strcpy(w.rest, path);
  char name[NAME_MAX + 1];
  size_t pos = 0;
  int more, fd = STEP_MORE;
  while ((more = walker_next(&w, &pos, name)) > 0) {
    if (strcmp(name, ".") == 0)
      continue;
    if (strcmp(name, "..") == 0) { /* never above the root */
      if (w.n)
        close(w.dirs[--w.n]);
      continue;
    }
    fd = walker_step(&w, name, pos, w.rest[pos] == '\0', flags, mode, mkdirs);
    if (fd == STEP_LINK)
      pos = 0;
    else if (fd != STEP_MORE)
      break;
  }
  if (more == 0) /* it ends at a directory: "", "/", "a/..", "a/" */
    fd = openat(walker_cur(&w), ".",
                mkdirs ? O_PATH | O_DIRECTORY | O_CLOEXEC : flags | O_CLOEXEC,
                mode);
  else if (more < 0)
    fd = -1;
  walker_free(&w);
  return fd;
}

/* A mode for open(2) only when it creates: openat2(2) refuses (EINVAL) a
 * mode without O_CREAT or O_TMPFILE. */
static mode_t creation_mode(int flags, mode_t mode) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? mode : 0;
}

/* Open path inside root with flags (O_CLOEXEC added), the root's way. */
static int open_in_root(int root, int how, const char *path, int flags,
                        mode_t mode) {
  mode = creation_mode(flags, mode);
  for (int i = 0; how == HOW_OPENAT2 && i < OPENAT2_TRIES; i++) {
    /* openat2 takes no empty path; "." is the root itself */
    int fd = nsl_sys_openat2(root, *path ? path : ".", flags | O_CLOEXEC, mode,
                             RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd >= 0 || (errno != EAGAIN && errno != ENOSYS))
      return fd;
    if (errno == ENOSYS)
      break;
  }
  return walk(root, path, flags, mode, NULL);
}

/* The last name of path into name ("" when the path names a directory by
 * ".", ".." or no name at all: "/", "a/..") and an O_PATH fd of the
 * directory it is in, resolved in root. */
static int parent_in_root(int root, int how, const char *path, char *name) {
  size_t end = strlen(path);
  while (end > 0 && path[end - 1] == '/')
    end--;
  size_t start = end;
  while (start > 0 && path[start - 1] != '/')
    start--;
  if (end - start > NAME_MAX || start >= PATH_MAX)
    return errno = ENAMETOOLONG, -1;
  memcpy(name, path + start, end - start);
  name[end - start] = '\0';
  char dir[PATH_MAX];
  memcpy(dir, path, start);
  dir[start] = '\0';
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
    name[0] = '\0';
    return open_in_root(root, how, path, O_PATH | O_DIRECTORY, 0);
  }
  return open_in_root(root, how, dir, O_PATH | O_DIRECTORY, 0);
}

/* ---- plain helpers: mounts ----------------------------------------------- */

/* The mount(2) bits that are per-mount attributes in the new mount API
 * (fsmount(2), mount_setattr(2)). */
static const struct {
  unsigned long ms;
  unsigned attr;
} mount_attrs[] = {{MS_RDONLY, MOUNT_ATTR_RDONLY},
                   {MS_NOSUID, MOUNT_ATTR_NOSUID},
                   {MS_NODEV, MOUNT_ATTR_NODEV},
                   {MS_NOEXEC, MOUNT_ATTR_NOEXEC},
                   {MS_NODIRATIME, MOUNT_ATTR_NODIRATIME},
                   {MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW},
                   {MS_NOATIME, MOUNT_ATTR_NOATIME},
                   {MS_STRICTATIME, MOUNT_ATTR_STRICTATIME},
                   {MS_RELATIME, MOUNT_ATTR_RELATIME}};

/* The mount(2) bits that are superblock flags: fsconfig(2) flag keys (the
 * kernel's common_set_sb_flag in fs/fs_context.c). */
static const struct {
  unsigned long ms;
  const char *key;
} sb_keys[] = {{MS_RDONLY, "ro"},
               {MS_SYNCHRONOUS, "sync"},
               {MS_DIRSYNC, "dirsync"},
               {MS_LAZYTIME, "lazytime"},
               {MS_MANDLOCK, "mand"}};

#define ATIME_MS (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)
#define PROPAGATION_MS (MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_UNBINDABLE)
#define ATTR_MS                                                                \
  (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NODIRATIME |              \
   MS_NOSYMFOLLOW | ATIME_MS)
#define SB_MS (MS_SYNCHRONOUS | MS_DIRSYNC | MS_LAZYTIME | MS_MANDLOCK)

static unsigned attrs_of(unsigned long ms) {
  unsigned attr = 0;
  for (size_t i = 0; i < sizeof mount_attrs / sizeof *mount_attrs; i++)
    if (ms & mount_attrs[i].ms)
      attr |= mount_attrs[i].attr;
  return attr;
}

/* mount_setattr(2)'s request to set ms (and clear clear): an atime mode
 * replaces the old one only with all of MOUNT_ATTR__ATIME cleared. */
static struct mount_attr attr_request(unsigned long ms, unsigned long clear) {
  struct mount_attr a;
  memset(&a, 0, sizeof a);
  a.attr_set = attrs_of(ms);
  a.attr_clr = attrs_of(clear & ~ATIME_MS);
  if ((ms | clear) & ATIME_MS)
    a.attr_clr |= MOUNT_ATTR__ATIME;
  a.propagation = ms & PROPAGATION_MS;
  return a;
}

/* The options of a mount(2) data string ("mode=755,gid=5") as fsconfig(2)
 * calls, split at commas as the kernel splits them for mount(2)
 * (generic_parse_monolithic). data is cut up; *key is the failed option. */
static int set_options(int fs, char *data, const char **key) {
  char *save = NULL;
  for (char *opt = strtok_r(data, ",", &save); opt;
       opt = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(opt, '=');
    if (eq)
      *eq = '\0';
    *key = opt;
    if ((eq ? fsconfig(fs, FSCONFIG_SET_STRING, opt, eq + 1, 0)
            : fsconfig(fs, FSCONFIG_SET_FLAG, opt, NULL, 0)) != 0)
      return -1;
  }
  return 0;
}

static int configure(int fs, const char *source, char *data, unsigned long ms,
                     const char **key) {
  *key = "source";
  if (source && fsconfig(fs, FSCONFIG_SET_STRING, "source", source, 0) != 0)
    return -1;
  for (size_t i = 0; i < sizeof sb_keys / sizeof *sb_keys; i++) {
    *key = sb_keys[i].key;
    if ((ms & sb_keys[i].ms) &&
        fsconfig(fs, FSCONFIG_SET_FLAG, sb_keys[i].key, NULL, 0) != 0)
      return -1;
  }
  return data ? set_options(fs, data, key) : 0;
}

/* A new detached mount of fstype (fsopen, fsconfig, fsmount): its fd, or
 * -1 with *step the call that failed and *key its option or NULL. */
static int new_mount(const char *fstype, const char *source, char *data,
                     unsigned long ms, const char **step, const char **key) {
  int fs = fsopen(fstype, FSOPEN_CLOEXEC), mnt = -1;
  *key = NULL;
  if (fs < 0)
    return *step = "fsopen", *key = fstype, -1;
  if (configure(fs, source, data, ms, key) != 0)
    *step = "fsconfig";
  else if (*key = NULL, fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0)
    *step = "fsconfig create";
  else if ((mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs_of(ms))) < 0)
    *step = "fsmount";
  close_keep_errno(fs);
  return mnt;
}

/* Attach the detached mount mnt onto exactly the object target is an O_PATH
 * fd of: no path is looked up again (move_mount(2)). */
static int attach(int mnt, int target) {
  return move_mount(mnt, "", target, "",
                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

/* Take the attached mount mnt away again (its root is mnt's path): 0, or
 * -1 with errno when it stays where it is. */
static int detach(int mnt) {
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", mnt);
  return umount2(proc, MNT_DETACH);
}

/* Is what path now resolves to in root the root of the mount mnt? 1 yes,
 * 0 no (*found is the filesystem magic there), -1 on error. */
static int reaches(int root, int how, const char *path, int mnt,
                   unsigned long *found) {
  int fd = open_in_root(root, how, path, O_PATH, 0);
  if (fd < 0)
    return -1;
  struct stat here, want;
  struct statfs fs;
  int rc = -1;
  if (fstat(fd, &here) == 0 && fstat(mnt, &want) == 0 &&
      fstatfs(fd, &fs) == 0) {
    *found = (unsigned long)fs.f_type & 0xffffffffUL;
    rc = here.st_dev == want.st_dev && here.st_ino == want.st_ino;
  }
  close_keep_errno(fd);
  return rc;
}

/* ---- plain helpers: filesystem types ------------------------------------- */

static const struct {
  unsigned long magic;
  const char *name;
} fs_names[] = {{PROC_SUPER_MAGIC, "proc"},
                {SYSFS_MAGIC, "sysfs"},
                {TMPFS_MAGIC, "tmpfs"}, /* devtmpfs too */
                {DEVPTS_SUPER_MAGIC, "devpts"},
                {0x19800202, "mqueue"}, /* MQUEUE_MAGIC, not in linux/magic.h */
                {CGROUP2_SUPER_MAGIC, "cgroup2"},
                {CGROUP_SUPER_MAGIC, "cgroup"},
                {RAMFS_MAGIC, "ramfs"},
                {EXT4_SUPER_MAGIC, "ext4"}, /* ext2 and ext3 share it */
                {BTRFS_SUPER_MAGIC, "btrfs"},
                {XFS_SUPER_MAGIC, "xfs"},
                {F2FS_SUPER_MAGIC, "f2fs"},
                {OVERLAYFS_SUPER_MAGIC, "overlay"},
                {SQUASHFS_MAGIC, "squashfs"},
                {EROFS_SUPER_MAGIC_V1, "erofs"},
                {FUSE_SUPER_MAGIC, "fuse"},
                {NFS_SUPER_MAGIC, "nfs"},
                {V9FS_MAGIC, "9p"},
                {MSDOS_SUPER_MAGIC, "vfat"},
                {ISOFS_SUPER_MAGIC, "iso9660"},
                {HUGETLBFS_MAGIC, "hugetlbfs"},
                {NSFS_MAGIC, "nsfs"},
                {BPF_FS_MAGIC, "bpf"},
                {BINFMTFS_MAGIC, "binfmt_misc"},
                {DEBUGFS_MAGIC, "debugfs"},
                {TRACEFS_MAGIC, "tracefs"},
                {SECURITYFS_MAGIC, "securityfs"},
                {SELINUX_MAGIC, "selinuxfs"},
                {PSTOREFS_MAGIC, "pstore"},
                {EFIVARFS_MAGIC, "efivarfs"},
                {AUTOFS_SUPER_MAGIC, "autofs"}};

/* The name of a statfs(2) f_type, or its number in hex in buf. */
static const char *fs_name(unsigned long magic, char *buf, size_t size) {
  for (size_t i = 0; i < sizeof fs_names / sizeof *fs_names; i++)
    if (fs_names[i].magic == magic)
      return fs_names[i].name;
  snprintf(buf, size, "0x%lx", magic);
  return buf;
}

/* ---- flag words ---------------------------------------------------------- */

/* open(2)'s words, as nsl.open takes them; O_CLOEXEC is always added. */
static const nsl_Flag open_flags[] = {
    {"rdonly", O_RDONLY}, {"wronly", O_WRONLY},     {"rdwr", O_RDWR},
    {"creat", O_CREAT},   {"excl", O_EXCL},         {"trunc", O_TRUNC},
    {"append", O_APPEND}, {"nofollow", O_NOFOLLOW}, {"directory", O_DIRECTORY},
    {"path", O_PATH},     {"cloexec", O_CLOEXEC},   {"nonblock", O_NONBLOCK},
    {"noctty", O_NOCTTY}, {"tmpfile", O_TMPFILE},   {NULL, 0}};

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
  unsigned long propagation = ms & PROPAGATION_MS;
  if (propagation & (propagation - 1))
    luaL_argerror(L, arg, "more than one propagation word");
  return ms;
}

/* ---- the root handle ----------------------------------------------------- */

typedef struct nsl_root {
  int fd; /* O_PATH|O_DIRECTORY, -1 once closed */
  int how;
  mount_set own; /* the root's mount and what mount_on made: writable */
  char path[];   /* as root_open had it, for messages */
} nsl_root;

static nsl_root *check_root(lua_State *L) {
  nsl_root *r = luaL_checkudata(L, 1, NSL_ROOT);
  luaL_argcheck(L, r->fd >= 0, 1, "root is closed");
  return r;
}

/* nil, "OP 'PATH' in root 'ROOT': strerror", errno */
static int root_fail(lua_State *L, const nsl_root *r, const char *op,
                     const char *path) {
  return nsl_fail(L, "%s '%s' in root '%s'", op, path, r->path);
}

/* root_fail, saying why when a write was refused: EXDEV from
 * mount_set_check (no *at call that writes gives EXDEV itself). */
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
  r->fd = -1;
  r->how = how;
  memset(&r->own, 0, sizeof r->own);
  memcpy(r->path, path, len + 1);
  luaL_setmetatable(L, NSL_ROOT);
  /* the root itself is the caller's choice: resolved on the host; its own
   * mount is the container's to write on (not the mounts below it) */
  uint64_t id;
  int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return nsl_fail(L, "root_open '%s'", path);
  nsl_own(L, &r->fd, fd);
  if (nsl_sys_mount_id(fd, &id) != 0 || mount_set_reserve(&r->own) != 0)
    return nsl_fail(L, "root_open '%s'", path); /* the handle closes fd */
  mount_set_add(&r->own, id);
  return 1;
}

static int root_close(lua_State *L) {
  nsl_root *r = luaL_checkudata(L, 1, NSL_ROOT);
  int fd = r->fd;
  nsl_disown(L, &r->fd);
  if (fd >= 0)
    close(fd);
  free(r->own.ids);
  memset(&r->own, 0, sizeof r->own);
  return 0;
}

static int root_closed(lua_State *L) {
  root_close(L);
  return nsl_ok(L);
}

static int root_tostring(lua_State *L) {
  nsl_root *r = luaL_checkudata(L, 1, NSL_ROOT);
  if (r->fd < 0)
    lua_pushfstring(L, "nsl.root '%s' (closed)", r->path);
  else
    lua_pushfstring(L, "nsl.root '%s' (fd %d)", r->path, r->fd);
  return 1;
}

static int root_fd(lua_State *L) {
  lua_pushinteger(L, check_root(L)->fd);
  return 1;
}

static int root_path(lua_State *L) {
  lua_pushstring(L, ((nsl_root *)luaL_checkudata(L, 1, NSL_ROOT))->path);
  return 1;
}

/* ---- opening and making things ------------------------------------------- */

static int writes(int flags) {
  return (flags & (O_CREAT | O_TRUNC | O_APPEND)) ||
         (flags & O_ACCMODE) != O_RDONLY;
}

/* Make (O_CREAT) or open the file at path with flags, in a directory
 * checked to be on a mount of the root's own. A symlink at the end (one that
 * dangles, or O_CREAT would follow it) is resolved here, inside the root, and
 * its target's directory checked in turn: nothing is made where the check
 * did not look. O_CREAT|O_EXCL never follows it, as open(2). */
static int create_in_own(const nsl_root *r, const char *path, int flags,
                         mode_t mode) {
  char cur[PATH_MAX], target[PATH_MAX], name[NAME_MAX + 1];
  if (strlen(path) >= sizeof cur)
    return errno = ENAMETOOLONG, -1;
  strcpy(cur, path);
  for (int links = 0; links <= MAX_LINKS; links++) {
    int dir = parent_in_root(r->fd, r->how, cur, name);
    if (dir < 0)
      return -1;
    int fd = mount_set_check(&r->own, dir) != 0
                 ? -1
                 : openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    ssize_t n = -1;
    if (fd < 0 && errno == ELOOP && !(flags & O_EXCL))
      n = readlinkat(dir, name, target, sizeof target - 1);
    close_keep_errno(dir);
    if (n < 0)
      return fd;
    target[n] = '\0';
    /* the link's target, from the directory the link is in */
    char *slash = target[0] == '/' ? NULL : strrchr(cur, '/');
    size_t keep = slash ? (size_t)(slash - cur) + 1 : 0;
    if (keep + (size_t)n >= sizeof cur)
      return errno = ENAMETOOLONG, -1;
    memcpy(cur + keep, target, (size_t)n + 1);
  }
  return errno = ELOOP, -1;
}

/* Open path in root for writing, only on a mount of the root's own: what is
 * there is opened (through links, inside the root) and its mount checked
 * before anything is truncated; a new file is made by create_in_own. */
static int open_to_write(const nsl_root *r, const char *path, int flags,
                         mode_t mode) {
  int fd = (flags & O_CREAT)
               ? create_in_own(r, path, flags & ~O_TRUNC, mode)
               : open_in_root(r->fd, r->how, path, flags & ~O_TRUNC, 0);
  if (fd < 0)
    return -1;
  if (mount_set_check(&r->own, fd) != 0 ||
      ((flags & O_TRUNC) && ftruncate(fd, 0) != 0)) {
    close_keep_errno(fd);
    return -1;
  }
  return fd;
}

static int root_open(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  int flags = (int)nsl_optflags(L, 3, open_flags, "open flag");
  mode_t mode = nsl_optmode(L, 4, 0666);
  int *slot = nsl_newfd(L);
  int fd = writes(flags) ? open_to_write(r, path, flags, mode)
                         : open_in_root(r->fd, r->how, path, flags, mode);
  if (fd < 0)
    return write_fail(L, r, "open", path);
  nsl_own(L, slot, fd);
  return 1;
}

static int root_mkdir_all(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  mode_t mode = nsl_optmode(L, 3, 0755);
  /* always walked: a dangling symlink's target is made, inside the root */
  int fd = walk(r->fd, path, O_PATH | O_DIRECTORY, mode, &r->own);
  if (fd < 0)
    return write_fail(L, r, "mkdir_all", path);
  close(fd);
  return nsl_ok(L);
}

/* A *at(2) call that writes on the last name of path in its parent,
 * resolved in root; the parent must be on a mount of the root's own (with
 * own NULL the call checks for itself). With no last name (".", "..", "/")
 * the path is a directory: errno is_dir_errno then. */
typedef int (*at_fn)(int dir, const char *name, const void *arg);

static int at_parent(const nsl_root *r, const char *path, at_fn fn,
                     const void *arg, int is_dir_errno, const mount_set *own) {
  char name[NAME_MAX + 1];
  int dir = parent_in_root(r->fd, r->how, path, name);
  if (dir < 0)
    return -1;
  int rc = !name[0]                                ? (errno = is_dir_errno, -1)
           : own && mount_set_check(own, dir) != 0 ? -1
                                                   : fn(dir, name, arg);
  close_keep_errno(dir);
  return rc;
}

static const char *const node_types[] = {"char", "block",  "fifo",
                                         "file", "socket", NULL};
static const mode_t node_bits[] = {S_IFCHR, S_IFBLK, S_IFIFO, S_IFREG,
                                   S_IFSOCK};

typedef struct node {
  mode_t mode;
  dev_t dev;
} node;

static int do_mknod(int dir, const char *name, const void *arg) {
  const node *n = arg;
  return mknodat(dir, name, n->mode, n->dev); /* never follows a symlink */
}

static int root_mknod(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  int type = luaL_checkoption(L, 3, NULL, node_types);
  mode_t mode = nsl_checkmode(L, 4);
  lua_Integer major = luaL_optinteger(L, 5, 0);
  lua_Integer minor = luaL_optinteger(L, 6, 0);
  luaL_argcheck(L, major >= 0 && major <= 0xfff, 5, "major out of range");
  luaL_argcheck(L, minor >= 0 && minor <= 0xfffff, 6, "minor out of range");
  node n = {node_bits[type] | mode, makedev((unsigned)major, (unsigned)minor)};
  if (at_parent(r, path, do_mknod, &n, EEXIST, &r->own) != 0)
    return write_fail(L, r, "mknod", path);
  return nsl_ok(L);
}

static int do_symlink(int dir, const char *name, const void *target) {
  return symlinkat(target, dir, name);
}

static int root_symlink(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *target = luaL_checkstring(L, 2);
  const char *linkpath = luaL_checkstring(L, 3);
  /* target is only text: it is resolved (inside a root) when used */
  if (at_parent(r, linkpath, do_symlink, target, EEXIST, &r->own) != 0)
    return errno == EXDEV ? write_fail(L, r, "symlink", linkpath)
                          : nsl_fail(L, "symlink '%s' to '%s' in root '%s'",
                                     target, linkpath, r->path);
  return nsl_ok(L);
}

static int do_unlink(int dir, const char *name, const void *arg) {
  (void)arg; /* unused: at_parent's callbacks share one signature */
  return unlinkat(dir, name, 0); /* a symlink itself, never its target */
}

static int root_unlink(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  if (at_parent(r, path, do_unlink, NULL, EISDIR, &r->own) != 0)
    return write_fail(L, r, "unlink", path);
  return nsl_ok(L);
}

/* An empty file to bind a file onto. An existing non-directory is left as
 * it is (a file, a device node..., on any mount: nothing is written); a
 * symlink is refused (ELOOP: the thing at the path would be its target) and
 * so is a directory (EISDIR). A new file only on a mount of the root's. */
typedef struct touch_arg {
  mode_t mode;
  const mount_set *own;
} touch_arg;

static int do_touch(int dir, const char *name, const void *arg) {
  const touch_arg *t = arg;
  struct stat st;
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return S_ISLNK(st.st_mode)   ? (errno = ELOOP, -1)
           : S_ISDIR(st.st_mode) ? (errno = EISDIR, -1)
                                 : 0;
  if (errno != ENOENT || mount_set_check(t->own, dir) != 0)
    return -1;
  int fd = openat(
      dir, name, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, t->mode);
  return fd < 0 ? -1 : close(fd);
}

static int root_touch(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  touch_arg t = {nsl_optmode(L, 3, 0644), &r->own};
  if (at_parent(r, path, do_touch, &t, EISDIR, NULL) != 0)
    return write_fail(L, r, "touch", path);
  return nsl_ok(L);
}

/* ---- looking at things and changing them --------------------------------- */

/* nsl.stat(fd) (upvalue 1) of path opened O_PATH (plus extra) in root. */
static int stat_in_root(lua_State *L, const char *op, int extra) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  int fd = open_in_root(r->fd, r->how, path, O_PATH | extra, 0);
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

static int root_stat(lua_State *L) { return stat_in_root(L, "stat", 0); }

static int root_owns(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  int fd = open_in_root(r->fd, r->how, path, O_PATH, 0);
  int rc = fd < 0 ? -1 : mount_set_check(&r->own, fd);
  close_keep_errno(fd);
  if (rc != 0 && errno != EXDEV)
    return root_fail(L, r, "owns", path);
  lua_pushboolean(L, rc == 0);
  return 1;
}

static int root_lstat(lua_State *L) {
  return stat_in_root(L, "lstat", O_NOFOLLOW);
}

static int root_readlink(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  char buf[PATH_MAX];
  struct stat st;
  ssize_t n = -1;
  int fd = open_in_root(r->fd, r->how, path, O_PATH | O_NOFOLLOW, 0);
  if (fd >= 0 && fstat(fd, &st) == 0) /* EINVAL for no symlink: readlink(2) */
    n = S_ISLNK(st.st_mode) ? readlinkat(fd, "", buf, sizeof buf)
                            : (errno = EINVAL, -1);
  close_keep_errno(fd);
  if (n < 0)
    return root_fail(L, r, "readlink", path);
  lua_pushlstring(L, buf, (size_t)n);
  return 1;
}

/* fchmodat2(2) on an O_PATH fd (Linux 6.6), else chmod(2) through the fd's
 * magic link, which names exactly that inode. */
static int chmod_fd(int fd, mode_t mode) {
  if (syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH) == 0)
    return 0;
  if (errno != ENOSYS)
    return -1;
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  return chmod(proc, mode);
}

static int root_chmod(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  mode_t mode = nsl_checkmode(L, 3);
  int fd = open_in_root(r->fd, r->how, path, O_PATH, 0);
  int rc =
      fd < 0 || mount_set_check(&r->own, fd) != 0 ? -1 : chmod_fd(fd, mode);
  close_keep_errno(fd);
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
  int fd = open_in_root(r->fd, r->how, path, O_PATH | extra, 0);
  int rc = fd < 0 || mount_set_check(&r->own, fd) != 0
               ? -1
               : fchownat(fd, "", uid, gid, AT_EMPTY_PATH);
  close_keep_errno(fd);
  if (rc != 0 && errno == EXDEV)
    return write_fail(L, r, op, path);
  if (rc != 0)
    return nsl_fail(L, "%s '%s' to %d:%d in root '%s'", op, path, (int)uid,
                    (int)gid, r->path);
  return nsl_ok(L);
}

static int root_chown(lua_State *L) { return chown_in_root(L, "chown", 0); }

static int root_lchown(lua_State *L) {
  return chown_in_root(L, "lchown", O_NOFOLLOW);
}

/* ---- mounts -------------------------------------------------------------- */

/* nil, "WHAT in root 'ROOT': expected X, found Y", EXDEV: the path does not
 * reach the new mount (found is the filesystem it reaches). */
static int verify_fail(lua_State *L, const nsl_root *r, const char *what,
                       const char *expected, unsigned long found) {
  char buf[32];
  const char *name = fs_name(found, buf, sizeof buf);
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
  int rc = attach(mnt, target);
  close_keep_errno(target);
  if (rc != 0) {
    close_keep_errno(mnt);
    return step_fail(L, r, what, "move_mount", NULL);
  }
  unsigned long found = 0;
  int ok = reaches(r->fd, r->how, path, mnt, &found), err = errno;
  /* through /proc/self/fd: fails without /proc, and then the mount stays
   * somewhere it was not meant to be: that is the error to report */
  int detached = ok == 1 || detach(mnt) == 0;
  close_keep_errno(mnt);
  if (!detached)
    return step_fail(L, r, what, "umount2 after a failed verify", NULL);
  errno = err;
  if (ok < 0)
    return step_fail(L, r, what, "verify", NULL);
  return ok ? nsl_ok(L) : verify_fail(L, r, what, expected, found);
}

static int root_mount_on(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  const char *source = luaL_optstring(L, 3, NULL);
  const char *fstype = luaL_checkstring(L, 4);
  unsigned long ms =
      check_mount_flags(L, 5, ATTR_MS | SB_MS | MS_SILENT, "mount_on");
  size_t len = 0;
  const char *data = luaL_optlstring(L, 6, NULL, &len);
  /* a copy to cut into options, Lua's: nothing to free on a raise */
  char *options =
      data ? memcpy(lua_newuserdatauv(L, len + 1, 0), data, len + 1) : NULL;
  const char *what = lua_pushfstring(L, "mount_on '%s'", path);
  int target = open_in_root(r->fd, r->how, path, O_PATH, 0);
  if (target < 0)
    return root_fail(L, r, "mount_on", path);
  const char *step, *key;
  uint64_t id;
  int mnt = new_mount(fstype, source, options, ms, &step, &key);
  if (mnt >= 0 &&
      (nsl_sys_mount_id(mnt, &id) != 0 || mount_set_reserve(&r->own) != 0)) {
    close_keep_errno(mnt);
    mnt = -1, step = "statx", key = NULL;
  }
  if (mnt < 0) {
    close_keep_errno(target);
    return step_fail(L, r, what, step, key);
  }
  /* a new filesystem, made for the container: the root may write on it (the
   * id stays the mount's when it is attached) */
  int n = attach_verified(L, r, path, target, mnt, what, fstype);
  if (lua_toboolean(L, -n))
    mount_set_add(&r->own, id);
  return n;
}

static int root_bind_on(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  const char *source = luaL_checkstring(L, 3);
  unsigned long ms = check_mount_flags(
      L, 4, MS_BIND | MS_REC | ATTR_MS | PROPAGATION_MS, "bind_on");
  const char *what = lua_pushfstring(L, "bind_on '%s' on '%s'", source, path);
  const char *expected = lua_pushfstring(L, "the bind of '%s'", source);
  unsigned rec = (ms & MS_REC) ? AT_RECURSIVE : 0;
  struct mount_attr attr = attr_request(ms, 0);
  int target = open_in_root(r->fd, r->how, path, O_PATH, 0);
  if (target < 0)
    return nsl_fail(L, "%s in root '%s'", what, r->path);
  /* the source is the caller's choice: resolved on the host */
  int tree =
      open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
  const char *step = "open_tree";
  /* flags go on the detached copy: it is never seen writable (nor needs a
   * remount that must repeat the locked flags in a user namespace) */
  if (tree >= 0 && (attr.attr_set || attr.attr_clr || attr.propagation) &&
      mount_setattr(tree, "", AT_EMPTY_PATH | rec, &attr, sizeof attr) != 0) {
    close_keep_errno(tree);
    tree = -1;
    step = "mount_setattr";
  }
  if (tree < 0) {
    close_keep_errno(target);
    return step_fail(L, r, what, step, NULL);
  }
  return attach_verified(L, r, path, target, tree, what, expected);
}

static int root_remount(lua_State *L) {
  nsl_root *r = check_root(L);
  const char *path = luaL_checkstring(L, 2);
  unsigned long ms = check_mount_flags(
      L, 3, MS_REMOUNT | MS_BIND | MS_REC | ATTR_MS | PROPAGATION_MS,
      "remount");
  unsigned long clear = check_mount_flags(L, 4, ATTR_MS, "remount");
  struct mount_attr attr = attr_request(ms, clear);
  unsigned rec = (ms & MS_REC) ? AT_RECURSIVE : 0;
  /* the path resolves through the mounts on it: the fd is the top one's root */
  int fd = open_in_root(r->fd, r->how, path, O_PATH, 0);
  int rc = fd < 0
               ? -1
               : mount_setattr(fd, "", AT_EMPTY_PATH | rec, &attr, sizeof attr);
  close_keep_errno(fd);
  if (rc != 0)
    return root_fail(L, r, "remount", path);
  return nsl_ok(L);
}

/* ---- module functions ---------------------------------------------------- */

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
  lua_pushstring(
      L, fs_name((unsigned long)fs.f_type & 0xffffffffUL, buf, sizeof buf));
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
    {"root_open", l_root_open, "root_open(path [, how]) -> root",
     "a root handle (O_PATH fd): its methods resolve every path inside it "
     "(openat2 RESOLVE_IN_ROOT, or how = \"walk\")"},
    {NULL, NULL, NULL, NULL}};

/* The methods of a root (paths are inside it; absolute or relative both
 * start at the root). Each returns nil, "OP 'PATH' in root 'ROOT': ...",
 * errno on failure, and raises for bad arguments. Writes refused because
 * the place is not on a mount of the root's own fail with EXDEV.
 *   root:open(path [, flags [, mode]]) -> fd     flags as nsl.open's words
 *   root:mkdir_all(path [, mode]) -> true        mode 0755 by default
 *   root:mknod(path, type, mode [, major, minor]) -> true
 *   root:symlink(target, linkpath) -> true
 *   root:unlink(path) -> true                    a link itself, not a dir
 *   root:readlink(path) -> target
 *   root:stat(path), root:lstat(path) -> { type, mode, ... } as nsl.stat's
 *   root:chmod(path, mode), root:chown(path, uid, gid),
 *   root:lchown(path, uid, gid) -> true
 *   root:touch(path [, mode]) -> true            an empty file to bind onto
 *   root:owns(path) -> boolean   is path on a mount made for the container
 *                                (the root's own or one mount_on made)?
 *   root:mount_on(path, source, fstype [, flags [, data]]) -> true
 *   root:bind_on(path, host_source [, flags]) -> true
 *   root:remount(path, flags [, clear]) -> true  mount_setattr(2)
 *   root:fd() -> n, root:path() -> host path, root:close() -> true */
void nsl_root_open(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"bind_on", root_bind_on}, {"chmod", root_chmod},
      {"chown", root_chown},     {"close", root_closed},
      {"fd", root_fd},           {"lchown", root_lchown},
      {"lstat", root_lstat},     {"mkdir_all", root_mkdir_all},
      {"mknod", root_mknod},     {"mount_on", root_mount_on},
      {"open", root_open},       {"owns", root_owns},
      {"path", root_path},       {"readlink", root_readlink},
      {"remount", root_remount}, {"stat", root_stat},
      {"symlink", root_symlink}, {"touch", root_touch},
      {"unlink", root_unlink},   {NULL, NULL}};
  static const luaL_Reg meta[] = {{"__close", root_close},
                                  {"__gc", root_close},
                                  {"__index", NULL},
                                  {"__tostring", root_tostring},
                                  {NULL, NULL}};
  if (luaL_newmetatable(L, NSL_ROOT)) {
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    /* stat and lstat build their table with nsl.stat(fd) */
    lua_getfield(L, -3, "stat");
    luaL_setfuncs(L, methods, 1);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
}
