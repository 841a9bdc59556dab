/* The summary as one JSON document, for scripts. */
#include <inttypes.h>
#include <string.h>

#include "mymalloc.h"
#include "summary_int.h"

static void summary_json_opt(json_object *o, const char *key, const char *v)
{
    if (v)
        json_object_object_add(o, key, json_object_new_string(v));
}

static json_object *summary_json_policies(sum_day *d)
{
    json_object *arr = json_object_new_array();
    htable_entry **pols = htable_sorted(d->policies);
    for (size_t k = 0; k < d->policies->used; k++) {
        sum_policy *p = pols[k]->value;
        json_object *pj = json_object_new_object();
        json_object_object_add(pj, "policy-type", json_object_new_string(p->type));
        summary_json_opt(pj, "mode", p->mode);
        summary_json_opt(pj, "mx", p->mx);
        json_object_object_add(pj, "successful", json_object_new_int64((int64_t)p->counts.ok));
        json_object_object_add(pj, "failed", json_object_new_int64((int64_t)p->counts.failed));
        json_object_array_add(arr, pj);
    }
    myfree(pols);
    return arr;
}

static json_object *summary_json_time(time_t t)
{
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_object_new_string(buf);
}

static json_object *summary_json_reports(summary *s)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < s->nrlist; i++) {
        const sum_report *r = &s->rlist[i];
        json_object *rj = json_object_new_object();
        json_object_object_add(rj, "report-id", json_object_new_string(r->id));
        json_object_object_add(rj, "reporter", json_object_new_string(r->reporter));
        summary_json_opt(rj, "contact-info", r->contact);
        summary_json_opt(rj, "dkim", r->dkim);
        json_object_object_add(rj, "start-datetime", summary_json_time(r->start));
        json_object_object_add(rj, "end-datetime", summary_json_time(r->end));
        json_object_object_add(rj, "domains", json_object_new_string(r->domains));
        json_object_object_add(rj, "successful", json_object_new_int64((int64_t)r->counts.ok));
        json_object_object_add(rj, "failed", json_object_new_int64((int64_t)r->counts.failed));
        json_object_array_add(arr, rj);
    }
    return arr;
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
        summary_json_opt(dj, "domain-unicode", dom->unicode);
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
            char rate[32];
            summary_rate_text(&d->total, rate, sizeof(rate));
            json_object_object_add(dayj, "success-rate-text", json_object_new_string(rate));
            json_object_object_add(dayj, "policies", summary_json_policies(d));
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
                json_object_object_add(fj, "policy-type", json_object_new_string(f->policy_type));
                summary_json_opt(fj, "sending-mta-ip", f->sending_ip);
                summary_json_opt(fj, "receiving-mx-helo", f->helo);
                summary_json_opt(fj, "additional-information", f->info);
                summary_json_opt(fj, "failure-reason-code", f->reason);
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
    json_object_object_add(root, "report-list", summary_json_reports(s));
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
