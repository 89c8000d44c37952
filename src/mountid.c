/* mountid.c: the id of the mount an fd is on (see sys.h). A file of its own:
 * the kernel's struct statx (linux/stat.h) has stx_mnt_id, glibc's older
 * copy in sys/stat.h does not, and the two cannot be included together. */
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/stat.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Before Linux 5.8 statx has no STATX_MNT_ID: /proc/self/fdinfo/N has had
 * the same number as "mnt_id:" since 3.15. */
static int mount_id_from_fdinfo(int fd, uint64_t *id) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return -1;
  char line[128];
  int found = 0;
  while (!found && fgets(line, sizeof line, f))
    found = sscanf(line, "mnt_id: %" SCNu64, id) == 1;
  fclose(f);
  return found ? 0 : (errno = ENOTSUP, -1);
}

int nsl_sys_mount_id(int fd, uint64_t *id) {
  struct statx stx;
  if (syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) == 0 &&
      (stx.stx_mask & STATX_MNT_ID)) {
    *id = stx.stx_mnt_id;
    return 0;
  }
  return mount_id_from_fdinfo(fd, id);
}
