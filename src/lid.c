/* lid.c: placeholder until the area lands. */
#include "lnsl.h"

const nsl_Reg nsl_id_lib[] = {{NULL, NULL, NULL, NULL}};
