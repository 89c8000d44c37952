/* lfile.c: files, directories, nodes and links. */
#include "lnsl.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* ---- plain helpers ---------------------------------------------------------
 */

/* The entries of a directory but . and .. */
static int not_dots(const struct dirent *e) {
  return strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
}

/* Byte order, whatever the locale (alphasort uses strcoll). */
static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

/* ---- nodes and links --------------------------------------------------------
 */

static const char *const node_types[] = {"char", "block",  "fifo",
                                         "file", "socket", NULL};
static const mode_t node_bits[] = {S_IFCHR, S_IFBLK, S_IFIFO, S_IFREG,
                                   S_IFSOCK};

mode_t nsl_checknode(lua_State *L, int arg, dev_t *dev) {
  int type = luaL_checkoption(L, arg, NULL, node_types);
  mode_t mode = nsl_checkmode(L, arg + 1);
  lua_Integer major = luaL_optinteger(L, arg + 2, 0);
  lua_Integer minor = luaL_optinteger(L, arg + 3, 0);
  luaL_argcheck(L, major >= 0 && major <= 0xfff, arg + 2, "major out of range");
  luaL_argcheck(L, minor >= 0 && minor <= 0xfffff, arg + 3,
                "minor out of range");
  *dev = makedev((unsigned)major, (unsigned)minor);
  return node_bits[type] | mode;
}

static int l_mknod(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  dev_t dev;
  mode_t mode = nsl_checknode(L, 2, &dev);
  if (mknod(path, mode, dev) != 0)
    return nsl_fail(L, "mknod '%s'", path);
  return nsl_ok(L);
}

static int l_symlink(lua_State *L) {
  const char *target = luaL_checkstring(L, 1);
  const char *linkpath = luaL_checkstring(L, 2);
  if (symlink(target, linkpath) != 0)
    return nsl_fail(L, "symlink '%s' to '%s'", target, linkpath);
  return nsl_ok(L);
}

static int l_readlink(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char buf[PATH_MAX];
  /* symlink(2) refuses targets of PATH_MAX bytes or more, so this fits */
  ssize_t n = readlink(path, buf, sizeof buf);
  if (n < 0)
    return nsl_fail(L, "readlink '%s'", path);
  lua_pushlstring(L, buf, (size_t)n);
  return 1;
}

/* ---- directories ------------------------------------------------------------
 */

static int l_mkdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  mode_t mode = nsl_optmode(L, 2, 0777);
  if (mkdir(path, mode) != 0)
    return nsl_fail(L, "mkdir '%s'", path);
  return nsl_ok(L);
}

static int l_rmdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  if (rmdir(path) != 0)
    return nsl_fail(L, "rmdir '%s'", path);
  return nsl_ok(L);
}

static int l_mkdtemp(lua_State *L) {
  size_t len;
  const char *template = luaL_checklstring(L, 1, &len);
  /* mkdtemp writes into its argument: work on a Lua-owned copy */
  char *path = lua_newuserdatauv(L, len + 1, 0);
  memcpy(path, template, len + 1);
  if (mkdtemp(path) == NULL)
    return nsl_fail(L, "mkdtemp '%s'", template);
  lua_pushstring(L, path);
  return 1;
}

/* scandir's list, freed by __gc too, should a push raise (out of memory). */
typedef struct dir_list {
  struct dirent **names;
  int n;
} dir_list;

static int l_dir_list_gc(lua_State *L) {
  dir_list *d = lua_touserdata(L, 1);
  for (int i = 0; i < d->n; i++)
    free(d->names[i]);
  free(d->names);
  d->names = NULL;
  d->n = 0;
  return 0;
}

static int l_readdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  dir_list *d = lua_newuserdatauv(L, sizeof *d, 0);
  d->names = NULL;
  d->n = 0;
  if (luaL_newmetatable(L, "nsl.dir_list")) {
    lua_pushcfunction(L, l_dir_list_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  int n = scandir(path, &d->names, not_dots, by_name);
  if (n < 0)
    return nsl_fail(L, "readdir '%s'", path);
  d->n = n;
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushstring(L, d->names[i]->d_name);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushcfunction(L, l_dir_list_gc);
  lua_pushvalue(L, -3);
  lua_call(L, 1, 0);
  return 1;
}

/* ---- names ------------------------------------------------------------------
 */

static int l_unlink(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  if (unlink(path) != 0)
    return nsl_fail(L, "unlink '%s'", path);
  return nsl_ok(L);
}

static int l_rename(lua_State *L) {
  const char *from = luaL_checkstring(L, 1);
  const char *to = luaL_checkstring(L, 2);
  if (rename(from, to) != 0)
    return nsl_fail(L, "rename '%s' to '%s'", from, to);
  return nsl_ok(L);
}

/* ---- ownership and permissions ----------------------------------------------
 */

static int l_chmod(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  mode_t mode = nsl_checkmode(L, 2);
  if (chmod(path, mode) != 0) {
    int err = errno;
    char octal[16];
    snprintf(octal, sizeof octal, "%04o", (unsigned)mode);
    errno = err;
    return nsl_fail(L, "chmod '%s' to %s", path, octal);
  }
  return nsl_ok(L);
}

typedef int (*chown_fn)(const char *, uid_t, gid_t);

static int do_chown(lua_State *L, chown_fn fn, const char *name) {
  const char *path = luaL_checkstring(L, 1);
  uid_t uid = nsl_optid(L, 2, "uid"); /* nil leaves it as it is */
  gid_t gid = nsl_optid(L, 3, "gid");
  if (fn(path, uid, gid) != 0)
    return nsl_fail(L, "%s '%s' to %d:%d", name, path, (int)uid, (int)gid);
  return nsl_ok(L);
}

static int l_chown(lua_State *L) { return do_chown(L, chown, "chown"); }

static int l_lchown(lua_State *L) { return do_chown(L, lchown, "lchown"); }

static int l_umask(lua_State *L) {
  lua_pushinteger(L, umask(nsl_checkmode(L, 1) & 0777));
  return 1;
}

/* access(2)'s letters; "f" alone asks whether the path exists. */
static const struct {
  char letter;
  int bits;
} access_letters[] = {{'r', R_OK}, {'w', W_OK}, {'x', X_OK}, {'f', F_OK}};

static int check_access_mode(lua_State *L, int arg, const char *s) {
  int bits = 0;
  for (; *s; s++) {
    size_t i = 0, n = sizeof access_letters / sizeof *access_letters;
    while (i < n && access_letters[i].letter != *s)
      i++;
    if (i == n)
      luaL_argerror(L, arg,
                    lua_pushfstring(L,
                                    "unknown access mode '%c' "
                                    "(one of r w x f)",
                                    *s));
    bits |= access_letters[i].bits;
  }
  return bits;
}

static int l_access(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  const char *letters = luaL_optstring(L, 2, "f");
  int mode = check_access_mode(L, 2, letters);
  if (access(path, mode) != 0)
    return nsl_fail(L, "access '%s' for '%s'", path, letters);
  return nsl_ok(L);
}

/* ---- stat -------------------------------------------------------------------
 */

static const struct {
  mode_t bits;
  const char *name;
} file_types[] = {{S_IFREG, "file"},   {S_IFDIR, "dir"},   {S_IFLNK, "link"},
                  {S_IFCHR, "char"},   {S_IFBLK, "block"}, {S_IFIFO, "fifo"},
                  {S_IFSOCK, "socket"}};

static const char *type_name(mode_t mode) {
  for (size_t i = 0; i < sizeof file_types / sizeof *file_types; i++)
    if ((mode & S_IFMT) == file_types[i].bits)
      return file_types[i].name;
  return "unknown";
}

static void set_int(lua_State *L, const char *key, lua_Integer value) {
  lua_pushinteger(L, value);
  lua_setfield(L, -2, key);
}

static int push_stat(lua_State *L, const struct stat *st) {
  lua_createtable(L, 0, 14);
  lua_pushstring(L, type_name(st->st_mode));
  lua_setfield(L, -2, "type");
  set_int(L, "mode", st->st_mode & 07777);
  set_int(L, "uid", st->st_uid);
  set_int(L, "gid", st->st_gid);
  set_int(L, "size", st->st_size);
  set_int(L, "dev", (lua_Integer)st->st_dev);
  set_int(L, "ino", (lua_Integer)st->st_ino);
  set_int(L, "nlink", (lua_Integer)st->st_nlink);
  set_int(L, "rdev", (lua_Integer)st->st_rdev);
  set_int(L, "major", major(st->st_rdev));
  set_int(L, "minor", minor(st->st_rdev));
  set_int(L, "atime", st->st_atime);
  set_int(L, "mtime", st->st_mtime);
  set_int(L, "ctime", st->st_ctime);
  return 1;
}

static int l_stat(lua_State *L) {
  struct stat st;
  if (lua_type(L, 1) == LUA_TSTRING) {
    const char *path = lua_tostring(L, 1);
    if (stat(path, &st) != 0)
      return nsl_fail(L, "stat '%s'", path);
    return push_stat(L, &st);
  }
  int fd = nsl_checkfd(L, 1);
  if (fstat(fd, &st) != 0)
    return nsl_fail(L, "fstat %d", fd);
  return push_stat(L, &st);
}

static int l_lstat(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (lstat(path, &st) != 0)
    return nsl_fail(L, "lstat '%s'", path);
  return push_stat(L, &st);
}

/* ---- open -------------------------------------------------------------------
 */

/* Not an open(2) flag: the word that turns the default O_CLOEXEC off. */
#define NOCLOEXEC (1UL << 30)
_Static_assert((NOCLOEXEC & (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND |
                             O_NOFOLLOW | O_PATH | O_CLOEXEC | O_NONBLOCK |
                             O_NOCTTY | O_TMPFILE)) == 0,
               "NOCLOEXEC must be a bit open(2) does not use");

static const nsl_Flag open_flags[] = {
    {"rdonly", O_RDONLY},       {"wronly", O_WRONLY},
    {"rdwr", O_RDWR},           {"creat", O_CREAT},
    {"excl", O_EXCL},           {"trunc", O_TRUNC},
    {"append", O_APPEND},       {"nofollow", O_NOFOLLOW},
    {"directory", O_DIRECTORY}, {"path", O_PATH},
    {"cloexec", O_CLOEXEC},     {"nocloexec", NOCLOEXEC},
    {"nonblock", O_NONBLOCK},   {"noctty", O_NOCTTY},
    {"tmpfile", O_TMPFILE},     {NULL, 0}};

int nsl_optopenflags(lua_State *L, int arg, int with_nocloexec) {
  unsigned long words = nsl_optflags(L, arg, open_flags, "open flag");
  if (!(words & NOCLOEXEC)) /* nothing leaks into a container */
    return (int)words | O_CLOEXEC;
  if (!with_nocloexec)
    luaL_argerror(L, arg, "unknown open flag 'nocloexec'");
  return (int)(words & ~NOCLOEXEC);
}

static int l_open(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int flags = nsl_optopenflags(L, 2, 1);
  mode_t mode = nsl_optmode(L, 3, 0666);
  int *slot = nsl_newfd(L);
  int fd = nsl_sys_open(path, flags, mode);
  if (fd < 0)
    return nsl_fail(L, "open '%s'", path);
  nsl_own(L, slot, fd);
  return 1;
}

const nsl_Reg nsl_file_lib[] = {
    {"access", l_access, "access(path [, mode]) -> true",
     "access(2) with the real ids; mode is letters of r w x, or f (exists, "
     "the default)"},
    {"chmod", l_chmod, "chmod(path, mode) -> true",
     "chmod(2); mode is an integer or an octal string (\"0755\")"},
    {"chown", l_chown, "chown(path, uid [, gid]) -> true",
     "chown(2), following symlinks; nil keeps the uid or gid"},
    {"lchown", l_lchown, "lchown(path, uid [, gid]) -> true",
     "lchown(2): chown a symlink itself; nil keeps the uid or gid"},
    {"lstat", l_lstat, "lstat(path) -> { type, mode, uid, ... }",
     "lstat(2): stat() of a symlink itself"},
    {"mkdir", l_mkdir, "mkdir(path [, mode]) -> true",
     "mkdir(2); mode defaults to 0777 (less the umask)"},
    {"mkdtemp", l_mkdtemp, "mkdtemp(template) -> path",
     "mkdtemp(3): make a new 0700 directory; template ends in XXXXXX"},
    {"mknod", l_mknod, "mknod(path, type, mode [, major, minor]) -> true",
     "mknod(2); type is char block fifo file socket, mode the permission "
     "bits"},
    {"open", l_open, "open(path [, flags [, mode]]) -> fd",
     "open(2) to an fd object; flags rdonly wronly rdwr creat excl trunc "
     "append ...; cloexec unless nocloexec"},
    {"readdir", l_readdir, "readdir(path) -> { name, ... }",
     "scandir(3): the sorted names in a directory, without . and .."},
    {"readlink", l_readlink, "readlink(path) -> target",
     "readlink(2): what a symlink points to"},
    {"rename", l_rename, "rename(old, new) -> true",
     "rename(2): move a file or directory within a filesystem"},
    {"rmdir", l_rmdir, "rmdir(path) -> true",
     "rmdir(2): remove an empty directory"},
    {"stat", l_stat, "stat(path | fd) -> { type, mode, uid, ... }",
     "stat(2) or fstat(2): type mode uid gid size dev ino nlink rdev major "
     "minor atime mtime ctime"},
    {"symlink", l_symlink, "symlink(target, linkpath) -> true",
     "symlink(2): make linkpath a symlink pointing to target"},
    {"umask", l_umask, "umask(mask) -> old",
     "umask(2): set the file mode creation mask, returning the old one"},
    {"unlink", l_unlink, "unlink(path) -> true",
     "unlink(2): remove a name (a file, symlink, node; not a directory)"},
    {NULL, NULL, NULL, NULL}};
