/* Report aggregation: policies and failure details grouped and summed exactly, optional
 * fields omitted, no-policy-found given the report domain, the cardinality guard. */
#include <json-c/json.h>
#include <stdlib.h>

#include "dgram.h"
#include "report.h"
#include "t.h"

/* The report of domain as report_set_text writes it, parsed back (NULL: none). */
static json_object *report_json(report_set *rs, const char *domain, const report_opts *opts)
{
    vstring *text = vstring_alloc(0);
    json_object *obj = NULL;

    if (report_set_text(rs, domain, opts, text) == 0) {
        obj = json_tokener_parse(text->data);
        CHECK(obj != NULL);
    } else {
        CHECK_INT(text->len, 0);
    }
    vstring_free(text);
    return obj;
}

static dgram_decoder *dec;

static void add(report_set *rs, const char *dgram, int times)
{
    outcome o;
    outcome_init(&o);
    CHECK_INT(dgram_decode(dec, dgram, strlen(dgram), &o, NULL), DGRAM_OK);
    for (int i = 0; i < times; i++)
        report_set_add(rs, &o, NULL);
    outcome_done(&o);
}

static report_opts opts = {"Sender Org", "tlsrpt@sender.example", "sender.example", "otr-00000000",
                           1000};

static json_object *get(json_object *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *tok = strtok(buf, "/"); tok && o; tok = strtok(NULL, "/")) {
        if (json_object_is_type(o, json_type_array))
            o = json_object_array_get_idx(o, (size_t)strtol(tok, NULL, 10));
        else if (!json_object_object_get_ex(o, tok, &o))
            o = NULL;
    }
    return o;
}

static long long num(json_object *o, const char *path)
{
    json_object *v = get(o, path);
    return v ? json_object_get_int64(v) : -1;
}

static const char *str(json_object *o, const char *path)
{
    json_object *v = get(o, path);
    return v ? json_object_get_string(v) : NULL;
}

static void test_aggregate(void)
{
    report_set *rs = report_set_new("2026-11-21");
    const char *sts_ok = "{\"dpv\":\"1\",\"d\":\"example.org\",\"policies\":[{\"policy-type\":2,"
                         "\"policy-domain\":\"example.org\",\"policy-string\":[\"version: STSv1\","
                         "\"mode: enforce\"],\"mx-host\":[\"*.example.org\"],\"t\":0,\"f\":0}]}";
    const char *sts_fail =
        "{\"dpv\":\"1\",\"d\":\"example.org\",\"policies\":[{\"policy-type\":2,"
        "\"policy-domain\":\"example.org\",\"policy-string\":[\"version: STSv1\","
        "\"mode: enforce\"],\"mx-host\":[\"*.example.org\"],\"failure-details\":[{\"c\":204,"
        "\"s\":\"192.0.2.1\",\"n\":\"mx2.example.org\",\"r\":\"198.51.100.8\"}],\"t\":1,\"f\":1}]}";
    const char *sts_fail2 =
        "{\"dpv\":\"1\",\"d\":\"example.org\",\"policies\":[{\"policy-type\":2,"
        "\"policy-domain\":\"example.org\",\"policy-string\":[\"version: STSv1\","
        "\"mode: enforce\"],\"mx-host\":[\"*.example.org\"],\"failure-details\":[{\"c\":204,"
        "\"s\":\"192.0.2.2\",\"n\":\"mx2.example.org\",\"r\":\"198.51.100.8\"}],\"t\":1,\"f\":1}]}";
    const char *none =
        "{\"dpv\":\"1\",\"d\":\"example.net\",\"policies\":[{\"policy-type\":9,"
        "\"failure-details\":[{\"c\":201,\"n\":\"mx.example.net\"}],\"t\":1,\"f\":1}]}";

    add(rs, sts_ok, 5);
    add(rs, sts_fail, 3);
    add(rs, sts_fail2, 2);
    add(rs, none, 4);
    const char *const *d = report_set_domains(rs);
    CHECK_STR(d[0], "example.net");
    CHECK_STR(d[1], "example.org");
    CHECK(d[2] == NULL);
    uint64_t ok, failed;
    report_set_totals(rs, "example.org", &ok, &failed);
    CHECK_INT(ok, 5);
    CHECK_INT(failed, 5);

    json_object *r = report_json(rs, "example.org", &opts);
    CHECK_STR(str(r, "organization-name"), "Sender Org");
    CHECK_STR(str(r, "date-range/start-datetime"), "2026-11-21T00:00:00Z");
    CHECK_STR(str(r, "date-range/end-datetime"), "2026-11-21T23:59:59Z");
    CHECK_STR(str(r, "report-id"), "20261121.example.org.otr-00000000@sender.example");
    CHECK_INT(json_object_array_length(get(r, "policies")), 1);
    CHECK_STR(str(r, "policies/0/policy/policy-type"), "sts");
    CHECK_STR(str(r, "policies/0/policy/policy-string/1"), "mode: enforce");
    CHECK_STR(str(r, "policies/0/policy/mx-host/0"), "*.example.org");
    CHECK_INT(num(r, "policies/0/summary/total-successful-session-count"), 5);
    CHECK_INT(num(r, "policies/0/summary/total-failure-session-count"), 5);
    CHECK_INT(json_object_array_length(get(r, "policies/0/failure-details")), 2);
    CHECK_INT(num(r, "policies/0/failure-details/0/failed-session-count"), 3);
    CHECK_STR(str(r, "policies/0/failure-details/0/sending-mta-ip"), "192.0.2.1");
    CHECK_INT(num(r, "policies/0/failure-details/1/failed-session-count"), 2);
    CHECK_STR(str(r, "policies/0/failure-details/0/result-type"), "certificate-expired");
    /* Absent optional fields are omitted, never empty strings. */
    CHECK(get(r, "policies/0/failure-details/0/receiving-mx-helo") == NULL);
    CHECK(get(r, "policies/0/failure-details/0/failure-reason-code") == NULL);
    json_object_put(r);

    r = report_json(rs, "example.net", &opts);
    CHECK_STR(str(r, "policies/0/policy/policy-type"), "no-policy-found");
    CHECK_STR(str(r, "policies/0/policy/policy-domain"), "example.net");
    CHECK(get(r, "policies/0/policy/mx-host") == NULL);
    CHECK_INT(num(r, "policies/0/failure-details/0/failed-session-count"), 4);
    json_object_put(r);
    CHECK(report_json(rs, "nothere.example", &opts) == NULL);
    report_set_free(rs);
}

/* 1,500 distinct details of two result types with max 1000: at most 1000 rows, and the
 * folded rows keep the counts summing exactly. */
static void test_guard(void)
{
    report_set *rs = report_set_new("2026-11-21");
    char buf[512];
    long long total = 0;

    for (int i = 0; i < 1500; i++) {
        snprintf(buf, sizeof(buf),
                 "{\"dpv\":\"1\",\"d\":\"big.example\",\"policies\":[{\"policy-type\":9,"
                 "\"failure-details\":[{\"c\":%d,\"s\":\"10.%d.%d.1\"}],\"t\":1,\"f\":1}]}",
                 i % 2 ? 201 : 203, i / 250, i % 250);
        add(rs, buf, 1 + i % 3);
        total += 1 + i % 3;
    }
    report_opts small = opts;
    small.max_failure_details = 1000;
    json_object *r = report_json(rs, "big.example", &small);
    json_object *det = get(r, "policies/0/failure-details");
    size_t n = json_object_array_length(det);
    CHECK(n <= 1000);
    CHECK(n >= 990);
    long long sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += num(json_object_array_get_idx(det, i), "failed-session-count");
    CHECK_INT(sum, total);
    CHECK_INT(num(r, "policies/0/summary/total-failure-session-count"), total);
    json_object_put(r);
    report_set_free(rs);
}

/* Strings holding the bytes the aggregation keys once used as separators (0x1f, 0x1e) forge
 * nothing: no failure-reason-code, no policy-string split in two, and the control
 * characters themselves go out as spaces; a result code past any table is folded without
 * reading out of bounds. */
static void test_forged(void)
{
    report_set *rs = report_set_new("2026-11-21");
    outcome o;
    const char *strings[] = {"version: STSv1\x1emode: none", "max_age: 1"};
    const char *dg = "{\"dpv\":\"1\",\"d\":\"example.org\",\"policies\":[{\"policy-type\":2,"
                     "\"policy-domain\":\"example.org\",\"failure-details\":[{\"c\":204,"
                     "\"a\":\"x\"}],\"t\":1,\"f\":1}]}";

    outcome_init(&o);
    CHECK_INT(dgram_decode(dec, dg, strlen(dg), &o, NULL), DGRAM_OK);
    /* As a journal written by an older version (or another source) may hold them. */
    o.policies[0].strings = strings;
    o.policies[0].nstrings = 2;
    o.policies[0].failures[0].additional_info = "x\x1f"
                                                "forged-code\x1f";
    report_set_add(rs, &o, NULL);
    o.policies[0].failures[0].result = 1000000;
    o.policies[0].failures[0].additional_info = "other";
    report_set_add(rs, &o, NULL);
    json_object *r = report_json(rs, "example.org", &opts);
    CHECK_INT(json_object_array_length(get(r, "policies")), 1);
    CHECK_INT(json_object_array_length(get(r, "policies/0/policy/policy-string")), 2);
    CHECK_STR(str(r, "policies/0/policy/policy-string/0"), "version: STSv1 mode: none");
    CHECK_STR(str(r, "policies/0/failure-details/0/additional-information"), "x forged-code ");
    CHECK(get(r, "policies/0/failure-details/0/failure-reason-code") == NULL);
    CHECK_INT(num(r, "policies/0/summary/total-failure-session-count"), 2);
    json_object_put(r);
    report_opts one = opts;
    one.max_failure_details = 1;
    r = report_json(rs, "example.org", &one);
    CHECK_INT(num(r, "policies/0/failure-details/0/failed-session-count") +
                  num(r, "policies/0/failure-details/1/failed-session-count"),
              2);
    json_object_put(r);
    outcome_done(&o);
    report_set_free(rs);
}

/* Under a budget a few domains wide, a day comes out in passes: every domain once, with
 * its own counts, in the order one pass gives. */
static void test_passes(void)
{
    enum { NDOM = 40 };
    report_set *rs = report_set_new("2026-11-21");
    char prev[64] = "", dgram[512];
    int seen = 0, sessions = 0;

    report_set_limit(rs, 2000);
    while (report_set_pass(rs)) {
        /* Each pass reads the same day: domains in a scrambled order, domain i i+1 times. */
        for (int i = 0; i < NDOM; i++) {
            int d = (i * 17) % NDOM;
            snprintf(dgram, sizeof(dgram),
                     "{\"dpv\":\"1\",\"d\":\"d%02d.example\",\"policies\":[{\"policy-type\":"
                     "1,\"policy-domain\":\"d%02d.example\",\"t\":0,\"f\":0}]}",
                     d, d);
            add(rs, dgram, d + 1);
        }
        const char *const *v = report_set_domains(rs);
        for (size_t i = 0; v[i]; i++, seen++) {
            uint64_t ok, failed;
            CHECK(strcmp(prev, v[i]) < 0);
            snprintf(prev, sizeof(prev), "%s", v[i]);
            report_set_totals(rs, v[i], &ok, &failed);
            CHECK_INT((int)ok, (int)strtol(v[i] + 1, NULL, 10) + 1);
            sessions += (int)ok;
        }
    }
    CHECK_INT(seen, NDOM);
    CHECK_INT(sessions, NDOM * (NDOM + 1) / 2);
    CHECK(report_set_passes(rs) > 4);
    report_set_free(rs);
}

int main(void)
{
    dec = dgram_decoder_new();
    test_aggregate();
    test_guard();
    test_forged();
    test_passes();
    dgram_decoder_free(dec);
    return t_done("report_test");
}
