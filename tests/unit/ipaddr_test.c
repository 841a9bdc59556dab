/* Which addresses a published name must not make us connect to. */
#include "ipaddr.h"
#include "t.h"

static const struct {
    const char *addr;
    int private;
} cases[] = {
    {"127.0.0.1", 1},
    {"10.1.2.3", 1},
    {"172.16.0.1", 1},
    {"172.31.255.255", 1},
    {"172.32.0.1", 0},
    {"192.168.1.1", 1},
    {"169.254.1.1", 1},
    {"100.64.0.1", 1},
    {"100.128.0.1", 0},
    {"0.0.0.0", 1},
    {"224.0.0.1", 1},
    {"255.255.255.255", 1},
    {"8.8.8.8", 0},
    {"193.0.6.139", 0},
    {"::1", 1},
    {"::", 1},
    {"fe80::1", 1},
    {"fd00::1", 1},
    {"fec0::1", 1},
    {"ff02::1", 1},
    {"::ffff:10.0.0.1", 1},
    {"::ffff:8.8.8.8", 0},
    {"2001:db8::1", 0},
    {"not an address", 1},
    {"", 1},
};

int main(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (ipaddr_is_private(cases[i].addr) != cases[i].private)
            fprintf(stderr, "%s\n", cases[i].addr);
        CHECK_INT(ipaddr_is_private(cases[i].addr), cases[i].private);
    }
    return t_done("ipaddr_test");
}
