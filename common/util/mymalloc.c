#include "mymalloc.h"

#include <stdlib.h>
#include <string.h>

#include "msg.h"

void *mymalloc(size_t len)
{
    void *p = malloc(len ? len : 1);

    if (p == NULL)
        msg_fatal("out of memory allocating %zu bytes", len);
    return p;
}

void *mycalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL)
        msg_fatal("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *myrealloc(void *ptr, size_t len)
{
    void *p = realloc(ptr, len ? len : 1);

    if (p == NULL)
        msg_fatal("out of memory reallocating %zu bytes", len);
    return p;
}

char *mystrdup(const char *str)
{
    return mystrndup(str, strlen(str));
}

char *mystrndup(const char *str, size_t len)
{
    char *p = mymalloc(len + 1);

    memcpy(p, str, len);
    p[len] = 0;
    return p;
}

void *myfree(void *ptr)
{
    free(ptr);
    return NULL;
}

void myfree_value(void *ptr)
{
    free(ptr);
}
