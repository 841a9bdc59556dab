#include "gz.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

int gz_compress(const void *data, size_t len, vstring *out)
{
    z_stream zs;
    unsigned char buf[65536];
    int r;

    memset(&zs, 0, sizeof(zs));
    /* windowBits 15 + 16: a gzip header and trailer instead of zlib's. */
    if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    do {
        zs.next_out = buf;
        zs.avail_out = sizeof(buf);
        r = deflate(&zs, Z_FINISH);
        if (r == Z_STREAM_ERROR) {
            deflateEnd(&zs);
            return -1;
        }
        vstring_append(out, buf, sizeof(buf) - zs.avail_out);
    } while (r != Z_STREAM_END);
    deflateEnd(&zs);
    return 0;
}

/* Inflates with windowBits wbits into out, as gz_decompress says; gzip members may follow
 * one another, a raw deflate stream (zip) ends at its end whatever follows. */
static int gz_inflate(const void *data, size_t len, size_t max, int wbits, vstring *out)
{
    z_stream zs;
    unsigned char buf[65536];
    int r = Z_OK;

    vstring_reset(out);
    memset(&zs, 0, sizeof(zs));
    if (len > UINT32_MAX || inflateInit2(&zs, wbits) != Z_OK) {
        errno = EINVAL;
        return -1;
    }
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    for (;;) {
        zs.next_out = buf;
        zs.avail_out = sizeof(buf);
        r = inflate(&zs, Z_NO_FLUSH);
        size_t got = sizeof(buf) - zs.avail_out;
        if (out->len + got > max) {
            inflateEnd(&zs);
            errno = EFBIG;
            return -1;
        }
        vstring_append(out, buf, got);
        if (r == Z_STREAM_END) {
            /* Another member may follow (concatenated gzip files). */
            if (wbits < 0 || zs.avail_in == 0)
                break;
            if (inflateReset(&zs) != Z_OK)
                break;
            continue;
        }
        if (r != Z_OK || (got == 0 && zs.avail_in == 0)) {
            inflateEnd(&zs);
            errno = EINVAL;
            return -1;
        }
    }
    inflateEnd(&zs);
    return 0;
}

int gz_decompress(const void *data, size_t len, size_t max, vstring *out)
{
    return gz_inflate(data, len, max, 15 + 16, out);
}

static unsigned gz_le16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t gz_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int gz_is_zip(const void *data, size_t len)
{
    return len >= 4 && memcmp(data, "PK\003\004", 4) == 0;
}

int gz_unzip_first(const void *data, size_t len, size_t max, vstring *out)
{
    const unsigned char *p = data;

    vstring_reset(out);
    /* The local file header (APPNOTE 4.3.7): 30 bytes, then the name and the extra field. */
    if (len < 30 || !gz_is_zip(data, len)) {
        errno = EINVAL;
        return -1;
    }
    unsigned flags = gz_le16(p + 6), method = gz_le16(p + 8);
    uint32_t csize = gz_le32(p + 18);
    size_t start = 30 + (size_t)gz_le16(p + 26) + gz_le16(p + 28);
    if (start > len || (flags & 1) != 0) { /* encrypted entries are not reports */
        errno = EINVAL;
        return -1;
    }
    /* With a data descriptor (flag 3) the sizes come after the data: inflate to its end. */
    size_t avail = len - start;
    if ((flags & 8) == 0 && csize < avail)
        avail = csize;
    if (method == 8)
        return gz_inflate(p + start, avail, max, -15, out);
    if (method != 0 || (flags & 8) != 0 || csize > len - start) {
        errno = EINVAL;
        return -1;
    }
    if (csize > max) {
        errno = EFBIG;
        return -1;
    }
    vstring_append(out, p + start, csize);
    return 0;
}
