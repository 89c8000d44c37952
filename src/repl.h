/* repl.h: the interactive REPL of the nsl executable. */
#ifndef NSL_REPL_H
#define NSL_REPL_H
#include <lua.h>

/* Read-eval-print on the terminal until end of input; returns the exit
 * status for main. */
int nsl_repl(lua_State *L);

/* lua.c's message handler (nsl.c): the error message with a traceback,
 * for the scripts and the REPL alike. */
int nsl_msghandler(lua_State *L);

#endif
