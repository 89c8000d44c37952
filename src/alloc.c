/* alloc.c: the nsl executable's allocator for its Lua state.
 *
 * A start loads about 100 KB of bytecode: tens of thousands of small
 * blocks (strings, prototypes, tables), almost none freed before the
 * container runs. glibc's malloc spent a fifth of the start's instructions
 * on them (callgrind). Here a small block is a pointer bump in a 64 KB
 * chunk, or the head of its size class's free list; Lua tells the size at
 * every call, so no header is needed. Chunks are never returned: a freed
 * block waits for the next one of its class. */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#define SMALL_MAX 512
#define CHUNK (64 * 1024)
#define CLASS(n) (((n) + 15) >> 4) /* 1 .. SMALL_MAX / 16 */

static void *free_list[SMALL_MAX / 16 + 1];
static char *bump, *bump_end;

static void *small_alloc(size_t cls) {
  void *p = free_list[cls];
  if (p) {
    free_list[cls] = *(void **)p;
    return p;
  }
  size_t size = cls << 4;
  if ((size_t)(bump_end - bump) < size) {
    char *chunk = malloc(CHUNK); /* the old chunk's tail is left unused */
    if (!chunk)
      return NULL;
    bump = chunk;
    bump_end = chunk + CHUNK;
  }
  p = bump;
  bump += size;
  return p;
}

/* Also takes blocks that malloc made (luaL_newstate's, before nsl set this
 * allocator; a shrink that kept its block): any block of at least the
 * class's size can serve it, and none on the lists goes to free(). */
static void small_free(void *p, size_t cls) {
  *(void **)p = free_list[cls];
  free_list[cls] = p;
}

void *nsl_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  size_t old = ptr ? osize : 0; /* without ptr, osize is a type tag */
  if (nsize == 0) {
    if (ptr && old <= SMALL_MAX)
      small_free(ptr, CLASS(old));
    else
      free(ptr);
    return NULL;
  }
  if (old > SMALL_MAX && nsize > SMALL_MAX)
    return realloc(ptr, nsize);
  if (old > 0 && old <= SMALL_MAX && nsize <= SMALL_MAX &&
      CLASS(old) == CLASS(nsize))
    return ptr;
  void *p = nsize <= SMALL_MAX ? small_alloc(CLASS(nsize)) : malloc(nsize);
  if (!p)
    return nsize <= old ? ptr : NULL; /* Lua counts on a shrink working */
  if (ptr) {
    memcpy(p, ptr, old < nsize ? old : nsize);
    if (old <= SMALL_MAX)
      small_free(ptr, CLASS(old));
    else
      free(ptr);
  }
  return p;
}
