/* Datagram decoder: the cases in tests/data/dgram (NAME.in -> NAME.out), every result code,
 * and a 200 KB datagram. OTR_REGEN=1 rewrites the .out files and fails (golden.h). */
#include <stdlib.h>

#include "dgram.h"
#include "dump.h"
#include "fsutil.h"
#include "golden.h"
#include "mymalloc.h"
#include "t.h"

static void run_case(const char *dir, const char *name, vstring *got, void *ctx)
{
    char path[4096];
    vstring *in = vstring_alloc(0);
    outcome o;
    size_t repaired;

    outcome_init(&o);
    snprintf(path, sizeof(path), "%s/%s.in", dir, name);
    CHECK(fsutil_read_file(path, in, 1 << 20) == 0);
    dgram_status st = dgram_decode(ctx, in->data, in->len, &o, &repaired);
    vstring_sprintf_append(got, "status %s\n", dgram_status_name(st));
    if (st == DGRAM_OK) {
        dump_outcome(got, &o);
        vstring_sprintf_append(got, "repaired %zu\n", repaired);
    }
    /* A case named bad-* must be refused, every other one accepted. */
    CHECK((strncmp(name, "bad-", 4) == 0) == (st != DGRAM_OK));
    outcome_done(&o);
    vstring_free(in);
}

static void test_cases(dgram_decoder *d)
{
    CHECK(golden_run(TEST_DATA "/dgram", ".in", ".out", run_case, d) >= 40);
}

static void test_every_code(dgram_decoder *d)
{
    static const int codes[] = {201, 202, 203, 204, 205, 301, 302, 303, 304, 305, 306};
    static const char *names[] = {"starttls-not-supported",
                                  "certificate-host-mismatch",
                                  "certificate-not-trusted",
                                  "certificate-expired",
                                  "validation-failure",
                                  "sts-policy-fetch-error",
                                  "sts-policy-invalid",
                                  "sts-webpki-invalid",
                                  "tlsa-invalid",
                                  "dnssec-invalid",
                                  "dane-required"};
    char buf[512];
    outcome o;

    outcome_init(&o);
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        int n = snprintf(buf, sizeof(buf),
                         "{\"dpv\":\"1\",\"d\":\"example.org\",\"policies\":[{\"policy-type\":2,"
                         "\"failure-details\":[{\"c\":%d}],\"t\":1,\"f\":1}]}",
                         codes[i]);
        CHECK_INT(dgram_decode(d, buf, (size_t)n, &o, NULL), DGRAM_OK);
        CHECK_INT(o.npolicies, 1);
        if (o.npolicies == 1 && o.policies[0].nfailures == 1)
            CHECK_STR(outcome_result_name(o.policies[0].failures[0].result), names[i]);
        CHECK_INT(outcome_result_code(names[i]), codes[i]);
    }
    outcome_done(&o);
}

/* 200 KB: 150 failure details with long (valid) EHLO replies, of which the report keeps the
 * announced name; and the same over the cap. */
static void test_large(dgram_decoder *d)
{
    vstring *v = vstring_alloc(0);
    outcome o;
    char helo[1200];
    static const char head[] = "250-mx.big.example\\r\\n250-X";

    memset(helo, 'e', sizeof(helo) - 1);
    memcpy(helo, head, sizeof(head) - 1);
    helo[sizeof(helo) - 1] = 0;
    outcome_init(&o);
    vstring_append_str(v, "{\"dpv\":\"1\",\"d\":\"big.example\",\"policies\":[{\"policy-type\":9,"
                          "\"failure-details\":[");
    for (int i = 0; i < 150; i++)
        vstring_sprintf_append(v,
                               "%s{\"c\":204,\"s\":\"192.0.2.%d\",\"n\":\"mx%d.big.example\","
                               "\"h\":\"%s\",\"r\":\"198.51.100.%d\"}",
                               i ? "," : "", i % 250, i, helo, i % 250);
    vstring_append_str(v, "],\"t\":150,\"f\":1}]}");
    CHECK(v->len >= 180 * 1024 && v->len <= 210 * 1024);
    CHECK_INT(dgram_decode(d, v->data, v->len, &o, NULL), DGRAM_OK);
    CHECK_INT(o.npolicies, 1);
    CHECK_INT(o.policies[0].nfailures, 150);
    CHECK_STR(o.policies[0].failures[149].mx_hostname, "mx149.big.example");
    CHECK_STR(o.policies[0].failures[7].mx_helo, "mx.big.example");

    /* Over DGRAM_MAX_SIZE: refused as a whole, however valid. */
    vstring_reset(v);
    vstring_append_str(v, "{\"dpv\":\"1\",\"d\":\"big.example\",\"x\":\"");
    while (v->len < DGRAM_MAX_SIZE + 10)
        vstring_append_str(v, "xxxxxxxxxxxxxxxx");
    vstring_append_str(v, "\",\"policies\":[{\"policy-type\":9}]}");
    CHECK_INT(dgram_decode(d, v->data, v->len, &o, NULL), DGRAM_ERR_SIZE);
    outcome_done(&o);
    vstring_free(v);
}

int main(void)
{
    dgram_decoder *d = dgram_decoder_new();

    test_cases(d);
    test_every_code(d);
    test_large(d);
    dgram_decoder_free(d);
    return t_done("dgram_test");
}
