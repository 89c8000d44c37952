/* memcpy.c: memcpy and memmove for the nsl executable linked with musl
 * (CMake builds this file only then), in place of musl's.
 *
 * musl's x86_64 memcpy copies with `rep movsq` and single `movsb`s, whose
 * start-up costs dozens of cycles, whatever the length: a container's start
 * makes about 5,000 copies, four in five of 16 bytes or less (Lua's strings
 * as they are interned), and they took 0.29 ms of it (perf, 300 starts).
 * Here a short copy is two overlapping loads and stores, a medium one a loop
 * of 16-byte ones, and only a long one `rep movsb` (fast on CPUs with
 * ERMS, which glibc's memcpy also uses past a threshold).
 *
 * memmove is here too: musl's jumps into its memcpy's object, which would
 * then be linked as well and clash with this memcpy. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The copy loops below must not be turned back into calls of memcpy. */
#pragma GCC optimize("no-tree-loop-distribute-patterns")

#define LONG_COPY 512

typedef struct {
  uint64_t lo, hi;
} chunk16;

/* n bytes, 0 to 16, through registers: safe whatever the overlap, since
 * every load is made before the first store. */
static void copy_short(unsigned char *d, const unsigned char *s, size_t n) {
  if (n >= 8) {
    uint64_t a, b;
    __builtin_memcpy(&a, s, 8);
    __builtin_memcpy(&b, s + n - 8, 8);
    __builtin_memcpy(d, &a, 8);
    __builtin_memcpy(d + n - 8, &b, 8);
  } else if (n >= 4) {
    uint32_t a, b;
    __builtin_memcpy(&a, s, 4);
    __builtin_memcpy(&b, s + n - 4, 4);
    __builtin_memcpy(d, &a, 4);
    __builtin_memcpy(d + n - 4, &b, 4);
  } else if (n > 0) {
    unsigned char a = s[0], b = s[n / 2], c = s[n - 1];
    d[0] = a;
    d[n / 2] = b;
    d[n - 1] = c;
  }
}

static void copy_forward(unsigned char *d, const unsigned char *s, size_t n) {
  if (n >= LONG_COPY) {
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return;
  }
  chunk16 last; /* loaded first: with d below s the loop may overwrite it */
  __builtin_memcpy(&last, s + n - 16, 16);
  for (size_t i = 0; i + 16 < n; i += 16) {
    chunk16 c;
    __builtin_memcpy(&c, s + i, 16);
    __builtin_memcpy(d + i, &c, 16);
  }
  __builtin_memcpy(d + n - 16, &last, 16);
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
  if (n <= 16)
    copy_short(dst, src, n);
  else
    copy_forward(dst, src, n);
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if (n <= 16) {
    copy_short(d, s, n);
  } else if ((uintptr_t)d - (uintptr_t)s >= n) {
    /* d is below s, or past the end of s: a forward copy reads each byte
     * before it is written over */
    if (n >= LONG_COPY || (uintptr_t)s - (uintptr_t)d >= 16)
      copy_forward(d, s, n);
    else
      for (size_t i = 0; i < n; i++)
        d[i] = s[i];
  } else {
    /* d overlaps the end of s: from the end, 16 bytes at a time */
    chunk16 first;
    __builtin_memcpy(&first, s, 16);
    size_t i = n;
    for (; i > 16; i -= 16) {
      chunk16 c;
      __builtin_memcpy(&c, s + i - 16, 16);
      __builtin_memcpy(d + i - 16, &c, 16);
    }
    __builtin_memcpy(d, &first, 16);
  }
  return dst;
}
