#ifndef OTR_HTABLE_H
#define OTR_HTABLE_H
/* Hash table keyed by byte strings; the table owns copies of the keys, not the values. */
#include <stddef.h>
#include <stdint.h>

typedef struct htable_entry {
    struct htable_entry *next;
    uint64_t hash;
    size_t klen;
    void *value;
    char key[]; /* NUL-terminated copy, klen bytes */
} htable_entry;

typedef struct htable {
    htable_entry **buckets;
    size_t size; /* number of buckets, a power of two */
    size_t used;
} htable;

/* Returns a new empty table the caller frees with htable_free. */
htable *htable_create(size_t hint);
/* Frees the table; free_value (may be NULL) is called on each value. Returns NULL. */
htable *htable_free(htable *t, void (*free_value)(void *));
/* Returns the entry for key, or NULL. */
htable_entry *htable_locate(const htable *t, const void *key, size_t klen);
/* Returns the entry for key, creating it with value NULL when absent (*created says which). */
htable_entry *htable_enter(htable *t, const void *key, size_t klen, int *created);
/* As htable_enter, but a new entry's value points to vsize zeroed bytes in the entry's own
 * block, freed with the entry (a free_value callback must not free it). */
htable_entry *htable_enter_sized(htable *t, const void *key, size_t klen, size_t vsize,
                                 int *created);
/* As htable_enter_sized, with hash = htable_key_hash(key, klen) computed already. */
htable_entry *htable_enter_hashed(htable *t, const void *key, size_t klen, uint64_t hash,
                                  size_t vsize, int *created);
/* The tables' hash of a key (not stable across versions: use htable_hash for names). */
uint64_t htable_key_hash(const void *key, size_t len);
/* Hints that a lookup of hash will come: its bucket (htable_prefetch), or, once the bucket
 * is at hand, its first entry (htable_prefetch_entry). Nothing else changes. */
void htable_prefetch(const htable *t, uint64_t hash);
void htable_prefetch_entry(const htable *t, uint64_t hash);
/* Removes (and frees, with free_value if not NULL) every entry keep(entry, ctx) returns 0
 * for: in place, without a rebuild. */
void htable_drop(htable *t, int (*keep)(const htable_entry *, void *), void *ctx,
                 void (*free_value)(void *));
/* Returns a new array of the t->used entries sorted by key (memcmp order); the caller frees it. */
htable_entry **htable_sorted(const htable *t);
/* FNV-1a with an avalanche: stable across versions, for names and ids that outlive a run
 * (stored report names, report-id tags); the tables themselves use a faster hash. */
uint64_t htable_hash(const void *key, size_t len);
#endif
