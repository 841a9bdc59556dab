/* The issues worth a human's attention, found in the summary's counts. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mymalloc.h"
#include "summary_int.h"

#define SUMMARY_MIN_SESSIONS 10  /* fewer sessions a day say nothing about a rate */
#define SUMMARY_DROP_POINTS  5.0 /* success rate drop (percentage points) worth an issue */
#define SUMMARY_DAILY_RUN    3   /* days in a row that make a reporter a daily one */
#define SUMMARY_GRACE_DAYS   2   /* a day's report arrives the next day: allow for that */

static void summary_prev_day(const char *day, char *out)
{
    time_t t = spool_day_parse(day);
    spool_day_of(t - 86400, out);
}

static void summary_issue_add(summary *s, const char *kind, const char *domain, const char *day,
                              const char *detail, vstring *text)
{
    vstring *key = vstring_alloc(0);
    vstring_sprintf_append(key, "%s|%s|%s|%s", kind, domain, day, detail);
    /* A key is one line of the alert state file. */
    for (size_t i = 0; i < key->len; i++)
        if (key->data[i] == '\n' || key->data[i] == '\r')
            key->data[i] = ' ';
    s->issues = myrealloc(s->issues, (s->nissues + 1) * sizeof(*s->issues));
    summary_issue *is = &s->issues[s->nissues++];
    is->key = arena_strdup(&s->mem, key->data);
    is->day = day;
    is->domain = domain;
    is->kind = kind;
    is->text = arena_strdup(&s->mem, text->data);
    vstring_free(key);
}

/* Whether the failures of day d include one of type t from reporter. */
static int summary_has_type(const sum_day *d, const char *reporter, const char *t)
{
    htable_entry **f = htable_sorted(d->failures);
    int found = 0;
    for (size_t i = 0; i < d->failures->used && !found; i++) {
        const sum_fail *x = f[i]->value;
        found = strcmp(x->reporter, reporter) == 0 && strcmp(x->result_type, t) == 0;
    }
    myfree(f);
    return found;
}

/* A failure type is new when the same reporter's previous report for the domain did not
 * have it: a silent day, or another reporter's report, says nothing about it. */
static void summary_new_failures(summary *s, sum_domain *dom, sum_day *d)
{
    htable_entry **days = htable_sorted(dom->days);
    htable_entry **fails = htable_sorted(d->failures);
    htable *done = htable_create(8);
    vstring *text = vstring_alloc(0), *key = vstring_alloc(0);
    for (size_t i = 0; i < d->failures->used; i++) {
        const sum_fail *f = fails[i]->value;
        vstring_reset(key);
        vstring_sprintf_append(key, "%s|%s", f->result_type, f->reporter);
        int created;
        htable_enter(done, key->data, key->len, &created);
        if (!created)
            continue;
        const sum_day *prev = NULL;
        for (size_t j = dom->days->used; j-- > 0 && prev == NULL;) {
            const sum_day *p = days[j]->value;
            if (strcmp(p->day, d->day) < 0 &&
                htable_locate(p->reporters, f->reporter, strlen(f->reporter)))
                prev = p;
        }
        if (prev && summary_has_type(prev, f->reporter, f->result_type))
            continue;
        vstring_reset(text);
        vstring_sprintf_append(text, "new failure type %s for %s on %s (%s %s%s%s%s)",
                               f->result_type, dom->name, d->day,
                               prev ? "not in the previous report of" : "no earlier report of",
                               f->reporter, prev ? ", for " : "", prev ? prev->day : "",
                               s->compare_from[0] && !prev ? " in the 31 days before" : "");
        if (!summary_sts_type(f->result_type)) {
            const char *fix;
            vstring_sprintf_append(text, ": an MX host %s", summary_explain(f->result_type, &fix));
        }
        summary_issue_add(s, "new-failure", dom->name, d->day, key->data, text);
    }
    vstring_free(text);
    vstring_free(key);
    htable_free(done, NULL);
    myfree(fails);
    myfree(days);
}

/* A reporter that sent a report every day and then stopped: its reports no longer reach
 * the rua address, or it no longer sees the policy. */
static void summary_silent(summary *s, sum_domain *dom)
{
    htable_entry **days = htable_sorted(dom->days);
    htable *last = htable_create(8); /* reporter -> index of its last day */
    for (size_t j = 0; j < dom->days->used; j++) {
        const sum_day *d = days[j]->value;
        htable_entry **reps = htable_sorted(d->reporters);
        for (size_t k = 0; k < d->reporters->used; k++) {
            int created;
            htable_entry *e = htable_enter(last, reps[k]->key, strlen(reps[k]->key), &created);
            e->value = (void *)(uintptr_t)(j + 1);
        }
        myfree(reps);
    }
    char due[SPOOL_DAY_LEN + 1];
    spool_day_of(spool_day_parse(s->today) - SUMMARY_GRACE_DAYS * 86400L, due);
    htable_entry **reps = htable_sorted(last);
    vstring *text = vstring_alloc(0);
    for (size_t k = 0; k < last->used; k++) {
        size_t j = (size_t)(uintptr_t)reps[k]->value - 1;
        const sum_day *d = days[j]->value;
        if (strcmp(d->day, due) >= 0 || j + 1 < SUMMARY_DAILY_RUN)
            continue;
        /* Daily: a report on each of the SUMMARY_DAILY_RUN days up to the last one. */
        int daily = 1;
        char want[SPOOL_DAY_LEN + 1];
        snprintf(want, sizeof(want), "%s", d->day);
        for (size_t r = 0; r < SUMMARY_DAILY_RUN && daily; r++) {
            const sum_day *p = j >= r ? days[j - r]->value : NULL;
            daily = p && strcmp(p->day, want) == 0 &&
                    htable_locate(p->reporters, reps[k]->key, strlen(reps[k]->key));
            summary_prev_day(want, want);
        }
        if (!daily)
            continue;
        vstring_reset(text);
        vstring_sprintf_append(text,
                               "%s sent a report for %s every day until %s and none since: check "
                               "that the rua address of _smtp._tls.%s still accepts its mail, and "
                               "that the record is still there",
                               reps[k]->key, dom->name, d->day, dom->name);
        summary_issue_add(s, "reporter-silent", dom->name, d->day, reps[k]->key, text);
    }
    vstring_free(text);
    myfree(reps);
    htable_free(last, NULL);
    myfree(days);
}

/* Oddities of single reports: failures without details, totals that disagree. */
static void summary_notes(summary *s)
{
    vstring *text = vstring_alloc(0), *detail = vstring_alloc(0);
    for (size_t i = 0; i < s->nnotes; i++) {
        const sum_note *n = &s->notes[i];
        if (!summary_shown(s, n->day))
            continue;
        vstring_reset(text);
        vstring_append_str(text, n->reporter);
        if (strcmp(n->kind, "no-failure-details") == 0)
            vstring_sprintf_append(text,
                                   " reported %" PRIu64 " failed session%s of %" PRIu64 " for ",
                                   n->a, n->a == 1 ? "" : "s", n->b);
        else
            vstring_sprintf_append(text,
                                   " reported %" PRIu64
                                   " failed session%s in the summary but %" PRIu64
                                   " in the failure details for ",
                                   n->a, n->a == 1 ? "" : "s", n->b);
        vstring_sprintf_append(text, "%s on %s (%s policy, report %s", n->domain, n->day,
                               n->policy_type, n->report_id);
        vstring_append_str(text, strcmp(n->kind, "no-failure-details") == 0
                                     ? ") without failure details: ask the reporter (its "
                                       "contact-info) what failed, and check the TLS logs of "
                                       "the MX hosts"
                                     : "): both numbers are kept; the details may be "
                                       "incomplete");
        vstring_reset(detail);
        vstring_sprintf_append(detail, "%s|%s|%s", n->reporter, n->report_id, n->policy_type);
        summary_issue_add(s, n->kind, n->domain, n->day, arena_strdup(&s->mem, detail->data), text);
    }
    vstring_free(text);
    vstring_free(detail);
}

/* htable_free's value callback for the per-host reporter sets. */
static void summary_free_set(void *v)
{
    htable_free(v, NULL);
}

static void summary_analyse_day(summary *s, sum_domain *dom, sum_day *d)
{
    char prev[SPOOL_DAY_LEN + 1];

    summary_prev_day(d->day, prev);
    htable_entry *pe = htable_locate(dom->days, prev, strlen(prev));
    sum_day *p = pe ? pe->value : NULL;
    summary_new_failures(s, dom, d);
    vstring *text = vstring_alloc(0);
    if (p && p->total.ok + p->total.failed >= SUMMARY_MIN_SESSIONS &&
        d->total.ok + d->total.failed >= SUMMARY_MIN_SESSIONS &&
        summary_rate(&d->total) < summary_rate(&p->total) - SUMMARY_DROP_POINTS) {
        vstring_reset(text);
        char was[32], now[32];
        summary_rate_text(&p->total, was, sizeof(was));
        summary_rate_text(&d->total, now, sizeof(now));
        vstring_sprintf_append(text, "success rate of %s dropped from %s on %s to %s on %s",
                               dom->name, was, p->day, now, d->day);
        summary_issue_add(s, "rate-drop", dom->name, d->day, "", text);
    }
    /* An MX that several reporters fail on is broken, not a sender's quirk. */
    htable *mx = htable_create(8);
    htable_entry **fails = htable_sorted(d->failures);
    for (size_t i = 0; i < d->failures->used; i++) {
        sum_fail *f = fails[i]->value;
        const char *host = f->mx ? f->mx : f->ip;
        if (host == NULL || summary_sts_type(f->result_type) || f->count == 0)
            continue;
        int created;
        htable_entry *e = htable_enter(mx, host, strlen(host), &created);
        if (created)
            e->value = htable_create(4);
        htable_enter(e->value, f->reporter, strlen(f->reporter), &created);
    }
    htable_entry **hosts = htable_sorted(mx);
    for (size_t i = 0; i < mx->used; i++) {
        htable *reps = hosts[i]->value;
        if (reps->used < 2)
            continue;
        vstring_reset(text);
        vstring_append_str(text, hosts[i]->key);
        vstring_sprintf_append(text, " failed TLS for %zu different reporters on %s (", reps->used,
                               d->day);
        htable_entry **names = htable_sorted(reps);
        for (size_t j = 0; j < reps->used; j++) {
            if (j)
                vstring_append_str(text, ", ");
            vstring_append_str(text, names[j]->key);
        }
        myfree(names);
        vstring_append_str(text, "): the problem is on that host");
        summary_issue_add(s, "mx-several-reporters", dom->name, d->day,
                          arena_strdup(&s->mem, hosts[i]->key), text);
    }
    myfree(hosts);
    htable_free(mx, summary_free_set);
    /* STS policy that senders cannot fetch or use. */
    uint64_t sts_bad = 0;
    const char *sts_type = NULL;
    for (size_t i = 0; i < d->failures->used; i++) {
        sum_fail *f = fails[i]->value;
        if (summary_sts_type(f->result_type)) {
            sts_bad += f->count;
            sts_type = f->result_type;
        }
    }
    myfree(fails);
    if (sts_type) {
        vstring_reset(text);
        vstring_sprintf_append(text,
                               "senders could not use the MTA-STS policy of %s on %s (%" PRIu64
                               " session%s, %s): ",
                               dom->name, d->day, sts_bad, sts_bad == 1 ? "" : "s", sts_type);
        const char *fix;
        summary_explain(sts_type, &fix);
        summary_fill(text, fix, NULL, dom->name);
        summary_issue_add(s, "sts-unusable", dom->name, d->day, "", text);
    }
    if (d->testing_failed) {
        vstring_reset(text);
        vstring_sprintf_append(
            text,
            "MTA-STS policy of %s is in testing mode and %" PRIu64 " session%s failed on %s: with "
            "mode enforce these messages would not have been delivered; fix "
            "them before switching to enforce",
            dom->name, d->testing_failed, d->testing_failed == 1 ? "" : "s", d->day);
        summary_issue_add(s, "testing-would-bounce", dom->name, d->day, "", text);
    }
    vstring_free(text);
}

const summary_issue *summary_issues(summary *s, size_t *n)
{
    if (!s->analysed) {
        s->analysed = 1;
        htable_entry **doms = htable_sorted(s->domains);
        for (size_t i = 0; i < s->domains->used; i++) {
            sum_domain *dom = doms[i]->value;
            htable_entry **days = htable_sorted(dom->days);
            for (size_t j = 0; j < dom->days->used; j++)
                if (summary_shown(s, days[j]->key))
                    summary_analyse_day(s, dom, days[j]->value);
            myfree(days);
            summary_silent(s, dom);
        }
        myfree(doms);
        summary_notes(s);
    }
    *n = s->nissues;
    return s->issues;
}
