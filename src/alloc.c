/* alloc.c: the nsl executable's allocator for its Lua state.
 *
 * A start loads about 100 KB of bytecode: tens of thousands of small
 * blocks (strings, prototypes, tables), almost none freed before the
 * container runs. glibc's malloc spent a fifth of the start's instructions
 * on them (callgrind). Here a small block is a pointer bump in a 64 KB
 * chunk, or the head of its size class's free list; Lua tells the size at
 * every call, so no header is needed. Chunks are never returned: a freed
 * block waits for the next one of its class. A chunk's pages are made when
 * it is mapped (MAP_POPULATE): one system call, not 16 page faults (a
 * start as root: 293 -> 229 faults).
 *
 * Medium blocks (buffers that grow by doubling: a file read whole, a
 * string being built, a table's parts) are powers of two up to 64 KB, from
 * the same chunks (from 16 KB, a mapping each), and go to free lists too.
 * From malloc they cost a start 61 page faults (musl's malloc maps a group
 * of each size on its own and touches each new page), and a freed one went
 * back to the kernel at once: each fd:read's 64 KB buffer was an mmap and
 * an munmap. From here the parent's faults went from 126 to 75. */
#include "alloc.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SMALL_MAX 512
#define MEDIUM_MAX (64 * 1024)
/* medium blocks this big get a mapping each */
#define OWN_MAPPING (16 * 1024)
#define CHUNK (64 * 1024)
#define CLASS(n) (((n) + 15) >> 4) /* 1 .. SMALL_MAX / 16 */

static void *free_list[SMALL_MAX / 16 + 1];
static char *bump, *bump_end;

/* 0 for 513 .. 1024 bytes, 1 for .. 2048, ..., 6 for .. MEDIUM_MAX */
static void *medium_list[7];
static unsigned medium_class(size_t n) {
  return n <= 1024 ? 0 : (unsigned)(64 - __builtin_clzl(n - 1) - 10);
}

/* size bytes (a multiple of 16) from the current chunk, or from a new one:
 * the old chunk's tail is left unused; the new one's pages are made in one
 * go (MAP_POPULATE), not by a page fault each */
static void *carve(size_t size) {
  if ((size_t)(bump_end - bump) < size) {
    char *chunk = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (chunk == MAP_FAILED)
      return NULL;
    bump = chunk;
    bump_end = chunk + CHUNK;
  }
  void *p = bump;
  bump += size;
  return p;
}

static void *small_alloc(size_t cls) {
  void *p = free_list[cls];
  if (p) {
    free_list[cls] = *(void **)p;
    return p;
  }
  return carve(cls << 4);
}

static void *medium_alloc(unsigned cls) {
  void *p = medium_list[cls];
  if (p) {
    medium_list[cls] = *(void **)p;
    return p;
  }
  size_t size = (size_t)1024 << cls;
  if (size < OWN_MAPPING)
    return carve(size);
  /* a read's buffer (64 KB) mostly: only the pages written are made */
  p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
           0);
  return p == MAP_FAILED ? NULL : p;
}

/* A block of size n, from its class, or from malloc past MEDIUM_MAX. */
static void *obtain(size_t n) {
  if (n <= SMALL_MAX)
    return small_alloc(CLASS(n));
  return n <= MEDIUM_MAX ? medium_alloc(medium_class(n)) : malloc(n);
}

/* Back to its class's list, or to free(). A list also takes a block that a
 * failed obtain left to a shrink (at least the class's size), so none on the
 * lists goes to free(). Never a block that malloc made for a small size,
 * whose usable size may be less than the class's (56 of 64): every small
 * block comes from here (nsl_newstate). */
static void release(void *p, size_t n) {
  void **list = n <= SMALL_MAX    ? &free_list[CLASS(n)]
                : n <= MEDIUM_MAX ? &medium_list[medium_class(n)]
                                  : NULL;
  if (list == NULL) {
    free(p);
    return;
  }
  *(void **)p = *list;
  *list = p;
}

/* Do sizes a and b (a block's old and new) take the same block? */
static int same_block(size_t a, size_t b) {
  if (a <= SMALL_MAX || b <= SMALL_MAX)
    return a <= SMALL_MAX && b <= SMALL_MAX && CLASS(a) == CLASS(b);
  if (a <= MEDIUM_MAX || b <= MEDIUM_MAX)
    return a <= MEDIUM_MAX && b <= MEDIUM_MAX &&
           medium_class(a) == medium_class(b);
  return 0;
}

void *nsl_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  size_t old = ptr ? osize : 0; /* without ptr, osize is a type tag */
  if (nsize == 0) {
    if (ptr)
      release(ptr, old);
    return NULL;
  }
  if (old > MEDIUM_MAX && nsize > MEDIUM_MAX)
    return realloc(ptr, nsize);
  if (old > 0 && same_block(old, nsize))
    return ptr;
  void *p = obtain(nsize);
  if (!p)
    return nsize <= old ? ptr : NULL; /* Lua counts on a shrink working */
  if (ptr) {
    memcpy(p, ptr, old < nsize ? old : nsize);
    release(ptr, old);
  }
  return p;
}

/* ---- the state: luaL_newstate's handlers (lauxlib.c), this allocator ----
 */

static int panic(lua_State *L) {
  const char *msg = lua_type(L, -1) == LUA_TSTRING
                        ? lua_tostring(L, -1)
                        : "error object is not a string";
  lua_writestringerror("PANIC: unprotected error in call to Lua API (%s)\n",
                       msg);
  return 0; /* Lua aborts */
}

static void warn_off(void *ud, const char *message, int tocont);
static void warn_on(void *ud, const char *message, int tocont);

/* "@on" and "@off" switch warnings; 1 for such a control message. */
static int warn_control(lua_State *L, const char *message, int tocont) {
  if (tocont || *message++ != '@')
    return 0;
  if (strcmp(message, "off") == 0)
    lua_setwarnf(L, warn_off, L);
  else if (strcmp(message, "on") == 0)
    lua_setwarnf(L, warn_on, L);
  return 1;
}

static void warn_off(void *ud, const char *message, int tocont) {
  warn_control(ud, message, tocont);
}

static void warn_continue(void *ud, const char *message, int tocont) {
  lua_writestringerror("%s", message);
  if (tocont) {
    lua_setwarnf(ud, warn_continue, ud);
  } else {
    lua_writestringerror("%s", "\n");
    lua_setwarnf(ud, warn_on, ud);
  }
}

static void warn_on(void *ud, const char *message, int tocont) {
  if (warn_control(ud, message, tocont))
    return;
  lua_writestringerror("%s", "Lua warning: ");
  warn_continue(ud, message, tocont);
}

#ifdef __SANITIZE_ADDRESS__
static void *plain_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud, (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
}
#define STATE_ALLOC plain_alloc
#else
#define STATE_ALLOC nsl_alloc
#endif

lua_State *nsl_newstate(void) {
  lua_State *L = lua_newstate(STATE_ALLOC, NULL);
  if (L) {
    lua_atpanic(L, panic);
    lua_setwarnf(L, warn_off, L); /* off until "@on", as luaL_newstate has it */
  }
  return L;
}
