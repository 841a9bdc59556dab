#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "htable.h"
#include "jsonw.h"
#include "msg.h"
#include "mymalloc.h"
#include "spool.h"
#include "utf8.h"
#include "vstring.h"

/*
 * One table of (report domain, policy) pairs holds the counts: the key is the domain's
 * field followed by the policy's key, and the counts live in the entry's own block. Per
 * outcome that is one lookup through two cache lines, where a table of domains, each with a
 * table of policies, cost six dependent misses on a day too big for the caches (10M
 * outcomes over 100k domains: 45% of report building was those misses). The domains' table
 * is touched only when a pair is new; it lists each domain's policies for the output.
 */
typedef struct rpt_domain rpt_domain;

typedef struct rpt_policy {
    uint64_t ok;
    uint64_t failed;
    htable *details; /* detail key -> (uintptr_t) count; NULL until the first failure */
    rpt_domain *dom;
    struct rpt_policy *next; /* the domain's next policy */
    const char *pkey;        /* the policy's key: the pair's key after the domain's field */
    size_t pklen;
} rpt_policy;

struct rpt_domain {
    rpt_policy *policies; /* in no order */
    size_t npolicies;
    size_t cost; /* bytes this domain's aggregates take, estimated */
    int dropped; /* left to a later pass by report_set_split */
};

/*
 * With a budget, a day is built in passes over the journal, each for one range of report
 * domains [lo, the top of splits), in domain order: when the aggregates of a pass outgrow
 * the budget, the upper part of its domains (by cost) is dropped and left to a later pass.
 * Forged domains can then make the agent read the journal more often, never hold more.
 */
/*
 * Outcomes in flight: report_set_add builds an outcome's keys and asks for its bucket, and
 * the lookup happens RPT_PIPE outcomes later, its entry asked for halfway. The memory waits
 * of one outcome then overlap the decoding of the next ones instead of adding up.
 */
#define RPT_PIPE 16

typedef struct rpt_pending {
    vstring *key;     /* the pair's key: the domain's field, then the policy's key */
    size_t off;       /* where the policy's key starts */
    uint64_t hash;    /* htable_key_hash of key */
    int failed;       /* the session failed */
    vstring *details; /* its failure details' keys, each 4 bytes of length then the key */
} rpt_pending;

struct report_set {
    char day[SPOOL_DAY_LEN + 1];
    htable *pairs;   /* domain field + policy key -> rpt_policy, in the entry */
    htable *domains; /* report domain -> rpt_domain */
    const char **sorted;
    size_t budget; /* 0: unlimited */
    size_t cost;   /* sum of the domains' costs */
    char *lo;      /* the pass's lowest domain; NULL: from the start */
    char **splits; /* pending ranges' lower ends, the lowest last; the top ends this pass */
    size_t nsplits;
    size_t passes; /* passes started */
    rpt_pending pipe[RPT_PIPE];
    size_t pipe_in, pipe_out; /* monotonic: pending are [pipe_out, pipe_in) */
};

static void rpt_pipe_flush(report_set *rs);

report_set *report_set_new(const char *day)
{
    report_set *rs = mycalloc(1, sizeof(*rs));

    snprintf(rs->day, sizeof(rs->day), "%s", day);
    rs->pairs = htable_create(1024);
    rs->domains = htable_create(1024);
    for (size_t i = 0; i < RPT_PIPE; i++) {
        rs->pipe[i].key = vstring_alloc(0);
        rs->pipe[i].details = vstring_alloc(0);
    }
    return rs;
}

/* The policy itself is part of its pair's entry. */
static void rpt_policy_done(void *p)
{
    rpt_policy *rp = p;

    htable_free(rp->details, NULL);
}

/* Empties the set's tables for another pass, or frees them (fresh 0). */
static void report_set_clear(report_set *rs, int fresh)
{
    htable_free(rs->pairs, rpt_policy_done);
    htable_free(rs->domains, myfree_value);
    rs->pairs = fresh ? htable_create(1024) : NULL;
    rs->domains = fresh ? htable_create(1024) : NULL;
}

report_set *report_set_free(report_set *rs)
{
    if (rs) {
        report_set_clear(rs, 0);
        for (size_t i = 0; i < RPT_PIPE; i++) {
            vstring_free(rs->pipe[i].key);
            vstring_free(rs->pipe[i].details);
        }
        myfree(rs->sorted);
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
    rpt_pipe_flush(rs); /* a split it makes schedules one more range */
    if (rs->passes > 0) {
        if (rs->nsplits == 0)
            return 0;
        report_set_clear(rs, 1);
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

/* An aggregate with a table of its own (a policy's details). */
#define RPT_TABLE_COST (sizeof(htable) + 4 * sizeof(void *) + 8 * sizeof(void *))

static int rpt_pair_kept(const htable_entry *e, void *ctx)
{
    (void)ctx;
    return !((const rpt_policy *)e->value)->dom->dropped;
}

static int rpt_domain_kept(const htable_entry *e, void *ctx)
{
    (void)ctx;
    return !((const rpt_domain *)e->value)->dropped;
}

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
    for (size_t i = k; i < n; i++)
        ((rpt_domain *)v[i]->value)->dropped = 1;
    myfree(v);
    htable_drop(rs->pairs, rpt_pair_kept, NULL, rpt_policy_done);
    htable_drop(rs->domains, rpt_domain_kept, NULL, myfree_value);
    rs->cost = kept;
    rs->sorted = myfree(rs->sorted);
}

/*
 * Aggregation keys: a sequence of fields that no input byte can forge, ordered as the
 * fields are (so reports list policies as before). An int is 4 bytes big-endian; a string
 * (a C string: it holds no NUL) is its bytes and 00 01; a list of strings ends with 00 02.
 * Whatever a string holds, it can neither end its field early nor start another.
 */
#define KEY_END      '\x01'
#define KEY_LIST_END '\x02'

/* n more bytes at the end of k, to fill in: keys are built for every outcome of a day, so
 * this is vstring_append without its check for a maximum (keys have none) and without a
 * NUL after every piece (keys are read by length; key_end puts the last). */
static inline unsigned char *key_room(vstring *k, size_t n)
{
    if (k->len + n + 1 > k->cap)
        vstring_reserve(k, n);
    unsigned char *p = (unsigned char *)k->data + k->len;
    k->len += n;
    return p;
}

static inline void key_end(vstring *k)
{
    k->data[k->len] = 0;
}

/* n bytes of s, then 00 and end. */
static inline void key_put(vstring *k, const char *s, size_t n, char end)
{
    unsigned char *p = key_room(k, n + 2);

    memcpy(p, s, n);
    p[n] = 0;
    p[n + 1] = (unsigned char)end;
}

static void key_int(vstring *k, int v)
{
    uint32_t u = (uint32_t)v;
    unsigned char *p = key_room(k, 4);

    p[0] = (unsigned char)(u >> 24);
    p[1] = (unsigned char)(u >> 16);
    p[2] = (unsigned char)(u >> 8);
    p[3] = (unsigned char)u;
}

static void key_str(vstring *k, const char *s)
{
    key_put(k, s ? s : "", s ? strlen(s) : 0, KEY_END);
}

static void key_list(vstring *k, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        key_str(k, v[i]);
    key_put(k, "", 0, KEY_LIST_END);
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

/* Whether domain is in this pass's range [lo, the lowest split). */
static int rpt_in_pass(const report_set *rs, const char *domain)
{
    return !(rs->lo && strcmp(domain, rs->lo) < 0) &&
           !(rs->nsplits && strcmp(domain, rs->splits[rs->nsplits - 1]) >= 0);
}

/* Adds cost bytes of new aggregates to rd and the set; splits the set when over budget. */
static void rpt_charge(report_set *rs, rpt_domain *rd, size_t cost)
{
    rd->cost += cost;
    rs->cost += cost;
    if (rs->budget && rs->cost > rs->budget)
        report_set_split(rs);
}

/* The domain's aggregate, created when new (its cost added to *cost). */
static rpt_domain *rpt_domain_get(report_set *rs, const char *domain, size_t len, size_t *cost)
{
    int created;
    htable_entry *e = htable_enter(rs->domains, domain, len, &created);

    if (created) {
        e->value = mycalloc(1, sizeof(rpt_domain));
        rs->sorted = myfree(rs->sorted);
        *cost += rpt_cost(len, sizeof(rpt_domain));
    }
    return e->value;
}

/* Builds the keys of p (of report_domain, len bytes) into pd. */
static void rpt_pending_fill(rpt_pending *pd, const char *report_domain, size_t len,
                             const outcome_policy *p)
{
    vstring *k = pd->key;

    vstring_reset(k);
    key_put(k, report_domain, len, KEY_END);
    pd->off = k->len;
    key_int(k, p->type);
    /* Reports require a policy-domain: the report domain stands in when it is absent. */
    key_str(k, p->domain ? p->domain : report_domain);
    key_list(k, p->strings, p->nstrings);
    key_list(k, p->mx_hosts, p->nmx_hosts);
    key_end(k);
    pd->hash = htable_key_hash(k->data, k->len);
    pd->failed = p->failed != 0;
    vstring_reset(pd->details);
    if (!p->failed)
        return;
    vstring *d = pd->details;
    for (size_t i = 0; i < p->nfailures; i++) {
        const outcome_failure *f = &p->failures[i];
        const char *str[OUTCOME_FAILURE_NSTR];
        size_t at = d->len;
        uint32_t n;
        key_room(d, 4); /* its length, once known */
        key_int(d, f->result);
        outcome_failure_strings(f, str);
        for (size_t j = 0; j < OUTCOME_FAILURE_NSTR; j++)
            key_str(d, str[j]);
        n = (uint32_t)(d->len - at - 4);
        memcpy(d->data + at, &n, 4);
    }
    key_end(d);
}

/* Counts the pending outcome pd; returns its domain's aggregate (NULL: another pass's
 * now), with the bytes of the aggregates it created added to *cost. */
static rpt_domain *rpt_pending_add(report_set *rs, rpt_pending *pd, size_t *cost)
{
    vstring *k = pd->key;
    int created;

    /* A split since it came in may have left its domain to a later pass. */
    if (!rpt_in_pass(rs, k->data))
        return NULL;
    htable_entry *e =
        htable_enter_hashed(rs->pairs, k->data, k->len, pd->hash, sizeof(rpt_policy), &created);
    rpt_policy *rp = e->value;
    if (created) {
        rpt_domain *rd = rpt_domain_get(rs, k->data, pd->off - 2, cost);
        rp->dom = rd;
        rp->pkey = e->key + pd->off;
        rp->pklen = e->klen - pd->off;
        rp->next = rd->policies;
        rd->policies = rp;
        rd->npolicies++;
        *cost += rpt_cost(k->len, sizeof(*rp));
    }
    if (!pd->failed) {
        rp->ok++;
        return rp->dom;
    }
    rp->failed++;
    if (pd->details->len && rp->details == NULL) {
        rp->details = htable_create(4);
        *cost += RPT_TABLE_COST;
    }
    for (size_t at = 0; at + 4 <= pd->details->len;) {
        uint32_t n;
        memcpy(&n, pd->details->data + at, 4);
        htable_entry *de = htable_enter(rp->details, pd->details->data + at + 4, n, &created);
        de->value = (void *)((uintptr_t)de->value + 1);
        if (created)
            *cost += rpt_cost(n, 0);
        at += 4 + n;
    }
    return rp->dom;
}

/* Counts the oldest pending outcome. */
static void rpt_pipe_take(report_set *rs)
{
    rpt_pending *pd = &rs->pipe[rs->pipe_out++ % RPT_PIPE];
    size_t cost = 0;
    rpt_domain *rd = rpt_pending_add(rs, pd, &cost);

    if (rd && cost)
        rpt_charge(rs, rd, cost);
}

/* Counts every pending outcome: before anything reads the set. */
static void rpt_pipe_flush(report_set *rs)
{
    while (rs->pipe_out != rs->pipe_in)
        rpt_pipe_take(rs);
}

void report_set_add_to(report_set *rs, const char *report_domain, const outcome *o)
{
    if (!rpt_in_pass(rs, report_domain))
        return; /* another pass's */
    size_t len = strlen(report_domain);
    if (o->npolicies == 0) {
        /* A report with no policies: rare enough to count at once. */
        size_t cost = 0;
        rpt_domain *rd = rpt_domain_get(rs, report_domain, len, &cost);
        rpt_charge(rs, rd, cost);
        return;
    }
    for (size_t i = 0; i < o->npolicies; i++) {
        if (rs->pipe_in - rs->pipe_out == RPT_PIPE)
            rpt_pipe_take(rs);
        rpt_pending *pd = &rs->pipe[rs->pipe_in++ % RPT_PIPE];
        rpt_pending_fill(pd, report_domain, len, &o->policies[i]);
        htable_prefetch(rs->pairs, pd->hash);
        /* Halfway through the pipe, the bucket has come: ask for the entry. */
        if (rs->pipe_in - rs->pipe_out > RPT_PIPE / 2)
            htable_prefetch_entry(rs->pairs,
                                  rs->pipe[(rs->pipe_in - 1 - RPT_PIPE / 2) % RPT_PIPE].hash);
    }
}

void report_set_add(report_set *rs, const outcome *o, const char *only_domain)
{
    if (only_domain && strcmp(only_domain, o->domain) != 0)
        return;
    report_set_add_to(rs, o->domain, o);
}

const char *const *report_set_domains(report_set *rs)
{
    rpt_pipe_flush(rs);
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
    rpt_pipe_flush(rs);
    htable_entry *e = htable_locate(rs->domains, domain, strlen(domain));

    *ok = *failed = 0;
    if (e == NULL)
        return;
    for (const rpt_policy *rp = ((rpt_domain *)e->value)->policies; rp; rp = rp->next) {
        *ok += rp->ok;
        *failed += rp->failed;
    }
}

/* "name":[the string list at r], the comma before it included. */
static void key_text_list(vstring *out, const char *name, key_reader *r, vstring *tmp)
{
    vstring_append_str(out, name);
    vstring_append_char(out, '[');
    for (int n = 0; key_get_str(r, tmp) == 0; n++) {
        if (n)
            vstring_append_char(out, ',');
        jsonw_strn(out, tmp->data, tmp->len);
    }
    vstring_append_char(out, ']');
}

/* ,"name":"the next string of r", unless it is empty. */
static void text_opt(vstring *out, const char *name, key_reader *r, vstring *tmp)
{
    if (key_get_str(r, tmp) == 0 && tmp->len) {
        vstring_append_str(out, name);
        jsonw_strn(out, tmp->data, tmp->len);
    }
}

static void text_count(vstring *out, const char *name, uint64_t n)
{
    char buf[24];
    int len = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n);

    vstring_append_str(out, name);
    vstring_append(out, buf, (size_t)len);
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

static void rpt_detail_text(vstring *out, const rpt_detail *d, vstring *tmp)
{
    key_reader r = {d->key + 4, d->key + d->klen};
    const char *name = outcome_result_name(d->result);

    vstring_append_str(out, "{\"result-type\":");
    jsonw_str(out, name ? name : "unknown");
    text_opt(out, ",\"sending-mta-ip\":", &r, tmp);
    text_opt(out, ",\"receiving-mx-hostname\":", &r, tmp);
    text_opt(out, ",\"receiving-mx-helo\":", &r, tmp);
    text_opt(out, ",\"receiving-ip\":", &r, tmp);
    text_count(out, ",\"failed-session-count\":", d->count);
    text_opt(out, ",\"additional-information\":", &r, tmp);
    text_opt(out, ",\"failure-reason-code\":", &r, tmp);
    vstring_append_char(out, '}');
}

/* The failure-details array: largest first; past max rows the rest fold into one row per
 * result type. */
static void rpt_details_text(vstring *out, const rpt_policy *rp, size_t max, vstring *tmp)
{
    size_t n = rp->details->used, kept, ntypes = 0;
    rpt_detail *v = mymalloc((n + 1) * sizeof(*v));
    int *types = mymalloc((n + 1) * sizeof(*types));
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
    vstring_append_char(out, '[');
    for (i = 0; i < kept; i++) {
        if (i)
            vstring_append_char(out, ',');
        rpt_detail_text(out, &v[i], tmp);
    }
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
            if (kept || t)
                vstring_append_char(out, ',');
            vstring_append_str(out, "{\"result-type\":");
            jsonw_str(out, name ? name : "unknown");
            text_count(out, ",\"failed-session-count\":", sums[t]);
            snprintf(info, sizeof(info), "%llu further distinct failure details folded",
                     (unsigned long long)rows[t]);
            vstring_append_str(out, ",\"additional-information\":");
            jsonw_str(out, info);
            vstring_append_char(out, '}');
        }
        myfree(sums);
        myfree(rows);
    }
    vstring_append_char(out, ']');
    myfree(types);
    myfree(v);
}

/* Policies in the order of their keys (memcmp, shorter first), as reports always listed them. */
static int rpt_policy_cmp(const void *a, const void *b)
{
    const rpt_policy *x = *(rpt_policy *const *)a, *y = *(rpt_policy *const *)b;
    int c = memcmp(x->pkey, y->pkey, x->pklen < y->pklen ? x->pklen : y->pklen);

    return c ? c : (x->pklen > y->pklen) - (x->pklen < y->pklen);
}

int report_set_text(report_set *rs, const char *domain, const report_opts *opts, vstring *out)
{
    rpt_pipe_flush(rs);
    htable_entry *e = htable_locate(rs->domains, domain, strlen(domain));
    char buf[512];

    vstring_reset(out);
    if (e == NULL)
        return -1;
    rpt_domain *rd = e->value;
    /* Written straight out, in the order and form json-c gave these reports (compact,
     * members in insertion order): a day of 100k reports spent a quarter of its CPU time
     * building and printing json-c trees. */
    vstring_append_str(out, "{\"organization-name\":");
    jsonw_str(out, opts->organization_name);
    vstring_append_str(out, ",\"date-range\":{\"start-datetime\":");
    snprintf(buf, sizeof(buf), "%sT00:00:00Z", rs->day);
    jsonw_str(out, buf);
    vstring_append_str(out, ",\"end-datetime\":");
    snprintf(buf, sizeof(buf), "%sT23:59:59Z", rs->day);
    jsonw_str(out, buf);
    vstring_append_str(out, "},\"contact-info\":");
    jsonw_str(out, opts->contact_info);
    vstring_append_str(out, ",\"report-id\":");
    report_id(buf, sizeof(buf), rs->day, domain, opts);
    jsonw_str(out, buf);
    vstring_append_str(out, ",\"policies\":[");
    rpt_policy **sorted = mymalloc((rd->npolicies + 1) * sizeof(*sorted));
    size_t np = 0;
    for (rpt_policy *rp = rd->policies; rp; rp = rp->next)
        sorted[np++] = rp;
    qsort(sorted, np, sizeof(*sorted), rpt_policy_cmp);
    vstring *tmp = vstring_alloc(0);
    for (size_t i = 0; i < np; i++) {
        rpt_policy *rp = sorted[i];
        key_reader r = {rp->pkey, rp->pkey + rp->pklen};
        int type = key_get_int(&r);
        const char *tname = outcome_policy_name(type);
        if (i)
            vstring_append_char(out, ',');
        vstring_append_str(out, "{\"policy\":{\"policy-type\":");
        jsonw_str(out, tname ? tname : "");
        /* The key holds policy-domain first; the report lists policy-string before it. */
        key_reader pdomain = r;
        key_get_str(&r, tmp);
        key_reader strings = r;
        if (key_get_str(&strings, tmp) == 0 || type != OUTCOME_POLICY_NONE)
            key_text_list(out, ",\"policy-string\":", &r, tmp);
        else
            r = strings; /* past the empty list */
        vstring_append_str(out, ",\"policy-domain\":");
        key_get_str(&pdomain, tmp);
        jsonw_strn(out, tmp->data, tmp->len);
        if (type == OUTCOME_POLICY_STS)
            key_text_list(out, ",\"mx-host\":", &r, tmp);
        vstring_append_str(out, "},\"summary\":{");
        text_count(out, "\"total-successful-session-count\":", rp->ok);
        text_count(out, ",\"total-failure-session-count\":", rp->failed);
        vstring_append_char(out, '}');
        if (rp->details && rp->details->used) {
            vstring_append_str(out, ",\"failure-details\":");
            rpt_details_text(out, rp, opts->max_failure_details, tmp);
        }
        vstring_append_char(out, '}');
    }
    myfree(sorted);
    vstring_free(tmp);
    vstring_append_str(out, "]}");
    return 0;
}

void report_id(char *out, size_t size, const char *day, const char *domain, const report_opts *opts)
{
    /* dot-atom "@" domain, like a Message-ID: YYYYMMDD.<domain>.otr-<host hash>@<submitter>;
     * the log follower recognises our own report mail by this form. */
    snprintf(out, size, "%.4s%.2s%.2s.%s.%s@%s", day, day + 5, day + 8, domain, opts->id_tag,
             opts->submitter);
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
