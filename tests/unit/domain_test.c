/* Domain normalization, punycode (RFC 3492 samples) and UTF-8 repair. */
#include "domain.h"
#include "t.h"
#include "utf8.h"

static void test_normalize(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"example.com", "example.com"},
        {"Example.COM.", "example.com"},
        {"MX1.Mail.Example.Org", "mx1.mail.example.org"},
        {"b\xc3\xbc"
         "cher.example",
         "xn--bcher-kva.example"},
        {"B\xc3\x9c"
         "CHER.example",
         "xn--bcher-kva.example"},
        {"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84",
         "xn--e1afmkfd.xn--p1ai"},
        {"m\xc3\xbcnchen.de", "xn--mnchen-3ya.de"},
        {"_smtp._tls.example.com", "_smtp._tls.example.com"},
        {"", NULL},
        {".", NULL},
        {"a..b", NULL},
        {".a", NULL},
        {"a b.example", NULL},
        {"-a.example", NULL},
        {"a-.example", NULL},
        {"exa\xffmple.com", NULL},
        {"[192.0.2.1]", NULL},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", NULL},
    };
    char out[DOMAIN_MAX + 2];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int r = domain_normalize(cases[i].in, strlen(cases[i].in), out, sizeof(out));
        if (cases[i].out == NULL) {
            if (r == 0)
                fprintf(stderr, "accepted \"%s\" as \"%s\"\n", cases[i].in, out);
            CHECK(r < 0);
        } else {
            CHECK_INT(r, 0);
            CHECK_STR(r == 0 ? out : "(failed)", cases[i].out);
        }
    }
}

static void test_punycode(void)
{
    /* RFC 3492 7.1 (A) Arabic (Egyptian) and (L) 3<nen>B<gumi><kinpachi><sensei>. */
    static const unsigned arabic[] = {0x0644, 0x064A, 0x0647, 0x0645, 0x0627, 0x0628,
                                      0x062A, 0x0643, 0x0644, 0x0645, 0x0648, 0x0634,
                                      0x0639, 0x0631, 0x0628, 0x064A, 0x061F};
    static const unsigned l[] = {0x0033, 0x5E74, 0x0042, 0x7D44, 0x91D1, 0x516B, 0x5148, 0x751F};
    char out[128];

    CHECK_INT(domain_punycode(arabic, sizeof(arabic) / sizeof(arabic[0]), out, sizeof(out)), 0);
    CHECK_STR(out, "egbpdaj6bu4bxfgehfvwxn");
    CHECK_INT(domain_punycode(l, sizeof(l) / sizeof(l[0]), out, sizeof(out)), 0);
    CHECK_STR(out, "3B-ww4c5e180e575a65lsy2b");
    CHECK_INT(domain_punycode(l, sizeof(l) / sizeof(l[0]), out, 5), -1);
}

static void test_utf8(void)
{
    vstring *v = vstring_alloc(0);

    CHECK(utf8_valid("plain", 5));
    CHECK(utf8_valid("\xc3\xbc", 2));
    CHECK(!utf8_valid("\xc0\xaf", 2));         /* overlong */
    CHECK(!utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    CHECK(!utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    CHECK(!utf8_valid("\xe2\x82", 2));         /* truncated */
    CHECK_INT(utf8_repair(v,
                          "a\xff"
                          "b\xe2\x82"
                          "c",
                          6),
              2);
    CHECK_STR(v->data, "a\xef\xbf\xbd"
                       "b\xef\xbf\xbd"
                       "c");
    vstring_reset(v);
    CHECK_INT(utf8_repair(v, "ok \xc3\xbc", 5), 0);
    CHECK_STR(v->data, "ok \xc3\xbc");
    vstring_free(v);
}

static void test_to_unicode(void)
{
    char out[512];
    CHECK_INT(domain_to_unicode("xn--gpher-jua.test", out, sizeof(out)), 1);
    CHECK_STR(out, "g\xc3\xb6pher.test");
    CHECK_INT(domain_to_unicode("mail.xn--bcher-kva.example", out, sizeof(out)), 1);
    CHECK_STR(out, "mail.b\xc3\xbc"
                   "cher.example");
    CHECK_INT(domain_to_unicode("example.com", out, sizeof(out)), 0);
    CHECK_STR(out, "example.com");
    /* Not a valid A-label: kept as it is. */
    CHECK_INT(domain_to_unicode("xn--zz9999999999.test", out, sizeof(out)), 0);
    CHECK_STR(out, "xn--zz9999999999.test");
    CHECK_INT(domain_to_unicode("xn--bcher-kva.example", out, 4), -1);
}

int main(void)
{
    test_to_unicode();
    test_normalize();
    test_punycode();
    test_utf8();
    return t_done("domain_test");
}
