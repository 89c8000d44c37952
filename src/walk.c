/* walk.c: resolving a path inside a root, never through the host: a symlink
 * in an image (dev -> /etc, proc -> /, a/b -> ../../../x) resolves as if the
 * root were /, and `..` stops at it (see walk.h). Plain C, no lua_State.
 *
 * How a path is resolved (the root's "how"):
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
 * Writes land only on the mounts of the root's set (nsl_mountset): the
 * caller checks the fd it writes through, or lets these functions check the
 * directory they create in. */
#include "walk.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* MAXSYMLINKS: see path_resolution(7) */
#define MAX_LINKS 40
/* openat2 answers EAGAIN when a rename or mount raced a `..` (see openat2(2),
 * RESOLVE_IN_ROOT): retry a few times, then walk. */
#define OPENAT2_TRIES 16

/* ---- the mounts a root writes on ------------------------------------------
 */

int nsl_mountset_reserve(nsl_mountset *s) {
  if (s->n < s->cap)
    return 0;
  if (s->cap == 0) {
    s->ids = s->inline_ids;
    s->cap = NSL_MOUNTSET_INLINE;
    return 0;
  }
  size_t cap = s->cap * 2;
  uint64_t *ids = s->ids == s->inline_ids ? malloc(cap * sizeof *ids)
                                          : realloc(s->ids, cap * sizeof *ids);
  if (ids == NULL)
    return errno = ENOMEM, -1;
  if (s->ids == s->inline_ids)
    memcpy(ids, s->inline_ids, s->n * sizeof *ids);
  s->ids = ids;
  s->cap = cap;
  return 0;
}

void nsl_mountset_clear(nsl_mountset *s) {
  if (s->ids != s->inline_ids)
    free(s->ids);
  memset(s, 0, sizeof *s);
}

static int mountset_has(const nsl_mountset *s, uint64_t id) {
  for (size_t i = 0; i < s->n; i++)
    if (s->ids[i] == id)
      return 1;
  return 0;
}

void nsl_mountset_add(nsl_mountset *s, uint64_t id) {
  if (!mountset_has(s, id))
    s->ids[s->n++] = id;
}

int nsl_mountset_check(const nsl_mountset *s, int fd) {
  uint64_t id;
  if (nsl_sys_mount_id(fd, &id) != 0)
    return -1;
  return mountset_has(s, id) ? 0 : (errno = EXDEV, -1);
}

/* ---- resolving inside a root ----------------------------------------------
 */

/* The directories walked so far below the root, innermost last: in the
 * walker itself up to 16 deep (a malloc'ed array was a page mapped and
 * unmapped by musl's malloc at every walk), malloc'ed deeper. */
#define WALKER_INLINE 16
typedef struct walker {
  int root;
  const nsl_mountset *own; /* where directories may be made (mkdirs) */
  int *dirs;               /* inline_dirs, or malloc'ed */
  size_t n, cap;
  int links;
  int inline_dirs[WALKER_INLINE];
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
    nsl_sys_close_keep_errno(w->dirs[--w->n]);
  if (w->dirs != w->inline_dirs)
    free(w->dirs);
}

static int walker_push(walker *w, int fd) {
  if (w->cap == 0) {
    w->dirs = w->inline_dirs;
    w->cap = WALKER_INLINE;
  }
  if (w->n == w->cap) {
    size_t cap = w->cap * 2;
    int *dirs = w->dirs == w->inline_dirs
                    ? malloc(cap * sizeof *dirs)
                    : realloc(w->dirs, cap * sizeof *dirs);
    if (dirs == NULL)
      return close(fd), errno = ENOMEM, -1;
    if (w->dirs == w->inline_dirs)
      memcpy(dirs, w->inline_dirs, w->n * sizeof *dirs);
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
    if (mkdirs && nsl_mountset_check(w->own, dir) == 0 &&
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
                const nsl_mountset *own) {
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
  if (more == 0 && mkdirs && w.n > 0)
    /* the directory walked to last, opened O_PATH and checked to be one by
     * walker_step: the fd mkdirs returns, with no second open of it */
    fd = w.dirs[--w.n];
  else if (more == 0) /* it ends at a directory: "", "/", "a/..", "a/" */
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

int nsl_walk_open(const nsl_walk_root *r, const char *path, int flags,
                  mode_t mode) {
  int root = r->fd, how = r->how;
  mode = creation_mode(flags, mode);
  for (int i = 0; how == NSL_HOW_OPENAT2 && i < OPENAT2_TRIES; i++) {
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
 * directory it is in, resolved in root. *is_root is 1 when that directory
 * is the root itself ("null", "/null"): the fd is then r->fd, not opened
 * again, and the caller does not close it. */
static int parent_in_root(const nsl_walk_root *r, const char *path, char *name,
                          int *is_root) {
  *is_root = 0;
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
    return nsl_walk_open(r, path, O_PATH | O_DIRECTORY, 0);
  }
  if (strspn(dir, "/") == start) { /* "", "/", "//": the root itself */
    *is_root = 1;
    return r->fd;
  }
  return nsl_walk_open(r, dir, O_PATH | O_DIRECTORY, 0);
}

/* Is dir (from parent_in_root) on a mount of own? The root's fd was
 * checked when it was opened (fd_is_own): not asked again. */
static int parent_is_own(const nsl_walk_root *r, int dir, int is_root,
                         const nsl_mountset *own) {
  if (is_root && r->fd_is_own && own == &r->own)
    return 0;
  return nsl_mountset_check(own, dir);
}

static void close_parent(int dir, int is_root) {
  if (!is_root)
    nsl_sys_close_keep_errno(dir);
}

/* Make (O_CREAT) or open the file at path with flags, in a directory
 * checked to be on a mount of the root's own. A symlink at the end (one that
 * dangles, or O_CREAT would follow it) is resolved here, inside the root, and
 * its target's directory checked in turn: nothing is made where the check
 * did not look. O_CREAT|O_EXCL never follows it, as open(2). */
static int create_in_own(const nsl_walk_root *r, const char *path, int flags,
                         mode_t mode) {
  char cur[PATH_MAX], target[PATH_MAX], name[NAME_MAX + 1];
  if (strlen(path) >= sizeof cur)
    return errno = ENAMETOOLONG, -1;
  strcpy(cur, path);
  for (int links = 0; links <= MAX_LINKS; links++) {
    int is_root;
    int dir = parent_in_root(r, cur, name, &is_root);
    if (dir < 0)
      return -1;
    int fd = parent_is_own(r, dir, is_root, &r->own) != 0
                 ? -1
                 : openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    ssize_t n = -1;
    if (fd < 0 && errno == ELOOP && !(flags & O_EXCL))
      n = readlinkat(dir, name, target, sizeof target - 1);
    close_parent(dir, is_root);
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

/* What is there is opened (through links, inside the root) and its mount
 * checked before anything is truncated; a new file is made by create_in_own. */
int nsl_walk_open_to_write(const nsl_walk_root *r, const char *path, int flags,
                           mode_t mode) {
  int fd = (flags & O_CREAT) ? create_in_own(r, path, flags & ~O_TRUNC, mode)
                             : nsl_walk_open(r, path, flags & ~O_TRUNC, 0);
  if (fd < 0)
    return -1;
  if (nsl_mountset_check(&r->own, fd) != 0 ||
      ((flags & O_TRUNC) && ftruncate(fd, 0) != 0)) {
    nsl_sys_close_keep_errno(fd);
    return -1;
  }
  return fd;
}

int nsl_walk_at_parent(const nsl_walk_root *r, const char *path, nsl_at_fn fn,
                       const void *arg, int is_dir_errno,
                       const nsl_mountset *own) {
  char name[NAME_MAX + 1];
  int is_root;
  int dir = parent_in_root(r, path, name, &is_root);
  if (dir < 0)
    return -1;
  int rc = !name[0] ? (errno = is_dir_errno, -1)
           : own && parent_is_own(r, dir, is_root, own) != 0
               ? -1
               : fn(dir, name, arg);
  close_parent(dir, is_root);
  return rc;
}

int nsl_walk_mkdir_all(const nsl_walk_root *r, const char *path, mode_t mode) {
  return walk(r->fd, path, O_PATH | O_DIRECTORY, mode, &r->own);
}

/* An empty file to bind a file onto. An existing non-directory is left as
 * it is (a file, a device node..., on any mount: nothing is written); a
 * symlink is refused (ELOOP: the thing at the path would be its target) and
 * so is a directory (EISDIR). A new file only on a mount of the root's. */
typedef struct touch_arg {
  mode_t mode;
  const nsl_walk_root *r;
} touch_arg;

static int touch_at(int dir, const char *name, const void *arg) {
  const touch_arg *t = arg;
  /* made at once where the root may write (the usual case: a new name on
   * a mount of its own); only what is there already is looked at */
  int own = parent_is_own(t->r, dir, dir == t->r->fd, &t->r->own);
  int not_own = errno;
  if (own == 0) {
    int fd =
        openat(dir, name, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
               t->mode);
    if (fd >= 0)
      return close(fd);
    if (errno != EEXIST)
      return -1;
  }
  struct stat st;
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (own != 0 && errno == ENOENT)
      errno = not_own; /* nothing there, and no mount to make it on */
    return -1;
  }
  return S_ISLNK(st.st_mode)   ? (errno = ELOOP, -1)
         : S_ISDIR(st.st_mode) ? (errno = EISDIR, -1)
                               : 0;
}

int nsl_walk_touch(const nsl_walk_root *r, const char *path, mode_t mode) {
  touch_arg t = {mode, r};
  return nsl_walk_at_parent(r, path, touch_at, &t, EISDIR, NULL);
}
