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
#endif
