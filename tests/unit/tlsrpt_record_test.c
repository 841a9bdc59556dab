/* TLSRPT record parser: the cases in tests/data/tlsrpt-record (NAME.in, the record without
 * its final newline -> NAME.out), the size limits, and mailaddr_valid. OTR_REGEN=1
 * rewrites the .out files and fails (golden.h). */
#include <stdlib.h>

#include "fsutil.h"
#include "golden.h"
#include "mailaddr.h"
#include "t.h"
#include "tlsrpt_record.h"
#include "vstring.h"

static void dump_record(vstring *out, int status, const tlsrpt_record *rec, const char *why)
{
    if (status < 0)
        vstring_sprintf_append(out, "invalid: %s\n", why);
    else
        vstring_sprintf_append(out, "valid\n");
    for (size_t i = 0; i < rec->n; i++)
        vstring_sprintf_append(out, "%s %s -> %s (host %s)\n",
                               rec->uris[i].kind == TLSRPT_URI_MAILTO ? "mailto" : "https",
                               rec->uris[i].uri, rec->uris[i].target, rec->uris[i].host);
    for (size_t i = 0; i < rec->nnotes; i++)
        vstring_sprintf_append(out, "skipped %s\n", rec->notes[i]);
}

static void run_case(const char *dir, const char *name, vstring *got, void *ctx)
{
    char path[4096], why[256];
    vstring *in = vstring_alloc(0);
    tlsrpt_record rec;

    (void)ctx;
    snprintf(path, sizeof(path), "%s/%s.in", dir, name);
    CHECK(fsutil_read_file(path, in, 1 << 20) == 0);
    size_t len = in->len;
    if (len > 0 && in->data[len - 1] == '\n')
        len--;
    int status = tlsrpt_record_parse(in->data, len, &rec, why, sizeof(why));
    dump_record(got, status, &rec, why);
    tlsrpt_record_free(&rec);
    /* A case named bad-* must be refused, every other one accepted. */
    CHECK((strncmp(name, "bad-", 4) == 0) == (status < 0));
    vstring_free(in);
}

static void test_cases(void)
{
    CHECK(golden_run(TEST_DATA "/tlsrpt-record", ".in", ".out", run_case, NULL) >= 30);
}

static void test_limits(void)
{
    vstring *v = vstring_alloc(0);
    tlsrpt_record rec;
    char why[256];

    /* 40 distinct URIs: 32 kept, the rest noted */
    vstring_append_str(v, "v=TLSRPTv1; rua=");
    for (int i = 0; i < 40; i++)
        vstring_sprintf_append(v, "%smailto:r%d@example.net", i ? "," : "", i);
    CHECK_INT(tlsrpt_record_parse(v->data, v->len, &rec, why, sizeof(why)), 0);
    CHECK_INT(rec.n, TLSRPT_MAX_URIS);
    CHECK_INT(rec.nnotes, 8);
    CHECK_STR(rec.uris[31].target, "r31@example.net");
    tlsrpt_record_free(&rec);

    /* exactly 4096 bytes is fine, 4097 is not */
    vstring_reset(v);
    vstring_append_str(v, "v=TLSRPTv1; rua=mailto:a@example.net; x=");
    while (v->len < TLSRPT_RECORD_MAX)
        vstring_append_char(v, 'y');
    CHECK_INT(tlsrpt_record_parse(v->data, v->len, &rec, why, sizeof(why)), 0);
    CHECK_INT(rec.n, 1);
    tlsrpt_record_free(&rec);
    vstring_append_char(v, 'y');
    CHECK_INT(tlsrpt_record_parse(v->data, v->len, &rec, why, sizeof(why)), -1);
    CHECK_STR(why, "record longer than 4096 bytes");
    tlsrpt_record_free(&rec);

    /* an embedded NUL is not a character of any URI */
    static const char nul[] = "v=TLSRPTv1; rua=mailto:a\0b@example.net";
    CHECK_INT(tlsrpt_record_parse(nul, sizeof(nul) - 1, &rec, why, sizeof(why)), 0);
    CHECK_INT(rec.n, 0);
    CHECK_INT(rec.nnotes, 1);
    tlsrpt_record_free(&rec);
    vstring_free(v);
}

static void test_mailaddr(void)
{
    static const struct {
        const char *addr;
        int valid;
    } cases[] = {
        {"tlsrpt@example.com", 1},
        {"first.last+tag@sub.example.co.uk", 1},
        {"!#$%&'*+-/=?^_`{|}~@example.com", 1},
        {"\"quoted.name\"@example.com", 1},
        {"\"q\\\"x\"@example.com", 1},
        {"user@xn--bcher-kva.example", 1},
        {"user@localhost", 1},
        {"", 0},
        {"@example.com", 0},
        {"user@", 0},
        {"user", 0},
        {".user@example.com", 0},
        {"user.@example.com", 0},
        {"us..er@example.com", 0},
        {"us er@example.com", 0},
        {"\"us er\"@example.com", 0},
        {"us,er@example.com", 0},
        {"\"us,er\"@example.com", 0},
        {"<user@example.com>", 0},
        {"user@example.com>", 0},
        {"user@example.com\r\nBcc: x@y.z", 0},
        {"user\n@example.com", 0},
        {"user@exa mple.com", 0},
        {"user@-example.com", 0},
        {"user@example-.com", 0},
        {"user@example..com", 0},
        {"user@.example.com", 0},
        {"user@example.com.", 0},
        {"user@[192.0.2.1]", 0},
        {"user@b\xc3\xbc"
         "cher.example",
         0},
        {"\xc3\xbcser@example.com", 0},
        {"a@b@example.com", 0},
        {"\"a\"b@example.com", 0},
        {"\"\"@example.com", 0},
        {"user@exam_ple.com", 0},
        {"0123456789012345678901234567890123456789012345678901234567890123@example.com", 1},
        {"01234567890123456789012345678901234567890123456789012345678901234@example.com", 0},
        {"user@a23456789012345678901234567890123456789012345678901234567890123.com", 1},
        {"user@a234567890123456789012345678901234567890123456789012345678901234.com", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = mailaddr_valid(cases[i].addr, strlen(cases[i].addr));
        if (got != cases[i].valid)
            fprintf(stderr, "mailaddr_valid(\"%s\") = %d\n", cases[i].addr, got);
        CHECK_INT(got, cases[i].valid);
    }
    CHECK_INT(mailaddr_valid("a\0b@example.com", 15), 0);
}

int main(void)
{
    test_cases();
    test_limits();
    test_mailaddr();
    return t_done("tlsrpt_record_test");
}
