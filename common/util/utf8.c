#include "utf8.h"

size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c;
    size_t len;

    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    } else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        c = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        c = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        c = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

int utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t cp;

    for (size_t i = 0; i < len;) {
        size_t n = utf8_decode(p + i, len - i, &cp);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

size_t utf8_repair(vstring *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t repaired = 0, start = 0, i = 0;
    uint32_t cp;

    while (i < len) {
        size_t n = utf8_decode(p + i, len - i, &cp);
        if (n) {
            i += n;
            continue;
        }
        vstring_append(out, s + start, i - start);
        vstring_append(out, "\xef\xbf\xbd", 3);
        repaired++;
        i++;
        /* Skip the continuation bytes of the broken sequence: one U+FFFD per sequence. */
        while (i < len && (p[i] & 0xc0) == 0x80)
            i++;
        start = i;
    }
    vstring_append(out, s + start, len - start);
    return repaired;
}

/* In UTF-8, U+0080-U+009F are C2 80 - C2 9F. */
static int utf8_c1(const unsigned char *p, const unsigned char *end)
{
    return p[0] == 0xc2 && p + 1 < end && p[1] >= 0x80 && p[1] <= 0x9f;
}

int utf8_has_controls(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    for (; p < end; p++)
        if (*p < 0x20 || *p == 0x7f || utf8_c1(p, end))
            return 1;
    return 0;
}

size_t utf8_replace_controls(char *s, size_t len, char repl, size_t *count)
{
    unsigned char *p = (unsigned char *)s, *end = p + len, *w = p;

    while (p < end) {
        if (*p < 0x20 || *p == 0x7f || utf8_c1(p, end)) {
            p += *p == 0xc2 ? 2 : 1;
            *w++ = (unsigned char)repl;
            if (count)
                ++*count;
            continue;
        }
        *w++ = *p++;
    }
    return (size_t)(w - (unsigned char *)s);
}

void utf8_escape_controls(vstring *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    for (; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            vstring_sprintf_append(out, "\\x%02x", *p);
        else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            vstring_sprintf_append(out, "\\x%02x", *++p);
        else
            vstring_append_char(out, (char)*p);
    }
}
