/* repl.c: placeholder REPL until the real one lands. */
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "repl.h"

int nsl_repl(lua_State *L) {
  char *line;
  while ((line = readline("nsl> ")) != NULL) {
    if (luaL_dostring(L, line) != LUA_OK) {
      fprintf(stderr, "%s\n", lua_tostring(L, -1));
      lua_pop(L, 1);
    }
    free(line);
  }
  return EXIT_SUCCESS;
}
