/* lproc.c: placeholder until the area lands. */
#include "lnsl.h"

const nsl_Reg nsl_proc_lib[] = {{NULL, NULL, NULL, NULL}};
void nsl_proc_open(lua_State *L) { (void)L; }
