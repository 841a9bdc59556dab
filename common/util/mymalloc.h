#ifndef OTR_MYMALLOC_H
#define OTR_MYMALLOC_H
/* Allocators that never return NULL (they call msg_fatal), and a free that returns NULL. */
#include <stddef.h>

void *mymalloc(size_t len);
/* Zero-filled n*size bytes; overflow is fatal. */
void *mycalloc(size_t n, size_t size);
void *myrealloc(void *ptr, size_t len);
/* Returns a NUL-terminated copy the caller owns. */
char *mystrdup(const char *str);
/* Returns a NUL-terminated copy of the first len bytes; the caller owns it. */
char *mystrndup(const char *str, size_t len);
/* Frees ptr (NULL is fine) and returns NULL, for `p = myfree(p);`. */
void *myfree(void *ptr);
/* Frees ptr; the value-freeing callback for htable_free and htable_drop. */
void myfree_value(void *ptr);
#endif
