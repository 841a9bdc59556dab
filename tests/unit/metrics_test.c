/* The daemon's metrics: answer kinds, histogram buckets, and the text exposition. */
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "otrconfig.h"
#include "t.h"

static void test_answers(void)
{
    static const struct {
        const char *answer;
        int kind;
    } cases[] = {
        {"OK secure match=mx.example.com servername=hostname", METRICS_ANSWER_SECURE},
        {"OK secure", METRICS_ANSWER_SECURE},
        {"OK securex", METRICS_ANSWER_OTHER},
        {"OK dane-only", METRICS_ANSWER_DANE},
        {"OK dane", METRICS_ANSWER_DANE},
        {"OK may policy_type=sts policy_domain=a.example policy_failure=sts-policy-invalid",
         METRICS_ANSWER_OTHER},
        {"OK encrypt", METRICS_ANSWER_OTHER},
        {"NOTFOUND ", METRICS_ANSWER_NOTFOUND},
        {"TEMP lookup failed", METRICS_ANSWER_TEMP},
        {"", METRICS_ANSWER_NOTFOUND},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_INT(metrics_answer_kind(cases[i].answer, strlen(cases[i].answer)), cases[i].kind);
}

static void test_hist(void)
{
    hist h;
    memset(&h, 0, sizeof(h));
    hist_observe(&h, 0);
    hist_observe(&h, 100); /* on the bound: that bucket (le is "less or equal") */
    hist_observe(&h, 101);
    hist_observe(&h, 10000000);
    hist_observe(&h, 10000001); /* over the last bound */
    CHECK_INT(counter_get(&h.bucket[0]), 2);
    CHECK_INT(counter_get(&h.bucket[1]), 1);
    CHECK_INT(counter_get(&h.bucket[HIST_NBUCKETS - 1]), 1);
    CHECK_INT(counter_get(&h.bucket[HIST_NBUCKETS]), 1);
    CHECK_INT(counter_get(&h.sum_us), 20000202);
}

static int has_line(const vstring *out, const char *line)
{
    const char *p = out->data;
    size_t n = strlen(line);

    while ((p = strstr(p, line)) != NULL) {
        if ((p == out->data || p[-1] == '\n') && p[n] == '\n')
            return 1;
        p += n;
    }
    return 0;
}

static void test_format(void)
{
    metrics_shm *m = calloc(1, sizeof(*m));
    vstring *out = vstring_alloc(0);

    metrics = m;
    counter_set(&m->role[METRICS_TLSRPT].active, 1);
    counter_set(&m->role[METRICS_TLSRPT].up, 1);
    counter_set(&m->role[METRICS_HTTP].active, 1);
    counter_add(&m->tlsrpt.received, 10);
    counter_add(&m->tlsrpt.queued, 10);
    counter_add(&m->tlsrpt.dequeued, 7);
    counter_add(&m->tlsrpt.malformed[DGRAM_ERR_JSON], 2);
    hist_observe(&m->role[METRICS_TLSRPT].spool.sync, 50);
    hist_observe(&m->role[METRICS_TLSRPT].spool.sync, 3000);
    metrics_format(m, out);
    CHECK(has_line(out, "opentlsrpt_role_up{role=\"tlsrpt\"} 1"));
    CHECK(has_line(out, "opentlsrpt_role_up{role=\"metrics\"} 0"));
    CHECK(has_line(out, "opentlsrpt_datagrams_received_total 10"));
    CHECK(has_line(out, "opentlsrpt_datagram_queue_length 3"));
    CHECK(has_line(out, "opentlsrpt_datagrams_malformed_total{reason=\"not-json\"} 2"));
    /* Buckets are cumulative; the count is the +Inf bucket. */
    CHECK(has_line(
        out, "opentlsrpt_journal_fsync_duration_seconds_bucket{role=\"tlsrpt\",le=\"0.0001\"} 1"));
    CHECK(has_line(
        out, "opentlsrpt_journal_fsync_duration_seconds_bucket{role=\"tlsrpt\",le=\"0.0025\"} 1"));
    CHECK(has_line(
        out, "opentlsrpt_journal_fsync_duration_seconds_bucket{role=\"tlsrpt\",le=\"0.005\"} 2"));
    CHECK(has_line(
        out, "opentlsrpt_journal_fsync_duration_seconds_bucket{role=\"tlsrpt\",le=\"+Inf\"} 2"));
    CHECK(has_line(out, "opentlsrpt_journal_fsync_duration_seconds_count{role=\"tlsrpt\"} 2"));
    CHECK(has_line(out, "opentlsrpt_journal_fsync_duration_seconds_sum{role=\"tlsrpt\"} 0.003050"));
    CHECK(
        has_line(out, "opentlsrpt_build_info{version=\"" PACKAGE_VERSION "\",roles=\"tlsrpt\"} 1"));
    /* Roles not enabled show nothing; the metrics process writes no journal. */
    CHECK(strstr(out->data, "role=\"policy\"") == NULL);
    CHECK(strstr(out->data, "opentlsrpt_policy_") == NULL);
    CHECK(strstr(out->data, "opentlsrpt_journal_bytes{role=\"metrics\"}") == NULL);
    /* The role's process ended holding 3 datagrams: lost, and the queue is empty again. */
    metrics_role_ended(METRICS_TLSRPT, 3);
    vstring_reset(out);
    metrics_format(m, out);
    CHECK(has_line(out, "opentlsrpt_datagrams_dropped_total{reason=\"process_killed\"} 3"));
    CHECK(has_line(out, "opentlsrpt_datagram_queue_length 0"));
    CHECK(has_line(out, "opentlsrpt_role_up{role=\"tlsrpt\"} 0"));
    vstring_free(out);
    free(m);
}

int main(void)
{
    test_answers();
    test_hist();
    test_format();
    return t_done("metrics_test");
}
