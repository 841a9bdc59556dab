#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "htable.h"
#include "msg.h"
#include "mymalloc.h"
#include "spool.h"
#include "utf8.h"
#include "vstring.h"

typedef struct rpt_policy {
    uint64_t ok;
    uint64_t failed;
    htable *details; /* detail key -> (uintptr_t) count */
} rpt_policy;

typedef struct rpt_domain {
    htable *policies; /* policy key -> rpt_policy */
    size_t cost;      /* bytes this domain's aggregates take, estimated */
} rpt_domain;

/*
 * With a budget, a day is built in passes over the journal, each for one range of report
 * domains [lo, the top of splits), in domain order: when the aggregates of a pass outgrow
 * the budget, the upper part of its domains (by cost) is dropped and left to a later pass.
 * Forged domains can then make the agent read the journal more often, never hold more.
 */
struct report_set {
    char day[SPOOL_DAY_LEN + 1];
    htable *domains; /* report domain -> rpt_domain */
    const char **sorted;
    vstring *key;
    size_t budget; /* 0: unlimited */
    size_t cost;   /* sum of the domains' costs */
    char *lo;      /* the pass's lowest domain; NULL: from the start */
    char **splits; /* pending ranges' lower ends, the lowest last; the top ends this pass */
    size_t nsplits;
    size_t passes; /* passes started */
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
        myfree(rs->lo);
        for (size_t i = 0; i < rs->nsplits; i++)
            myfree(rs->splits[i]);
        myfree(rs->splits);
        myfree(rs);
    }
    return NULL;
}

void report_set_limit(report_set *rs, size_t budget)
{
    rs->budget = budget;
}

int report_set_pass(report_set *rs)
{
    if (rs->passes > 0) {
        if (rs->nsplits == 0)
            return 0;
        htable_free(rs->domains, rpt_domain_free);
        rs->domains = htable_create(1024);
        rs->cost = 0;
        rs->sorted = myfree(rs->sorted);
        myfree(rs->lo);
        rs->lo = rs->splits[--rs->nsplits];
    }
    rs->passes++;
    return 1;
}

size_t report_set_passes(const report_set *rs)
{
    return rs->passes;
}

/* An entry with a klen-byte key and a value of vsize bytes: the entry, its bucket slot,
 * and malloc's own overhead of about two words a block. */
static size_t rpt_cost(size_t klen, size_t vsize)
{
    return sizeof(htable_entry) + klen + 1 + sizeof(void *) + vsize + 4 * sizeof(void *);
}

/* An aggregate with a table of its own (a domain's policies, a policy's details). */
#define RPT_TABLE_COST (sizeof(htable) + 4 * sizeof(void *) + 8 * sizeof(void *))

/* Over budget: keeps the lower half of the domains (by cost, at least one) and leaves the
 * rest to a later pass. A single domain over budget is kept whole: its report is one. */
static void report_set_split(report_set *rs)
{
    size_t n = rs->domains->used, k = 0, kept = 0;

    if (n < 2)
        return;
    htable_entry **v = htable_sorted(rs->domains);
    while (k < n - 1 && (k == 0 || kept < rs->cost / 2))
        kept += ((rpt_domain *)v[k++]->value)->cost;
    rs->splits = myrealloc(rs->splits, (rs->nsplits + 1) * sizeof(*rs->splits));
    rs->splits[rs->nsplits++] = mystrdup(v[k]->key);
    htable *t = htable_create(2 * k);
    for (size_t i = 0; i < k; i++)
        htable_enter(t, v[i]->key, v[i]->klen, NULL)->value = v[i]->value;
    for (size_t i = k; i < n; i++)
        rpt_domain_free(v[i]->value);
    htable_free(rs->domains, NULL);
    rs->domains = t;
    rs->cost = kept;
    rs->sorted = myfree(rs->sorted);
    myfree(v);
}

/*
 * Aggregation keys: a sequence of fields that no input byte can forge, ordered as the
 * fields are (so reports list policies as before). An int is 4 bytes big-endian; a string
 * (a C string: it holds no NUL) is its bytes and 00 01; a list of strings ends with 00 02.
 * Whatever a string holds, it can neither end its field early nor start another.
 */
#define KEY_END      '\x01'
#define KEY_LIST_END '\x02'

static void key_int(vstring *k, int v)
{
    uint32_t u = (uint32_t)v;
    char b[4] = {(char)(u >> 24), (char)(u >> 16), (char)(u >> 8), (char)u};

    vstring_append(k, b, 4);
}

static void key_str(vstring *k, const char *s)
{
    static const char end[2] = {0, KEY_END};

    if (s)
        vstring_append_str(k, s);
    vstring_append(k, end, 2);
}

static void key_list(vstring *k, const char *const *v, size_t n)
{
    static const char end[2] = {0, KEY_LIST_END};

    for (size_t i = 0; i < n; i++)
        key_str(k, v[i]);
    vstring_append(k, end, 2);
}

typedef struct key_reader {
    const char *p, *end;
} key_reader;

static int key_get_int(key_reader *r)
{
    if (r->end - r->p < 4)
        return -1;
    const unsigned char *b = (const unsigned char *)r->p;
    r->p += 4;
    return (int)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]);
}

/* The next string into out; returns 0, or -1 at the end of a list (or of the key). */
static int key_get_str(key_reader *r, vstring *out)
{
    vstring_reset(out);
    if (r->end - r->p >= 2 && r->p[0] == 0 && r->p[1] == KEY_LIST_END) {
        r->p += 2;
        return -1;
    }
    const char *nul = memchr(r->p, 0, (size_t)(r->end - r->p));
    if (nul == NULL || nul + 1 >= r->end || nul[1] != KEY_END) {
        r->p = r->end;
        return -1;
    }
    vstring_append(out, r->p, (size_t)(nul - r->p));
    r->p = nul + 2;
    /* Whatever source wrote the outcome (a datagram, a mail log line, an old journal), no
     * control character goes out in a report to a third party. */
    out->len = utf8_replace_controls(out->data, out->len, ' ', NULL);
    out->data[out->len] = 0;
    return 0;
}

/* Adds p to rd; returns the bytes of the aggregates it created. */
static size_t rpt_add_policy(report_set *rs, rpt_domain *rd, const char *report_domain,
                             const outcome_policy *p)
{
    size_t cost = 0;
    vstring *k = rs->key;
    int created;

    vstring_reset(k);
    key_int(k, p->type);
    /* Reports require a policy-domain: the report domain stands in when it is absent. */
    key_str(k, p->domain ? p->domain : report_domain);
    key_list(k, p->strings, p->nstrings);
    key_list(k, p->mx_hosts, p->nmx_hosts);
    htable_entry *e = htable_enter(rd->policies, k->data, k->len, &created);
    if (created) {
        rpt_policy *rp = mycalloc(1, sizeof(*rp));
        rp->details = htable_create(4);
        e->value = rp;
        cost += rpt_cost(k->len, sizeof(*rp)) + RPT_TABLE_COST;
    }
    rpt_policy *rp = e->value;
    if (!p->failed) {
        rp->ok++;
        return cost;
    }
    rp->failed++;
    for (size_t i = 0; i < p->nfailures; i++) {
        const outcome_failure *f = &p->failures[i];
        const char *str[OUTCOME_FAILURE_NSTR];
        vstring_reset(k);
        key_int(k, f->result);
        outcome_failure_strings(f, str);
        for (size_t j = 0; j < OUTCOME_FAILURE_NSTR; j++)
            key_str(k, str[j]);
        htable_entry *de = htable_enter(rp->details, k->data, k->len, &created);
        de->value = (void *)((uintptr_t)de->value + 1);
        if (created)
            cost += rpt_cost(k->len, 0);
    }
    return cost;
}

void report_set_add_to(report_set *rs, const char *report_domain, const outcome *o)
{
    int created;

    if ((rs->lo && strcmp(report_domain, rs->lo) < 0) ||
        (rs->nsplits && strcmp(report_domain, rs->splits[rs->nsplits - 1]) >= 0))
        return; /* another pass's */
    size_t len = strlen(report_domain), cost = 0;
    htable_entry *e = htable_enter(rs->domains, report_domain, len, &created);
    if (created) {
        rpt_domain *rd = mycalloc(1, sizeof(*rd));
        rd->policies = htable_create(4);
        e->value = rd;
        rs->sorted = myfree(rs->sorted);
        cost += rpt_cost(len, sizeof(*rd)) + RPT_TABLE_COST;
    }
    rpt_domain *rd = e->value;
    for (size_t i = 0; i < o->npolicies; i++)
        cost += rpt_add_policy(rs, rd, report_domain, &o->policies[i]);
    rd->cost += cost;
    rs->cost += cost;
    if (rs->budget && rs->cost > rs->budget)
        report_set_split(rs);
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

/* The JSON array of the string list at r. */
static json_object *key_json_list(key_reader *r, vstring *tmp)
{
    json_object *arr = json_object_new_array();

    while (key_get_str(r, tmp) == 0)
        json_object_array_add(arr, json_object_new_string_len(tmp->data, (int)tmp->len));
    return arr;
}

/* Adds the next string of r as name, unless it is empty. */
static void json_opt(json_object *obj, const char *name, key_reader *r, vstring *tmp)
{
    if (key_get_str(r, tmp) == 0 && tmp->len)
        json_object_object_add(obj, name, json_object_new_string_len(tmp->data, (int)tmp->len));
}

typedef struct {
    const char *key;
    size_t klen;
    uint64_t count;
    int result;
    size_t type; /* index of result among the distinct results of the policy */
} rpt_detail;

static int rpt_detail_cmp(const void *a, const void *b)
{
    const rpt_detail *x = a, *y = b;

    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    int c = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);
    return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

static int rpt_int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static json_object *rpt_detail_json(const rpt_detail *d, vstring *tmp)
{
    key_reader r = {d->key + 4, d->key + d->klen};
    json_object *obj = json_object_new_object();
    const char *name = outcome_result_name(d->result);

    json_object_object_add(obj, "result-type", json_object_new_string(name ? name : "unknown"));
    json_opt(obj, "sending-mta-ip", &r, tmp);
    json_opt(obj, "receiving-mx-hostname", &r, tmp);
    json_opt(obj, "receiving-mx-helo", &r, tmp);
    json_opt(obj, "receiving-ip", &r, tmp);
    json_object_object_add(obj, "failed-session-count", json_object_new_int64((int64_t)d->count));
    json_opt(obj, "additional-information", &r, tmp);
    json_opt(obj, "failure-reason-code", &r, tmp);
    return obj;
}

/* Details, largest first; past max rows the rest fold into one row per result type. */
static json_object *rpt_details_json(const rpt_policy *rp, size_t max)
{
    size_t n = rp->details->used, kept, ntypes = 0;
    rpt_detail *v = mymalloc((n + 1) * sizeof(*v));
    int *types = mymalloc((n + 1) * sizeof(*types));
    json_object *arr = json_object_new_array();
    vstring *tmp = vstring_alloc(0);
    size_t i = 0;

    for (size_t b = 0; b < rp->details->size; b++)
        for (htable_entry *e = rp->details->buckets[b]; e; e = e->next) {
            key_reader r = {e->key, e->key + e->klen};
            v[i].key = e->key;
            v[i].klen = e->klen;
            v[i].count = (uint64_t)(uintptr_t)e->value;
            v[i].result = key_get_int(&r);
            types[i] = v[i].result;
            i++;
        }
    /* The distinct results, sorted: a row's type is its index there. */
    qsort(types, n, sizeof(*types), rpt_int_cmp);
    for (i = 0; i < n; i++)
        if (ntypes == 0 || types[ntypes - 1] != types[i])
            types[ntypes++] = types[i];
    for (i = 0; i < n; i++)
        v[i].type =
            (size_t)((int *)bsearch(&v[i].result, types, ntypes, sizeof(*types), rpt_int_cmp) -
                     types);
    qsort(v, n, sizeof(*v), rpt_detail_cmp);
    kept = n;
    if (n > max) {
        /* The most rows kept such that they and one folded row per result type of the rest
         * fit in max: the rest's types counted from the end, one row at a time. */
        unsigned char *seen = mycalloc(ntypes + 1, 1);
        size_t folded_types = 0;
        kept = 0;
        for (size_t k = n; k-- > 0;) {
            if (!seen[v[k].type]++)
                folded_types++;
            if (k <= max && k + folded_types <= max) {
                kept = k;
                break;
            }
        }
        myfree(seen);
    }
    for (i = 0; i < kept; i++)
        json_object_array_add(arr, rpt_detail_json(&v[i], tmp));
    if (kept < n) {
        uint64_t *sums = mycalloc(ntypes + 1, sizeof(*sums));
        uint64_t *rows = mycalloc(ntypes + 1, sizeof(*rows));
        for (size_t j = kept; j < n; j++) {
            sums[v[j].type] += v[j].count;
            rows[v[j].type]++;
        }
        for (size_t t = 0; t < ntypes; t++) {
            if (rows[t] == 0)
                continue;
            char info[128];
            const char *name = outcome_result_name(types[t]);
            json_object *obj = json_object_new_object();
            json_object_object_add(obj, "result-type",
                                   json_object_new_string(name ? name : "unknown"));
            json_object_object_add(obj, "failed-session-count",
                                   json_object_new_int64((int64_t)sums[t]));
            snprintf(info, sizeof(info), "%llu further distinct failure details folded",
                     (unsigned long long)rows[t]);
            json_object_object_add(obj, "additional-information", json_object_new_string(info));
            json_object_array_add(arr, obj);
        }
        myfree(sums);
        myfree(rows);
    }
    vstring_free(tmp);
    myfree(types);
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
    vstring *tmp = vstring_alloc(0);
    for (size_t i = 0; sorted[i]; i++) {
        rpt_policy *rp = sorted[i]->value;
        key_reader r = {sorted[i]->key, sorted[i]->key + sorted[i]->klen};
        int type = key_get_int(&r);
        const char *tname = outcome_policy_name(type);
        json_object *pe = json_object_new_object();
        json_object *pol = json_object_new_object();
        json_object_object_add(pol, "policy-type", json_object_new_string(tname ? tname : ""));
        key_get_str(&r, tmp);
        json_object *pdomain = json_object_new_string_len(tmp->data, (int)tmp->len);
        json_object *strings = key_json_list(&r, tmp);
        if (json_object_array_length(strings) || type != OUTCOME_POLICY_NONE)
            json_object_object_add(pol, "policy-string", strings);
        else
            json_object_put(strings);
        json_object_object_add(pol, "policy-domain", pdomain);
        json_object *mx = key_json_list(&r, tmp);
        if (type == OUTCOME_POLICY_STS)
            json_object_object_add(pol, "mx-host", mx);
        else
            json_object_put(mx);
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
    vstring_free(tmp);
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
