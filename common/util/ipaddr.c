#include "ipaddr.h"

#include <arpa/inet.h>
#include <string.h>

static int ipaddr_v4_private(const unsigned char *a)
{
    return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 100 && (a[1] & 0xc0) == 64) ||
           (a[0] == 169 && a[1] == 254) || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
           (a[0] == 192 && a[1] == 168) || a[0] >= 224;
}

int ipaddr_is_private(const char *text)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char zero[15] = {0};
    unsigned char a[16];

    if (inet_pton(AF_INET, text, a) == 1)
        return ipaddr_v4_private(a);
    if (inet_pton(AF_INET6, text, a) != 1)
        return 1;
    if (memcmp(a, mapped, sizeof(mapped)) == 0)
        return ipaddr_v4_private(a + 12);
    if (memcmp(a, zero, sizeof(zero)) == 0) /* :: and ::1 */
        return 1;
    return (a[0] & 0xfe) == 0xfc ||                   /* fc00::/7 unique local */
           (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || /* fe80::/10 link-local */
           (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) || /* fec0::/10 site-local */
           a[0] == 0xff;                              /* multicast */
}
