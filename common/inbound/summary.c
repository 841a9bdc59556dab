/* The summary's counts: received reports aggregated per policy domain, day, reporter,
 * policy and failure, plus the list of reports. Analysis and rendering are elsewhere. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain.h"
#include "mymalloc.h"
#include "summary_int.h"

summary *summary_new(const char *since, const char *domain)
{
    summary *s = mycalloc(1, sizeof(*s));

    arena_init(&s->mem, 65536);
    if (since) {
        snprintf(s->since, sizeof(s->since), "%s", since);
        time_t t = spool_day_parse(since);
        if (t >= 0)
            spool_day_of(t - SUMMARY_LOOKBACK_DAYS * 86400L, s->compare_from);
    }
    spool_day_of(time(NULL), s->today);
    s->only_domain = domain ? arena_strdup(&s->mem, domain) : NULL;
    s->domains = htable_create(16);
    s->reporters = htable_create(16);
    return s;
}

void summary_set_today(summary *s, const char *day)
{
    snprintf(s->today, sizeof(s->today), "%s", day);
}

const char *summary_first_day(const summary *s)
{
    return s->compare_from[0] ? s->compare_from : NULL;
}

static void summary_free_day(void *v)
{
    sum_day *d = v;
    htable_free(d->reporters, NULL);
    htable_free(d->failures, NULL);
    htable_free(d->types, NULL);
    htable_free(d->policies, NULL);
}

static void summary_free_domain(void *v)
{
    sum_domain *d = v;
    htable_free(d->days, summary_free_day);
}

summary *summary_free(summary *s)
{
    if (s == NULL)
        return NULL;
    htable_free(s->domains, summary_free_domain);
    htable_free(s->reporters, NULL);
    json_object_put(s->inbound);
    myfree(s->issues);
    myfree(s->rlist);
    myfree(s->notes);
    arena_destroy(&s->mem);
    myfree(s);
    return NULL;
}

static void *summary_slot(summary *s, htable *t, const char *key, size_t size)
{
    int created;
    htable_entry *e = htable_enter(t, key, strlen(key), &created);
    if (created) {
        e->value = arena_alloc(&s->mem, size);
        memset(e->value, 0, size);
    }
    return e->value;
}

static sum_domain *summary_domain(summary *s, const char *domain)
{
    sum_domain *dom = summary_slot(s, s->domains, domain, sizeof(sum_domain));
    if (dom->name == NULL) {
        char u[4 * DOMAIN_MAX + 1];
        dom->name = arena_strdup(&s->mem, domain);
        dom->days = htable_create(8);
        if (domain_to_unicode(domain, u, sizeof(u)) == 1)
            dom->unicode = arena_strdup(&s->mem, u);
    }
    return dom;
}

static sum_day *summary_day(summary *s, sum_domain *dom, const char *day)
{
    sum_day *d = summary_slot(s, dom->days, day, sizeof(sum_day));
    if (d->day == NULL) {
        d->day = arena_strdup(&s->mem, day);
        d->reporters = htable_create(4);
        d->failures = htable_create(8);
        d->types = htable_create(4);
        d->policies = htable_create(4);
    }
    return d;
}

/* The value of an STS policy-string line "key: value", or NULL. */
static const char *summary_sts_field(const inreport_policy *p, const char *key, size_t *len)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < p->nstrings; i++) {
        const char *v = p->strings[i];
        if (strncmp(v, key, kl) != 0)
            continue;
        v += kl;
        v += strspn(v, " \t");
        if (*v != ':')
            continue;
        v++;
        v += strspn(v, " \t");
        *len = strcspn(v, " \t\r\n;");
        return v;
    }
    return NULL;
}

static const char *summary_dup(summary *s, const char *v)
{
    return v ? arena_strdup(&s->mem, v) : NULL;
}

/* Counts one policy under its type, mode and mx patterns. */
static void summary_add_policy(summary *s, sum_day *d, const inreport_policy *p)
{
    vstring *key = vstring_alloc(0), *mx = vstring_alloc(0);
    size_t mlen = 0;
    const char *mode = strcmp(p->type, "sts") == 0 ? summary_sts_field(p, "mode", &mlen) : NULL;

    /* mx patterns: the policy's mx lines for sts (RFC 8460 4.4 mx-host), else mx-host. */
    for (size_t i = 0; i < p->nmx_hosts; i++) {
        if (i)
            vstring_append_str(mx, ", ");
        vstring_append_str(mx, p->mx_hosts[i]);
    }
    if (p->nmx_hosts == 0 && strcmp(p->type, "sts") == 0)
        for (size_t i = 0; i < p->nstrings; i++)
            if (strncmp(p->strings[i], "mx:", 3) == 0) {
                if (mx->len)
                    vstring_append_str(mx, ", ");
                const char *v = p->strings[i] + 3;
                vstring_append_str(mx, v + strspn(v, " \t"));
            }
    vstring_append_str(key, p->type);
    vstring_append_char(key, '|');
    if (mode)
        vstring_append(key, mode, mlen);
    vstring_append_char(key, '|');
    vstring_append_str(key, mx->data);
    sum_policy *sp = summary_slot(s, d->policies, key->data, sizeof(sum_policy));
    if (sp->type == NULL) {
        sp->type = summary_dup(s, p->type);
        sp->mode = mode ? arena_strndup(&s->mem, mode, mlen) : NULL;
        sp->mx = mx->len ? summary_dup(s, mx->data) : NULL;
    }
    sp->counts.ok += p->ok;
    sp->counts.failed += p->failed;
    if (mode && mlen == 7 && strncmp(mode, "testing", 7) == 0)
        d->testing_failed += p->failed;
    vstring_free(key);
    vstring_free(mx);
}

static void summary_add_failures(summary *s, sum_day *d, const inreport_policy *p,
                                 const char *reporter)
{
    for (size_t j = 0; j < p->nfailures; j++) {
        const inreport_failure *f = &p->failures[j];
        vstring *key = vstring_alloc(0);
        const char *parts[] = {f->result_type,  p->type,    f->mx_hostname,
                               f->receiving_ip, reporter,   f->reason_code,
                               f->sending_ip,   f->mx_helo, f->additional_info};
        for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++) {
            vstring_append_str(key, parts[k] ? parts[k] : "");
            vstring_append_char(key, '\t');
        }
        sum_fail *sf = summary_slot(s, d->failures, key->data, sizeof(sum_fail));
        vstring_free(key);
        if (sf->result_type == NULL) {
            sf->result_type = summary_dup(s, f->result_type);
            sf->policy_type = summary_dup(s, p->type);
            sf->mx = summary_dup(s, f->mx_hostname);
            sf->ip = summary_dup(s, f->receiving_ip);
            sf->sending_ip = summary_dup(s, f->sending_ip);
            sf->helo = summary_dup(s, f->mx_helo);
            sf->info = summary_dup(s, f->additional_info);
            sf->reporter = summary_dup(s, reporter);
            sf->reason = summary_dup(s, f->reason_code);
        }
        sf->count += f->count;
        sum_counts *tc = summary_slot(s, d->types, f->result_type, sizeof(sum_counts));
        tc->failed += f->count ? f->count : 1;
    }
}

static void summary_note(summary *s, const char *kind, const sum_domain *dom, const sum_day *d,
                         const char *reporter, const inreport *r, const inreport_policy *p,
                         uint64_t a, uint64_t b)
{
    s->notes = myrealloc(s->notes, (s->nnotes + 1) * sizeof(*s->notes));
    sum_note *n = &s->notes[s->nnotes++];
    n->kind = kind;
    n->domain = dom->name;
    n->day = d->day;
    n->reporter = summary_dup(s, reporter);
    n->report_id = summary_dup(s, r->report_id);
    n->policy_type = summary_dup(s, p->type);
    n->a = a;
    n->b = b;
}

static const char *summary_policy_domain(const inreport_policy *p, const char *fallback)
{
    return p->domain ? p->domain : fallback && *fallback ? fallback : "(no policy domain)";
}

void summary_add(summary *s, const inreport *r, const report_store_info *info)
{
    char day[SPOOL_DAY_LEN + 1];
    const char *reporter = r->organization ? r->organization : r->submitter;
    const char *fallback = info ? info->header_domain : NULL;

    spool_day_of(r->start, day);
    if (s->compare_from[0] && strcmp(day, s->compare_from) < 0)
        return;
    int shown = summary_shown(s, day), counted = 0;
    sum_report rep;
    memset(&rep, 0, sizeof(rep));
    vstring *domains = vstring_alloc(0);
    /* Several policies of one domain in one report (Microsoft: tlsa and sts) describe the
     * same sessions: the domain's sessions are those of its largest policy. */
    htable *best = htable_create(4); /* domain -> 1 + index of its largest policy */
    for (size_t i = 0; i < r->npolicies; i++) {
        const inreport_policy *p = &r->policies[i];
        const char *domain = summary_policy_domain(p, fallback);
        if (s->only_domain && strcmp(domain, s->only_domain) != 0)
            continue;
        int created;
        htable_entry *e = htable_enter(best, domain, strlen(domain), &created);
        const inreport_policy *b = created ? NULL : &r->policies[(uintptr_t)e->value - 1];
        if (b == NULL || p->ok + p->failed > b->ok + b->failed)
            e->value = (void *)(uintptr_t)(i + 1);
        sum_domain *dom = summary_domain(s, domain);
        sum_day *d = summary_day(s, dom, day);
        summary_add_policy(s, d, p);
        summary_add_failures(s, d, p, reporter);
        uint64_t detailed = 0;
        for (size_t j = 0; j < p->nfailures; j++)
            detailed += p->failures[j].count;
        if (p->failed && p->nfailures == 0)
            summary_note(s, "no-failure-details", dom, d, reporter, r, p, p->failed,
                         p->ok + p->failed);
        else if (p->nfailures && detailed != p->failed)
            summary_note(s, "totals-disagree", dom, d, reporter, r, p, p->failed, detailed);
    }
    htable_entry **doms = htable_sorted(best);
    for (size_t k = 0; k < best->used; k++) {
        const inreport_policy *b = &r->policies[(uintptr_t)doms[k]->value - 1];
        sum_day *d = summary_day(s, summary_domain(s, doms[k]->key), day);
        d->total.ok += b->ok;
        d->total.failed += b->failed;
        sum_counts *rc = summary_slot(s, d->reporters, reporter, sizeof(sum_counts));
        rc->ok += b->ok;
        rc->failed += b->failed;
        rep.counts.ok += b->ok;
        rep.counts.failed += b->failed;
        if (domains->len)
            vstring_append_str(domains, ", ");
        vstring_append_str(domains, doms[k]->key);
        counted = 1;
    }
    myfree(doms);
    htable_free(best, NULL);
    if (counted && shown) {
        int created;
        htable_enter(s->reporters, reporter, strlen(reporter), &created);
        s->reports++;
        rep.id = summary_dup(s, r->report_id);
        rep.reporter = summary_dup(s, reporter);
        rep.contact = summary_dup(s, r->contact);
        rep.dkim = summary_dup(s, info ? info->dkim : NULL);
        rep.first_day = summary_dup(s, day);
        rep.start = r->start;
        rep.end = r->end;
        rep.domains = summary_dup(s, domains->data);
        size_t rawlen = info && info->raw ? strlen(info->raw) : 0;
        if (rawlen && rawlen <= SUMMARY_RAW_MAX && s->raw_total + rawlen <= SUMMARY_RAW_TOTAL) {
            rep.raw = arena_strndup(&s->mem, info->raw, rawlen);
            s->raw_total += rawlen;
        }
        s->rlist = myrealloc(s->rlist, (s->nrlist + 1) * sizeof(*s->rlist));
        s->rlist[s->nrlist++] = rep;
    }
    vstring_free(domains);
}

int summary_shown(const summary *s, const char *day)
{
    return (s->since[0] == 0 || strcmp(day, s->since) >= 0) && strcmp(day, s->today) <= 0;
}

int summary_domain_shown(const summary *s, const sum_domain *dom)
{
    int shown = 0;
    htable_entry **days = htable_sorted(dom->days);
    for (size_t j = 0; j < dom->days->used && !shown; j++)
        shown = summary_shown(s, days[j]->key);
    myfree(days);
    return shown;
}

htable_entry **summary_days_sorted(const sum_domain *dom)
{
    return htable_sorted(dom->days);
}

htable *summary_reporters_shown(const summary *s, const sum_domain *dom)
{
    htable_entry **days = summary_days_sorted(dom);
    htable *names = htable_create(8);
    for (size_t j = 0; j < dom->days->used; j++) {
        sum_day *d = days[j]->value;
        if (!summary_shown(s, d->day))
            continue;
        htable_entry **reps = htable_sorted(d->reporters);
        for (size_t k = 0; k < d->reporters->used; k++) {
            int created;
            htable_enter(names, reps[k]->key, strlen(reps[k]->key), &created);
        }
        myfree(reps);
    }
    myfree(days);
    return names;
}

double summary_rate(const sum_counts *c)
{
    uint64_t total = c->ok + c->failed;
    return total ? 100.0 * (double)c->ok / (double)total : 100.0;
}

void summary_rate_text(const sum_counts *c, char *buf, size_t size)
{
    double r = summary_rate(c);

    if (c->failed == 0 || c->ok == 0) {
        snprintf(buf, size, "%s", c->failed == 0 ? "100%" : "0%");
        return;
    }
    /* As many decimals as it takes to stay off 100 and 0: 2 of 4,525 failed is 99.96%. */
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, size, "%.*f%%", prec, r);
        if (strncmp(buf, "100", 3) != 0 && strspn(buf, "0.%") != strlen(buf))
            return;
    }
}

/* Failures of a day, largest first. */
static int summary_fail_cmp(const void *a, const void *b)
{
    const sum_fail *x = (*(htable_entry *const *)a)->value;
    const sum_fail *y = (*(htable_entry *const *)b)->value;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp((*(htable_entry *const *)a)->key, (*(htable_entry *const *)b)->key);
}

htable_entry **summary_fails_sorted(sum_day *d)
{
    htable_entry **f = htable_sorted(d->failures);
    if (d->failures->used > 1)
        qsort(f, d->failures->used, sizeof(*f), summary_fail_cmp);
    return f;
}

void summary_domain_name(const sum_domain *dom, vstring *out)
{
    vstring_append_str(out, dom->name);
    if (dom->unicode) {
        vstring_append_str(out, " (");
        vstring_append_str(out, dom->unicode);
        vstring_append_str(out, ")");
    }
}

void summary_policy_text(const sum_policy *p, vstring *out)
{
    vstring_append_str(out, p->type);
    if (p->mode || p->mx) {
        vstring_append_str(out, " (");
        if (p->mode) {
            vstring_append_str(out, "mode ");
            vstring_append_str(out, p->mode);
        }
        if (p->mx) {
            vstring_append_str(out, p->mode ? ", mx " : "mx ");
            vstring_append_str(out, p->mx);
        }
        vstring_append_str(out, ")");
    }
}

void summary_add_inbound(summary *s, const char *day, json_object *counters)
{
    if (counters == NULL)
        return;
    if (s->inbound == NULL)
        s->inbound = json_object_new_object();
    json_object_object_add(s->inbound, day, counters);
}
