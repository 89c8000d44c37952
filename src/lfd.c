/* lfd.c: placeholder until the area lands. */
#include "lnsl.h"

const nsl_Reg nsl_fd_lib[] = {{NULL, NULL, NULL, NULL}};
void nsl_fd_open(lua_State *L) { (void)L; }
void nsl_pushfd(lua_State *L, int fd) { lua_pushinteger(L, fd); }
int nsl_checkfd(lua_State *L, int arg) { return (int)luaL_checkinteger(L, arg); }
