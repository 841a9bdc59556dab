/* The summary as plain text, for a terminal or a daily mail. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mymalloc.h"
#include "summary_int.h"
#include "utf8.h"

void summary_text_esc(vstring *out, const char *s)
{
    /* Report strings are cleaned when parsed; what reaches a terminal must be safe even
     * when one is not. */
    utf8_escape_controls(out, s);
}

static const char *summary_s(uint64_t n)
{
    return n == 1 ? "" : "s";
}

void summary_header(summary *s, vstring *out)
{
    vstring_sprintf_append(out, "%zu report%s from %zu reporter%s", s->reports,
                           s->reports == 1 ? "" : "s", s->reporters->used,
                           s->reporters->used == 1 ? "" : "s");
    if (s->since[0])
        vstring_sprintf_append(out, " since %s", s->since);
    if (s->only_domain) {
        vstring_append_str(out, " for ");
        vstring_append_str(out, s->only_domain);
    }
}

/* "2026-11-20" or "2026-11-20 to 2026-11-26" for a report's date range. */
void summary_range(const sum_report *r, char *buf, size_t size)
{
    char a[SPOOL_DAY_LEN + 1], b[SPOOL_DAY_LEN + 1];
    spool_day_of(r->start, a);
    spool_day_of(r->end, b);
    if (strcmp(a, b) == 0)
        snprintf(buf, size, "%s", a);
    else
        snprintf(buf, size, "%s to %s", a, b);
}

static void summary_text_day(sum_domain *dom, sum_day *d, vstring *out)
{
    vstring *sent = vstring_alloc(0), *fix = vstring_alloc(0), *t = vstring_alloc(0);
    char rate[32];
    uint64_t total = d->total.ok + d->total.failed;

    summary_rate_text(&d->total, rate, sizeof(rate));
    vstring_sprintf_append(out, "  %s  %" PRIu64 " session%s, %" PRIu64 " failed (%s successful)\n",
                           d->day, total, summary_s(total), d->total.failed, rate);
    htable_entry **pols = htable_sorted(d->policies);
    for (size_t k = 0; k < d->policies->used; k++) {
        sum_policy *p = pols[k]->value;
        vstring_reset(t);
        summary_policy_text(p, t);
        vstring_append_str(out, "      policy ");
        summary_text_esc(out, t->data);
        vstring_sprintf_append(out, ": %" PRIu64 " session%s, %" PRIu64 " failed\n",
                               p->counts.ok + p->counts.failed,
                               summary_s(p->counts.ok + p->counts.failed), p->counts.failed);
    }
    myfree(pols);
    htable_entry **reps = htable_sorted(d->reporters);
    for (size_t k = 0; k < d->reporters->used; k++) {
        sum_counts *c = reps[k]->value;
        vstring_append_str(out, "      ");
        summary_text_esc(out, reps[k]->key);
        vstring_sprintf_append(out, ": %" PRIu64 " successful, %" PRIu64 " failed\n", c->ok,
                               c->failed);
    }
    myfree(reps);
    htable_entry **fails = summary_fails_sorted(d);
    for (size_t k = 0; k < d->failures->used; k++) {
        vstring_reset(sent);
        vstring_reset(fix);
        summary_sentence(fails[k]->value, dom->name, d->day, sent, fix);
        vstring_append_str(out, "    - ");
        summary_text_esc(out, sent->data);
        vstring_append_str(out, "\n      fix: ");
        summary_text_esc(out, fix->data);
        vstring_append_str(out, "\n");
    }
    myfree(fails);
    vstring_free(sent);
    vstring_free(fix);
    vstring_free(t);
}

/* Each reporter's success rate day by day: a change of one reporter stands out. */
static void summary_text_trend(summary *s, sum_domain *dom, vstring *out)
{
    htable *names = summary_reporters_shown(s, dom);
    htable_entry **days = summary_days_sorted(dom);
    htable_entry **reps = htable_sorted(names);
    if (names->used)
        vstring_append_str(out, "  trend by reporter (success rate per day):\n");
    for (size_t k = 0; k < names->used; k++) {
        vstring_append_str(out, "      ");
        summary_text_esc(out, reps[k]->key);
        vstring_append_char(out, ':');
        for (size_t j = 0; j < dom->days->used; j++) {
            sum_day *d = days[j]->value;
            if (!summary_shown(s, d->day))
                continue;
            htable_entry *e = htable_locate(d->reporters, reps[k]->key, strlen(reps[k]->key));
            char rate[32];
            if (e == NULL)
                continue; /* a gap shows as a missing day */
            summary_rate_text(e->value, rate, sizeof(rate));
            vstring_sprintf_append(out, " %s %s", d->day, rate);
        }
        vstring_append_char(out, '\n');
    }
    myfree(reps);
    myfree(days);
    htable_free(names, NULL);
}

static void summary_inbound_text(vstring *out, const char *day, const char *domain,
                                 int64_t messages, int64_t tls, json_object *versions)
{
    if (domain == NULL) {
        vstring_sprintf_append(out, "  %s  %" PRId64 " messages, %" PRId64 " over TLS (%.1f%%)",
                               day, messages, tls, summary_share(tls, messages));
        json_object_object_foreach(versions, v, c)
        {
            vstring_append_str(out, ", ");
            summary_text_esc(out, v);
            vstring_sprintf_append(out, " %" PRId64, json_object_get_int64(c));
        }
        vstring_append_char(out, '\n');
        return;
    }
    vstring_append_str(out, "      ");
    summary_text_esc(out, domain);
    vstring_sprintf_append(out, ": %" PRId64 " of %" PRId64 " over TLS (%.1f%%)\n", tls, messages,
                           summary_share(tls, messages));
}

void summary_text(summary *s, vstring *out)
{
    size_t nis;
    const summary_issue *is = summary_issues(s, &nis);
    vstring *t = vstring_alloc(0);

    vstring_append_str(out, "TLS-RPT summary: ");
    vstring_reset(t);
    summary_header(s, t);
    summary_text_esc(out, t->data);
    vstring_append_str(out, "\n");
    htable_entry **doms = htable_sorted(s->domains);
    for (size_t i = 0; i < s->domains->used; i++) {
        sum_domain *dom = doms[i]->value;
        if (!summary_domain_shown(s, dom))
            continue;
        vstring_append_str(out, "\n");
        vstring_reset(t);
        summary_domain_name(dom, t);
        summary_text_esc(out, t->data);
        vstring_append_str(out, "\n");
        htable_entry **days = summary_days_sorted(dom);
        for (size_t j = 0; j < dom->days->used; j++)
            if (summary_shown(s, days[j]->key))
                summary_text_day(dom, days[j]->value, out);
        myfree(days);
        summary_text_trend(s, dom, out);
    }
    myfree(doms);
    if (s->nrlist)
        vstring_append_str(out, "\nReports (opentlsrpt-agent summary --report ID shows one):\n");
    for (size_t i = 0; i < s->nrlist; i++) {
        const sum_report *r = &s->rlist[i];
        char range[64];
        summary_range(r, range, sizeof(range));
        vstring_sprintf_append(out, "  %s  ", range);
        summary_text_esc(out, r->reporter);
        vstring_append_str(out, ", id ");
        summary_text_esc(out, r->id);
        vstring_sprintf_append(out, ": %" PRIu64 " session%s, %" PRIu64 " failed, ",
                               r->counts.ok + r->counts.failed,
                               summary_s(r->counts.ok + r->counts.failed), r->counts.failed);
        summary_text_esc(out, r->domains);
        vstring_append_str(out, "; contact ");
        summary_text_esc(out, r->contact ? r->contact : "(none)");
        vstring_append_str(out, "; dkim ");
        summary_text_esc(out, r->dkim ? r->dkim : "(unknown)");
        vstring_append_char(out, '\n');
    }
    if (s->inbound) {
        vstring_append_str(
            out, "\nInbound mail over TLS (record_inbound_tls), by envelope sender domain:\n");
        summary_inbound_each(s, summary_inbound_text, out);
    }
    vstring_append_str(out, nis ? "\nIssues:\n" : "\nNo issues found.\n");
    for (size_t i = 0; i < nis; i++) {
        vstring_append_str(out, "  ! ");
        summary_text_esc(out, is[i].text);
        vstring_append_str(out, "\n");
    }
    vstring_free(t);
}
