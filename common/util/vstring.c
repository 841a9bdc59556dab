#include "vstring.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"
#include "mymalloc.h"

vstring *vstring_alloc(size_t max)
{
    vstring *vs = mymalloc(sizeof(*vs));

    vs->cap = 64;
    vs->data = mymalloc(vs->cap);
    vs->data[0] = 0;
    vs->len = 0;
    vs->max = max;
    vs->overflow = 0;
    return vs;
}

vstring *vstring_free(vstring *vs)
{
    if (vs) {
        myfree(vs->data);
        myfree(vs);
    }
    return NULL;
}

void vstring_reset(vstring *vs)
{
    vs->len = 0;
    vs->data[0] = 0;
    vs->overflow = 0;
}

void vstring_reserve(vstring *vs, size_t len)
{
    /* As Postfix's vstring_extend: a length that wraps the size arithmetic is a bug in the
     * caller, never a reason to write past the buffer. */
    if (vs->len > SIZE_MAX / 2 - 1 || len > SIZE_MAX / 2 - 1 - vs->len)
        msg_panic("vstring_reserve: length %zu overflows a string of %zu bytes", len, vs->len);
    if (vs->len + len + 1 > vs->cap) {
        size_t cap = vs->cap;
        while (vs->len + len + 1 > cap)
            cap *= 2;
        vs->data = myrealloc(vs->data, cap);
        vs->cap = cap;
    }
}

int vstring_append(vstring *vs, const void *data, size_t len)
{
    if (vs->max && len > vs->max - vs->len) {
        vs->overflow = 1;
        return -1;
    }
    vstring_reserve(vs, len);
    memcpy(vs->data + vs->len, data, len);
    vs->len += len;
    vs->data[vs->len] = 0;
    return 0;
}

int vstring_append_str(vstring *vs, const char *str)
{
    return vstring_append(vs, str, strlen(str));
}

int vstring_append_char(vstring *vs, int ch)
{
    char c = (char)ch;

    return vstring_append(vs, &c, 1);
}

int vstring_sprintf_append(vstring *vs, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if (vs->max && (size_t)n > vs->max - vs->len) {
        vs->overflow = 1;
        return -1;
    }
    vstring_reserve(vs, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(vs->data + vs->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    vs->len += (size_t)n;
    return 0;
}
