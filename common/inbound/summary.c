#include "summary.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "htable.h"
#include "mymalloc.h"
#include "spool.h"

#define SUMMARY_MIN_SESSIONS 10  /* fewer sessions a day say nothing about a rate */
#define SUMMARY_DROP_POINTS  5.0 /* success rate drop (percentage points) worth an issue */

typedef struct sum_fail {
    const char *result_type;
    const char *mx; /* NULL when the reporter did not say */
    const char *ip;
    const char *reporter;
    const char *reason;
    uint64_t count;
} sum_fail;

typedef struct sum_counts {
    uint64_t ok;
    uint64_t failed;
} sum_counts;

typedef struct sum_day {
    const char *day;
    sum_counts total;
    htable *reporters;       /* name -> sum_counts */
    htable *failures;        /* key -> sum_fail */
    htable *types;           /* result-type -> sum_counts (failed only) */
    uint64_t testing_failed; /* failures under an STS policy in testing mode */
} sum_day;

typedef struct sum_domain {
    const char *name;
    htable *days; /* YYYY-MM-DD -> sum_day */
} sum_domain;

struct summary {
    arena mem;
    char since[SPOOL_DAY_LEN + 1];
    char compare_from[SPOOL_DAY_LEN + 1]; /* the day before since: kept for comparisons */
    const char *only_domain;
    htable *domains;
    htable *reporters; /* every reporter seen, for the header */
    size_t reports;
    summary_issue *issues;
    size_t nissues;
    int analysed;
    json_object *inbound; /* day -> inbound TLS counters (record_inbound_tls) */
};

static const struct {
    const char *type;
    const char *what;
    const char *fix;
} summary_explanations[] = {
    {"starttls-not-supported", "did not offer STARTTLS",
     "enable STARTTLS with a valid certificate on {mx} (Postfix: smtpd_tls_security_level = may)"},
    {"certificate-host-mismatch", "served a certificate that does not name the host",
     "install a certificate whose subjectAltName covers {mx}, and list only covered names in "
     "the MX records and the MTA-STS policy"},
    {"certificate-expired", "served an expired certificate",
     "renew the certificate on {mx} and reload the MTA (check that automatic renewal reloads it)"},
    {"certificate-not-trusted", "served a certificate the sender does not trust",
     "install a certificate from a public CA with its full intermediate chain on {mx}"},
    {"validation-failure", "failed TLS validation",
     "look at the failure reason code and the TLS log of {mx}"},
    {"tlsa-invalid", "presented a certificate that matches none of its DANE TLSA records",
     "publish TLSA records matching the key in use on {mx} (publish the next key's record "
     "before a rollover)"},
    {"dnssec-invalid", "has TLSA records whose DNSSEC validation failed",
     "fix the DNSSEC chain of the zone of {mx} (DS record at the parent, unexpired signatures)"},
    {"dane-required", "had no usable DNSSEC-signed TLSA records, which the sender requires",
     "publish DNSSEC-signed TLSA records for {mx}, or stop asking for DANE"},
    {"sts-policy-fetch-error", "could not fetch the MTA-STS policy",
     "make https://mta-sts.{domain}/.well-known/mta-sts.txt answer 200 with the policy "
     "(DNS name, web server and firewall)"},
    {"sts-policy-invalid", "could not parse the MTA-STS policy",
     "fix the policy file at https://mta-sts.{domain}/.well-known/mta-sts.txt (version: STSv1, "
     "mode, mx and max_age lines, served as text/plain)"},
    {"sts-webpki-invalid", "did not accept the HTTPS certificate of the MTA-STS policy host",
     "install a publicly trusted certificate for mta-sts.{domain}"},
};

#define NEXPLAIN (sizeof(summary_explanations) / sizeof(summary_explanations[0]))

const char *summary_explain(const char *result_type, const char **fix)
{
    for (size_t i = 0; i < NEXPLAIN; i++)
        if (strcmp(result_type, summary_explanations[i].type) == 0) {
            if (fix)
                *fix = summary_explanations[i].fix;
            return summary_explanations[i].what;
        }
    if (fix)
        *fix = "look up this failure type and the reason code in the report, and the TLS log "
               "of {mx}";
    return "failed TLS with a failure type this summary does not know";
}

summary *summary_new(const char *since, const char *domain)
{
    summary *s = mycalloc(1, sizeof(*s));

    arena_init(&s->mem, 65536);
    if (since) {
        snprintf(s->since, sizeof(s->since), "%s", since);
        time_t t = spool_day_parse(since);
        if (t >= 0)
            spool_day_of(t - 86400, s->compare_from);
    }
    s->only_domain = domain ? arena_strdup(&s->mem, domain) : NULL;
    s->domains = htable_create(16);
    s->reporters = htable_create(16);
    return s;
}

static void summary_free_day(void *v)
{
    sum_day *d = v;
    htable_free(d->reporters, NULL);
    htable_free(d->failures, NULL);
    htable_free(d->types, NULL);
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

static sum_day *summary_day(summary *s, const char *domain, const char *day)
{
    sum_domain *dom = summary_slot(s, s->domains, domain, sizeof(sum_domain));
    if (dom->name == NULL) {
        dom->name = arena_strdup(&s->mem, domain);
        dom->days = htable_create(8);
    }
    sum_day *d = summary_slot(s, dom->days, day, sizeof(sum_day));
    if (d->day == NULL) {
        d->day = arena_strdup(&s->mem, day);
        d->reporters = htable_create(4);
        d->failures = htable_create(8);
        d->types = htable_create(4);
    }
    return d;
}

static int summary_testing(const inreport_policy *p)
{
    if (strcmp(p->type, "sts") != 0)
        return 0;
    for (size_t i = 0; i < p->nstrings; i++) {
        const char *v = p->strings[i];
        if (strncmp(v, "mode", 4) != 0)
            continue;
        v += 4;
        v += strspn(v, " \t");
        if (*v == ':') {
            v++;
            v += strspn(v, " \t");
            return strncmp(v, "testing", 7) == 0;
        }
    }
    return 0;
}

static const char *summary_dup(summary *s, const char *v)
{
    return v ? arena_strdup(&s->mem, v) : NULL;
}

void summary_add(summary *s, const inreport *r, const char *fallback_domain)
{
    char day[SPOOL_DAY_LEN + 1];
    const char *reporter = r->organization ? r->organization : r->submitter;

    spool_day_of(r->start, day);
    if (s->compare_from[0] && strcmp(day, s->compare_from) < 0)
        return;
    s->reports++;
    for (size_t i = 0; i < r->npolicies; i++) {
        const inreport_policy *p = &r->policies[i];
        const char *domain = p->domain                             ? p->domain
                             : fallback_domain && *fallback_domain ? fallback_domain
                                                                   : "(no policy domain)";
        if (s->only_domain && strcmp(domain, s->only_domain) != 0)
            continue;
        int created;
        htable_enter(s->reporters, reporter, strlen(reporter), &created);
        sum_day *d = summary_day(s, domain, day);
        d->total.ok += p->ok;
        d->total.failed += p->failed;
        sum_counts *rc = summary_slot(s, d->reporters, reporter, sizeof(sum_counts));
        rc->ok += p->ok;
        rc->failed += p->failed;
        if (summary_testing(p))
            d->testing_failed += p->failed;
        for (size_t j = 0; j < p->nfailures; j++) {
            const inreport_failure *f = &p->failures[j];
            vstring *key = vstring_alloc(0);
            const char *parts[] = {f->result_type, f->mx_hostname, f->receiving_ip, reporter,
                                   f->reason_code};
            for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++) {
                vstring_append_str(key, parts[k] ? parts[k] : "");
                vstring_append_char(key, '\t');
            }
            sum_fail *sf = summary_slot(s, d->failures, key->data, sizeof(sum_fail));
            vstring_free(key);
            if (sf->result_type == NULL) {
                sf->result_type = summary_dup(s, f->result_type);
                sf->mx = summary_dup(s, f->mx_hostname);
                sf->ip = summary_dup(s, f->receiving_ip);
                sf->reporter = summary_dup(s, reporter);
                sf->reason = summary_dup(s, f->reason_code);
            }
            sf->count += f->count;
            sum_counts *tc = summary_slot(s, d->types, f->result_type, sizeof(sum_counts));
            tc->failed += f->count ? f->count : 1;
        }
    }
}

/* Days shown: from since on; the day before is only for comparisons. */
static int summary_shown(const summary *s, const char *day)
{
    return s->since[0] == 0 || strcmp(day, s->since) >= 0;
}

static int summary_domain_shown(const summary *s, const sum_domain *dom)
{
    int shown = 0;
    htable_entry **days = htable_sorted(dom->days);
    for (size_t j = 0; j < dom->days->used && !shown; j++)
        shown = summary_shown(s, days[j]->key);
    myfree(days);
    return shown;
}

static double summary_rate(const sum_counts *c)
{
    uint64_t total = c->ok + c->failed;
    return total ? 100.0 * (double)c->ok / (double)total : 100.0;
}

static void summary_prev_day(const char *day, char *out)
{
    time_t t = spool_day_parse(day);
    spool_day_of(t - 86400, out);
}

/* Replaces {mx} and {domain} in a template (never a printf format: the values come from
 * reports). */
static void summary_fill(vstring *out, const char *tpl, const char *mx, const char *domain)
{
    for (const char *p = tpl; *p; p++) {
        if (strncmp(p, "{mx}", 4) == 0) {
            vstring_append_str(out, mx ? mx : "the MX host");
            p += 3;
        } else if (strncmp(p, "{domain}", 8) == 0) {
            vstring_append_str(out, domain);
            p += 7;
        } else {
            vstring_append_char(out, *p);
        }
    }
}

static int summary_sts_type(const char *t)
{
    return strncmp(t, "sts-", 4) == 0;
}

/* "mx2.example.com (198.51.100.25) served an expired certificate to Google: 37 sessions
 * failed on 2026-11-20" into out; the fix into fix. */
static void summary_sentence(const sum_fail *f, const char *domain, const char *day, vstring *out,
                             vstring *fix)
{
    const char *tfix;
    const char *what = summary_explain(f->result_type, &tfix);

    if (summary_sts_type(f->result_type)) {
        /* Policy failures are the sender's view: "<reporter> could not fetch ... of <domain>". */
        vstring_append_str(out, f->reporter);
        vstring_append_char(out, ' ');
        vstring_append_str(out, what);
        vstring_append_str(out, " of ");
        vstring_append_str(out, domain);
    } else {
        vstring_append_str(out, f->mx ? f->mx : "an MX host (not named in the report)");
        if (f->ip) {
            vstring_append_str(out, " (");
            vstring_append_str(out, f->ip);
            vstring_append_str(out, ")");
        }
        vstring_append_char(out, ' ');
        vstring_append_str(out, what);
        vstring_append_str(out, " to ");
        vstring_append_str(out, f->reporter);
    }
    vstring_sprintf_append(out, ": %" PRIu64 " session%s failed on %s", f->count,
                           f->count == 1 ? "" : "s", day);
    if (f->reason) {
        vstring_append_str(out, " (reason: ");
        vstring_append_str(out, f->reason);
        vstring_append_str(out, ")");
    }
    summary_fill(fix, tfix, f->mx, domain);
}

static void summary_issue_add(summary *s, const char *kind, const char *domain, const char *day,
                              const char *detail, vstring *text)
{
    vstring *key = vstring_alloc(0);
    vstring_append_str(key, kind);
    vstring_append_char(key, '|');
    vstring_append_str(key, domain);
    vstring_append_char(key, '|');
    vstring_append_str(key, day);
    vstring_append_char(key, '|');
    vstring_append_str(key, detail);
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

/* htable_free's value callback for the per-host reporter sets. */
static void summary_free_set(void *v)
{
    htable_free(v, NULL);
}

static void summary_analyse_day(summary *s, sum_domain *dom, sum_day *d)
{
    char prev[SPOOL_DAY_LEN + 1];
    vstring *text = vstring_alloc(0);

    summary_prev_day(d->day, prev);
    htable_entry *pe = htable_locate(dom->days, prev, strlen(prev));
    sum_day *p = pe ? pe->value : NULL;
    htable_entry **types = htable_sorted(d->types);
    for (size_t i = 0; i < d->types->used; i++) {
        const char *t = types[i]->key;
        if (p && htable_locate(p->types, t, strlen(t)))
            continue;
        vstring_reset(text);
        vstring_append_str(text, "new failure type ");
        vstring_append_str(text, t);
        vstring_append_str(text, " for ");
        vstring_append_str(text, dom->name);
        vstring_append_str(text, " on ");
        vstring_append_str(text, d->day);
        vstring_append_str(text, p ? " (absent the day before)" : " (no report the day before)");
        if (!summary_sts_type(t)) {
            const char *fix;
            vstring_append_str(text, ": an MX host ");
            vstring_append_str(text, summary_explain(t, &fix));
        }
        summary_issue_add(s, "new-failure", dom->name, d->day, t, text);
    }
    myfree(types);
    if (p && p->total.ok + p->total.failed >= SUMMARY_MIN_SESSIONS &&
        d->total.ok + d->total.failed >= SUMMARY_MIN_SESSIONS &&
        summary_rate(&d->total) < summary_rate(&p->total) - SUMMARY_DROP_POINTS) {
        vstring_reset(text);
        vstring_sprintf_append(text, "success rate of %s dropped from %.1f%% on %s to %.1f%% on %s",
                               dom->name, summary_rate(&p->total), p->day, summary_rate(&d->total),
                               d->day);
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
        vstring_append_str(text, "senders could not use the MTA-STS policy of ");
        vstring_append_str(text, dom->name);
        vstring_sprintf_append(text, " on %s (%" PRIu64 " sessions, ", d->day, sts_bad);
        vstring_append_str(text, sts_type);
        vstring_append_str(text, "): ");
        const char *fix;
        summary_explain(sts_type, &fix);
        summary_fill(text, fix, NULL, dom->name);
        summary_issue_add(s, "sts-unusable", dom->name, d->day, "", text);
    }
    if (d->testing_failed) {
        vstring_reset(text);
        vstring_append_str(text, "MTA-STS policy of ");
        vstring_append_str(text, dom->name);
        vstring_sprintf_append(text,
                               " is in testing mode and %" PRIu64 " sessions failed on %s: with "
                               "mode enforce these messages would not have been delivered; fix "
                               "them before switching to enforce",
                               d->testing_failed, d->day);
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
        }
        myfree(doms);
    }
    *n = s->nissues;
    return s->issues;
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

static htable_entry **summary_fails_sorted(sum_day *d)
{
    htable_entry **f = htable_sorted(d->failures);
    if (d->failures->used > 1)
        qsort(f, d->failures->used, sizeof(*f), summary_fail_cmp);
    return f;
}

void summary_add_inbound(summary *s, const char *day, json_object *counters)
{
    if (counters == NULL)
        return;
    if (s->inbound == NULL)
        s->inbound = json_object_new_object();
    json_object_object_add(s->inbound, day, counters);
}

typedef struct sum_inbound {
    const char *domain;
    int64_t messages;
    int64_t tls;
} sum_inbound;

static int64_t summary_int(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* Most messages first: the domains that matter lead the list. */
static int summary_inbound_cmp(const void *a, const void *b)
{
    const sum_inbound *x = a, *y = b;
    if (x->messages != y->messages)
        return x->messages < y->messages ? 1 : -1;
    return strcmp(x->domain, y->domain);
}

#define SUMMARY_INBOUND_SHOWN 20 /* sender domains listed per day */

/* Calls row() for the day total (domain NULL) and the top sender domains of each day. */
static void summary_inbound_each(summary *s,
                                 void (*row)(vstring *out, const char *day, const char *domain,
                                             int64_t messages, int64_t tls, json_object *versions),
                                 vstring *out)
{
    if (s->inbound == NULL)
        return;
    json_object_object_foreach(s->inbound, day, counters)
    {
        json_object *domains, *versions = NULL;
        if (!json_object_object_get_ex(counters, "domains", &domains) ||
            !json_object_is_type(domains, json_type_object))
            continue;
        size_t n = (size_t)json_object_object_length(domains), i = 0;
        sum_inbound *list = mycalloc(n ? n : 1, sizeof(*list));
        int64_t total = 0, tls = 0;
        json_object *allv = json_object_new_object();
        json_object_object_foreach(domains, name, d)
        {
            list[i].domain = name;
            list[i].messages = summary_int(d, "messages");
            list[i].tls = summary_int(d, "tls");
            total += list[i].messages;
            tls += list[i].tls;
            if (json_object_object_get_ex(d, "versions", &versions) &&
                json_object_is_type(versions, json_type_object)) {
                json_object_object_foreach(versions, v, c)
                {
                    json_object *have;
                    int64_t prev =
                        json_object_object_get_ex(allv, v, &have) ? json_object_get_int64(have) : 0;
                    json_object_object_add(allv, v,
                                           json_object_new_int64(prev + json_object_get_int64(c)));
                }
            }
            i++;
        }
        qsort(list, n, sizeof(*list), summary_inbound_cmp);
        row(out, day, NULL, total, tls, allv);
        for (i = 0; i < n && i < SUMMARY_INBOUND_SHOWN; i++)
            row(out, day, list[i].domain, list[i].messages, list[i].tls, NULL);
        json_object_put(allv);
        myfree(list);
    }
}

static double summary_share(int64_t part, int64_t whole)
{
    return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
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
            vstring_append_str(out, v);
            vstring_sprintf_append(out, " %" PRId64, json_object_get_int64(c));
        }
        vstring_append_char(out, '\n');
        return;
    }
    vstring_append_str(out, "      ");
    vstring_append_str(out, domain);
    vstring_sprintf_append(out, ": %" PRId64 " of %" PRId64 " over TLS (%.1f%%)\n", tls, messages,
                           summary_share(tls, messages));
}

static void summary_esc(vstring *out, const char *s);

static void summary_inbound_html(vstring *out, const char *day, const char *domain,
                                 int64_t messages, int64_t tls, json_object *versions)
{
    (void)versions;
    vstring_append_str(out, domain ? "<tr><td class=\"l\">" : "<tr><th class=\"l\">");
    if (domain)
        summary_esc(out, domain);
    else
        vstring_sprintf_append(out, "%s (all senders)", day);
    vstring_sprintf_append(out, "%s<td>%" PRId64 "</td><td>%" PRId64 "</td><td>%.1f%%</td></tr>\n",
                           domain ? "</td>" : "</th>", messages, tls, summary_share(tls, messages));
}

static void summary_header(summary *s, vstring *out)
{
    vstring_sprintf_append(out, "%zu report%s from %zu reporter%s", s->reports,
                           s->reports == 1 ? "" : "s", s->reporters->used,
                           s->reporters->used == 1 ? "" : "s");
    if (s->since[0])
        vstring_sprintf_append(out, " since %s", s->since);
}

void summary_text(summary *s, vstring *out)
{
    size_t nis;
    const summary_issue *is = summary_issues(s, &nis);
    vstring *sent = vstring_alloc(0), *fix = vstring_alloc(0);

    vstring_append_str(out, "TLS-RPT summary: ");
    summary_header(s, out);
    vstring_append_str(out, "\n");
    htable_entry **doms = htable_sorted(s->domains);
    for (size_t i = 0; i < s->domains->used; i++) {
        sum_domain *dom = doms[i]->value;
        if (!summary_domain_shown(s, dom))
            continue;
        vstring_append_str(out, "\n");
        vstring_append_str(out, dom->name);
        vstring_append_str(out, "\n");
        htable_entry **days = htable_sorted(dom->days);
        for (size_t j = 0; j < dom->days->used; j++) {
            sum_day *d = days[j]->value;
            if (!summary_shown(s, d->day))
                continue;
            vstring_sprintf_append(
                out, "  %s  %" PRIu64 " sessions, %" PRIu64 " failed (%.1f%% successful)\n", d->day,
                d->total.ok + d->total.failed, d->total.failed, summary_rate(&d->total));
            htable_entry **reps = htable_sorted(d->reporters);
            for (size_t k = 0; k < d->reporters->used; k++) {
                sum_counts *c = reps[k]->value;
                vstring_append_str(out, "      ");
                vstring_append_str(out, reps[k]->key);
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
                vstring_append_str(out, sent->data);
                vstring_append_str(out, "\n      fix: ");
                vstring_append_str(out, fix->data);
                vstring_append_str(out, "\n");
            }
            myfree(fails);
        }
        myfree(days);
    }
    myfree(doms);
    if (s->inbound) {
        vstring_append_str(
            out, "\nInbound mail over TLS (record_inbound_tls), by envelope sender domain:\n");
        summary_inbound_each(s, summary_inbound_text, out);
    }
    vstring_append_str(out, nis ? "\nIssues:\n" : "\nNo issues found.\n");
    for (size_t i = 0; i < nis; i++) {
        vstring_append_str(out, "  ! ");
        vstring_append_str(out, is[i].text);
        vstring_append_str(out, "\n");
    }
    vstring_free(sent);
    vstring_free(fix);
}

json_object *summary_json(summary *s)
{
    size_t nis;
    const summary_issue *is = summary_issues(s, &nis);
    json_object *root = json_object_new_object(), *doms_j = json_object_new_array();
    vstring *sent = vstring_alloc(0), *fix = vstring_alloc(0);

    if (s->since[0])
        json_object_object_add(root, "since", json_object_new_string(s->since));
    json_object_object_add(root, "reports", json_object_new_int64((int64_t)s->reports));
    htable_entry **doms = htable_sorted(s->domains);
    for (size_t i = 0; i < s->domains->used; i++) {
        sum_domain *dom = doms[i]->value;
        if (!summary_domain_shown(s, dom))
            continue;
        json_object *dj = json_object_new_object(), *days_j = json_object_new_array();
        json_object_object_add(dj, "domain", json_object_new_string(dom->name));
        htable_entry **days = htable_sorted(dom->days);
        for (size_t j = 0; j < dom->days->used; j++) {
            sum_day *d = days[j]->value;
            if (!summary_shown(s, d->day))
                continue;
            json_object *dayj = json_object_new_object(), *reps_j = json_object_new_array(),
                        *fails_j = json_object_new_array();
            json_object_object_add(dayj, "day", json_object_new_string(d->day));
            json_object_object_add(dayj, "successful", json_object_new_int64((int64_t)d->total.ok));
            json_object_object_add(dayj, "failed", json_object_new_int64((int64_t)d->total.failed));
            json_object_object_add(dayj, "success-rate",
                                   json_object_new_double(summary_rate(&d->total)));
            htable_entry **reps = htable_sorted(d->reporters);
            for (size_t k = 0; k < d->reporters->used; k++) {
                sum_counts *c = reps[k]->value;
                json_object *rj = json_object_new_object();
                json_object_object_add(rj, "reporter", json_object_new_string(reps[k]->key));
                json_object_object_add(rj, "successful", json_object_new_int64((int64_t)c->ok));
                json_object_object_add(rj, "failed", json_object_new_int64((int64_t)c->failed));
                json_object_array_add(reps_j, rj);
            }
            myfree(reps);
            htable_entry **fails = summary_fails_sorted(d);
            for (size_t k = 0; k < d->failures->used; k++) {
                sum_fail *f = fails[k]->value;
                json_object *fj = json_object_new_object();
                vstring_reset(sent);
                vstring_reset(fix);
                summary_sentence(f, dom->name, d->day, sent, fix);
                json_object_object_add(fj, "result-type", json_object_new_string(f->result_type));
                if (f->mx)
                    json_object_object_add(fj, "receiving-mx-hostname",
                                           json_object_new_string(f->mx));
                if (f->ip)
                    json_object_object_add(fj, "receiving-ip", json_object_new_string(f->ip));
                json_object_object_add(fj, "reporter", json_object_new_string(f->reporter));
                json_object_object_add(fj, "failed-session-count",
                                       json_object_new_int64((int64_t)f->count));
                json_object_object_add(fj, "explanation", json_object_new_string(sent->data));
                json_object_object_add(fj, "fix", json_object_new_string(fix->data));
                json_object_array_add(fails_j, fj);
            }
            myfree(fails);
            json_object_object_add(dayj, "reporters", reps_j);
            json_object_object_add(dayj, "failures", fails_j);
            json_object_array_add(days_j, dayj);
        }
        myfree(days);
        json_object_object_add(dj, "days", days_j);
        json_object_array_add(doms_j, dj);
    }
    myfree(doms);
    json_object_object_add(root, "domains", doms_j);
    json_object *iss = json_object_new_array();
    for (size_t i = 0; i < nis; i++) {
        json_object *ij = json_object_new_object();
        json_object_object_add(ij, "day", json_object_new_string(is[i].day));
        json_object_object_add(ij, "domain", json_object_new_string(is[i].domain));
        json_object_object_add(ij, "kind", json_object_new_string(is[i].kind));
        json_object_object_add(ij, "text", json_object_new_string(is[i].text));
        json_object_array_add(iss, ij);
    }
    json_object_object_add(root, "issues", iss);
    if (s->inbound)
        json_object_object_add(root, "inbound-tls", json_object_get(s->inbound));
    vstring_free(sent);
    vstring_free(fix);
    return root;
}

static void summary_esc(vstring *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            vstring_append_str(out, "&amp;");
            break;
        case '<':
            vstring_append_str(out, "&lt;");
            break;
        case '>':
            vstring_append_str(out, "&gt;");
            break;
        case '"':
            vstring_append_str(out, "&quot;");
            break;
        case '\'':
            vstring_append_str(out, "&#39;");
            break;
        default:
            vstring_append_char(out, *s);
        }
    }
}

#define CHART_BAR    28
#define CHART_GAP    10
#define CHART_HEIGHT 160

/* Daily sessions of a domain as stacked bars: successful (green) under failed (red). */
static void summary_chart(summary *s, sum_domain *dom, vstring *out)
{
    htable_entry **days = htable_sorted(dom->days);
    size_t n = 0;
    uint64_t max = 1;

    for (size_t j = 0; j < dom->days->used; j++) {
        sum_day *d = days[j]->value;
        if (!summary_shown(s, d->day))
            continue;
        n++;
        if (d->total.ok + d->total.failed > max)
            max = d->total.ok + d->total.failed;
    }
    int width = 60 + (int)n * (CHART_BAR + CHART_GAP);
    if (width < 240)
        width = 240; /* room for the legend */
    vstring_sprintf_append(out,
                           "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                           "height=\"%d\" role=\"img\" aria-label=\"daily sessions of ",
                           width, CHART_HEIGHT + 50);
    summary_esc(out, dom->name);
    vstring_append_str(out, "\">\n");
    vstring_sprintf_append(out,
                           "<line x1=\"50\" y1=\"10\" x2=\"50\" y2=\"%d\" stroke=\"#555\"/>"
                           "<line x1=\"50\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#555\"/>\n"
                           "<text x=\"45\" y=\"18\" font-size=\"10\" text-anchor=\"end\">%" PRIu64
                           "</text><text x=\"45\" y=\"%d\" font-size=\"10\" "
                           "text-anchor=\"end\">0</text>\n",
                           CHART_HEIGHT + 10, CHART_HEIGHT + 10, width, CHART_HEIGHT + 10, max,
                           CHART_HEIGHT + 10);
    int x = 50 + CHART_GAP;
    for (size_t j = 0; j < dom->days->used; j++) {
        sum_day *d = days[j]->value;
        if (!summary_shown(s, d->day))
            continue;
        int hok = (int)((double)d->total.ok * CHART_HEIGHT / (double)max);
        int hfail = (int)((double)d->total.failed * CHART_HEIGHT / (double)max);
        if (d->total.failed && hfail < 2)
            hfail = 2; /* a failure is never invisible */
        int base = CHART_HEIGHT + 10;
        vstring_sprintf_append(out,
                               "<rect class=\"ok\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                               "fill=\"#2e8b57\"><title>%s: %" PRIu64
                               " successful</title></rect>\n",
                               x, base - hok, CHART_BAR, hok, d->day, d->total.ok);
        vstring_sprintf_append(
            out,
            "<rect class=\"failed\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
            "fill=\"#c0392b\"><title>%s: %" PRIu64 " failed</title></rect>\n",
            x, base - hok - hfail, CHART_BAR, hfail, d->day, d->total.failed);
        vstring_sprintf_append(out,
                               "<text x=\"%d\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\">%.5s"
                               "</text>\n",
                               x + CHART_BAR / 2, base + 14, d->day + 5);
        x += CHART_BAR + CHART_GAP;
    }
    vstring_sprintf_append(out,
                           "<rect x=\"60\" y=\"%d\" width=\"10\" height=\"10\" fill=\"#2e8b57\"/>"
                           "<text x=\"74\" y=\"%d\" font-size=\"10\">successful</text>"
                           "<rect x=\"140\" y=\"%d\" width=\"10\" height=\"10\" fill=\"#c0392b\"/>"
                           "<text x=\"154\" y=\"%d\" font-size=\"10\">failed</text>\n</svg>\n",
                           CHART_HEIGHT + 30, CHART_HEIGHT + 39, CHART_HEIGHT + 30,
                           CHART_HEIGHT + 39);
    myfree(days);
}

void summary_html(summary *s, vstring *out)
{
    size_t nis;
    const summary_issue *is = summary_issues(s, &nis);
    vstring *sent = vstring_alloc(0), *fix = vstring_alloc(0), *hdr = vstring_alloc(0);

    summary_header(s, hdr);
    vstring_append_str(out,
                       "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                       "<title>TLS-RPT summary</title>\n<style>\n"
                       "body{font-family:sans-serif;margin:2em;color:#222;max-width:70em}\n"
                       "table{border-collapse:collapse;margin:.5em 0}"
                       "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
                       "th{background:#eee}td.l{text-align:left}\n"
                       ".issue{background:#fff3cd;border-left:4px solid #e0a800;padding:.4em .8em;"
                       "margin:.3em 0}\n.fix{color:#555}\n</style></head><body>\n"
                       "<h1>TLS-RPT summary</h1>\n<p>");
    summary_esc(out, hdr->data);
    vstring_append_str(out, "</p>\n<h2>Issues</h2>\n");
    if (nis == 0)
        vstring_append_str(out, "<p>No issues found.</p>\n");
    for (size_t i = 0; i < nis; i++) {
        vstring_append_str(out, "<div class=\"issue\">");
        summary_esc(out, is[i].text);
        vstring_append_str(out, "</div>\n");
    }
    htable_entry **doms = htable_sorted(s->domains);
    for (size_t i = 0; i < s->domains->used; i++) {
        sum_domain *dom = doms[i]->value;
        if (!summary_domain_shown(s, dom))
            continue;
        vstring_append_str(out, "<h2>");
        summary_esc(out, dom->name);
        vstring_append_str(out, "</h2>\n");
        summary_chart(s, dom, out);
        vstring_append_str(out, "<table><tr><th>day</th><th>sessions</th><th>failed</th>"
                                "<th>success rate</th></tr>\n");
        htable_entry **days = htable_sorted(dom->days);
        for (size_t j = 0; j < dom->days->used; j++) {
            sum_day *d = days[j]->value;
            if (!summary_shown(s, d->day))
                continue;
            vstring_sprintf_append(out,
                                   "<tr><td class=\"l\">%s</td><td>%" PRIu64 "</td><td>%" PRIu64
                                   "</td><td>%.1f%%</td></tr>\n",
                                   d->day, d->total.ok + d->total.failed, d->total.failed,
                                   summary_rate(&d->total));
        }
        vstring_append_str(out, "</table>\n<ul>\n");
        for (size_t j = 0; j < dom->days->used; j++) {
            sum_day *d = days[j]->value;
            if (!summary_shown(s, d->day))
                continue;
            htable_entry **fails = summary_fails_sorted(d);
            for (size_t k = 0; k < d->failures->used; k++) {
                vstring_reset(sent);
                vstring_reset(fix);
                summary_sentence(fails[k]->value, dom->name, d->day, sent, fix);
                vstring_append_str(out, "<li>");
                summary_esc(out, sent->data);
                vstring_append_str(out, "<br><span class=\"fix\">Fix: ");
                summary_esc(out, fix->data);
                vstring_append_str(out, "</span></li>\n");
            }
            myfree(fails);
        }
        vstring_append_str(out, "</ul>\n");
        myfree(days);
    }
    myfree(doms);
    if (s->inbound) {
        vstring_append_str(out, "<h2>Inbound mail over TLS</h2>\n<table><tr><th>sender domain</th>"
                                "<th>messages</th><th>over TLS</th><th>share</th></tr>\n");
        summary_inbound_each(s, summary_inbound_html, out);
        vstring_append_str(out, "</table>\n");
    }
    vstring_append_str(out, "</body></html>\n");
    vstring_free(sent);
    vstring_free(fix);
    vstring_free(hdr);
}
