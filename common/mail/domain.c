#include "domain.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

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

/* RFC 3492 6.2 decoding of one label's code points (after "xn--"); returns how many, or -1
 * when invalid or more than max. */
static long domain_puny_decode(const char *in, size_t len, unsigned *out, size_t max)
{
    enum { BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700 };
    size_t n = 0, b = 0;
    unsigned nn = 128, i = 0, bias = 72;

    for (size_t j = 0; j < len; j++)
        if (in[j] == '-')
            b = j;
    if (b > max)
        return -1;
    for (size_t j = 0; j < b; j++) {
        if ((unsigned char)in[j] >= 128)
            return -1;
        out[n++] = (unsigned char)in[j];
    }
    for (size_t p = b > 0 ? b + 1 : 0; p < len;) {
        unsigned oldi = i, w = 1;
        for (unsigned k = BASE;; k += BASE) {
            if (p >= len)
                return -1;
            char c = in[p++];
            unsigned digit = c >= 'a' && c <= 'z'   ? (unsigned)(c - 'a')
                             : c >= 'A' && c <= 'Z' ? (unsigned)(c - 'A')
                             : c >= '0' && c <= '9' ? (unsigned)(c - '0' + 26)
                                                    : BASE;
            if (digit >= BASE || digit > (UINT32_MAX - i) / w)
                return -1;
            i += digit * w;
            unsigned t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
            if (digit < t)
                break;
            if (w > UINT32_MAX / (BASE - t))
                return -1;
            w *= BASE - t;
        }
        unsigned delta = oldi == 0 && n == b ? (i - oldi) / DAMP : (i - oldi) / 2, k = 0;
        delta += delta / (unsigned)(n + 1);
        while (delta > ((BASE - TMIN) * TMAX) / 2) {
            delta /= BASE - TMIN;
            k += BASE;
        }
        bias = k + (BASE - TMIN + 1) * delta / (delta + SKEW);
        if (i / (unsigned)(n + 1) > UINT32_MAX - nn)
            return -1;
        nn += i / (unsigned)(n + 1);
        i %= (unsigned)(n + 1);
        if (n >= max || nn > 0x10ffff || (nn >= 0xd800 && nn <= 0xdfff))
            return -1;
        memmove(out + i + 1, out + i, (n - i) * sizeof(*out));
        out[i++] = nn;
        n++;
    }
    return (long)n;
}

static size_t domain_utf8_put(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

int domain_to_unicode(const char *name, char *out, size_t outsize)
{
    size_t o = 0;
    int converted = 0;
    unsigned cps[DOMAIN_MAX];

    for (const char *p = name; *p;) {
        size_t llen = strcspn(p, ".");
        long n = -1;
        if (llen > 4 && strncasecmp(p, "xn--", 4) == 0)
            n = domain_puny_decode(p + 4, llen - 4, cps, sizeof(cps) / sizeof(cps[0]));
        /* A control character is no letter of a name: keep the A-label form. */
        for (long j = 0; j < n; j++)
            if (cps[j] < 0x20 || (cps[j] >= 0x7f && cps[j] < 0xa0))
                n = -1;
        if (n > 0) {
            converted = 1;
            for (long j = 0; j < n; j++) {
                if (o + 5 > outsize)
                    return -1;
                o += domain_utf8_put(cps[j], out + o);
            }
        } else {
            if (o + llen + 1 > outsize)
                return -1;
            memcpy(out + o, p, llen);
            o += llen;
        }
        p += llen;
        if (*p == '.') {
            if (o + 2 > outsize)
                return -1;
            out[o++] = *p++;
        }
    }
    if (o >= outsize)
        return -1;
    out[o] = 0;
    return converted;
}
