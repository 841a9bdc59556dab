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
/* Returns 1 when valid UTF-8 s holds a C0 or C1 control character (U+0000-U+001F,
 * U+007F-U+009F), which could forge fields or terminal sequences once printed. */
int utf8_has_controls(const char *s, size_t len);
/* Replaces each C0 or C1 control character of valid UTF-8 s in place by repl (one byte,
 * not a control); returns the new length (a C1 character is two bytes) and adds the
 * replacements to *count (may be NULL). */
size_t utf8_replace_controls(char *s, size_t len, char repl, size_t *count);
/* Decodes one code point at s (n bytes left); returns its length, or 0 when invalid. */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* Appends s to out with C0 controls, DEL and C1 controls (UTF-8 C2 80..C2 9F) shown as
 * \xNN: safe to print on a terminal or put in a text format. */
void utf8_escape_controls(vstring *out, const char *s);
#endif
