/* lmount.c: placeholder until the area lands. */
#include "lnsl.h"

const nsl_Reg nsl_mount_lib[] = {{NULL, NULL, NULL, NULL}};
