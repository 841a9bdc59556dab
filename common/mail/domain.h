#ifndef OTR_DOMAIN_H
#define OTR_DOMAIN_H
/* Domain names as reports need them: lower case, no trailing dot, A-labels. */
#include <stddef.h>

#define DOMAIN_MAX 253

/* Writes the normalized form of the len bytes at in to out (size > DOMAIN_MAX).
 * Returns 0, or -1 when the name is not a valid host name. */
int domain_normalize(const char *in, size_t len, char *out, size_t outsize);
/* Punycode (RFC 3492) of the code points; returns 0, or -1 when out is too small. */
int domain_punycode(const unsigned *cps, size_t n, char *out, size_t outsize);
/* Writes name (normalized, A-labels) with its A-labels decoded to UTF-8 into out (one that
 * does not decode, or decodes to a control character, is kept as it is); returns 1 when
 * some label was decoded, 0 when none was, -1 when out is too small. */
int domain_to_unicode(const char *name, char *out, size_t outsize);
#endif
