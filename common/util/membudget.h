#ifndef OTR_MEMBUDGET_H
#define OTR_MEMBUDGET_H
/*
 * A memory budget shared by threads: what a piece of work is about to allocate is taken
 * from it first, and given back when freed, so that many concurrent inputs (the milter's
 * connections) together never hold more than the budget. Over it, the work is refused as a
 * resource shortage, which is never the input's fault.
 */
#include <stdatomic.h>
#include <stddef.h>

typedef struct membudget {
    atomic_size_t used;
    size_t max;
} membudget;

/* Sets up an empty budget of max bytes. */
void membudget_init(membudget *b, size_t max);
/* Takes n bytes; returns 0, or -1 (nothing taken) when that would pass the maximum. */
int membudget_take(membudget *b, size_t n);
/* Gives back n bytes taken before. */
void membudget_give(membudget *b, size_t n);
/* Bytes taken now. */
size_t membudget_used(membudget *b);
#endif
