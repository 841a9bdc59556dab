/* The pure parts of the domain check: SMTP reply parsing, certificate name matching, chain
 * verification, expiry and DANE TLSA matching, over fixed certificates in
 * tests/data/check/ (made once with openssl; they expire in 2125). */
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <stdlib.h>

#include "check.h"
#include "t.h"

static X509 *load(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/check/%s", TEST_DATA, name);
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    if (x == NULL) {
        fprintf(stderr, "not a certificate: %s\n", path);
        exit(1);
    }
    return x;
}

static void test_smtp(void)
{
    static const struct {
        const char *in;
        int want, code, starttls;
        size_t used, lines;
        const char *first;
    } cases[] = {
        {"220 mx.example ESMTP\r\n", 1, 220, 0, 22, 1, "mx.example ESMTP"},
        {"220 mx.example ESMTP\r\n250 next\r\n", 1, 220, 0, 22, 1, "mx.example ESMTP"},
        {"220 bare LF\n", 1, 220, 0, 12, 1, "bare LF"},
        {"250\r\n", 1, 250, 0, 5, 1, ""},
        {"250-mx.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n", 1, 250, 1, 60, 4,
         "mx.example"},
        {"250-mx.example\r\n250 starttls\r\n", 1, 250, 1, 30, 2, "mx.example"},
        {"250-mx.example\r\n250 STARTTLSX\r\n", 1, 250, 0, 31, 2, "mx.example"},
        {"250-mx.example\r\n250-STARTTLS", 0, 0, 0, 0, 0, NULL},
        {"220 partial", 0, 0, 0, 0, 0, NULL},
        {"", 0, 0, 0, 0, 0, NULL},
        {"hello\r\n", -1, 0, 0, 0, 0, NULL},
        {"220x\r\n", -1, 0, 0, 0, 0, NULL},
        {"620 no\r\n", -1, 0, 0, 0, 0, NULL},
        {"25\r\n", -1, 0, 0, 0, 0, NULL},
        {"250-a\r\n251 b\r\n", -1, 0, 0, 0, 0, NULL},
        {"220 \x01\x7f ctl\r\n", 1, 220, 0, 12, 1, "?? ctl"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check_smtp_reply r;
        size_t used = 0;
        const char *why;
        int got = check_smtp_parse(cases[i].in, strlen(cases[i].in), &r, &used, &why);
        CHECK_INT(got, cases[i].want);
        if (got == 1) {
            CHECK_INT(r.code, cases[i].code);
            CHECK_INT(r.starttls, cases[i].starttls);
            CHECK_INT(used, cases[i].used);
            CHECK_INT(r.nlines, cases[i].lines);
            CHECK_STR(r.first, cases[i].first);
        }
        if (got < 0)
            CHECK(*why != 0);
    }

    /* Limits: a line over 512 bytes, a reply over CHECK_SMTP_LINES_MAX lines, and a line
     * that has not ended yet but is already too long. */
    char buf[CHECK_SMTP_REPLY_MAX * 2];
    check_smtp_reply r;
    size_t used;
    const char *why;
    memset(buf, 'a', 600);
    memcpy(buf, "220 ", 4);
    memcpy(buf + 598, "\r\n", 2);
    CHECK_INT(check_smtp_parse(buf, 600, &r, &used, &why), -1);
    CHECK_INT(check_smtp_parse(buf, 590, &r, &used, &why), -1);
    CHECK_INT(check_smtp_parse(buf, 500, &r, &used, &why), 0);
    size_t len = 0;
    for (int i = 0; i < CHECK_SMTP_LINES_MAX + 1; i++) {
        memcpy(buf + len, "250-x\r\n", 7);
        len += 7;
    }
    memcpy(buf + len, "250 x\r\n", 7);
    len += 7;
    CHECK_INT(check_smtp_parse(buf, len, &r, &used, &why), -1);
    CHECK_STR(why, "too many reply lines");
}

static void test_names(X509 *leaf)
{
    static const struct {
        const char *host;
        int ok;
    } cases[] = {
        {"mx.example.net", 1},      {"MX.Example.NET", 1},       {"a.wild.example.net", 1},
        {"wild.example.net", 0},    {"a.b.wild.example.net", 0}, {"example.net", 0},
        {"mx.example.net.evil", 0}, {"other.example.net", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = check_cert_name_ok(leaf, cases[i].host);
        if (got != cases[i].ok)
            fprintf(stderr, "name %s\n", cases[i].host);
        CHECK_INT(got, cases[i].ok);
    }
    char names[256];
    check_cert_names(leaf, names, sizeof(names));
    CHECK_STR(names, "mx.example.net, *.wild.example.net");
    check_cert_names(leaf, names, 10);
    CHECK_STR(names, "mx.exampl");
    CHECK(check_cert_days_left(leaf) > 30000);
}

static void test_verify(X509 *leaf, X509 *ca, X509 *other)
{
    char path[512];
    STACK_OF(X509) *chain = sk_X509_new_null();
    sk_X509_push(chain, leaf);

    snprintf(path, sizeof(path), "%s/check/ca.pem", TEST_DATA);
    CHECK_INT(check_cert_verify(chain, path, 0), 0);
    /* The test CA is in no system store. */
    int err = check_cert_verify(chain, NULL, 0);
    CHECK(err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
          err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT);
    sk_X509_pop(chain);
    sk_X509_push(chain, other);
    CHECK_INT(check_cert_verify(chain, path, 0), X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    sk_X509_free(chain);
    (void)ca;
}

static void test_tlsa(X509 *leaf, X509 *ca)
{
    char path[512], line[8192];
    snprintf(path, sizeof(path), "%s/check/tlsa.txt", TEST_DATA);
    FILE *fp = fopen(path, "r");
    STACK_OF(X509) *chain = sk_X509_new_null();
    check_tlsa *rec = calloc(1, sizeof(*rec));
    int n = 0;

    CHECK(fp != NULL);
    sk_X509_push(chain, leaf);
    sk_X509_push(chain, ca);
    while (fp && fgets(line, sizeof(line), fp)) {
        if (line[0] == '#')
            continue;
        line[strcspn(line, "\n")] = 0;
        char *sp1 = strchr(line, ' ');
        char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
        CHECK(sp2 != NULL);
        if (sp2 == NULL)
            continue;
        *sp1 = *sp2 = 0;
        int want = strcmp(line, "-1") == 0 ? -1 : strcmp(line, "1") == 0 ? 1 : 0;
        const char *host = sp1 + 1, *rr = sp2 + 1;
        size_t which = 99;
        char why[300];
        int got = -1;
        if (check_tlsa_parse(rr, rec) == 0)
            got = check_tlsa_match(chain, rec, 1, host, &which, why, sizeof(why));
        else
            snprintf(why, sizeof(why), "unparsable");
        if (got != want)
            fprintf(stderr, "tlsa %s for %s: %s\n", rr, host, why);
        CHECK_INT(got, want);
        if (got == 1)
            CHECK_INT(which, 0);
        n++;
    }
    CHECK(n >= 15);
    if (fp)
        fclose(fp);

    /* Parsing: fields, hex, limits. */
    CHECK_INT(check_tlsa_parse("3 1 1 0A0b", rec), 0);
    CHECK_INT(rec->len, 2);
    CHECK_INT(rec->data[1], 0x0b);
    CHECK_INT(check_tlsa_parse("3 1 1 ABC", rec), -1);
    CHECK_INT(check_tlsa_parse("3 1 1 ", rec), -1);
    CHECK_INT(check_tlsa_parse("3 1 1 XY", rec), -1);
    CHECK_INT(check_tlsa_parse("256 1 1 AB", rec), -1);
    CHECK_INT(check_tlsa_parse("3 1", rec), -1);
    CHECK_INT(check_tlsa_parse("", rec), -1);
    static char big[2 * CHECK_TLSA_DATA_MAX + 16];
    memcpy(big, "3 0 0 ", 6);
    memset(big + 6, 'A', 2 * CHECK_TLSA_DATA_MAX + 2);
    CHECK_INT(check_tlsa_parse(big, rec), -1);

    /* The first matching record wins; records are tried in order. */
    check_tlsa two[2];
    CHECK_INT(
        check_tlsa_parse("3 1 1 0000000000000000000000000000000000000000000000000000000000000000",
                         &two[0]),
        0);
    two[1] = two[0];
    size_t which = 0;
    char why[300];
    CHECK_INT(check_tlsa_match(chain, two, 2, "mx.example.net", &which, why, sizeof(why)), 0);
    STACK_OF(X509) *empty = sk_X509_new_null();
    CHECK_INT(check_tlsa_match(empty, two, 2, "mx.example.net", &which, why, sizeof(why)), 0);
    sk_X509_free(empty);
    sk_X509_free(chain);
    free(rec);
}

int main(void)
{
    X509 *leaf = load("leaf.pem"), *ca = load("ca.pem"), *other = load("other.pem");
    test_smtp();
    test_names(leaf);
    test_verify(leaf, ca, other);
    test_tlsa(leaf, ca);
    X509_free(leaf);
    X509_free(ca);
    X509_free(other);
    return t_done("check_test");
}
