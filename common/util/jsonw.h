#ifndef OTR_JSONW_H
#define OTR_JSONW_H
/* Writing JSON text straight into a vstring, for output too big or too hot for a json-c
 * tree (a day's reports, received reports' stored form). */
#include <stddef.h>

#include "vstring.h"

/* Appends s (len bytes, or up to its NUL) as a JSON string: quotes, backslashes and
 * control characters escaped, the way json-c writes them with NOSLASHESCAPE. */
void jsonw_strn(vstring *out, const char *s, size_t len);
void jsonw_str(vstring *out, const char *s);
#endif
