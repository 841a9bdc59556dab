/* Netstrings: complete, partial, malformed and oversize inputs; the writer. */
#include <string.h>

#include "netstring.h"
#include "t.h"
#include "vstring.h"

static const struct {
    const char *in;
    size_t max;
    netstring_status want;
    const char *payload;
    size_t used;
} cases[] = {
    {"5:hello,", 100, NETSTRING_OK, "hello", 8},
    {"0:,", 100, NETSTRING_OK, "", 3},
    {"5:hello,3:abc,", 100, NETSTRING_OK, "hello", 8},
    {"5:hel", 100, NETSTRING_MORE, NULL, 0},
    {"5:hello", 100, NETSTRING_MORE, NULL, 0},
    {"12", 100, NETSTRING_MORE, NULL, 0},
    {"", 100, NETSTRING_MORE, NULL, 0},
    {"5:hello;", 100, NETSTRING_ERROR, NULL, 0},
    {":x,", 100, NETSTRING_ERROR, NULL, 0},
    {"05:hello,", 100, NETSTRING_ERROR, NULL, 0},
    {"x5:hello,", 100, NETSTRING_ERROR, NULL, 0},
    {"101:", 100, NETSTRING_ERROR, NULL, 0},
    {"9999999999999999999999:", 1024, NETSTRING_ERROR, NULL, 0},
    {"-1:", 100, NETSTRING_ERROR, NULL, 0},
};

int main(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *data = NULL;
        size_t dlen = 0, used = 0;
        netstring_status st =
            netstring_parse(cases[i].in, strlen(cases[i].in), cases[i].max, &data, &dlen, &used);
        CHECK_INT(st, cases[i].want);
        if (st == NETSTRING_OK) {
            CHECK_INT(dlen, strlen(cases[i].payload));
            CHECK(memcmp(data, cases[i].payload, dlen) == 0);
            CHECK_INT(used, cases[i].used);
        }
    }
    vstring *v = vstring_alloc(0);
    netstring_append(v, "OK secure", 9);
    netstring_append(v, "", 0);
    CHECK_STR(v->data, "9:OK secure,0:,");
    vstring_free(v);
    vstring *small = vstring_alloc(4);
    CHECK_INT(netstring_append(small, "toolong", 7), -1);
    vstring_free(small);
    return t_done("netstring_test");
}
