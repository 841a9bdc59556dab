/* Received reports: the MIME walker, the liberal parser on every sample of
 * tests/data/inreports, the report store's de-duplication and the summary's explanations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "inreport.h"
#include "mime.h"
#include "report_store.h"
#include "summary.h"
#include "t.h"

#define MAX (10 * 1024 * 1024)

static const struct {
    const char *file;
    int status;
    const char *submitter;
    const char *report_id;
    size_t npolicies;
    const char *start; /* date-range start, as normalized */
} samples[] = {
    {"google.eml", INREPORT_OK, "giant.example", "2026-11-21T00:00:00Z_example.com", 1,
     "2026-11-21T00:00:00Z"},
    {"google-prev.eml", INREPORT_OK, "giant.example", "2026-11-20T00:00:00Z_example.com", 1,
     "2026-11-20T00:00:00Z"},
    {"microsoft.eml", INREPORT_OK, "bigsoft.example", "133457280000000000+example.com", 2,
     "2026-11-21T00:00:00Z"},
    {"microsoft-tz.eml", INREPORT_OK, "bigsoft.example", "133456416000000000+example.com", 1,
     "2026-11-20T00:00:00Z"},
    {"empty-strings.eml", INREPORT_OK, "small.example", "small-1", 1, "2026-11-21T00:00:00Z"},
    {"null-contact.eml", INREPORT_OK, "nullc.example", "nullc-7", 1, "2026-11-21T00:00:00Z"},
    {"json-plain.eml", INREPORT_OK, "plain.example", "plain-2026-11-21", 1, "2026-11-21T00:00:00Z"},
    {"nested.eml", INREPORT_OK, "nested.example", "nested-42", 1, "2026-11-21T00:00:00Z"},
    {"qp.eml", INREPORT_OK, "qp.example", "qp=1", 1, "2026-11-21T00:00:00Z"},
    {"many-policies.eml", INREPORT_OK, "many.example", "many-1000", 1000, "2026-11-19T00:00:00Z"},
    {"bare-gzip.eml", INREPORT_OK, "bare.example", "bare-3", 1, "2026-11-21T00:00:00Z"},
    {"bomb.eml", INREPORT_BAD, NULL, NULL, 0, NULL},
    {"truncated-gzip.eml", INREPORT_BAD, NULL, NULL, 0, NULL},
    {"invalid-json.eml", INREPORT_BAD, NULL, NULL, 0, NULL},
    {"plain.eml", INREPORT_NONE, NULL, NULL, 0, NULL},
    {"mixed-ordinary.eml", INREPORT_NONE, NULL, NULL, 0, NULL},
};

static const char *json_get(json_object *o, const char *k1, const char *k2)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k1, &v))
        return NULL;
    if (k2 && !json_object_object_get_ex(v, k2, &v))
        return NULL;
    return json_object_get_string(v);
}

static void test_samples(void)
{
    vstring *data = vstring_alloc(0);
    char path[512], err[200];
    inreport r;
    inreport_meta meta;

    inreport_init(&r);
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        snprintf(path, sizeof(path), "%s/inreports/%s", TEST_DATA, samples[i].file);
        CHECK(fsutil_read_file(path, data, 2 * MAX) == 0);
        err[0] = 0;
        int st = inreport_parse_message(&r, data->data, data->len, MAX, &meta, err, sizeof(err));
        if (st != samples[i].status)
            fprintf(stderr, "%s: status %d (%s)\n", samples[i].file, st, err);
        CHECK_INT(st, samples[i].status);
        /* What the milter decides for a message too large to keep agrees with the parser. */
        CHECK_INT(inreport_message_is_report(data->data, data->len),
                  samples[i].status != INREPORT_NONE);
        if (st != INREPORT_OK || samples[i].status != INREPORT_OK)
            continue;
        CHECK_STR(r.submitter, samples[i].submitter);
        CHECK_STR(r.report_id, samples[i].report_id);
        CHECK_INT(r.npolicies, samples[i].npolicies);
        json_object *j = inreport_json(&r);
        CHECK_STR(json_get(j, "date-range", "start-datetime"), samples[i].start);
        /* Every report covers one day up to its last second, whatever the sender wrote. */
        CHECK_INT(r.end - r.start, 86399);
        json_object_put(j);
    }
    /* Microsoft-style quirks: mx-host as a string, the TLSA records in one JSON element. */
    snprintf(path, sizeof(path), "%s/inreports/microsoft.eml", TEST_DATA);
    fsutil_read_file(path, data, 2 * MAX);
    CHECK_INT(inreport_parse_message(&r, data->data, data->len, MAX, &meta, err, sizeof(err)),
              INREPORT_OK);
    CHECK_INT(r.policies[0].nmx_hosts, 1);
    CHECK_STR(r.policies[0].mx_hosts[0], "mx2.example.com");
    CHECK_STR(r.policies[1].type, "tlsa");
    CHECK_INT(r.policies[1].nstrings, 2);
    CHECK(strncmp(r.policies[1].strings[1], "3 1 1 1F85", 10) == 0);
    CHECK_STR(meta.report_domain, "example.com");
    CHECK_STR(meta.submitter, "bigsoft.example");
    /* Empty strings become absent fields; a no-policy-found may lack its domain. */
    snprintf(path, sizeof(path), "%s/inreports/empty-strings.eml", TEST_DATA);
    fsutil_read_file(path, data, 2 * MAX);
    CHECK_INT(inreport_parse_message(&r, data->data, data->len, MAX, &meta, err, sizeof(err)),
              INREPORT_OK);
    CHECK(r.contact == NULL);
    CHECK(r.policies[0].domain == NULL);
    CHECK_INT(r.policies[0].nfailures, 2);
    CHECK(r.policies[0].failures[0].mx_hostname == NULL);
    CHECK(r.policies[0].failures[0].receiving_ip == NULL);
    CHECK_INT(r.policies[0].failures[0].count, 2);
    /* The gzip bomb is refused by the cap, not inflated. */
    snprintf(path, sizeof(path), "%s/inreports/bomb.eml", TEST_DATA);
    fsutil_read_file(path, data, 2 * MAX);
    CHECK_INT(inreport_parse_message(&r, data->data, data->len, MAX, &meta, err, sizeof(err)),
              INREPORT_BAD);
    CHECK(strstr(err, "max_report_size") != NULL);
    inreport_done(&r);
    vstring_free(data);
}

/* Messages cut after their first bytes, as the milter keeps one that outgrew its buffer:
 * the part headers seen so far tell a report from ordinary mail. */
static const struct {
    const char *msg;
    int report;
} prefixes[] = {
    {"Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=b\r\n\r\n--b\r\nContent-Ty",
     1},
    {"Content-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n\r\nH4sI", 1},
    {"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: "
     "text/plain\r\n\r\nhi\r\n"
     "--b\r\nContent-Type: application/tlsrpt+json\r\n\r\n{\"organization-name\": \"x",
     1},
    {"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: "
     "text/plain\r\n\r\nhi\r\n"
     "--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0x",
     0},
    {"Content-Type: multipart/report; report-type=disposition-notification; "
     "boundary=b\r\n\r\n--b\r\n"
     "Content-Type: text/plain\r\n\r\nhi",
     0},
    /* A generic type with a report-like name counts only inside a tlsrpt report. */
    {"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/gzip; "
     "name=x.json.gz\r\n\r\nH4sI",
     0},
    {"Content-Type: multipart/mixed; bound", 0},
    {"", 0},
};

static const struct {
    const char *type;
    int report;
} types[] = {
    {"multipart/report; report-type=tlsrpt; boundary=x", 1},
    {" Multipart/Report;\n\treport-type=\"TLSRPT\"", 1},
    {"multipart/report; boundary=x", 0},
    {"multipart/report; report-type=delivery-status", 0},
    {"application/tlsrpt+gzip; name=x.json.gz", 1},
    {"APPLICATION/TLSRPT+JSON", 1},
    {"application/tlsrpt+gzipx", 0},
    {"application/tlsrpt", 1}, /* Stalwart labels its plain JSON so */
    {"multipart/mixed; report-type=tlsrpt", 0},
    {"", 0},
};

static void test_is_report(void)
{
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        int got = inreport_message_is_report(prefixes[i].msg, strlen(prefixes[i].msg));
        if (got != prefixes[i].report)
            fprintf(stderr, "prefix %zu: %d\n", i, got);
        CHECK_INT(got, prefixes[i].report);
    }
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        int got = inreport_type_is_report(types[i].type);
        if (got != types[i].report)
            fprintf(stderr, "type \"%s\": %d\n", types[i].type, got);
        CHECK_INT(got, types[i].report);
    }
}

static void test_times(void)
{
    CHECK_INT(inreport_parse_time("2026-11-21T00:00:00Z"), 1795219200);
    CHECK_INT(inreport_parse_time("2026-11-21T00:00:00"), 1795219200);
    CHECK_INT(inreport_parse_time("2026-11-21 01:00:00+01:00"), 1795219200);
    CHECK_INT(inreport_parse_time("2026-11-21T00:00:00.123Z"), 1795219200);
    CHECK_INT(inreport_parse_time("2026-11-21"), 1795219200);
    CHECK_INT(inreport_parse_time("21/11/2026"), -1);
    CHECK_INT(inreport_parse_time("2026-11-21T00:00:00Zjunk"), -1);
    CHECK_INT(inreport_parse_time(""), -1);
}

static int count_parts(const mime_part *p, void *ctx)
{
    (void)p;
    (*(int *)ctx)++;
    return 0;
}

static void test_mime(void)
{
    vstring *v = vstring_alloc(0);
    const char *h =
        "Subject: a\r\n folded\r\nContent-Type: multipart/report;\r\n\treport-type=tlsrpt; "
        "boundary=\"b; x\"\r\n";
    CHECK_INT(mime_header(h, strlen(h), "subject", v), 1);
    CHECK_STR(v->data, "a folded");
    CHECK_INT(mime_header(h, strlen(h), "content-type", v), 1);
    vstring *p = vstring_alloc(0);
    CHECK_INT(mime_param(v->data, "boundary", p), 1);
    CHECK_STR(p->data, "b; x");
    CHECK_INT(mime_param(v->data, "REPORT-TYPE", p), 1);
    CHECK_STR(p->data, "tlsrpt");
    CHECK_INT(mime_param("attachment; filename*=UTF-8''r.json.gz", "filename", p), 1);
    CHECK_STR(p->data, "r.json.gz");
    CHECK_INT(mime_param("text/plain", "charset", p), 0);

    /* base64 with line breaks and noise; quoted-printable with soft breaks. */
    static const struct {
        const char *encoding, *body, *want;
    } enc[] = {
        {"base64", "eyJh\r\nIjox\nfQ==\r\n", "{\"a\":1}"},
        {"quoted-printable", "{\"a\"=3D=\r\n1}=\n", "{\"a\"=1}"},
    };
    mime_part part;
    memset(&part, 0, sizeof(part));
    for (size_t i = 0; i < sizeof(enc) / sizeof(enc[0]); i++) {
        snprintf(part.encoding, sizeof(part.encoding), "%s", enc[i].encoding);
        part.body = enc[i].body;
        part.body_len = strlen(part.body);
        vstring_reset(v);
        CHECK_INT(mime_decode(&part, v), 0);
        CHECK_STR(v->data, enc[i].want);
    }
    vstring *small = vstring_alloc(3);
    CHECK_INT(mime_decode(&part, small), -1);
    vstring_free(small);

    /* Nesting deeper than the cap is refused, not recursed into. */
    vstring_reset(v);
    for (int i = 0; i < MIME_MAX_DEPTH + 3; i++)
        vstring_sprintf_append(v, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
    const char *why = NULL;
    int n = 0;
    CHECK_INT(mime_walk(v->data, v->len, count_parts, &n, &why), -1);
    CHECK(why != NULL);
    vstring_free(p);
    vstring_free(v);
}

static int count_stored(const inreport *r, const report_store_info *info, void *ctx)
{
    CHECK_STR(r->report_id, "r1");
    CHECK_STR(info->source, "test");
    (*(int *)ctx)++;
    return 0;
}

static void test_store(void)
{
    char dir[] = "/tmp/otr-inreport-XXXXXX";
    const char *json =
        "{\"organization-name\":\"A\",\"contact-info\":\"x@a.example\","
        "\"report-id\":\"r1\",\"date-range\":{\"start-datetime\":\"2026-11-21T00:00:00Z\","
        "\"end-datetime\":\"2026-11-22T00:00:00Z\"},\"policies\":[{\"policy\":"
        "{\"policy-type\":\"sts\",\"policy-domain\":\"Example.COM.\"},\"summary\":"
        "{\"total-successful-session-count\":3,\"total-failure-session-count\":1},"
        "\"failure-details\":[{\"result-type\":\"certificate-expired\","
        "\"receiving-mx-hostname\":\"MX2.example.com\",\"failed-session-count\":1}]}]}";
    char err[200];
    inreport r;
    report_store_info info = {1795300000, "test", "none", -1, NULL, NULL, NULL};

    CHECK(mkdtemp(dir) != NULL);
    report_store *st = report_store_open(dir, MAX);
    inreport_init(&r);
    CHECK_INT(inreport_parse_json(&r, json, strlen(json), err, sizeof(err)), 0);
    CHECK_STR(r.policies[0].domain, "example.com");
    CHECK_STR(r.policies[0].failures[0].mx_hostname, "mx2.example.com");
    CHECK_INT(report_store_put(st, &r, &info), 1);
    CHECK_INT(report_store_put(st, &r, &info), 0);
    summary *sum = summary_new(NULL, NULL);
    int seen = 0;
    CHECK_INT(report_store_iterate(st, "2026-11-21", count_stored, &seen), 1);
    CHECK_INT(seen, 1);
    CHECK_INT(report_store_iterate(st, "2026-11-22", count_stored, &seen), 0);
    summary_add(sum, &r, &info);
    vstring *out = vstring_alloc(0);
    summary_text(sum, out);
    CHECK(strstr(out->data, "mx2.example.com served an expired certificate to A: 1 session "
                            "failed on 2026-11-21") != NULL);
    CHECK(strstr(out->data, "renew the certificate on mx2.example.com") != NULL);
    vstring_reset(out);
    summary_html(sum, out);
    CHECK(strstr(out->data, "<svg") != NULL);
    CHECK(strstr(out->data, "<script") == NULL);
    summary_free(sum);
    /* Renderers escape C0, DEL and C1 whatever reaches them, here a report no parser saw:
     * U+009B is a terminal's CSI, U+0085 a line break to some. */
    inreport_policy *p = &r.policies[0];
    r.organization = "Evil\xc2\x9b"
                     "31m\x01"
                     "Corp";
    p->failures[0].additional_info = "a\xc2\x85"
                                     "b\x7f";
    sum = summary_new(NULL, NULL);
    summary_add(sum, &r, &info);
    vstring_reset(out);
    summary_text(sum, out);
    CHECK(strstr(out->data, "Evil\\x9b31m\\x01Corp") != NULL);
    CHECK(strstr(out->data, "a\\x85b\\x7f") != NULL);
    CHECK(strstr(out->data, "\xc2\x9b") == NULL && strchr(out->data, '\x01') == NULL);
    vstring_reset(out);
    summary_html(sum, out);
    CHECK(strstr(out->data, "Evil\\x9b31m\\x01Corp") != NULL);
    CHECK(strstr(out->data, "\xc2\x85") == NULL && strchr(out->data, '\x7f') == NULL);
    summary_free(sum);
    vstring_free(out);
    inreport_done(&r);
    report_store_close(st);
    t_rmtree(dir);
}

int main(void)
{
    test_times();
    test_mime();
    test_samples();
    test_is_report();
    test_store();
    return t_done("inreport_test");
}
