#include "netstring.h"

#include <stdio.h>
#include <string.h>

#define NETSTRING_DIGITS_MAX 9 /* payloads here are far below 1 GB */

netstring_status netstring_parse(const char *buf, size_t len, size_t max, const char **data,
                                 size_t *dlen, size_t *used)
{
    size_t n = 0, i = 0;

    for (; i < len && buf[i] != ':'; i++) {
        if (buf[i] < '0' || buf[i] > '9' || i >= NETSTRING_DIGITS_MAX)
            return NETSTRING_ERROR;
        n = n * 10 + (size_t)(buf[i] - '0');
        if (n > max)
            return NETSTRING_ERROR; /* refused before any payload is buffered */
    }
    if (i == len)
        return NETSTRING_MORE;
    if (i == 0 || (i > 1 && buf[0] == '0'))
        return NETSTRING_ERROR; /* no digits, or a leading zero */
    if (len - i - 1 < n + 1)
        return NETSTRING_MORE;
    if (buf[i + 1 + n] != ',')
        return NETSTRING_ERROR;
    *data = buf + i + 1;
    *dlen = n;
    *used = i + 2 + n;
    return NETSTRING_OK;
}

int netstring_append(vstring *out, const char *data, size_t len)
{
    char head[32];
    int n = snprintf(head, sizeof(head), "%zu:", len);

    if (vstring_append(out, head, (size_t)n) < 0 || vstring_append(out, data, len) < 0)
        return -1;
    return vstring_append_char(out, ',');
}
