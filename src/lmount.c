/* lmount.c: mounts and roots (mount, umount, pivot_root, chroot, chdir). */
#include "lnsl.h"
#include "sys.h"

#include <errno.h>
#include <limits.h>
#include <sys/mount.h>
#include <unistd.h>

/* mount(8)'s words. Single-bit entries are in bit order, because that is
 * the order nsl_pushflagnames prints them in ("bind|rec", "rec|slave");
 * aliases and the r-prefixed combinations follow, and the words that mean
 * "not this bit" (rw, norelatime) are 0. */
const nsl_Flag nsl_mount_flags[] = {{"rdonly", MS_RDONLY},
                                    {"nosuid", MS_NOSUID},
                                    {"nodev", MS_NODEV},
                                    {"noexec", MS_NOEXEC},
                                    {"sync", MS_SYNCHRONOUS},
                                    {"remount", MS_REMOUNT},
                                    {"mandlock", MS_MANDLOCK},
                                    {"dirsync", MS_DIRSYNC},
                                    {"nosymfollow", MS_NOSYMFOLLOW},
                                    {"noatime", MS_NOATIME},
                                    {"nodiratime", MS_NODIRATIME},
                                    {"bind", MS_BIND},
                                    {"move", MS_MOVE},
                                    {"rec", MS_REC},
                                    {"silent", MS_SILENT},
                                    {"unbindable", MS_UNBINDABLE},
                                    {"private", MS_PRIVATE},
                                    {"slave", MS_SLAVE},
                                    {"shared", MS_SHARED},
                                    {"relatime", MS_RELATIME},
                                    {"strictatime", MS_STRICTATIME},
                                    {"lazytime", MS_LAZYTIME},
                                    {"ro", MS_RDONLY},
                                    {"rbind", MS_BIND | MS_REC},
                                    {"runbindable", MS_UNBINDABLE | MS_REC},
                                    {"rprivate", MS_PRIVATE | MS_REC},
                                    {"rslave", MS_SLAVE | MS_REC},
                                    {"rshared", MS_SHARED | MS_REC},
                                    {"rw", 0},
                                    {"norelatime", 0},
                                    {NULL, 0}};

/* umount2(2)'s flags. */
static const nsl_Flag umount_flags[] = {{"force", MNT_FORCE},
                                        {"detach", MNT_DETACH},
                                        {"expire", MNT_EXPIRE},
                                        {"nofollow", UMOUNT_NOFOLLOW},
                                        {NULL, 0}};

/* "mount 'SRC' on 'TARGET' (fstype 'T', flags 'bind|rec')": the source only
 * when there is one, the parenthesis only with what was given. data is left
 * out: it may hold credentials (cifs, ...). */
static const char *push_mount_context(lua_State *L, const char *source,
                                      const char *target, const char *fstype,
                                      unsigned long flags) {
  int top = lua_gettop(L);
  if (source)
    lua_pushfstring(L, "mount '%s' on '%s'", source, target);
  else
    lua_pushfstring(L, "mount on '%s'", target);
  if (fstype || flags) {
    lua_pushliteral(L, " (");
    if (fstype)
      lua_pushfstring(L, "fstype '%s'%s", fstype, flags ? ", " : "");
    if (flags) {
      lua_pushliteral(L, "flags '");
      nsl_pushflagnames(L, flags, nsl_mount_flags);
      lua_pushliteral(L, "'");
    }
    lua_pushliteral(L, ")");
  }
  lua_concat(L, lua_gettop(L) - top);
  return lua_tostring(L, -1);
}

static int l_mount(lua_State *L) {
  const char *source = luaL_optstring(L, 1, NULL);
  const char *target = luaL_checkstring(L, 2);
  const char *fstype = luaL_optstring(L, 3, NULL);
  unsigned long flags = nsl_optflags(L, 4, nsl_mount_flags, "mount flag");
  const char *data = luaL_optstring(L, 5, NULL);
  if (mount(source, target, fstype, flags, data) != 0) {
    int err = errno;
    const char *context = push_mount_context(L, source, target, fstype, flags);
    errno = err;
    return nsl_fail(L, "%s", context);
  }
  return nsl_ok(L);
}

static int l_mount_flags(lua_State *L) {
  lua_createtable(L, 0, sizeof nsl_mount_flags / sizeof *nsl_mount_flags);
  for (const nsl_Flag *f = nsl_mount_flags; f->word; f++) {
    lua_pushinteger(L, (lua_Integer)f->bits);
    lua_setfield(L, -2, f->word);
  }
  return 1;
}

static int l_umount(lua_State *L) {
  const char *target = luaL_checkstring(L, 1);
  int flags = (int)nsl_optflags(L, 2, umount_flags, "umount flag");
  if (umount2(target, flags) != 0) {
    int err = errno;
    if (flags)
      nsl_pushflagnames(L, (unsigned long)flags, umount_flags);
    errno = err;
    if (flags)
      return nsl_fail(L, "umount '%s' (flags '%s')", target,
                      lua_tostring(L, -1));
    return nsl_fail(L, "umount '%s'", target);
  }
  return nsl_ok(L);
}

static int l_pivot_root(lua_State *L) {
  const char *new_root = luaL_checkstring(L, 1);
  const char *put_old = luaL_checkstring(L, 2);
  /* EINVAL when new_root is not a mount point, put_old is not under it, or
   * a mount involved is shared: see pivot_root(2) */
  if (nsl_sys_pivot_root(new_root, put_old) != 0)
    return nsl_fail(L, "pivot_root '%s' (put_old '%s')", new_root, put_old);
  return nsl_ok(L);
}

static int l_chroot(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  if (chroot(path) != 0)
    return nsl_fail(L, "chroot '%s'", path);
  return nsl_ok(L);
}

static int l_chdir(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING) {
    const char *path = lua_tostring(L, 1);
    if (chdir(path) != 0)
      return nsl_fail(L, "chdir '%s'", path);
    return nsl_ok(L);
  }
  int fd = nsl_checkfd(L, 1);
  if (fchdir(fd) != 0)
    return nsl_fail(L, "fchdir %d", fd);
  return nsl_ok(L);
}

static int l_getcwd(lua_State *L) {
  char buf[PATH_MAX];
  /* ENOENT when the cwd is outside this root (after pivot_root or chroot):
   * see getcwd(3), "unreachable" */
  if (getcwd(buf, sizeof buf) == NULL)
    return nsl_fail(L, "getcwd");
  lua_pushstring(L, buf);
  return 1;
}

const nsl_Reg nsl_mount_lib[] = {
    {"chdir", l_chdir, "chdir(path | fd) -> true",
     "chdir(2) to a path, or fchdir(2) to a directory fd"},
    {"chroot", l_chroot, "chroot(path) -> true",
     "chroot(2): make path this process's root (the cwd stays where it is)"},
    {"getcwd", l_getcwd, "getcwd() -> path",
     "getcwd(3): the current directory; fails when it is outside the root"},
    {"mount", l_mount, "mount(source, target, fstype, flags, data) -> true",
     "mount(2); source, fstype, data may be nil; flags are mount(8) words "
     "(bind rec rdonly private ...)"},
    {"mount_flags", l_mount_flags, "mount_flags() -> { word = bits }",
     "the mount flag words mount() takes and the MS_* bits each stands for"},
    {"pivot_root", l_pivot_root, "pivot_root(new_root, put_old) -> true",
     "pivot_root(2): new_root becomes / and the old root moves to put_old"},
    {"umount", l_umount, "umount(target [, flags]) -> true",
     "umount2(2); flags are force detach expire nofollow"},
    {NULL, NULL, NULL, NULL}};
