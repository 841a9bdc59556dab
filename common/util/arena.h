#ifndef OTR_ARENA_H
#define OTR_ARENA_H
/* Bump allocator: many small allocations freed together; memory never moves. */
#include <stddef.h>

typedef struct arena_chunk arena_chunk;
typedef struct arena {
    arena_chunk *head;
    size_t used;  /* bytes used in head */
    size_t chunk; /* default chunk size */
    size_t total; /* bytes of all chunks: what the arena holds from malloc */
} arena;

void arena_init(arena *a, size_t chunk_size);
/* Returns len bytes aligned for any type, owned by the arena. */
void *arena_alloc(arena *a, size_t len);
/* Returns a NUL-terminated copy of len bytes, owned by the arena. */
char *arena_strndup(arena *a, const char *str, size_t len);
char *arena_strdup(arena *a, const char *str);
/* Forgets every allocation but keeps the first chunk for reuse. */
void arena_reset(arena *a);
/* Releases all memory. */
void arena_destroy(arena *a);
#endif
