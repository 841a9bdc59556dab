#ifndef OTR_GZ_H
#define OTR_GZ_H
/* gzip (RFC 1952) with zlib: reports go out compressed, received ones are inflated with a
 * hard cap so a gzip bomb costs nothing. */
#include <stddef.h>

#include "vstring.h"

/* Appends the gzip form of the len bytes to out; returns 0, or -1 on a zlib error. */
int gz_compress(const void *data, size_t len, vstring *out);
/* Inflates gzip data (several members are concatenated) into out (replacing it), stopping
 * with -1 and errno EFBIG as soon as more than max bytes would come out; -1 and EINVAL when
 * the data is not gzip or is truncated. Returns 0. */
int gz_decompress(const void *data, size_t len, size_t max, vstring *out);
/* Whether data starts like a zip archive (a local file header). */
int gz_is_zip(const void *data, size_t len);
/* Extracts the first entry of a zip archive (stored or deflated) into out (replacing it),
 * with the same cap and errors as gz_decompress. Returns 0. */
int gz_unzip_first(const void *data, size_t len, size_t max, vstring *out);
#endif
