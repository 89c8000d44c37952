/* mnt.h: the new mount API (fsopen, fsmount, open_tree, move_mount,
 * mount_setattr) for root handles, and filesystem type names. Plain C, no
 * lua_State: each function returns -1 with errno set on failure. */
#ifndef NSL_MNT_H
#define NSL_MNT_H

#include "libc.h"
#include "walk.h"

#include <sys/mount.h>

/* The mount(2) bits by what the new mount API makes of them. */
#define NSL_MS_ATIME (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)
#define NSL_MS_PROPAGATION (MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_UNBINDABLE)
#define NSL_MS_ATTR                                                            \
  (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NODIRATIME |              \
   MS_NOSYMFOLLOW | NSL_MS_ATIME)
#define NSL_MS_SB (MS_SYNCHRONOUS | MS_DIRSYNC | MS_LAZYTIME | MS_MANDLOCK)

/* mount_setattr(2)'s request to set ms (and clear clear). */
struct mount_attr nsl_mnt_attr_request(unsigned long ms, unsigned long clear);

/* A new detached mount of fstype (fsopen, fsconfig, fsmount) with the
 * options of data ("mode=755,gid=5", cut up): its fd, or -1 with *step the
 * call that failed and *key its option or NULL. */
int nsl_mnt_new(const char *fstype, const char *source, char *data,
                unsigned long ms, const char **step, const char **key);

/* Attach the detached mount mnt onto exactly the object target is an O_PATH
 * fd of: no path is looked up again (move_mount(2)). */
int nsl_mnt_attach(int mnt, int target);

/* Take the attached mount mnt away again (its root is mnt's path): 0, or
 * -1 with errno when it stays where it is. */
int nsl_mnt_detach(int mnt);

/* Is what path now resolves to in root the root of the mount mnt? 1 yes,
 * 0 no (*found is the filesystem magic there), -1 on error. */
int nsl_mnt_reaches(const nsl_walk_root *root, const char *path, int mnt,
                    unsigned long *found);

/* The name of a statfs(2) f_type ("proc"), or its number in hex in buf. */
const char *nsl_mnt_fs_name(unsigned long magic, char *buf, size_t size);

#endif
