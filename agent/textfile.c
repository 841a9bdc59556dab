/*
 * metrics_textfile: what `run` leaves for node_exporter's textfile collector. Every value is
 * recomputed from the spool at each run (gauges: a day's reports by status, the last
 * finished day's received reports), so the file never drifts from `status` and `summary`.
 * The time of the last successful run is carried over from the file the previous run wrote.
 */
#include "textfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "fsutil.h"
#include "htable.h"
#include "msg.h"
#include "mymalloc.h"
#include "outcome.h"
#include "report_store.h"
#include "vstring.h"

#define TEXTFILE_MAX         (4 * 1024 * 1024)
#define TEXTFILE_DOMAINS_MAX 50  /* received reports: more domains are summed as "other" */
#define TEXTFILE_RESULTS     110 /* result codes 200..309, plus one for unknown types */

enum { TF_MAILTO, TF_HTTPS, TF_NONE, TF_NMETHODS };
enum { TF_PENDING, TF_FAILED, TF_DELIVERED, TF_GIVEN_UP, TF_NO_RECORD, TF_NSTATUS };
static const char *const tf_methods[TF_NMETHODS] = {"mailto", "https", "none"};
static const char *const tf_status[TF_NSTATUS] = {"pending", "failed", "delivered", "given_up",
                                                  "no_record"};

typedef struct {
    time_t day_end;
    unsigned long n[TF_NMETHODS][TF_NSTATUS];
    unsigned long delivered[TF_NMETHODS];
    double delay_sum[TF_NMETHODS], delay_max[TF_NMETHODS];
} tf_day;

static void tf_count(const delivery_report_info *ri, void *arg)
{
    tf_day *d = arg;
    int m = strncmp(ri->uri, "mailto:", 7) == 0  ? TF_MAILTO
            : strncmp(ri->uri, "https:", 6) == 0 ? TF_HTTPS
                                                 : TF_NONE;
    int s = TF_PENDING;

    for (int i = 0; i < TF_NSTATUS; i++) {
        /* The state spells them with a hyphen, Prometheus label values here with "_". */
        const char *a = tf_status[i], *b = ri->status;
        while (*a && (*a == *b || (*a == '_' && *b == '-')))
            a++, b++;
        if (*a == 0 && *b == 0)
            s = i;
    }
    d->n[m][s]++;
    if (s == TF_DELIVERED && ri->delivered > 0) {
        double delay = ri->delivered > d->day_end ? (double)(ri->delivered - d->day_end) : 0;
        d->delivered[m]++;
        d->delay_sum[m] += delay;
        if (delay > d->delay_max[m])
            d->delay_max[m] = delay;
    }
}

static void tf_head(vstring *out, const char *name, const char *help)
{
    vstring_sprintf_append(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* The delivery state of the days within retention, today excepted (not reported yet). */
static void tf_delivery(agent_ctx *ctx, time_t now, vstring *out)
{
    char today[SPOOL_DAY_LEN + 1], oldest[SPOOL_DAY_LEN + 1];
    char **days = spool_days(agent_spool(ctx));
    size_t ndays = 0;

    spool_day_of(now, today);
    spool_day_of(now - (time_t)ctx->cfg->retention_days * 86400, oldest);
    while (days[ndays])
        ndays++;
    tf_day *dd = mycalloc(ndays + 1, sizeof(*dd));
    for (size_t i = 0; i < ndays; i++) {
        dd[i].day_end = spool_day_parse(days[i]) + 86400;
        if (strcmp(days[i], today) >= 0 || strcmp(days[i], oldest) < 0 ||
            delivery_each(ctx, days[i], tf_count, &dd[i]) < 0)
            dd[i].day_end = 0; /* not shown */
    }
    tf_head(out, "opentlsrpt_agent_reports",
            "Reports of a day by delivery status and by the method of their endpoint.");
    for (size_t i = 0; i < ndays; i++)
        for (int m = 0; dd[i].day_end && m < TF_NMETHODS; m++) {
            unsigned long any = 0;
            for (int s = 0; s < TF_NSTATUS; s++)
                any += dd[i].n[m][s];
            for (int s = 0; any && s < TF_NSTATUS; s++)
                vstring_sprintf_append(out,
                                       "opentlsrpt_agent_reports{day=\"%s\",method=\"%s\","
                                       "status=\"%s\"} %lu\n",
                                       days[i], tf_methods[m], tf_status[s], dd[i].n[m][s]);
        }
    tf_head(out, "opentlsrpt_agent_delivery_delay_avg_seconds",
            "Mean time from the end of a day to its reports' acceptance.");
    for (size_t i = 0; i < ndays; i++)
        for (int m = 0; dd[i].day_end && m < TF_NMETHODS; m++)
            if (dd[i].delivered[m])
                vstring_sprintf_append(
                    out,
                    "opentlsrpt_agent_delivery_delay_avg_seconds{day=\"%s\",method=\"%s\"} %.0f\n",
                    days[i], tf_methods[m], dd[i].delay_sum[m] / (double)dd[i].delivered[m]);
    tf_head(out, "opentlsrpt_agent_delivery_delay_max_seconds",
            "Longest time from the end of a day to one of its reports' acceptance.");
    for (size_t i = 0; i < ndays; i++)
        for (int m = 0; dd[i].day_end && m < TF_NMETHODS; m++)
            if (dd[i].delivered[m])
                vstring_sprintf_append(
                    out,
                    "opentlsrpt_agent_delivery_delay_max_seconds{day=\"%s\",method=\"%s\"} %.0f\n",
                    days[i], tf_methods[m], dd[i].delay_max[m]);
    for (size_t i = 0; i < ndays; i++)
        myfree(days[i]);
    myfree(days);
    myfree(dd);
}

/* Received reports of one day, per policy domain. */
typedef struct {
    uint64_t ok, failed;
    uint64_t results[TEXTFILE_RESULTS + 1];
} tf_domain;

typedef struct {
    const char *day;
    htable *domains;
    tf_domain other; /* past TEXTFILE_DOMAINS_MAX */
    int any_other;
    unsigned long reports;
} tf_received;

static int tf_visit(const inreport *r, const report_store_info *info, void *arg)
{
    tf_received *rc = arg;
    char day[SPOOL_DAY_LEN + 1], name[DOMAIN_MAX + 1];

    spool_day_of(r->start, day);
    if (strcmp(day, rc->day) != 0)
        return 0;
    rc->reports++;
    for (size_t i = 0; i < r->npolicies; i++) {
        const inreport_policy *p = &r->policies[i];
        const char *dom = p->domain ? p->domain : info->header_domain;
        /* Names from the network: only a valid domain name becomes a label value. */
        if (dom == NULL || domain_normalize(dom, strlen(dom), name, sizeof(name)) < 0)
            snprintf(name, sizeof(name), "invalid");
        htable_entry *he = htable_locate(rc->domains, name, strlen(name));
        tf_domain *t;
        if (he)
            t = he->value;
        else if (rc->domains->used < TEXTFILE_DOMAINS_MAX) {
            int created;
            he = htable_enter(rc->domains, name, strlen(name), &created);
            t = he->value = mycalloc(1, sizeof(*t));
        } else {
            t = &rc->other;
            rc->any_other = 1;
        }
        t->ok += p->ok;
        t->failed += p->failed;
        for (size_t f = 0; f < p->nfailures; f++) {
            int code = outcome_result_code(p->failures[f].result_type);
            int slot = code >= 200 && code < 200 + TEXTFILE_RESULTS ? code - 200 : TEXTFILE_RESULTS;
            t->results[slot] += p->failures[f].count;
        }
    }
    return 0;
}

/* The lines of one domain: its sessions by result (failures 0), or its failures by result
 * type (failures 1). */
static void tf_domain_lines(vstring *out, const char *name, const tf_domain *t, int failures)
{
    if (!failures) {
        vstring_sprintf_append(
            out,
            "opentlsrpt_received_sessions{domain=\"%s\",result=\"success\"} "
            "%llu\nopentlsrpt_received_sessions{domain=\"%s\",result=\"failure\"} "
            "%llu\n",
            name, (unsigned long long)t->ok, name, (unsigned long long)t->failed);
        return;
    }
    for (int i = 0; i <= TEXTFILE_RESULTS; i++) {
        const char *rt = i < TEXTFILE_RESULTS ? outcome_result_name(200 + i) : "other";
        if (rt && t->results[i])
            vstring_sprintf_append(
                out, "opentlsrpt_received_failures{domain=\"%s\",result_type=\"%s\"} %llu\n", name,
                rt, (unsigned long long)t->results[i]);
    }
}

/* What others reported about our domains for the last finished day. */
static void tf_received_day(agent_ctx *ctx, time_t now, vstring *out)
{
    char day[SPOOL_DAY_LEN + 1];
    tf_received rc;

    memset(&rc, 0, sizeof(rc));
    spool_day_of(now - 86400, day);
    rc.day = day;
    rc.domains = htable_create(TEXTFILE_DOMAINS_MAX);
    size_t max = (size_t)ctx->cfg->max_report_size;
    report_store *st = report_store_open(spool_dir(agent_spool(ctx)), max);
    if (st) {
        report_store_iterate(st, day, tf_visit, &rc);
        report_store_close(st);
    }
    tf_head(out, "opentlsrpt_received_day_timestamp_seconds",
            "Start of the day the opentlsrpt_received_* values are of (the last finished one).");
    vstring_sprintf_append(out, "opentlsrpt_received_day_timestamp_seconds %lld\n",
                           (long long)spool_day_parse(day));
    tf_head(out, "opentlsrpt_received_reports", "TLS-RPT reports received for that day.");
    vstring_sprintf_append(out, "opentlsrpt_received_reports %lu\n", rc.reports);
    htable_entry **sorted = htable_sorted(rc.domains);
    for (int failures = 0; failures < 2; failures++) {
        if (failures)
            tf_head(out, "opentlsrpt_received_failures",
                    "Failed sessions others reported to our domains for that day, by result type.");
        else
            tf_head(out, "opentlsrpt_received_sessions",
                    "Sessions others reported to our domains for that day, by result.");
        for (size_t i = 0; i < rc.domains->used; i++)
            tf_domain_lines(out, sorted[i]->key, sorted[i]->value, failures);
        if (rc.any_other)
            tf_domain_lines(out, "other", &rc.other, failures);
    }
    myfree(sorted);
    htable_free(rc.domains, myfree_value);
}

/* The last successful run's time, from the file the previous run wrote (0: none). */
static long long tf_last_success(const char *path)
{
    static const char key[] = "opentlsrpt_agent_last_success_timestamp_seconds ";
    char line[256];
    long long t = 0;
    FILE *fp = fopen(path, "re");

    if (fp == NULL)
        return 0;
    while (fgets(line, sizeof(line), fp))
        if (strncmp(line, key, sizeof(key) - 1) == 0)
            t = strtoll(line + sizeof(key) - 1, NULL, 10);
    fclose(fp);
    return t > 0 ? t : 0;
}

int textfile_write(agent_ctx *ctx, int ok, time_t now)
{
    const char *path = ctx->cfg->metrics_textfile;
    vstring *out = vstring_alloc(TEXTFILE_MAX);
    long long last_ok = ok ? (long long)now : tf_last_success(path);

    tf_head(out, "opentlsrpt_agent_last_run_timestamp_seconds",
            "When opentlsrpt-agent run last ran.");
    vstring_sprintf_append(out, "opentlsrpt_agent_last_run_timestamp_seconds %lld\n",
                           (long long)now);
    tf_head(out, "opentlsrpt_agent_last_run_success", "Whether that run succeeded (1) or not (0).");
    vstring_sprintf_append(out, "opentlsrpt_agent_last_run_success %d\n", ok ? 1 : 0);
    if (last_ok) {
        tf_head(out, "opentlsrpt_agent_last_success_timestamp_seconds",
                "When opentlsrpt-agent run last succeeded.");
        vstring_sprintf_append(out, "opentlsrpt_agent_last_success_timestamp_seconds %lld\n",
                               last_ok);
    }
    tf_delivery(ctx, now, out);
    tf_received_day(ctx, now, out);
    /* Readable by node_exporter, which runs as a user of its own. */
    int r = fsutil_write_atomic(path, out->data, out->len, 0644);
    if (r < 0)
        msg_error("cannot write metrics_textfile %s: %m", path);
    vstring_free(out);
    return r;
}
