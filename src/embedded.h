/* The Lua library compiled into the nsl executable (see cmake/embed.cmake). */
#ifndef NSL_EMBEDDED_H
#define NSL_EMBEDDED_H
#include <stddef.h>

typedef struct nsl_Embedded {
  const char *module;    /* "nsl.container" */
  const char *chunkname; /* "@lua/nsl/container.lua" */
  const char *source;    /* for help(): the --- docs */
  size_t len;
  const char *bytecode; /* what runs: luac's output */
  size_t bytecode_len;
  const char *sha256; /* of the source, hex: a cache key that costs nothing */
} nsl_Embedded;

extern const nsl_Embedded nsl_embedded[];
/* the bundled scripts, by file name ("busybox.lua"), chunks "@scripts/..." */
extern const nsl_Embedded nsl_embedded_scripts[];

#endif
