#include "domain.h"

#include <stdint.h>
#include <string.h>

#include "utf8.h"

#define LABEL_MAX 63

int domain_punycode(const unsigned *cps, size_t n, char *out, size_t outsize)
{
    enum { BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700 };
    size_t o = 0, h, b = 0;
    unsigned m, nn = 128, delta = 0, bias = 72;

#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (o + 1 >= outsize)                                                                      \
            return -1;                                                                             \
        out[o++] = (char)(c);                                                                      \
    } while (0)

    for (size_t j = 0; j < n; j++)
        if (cps[j] < 128) {
            PUT(cps[j]);
            b++;
        }
    h = b;
    if (b > 0)
        PUT('-');
    while (h < n) {
        m = UINT32_MAX;
        for (size_t j = 0; j < n; j++)
            if (cps[j] >= nn && cps[j] < m)
                m = cps[j];
        if ((m - nn) > (UINT32_MAX - delta) / (h + 1))
            return -1;
        delta += (m - nn) * (unsigned)(h + 1);
        nn = m;
        for (size_t j = 0; j < n; j++) {
            if (cps[j] < nn && ++delta == 0)
                return -1;
            if (cps[j] == nn) {
                unsigned q = delta;
                for (unsigned k = BASE;; k += BASE) {
                    unsigned t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
                    if (q < t)
                        break;
                    unsigned d = t + (q - t) % (BASE - t);
                    PUT(d < 26 ? 'a' + d : '0' + d - 26);
                    q = (q - t) / (BASE - t);
                }
                PUT(q < 26 ? 'a' + q : '0' + q - 26);
                /* adapt */
                unsigned dd = h == b ? delta / DAMP : delta / 2, k = 0;
                dd += dd / (unsigned)(h + 1);
                while (dd > ((BASE - TMIN) * TMAX) / 2) {
                    dd /= BASE - TMIN;
                    k += BASE;
                }
                bias = k + (BASE - TMIN + 1) * dd / (dd + SKEW);
                delta = 0;
                h++;
            }
        }
        delta++;
        nn++;
    }
#undef PUT
    out[o] = 0;
    return 0;
}

/* Simple lower-case mapping of the scripts seen in mail domains (Latin-1, Latin
 * Extended-A, Greek, Cyrillic); full UTS #46 mapping is out of scope. */
static uint32_t domain_lower(uint32_t cp)
{
    if (cp >= 'A' && cp <= 'Z')
        return cp + 32;
    if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7)
        return cp + 32;
    if (cp >= 0x100 && cp <= 0x17f && cp != 0x130 && cp != 0x138 && cp != 0x149 && cp != 0x17f) {
        /* Pairs: even upper/odd lower, except 0x139-0x148 and 0x179-0x17e (odd upper). */
        int odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e);
        if (odd_upper ? (cp & 1) : !(cp & 1))
            return cp + 1;
        return cp;
    }
    if (cp >= 0x391 && cp <= 0x3ab && cp != 0x3a2)
        return cp + 32;
    if (cp >= 0x410 && cp <= 0x42f)
        return cp + 32;
    if (cp >= 0x400 && cp <= 0x40f)
        return cp + 80;
    return cp;
}

static int domain_ascii_ok(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int domain_normalize(const char *in, size_t len, char *out, size_t outsize)
{
    size_t o = 0, i = 0;

    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len == 0 || len > 4 * DOMAIN_MAX)
        return -1;
    while (i < len) {
        size_t end = i;
        int ascii = 1;
        while (end < len && in[end] != '.') {
            if ((unsigned char)in[end] >= 0x80)
                ascii = 0;
            end++;
        }
        if (end == i)
            return -1; /* empty label */
        char label[LABEL_MAX + 1];
        size_t llen = 0;
        if (ascii) {
            if (end - i > LABEL_MAX)
                return -1;
            for (size_t j = i; j < end; j++) {
                int c = in[j];
                if (c >= 'A' && c <= 'Z')
                    c += 'a' - 'A';
                if (!domain_ascii_ok(c))
                    return -1;
                label[llen++] = (char)c;
            }
            label[llen] = 0;
        } else {
            unsigned cps[LABEL_MAX * 4];
            size_t n = 0;
            for (size_t j = i; j < end;) {
                uint32_t cp;
                size_t k = utf8_decode((const unsigned char *)in + j, end - j, &cp);
                if (k == 0 || n >= sizeof(cps) / sizeof(cps[0]))
                    return -1;
                cp = domain_lower(cp);
                if (cp < 128 && !domain_ascii_ok((int)cp))
                    return -1;
                cps[n++] = cp;
                j += k;
            }
            memcpy(label, "xn--", 4);
            if (domain_punycode(cps, n, label + 4, sizeof(label) - 4) < 0)
                return -1;
            llen = strlen(label);
        }
        if (label[0] == '-' || label[llen - 1] == '-')
            return -1;
        if (o + llen + (o ? 1 : 0) > DOMAIN_MAX || o + llen + 2 > outsize)
            return -1;
        if (o)
            out[o++] = '.';
        memcpy(out + o, label, llen);
        o += llen;
        i = end + 1;
        if (end + 1 == len)
            return -1; /* "a..": trailing empty label after the stripped dot */
    }
    out[o] = 0;
    return 0;
}
