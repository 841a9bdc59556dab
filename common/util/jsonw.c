#include "jsonw.h"

#include <string.h>

void jsonw_strn(vstring *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    vstring_append_char(out, '"');
    while (p < end) {
        /* Runs of plain bytes in one copy: most strings need no escape at all. */
        const unsigned char *q = p;
        while (q < end && *q >= 0x20 && *q != '"' && *q != '\\')
            q++;
        if (q > p)
            vstring_append(out, (const char *)p, (size_t)(q - p));
        if (q == end)
            break;
        char esc[6] = {'\\', (char)*q, 0, 0, 0, 0};
        size_t n = 2;
        switch (*q) {
        case '"':
        case '\\':
            break;
        /* The short forms: a report's own line breaks cost 2 bytes, not 6. */
        case '\b':
            esc[1] = 'b';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        default:
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[*q >> 4];
            esc[5] = hex[*q & 15];
            n = 6;
        }
        vstring_append(out, esc, n);
        p = q + 1;
    }
    vstring_append_char(out, '"');
}

void jsonw_str(vstring *out, const char *s)
{
    jsonw_strn(out, s, strlen(s));
}
