/* lroot.c: placeholder until the area lands. */
#include "lnsl.h"

const nsl_Reg nsl_root_lib[] = {{NULL, NULL, NULL, NULL}};

void nsl_root_open(lua_State *L) { (void)L; }
