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

int gz_decompress(const void *data, size_t len, size_t max, vstring *out)
{
    z_stream zs;
    unsigned char buf[65536];
    int r = Z_OK;

    vstring_reset(out);
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return -1;
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
            if (zs.avail_in == 0)
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
