/* walk.h: resolving paths inside a root, and the mounts a root may write on.
 * Plain C, no lua_State (like sys.h): each function returns -1 with errno
 * set on failure. src/lroot.c binds them as the methods of nsl.root; how a
 * path is resolved is told at the top of walk.c. */
#ifndef NSL_WALK_H
#define NSL_WALK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* How a root resolves a path: openat2(2) RESOLVE_IN_ROOT (walking where the
 * kernel lacks it), or always walking component by component. */
enum { NSL_HOW_OPENAT2, NSL_HOW_WALK };

/* Mount ids (statx STATX_MNT_ID) of the filesystems made for the container:
 * the only ones a root writes on. All zero is an empty set. The first ids
 * are kept in the set itself: a start's roots hold a few each, and a
 * malloc'ed array was a page mapped and unmapped by musl's malloc for each
 * root. A set is not copied (ids may point into it). */
#define NSL_MOUNTSET_INLINE 8
typedef struct nsl_mountset {
  uint64_t *ids; /* inline, or malloc'ed once there are more */
  size_t n, cap;
  uint64_t inline_ids[NSL_MOUNTSET_INLINE];
} nsl_mountset;

/* Room for one more id, so that adding it later cannot fail. */
int nsl_mountset_reserve(nsl_mountset *s);
/* Empty the set, freeing what it allocated. */
void nsl_mountset_clear(nsl_mountset *s);
/* Add the mount id (room reserved first). */
void nsl_mountset_add(nsl_mountset *s, uint64_t id);
/* 0 when the object fd refers to is on a mount of s; else -1 with EXDEV, or
 * with the error that kept the mount from being known (fail closed). */
int nsl_mountset_check(const nsl_mountset *s, int fd);

/* A root: the directory every path is resolved in. */
typedef struct nsl_walk_root {
  int fd;           /* O_PATH|O_DIRECTORY, -1 once closed */
  int how;          /* NSL_HOW_OPENAT2 or NSL_HOW_WALK */
  nsl_mountset own; /* the root's mount and what was mounted for it */
  int fd_is_own;    /* fd is on a mount of own (checked once: an fd keeps its
                       mount, and no id leaves own) */
} nsl_walk_root;

/* Open path inside the root with flags (O_CLOEXEC added), the root's way. */
int nsl_walk_open(const nsl_walk_root *r, const char *path, int flags,
                  mode_t mode);
/* Open path for writing, only on a mount of the root's own: what is there is
 * checked before anything is truncated; O_CREAT makes a new file only in a
 * directory of such a mount. */
int nsl_walk_open_to_write(const nsl_walk_root *r, const char *path, int flags,
                           mode_t mode);
/* Make the missing directories of path (mode), only on the root's own
 * mounts, always walking: a dangling symlink's target is made, inside the
 * root. An O_PATH fd of the last one. */
int nsl_walk_mkdir_all(const nsl_walk_root *r, const char *path, mode_t mode);

/* An empty file at path to bind a file onto, made (mode) only on a mount
 * of the root's own. An existing non-directory is left as it is (on any
 * mount: nothing is written); a symlink is refused (ELOOP) and so is a
 * directory (EISDIR). */
int nsl_walk_touch(const nsl_walk_root *r, const char *path, mode_t mode);

/* A *at(2) call on the last name of a path in its parent's fd. */
typedef int (*nsl_at_fn)(int dir, const char *name, const void *arg);
/* Call fn on the last name of path in its parent, resolved in the root; the
 * parent must be on a mount of own (with own NULL, fn checks for itself).
 * With no last name (".", "..", "/") the path is a directory: errno is
 * is_dir_errno then. */
int nsl_walk_at_parent(const nsl_walk_root *r, const char *path, nsl_at_fn fn,
                       const void *arg, int is_dir_errno,
                       const nsl_mountset *own);

#endif
