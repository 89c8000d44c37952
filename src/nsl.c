/* nsl.c: the nsl executable. Lua's lua.c shape: main runs pmain in protected
 * mode; pmain sets the state up and dispatches to run, -e, scripts or the
 * REPL. Only this file prints "nsl: ..." and chooses the exit status. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "alloc.h"
#include "embedded.h"
#include "lnsl.h"
#include "repl.h"
#include "sys.h"

int luaopen_nsl_core(lua_State *L);

static const char *progname = "nsl";

static const char usage_text[] =
    "usage: nsl run [--trace] SCRIPT [ARGS...]\n"
    "                                  run a script (a path or a bundled "
    "name);\n"
    "                                  --trace prints every core call\n"
    "       nsl -e CODE [ARGS...]      run a string of Lua\n"
    "       nsl scripts                list the bundled scripts\n"
    "       nsl doctor                 check what containers need here\n"
    "       nsl ps                     list the containers run with --name\n"
    "       nsl enter NAME|PID [CMD]   run CMD (a shell) in a running "
    "container\n"
    "       nsl oci COMMAND [ARGS...]  an OCI runtime with runc's command "
    "line\n"
    "                                  (scripts/oci.lua; also run as nsl-oci)\n"
    "       nsl                        the interactive REPL (stdin a "
    "terminal)\n"
    "       nsl --version | --help\n"
    "Scripts see their arguments in `arg` and `...`; `nsl` is preloaded:\n"
    "  local nsl = require \"nsl\"\n";

static void report(const char *msg) {
  fprintf(stderr, "%s: %s\n", progname, msg);
  fflush(stderr);
}

/* ---- loading the library ---------------------------------------------------
 */

static int load_embedded(lua_State *L) {
  const nsl_Embedded *e = lua_touserdata(L, lua_upvalueindex(1));
  if (luaL_loadbufferx(L, e->bytecode, e->bytecode_len, e->chunkname, "b") !=
      LUA_OK)
    return lua_error(L);
  lua_pushstring(L, e->module);
  lua_call(L, 1, 1);
  return 1;
}

/* nsl.sources["lua/nsl/NAME.lua"] (an embedded module's source text) and
 * nsl.digests[same] (its SHA-256): made Lua strings on first use (by help, by
 * the seccomp cache) rather than at every start. Iterating them with pairs
 * finds only the entries used so far: ask for every name of package.preload
 * instead. */
static int embedded_index(lua_State *L, int digest) {
  const char *path = luaL_checkstring(L, 2);
  for (const nsl_Embedded *e = nsl_embedded; e->module; e++) {
    if (strcmp(e->chunkname + 1, path) == 0) {
      if (digest)
        lua_pushstring(L, e->sha256);
      else
        lua_pushlstring(L, e->source, e->len);
      lua_pushvalue(L, -1);
      lua_setfield(L, 1, path);
      return 1;
    }
  }
  return 0;
}

static int source_index(lua_State *L) { return embedded_index(L, 0); }
static int digest_index(lua_State *L) { return embedded_index(L, 1); }

/* package.loaded[name] = an empty table whose __index is index. */
static void lazy_table(lua_State *L, const char *name, lua_CFunction index) {
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, name);
}

#ifdef NSL_STATIC_BUILD
/* package.searchers' C entries in a static nsl: there is no dynamic loader
 * to resolve a module's lua_* symbols against, so a C module found on
 * package.cpath is an error that says so rather than a dlopen failure. */
static int static_c_searcher(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchpath");
  lua_pushstring(L, name);
  lua_getfield(L, -3, "cpath");
  lua_call(L, 2, 1);
  if (lua_isstring(L, -1))
    return luaL_error(L,
                      "module '%s' is a C module (%s) and this nsl is linked "
                      "statically: run the script with lua5.4 (which loads "
                      "nsl.core from nsl/core.so), or build nsl with "
                      "-DNSL_STATIC=OFF",
                      name, lua_tostring(L, -1));
  lua_pushliteral(L, "\n\tno C modules in a static nsl");
  return 1;
}

static void static_searchers(lua_State *L) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchers");
  lua_pushcfunction(L, static_c_searcher);
  lua_seti(L, -2, 3); /* C modules */
  lua_pushnil(L);
  lua_seti(L, -2, 4); /* all-in-one C loader: same reason */
  lua_pop(L, 2);
}
#endif

/* package.preload gets nsl.core and every embedded module; the embedded
 * sources stay readable as package.loaded["nsl.sources"] for help(), and
 * their SHA-256 digests are package.loaded["nsl.digests"] (same keys). */
static void preload_library(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_nsl_core);
  lua_setfield(L, -2, "nsl.core");
  for (const nsl_Embedded *e = nsl_embedded; e->module; e++) {
    lua_pushlightuserdata(L, (void *)e);
    lua_pushcclosure(L, load_embedded, 1);
    lua_setfield(L, -2, e->module);
  }
  lua_pop(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lazy_table(L, "nsl.sources", source_index);
  lazy_table(L, "nsl.digests", digest_index);
  lua_pop(L, 1);
#ifdef NSL_STATIC_BUILD
  static_searchers(L);
#endif
}

/* ---- running chunks
 * ---------------------------------------------------------- */

int nsl_msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    msg =
        lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static int docall_results(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, nsl_msghandler);
  lua_insert(L, base);
  int status = lua_pcall(L, narg, nres, base);
  lua_remove(L, base);
  return status;
}

static int docall(lua_State *L, int narg) { return docall_results(L, narg, 0); }

/* arg = { [-k..-1] = what came before the script, [0] = script, ARGS... } */
static void set_arg_table(lua_State *L, char **argv, int argc, int script) {
  lua_createtable(L, argc - script, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int push_script_args(lua_State *L, char **argv, int argc, int first) {
  luaL_checkstack(L, argc - first + 3, "too many arguments to the script");
  for (int i = first; i < argc; i++)
    lua_pushstring(L, argv[i]);
  return first < argc ? argc - first : 0;
}

/* ---- finding bundled scripts
 * ------------------------------------------------- */

/* The bundled scripts: $NSL_SCRIPTS; the source tree's scripts/ when this is
 * the build tree's binary; else share/nsl/scripts beside the binary's bin/. */
static const char *scripts_dir(char *buf, size_t size) {
  const char *env = getenv("NSL_SCRIPTS");
  if (env && *env)
    return env;
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    *slash = '\0';
    if (strcmp(exe, NSL_BUILD_DIR) == 0)
      return NSL_SOURCE_SCRIPTS;
    int len = snprintf(buf, size, "%s/../share/nsl/scripts", exe);
    if (len > 0 && (size_t)len < size && access(buf, R_OK | X_OK) == 0)
      return buf;
  }
  return NSL_INSTALL_SCRIPTS;
}

/* Where scripts_dir looked, for a script not found: every place it tried. */
static void push_places(lua_State *L, const char *dir) {
  /* the first place that exists is the only one looked in */
  if (strcmp(dir, NSL_INSTALL_SCRIPTS) != 0 ||
      (getenv("NSL_SCRIPTS") && *getenv("NSL_SCRIPTS"))) {
    lua_pushstring(L, dir);
    return;
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  *(strrchr(exe, '/') ? strrchr(exe, '/') : exe) = '\0'; /* bin/ */
  *(strrchr(exe, '/') ? strrchr(exe, '/') : exe) = '\0'; /* beside it */
  lua_pushfstring(L,
                  "$NSL_SCRIPTS (not set), %s/share/nsl/scripts (beside the "
                  "binary) or %s (where it installs)",
                  exe, NSL_INSTALL_SCRIPTS);
}

/* A file to run; errno says why not. */
static int is_file(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    return 0;
  if (S_ISDIR(st.st_mode))
    return errno = EISDIR, 0;
  return 1;
}

/* The script's path: SCRIPT itself when it names a file, else SCRIPT (or
 * SCRIPT.lua) among the bundled scripts. Pushes the path or an error. */
static int find_script(lua_State *L, const char *name) {
  char buf[PATH_MAX];
  if (is_file(name)) {
    lua_pushstring(L, name);
    return 1;
  }
  if (strchr(name, '/')) {
    lua_pushfstring(L, "script '%s' not found: %s", name, strerror(errno));
    return 0;
  }
  const char *dir = scripts_dir(buf, sizeof buf);
  const char *path = lua_pushfstring(L, "%s/%s", dir, name);
  if (is_file(path))
    return 1;
  path = lua_pushfstring(L, "%s/%s.lua", dir, name);
  if (is_file(path))
    return 1;
  push_places(L, dir);
  lua_pushfstring(L,
                  "script '%s' not found: not a file here, nor a bundled "
                  "script in %s ('nsl scripts' lists them)",
                  name, lua_tostring(L, -1));
  return 0;
}

/* Is what fd reads, to its end, the len bytes at text? Read in blocks on
 * the stack: stdio's buffer and a copy of the file were malloc'ed, and
 * musl's malloc mapped and unmapped a page for each at every start. */
static int same_text(int fd, const char *text, size_t len) {
  char buf[4096];
  size_t at = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n == 0 && at == len;
    if ((size_t)n > len - at || memcmp(buf, text + at, (size_t)n) != 0)
      return 0; /* longer, or different */
    at += (size_t)n;
  }
}

/* The bundled script compiled into nsl whose text is the file at path: its
 * chunk loads without a parse. NULL for any other file (another script, or
 * one changed since the build) and for one that cannot be read. */
static const nsl_Embedded *embedded_script(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const nsl_Embedded *e = nsl_embedded_scripts;
  while (e->module && strcmp(e->module, base) != 0)
    e++;
  if (!e->module)
    return NULL;
  int fd = nsl_sys_open(path, O_RDONLY | O_CLOEXEC, 0);
  int same = fd >= 0 && same_text(fd, e->source, e->len);
  if (fd >= 0)
    close(fd);
  return same ? e : NULL;
}

/* luaL_loadfile, or the precompiled chunk of a bundled script with the same
 * text (its errors then name it "scripts/NAME.lua"). */
static int load_script(lua_State *L, const char *path) {
  const nsl_Embedded *e = embedded_script(path);
  if (e)
    return luaL_loadbufferx(L, e->bytecode, e->bytecode_len, e->chunkname, "b");
  return luaL_loadfile(L, path);
}

/* The description of a script: its first comment line, after any shebang. */
static void print_description(const char *dir, const char *file) {
  char path[PATH_MAX], line[512];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen(path, "r");
  const char *desc = "";
  while (f && fgets(line, sizeof line, f)) {
    if (line[0] == '#')
      continue;
    if (strncmp(line, "-- ", 3) == 0) {
      line[strcspn(line, "\n")] = '\0';
      desc = line + 3;
      const char *colon = strstr(desc, ": ");
      if (colon && strncmp(desc, file, (size_t)(colon - desc)) == 0)
        desc = colon + 2;
    }
    break;
  }
  printf("  %-18s %s%s\n", file, desc,
         embedded_script(path) ? " (precompiled in nsl)" : "");
  if (f)
    fclose(f);
}

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_lua_file(const struct dirent *d) {
  size_t n = strlen(d->d_name);
  return n > 4 && strcmp(d->d_name + n - 4, ".lua") == 0;
}

static int list_scripts(void) {
  char buf[PATH_MAX];
  const char *dir = scripts_dir(buf, sizeof buf);
  struct dirent **names;
  int n = scandir(dir, &names, is_lua_file, by_name);
  if (n < 0) {
    fprintf(stderr, "%s: bundled scripts '%s': %s\n", progname, dir,
            strerror(errno));
    return EXIT_FAILURE;
  }
  printf("bundled scripts in %s (nsl run NAME [ARGS]):\n", dir);
  for (int i = 0; i < n; i++) {
    print_description(dir, names[i]->d_name);
    free(names[i]);
  }
  free(names);
  return EXIT_SUCCESS;
}

/* ---- the commands
 * -------------------------------------------------------------- */

static int usage_error(const char *what, const char *arg);

/* `nsl run --trace SCRIPT`: every core call printed (nsl.trace). */
static int enable_trace(lua_State *L) {
  static const char code[] = "require('nsl.trace').enable()";
  if (luaL_loadbuffer(L, code, sizeof code - 1, "=trace") != LUA_OK ||
      docall(L, 0) != LUA_OK) {
    report(lua_tostring(L, -1));
    return 0;
  }
  return 1;
}

/* Load the script at path and run it with argv[at..] as arg (argv[at] its
 * arg[0]), reporting an error: the exit status. */
static int run_file(lua_State *L, const char *path, char **argv, int argc,
                    int at) {
  set_arg_table(L, argv, argc, at);
  if (load_script(L, path) != LUA_OK) {
    report(lua_tostring(L, -1));
    return EXIT_FAILURE;
  }
  if (docall(L, push_script_args(L, argv, argc, at + 1)) != LUA_OK) {
    report(lua_tostring(L, -1));
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}

static int run_script(lua_State *L, char **argv, int argc, int at) {
  for (; at < argc && strcmp(argv[at], "--trace") == 0; at++)
    if (!enable_trace(L))
      return EXIT_FAILURE;
  if (at == argc)
    return usage_error("run --trace needs a script", "");
  if (!find_script(L, argv[at])) {
    report(lua_tostring(L, -1));
    return 127;
  }
  const char *path = lua_tostring(L, -1);
  return run_file(L, path, argv, argc, at);
}

/* A bundled script by name (never a file of the current directory, where
 * an OCI client runs us in the bundle): argv[at] is its arg[0]. */
static int run_bundled(lua_State *L, const char *name, char **argv, int argc,
                       int at) {
  char buf[PATH_MAX];
  const char *path =
      lua_pushfstring(L, "%s/%s", scripts_dir(buf, sizeof buf), name);
  return run_file(L, path, argv, argc, at);
}

static int run_string(lua_State *L, char **argv, int argc, int at) {
  set_arg_table(L, argv, argc, at);
  /* the REPL's global nsl, so that a line works the same in both */
  lua_getglobal(L, "require");
  lua_pushliteral(L, "nsl");
  if (docall_results(L, 1, 1) != LUA_OK) {
    report(lua_tostring(L, -1));
    return EXIT_FAILURE;
  }
  lua_setglobal(L, "nsl");
  if (luaL_loadbuffer(L, argv[at], strlen(argv[at]), "=(command line)") !=
          LUA_OK ||
      docall(L, push_script_args(L, argv, argc, at + 1)) != LUA_OK) {
    report(lua_tostring(L, -1));
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}

/* stdin as the script: `nsl - ARGS` (at is the index of "-"), or `nsl`
 * with stdin not a terminal (at == argc: no ARGS). */
static int run_stdin(lua_State *L, char **argv, int argc, int at) {
  set_arg_table(L, argv, argc, at < argc ? at : argc - 1);
  if (luaL_loadfile(L, NULL) != LUA_OK ||
      docall(L, push_script_args(L, argv, argc, at + 1)) != LUA_OK) {
    report(lua_tostring(L, -1));
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}

/* The checks live in the library (nsl.doctor); 1 when any failed. */
static int run_doctor(lua_State *L) {
  static const char code[] = "return require('nsl.doctor').run()";
  if (luaL_loadbuffer(L, code, sizeof code - 1, "=doctor") != LUA_OK ||
      docall_results(L, 0, 1) != LUA_OK) {
    report(lua_tostring(L, -1));
    return EXIT_FAILURE;
  }
  return lua_tointeger(L, -1) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* A command whose work lives in the library: code gets argv[2..] as `...`
 * and returns the exit status. */
static int run_library(lua_State *L, const char *code, char **argv, int argc) {
  set_arg_table(L, argv, argc, 1);
  if (luaL_loadbuffer(L, code, strlen(code), argv[1]) != LUA_OK ||
      docall_results(L, push_script_args(L, argv, argc, 2), 1) != LUA_OK) {
    report(lua_tostring(L, -1));
    return EXIT_FAILURE;
  }
  return (int)lua_tointeger(L, -1);
}

static int usage_error(const char *what, const char *arg) {
  if (*arg)
    fprintf(stderr, "%s: %s '%s'\n%s", progname, what, arg, usage_text);
  else
    fprintf(stderr, "%s: %s\n%s", progname, what, usage_text);
  return 2;
}

static int dispatch(lua_State *L, char **argv, int argc) {
  const char *base = strrchr(argv[0], '/');
  if (strcmp(base ? base + 1 : argv[0], "nsl-oci") == 0)
    return run_bundled(L, "oci.lua", argv, argc, 0);
  if (argc < 2)
    return isatty(STDIN_FILENO) ? nsl_repl(L) : run_stdin(L, argv, argc, argc);
  /* --trace among nsl's own options, before the command: taken out of argv */
  while (argc > 1 && strcmp(argv[1], "--trace") == 0) {
    if (!enable_trace(L))
      return EXIT_FAILURE;
    memmove(argv + 1, argv + 2, (size_t)(argc - 1) * sizeof *argv);
    argc--;
  }
  if (argc < 2) /* `nsl --trace`: the REPL, traced */
    return isatty(STDIN_FILENO) ? nsl_repl(L) : run_stdin(L, argv, argc, argc);
  const char *cmd = argv[1];
  if (strcmp(cmd, "run") == 0) {
    if (argc < 3)
      return usage_error("run needs a script", "");
    return run_script(L, argv, argc, 2);
  }
  if (strcmp(cmd, "-e") == 0) {
    if (argc < 3)
      return usage_error("-e needs code", "");
    return run_string(L, argv, argc, 2);
  }
  if (strcmp(cmd, "scripts") == 0)
    return list_scripts();
  if (strcmp(cmd, "oci") == 0)
    return run_bundled(L, "oci.lua", argv, argc, 1);
  if (strcmp(cmd, "doctor") == 0)
    return run_doctor(L);
  if (strcmp(cmd, "ps") == 0)
    return run_library(L, "require('nsl.running').ps() return 0", argv, argc);
  if (strcmp(cmd, "enter") == 0) {
    if (argc < 3)
      return usage_error("enter needs a container name or pid", "");
    return run_library(L,
                       "local target = ...\n"
                       "local code, err = require('nsl.running').enter("
                       "target, { select(2, ...) })\n"
                       "if not code then io.stderr:write('nsl: ', err, '\\n') "
                       "return 125 end\n"
                       "if err then io.stderr:write('nsl: ', err, '\\n') end\n"
                       "return code",
                       argv, argc);
  }
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-v") == 0) {
    printf("nsl %s (%s)\n", NSL_VERSION, LUA_RELEASE);
    return EXIT_SUCCESS;
  }
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    fputs(usage_text, stdout);
    return EXIT_SUCCESS;
  }
  if (strcmp(cmd, "-") == 0)
    return run_stdin(L, argv, argc, 1);
  return usage_error("unknown command", cmd);
}

static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = lua_touserdata(L, 2);
  luaL_openlibs(L);
  preload_library(L);
  lua_gc(L, LUA_GCRESTART);
  /* incremental, a cycle once memory has grown fourfold: a start loads
   * about 100 KB of bytecode into a heap that only grows until the
   * container runs, and generational minor collections (or the default
   * doubling) traversed it again and again: 5.6% of a start's
   * instructions (callgrind, nsl run busybox.lua /bin/true) */
  lua_gc(L, LUA_GCINC, 400, 0, 0);
  lua_pushinteger(L, dispatch(L, argv, argc));
  return 1;
}

#ifdef __SANITIZE_ADDRESS__
/* The sanitizer build (NSL_SANITIZE), whatever environment the command
 * line gets (env -i, an OCI client): a report aborts, so that the caller sees
 * a signal; no leak check at exit, whose ptrace of the process's own threads
 * hangs or fails in the namespaces nsl enters. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "abort_on_error=1:detect_leaks=0";
}
#endif

int main(int argc, char **argv) {
  lua_State *L = nsl_newstate();
  if (L == NULL) {
    report("cannot create the Lua state: not enough memory");
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP); /* no collection while the libraries load */
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = lua_pcall(L, 2, 1, 0);
  int result = (int)lua_tointeger(L, -1);
  if (status != LUA_OK) {
    report(lua_tostring(L, -1));
    result = EXIT_FAILURE;
  }
  fflush(stdout);
  lua_close(L);
  return result;
}
