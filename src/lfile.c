/* lfile.c: placeholder until the area lands. */
#include "lnsl.h"

const nsl_Reg nsl_file_lib[] = {{NULL, NULL, NULL, NULL}};
