/*
 * Role "policy": the MTA-STS policy service for Postfix's smtp_tls_policy_maps (socketmap).
 * One event-loop thread owns every client connection and the in-memory cache, and answers
 * each lookup of a known domain from memory; worker threads do the DNS and HTTPS work,
 * persist the cache (where the roles that see sessions find failed fetches, stsjoin.h),
 * and hand their results back through a queue and an eventfd. A misbehaving client
 * (malformed netstring, oversize request, stalled mid-request, not reading its replies)
 * only loses its own connection.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "domain.h"
#include "htable.h"
#include "metrics.h"
#include "fleet_db.h"
#include "msg.h"
#include "mymalloc.h"
#include "netstring.h"
#include "roles.h"
#include "sockets.h"
#include "spool.h"
#include "sts_applied.h"
#include "sts_cache.h"
#include "sts_fetch.h"

#define POLICY_MAX_CLIENTS     1024 /* Postfix runs default_process_limit (100) smtp(8) */
#define POLICY_MAX_PER_PEER    512  /* one uid (unix) or address (inet): half the room */
#define POLICY_REQUEST_MAX     1024 /* "<mapname> <domain>" */
#define POLICY_INBUF_MAX       (POLICY_REQUEST_MAX + 16)
#define POLICY_OUTBUF_MAX      (1024 * 1024) /* a client this far behind is not reading */
#define POLICY_REQUEST_TIMEOUT 10            /* seconds to finish a started request */
#define POLICY_IDLE_TIMEOUT    15            /* seconds; Postfix's socketmap client closes at 10 */
#define POLICY_TXT_RECHECK     60            /* seconds between TXT checks of a domain in use */
#define POLICY_RETRY_AFTER     300           /* seconds before a failed id is fetched again */
#define POLICY_STALE_RECHECK   5             /* seconds between checks of a policy due a refresh */
#define POLICY_WORKERS         4
#define POLICY_EVICT_AFTER     86400 /* an entry unused this long leaves memory */
#define POLICY_EVICT_EVERY     3600

/* A policy is refetched once half its max_age has passed, so one in use never expires. */
static int policy_stale(const sts_cache_entry *c, time_t now)
{
    return c->have_policy && now - c->fetched >= (time_t)c->policy.max_age / 2;
}

/* What the event loop knows of a domain; only the loop thread touches it. */
typedef struct policy_entry {
    sts_cache_entry c;
    int resolved; /* a first discovery finished (or the entry came from disk) */
    int busy;     /* a worker has it */
    time_t txt_checked;
    time_t used; /* last lookup */
    vstring *answer;
    time_t answer_until; /* recompute after (the policy expires) */
    long applied_day;    /* UTC day number the applied policy was last recorded */
    char last_error[96]; /* for logs: the last failure, also DNS ones */
} policy_entry;

typedef struct policy_job {
    struct policy_job *next;
    char domain[DOMAIN_MAX + 1];
    sts_cache_entry old, res; /* worker input / output */
    int have_old;
    time_t txt_checked;
    char last_error[96];
} policy_job;

typedef struct policy_client {
    int fd;
    char in[POLICY_INBUF_MAX];
    size_t inlen;
    vstring *out;
    size_t outoff;
    time_t since;       /* start of the pending request, or of idleness */
    policy_entry *wait; /* lookup waiting for a first discovery */
    char wait_domain[DOMAIN_MAX + 1];
    time_t wait_until;
    uint64_t asked_us; /* when the request being answered came (for the metrics) */
    char peer[64];     /* sockets_peer: whom the per-peer cap counts */
} policy_client;

typedef struct policy_state {
    const config *cfg;
    spool *sp;
    htable *cache;
    pthread_mutex_t qlock;
    pthread_cond_t qcond;
    policy_job *todo, *todo_tail, *done;
    int stopping;
    unsigned long fetched, failed;                     /* under qlock */
    unsigned long lookups, waited, timed_out, dropped; /* the loop thread's */
    unsigned long evicted, over_peer_cap;              /* the loop thread's */
    int efd;                                           /* workers -> loop: results are ready */
    sts_fetch_opts fopts;
} policy_state;

static int policy_enabled(const config *cfg)
{
    return *cfg->policy_socket != 0;
}

static int policy_prepare(const config *cfg, const config *old, role_ctx *ctx)
{
    const char *s = cfg->policy_socket;
    int fd;

    if (old && ctx->nfds && strcmp(old->policy_socket, s) == 0 &&
        strcmp(old->policy_socket_owner, cfg->policy_socket_owner) == 0 &&
        strcmp(old->policy_socket_group, cfg->policy_socket_group) == 0 &&
        old->policy_socket_mode == cfg->policy_socket_mode)
        return 0;
    fd = sockets_listen("policy_socket", s, cfg->policy_socket_owner, cfg->policy_socket_group,
                        (mode_t)cfg->policy_socket_mode);
    if (fd < 0)
        return -1;
    role_ctx_close(ctx);
    ctx->fds[0] = fd;
    ctx->nfds = 1;
    msg_info("policy: listening on %s", s);
    return 0;
}

/* ---- workers ---- */

/* Counts a failed fetch by result type and by the mode of the policy known before it. */
static void policy_count_failure(const sts_cache_entry *known, int result)
{
    int mode = METRICS_MODE_UNKNOWN;

    if (known->have_policy)
        mode = known->policy.mode == STS_MODE_ENFORCE   ? METRICS_MODE_ENFORCE
               : known->policy.mode == STS_MODE_TESTING ? METRICS_MODE_TESTING
                                                        : METRICS_MODE_NONE;
    if (result >= 200 && result < 200 + METRICS_NRESULTS)
        counter_add(&metrics->policy.fetch_failures[mode][result - 200], 1);
}

/* Discovers the policy of job->domain: TXT first, then the HTTPS fetch when needed. */
static void policy_refresh(policy_state *st, dns_resolver *dns, policy_job *job)
{
    time_t now = time(NULL);
    char id[STS_ID_MAX + 1];
    const char *why;
    sts_cache_entry *r = &job->res;

    if (job->have_old)
        sts_cache_entry_copy(r, &job->old);
    else
        memset(r, 0, sizeof(*r));
    job->txt_checked = now;
    sts_txt_status ts =
        dns ? sts_fetch_txt(dns, job->domain, id, sizeof(id), &why) : STS_TXT_TEMPFAIL;
    if (!dns)
        why = "no-resolver";
    if (ts == STS_TXT_TEMPFAIL) {
        snprintf(job->last_error, sizeof(job->last_error), "TXT lookup failed (%s)", why);
        return; /* keep what we have; a later lookup tries again */
    }
    if (ts != STS_TXT_FOUND) {
        if (ts == STS_TXT_INVALID)
            snprintf(job->last_error, sizeof(job->last_error), "TXT record ignored (%s)", why);
        /* RFC 8461 5.1: a cached, unexpired policy stays in force without its TXT record. */
        int changed = r->failed_at != 0;
        if (!sts_cache_usable(r, now) && r->have_policy) {
            sts_policy_free(&r->policy);
            r->have_policy = 0;
            changed = 1;
        }
        /* A domain that no longer publishes MTA-STS has no policy to fail on: an earlier
         * failure must not reach Postfix as policy_failure. */
        sts_cache_forget_failure(r);
        if (changed)
            sts_cache_save(spool_dir(st->sp), job->domain, r);
        return;
    }
    /* DANE first (RFC 8461 section 2): checked at each TXT check, as the MX and TLSA
     * records may change under an unchanged policy. */
    r->dane = strncmp(st->cfg->postfix_tls_level, "dane", 4) == 0 && dns_mx_dane(dns, job->domain);
    if (r->have_policy && strcmp(r->id, id) == 0 && !policy_stale(r, now))
        return;
    if (r->failed_at && strcmp(r->failed_id, id) == 0 && now - r->failed_at < POLICY_RETRY_AFTER)
        return; /* RFC 8461 3.3: do not hammer a failing policy host */
    /* Fleet mode: another host may have fetched this policy id already; taking it keeps
     * one policy across the fleet (and one fetch). */
    sts_cache_entry shared;
    if (fleet_enabled(st->cfg) && sts_cache_load(spool_dir(st->sp), job->domain, &shared) == 1) {
        if (shared.have_policy && strcmp(shared.id, id) == 0 && !policy_stale(&shared, now)) {
            int dane = r->dane;
            sts_cache_entry_free(r);
            *r = shared;
            r->dane = dane;
            msg_info("policy: %s: id %s from the fleet's cache", job->domain, id);
            return;
        }
        sts_cache_entry_free(&shared);
    }

    sts_fetch_result fr;
    sts_fetch_opts fo = st->fopts;
    fo.dns = dns;
    sts_fetch_policy(job->domain, &fo, &fr);
    now = time(NULL);
    if (fr.result != 0 && strcmp(fr.reason, "cancelled") == 0) {
        sts_fetch_result_free(&fr); /* stopping: not the domain's failure */
        return;
    }
    if (fr.result == 0) {
        sts_policy_free(&r->policy);
        r->policy = fr.policy;
        memset(&fr.policy, 0, sizeof(fr.policy));
        r->have_policy = 1;
        snprintf(r->id, sizeof(r->id), "%s", id);
        r->fetched = now;
        r->expires = now + (time_t)r->policy.max_age;
        sts_cache_forget_failure(r);
        msg_info("policy: %s: fetched id %s (%s)", job->domain, id, fr.detail);
        counter_add(&metrics->policy.fetches, 1);
        pthread_mutex_lock(&st->qlock);
        st->fetched++;
        pthread_mutex_unlock(&st->qlock);
    } else {
        r->failed_at = now;
        snprintf(r->failed_id, sizeof(r->failed_id), "%s", id);
        snprintf(r->failed_reason, sizeof(r->failed_reason), "%s", fr.reason);
        r->failed_result = fr.result;
        snprintf(job->last_error, sizeof(job->last_error), "%s %s", outcome_result_name(fr.result),
                 fr.reason);
        msg_warn("policy: %s: policy id %s not fetched: %s %s: %s%s", job->domain, id,
                 outcome_result_name(fr.result), fr.reason, fr.detail,
                 sts_cache_usable(r, now) ? " (keeping the cached policy)" : "");
        policy_count_failure(r, fr.result);
        pthread_mutex_lock(&st->qlock);
        st->failed++;
        pthread_mutex_unlock(&st->qlock);
    }
    sts_fetch_result_free(&fr);
    sts_cache_save(spool_dir(st->sp), job->domain, r);
}

static void *policy_worker(void *arg)
{
    policy_state *st = arg;
    dns_resolver *dns = dns_resolver_new(st->cfg);

    /* Bounded so that a stopping role is not held up by a silent DNS server (the HTTPS
     * fetch itself is cancelled by role_stop). */
    if (dns)
        dns_resolver_set_timeout(
            dns, st->cfg->sts_fetch_timeout < 10 ? (int)st->cfg->sts_fetch_timeout : 10);
    for (;;) {
        pthread_mutex_lock(&st->qlock);
        while (!st->todo && !st->stopping)
            pthread_cond_wait(&st->qcond, &st->qlock);
        policy_job *job = st->todo;
        if (!job) {
            pthread_mutex_unlock(&st->qlock);
            break;
        }
        st->todo = job->next;
        if (!st->todo)
            st->todo_tail = NULL;
        pthread_mutex_unlock(&st->qlock);

        policy_refresh(st, dns, job);

        pthread_mutex_lock(&st->qlock);
        job->next = st->done;
        st->done = job;
        pthread_mutex_unlock(&st->qlock);
        uint64_t one = 1;
        if (write(st->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            msg_warn("policy: eventfd write: %m");
    }
    dns_resolver_free(dns);
    return NULL;
}

/* ---- the event loop ---- */

static policy_entry *policy_entry_new(void)
{
    policy_entry *e = mycalloc(1, sizeof(*e));
    e->answer = vstring_alloc(0);
    e->applied_day = -1;
    return e;
}

static void policy_entry_free(void *p)
{
    policy_entry *e = p;
    sts_cache_entry_free(&e->c);
    vstring_free(e->answer);
    myfree(e);
}

static void policy_enqueue(policy_state *st, const char *domain, policy_entry *e)
{
    policy_job *job = mycalloc(1, sizeof(*job));

    snprintf(job->domain, sizeof(job->domain), "%s", domain);
    if (e->resolved || e->c.have_policy || e->c.failed_at) {
        sts_cache_entry_copy(&job->old, &e->c);
        job->have_old = 1;
    }
    e->busy = 1;
    pthread_mutex_lock(&st->qlock);
    if (st->todo_tail)
        st->todo_tail->next = job;
    else
        st->todo = job;
    st->todo_tail = job;
    pthread_cond_signal(&st->qcond);
    pthread_mutex_unlock(&st->qlock);
}

/* Returns the current answer of e (recomputed when its policy expired), recording the
 * applied policy once per UTC day. */
static const vstring *policy_answer(policy_state *st, const char *domain, policy_entry *e,
                                    time_t now)
{
    if (now >= e->answer_until || e->answer->len == 0) {
        sts_cache_answer(&e->c, domain, now, (int)st->cfg->postfix_tlsrpt_attributes,
                         st->cfg->testing_policy, st->cfg->postfix_tls_level, e->answer);
        e->answer_until = sts_cache_usable(&e->c, now) ? e->c.expires : now + 3600 * 24 * 365;
    }
    /* A domain left to DANE applies no STS policy: the log role then looks at its TLSA. */
    if (sts_cache_usable(&e->c, now) && e->c.policy.mode != STS_MODE_NONE && !e->c.dane &&
        e->applied_day != (long)(now / 86400)) {
        e->applied_day = (long)(now / 86400);
        sts_applied_record(spool_dir(st->sp), now, domain, (const char *const *)e->c.policy.lines,
                           e->c.policy.nlines, (const char *const *)e->c.policy.mx,
                           e->c.policy.nmx);
    }
    return e->answer;
}

/* Every answer goes through here: counted by kind, timed from its request. */
static void policy_client_reply(policy_client *cl, const char *data, size_t len)
{
    netstring_append(cl->out, data, len);
    counter_add(&metrics->policy.answers[metrics_answer_kind(data, len)], 1);
    hist_observe(&metrics->policy.latency, counters_now_us() - cl->asked_us);
}

/* Handles one request; returns 1 when answered, 0 when the client now waits for a fetch. */
static int policy_lookup(policy_state *st, policy_client *cl, const char *req, size_t len,
                         time_t now)
{
    const char *sp = memchr(req, ' ', len);
    char domain[DOMAIN_MAX + 1];

    /* Keys that are not a plain domain (".parent" lookups, "[host]:port") have no policy. */
    if (!sp || sp == req || sp[1] == '.' || sp[1] == '[' ||
        domain_normalize(sp + 1, len - (size_t)(sp + 1 - req), domain, sizeof(domain)) < 0) {
        policy_client_reply(cl, "NOTFOUND ", 9);
        return 1;
    }
    st->lookups++;
    htable_entry *he = htable_locate(st->cache, domain, strlen(domain));
    policy_entry *e = he ? he->value : NULL;
    if (!e) {
        int created;
        sts_cache_entry c;
        he = htable_enter(st->cache, domain, strlen(domain), &created);
        he->value = e = policy_entry_new();
        /* Evicted from memory a while ago: a policy still on disk answers at once. */
        if (sts_cache_load(spool_dir(st->sp), domain, &c) == 1) {
            e->c = c;
            e->resolved = sts_cache_usable(&c, now);
        }
    }
    e->used = now;
    if (!e->busy && (!e->resolved || now - e->txt_checked >= POLICY_TXT_RECHECK ||
                     (policy_stale(&e->c, now) && now - e->txt_checked >= POLICY_STALE_RECHECK)))
        policy_enqueue(st, domain, e);
    if (!e->resolved) {
        st->waited++;
        cl->wait = e;
        snprintf(cl->wait_domain, sizeof(cl->wait_domain), "%s", domain);
        cl->wait_until = now + (time_t)st->cfg->policy_lookup_timeout;
        return 0;
    }
    const vstring *a = policy_answer(st, domain, e, now);
    policy_client_reply(cl, a->data, a->len);
    return 1;
}

/* Answers what is complete in cl->in; returns -1 when the client must be dropped. */
static int policy_client_process(policy_state *st, policy_client *cl, time_t now)
{
    size_t off = 0;

    while (!cl->wait && off < cl->inlen) {
        const char *data;
        size_t dlen, used;
        netstring_status ns =
            netstring_parse(cl->in + off, cl->inlen - off, POLICY_REQUEST_MAX, &data, &dlen, &used);
        if (ns == NETSTRING_ERROR)
            return -1;
        if (ns == NETSTRING_MORE)
            break;
        cl->asked_us = counters_now_us();
        policy_lookup(st, cl, data, dlen, now);
        off += used;
        cl->since = now;
    }
    memmove(cl->in, cl->in + off, cl->inlen - off);
    cl->inlen -= off;
    if (cl->out->len - cl->outoff > POLICY_OUTBUF_MAX)
        return -1;
    return 0;
}

static int policy_client_flush(policy_client *cl)
{
    while (cl->outoff < cl->out->len) {
        ssize_t n = send(cl->fd, cl->out->data + cl->outoff, cl->out->len - cl->outoff,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0)
            return -1;
        cl->outoff += (size_t)n;
    }
    vstring_reset(cl->out);
    cl->outoff = 0;
    return 0;
}

static void policy_client_close(policy_client **clients, size_t *n, size_t i)
{
    close(clients[i]->fd);
    vstring_free(clients[i]->out);
    myfree(clients[i]);
    clients[i] = clients[--*n];
}

static void policy_load_one(const char *domain, const sts_cache_entry *c, void *ctx)
{
    policy_state *st = ctx;
    int created;
    htable_entry *he = htable_enter(st->cache, domain, strlen(domain), &created);
    policy_entry *e = created ? policy_entry_new() : he->value;

    sts_cache_entry_free(&e->c);
    sts_cache_entry_copy(&e->c, c);
    /* A valid policy answers at once (the first lookup re-checks the TXT id behind); an
     * expired one is kept for its id and last failure, and the first lookup waits. */
    e->resolved = sts_cache_usable(c, time(NULL));
    he->value = e;
}

/* Takes the workers' results into the cache and answers the clients waiting for them. */
static void policy_collect(policy_state *st, policy_client **clients, size_t nclients, time_t now)
{
    pthread_mutex_lock(&st->qlock);
    policy_job *done = st->done;
    st->done = NULL;
    pthread_mutex_unlock(&st->qlock);
    while (done) {
        policy_job *job = done;
        done = job->next;
        htable_entry *he = htable_locate(st->cache, job->domain, strlen(job->domain));
        policy_entry *e = he ? he->value : NULL;
        if (e) {
            sts_cache_entry_free(&e->c);
            e->c = job->res;
            memset(&job->res, 0, sizeof(job->res));
            e->resolved = 1;
            e->busy = 0;
            e->txt_checked = job->txt_checked;
            snprintf(e->last_error, sizeof(e->last_error), "%s", job->last_error);
            e->answer_until = 0; /* recompute */
            for (size_t i = 0; i < nclients; i++) {
                if (clients[i]->wait != e)
                    continue;
                const vstring *a = policy_answer(st, job->domain, e, now);
                policy_client_reply(clients[i], a->data, a->len);
                clients[i]->wait = NULL;
            }
        }
        sts_cache_entry_free(&job->old);
        sts_cache_entry_free(&job->res);
        myfree(job);
    }
}

/* Queues a refresh of the policies due one that no lookup has refreshed, for domains
 * looked up within their max_age (others are left to expire). */
static void policy_sweep(policy_state *st, time_t now)
{
    for (size_t b = 0; b < st->cache->size; b++) {
        for (htable_entry *he = st->cache->buckets[b]; he; he = he->next) {
            policy_entry *e = he->value;
            if (!e->busy && policy_stale(&e->c, now) &&
                now - e->txt_checked >= POLICY_STALE_RECHECK && sts_cache_usable(&e->c, now) &&
                now - e->used < (time_t)e->c.policy.max_age)
                policy_enqueue(st, he->key, e);
        }
    }
}

/* The cache's gauges, for the metrics: a walk of the cache now and then, off the lookups. */
static void policy_gauges(policy_state *st, time_t now)
{
    uint64_t policies = 0;
    time_t oldest = 0;

    for (size_t b = 0; b < st->cache->size; b++)
        for (htable_entry *he = st->cache->buckets[b]; he; he = he->next) {
            const policy_entry *e = he->value;
            if (sts_cache_usable(&e->c, now)) {
                policies++;
                if (oldest == 0 || e->c.fetched < oldest)
                    oldest = e->c.fetched;
            }
        }
    counter_set(&metrics->policy.cache_entries, st->cache->used);
    counter_set(&metrics->policy.cache_policies, policies);
    counter_set(&metrics->policy.cache_oldest_fetch, (uint64_t)oldest);
}

/* Forgets the domains not looked up for a day, so that memory follows the domains in use
 * and not every domain ever mailed; the disk copy of an expired policy goes too. */
static void policy_evict(policy_state *st, policy_client **clients, size_t nclients, time_t now)
{
    htable *keep = htable_create(st->cache->used);
    size_t dropped = 0;

    for (size_t b = 0; b < st->cache->size; b++) {
        for (htable_entry *he = st->cache->buckets[b]; he; he = he->next) {
            policy_entry *e = he->value;
            int waited = 0, created;
            for (size_t i = 0; i < nclients && !waited; i++)
                waited = clients[i]->wait == e;
            if (e->busy || waited || now - e->used < POLICY_EVICT_AFTER) {
                htable_enter(keep, he->key, he->klen, &created)->value = e;
                continue;
            }
            if (!sts_cache_usable(&e->c, now) &&
                (!e->c.failed_at || now - e->c.failed_at > POLICY_EVICT_AFTER)) {
                sts_cache_entry none;
                memset(&none, 0, sizeof(none));
                sts_cache_save(spool_dir(st->sp), he->key, &none); /* removes the file */
            }
            policy_entry_free(e);
            dropped++;
        }
    }
    htable_free(st->cache, NULL);
    st->cache = keep;
    if (dropped)
        msg_info("policy: %zu domains unused for a day forgotten, %zu kept", dropped, keep->used);
}

static int policy_client_idle(const policy_client *cl)
{
    return !cl->wait && cl->inlen == 0 && cl->outoff == cl->out->len;
}

/* The index of the client idle the longest, of peer's only unless peer is NULL; n when
 * none is idle. *same counts peer's clients (all of them with NULL). */
static size_t policy_oldest_idle(policy_client **clients, size_t n, const char *peer, size_t *same)
{
    size_t best = n;

    *same = 0;
    for (size_t i = 0; i < n; i++) {
        if (peer && strcmp(clients[i]->peer, peer) != 0)
            continue;
        ++*same;
        if (policy_client_idle(clients[i]) &&
            (best == n || clients[i]->since < clients[best]->since))
            best = i;
    }
    return best;
}

/* Makes room for one more client when all places are taken: closes the client idle the
 * longest (an idle connection costs its owner nothing to reopen). 0, or -1 when every
 * client has a request in progress. */
static int policy_evict_idle(policy_state *st, policy_client **clients, size_t *nclients)
{
    size_t all, best = policy_oldest_idle(clients, *nclients, NULL, &all);

    if (best == *nclients)
        return -1;
    st->evicted++;
    policy_client_close(clients, nclients, best);
    return 0;
}

/* Accepts what is pending on the listener. A peer (uid or address) holds at most
 * POLICY_MAX_PER_PEER connections, so that one local user cannot take every place from
 * Postfix; when all places are taken, the longest idle client makes room. */
static void policy_accept(policy_state *st, int lfd, policy_client **clients, size_t *nclients,
                          time_t now, time_t *accept_pause, msg_rate *rate)
{
    for (;;) {
        if (*nclients >= POLICY_MAX_CLIENTS && policy_evict_idle(st, clients, nclients) < 0) {
            *accept_pause = now + 1; /* all busy: the kernel's backlog holds the rest */
            return;
        }
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
            /* Out of descriptors: leave the listener alone a second, not spin on it. */
            if (msg_rate_ok(rate))
                msg_warn("policy: accept: %m");
            *accept_pause = now + 1;
        }
        if (fd < 0)
            return;
        policy_client *cl = mycalloc(1, sizeof(*cl));
        sockets_peer(fd, cl->peer, sizeof(cl->peer));
        size_t same, oldest = policy_oldest_idle(clients, *nclients, cl->peer, &same);
        if (same >= POLICY_MAX_PER_PEER) {
            /* The peer makes room itself: its longest idle connection goes, or the new one
             * when all of its connections are busy. */
            if (st->over_peer_cap++ == 0 || msg_rate_ok(rate))
                msg_warn("policy: %s holds %zu connections, the most one peer may", cl->peer, same);
            if (oldest == *nclients) {
                close(fd);
                myfree(cl);
                continue;
            }
            st->evicted++;
            policy_client_close(clients, nclients, oldest);
        }
        cl->fd = fd;
        cl->out = vstring_alloc(0);
        cl->since = now;
        clients[(*nclients)++] = cl;
    }
}

static int policy_run(const config *cfg, role_ctx *ctx)
{
    policy_state st;
    policy_client **clients = mycalloc(POLICY_MAX_CLIENTS, sizeof(*clients));
    struct pollfd *pfd = mycalloc(POLICY_MAX_CLIENTS + 2, sizeof(*pfd));
    pthread_t workers[POLICY_WORKERS];
    size_t nclients = 0;
    int lfd = ctx->fds[0];
    time_t last_sweep = time(NULL), last_evict = time(NULL), accept_pause = 0, last_gauges = 0;
    msg_rate accept_rate = MSG_RATE_INIT(5, 60);

    role_fleet_share(cfg);

    memset(&st, 0, sizeof(st));
    st.cfg = cfg;
    st.sp = spool_open(cfg->spool_directory);
    pthread_mutex_init(&st.qlock, NULL);
    pthread_cond_init(&st.qcond, NULL);
    st.cache = htable_create(1024);
    st.fopts.timeout = (long)cfg->sts_fetch_timeout;
    st.fopts.ca_file = cfg->https_ca_file;
    if ((st.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
        msg_fatal("policy: eventfd: %m");
    sts_fetch_global_init();
    /* The loop resolves nothing itself; each worker has its own resolver (one per thread). */
    dns_resolver *probe = dns_resolver_new(cfg);
    if (!probe)
        msg_warn("policy: no usable resolver: every lookup answers NOTFOUND");
    dns_resolver_free(probe);
    st.fopts.allow_private = (int)cfg->https_allow_private;
    st.fopts.cancel = &role_stop;
    size_t loaded = sts_cache_load_all(cfg->spool_directory, policy_load_one, &st);
    msg_info("policy: %zu cached policies loaded", loaded);
    fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
    /* Room for every client the loop keeps (the usual soft limit is 1024). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < POLICY_MAX_CLIENTS + 64) {
        rl.rlim_cur = rl.rlim_max < POLICY_MAX_CLIENTS + 64 ? rl.rlim_max : POLICY_MAX_CLIENTS + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    for (int i = 0; i < POLICY_WORKERS; i++)
        if (pthread_create(&workers[i], NULL, policy_worker, &st) != 0)
            msg_fatal("policy: cannot start a worker thread");

    while (!role_stop) {
        time_t now = time(NULL);
        int timeout = 1000;
        pfd[0] = (struct pollfd){lfd, now >= accept_pause ? POLLIN : 0, 0};
        pfd[1] = (struct pollfd){st.efd, POLLIN, 0};
        for (size_t i = 0; i < nclients; i++) {
            policy_client *cl = clients[i];
            short ev = cl->wait ? 0 : POLLIN; /* one request at a time, like Postfix */
            if (cl->outoff < cl->out->len)
                ev |= POLLOUT;
            pfd[i + 2] = (struct pollfd){cl->fd, ev, 0};
        }
        int n = poll(pfd, nclients + 2, timeout);
        if (n < 0 && errno != EINTR)
            msg_fatal("policy: poll: %m");
        now = time(NULL);
        if (n > 0 && (pfd[1].revents & POLLIN)) {
            uint64_t v;
            if (read(st.efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                msg_warn("policy: eventfd read: %m");
            policy_collect(&st, clients, nclients, now);
        }
        /* Clients, walked backwards so that closing one (swap with the last) is safe. */
        for (size_t i = nclients; i-- > 0;) {
            policy_client *cl = clients[i];
            short rev = n > 0 ? pfd[i + 2].revents : 0;
            int drop = 0;
            if (rev & POLLIN) {
                ssize_t r =
                    recv(cl->fd, cl->in + cl->inlen, sizeof(cl->in) - cl->inlen, MSG_DONTWAIT);
                if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                    drop = 1;
                else if (r > 0) {
                    if (cl->inlen == 0)
                        cl->since = now;
                    cl->inlen += (size_t)r;
                    drop = policy_client_process(&st, cl, now) < 0;
                }
            } else if (rev & (POLLHUP | POLLERR | POLLNVAL)) {
                drop = 1;
            }
            if (!drop && cl->wait && now >= cl->wait_until) {
                /* The first fetch goes on in the background; Postfix gets no policy now. */
                policy_client_reply(cl, "NOTFOUND ", 9);
                cl->wait = NULL;
                st.timed_out++;
            }
            if (!drop && !cl->wait && cl->inlen > 0 && !(rev & POLLIN))
                drop = policy_client_process(&st, cl, now) < 0; /* pipelined after a wait */
            if (!drop && !cl->wait && cl->inlen > 0 && now - cl->since > POLICY_REQUEST_TIMEOUT)
                drop = 1; /* a request started and never finished */
            if (!drop && policy_client_idle(cl) && now - cl->since > POLICY_IDLE_TIMEOUT)
                drop = 1;
            if (!drop && cl->outoff < cl->out->len)
                drop = policy_client_flush(cl) < 0;
            if (!drop && cl->outoff < cl->out->len && now - cl->since > POLICY_REQUEST_TIMEOUT)
                drop = 1; /* not reading its answers */
            if (drop) {
                st.dropped += cl->inlen > 0 || cl->outoff < cl->out->len;
                policy_client_close(clients, &nclients, i);
            }
        }
        if (n > 0 && (pfd[0].revents & POLLIN))
            policy_accept(&st, lfd, clients, &nclients, now, &accept_pause, &accept_rate);
        if (now - last_sweep >= 60) {
            last_sweep = now;
            policy_sweep(&st, now);
        }
        if (now != last_gauges) {
            last_gauges = now;
            policy_gauges(&st, now);
        }
        if (now - last_evict >= POLICY_EVICT_EVERY) {
            last_evict = now;
            policy_evict(&st, clients, nclients, now);
        }
    }

    pthread_mutex_lock(&st.qlock);
    st.stopping = 1;
    /* Jobs not started are dropped; running fetches finish within sts_fetch_timeout. */
    while (st.todo) {
        policy_job *j = st.todo;
        st.todo = j->next;
        sts_cache_entry_free(&j->old);
        myfree(j);
    }
    st.todo_tail = NULL;
    pthread_cond_broadcast(&st.qcond);
    pthread_mutex_unlock(&st.qlock);
    for (int i = 0; i < POLICY_WORKERS; i++)
        pthread_join(workers[i], NULL);
    policy_collect(&st, clients, nclients, time(NULL));
    for (size_t i = nclients; i-- > 0;) {
        policy_client_flush(clients[i]);
        policy_client_close(clients, &nclients, i);
    }
    msg_info("policy: stopping: lookups=%lu waited_for_first_fetch=%lu "
             "answered_notfound_after_timeout=%lu "
             "fetched=%lu fetch_failures=%lu connections_dropped_midrequest=%lu "
             "idle_connections_evicted=%lu connections_over_peer_cap=%lu domains=%zu",
             st.lookups, st.waited, st.timed_out, st.fetched, st.failed, st.dropped, st.evicted,
             st.over_peer_cap, st.cache->used);
    st.cache = htable_free(st.cache, policy_entry_free);
    spool_close(st.sp);
    close(st.efd);
    myfree(clients);
    myfree(pfd);
    return 0;
}

const role_ops role_policy = {
    .name = "policy",
    .enabled = policy_enabled,
    .prepare = policy_prepare,
    .run = policy_run,
};
