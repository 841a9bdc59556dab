/*
 * Mail log parser, below both dialects (logparse.c: Postfix, logparse_sendmail.c):
 * per-process session state, our own report mail's queue ids, and the emission of an
 * outcome with the policy that applied to its domain.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "logparse_int.h"
#include "stsjoin.h"
#include "mymalloc.h"
#include "sts.h"

/* ---- result mapping, shared by both dialects ---- */

typedef struct {
    const char *text; /* substring of the log text */
    int result;
    const char *code; /* failure-reason-code */
    int dane;
} lp_map;

static const lp_map lp_reasons[] = {
    {"no matching DANE TLSA records", 304, "X509_V_ERR_DANE_NO_MATCH", 1},
    {"all TLSA records unusable", 304, "tlsa-records-unusable", 1},
    {"certificate has expired", 204, "X509_V_ERR_CERT_HAS_EXPIRED", 0},
    {"certificate is not yet valid", 204, "X509_V_ERR_CERT_NOT_YET_VALID", 0},
    {"certificate not yet valid", 204, "X509_V_ERR_CERT_NOT_YET_VALID", 0},
    {"hostname mismatch", 202, "X509_V_ERR_HOSTNAME_MISMATCH", 0},
    {"subject name mismatch", 202, "X509_V_ERR_HOSTNAME_MISMATCH", 0},
    {"self-signed certificate in certificate chain", 203, "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN",
     0},
    {"self signed certificate in certificate chain", 203, "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN",
     0},
    {"self-signed certificate", 203, "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT", 0},
    {"self signed certificate", 203, "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT", 0},
    {"untrusted issuer", 203, "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY", 0},
    {"unable to get local issuer certificate", 203, "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
     0},
    {"unable to get issuer certificate", 203, "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT", 0},
    {"certificate revoked", 205, "X509_V_ERR_CERT_REVOKED", 0},
};

int lp_map_known(lp_session *s, const char *t, const char *end)
{
    for (size_t i = 0; i < sizeof(lp_reasons) / sizeof(lp_reasons[0]); i++) {
        if (lp_find(t, end, lp_reasons[i].text, strlen(lp_reasons[i].text))) {
            s->result = lp_reasons[i].result;
            s->dane = lp_reasons[i].dane;
            snprintf(s->reason, sizeof(s->reason), "%s", lp_reasons[i].code);
            return 1;
        }
    }
    return 0;
}

/* ---- per-process state ---- */

static int lp_proc_live(const htable_entry *e, void *ctx)
{
    logparse *lp = ctx;
    const lp_proc *pr = e->value;

    /* An attempt just reported stays known for its further recipients' lines. */
    if (pr->seen + LOGPARSE_EXPIRE >= lp->last &&
        (pr->npend || pr->has_fail || pr->last_time + 2 >= lp->last))
        return 1;
    lp->st.unmatched += pr->npend + (size_t)pr->has_fail;
    return 0;
}

static int lp_own_live(const htable_entry *e, void *ctx)
{
    const logparse *lp = ctx;

    return (time_t)(uintptr_t)e->value + 2 * 86400 >= lp->last;
}

void lp_expire(logparse *lp)
{
    /* In place: a rebuild through a sorted copy, once a minute of log time, was a fifth of
     * import-log's CPU time. */
    htable_drop(lp->procs, lp_proc_live, lp, myfree_value);
    htable_drop(lp->own, lp_own_live, lp, NULL);
    lp->next_expire = lp->last + 60;
}

lp_proc *lp_proc_get(logparse *lp, const char *key, size_t klen, int create)
{
    htable_entry *e = htable_locate(lp->procs, key, klen);
    if (e)
        return e->value;
    if (!create)
        return NULL;
    if (lp->procs->used >= LOGPARSE_MAX_PROCS) {
        lp_expire(lp);
        if (lp->procs->used >= LOGPARSE_MAX_PROCS) {
            lp->st.state_full++;
            return NULL;
        }
    }
    e = htable_enter(lp->procs, key, klen, NULL);
    e->value = mycalloc(1, sizeof(lp_proc));
    return e->value;
}

void lp_push(logparse *lp, lp_proc *pr, const lp_session *s)
{
    if (pr->npend == LP_MAX_PENDING) {
        memmove(pr->pend, pr->pend + 1, (LP_MAX_PENDING - 1) * sizeof(lp_session));
        pr->npend--;
        lp->st.unmatched++;
    }
    pr->pend[pr->npend++] = *s;
}

/* ---- policy attribution and emission ---- */

/* Policy lookups are cached for one UTC day (what was applied may change the next). */
static void lp_cache_day(logparse *lp, const char *day)
{
    if (strcmp(day, lp->sts_day) != 0 ||
        lp->sts_cache->used + lp->tlsa_cache->used >= LP_MAX_STS_CACHE) {
        htable_free(lp->sts_cache, NULL);
        htable_free(lp->tlsa_cache, NULL);
        lp->sts_cache = htable_create(256);
        lp->tlsa_cache = htable_create(64);
        arena_reset(&lp->sts_mem);
        snprintf(lp->sts_day, sizeof(lp->sts_day), "%s", day);
    }
}

static const lp_tlsa_entry *lp_tlsa(logparse *lp, const char *day, const char *host, unsigned port)
{
    char key[DOMAIN_MAX + 8];
    int created;

    if (lp->tlsa_fn == NULL || host[0] == 0)
        return NULL;
    lp_cache_day(lp, day);
    int n = snprintf(key, sizeof(key), "%s:%u", host, port);
    htable_entry *e = htable_enter(lp->tlsa_cache, key, (size_t)n, &created);
    if (created) {
        lp_tlsa_entry *te = arena_alloc(&lp->sts_mem, sizeof(*te));
        te->rr = NULL;
        te->n = lp->tlsa_fn(lp->tlsa_ctx, host, port, &lp->sts_mem, &te->rr);
        e->value = te;
    }
    return e->value;
}

static const lp_sts_entry *lp_sts(logparse *lp, const char *day, const char *domain)
{
    if (lp->sts_fn == NULL)
        return NULL;
    lp_cache_day(lp, day);
    int created;
    htable_entry *e = htable_enter(lp->sts_cache, domain, strlen(domain), &created);
    if (created) {
        lp_sts_entry *se = arena_alloc(&lp->sts_mem, sizeof(*se));
        memset(se, 0, sizeof(*se));
        se->found = lp->sts_fn(lp->sts_ctx, day, domain, &lp->sts_mem, &se->sts) == 1;
        e->value = se;
    }
    const lp_sts_entry *se = e->value;
    return se->found ? se : NULL;
}

static const char **lp_strv(arena *a, const char *const *v, size_t n)
{
    const char **out = arena_alloc(a, (n ? n : 1) * sizeof(*out));
    for (size_t i = 0; i < n; i++)
        out[i] = arena_strdup(a, v[i]);
    return out;
}

/* A session Postfix accepted, judged against the MTA-STS policy applied to its domain:
 * the MX must match the policy's mx patterns and present a trusted certificate. Under
 * enforce, Postfix's "secure" level delivers only over such sessions; under testing the
 * policy service answers NOTFOUND and Postfix delivers at its default level ("may" does
 * not check the name: "Trusted" passes), so the log holds what the policy would refuse.
 * Returns the result (0: success) and sets *reason. */
static int lp_sts_judge(const lp_sts_entry *se, const lp_session *s, const char **reason)
{
    if (s->host[0]) {
        size_t i = 0;
        while (i < se->sts.nmx && !sts_mx_match(se->sts.mx[i], s->host))
            i++;
        if (i == se->sts.nmx) {
            *reason = "mx-not-in-sts-policy";
            return 205;
        }
    }
    if (s->level == 'A') {
        *reason = "no-certificate";
        return 205;
    }
    if (s->level == 'U') {
        *reason = NULL; /* Postfix does not log why unless verification was required */
        return 203;
    }
    return 0;
}

void lp_emit(logparse *lp, const lp_session *s, const char *domain, time_t when)
{
    outcome *o = &lp->o;
    char day[SPOOL_DAY_LEN + 1];
    int result = s->result;
    const char *reason = s->reason[0] ? s->reason : NULL;

    outcome_clear(o);
    o->received = when;
    o->source = lp->source;
    o->domain = arena_strdup(&o->mem, domain);
    o->record = NULL;
    o->npolicies = 1;
    o->policies = arena_alloc(&o->mem, sizeof(outcome_policy));
    outcome_policy *p = o->policies;
    memset(p, 0, sizeof(*p));
    spool_day_of(when, day);
    const lp_sts_entry *se = s->dane ? NULL : lp_sts(lp, day, domain);
    const lp_tlsa_entry *te = NULL;
    /* Postfix logs "Verified" for a TLSA match but also for CA trust plus a name match
     * (the verify and secure levels, e.g. per-destination policy entries): only an MX
     * with DNSSEC-validated TLSA records makes a verified session a DANE one. */
    if (s->dane || (se == NULL && s->level == 'V'))
        te = lp_tlsa(lp, day, s->host, s->port ? s->port : 25);
    if (s->dane || (se == NULL && s->level == 'V' && te && te->n)) {
        /* The TLSA base domain is the MX. */
        p->type = OUTCOME_POLICY_TLSA;
        p->domain = arena_strdup(&o->mem, s->host);
        if (te && te->n) {
            p->strings = lp_strv(&o->mem, te->rr, te->n);
            p->nstrings = te->n;
        }
    } else if (se) {
        p->type = OUTCOME_POLICY_STS;
        p->domain = o->domain;
        p->strings = lp_strv(&o->mem, se->sts.strings, se->sts.nstrings);
        p->nstrings = se->sts.nstrings;
        p->mx_hosts = lp_strv(&o->mem, se->sts.mx, se->sts.nmx);
        p->nmx_hosts = se->sts.nmx;
        if (result == 0)
            result = lp_sts_judge(se, s, &reason);
    } else {
        p->type = OUTCOME_POLICY_NONE;
        p->domain = o->domain;
    }
    if (result) {
        p->failed = 1;
        p->nfailures = 1;
        p->failures = arena_alloc(&o->mem, sizeof(outcome_failure));
        outcome_failure *f = p->failures;
        memset(f, 0, sizeof(*f));
        f->result = result;
        f->mx_hostname = s->host[0] ? arena_strdup(&o->mem, s->host) : NULL;
        f->receiving_ip = s->ip[0] ? arena_strdup(&o->mem, s->ip) : NULL;
        f->reason_code = reason ? arena_strdup(&o->mem, reason) : NULL;
    }
    stsjoin_outcome(o, lp->failures, s->host, s->ip);
    lp->st.outcomes++;
    lp->emit(o, lp->emit_ctx);
}

/* Whether an MTA-STS policy applied to domain on the day of when: smtp(8) delivered
 * without TLS over a new connection (the MX did not offer STARTTLS), which the policy
 * forbids. Without one Postfix's "may" level allows it and nothing is reported, as
 * Postfix >= 3.10's TLSRPT does not report a plaintext fallback at "may". */
int lp_plain_sts(logparse *lp, const char *domain, time_t when)
{
    char day[SPOOL_DAY_LEN + 1];

    spool_day_of(when, day);
    return lp_sts(lp, day, domain) != NULL;
}

/* Recipient domain of "to=<local@domain>" (or sendmail's bare address list) at p. */
int lp_rcpt_domain(const char *p, const char *end, char *out)
{
    const char *stop = p;
    int angle = p < end && *p == '<';
    if (angle)
        p++;
    stop = p;
    while (stop < end && *stop != (angle ? '>' : ',') && *stop != ' ')
        stop++;
    if (angle && (stop == end || *stop != '>'))
        return -1;
    const char *at = NULL;
    for (const char *q = p; q < stop; q++)
        if (*q == '@')
            at = q;
    if (at == NULL)
        return -1;
    return domain_normalize(at + 1, (size_t)(stop - at - 1), out, DOMAIN_MAX + 1);
}

/* "<YYYYMMDD.domain.otr-XXXXXXXX@submitter>": the Message-ID of our own report mail. */
int lp_own_msgid(const char *p, const char *end)
{
    if (end - p < 12 || *p != '<')
        return 0;
    for (int i = 1; i <= 8; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    if (p[9] != '.')
        return 0;
    const char *gt = memchr(p, '>', (size_t)(end - p));
    const char *otr = lp_find(p + 10, gt ? gt : end, ".otr-", 5);
    if (gt == NULL || otr == NULL || gt - otr < 5 + 8 + 2 || otr[13] != '@')
        return 0;
    for (int i = 5; i < 13; i++)
        if (!isxdigit((unsigned char)otr[i]))
            return 0;
    return 1;
}

void lp_own_add(logparse *lp, const char *qid, size_t qlen, time_t when)
{
    if (lp->own->used >= LOGPARSE_MAX_OWN)
        lp_expire(lp);
    if (lp->own->used >= LOGPARSE_MAX_OWN)
        return;
    htable_enter(lp->own, qid, qlen, NULL)->value = (void *)(uintptr_t)when;
}

/* Queue ids: Postfix short (hex) or long (base 52) ids, sendmail ids: alphanumerics. */
size_t lp_qid(const char *p, const char *end)
{
    size_t n = 0;
    while (p + n < end && n < LP_MAX_QID && isalnum((unsigned char)p[n]))
        n++;
    if (n < 5 || n >= LP_MAX_QID || p + n + 2 > end || p[n] != ':' || p[n + 1] != ' ')
        return 0;
    return n;
}
