/* alloc.h: the nsl executable's allocator for its Lua state. */
#ifndef NSL_ALLOC_H
#define NSL_ALLOC_H
#include <stddef.h>

/* A lua_Alloc: blocks of up to 512 bytes from free lists by 16-byte size
 * class, carved from 64 KB chunks; up to 32 KB from free lists by power of
 * two, filled by malloc; larger ones from malloc. */
void *nsl_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

struct lua_State;
/* luaL_newstate with nsl_alloc from its first block (the free lists take
 * only blocks of their class's size), or with realloc under ASan, whose
 * malloc checks every block: the same panic and warning handlers. NULL
 * without memory. */
struct lua_State *nsl_newstate(void);

#endif
