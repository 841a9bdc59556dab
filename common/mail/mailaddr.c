#include "mailaddr.h"

#include <string.h>

#define MAILADDR_LOCAL_MAX  64
#define MAILADDR_DOMAIN_MAX 253
#define MAILADDR_LABEL_MAX  63

/* atext of RFC 5322 section 3.2.3 */
static int mailaddr_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int mailaddr_local(const unsigned char *s, size_t len)
{
    if (len == 0 || len > MAILADDR_LOCAL_MAX)
        return 0;
    if (s[0] == '"') {
        /* quoted-string, minus what header injection or address-list confusion needs */
        if (len < 3 || s[len - 1] != '"')
            return 0;
        for (size_t i = 1; i + 1 < len; i++) {
            unsigned char c = s[i];
            if (c == '\\') {
                if (++i + 1 >= len || s[i] < 0x21 || s[i] > 0x7e)
                    return 0;
                c = s[i];
            } else if (c == '"') {
                return 0;
            }
            if (c <= 0x20 || c >= 0x7f || c == ',' || c == '<' || c == '>')
                return 0;
        }
        return 1;
    }
    /* dot-atom: atoms of atext joined by single dots */
    if (s[0] == '.' || s[len - 1] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (s[i + 1] == '.')
                return 0;
        } else if (!mailaddr_atext(s[i])) {
            return 0;
        }
    }
    return 1;
}

static int mailaddr_domain(const unsigned char *s, size_t len)
{
    size_t label = 0;

    if (len == 0 || len > MAILADDR_DOMAIN_MAX || s[0] == '.' || s[len - 1] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return 0;
        if ((label == 0 && c == '-') || ++label > MAILADDR_LABEL_MAX)
            return 0;
    }
    return s[len - 1] != '-';
}

int mailaddr_valid(const char *addr, size_t len)
{
    const unsigned char *s = (const unsigned char *)addr;
    size_t at = len;

    if (memchr(addr, 0, len) != NULL)
        return 0;
    /* The domain never contains "@", so the last one separates the parts. */
    while (at > 0 && s[at - 1] != '@')
        at--;
    if (at == 0)
        return 0;
    return mailaddr_local(s, at - 1) && mailaddr_domain(s + at, len - at);
}
