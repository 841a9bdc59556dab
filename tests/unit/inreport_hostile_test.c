/* Received reports from a hostile sender: control characters never survive parsing (C0
 * and C1: U+009B is a terminal's CSI); the 14 KB gzip bomb of `{},{},...` is refused at
 * once as over the limits; each limit; a memory budget too small is a resource shortage
 * (-2, INREPORT_TEMP), never "invalid"; the stored form stays within INREPORT_STORED_MAX and
 * is read back and de-duplicated; old reports expire. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gz.h"
#include "inreport.h"
#include "report_store.h"
#include "t.h"

#define MAX (10 * 1024 * 1024)
#define REPORT_HEAD                                                                                \
    "{\"organization-name\":\"Bomb\",\"contact-info\":\"x@bomb.example\",\"report-id\":\"b1\","    \
    "\"date-range\":{\"start-datetime\":\"2026-11-21T00:00:00Z\",\"end-datetime\":"                \
    "\"2026-11-21T23:59:59Z\"},\"policies\":["

/* REPORT_HEAD, then n copies of item joined by commas inside policy, then the end. */
static vstring *report_of(const char *policy_head, const char *item, size_t n,
                          const char *policy_tail)
{
    vstring *v = vstring_alloc(0);
    vstring_append_str(v, REPORT_HEAD);
    vstring_append_str(v, policy_head);
    for (size_t i = 0; i < n; i++) {
        if (i)
            vstring_append_char(v, ',');
        vstring_append_str(v, item);
    }
    vstring_append_str(v, policy_tail);
    vstring_append_str(v, "]}");
    return v;
}

static int parse(inreport *r, const vstring *json, char *err, size_t errsize)
{
    return inreport_parse_json(r, json->data, json->len, err, errsize);
}

#define DATES                                                                                      \
    "\"date-range\":{\"start-datetime\":\"2026-11-21T00:00:00Z\",\"end-datetime\":"                \
    "\"2026-11-21T23:59:59Z\"}"

static int has_controls(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; s && *p; p++)
        if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            return 1;
    return 0;
}

static void test_controls(void)
{
    const char *json =
        "{\"organization-name\":\"Evil\\u009b2J\\u001b[31m\",\"contact-info\":\"x@evil.example\","
        "\"report-id\":\"r\\u0085\\u007f1\"," DATES ",\"policies\":[{\"policy\":"
        "{\"policy-type\":\"sts\",\"policy-string\":[\"a\\u001eb\"],\"policy-domain\":"
        "\"example.com\"},\"failure-details\":[{\"result-type\":\"validation-failure\","
        "\"additional-information\":\"x\\u001fforged\\u009d0;t\\u0007\","
        "\"failure-reason-code\":\"\\u009b1m\"}]}]}";
    char err[200];
    inreport r;

    inreport_init(&r);
    CHECK_INT(inreport_parse_json(&r, json, strlen(json), err, sizeof(err)), 0);
    CHECK_STR(r.organization, "Evil 2J [31m");
    CHECK_STR(r.report_id, "r  1");
    CHECK_STR(r.policies[0].strings[0], "a b");
    CHECK_STR(r.policies[0].failures[0].additional_info, "x forged 0;t");
    CHECK_STR(r.policies[0].failures[0].reason_code, "1m");
    CHECK(!has_controls(r.organization) && !has_controls(r.report_id) &&
          !has_controls(r.policies[0].failures[0].additional_info));
    inreport_done(&r);
}

/* A report seen as an attack: a ~14 KB mail, gzip inflating to just under 10 MiB of `{},`
 * in one failure-details array. It is refused as over the limits (json-c took 3.8 GB). */
static void test_bomb(void)
{
    vstring *json = report_of("{\"policy\":{\"policy-type\":\"sts\"},\"failure-details\":[", "{}",
                              (MAX - 400) / 3, "]}");
    vstring *gz = vstring_alloc(0), *b64 = vstring_alloc(0), *msg = vstring_alloc(0);
    char err[200] = "";
    inreport r;

    CHECK(json->len < MAX && json->len > MAX - 1024);
    CHECK(gz_compress(json->data, json->len, gz) == 0);
    CHECK(gz->len < 20000);
    inreport_init(&r);
    CHECK_INT(inreport_parse_payload(&r, gz->data, gz->len, MAX, err, sizeof(err)), -1);
    CHECK(strstr(err, "over the limits") != NULL);
    /* The same as a mail, base64 as senders send it. */
    static const char b64c[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)gz->data;
    for (size_t i = 0; i < gz->len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < gz->len ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < gz->len ? p[i + 2] : 0);
        char q[4] = {b64c[v >> 18], b64c[(v >> 12) & 63],
                     i + 1 < gz->len ? b64c[(v >> 6) & 63] : '=',
                     i + 2 < gz->len ? b64c[v & 63] : '='};
        vstring_append(b64, q, 4);
        if (i % 57 == 54)
            vstring_append_str(b64, "\r\n");
    }
    vstring_append_str(msg, "From: a@bomb.example\r\nTo: tlsrpt@example.com\r\nSubject: r\r\n"
                            "MIME-Version: 1.0\r\nContent-Type: multipart/report; "
                            "report-type=tlsrpt; boundary=b\r\n\r\n--b\r\nContent-Type: "
                            "application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    vstring_append(msg, b64->data, b64->len);
    vstring_append_str(msg, "\r\n--b--\r\n");
    CHECK(msg->len < 30000);
    inreport_meta meta;
    CHECK_INT(inreport_parse_message(&r, msg->data, msg->len, MAX, &meta, err, sizeof(err)),
              INREPORT_BAD);
    CHECK(strstr(err, "over the limits") != NULL);
    /* A 10 MB string costs its first 1024 bytes. */
    vstring_reset(json);
    vstring_append_str(json, REPORT_HEAD "{\"failure-details\":[{\"additional-information\":\"");
    for (size_t i = 0; i < MAX - 1000; i++)
        vstring_append_char(json, 'x');
    vstring_append_str(json, "\"}]}]}");
    CHECK_INT(parse(&r, json, err, sizeof(err)), 0);
    CHECK_INT(strlen(r.policies[0].failures[0].additional_info), INREPORT_MAX_FIELD);
    inreport_done(&r);
    vstring_free(json);
    vstring_free(gz);
    vstring_free(b64);
    vstring_free(msg);
}

/* Each limit: at it the report parses, one past it the report is refused as over. */
static void test_limits(void)
{
    static const struct {
        const char *head, *item, *tail;
        size_t max;
    } cases[] = {
        {"", "{}", "", INREPORT_MAX_POLICIES},
        {"{\"failure-details\":[", "{}", "]}", INREPORT_MAX_FAILURES},
        {"{\"policy\":{\"policy-string\":[", "\"s\"", "]}}", INREPORT_MAX_STRINGS},
        /* values: the array, its numbers and the report's own (~18) */
        {"{\"x\":[", "1", "]}", INREPORT_MAX_VALUES - 40},
    };
    char err[200];
    inreport r;

    inreport_init(&r);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vstring *ok = report_of(cases[i].head, cases[i].item, cases[i].max, cases[i].tail);
        vstring *over = report_of(cases[i].head, cases[i].item, cases[i].max + 100, cases[i].tail);
        if (parse(&r, ok, err, sizeof(err)) != 0)
            fprintf(stderr, "case %zu at the limit: %s\n", i, err);
        CHECK_INT(parse(&r, ok, err, sizeof(err)), 0);
        CHECK_INT(parse(&r, over, err, sizeof(err)), -1);
        CHECK(strstr(err, "over the limits") != NULL);
        vstring_free(ok);
        vstring_free(over);
    }
    inreport_done(&r);
}

/* A budget too small: -2 and INREPORT_TEMP, a reason that does not blame the report, and
 * every byte given back. */
static void test_budget(void)
{
    vstring *json =
        report_of("{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"example.com\"},"
                  "\"failure-details\":[",
                  "{\"result-type\":\"certificate-expired\",\"sending-mta-ip\":\"192.0.2.1\","
                  "\"failed-session-count\":1}",
                  20000, "]}");
    vstring *gz = vstring_alloc(0);
    membudget small, big;
    char err[200];
    inreport r;

    CHECK(gz_compress(json->data, json->len, gz) == 0);
    membudget_init(&small, 1024 * 1024);
    membudget_init(&big, 256 * 1024 * 1024);
    inreport_init(&r);
    r.budget = &small;
    CHECK_INT(parse(&r, json, err, sizeof(err)), -2);
    CHECK(strstr(err, "invalid") == NULL && strstr(err, "memory") != NULL);
    CHECK_INT(inreport_parse_payload(&r, gz->data, gz->len, MAX, err, sizeof(err)), -2);
    CHECK_INT(membudget_used(&small), 0);
    /* A small report costs little of a budget however large max_report_size is. */
    vstring *one = report_of("", "{}", 1, "");
    vstring *onegz = vstring_alloc(0);
    CHECK(gz_compress(one->data, one->len, onegz) == 0);
    CHECK_INT(
        inreport_parse_payload(&r, onegz->data, onegz->len, (size_t)1 << 30, err, sizeof(err)), 0);
    inreport_done(&r);
    CHECK_INT(membudget_used(&small), 0);
    vstring_free(one);
    vstring_free(onegz);
    r.budget = &big;
    CHECK_INT(inreport_parse_payload(&r, gz->data, gz->len, MAX, err, sizeof(err)), 0);
    CHECK_INT(r.policies[0].nfailures, 20000);
    CHECK(membudget_used(&big) > 0);
    inreport_done(&r);
    CHECK_INT(membudget_used(&big), 0);
    vstring_free(json);
    vstring_free(gz);
}

static int count_failures(const inreport *r, const report_store_info *info, void *ctx)
{
    (void)info;
    size_t *n = ctx;
    for (size_t i = 0; i < r->npolicies; i++)
        *n += r->policies[i].nfailures;
    return 0;
}

/* The stored form of a report that stays within the limits, however thin its input (10,000
 * empty policies, 50,000 empty failure details: json-c wrote 50 bytes for each {}), is at most
 * INREPORT_STORED_MAX of it; the store reads it back whole and knows it again. Reports older
 * than retention_days go. */
static void test_store(void)
{
    char dir[] = "/tmp/otr-hostile-XXXXXX", err[200];
    vstring *json = report_of("{\"failure-details\":[", "{}", INREPORT_MAX_FAILURES, "]}");
    vstring *text = vstring_alloc(0);
    report_store_info info = {1795300000, "test", "none", -1, NULL, NULL, NULL};
    inreport r;

    vstring_append_str(json, ""); /* and 9,999 empty policies more: */
    json->len -= 2;
    for (int i = 1; i < INREPORT_MAX_POLICIES; i++)
        vstring_append_str(json, ",{}");
    vstring_append_str(json, "]}");
    CHECK(mkdtemp(dir) != NULL);
    inreport_init(&r);
    CHECK_INT(parse(&r, json, err, sizeof(err)), 0);
    CHECK_INT(r.npolicies, INREPORT_MAX_POLICIES);
    inreport_json_text(&r, text);
    CHECK(text->len <= INREPORT_STORED_MAX(json->len));
    report_store *st = report_store_open(dir, MAX);
    CHECK_INT(report_store_put(st, &r, &info), 1);
    CHECK_INT(report_store_put(st, &r, &info), 0);
    size_t n = 0;
    CHECK_INT(report_store_iterate(st, NULL, count_failures, &n), 1);
    CHECK_INT(n, INREPORT_MAX_FAILURES);
    /* A report of 1970 and one of 2026-11-21, seen on 2026-12-01 with 14 days kept. */
    const char *old = REPORT_HEAD "]}";
    vstring *v = vstring_alloc(0);
    vstring_append_str(v, old);
    char *at = strstr(v->data, "2026-11-21T00");
    memcpy(at, "1970-01-01", 10);
    CHECK_INT(parse(&r, v, err, sizeof(err)), 0);
    CHECK_INT(report_store_put(st, &r, &info), 1);
    n = 0;
    CHECK_INT(report_store_iterate(st, NULL, count_failures, &n), 2);
    CHECK_INT(report_store_expire(dir, 14, 1796083200 /* 2026-12-01 */), 1);
    CHECK_INT(report_store_iterate(st, NULL, count_failures, &n), 1);
    CHECK_INT(report_store_expire(dir, 5, 1796083200), 1);
    CHECK_INT(report_store_iterate(st, NULL, count_failures, &n), 0);
    report_store_close(st);
    inreport_done(&r);
    vstring_free(v);
    vstring_free(json);
    vstring_free(text);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    test_controls();
    test_bomb();
    test_limits();
    test_budget();
    test_store();
    return t_done("inreport_hostile_test");
}
