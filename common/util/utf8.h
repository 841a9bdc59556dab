#ifndef OTR_UTF8_H
#define OTR_UTF8_H
/* UTF-8 validation and repair. */
#include <stddef.h>
#include <stdint.h>

#include "vstring.h"

/* Returns 1 when the len bytes are valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
int utf8_valid(const char *s, size_t len);
/* Appends s to out with each invalid sequence replaced by U+FFFD; returns the replacements. */
size_t utf8_repair(vstring *out, const char *s, size_t len);
/* Decodes one code point at s (n bytes left); returns its length, or 0 when invalid. */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
#endif
