#include "arena.h"

#include <string.h>

#include "mymalloc.h"

struct arena_chunk {
    arena_chunk *next;
    size_t size;
    _Alignas(16) unsigned char data[];
};

void arena_init(arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->used = 0;
    a->chunk = chunk_size ? chunk_size : 4096;
    a->total = 0;
}

void *arena_alloc(arena *a, size_t len)
{
    len = (len + 15) & ~(size_t)15;
    if (a->head == NULL || a->used + len > a->head->size) {
        size_t size = len > a->chunk ? len : a->chunk;
        arena_chunk *c = mymalloc(sizeof(*c) + size);
        c->size = size;
        a->total += sizeof(*c) + size;
        c->next = a->head;
        a->head = c;
        a->used = 0;
    }
    void *p = a->head->data + a->used;
    a->used += len;
    return p;
}

char *arena_strndup(arena *a, const char *str, size_t len)
{
    char *p = arena_alloc(a, len + 1);

    memcpy(p, str, len);
    p[len] = 0;
    return p;
}

char *arena_strdup(arena *a, const char *str)
{
    return arena_strndup(a, str, strlen(str));
}

void arena_reset(arena *a)
{
    arena_chunk *c = a->head;

    if (c == NULL)
        return;
    /* Keep the oldest chunk (the tail), which is of the default size. */
    while (c->next) {
        arena_chunk *next = c->next;
        myfree(c);
        c = next;
    }
    a->head = c;
    a->used = 0;
    a->total = sizeof(*c) + c->size;
}

void arena_destroy(arena *a)
{
    arena_reset(a);
    a->head = myfree(a->head);
    a->used = 0;
    a->total = 0;
}
