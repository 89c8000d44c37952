/* mnt.c: mounts for root handles with the new mount API (see mnt.h): a new
 * filesystem is made detached (fsopen/fsconfig/fsmount), a bind is a
 * detached clone (open_tree) whose flags are set before anyone can see it
 * (mount_setattr), and either is attached onto exactly a resolved fd
 * (move_mount with MOVE_MOUNT_T_EMPTY_PATH). Plain C, no lua_State. */
#include "mnt.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

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

static unsigned attrs_of(unsigned long ms) {
  unsigned attr = 0;
  for (size_t i = 0; i < sizeof mount_attrs / sizeof *mount_attrs; i++)
    if (ms & mount_attrs[i].ms)
      attr |= mount_attrs[i].attr;
  return attr;
}

/* An atime mode replaces the old one only with all of MOUNT_ATTR__ATIME
 * cleared. */
struct mount_attr nsl_mnt_attr_request(unsigned long ms, unsigned long clear) {
  struct mount_attr a;
  memset(&a, 0, sizeof a);
  a.attr_set = attrs_of(ms);
  a.attr_clr = attrs_of(clear & ~NSL_MS_ATIME);
  if ((ms | clear) & NSL_MS_ATIME)
    a.attr_clr |= MOUNT_ATTR__ATIME;
  a.propagation = ms & NSL_MS_PROPAGATION;
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

int nsl_mnt_new(const char *fstype, const char *source, char *data,
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
  nsl_sys_close_keep_errno(fs);
  return mnt;
}

int nsl_mnt_attach(int mnt, int target) {
  return move_mount(mnt, "", target, "",
                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

int nsl_mnt_detach(int mnt) {
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", mnt);
  return umount2(proc, MNT_DETACH);
}

int nsl_mnt_reaches(const nsl_walk_root *root, const char *path, int mnt,
                    unsigned long *found) {
  int fd = nsl_walk_open(root, path, O_PATH, 0);
  if (fd < 0)
    return -1;
  struct stat here, want;
  struct statfs fs;
  int rc = -1;
  if (fstat(fd, &here) == 0 && fstat(mnt, &want) == 0)
    rc = here.st_dev == want.st_dev && here.st_ino == want.st_ino;
  /* what the path reaches instead, for the caller's message: asked only
   * then (the check itself is the comparison above) */
  if (rc == 0)
    rc = fstatfs(fd, &fs) == 0 ? 0 : -1;
  if (rc == 0)
    *found = (unsigned long)fs.f_type & 0xffffffffUL;
  nsl_sys_close_keep_errno(fd);
  return rc;
}

/* ---- filesystem types ------------------------------------------------------
 */

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

const char *nsl_mnt_fs_name(unsigned long magic, char *buf, size_t size) {
  for (size_t i = 0; i < sizeof fs_names / sizeof *fs_names; i++)
    if (fs_names[i].magic == magic)
      return fs_names[i].name;
  snprintf(buf, size, "0x%lx", magic);
  return buf;
}
