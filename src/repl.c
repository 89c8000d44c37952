/* repl.c: the interactive REPL of the nsl executable.
 *
 * The shape of Lua 5.4's lua.c doREPL: read a line, try it as "return LINE"
 * so that an expression prints its values, else as a statement, reading
 * continuation lines while the chunk is incomplete; run it with a traceback;
 * print the results. This file is the terminal: readline line editing, the
 * history file, the completion glue and Ctrl-C. What the user reads (the
 * printed values, completions, help) comes from lua/nsl/repl.lua. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "lnsl.h"
#include "repl.h"

#define HISTORY_MAX 1000
#define PROMPT "nsl> "
#define PROMPT2 ">> "
#define CHUNKNAME "=stdin"
#define EOFMARK "<eof>" /* the end of an incomplete chunk's syntax error */
#define CANCELLED (-2)  /* loadline: Ctrl-C discarded the input */

static lua_State *globalL;       /* for the signal handler, the completer */
static int repl_ref = LUA_NOREF; /* the nsl.repl module, in the registry */
static volatile sig_atomic_t interrupted; /* Ctrl-C at the prompt */
static volatile sig_atomic_t resized;     /* SIGWINCH at the prompt */
static char history_file[PATH_MAX];       /* "" when there is no history file */

/* ---- the history file -------------------------------------------------- */

/* mkdir -p of the directories above path below its first `keep` bytes
 * (which must exist already); -1 and errno on failure. */
static int make_parents(char *path, size_t keep) {
  for (char *p = path + keep + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    int r = mkdir(path, 0700);
    *p = '/';
    if (r != 0 && errno != EEXIST)
      return -1;
  }
  return 0;
}

/* The history file exists afterwards (append_history does not create it)
 * and is a regular file: history_truncate_file replaces the file by a new
 * one, which must never happen to NSL_HISTORY=/dev/null (no history). */
static int touch(const char *path) {
  struct stat st;
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    return -1;
  int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  close(fd);
  return regular ? 0 : -1;
}

/* $NSL_HISTORY, else $XDG_STATE_HOME/nsl/history (an absolute path, as the
 * XDG base directory spec wants), else ~/.local/state/nsl/history, making
 * the directories (but never HOME itself). Without a HOME, or where it
 * cannot be written, there is simply no history file. */
static void history_open(void) {
  const char *file = getenv("NSL_HISTORY"), *state = getenv("XDG_STATE_HOME");
  const char *home = getenv("HOME");
  size_t size = sizeof history_file, keep = 0;
  int n = -1;
  if (file && *file)
    n = snprintf(history_file, size, "%s", file);
  else if (state && *state == '/')
    n = snprintf(history_file, size, "%s/nsl/history", state);
  else if (home && *home) {
    n = snprintf(history_file, size, "%s/.local/state/nsl/history", home);
    keep = strlen(home);
  }
  stifle_history(HISTORY_MAX);
  if (n <= 0 || (size_t)n >= size || make_parents(history_file, keep) != 0 ||
      touch(history_file) != 0) {
    history_file[0] = '\0';
    return;
  }
  read_history(history_file);
}

/* Keep a line unless it is empty or repeats the previous one; appending at
 * once keeps the history of a session that ends with os.exit or a kill. */
static void history_add(const char *line) {
  if (line[0] == '\0')
    return;
  HIST_ENTRY *last = history_get(history_base + history_length - 1);
  if (last && strcmp(last->line, line) == 0)
    return;
  add_history(line);
  if (history_file[0])
    append_history(1, history_file);
}

static void history_close(void) {
  if (history_file[0])
    history_truncate_file(history_file, HISTORY_MAX);
}

/* ---- Ctrl-C and resizes ------------------------------------------------ */

/* select is never restarted (signal(7)), so read_line sees every signal;
 * SA_RESTART decides whether the chunk being run sees EINTR: for Ctrl-C it
 * should (a blocked nsl.wait returns, then the hook stops the chunk), for a
 * resize it should not. */
static void set_handler(int sig, void (*handler)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = flags;
  sigaction(sig, &sa, NULL);
}

/* At the prompt: read_line sees the flag and discards the line. */
static void prompt_sigint(int sig) {
  (void)sig;
  interrupted = 1;
}

/* Readline only watches the window size inside rl_callback_read_char;
 * read_line tells it about a resize that came while waiting for a key. */
static void prompt_sigwinch(int sig) {
  (void)sig;
  resized = 1;
}

/* During evaluation, as lua.c: a signal handler cannot touch the Lua state
 * safely, so it only sets a hook that raises at the next call, return, line
 * or instruction count; a second Ctrl-C kills the process. */
static void lstop(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

static void laction(int sig) {
  int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  signal(sig, SIG_DFL);
  lua_sethook(globalL, lstop, flag, 1);
}

/* ---- reading lines ----------------------------------------------------- */

static char *line_read;
static int line_done;

static void line_handler(char *line) {
  line_read = line;
  line_done = 1;
  rl_callback_handler_remove();
}

/* What Python's readline module does on Ctrl-C in callback mode. */
static void discard_line(void) {
  rl_free_line_state();
  rl_callback_sigcleanup();
  rl_cleanup_after_signal();
  rl_callback_handler_remove();
  rl_echo_signal_char(SIGINT);
  fputc('\n', rl_outstream);
}

/* Readline's callback interface (not readline()) so that Ctrl-C can leave
 * a half-typed line: select returns EINTR and the line is thrown away.
 * Returns 1 and a malloc'ed *line, 0 at end of input, -1 on Ctrl-C. */
static int read_line(const char *prompt, char **line) {
  line_done = 0;
  line_read = NULL;
  interrupted = 0;
  fflush(stdout);
  rl_callback_handler_install(prompt, line_handler);
  int fd = fileno(rl_instream);
  while (!line_done) {
    if (interrupted) { /* also when it came inside readline's own code */
      discard_line();
      return -1;
    }
    fd_set in;
    FD_ZERO(&in);
    FD_SET(fd, &in);
    int r = select(fd + 1, &in, NULL, NULL, NULL);
    if (interrupted) { /* even when input came with the Ctrl-C */
      discard_line();
      return -1;
    }
    if (resized) {
      resized = 0;
      rl_resize_terminal();
    }
    if (r < 0 && errno != EINTR) {
      rl_callback_handler_remove();
      return 0;
    }
    if (r > 0)
      rl_callback_read_char();
  }
  *line = line_read;
  return line_read != NULL;
}

/* ---- completion -------------------------------------------------------- */

static int matches_index; /* stack index of repl.complete's list */
static lua_Integer matches_next;

static char *next_match(const char *text, int state) {
  (void)text;
  if (state == 0)
    matches_next = 1;
  char *match = NULL;
  if (lua_rawgeti(globalL, matches_index, matches_next++) == LUA_TSTRING)
    match = strdup(lua_tostring(globalL, -1));
  lua_pop(globalL, 1);
  return match;
}

/* rl_attempted_completion_function: repl.complete(text) gives the words. */
static char **complete(const char *text, int start, int end) {
  (void)start, (void)end;
  lua_State *L = globalL;
  int top = lua_gettop(L);
  char **matches = NULL;
  rl_attempted_completion_over = 1;   /* never complete file names */
  rl_completion_append_character = 0; /* "nsl.mount" may go on "(" or "." */
  if (repl_ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, repl_ref);
    lua_getfield(L, -1, "complete");
    lua_pushstring(L, text);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
      matches_index = lua_gettop(L);
      matches = rl_completion_matches(text, next_match);
    }
  }
  lua_settop(L, top);
  return matches;
}

/* ---- running chunks (lua.c) -------------------------------------------- */

static int docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, nsl_msghandler);
  lua_insert(L, base);
  set_handler(SIGINT, laction, 0);
  int status = lua_pcall(L, narg, nres, base);
  set_handler(SIGINT, prompt_sigint, 0);
  lua_sethook(L, NULL, 0, 0); /* a Ctrl-C that came too late to stop it */
  lua_remove(L, base);
  return status;
}

static void report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "%s\n", msg ? msg : "(error object is not a string)");
    fflush(stderr);
    lua_pop(L, 1);
  }
}

/* ---- the loop ---------------------------------------------------------- */

static const char *get_prompt(lua_State *L, int firstline) {
  lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2");
  const char *p = lua_tostring(L, -1);
  return p ? p : firstline ? PROMPT : PROMPT2;
}

/* Pushes the next line: 1; at end of input 0; on Ctrl-C -1. */
static int pushline(lua_State *L, int firstline) {
  char *b;
  int r = read_line(get_prompt(L, firstline), &b);
  lua_pop(L, 1); /* the prompt */
  if (r <= 0)
    return r;
  history_add(b);
  lua_pushstring(L, b);
  free(b);
  return 1;
}

static int incomplete(lua_State *L, int status) {
  size_t len, mark = sizeof EOFMARK - 1;
  if (status != LUA_ERRSYNTAX)
    return 0;
  const char *msg = lua_tolstring(L, -1, &len);
  return len >= mark && strcmp(msg + len - mark, EOFMARK) == 0;
}

/* The line at the top as "return LINE;": an expression prints its values. */
static int addreturn(lua_State *L) {
  const char *retline = lua_pushfstring(L, "return %s;", lua_tostring(L, -1));
  int status = luaL_loadbuffer(L, retline, strlen(retline), CHUNKNAME);
  if (status == LUA_OK)
    lua_remove(L, -2);
  else
    lua_pop(L, 2);
  return status;
}

/* The line at index `at` as a statement, joined with continuation lines
 * while Lua reports the chunk ends too early. */
static int multiline(lua_State *L, int at) {
  for (;;) {
    size_t len;
    const char *chunk = lua_tolstring(L, at, &len);
    int status = luaL_loadbuffer(L, chunk, len, CHUNKNAME);
    if (!incomplete(L, status))
      return status;
    int r = pushline(L, 0);
    if (r == 0)
      return status; /* end of input: report the incomplete chunk */
    if (r < 0)
      return CANCELLED;
    lua_remove(L, -2); /* the "<eof>" message */
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

/* Leaves the compiled chunk (or the error) above base; -1 at end of input. */
static int loadline(lua_State *L, int base) {
  lua_settop(L, base);
  int r = pushline(L, 1);
  if (r <= 0)
    return r == 0 ? -1 : CANCELLED;
  int status = addreturn(L);
  if (status != LUA_OK)
    status = multiline(L, base + 1);
  if (status == CANCELLED)
    lua_settop(L, base);
  else
    lua_remove(L, base + 1); /* the line */
  return status;
}

/* repl.results(...) prints the values; plain tostring without nsl.repl. */
static void print_results(lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  if (n == 0)
    return;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  if (repl_ref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, repl_ref);
    lua_getfield(L, -1, "results");
    lua_remove(L, -2);
  } else {
    lua_getglobal(L, "print");
  }
  lua_insert(L, base + 1);
  int status = docall(L, n, 1);
  if (status == LUA_OK && lua_type(L, -1) == LUA_TSTRING)
    printf("%s\n", lua_tostring(L, -1));
  else if (status != LUA_OK)
    fprintf(stderr, "error printing the results: %s\n",
            lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
  lua_settop(L, base);
}

/* require "nsl.repl" and let it set the globals nsl and help. */
static int setup(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "nsl.repl");
  lua_call(L, 1, 1);
  lua_pushvalue(L, -1);
  repl_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_getfield(L, -1, "install");
  lua_pushglobaltable(L);
  lua_call(L, 1, 0);
  return 0;
}

static void readline_setup(void) {
  rl_readline_name = "nsl"; /* for $if nsl in ~/.inputrc */
  rl_attempted_completion_function = complete;
  /* '.' and ':' are part of a word, so "nsl.mo" completes as a path */
  rl_completer_word_break_characters = " \t\n\"\\'`@$><=;|&{}()[]+-*/%^~#,";
}

int nsl_repl(lua_State *L) {
  int base = lua_gettop(L), status;
  globalL = L;
  readline_setup();
  history_open();
  lua_pushcfunction(L, setup);
  report(L, docall(L, 0, 0));
  printf("nsl %s (%s) - help() for help, Ctrl-D to quit\n", NSL_VERSION,
         LUA_VERSION);
  set_handler(SIGINT, prompt_sigint, 0);
  set_handler(SIGWINCH, prompt_sigwinch, SA_RESTART);
  while ((status = loadline(L, base)) != -1) {
    if (status == CANCELLED)
      continue;
    if (status == LUA_OK)
      status = docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK)
      print_results(L, base);
    else
      report(L, status);
  }
  signal(SIGINT, SIG_DFL);
  signal(SIGWINCH, SIG_DFL);
  lua_settop(L, base);
  putchar('\n');
  history_close();
  luaL_unref(L, LUA_REGISTRYINDEX, repl_ref);
  repl_ref = LUA_NOREF;
  return EXIT_SUCCESS;
}
