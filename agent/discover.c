#include "discover.h"

#include <string.h>

#include "dns.h"
#include "domain.h"
#include "htable.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

#define DISCOVER_PREFIX "v=TLSRPTv1;"

typedef struct discover_entry {
    discover_status status;
    tlsrpt_record rec;
} discover_entry;

struct discover {
    agent_ctx *ctx;
    dns_resolver *r;
    htable *cache; /* domain -> discover_entry */
    unsigned long lookups;
};

discover *discover_new(agent_ctx *ctx)
{
    dns_resolver *r = dns_resolver_new(ctx->cfg);

    if (r == NULL)
        return NULL;
    discover *d = mycalloc(1, sizeof(*d));
    d->ctx = ctx;
    d->r = r;
    d->cache = htable_create(256);
    return d;
}

static void discover_entry_free(void *p)
{
    discover_entry *e = p;

    tlsrpt_record_free(&e->rec);
    myfree(e);
}

discover *discover_free(discover *d)
{
    if (d) {
        htable_free(d->cache, discover_entry_free);
        dns_resolver_free(d->r);
        myfree(d);
    }
    return NULL;
}

unsigned long discover_lookups(const discover *d)
{
    return d->lookups;
}

static void discover_notes(discover *d, const char *domain, const char *where,
                           const tlsrpt_record *rec)
{
    for (size_t i = 0; i < rec->nnotes; i++)
        agent_note(d->ctx, 1, "%s: rua URI skipped: %s", domain, rec->notes[i]);
    if (rec->n == 0)
        agent_note(d->ctx, 1, "%s: the TLSRPT record at %s has no usable rua URI", domain, where);
}

static discover_status discover_lookup(discover *d, const char *domain, tlsrpt_record *rec)
{
    char name[DOMAIN_MAX + 16], why[256];
    dns_result res;
    const char *found = NULL;
    size_t foundlen = 0, n = 0;

    snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
    d->lookups++;
    switch (dns_txt(d->r, name, &res)) {
    case DNS_OK:
        break;
    case DNS_TEMPFAIL:
        agent_note(d->ctx, 1, "%s: TLSRPT lookup failed temporarily (%s); will retry", domain,
                   res.why);
        dns_result_free(&res);
        return DISCOVER_TEMPFAIL;
    case DNS_BOGUS:
        agent_note(d->ctx, 1,
                   "%s: DNSSEC validation of %s failed (%s); treated as no TLSRPT record", domain,
                   name, res.why);
        dns_result_free(&res);
        return DISCOVER_NONE;
    default:
        msg_debug("%s: no TLSRPT record (%s)", domain, dns_status_name(res.status));
        dns_result_free(&res);
        return DISCOVER_NONE;
    }
    for (size_t i = 0; i < res.n; i++)
        if (res.rrlen[i] >= sizeof(DISCOVER_PREFIX) - 1 &&
            memcmp(res.rr[i], DISCOVER_PREFIX, sizeof(DISCOVER_PREFIX) - 1) == 0) {
            found = res.rr[i];
            foundlen = res.rrlen[i];
            n++;
        }
    discover_status st = DISCOVER_NONE;
    if (n == 0) {
        msg_debug("%s: no TXT record of %s begins with v=TLSRPTv1;", domain, name);
    } else if (n > 1) {
        agent_note(d->ctx, 1, "%s: %zu TLSRPT records at %s, not exactly one: no reports sent",
                   domain, n, name);
    } else if (tlsrpt_record_parse(found, foundlen, rec, why, sizeof(why)) < 0) {
        agent_note(d->ctx, 1, "%s: invalid TLSRPT record at %s: %s", domain, name, why);
    } else {
        discover_notes(d, domain, name, rec);
        st = DISCOVER_OK;
    }
    dns_result_free(&res);
    return st;
}

void discover_seed(discover *d, const char *domain, const char *record)
{
    char why[256];
    int created;
    tlsrpt_record rec;

    if (record == NULL || htable_locate(d->cache, domain, strlen(domain)) != NULL)
        return;
    memset(&rec, 0, sizeof(rec));
    if (tlsrpt_record_parse(record, strlen(record), &rec, why, sizeof(why)) < 0) {
        /* The MTA saw something else than what a lookup would check: DNS decides. */
        msg_debug("%s: the TLSRPT record the MTA saw is invalid (%s)", domain, why);
        tlsrpt_record_free(&rec);
        return;
    }
    discover_notes(d, domain, "the record the MTA saw", &rec);
    discover_entry *e = mycalloc(1, sizeof(*e));
    e->status = DISCOVER_OK;
    e->rec = rec;
    htable_enter(d->cache, domain, strlen(domain), &created)->value = e;
}

discover_status discover_rua(discover *d, const char *domain, const tlsrpt_record **rec)
{
    int created;
    htable_entry *he = htable_enter(d->cache, domain, strlen(domain), &created);

    if (created) {
        discover_entry *e = mycalloc(1, sizeof(*e));
        e->status = discover_lookup(d, domain, &e->rec);
        he->value = e;
    }
    discover_entry *e = he->value;
    *rec = e->status == DISCOVER_OK ? &e->rec : NULL;
    return e->status;
}

void discover_dane_hosts(discover *d, report_set *rs, const outcome *o)
{
    for (size_t i = 0; i < o->npolicies; i++) {
        const outcome_policy *p = &o->policies[i];
        const tlsrpt_record *rec;
        if (p->type != OUTCOME_POLICY_TLSA || p->domain == NULL ||
            strcmp(p->domain, o->domain) == 0)
            continue;
        /* A temporary failure here only costs the MX operator one copy; the report domain's
         * own report never waits for it. */
        if (discover_rua(d, p->domain, &rec) != DISCOVER_OK || rec->n == 0)
            continue;
        outcome one = *o;
        one.policies = (outcome_policy *)p;
        one.npolicies = 1;
        report_set_add_to(rs, p->domain, &one);
    }
}
