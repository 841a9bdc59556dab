#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "htable.h"
#include "msg.h"
#include "mymalloc.h"
#include "spool.h"
#include "vstring.h"

/* Separators inside aggregation keys: bytes that decoded strings never contain unescaped. */
#define SEP    '\x1f'
#define SUBSEP '\x1e'

typedef struct rpt_policy {
    uint64_t ok;
    uint64_t failed;
    htable *details; /* detail key -> (uintptr_t) count */
} rpt_policy;

typedef struct rpt_domain {
    htable *policies; /* policy key -> rpt_policy */
} rpt_domain;

struct report_set {
    char day[SPOOL_DAY_LEN + 1];
    htable *domains; /* report domain -> rpt_domain */
    const char **sorted;
    vstring *key;
};

report_set *report_set_new(const char *day)
{
    report_set *rs = mycalloc(1, sizeof(*rs));

    snprintf(rs->day, sizeof(rs->day), "%s", day);
    rs->domains = htable_create(1024);
    rs->key = vstring_alloc(0);
    return rs;
}

static void rpt_policy_free(void *p)
{
    rpt_policy *rp = p;

    htable_free(rp->details, NULL);
    myfree(rp);
}

static void rpt_domain_free(void *p)
{
    rpt_domain *rd = p;

    htable_free(rd->policies, rpt_policy_free);
    myfree(rd);
}

report_set *report_set_free(report_set *rs)
{
    if (rs) {
        htable_free(rs->domains, rpt_domain_free);
        myfree(rs->sorted);
        vstring_free(rs->key);
        myfree(rs);
    }
    return NULL;
}

static void key_str(vstring *k, const char *s)
{
    if (s)
        vstring_append_str(k, s);
    vstring_append_char(k, SEP);
}

static void rpt_add_policy(report_set *rs, rpt_domain *rd, const char *report_domain,
                           const outcome_policy *p)
{
    vstring *k = rs->key;
    int created;

    vstring_reset(k);
    vstring_sprintf_append(k, "%d%c", p->type, SEP);
    /* Reports require a policy-domain: the report domain stands in when it is absent. */
    key_str(k, p->domain ? p->domain : report_domain);
    for (size_t i = 0; i < p->nstrings; i++) {
        vstring_append_str(k, p->strings[i]);
        vstring_append_char(k, SUBSEP);
    }
    vstring_append_char(k, SEP);
    for (size_t i = 0; i < p->nmx_hosts; i++) {
        vstring_append_str(k, p->mx_hosts[i]);
        vstring_append_char(k, SUBSEP);
    }
    htable_entry *e = htable_enter(rd->policies, k->data, k->len, &created);
    if (created) {
        rpt_policy *rp = mycalloc(1, sizeof(*rp));
        rp->details = htable_create(4);
        e->value = rp;
    }
    rpt_policy *rp = e->value;
    if (!p->failed) {
        rp->ok++;
        return;
    }
    rp->failed++;
    for (size_t i = 0; i < p->nfailures; i++) {
        const outcome_failure *f = &p->failures[i];
        vstring_reset(k);
        vstring_sprintf_append(k, "%d%c", f->result, SEP);
        key_str(k, f->sending_ip);
        key_str(k, f->mx_hostname);
        key_str(k, f->mx_helo);
        key_str(k, f->receiving_ip);
        key_str(k, f->additional_info);
        key_str(k, f->reason_code);
        htable_entry *de = htable_enter(rp->details, k->data, k->len, NULL);
        de->value = (void *)((uintptr_t)de->value + 1);
    }
}

void report_set_add_to(report_set *rs, const char *report_domain, const outcome *o)
{
    int created;
    htable_entry *e = htable_enter(rs->domains, report_domain, strlen(report_domain), &created);

    if (created) {
        rpt_domain *rd = mycalloc(1, sizeof(*rd));
        rd->policies = htable_create(4);
        e->value = rd;
        rs->sorted = myfree(rs->sorted);
    }
    for (size_t i = 0; i < o->npolicies; i++)
        rpt_add_policy(rs, e->value, report_domain, &o->policies[i]);
}

void report_set_add(report_set *rs, const outcome *o, const char *only_domain)
{
    if (only_domain && strcmp(only_domain, o->domain) != 0)
        return;
    report_set_add_to(rs, o->domain, o);
}

const char *const *report_set_domains(report_set *rs)
{
    if (rs->sorted == NULL) {
        htable_entry **v = htable_sorted(rs->domains);
        rs->sorted = mymalloc((rs->domains->used + 1) * sizeof(char *));
        for (size_t i = 0; i <= rs->domains->used; i++)
            rs->sorted[i] = v[i] ? v[i]->key : NULL;
        myfree(v);
    }
    return rs->sorted;
}

void report_set_totals(report_set *rs, const char *domain, uint64_t *ok, uint64_t *failed)
{
    htable_entry *e = htable_locate(rs->domains, domain, strlen(domain));

    *ok = *failed = 0;
    if (e == NULL)
        return;
    rpt_domain *rd = e->value;
    for (size_t i = 0; i < rd->policies->size; i++)
        for (htable_entry *pe = rd->policies->buckets[i]; pe; pe = pe->next) {
            rpt_policy *rp = pe->value;
            *ok += rp->ok;
            *failed += rp->failed;
        }
}

/* Splits key at SEP into at most max fields (pointers into a copy the caller frees). */
static char *key_split(const char *key, size_t klen, char **fields, size_t max)
{
    char *copy = mystrndup(key, klen);
    size_t n = 0;
    char *p = copy;

    while (n < max) {
        fields[n++] = p;
        char *sep = strchr(p, SEP);
        if (sep == NULL)
            break;
        *sep = 0;
        p = sep + 1;
    }
    while (n < max)
        fields[n++] = "";
    return copy;
}

static json_object *key_list(const char *s)
{
    json_object *arr = json_object_new_array();
    const char *p = s;

    while (*p) {
        const char *end = strchr(p, SUBSEP);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        json_object_array_add(arr, json_object_new_string_len(p, (int)len));
        p += len + (end ? 1 : 0);
    }
    return arr;
}

static void json_opt(json_object *obj, const char *name, const char *value)
{
    if (value && *value)
        json_object_object_add(obj, name, json_object_new_string(value));
}

typedef struct {
    const char *key;
    size_t klen;
    uint64_t count;
    int result;
} rpt_detail;

static int rpt_detail_cmp(const void *a, const void *b)
{
    const rpt_detail *x = a, *y = b;

    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->key, y->key);
}

static json_object *rpt_detail_json(const rpt_detail *d)
{
    char *f[8];
    char *copy = key_split(d->key, d->klen, f, 8);
    json_object *obj = json_object_new_object();

    json_object_object_add(obj, "result-type",
                           json_object_new_string(outcome_result_name(atoi(f[0]))));
    json_opt(obj, "sending-mta-ip", f[1]);
    json_opt(obj, "receiving-mx-hostname", f[2]);
    json_opt(obj, "receiving-mx-helo", f[3]);
    json_opt(obj, "receiving-ip", f[4]);
    json_object_object_add(obj, "failed-session-count", json_object_new_int64((int64_t)d->count));
    json_opt(obj, "additional-information", f[5]);
    json_opt(obj, "failure-reason-code", f[6]);
    myfree(copy);
    return obj;
}

/* Details, largest first; past max rows the rest fold into one row per result type. */
static json_object *rpt_details_json(const rpt_policy *rp, size_t max)
{
    size_t n = rp->details->used, kept, folded_types = 0;
    rpt_detail *v = mymalloc((n + 1) * sizeof(*v));
    json_object *arr = json_object_new_array();
    size_t i = 0;

    for (size_t b = 0; b < rp->details->size; b++)
        for (htable_entry *e = rp->details->buckets[b]; e; e = e->next) {
            v[i].key = e->key;
            v[i].klen = e->klen;
            v[i].count = (uint64_t)(uintptr_t)e->value;
            v[i].result = atoi(e->key);
            i++;
        }
    qsort(v, n, sizeof(*v), rpt_detail_cmp);
    kept = n;
    if (n > max) {
        for (kept = max; kept > 0; kept--) {
            int seen[1000] = {0};
            folded_types = 0;
            for (size_t j = kept; j < n; j++)
                if (!seen[v[j].result]++)
                    folded_types++;
            if (kept + folded_types <= max)
                break;
        }
    }
    for (i = 0; i < kept; i++)
        json_object_array_add(arr, rpt_detail_json(&v[i]));
    if (kept < n) {
        uint64_t sums[1000] = {0}, rows[1000] = {0};
        for (size_t j = kept; j < n; j++) {
            sums[v[j].result] += v[j].count;
            rows[v[j].result]++;
        }
        for (int r = 0; r < 1000; r++) {
            if (rows[r] == 0)
                continue;
            char info[128];
            json_object *obj = json_object_new_object();
            json_object_object_add(obj, "result-type",
                                   json_object_new_string(outcome_result_name(r)));
            json_object_object_add(obj, "failed-session-count",
                                   json_object_new_int64((int64_t)sums[r]));
            snprintf(info, sizeof(info), "%llu further distinct failure details folded",
                     (unsigned long long)rows[r]);
            json_object_object_add(obj, "additional-information", json_object_new_string(info));
            json_object_array_add(arr, obj);
        }
    }
    myfree(v);
    return arr;
}

json_object *report_set_json(report_set *rs, const char *domain, const report_opts *opts)
{
    htable_entry *e = htable_locate(rs->domains, domain, strlen(domain));
    char buf[512];

    if (e == NULL)
        return NULL;
    rpt_domain *rd = e->value;
    json_object *root = json_object_new_object();
    json_object_object_add(root, "organization-name",
                           json_object_new_string(opts->organization_name));
    json_object *range = json_object_new_object();
    snprintf(buf, sizeof(buf), "%sT00:00:00Z", rs->day);
    json_object_object_add(range, "start-datetime", json_object_new_string(buf));
    snprintf(buf, sizeof(buf), "%sT23:59:59Z", rs->day);
    json_object_object_add(range, "end-datetime", json_object_new_string(buf));
    json_object_object_add(root, "date-range", range);
    json_object_object_add(root, "contact-info", json_object_new_string(opts->contact_info));
    report_id(buf, sizeof(buf), rs->day, domain, opts);
    json_object_object_add(root, "report-id", json_object_new_string(buf));
    json_object *pols = json_object_new_array();
    htable_entry **sorted = htable_sorted(rd->policies);
    for (size_t i = 0; sorted[i]; i++) {
        rpt_policy *rp = sorted[i]->value;
        char *f[4];
        char *copy = key_split(sorted[i]->key, sorted[i]->klen, f, 4);
        int type = atoi(f[0]);
        json_object *pe = json_object_new_object();
        json_object *pol = json_object_new_object();
        json_object_object_add(pol, "policy-type",
                               json_object_new_string(outcome_policy_name(type)));
        if (*f[2] || type != OUTCOME_POLICY_NONE)
            json_object_object_add(pol, "policy-string", key_list(f[2]));
        json_object_object_add(pol, "policy-domain", json_object_new_string(f[1]));
        if (type == OUTCOME_POLICY_STS)
            json_object_object_add(pol, "mx-host", key_list(f[3]));
        myfree(copy);
        json_object_object_add(pe, "policy", pol);
        json_object *sum = json_object_new_object();
        json_object_object_add(sum, "total-successful-session-count",
                               json_object_new_int64((int64_t)rp->ok));
        json_object_object_add(sum, "total-failure-session-count",
                               json_object_new_int64((int64_t)rp->failed));
        json_object_object_add(pe, "summary", sum);
        if (rp->details->used)
            json_object_object_add(pe, "failure-details",
                                   rpt_details_json(rp, opts->max_failure_details));
        json_object_array_add(pols, pe);
    }
    myfree(sorted);
    json_object_object_add(root, "policies", pols);
    return root;
}

void report_id(char *out, size_t size, const char *day, const char *domain, const report_opts *opts)
{
    /* dot-atom "@" domain, like a Message-ID: YYYYMMDD.<domain>.otr-<host hash>@<submitter>;
     * the log follower recognises our own report mail by this form. */
    snprintf(out, size, "%.4s%.2s%.2s.%s.%s@%s", day, day + 5, day + 8, domain, opts->id_tag,
             opts->submitter);
}

const char *report_json_text(json_object *obj, int pretty)
{
    int flags =
        JSON_C_TO_STRING_NOSLASHESCAPE |
        (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN);

    return json_object_to_json_string_ext(obj, flags);
}

static char *report_host_domain(char *host, size_t size)
{
    if (gethostname(host, size) < 0 || host[0] == 0)
        snprintf(host, size, "localhost");
    host[size - 1] = 0;
    char *dot = strchr(host, '.');
    return dot ? dot + 1 : host;
}

void report_opts_init(report_opts *opts, const config *cfg)
{
    char host[256], tag[32];
    const char *dom = report_host_domain(host, sizeof(host));

    opts->organization_name = mystrdup(*cfg->organization_name ? cfg->organization_name : dom);
    if (*cfg->contact_info) {
        opts->contact_info = mystrdup(cfg->contact_info);
    } else {
        vstring *v = vstring_alloc(0);
        vstring_sprintf_append(v, "postmaster@%s", dom);
        opts->contact_info = mystrdup(v->data);
        vstring_free(v);
    }
    if (*cfg->report_submitter) {
        opts->submitter = mystrdup(cfg->report_submitter);
    } else {
        const char *at = strrchr(opts->contact_info, '@');
        opts->submitter = mystrdup(at ? at + 1 : dom);
    }
    /* The full host name, hashed: peers of one submitter get distinct ids for one day. */
    gethostname(host, sizeof(host));
    host[sizeof(host) - 1] = 0;
    snprintf(tag, sizeof(tag), "otr-%08llx",
             (unsigned long long)(htable_hash(host, strlen(host)) & 0xffffffffULL));
    opts->id_tag = mystrdup(tag);
    opts->max_failure_details = (size_t)cfg->max_failure_details;
}

void report_opts_done(report_opts *opts)
{
    opts->organization_name = myfree(opts->organization_name);
    opts->contact_info = myfree(opts->contact_info);
    opts->submitter = myfree(opts->submitter);
    opts->id_tag = myfree(opts->id_tag);
}
