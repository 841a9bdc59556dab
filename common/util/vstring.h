#ifndef OTR_VSTRING_H
#define OTR_VSTRING_H
/* Growable byte strings, always NUL-terminated, with an optional hard maximum. */
#include <stdarg.h>
#include <stddef.h>

typedef struct vstring {
    char *data;
    size_t len;
    size_t cap;
    size_t max;   /* 0: unbounded */
    int overflow; /* set once an append hit max; the content is then truncated */
} vstring;

/* Returns a new empty string the caller frees with vstring_free; max 0 means no limit. */
vstring *vstring_alloc(size_t max);
/* Frees vs and returns NULL. */
vstring *vstring_free(vstring *vs);
void vstring_reset(vstring *vs);
/* Appends len bytes; returns 0, or -1 when max was reached (then nothing is appended). */
int vstring_append(vstring *vs, const void *data, size_t len);
int vstring_append_str(vstring *vs, const char *str);
int vstring_append_char(vstring *vs, int ch);
/* Appends printf-formatted text; returns as vstring_append. */
int vstring_sprintf_append(vstring *vs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ensures room for len more bytes without changing the content; a length whose size
 * arithmetic would wrap is a caller bug and panics (never a short buffer). */
void vstring_reserve(vstring *vs, size_t len);

#define vstring_str(vs) ((vs)->data)
#define vstring_len(vs) ((vs)->len)
#endif
