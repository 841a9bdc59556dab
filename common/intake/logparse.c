/*
 * Mail log parser: Postfix <= 3.9 smtp(8)/tlsproxy and sendmail TLS lines to outcomes.
 * Formats confirmed against real Postfix 3.7 and sendmail 8.17 runs (tests/data/logs/). The hot
 * path looks at the syslog header and the first bytes of the message only; everything else is
 * skipped before any real parsing.
 */
#include "logparse.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "logparse_int.h"
#include "mymalloc.h"

logparse *logparse_new(logparse_format format, int source, logparse_emit_fn emit, void *ctx)
{
    logparse *lp = mycalloc(1, sizeof(*lp));

    lp->format = format;
    lp->source = source;
    lp->emit = emit;
    lp->emit_ctx = ctx;
    lp->procs = htable_create(256);
    lp->own = htable_create(64);
    lp->sts_cache = htable_create(256);
    lp->tlsa_cache = htable_create(64);
    arena_init(&lp->sts_mem, 16384);
    lp->now = time(NULL);
    lp->c_mon = -1;
    outcome_init(&lp->o);
    return lp;
}

logparse *logparse_free(logparse *lp)
{
    if (lp) {
        htable_free(lp->procs, myfree_value);
        htable_free(lp->own, NULL);
        htable_free(lp->sts_cache, NULL);
        htable_free(lp->tlsa_cache, NULL);
        sts_failures_free(lp->failures);
        arena_destroy(&lp->sts_mem);
        outcome_done(&lp->o);
        myfree(lp);
    }
    return NULL;
}

void logparse_set_sts(logparse *lp, logparse_sts_fn fn, void *ctx)
{
    lp->sts_fn = fn;
    lp->sts_ctx = ctx;
}

void logparse_set_tlsa(logparse *lp, logparse_tlsa_fn fn, void *ctx)
{
    lp->tlsa_fn = fn;
    lp->tlsa_ctx = ctx;
}

void logparse_set_failures(logparse *lp, sts_failures *f)
{
    sts_failures_free(lp->failures);
    lp->failures = f;
}

void logparse_set_now(logparse *lp, time_t now)
{
    lp->now = now;
    lp->c_mon = -1;
}

const logparse_stats *logparse_stats_get(const logparse *lp)
{
    return &lp->st;
}

/* Free text for a report field: printable ASCII only, bounded. */
static void lp_copy_text(char *dst, size_t size, const char *s, size_t n)
{
    size_t j = 0;

    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    for (size_t i = 0; i < n && j + 1 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    dst[j] = 0;
}

/* ---- result mapping (the known texts: lp_map_known, logparse_session.c) ---- */

/* Fills s->result, reason and dane from a verification failure text. */
static void lp_map_reason(lp_session *s, const char *t, const char *end)
{
    if (lp_map_known(s, t, end))
        return;
    s->result = 205;
    s->dane = 0;
    lp_copy_text(s->reason, sizeof(s->reason), t, (size_t)(end - t));
}

/* ---- host[ip] ---- */

/* Parses "host[ip]" at p (up to end); host normalized. Returns the byte after ']' or NULL. */
static const char *lp_hostip(const char *p, const char *end, char *host, char *ip)
{
    const char *lb = memchr(p, '[', (size_t)(end - p));
    if (lb == NULL || lb == p)
        return NULL;
    const char *rb = memchr(lb, ']', (size_t)(end - lb));
    if (rb == NULL || rb == lb + 1 || (size_t)(rb - lb - 1) >= LP_MAX_IP)
        return NULL;
    for (const char *q = lb + 1; q < rb; q++)
        if (!isxdigit((unsigned char)*q) && *q != '.' && *q != ':')
            return NULL;
    if (domain_normalize(p, (size_t)(lb - p), host, DOMAIN_MAX + 1) < 0)
        return NULL;
    lp_copy(ip, LP_MAX_IP, lb + 1, (size_t)(rb - lb - 1));
    return rb + 1;
}

/* ---- Postfix ---- */

static void lp_session_from(logparse *lp, lp_session *s, const char *host, const char *ip)
{
    memset(s, 0, sizeof(*s));
    s->pos = lp->mark;
    snprintf(s->host, sizeof(s->host), "%s", host);
    snprintf(s->ip, sizeof(s->ip), "%s", ip);
}

/* Whether the tag of key ("host postfix/smtp[pid]") names the program suffix ("/smtp"):
 * the part before the slash is Postfix's syslog_name, which sites change. */
static int lp_tag_is(const char *key, size_t klen, const char *suffix, size_t n)
{
    const char *lb = memrchr(key, '[', klen);
    return lb && (size_t)(lb - key) > n && memcmp(lb - n, suffix, n) == 0;
}
#define LP_TAG_IS(key, klen, lit) lp_tag_is((key), (klen), (lit), sizeof(lit) - 1)

/* Whether the delivery line's ", conn_use=N" (between relay and status) says the
 * connection came from the cache (N >= 2): no new session, TLS or not. */
static int lp_conn_reused(const char *relay, const char *status)
{
    const char *cu = LP_FIND(relay, status, ", conn_use=");
    unsigned n = 0;

    if (cu == NULL)
        return 0;
    for (const char *q = cu + sizeof(", conn_use=") - 1; q < status && *q >= '0' && *q <= '9'; q++)
        if (n < 1000)
            n = n * 10 + (unsigned)(*q - '0');
    return n >= 2;
}

/* The port after "host[ip]" (":25"), 25 when absent or invalid. */
static unsigned lp_port(const char *after, const char *end)
{
    unsigned port = 0;

    if (after < end && *after == ':')
        for (const char *q = after + 1; q < end && *q >= '0' && *q <= '9' && port < 65536; q++)
            port = port * 10 + (unsigned)(*q - '0');
    return port == 0 || port > 65535 ? 25 : port;
}

/* The state of the tlsproxy(8) handshakes with host[ip]:port logged by the syslog host of
 * key ("host tag[pid]"). One tlsproxy process serves many smtp(8) processes at once, so
 * its handshakes are kept per MX endpoint, which the delivery line names as its relay. */
static lp_proc *lp_tlsproxy(logparse *lp, const char *key, size_t klen, const char *host,
                            const char *ip, unsigned port, int create)
{
    char tkey[LP_MAX_TKEY];
    const char *sp = memchr(key, ' ', klen);
    size_t hl = sp ? (size_t)(sp - key) : klen;
    int n = snprintf(tkey, sizeof(tkey), "%.*s %s[%s]:%u", (int)hl, key, host, ip, port);

    if (n < 0 || (size_t)n >= sizeof(tkey))
        return NULL;
    return lp_proc_get(lp, tkey, (size_t)n, create);
}

/* "Xxx TLS connection established to host[ip]:port: ..." / "... verification failed for
 * host[ip]:port: reason" / "SSL_connect error to host[ip]:port: ..."; after points just
 * past "host[ip]". */
static void lp_postfix_tls(logparse *lp, lp_proc *pr, int kind, const char *host, const char *ip,
                           unsigned port, const char *after, const char *end, char level)
{
    lp_session s;
    if (kind == 'E') { /* established */
        if (pr->has_fail && strcmp(pr->fail.host, host) == 0 && strcmp(pr->fail.ip, ip) == 0) {
            s = pr->fail;
        } else {
            if (pr->has_fail)
                lp_push(lp, pr, &pr->fail);
            lp_session_from(lp, &s, host, ip);
            s.port = port;
        }
        s.level = level;
        pr->has_fail = 0;
        lp_push(lp, pr, &s);
        return;
    }
    if (pr->has_fail)
        lp_push(lp, pr, &pr->fail);
    lp_session_from(lp, &pr->fail, host, ip);
    pr->fail.port = port;
    pr->has_fail = 1;
    /* The text after "host[ip]:port: " */
    const char *t = after;
    while (t < end && *t != ' ')
        t++;
    if (t < end)
        t++;
    if (kind == 'F') {
        lp_map_reason(&pr->fail, t, end);
    } else {
        pr->fail.result = 205;
        snprintf(pr->fail.reason, sizeof(pr->fail.reason), "tls-handshake-failure");
    }
}

/* Whether a delivery line repeats the attempt pr last reported (another recipient of the
 * same queue file over the same connection, logged within moments). */
static int lp_same_attempt(const lp_proc *pr, const char *qid, size_t qlen, const char *rkey,
                           time_t when)
{
    return pr->npend == 0 && qlen < sizeof(pr->last_qid) && strlen(pr->last_qid) == qlen &&
           memcmp(pr->last_qid, qid, qlen) == 0 && strcmp(pr->last_relay, rkey) == 0 &&
           when - pr->last_time <= 2;
}

/* Moves the oldest tlsproxy handshake with the relay to the smtp(8) process pr. Newer
 * Postfix versions have smtp(8) log the summary of the handshake it received from
 * tlsproxy too: that one is the same session, replaced by tlsproxy's, which carries the
 * verification details. */
static void lp_take_proxied(logparse *lp, lp_proc *pr, lp_proc *tp)
{
    if (tp->has_fail) {
        lp_push(lp, tp, &tp->fail);
        tp->has_fail = 0;
    }
    lp_session s = tp->pend[0];
    memmove(tp->pend, tp->pend + 1, (tp->npend - 1) * sizeof(lp_session));
    tp->npend--;
    for (size_t i = 0; i < pr->npend; i++) {
        if (strcmp(pr->pend[i].host, s.host) == 0 && strcmp(pr->pend[i].ip, s.ip) == 0) {
            if (pr->pend[i].pos < s.pos)
                s.pos = pr->pend[i].pos;
            pr->pend[i] = s;
            return;
        }
    }
    lp_push(lp, pr, &s);
}

/* "QID: to=<rcpt>, relay=host[ip]:port, ..., status=X (reason)" */
static void lp_postfix_delivery(logparse *lp, const char *key, size_t klen, const char *qid,
                                size_t qlen, const char *p, const char *end, time_t when)
{
    char domain[DOMAIN_MAX + 1], host[DOMAIN_MAX + 1], ip[LP_MAX_IP];
    char rkey[sizeof(((lp_proc *)0)->last_relay)];
    lp_proc *pr = lp_proc_get(lp, key, klen, 0);
    const char *relay = LP_FIND(p, end, ", relay=");
    const char *status = LP_FIND(p, end, ", status=");
    const char *tlsreq = status ? LP_FIND(status, end, "TLS is required, but ") : NULL;
    /* Without TLS lines of this process, only a tlsproxy handshake can make it new. */
    int proxied_only = pr == NULL && tlsreq == NULL;
    /* ... or a session without TLS, which matters when an MTA-STS policy applies. */
    int plain = tlsreq == NULL && (pr == NULL || (pr->npend == 0 && !pr->has_fail)) &&
                LP_TAG_IS(key, klen, "/smtp");

    if (proxied_only && !lp->tlsproxy_seen && !plain)
        return; /* a reused connection, or not smtp(8): nothing new */
    if (!proxied_only)
        lp->st.relevant++;
    if (relay == NULL || status == NULL || lp_rcpt_domain(p + 3, end, domain) < 0) {
        if (!proxied_only)
            lp->st.malformed++;
        return;
    }
    relay += 8;
    const char *after;
    if (LP_PREFIX(relay, end, "none,") || (after = lp_hostip(relay, end, host, ip)) == NULL) {
        if (proxied_only || (pr && pr->npend == 0 && !pr->has_fail))
            return;
        /* No relay (e.g. DNS failure) after TLS lines of another attempt: keep waiting. */
        if (pr == NULL || !LP_PREFIX(relay, end, "none,"))
            lp->st.malformed++;
        return;
    }
    snprintf(rkey, sizeof(rkey), "%s[%s]", host, ip);
    /* A delivery over a connection from the cache ("conn_use=") made no new handshake. */
    int reused = lp_conn_reused(relay, status);
    int same = pr && lp_same_attempt(pr, qid, qlen, rkey, when);
    lp_proc *tp = lp->tlsproxy_seen && !reused
                      ? lp_tlsproxy(lp, key, klen, host, ip, lp_port(after, end), 0)
                      : NULL;
    /* The new session this line completes: 'P'roxied handshake or 'N'o TLS. */
    int fresh = 0;
    if (tp && (tp->npend || tp->has_fail) && !same)
        fresh = 'P';
    else if (plain && !reused && !same && LP_PREFIX(status, end, ", status=sent") &&
             lp_plain_sts(lp, domain, when))
        fresh = 'N';
    else if (proxied_only)
        return;
    if (fresh) {
        if (proxied_only)
            lp->st.relevant++;
        if (pr == NULL)
            pr = lp_proc_get(lp, key, klen, 1);
        if (pr == NULL)
            return;
    }
    if (fresh == 'P') {
        lp_take_proxied(lp, pr, tp);
    } else if (fresh == 'N') {
        lp_session s;
        lp_session_from(lp, &s, host, ip);
        s.port = lp_port(after, end);
        s.result = 201;
        snprintf(s.reason, sizeof(s.reason), "starttls-not-offered");
        lp_push(lp, pr, &s);
    }
    int own = htable_locate(lp->own, qid, qlen) != NULL;
    if (tlsreq) {
        if (pr == NULL)
            pr = lp_proc_get(lp, key, klen, 1);
        if (pr == NULL)
            return;
        /* Every recipient of one attempt repeats the reason: count the attempt once. */
        if (!lp_same_attempt(pr, qid, qlen, rkey, when)) {
            lp_session s;
            lp_session_from(lp, &s, host, ip);
            s.result = 201;
            snprintf(s.reason, sizeof(s.reason), "%s",
                     LP_FIND(tlsreq, end, "refused to start TLS") ? "starttls-refused"
                                                                  : "starttls-not-offered");
            lp_push(lp, pr, &s);
        }
    }
    pr->seen = when;
    if (pr->has_fail) {
        lp_push(lp, pr, &pr->fail);
        pr->has_fail = 0;
    }
    for (size_t i = 0; i < pr->npend; i++) {
        if (own)
            lp->st.own_reports++;
        else
            lp_emit(lp, &pr->pend[i], domain, when);
    }
    if (pr->npend) {
        lp_copy(pr->last_qid, sizeof(pr->last_qid), qid, qlen);
        snprintf(pr->last_relay, sizeof(pr->last_relay), "%s", rkey);
        pr->last_time = when;
    }
    pr->npend = 0;
}

static void lp_postfix(logparse *lp, const char *line, size_t len, const char *key, size_t klen,
                       const char *m, const char *end)
{
    int kind = 0;
    char level = 0;

    /* Queue ids may begin with the same letters as the TLS lines: those are told apart by
     * their prefix, anything else is tried as "QID: ...". */
    switch (*m) {
    case 'A': /* Anonymous */
    case 'U': /* Untrusted */
    case 'T': /* Trusted */
    case 'V': /* Verified */
    {
        const char *sp = memchr(m, ' ', (size_t)(end - m) < 12 ? (size_t)(end - m) : 12);
        if (sp && LP_PREFIX(sp, end, " TLS connection established to ")) {
            level = *m;
            m = sp + sizeof(" TLS connection established to ") - 1;
            kind = 'E';
        }
        break;
    }
    case 'c':
        if (LP_PREFIX(m, end, "certificate verification failed for ")) {
            m += sizeof("certificate verification failed for ") - 1;
            kind = 'F';
        }
        break;
    case 's':
        if (LP_PREFIX(m, end, "server certificate verification failed for ")) {
            m += sizeof("server certificate verification failed for ") - 1;
            kind = 'F';
        }
        break;
    case 'S':
        if (LP_PREFIX(m, end, "SSL_connect error to ")) {
            m += sizeof("SSL_connect error to ") - 1;
            kind = 'H';
        }
        break;
    }
    if (kind == 0) {
        size_t qlen = lp_qid(m, end);
        if (qlen == 0)
            return;
        const char *p = m + qlen + 2;
        if (LP_PREFIX(p, end, "to=<")) {
            lp_postfix_delivery(lp, key, klen, m, qlen, p, end, lp_when(lp, line, len));
        } else if (LP_PREFIX(p, end, "message-id=<") && LP_FIND(p, end, ".otr-")) {
            lp->st.relevant++;
            if (lp_own_msgid(p + 11, end))
                lp_own_add(lp, m, qlen, lp_when(lp, line, len));
        }
        return;
    }
    lp->st.relevant++;
    char host[DOMAIN_MAX + 1], ip[LP_MAX_IP];
    const char *after = lp_hostip(m, end, host, ip);
    if (after == NULL) {
        lp->st.malformed++;
        return;
    }
    unsigned port = lp_port(after, end);
    time_t when = lp_when(lp, line, len);
    lp_proc *pr;
    if (LP_TAG_IS(key, klen, "/tlsproxy")) {
        lp->tlsproxy_seen = 1;
        pr = lp_tlsproxy(lp, key, klen, host, ip, port, 1);
    } else {
        pr = lp_proc_get(lp, key, klen, 1);
    }
    if (pr == NULL)
        return;
    pr->seen = when;
    lp_postfix_tls(lp, pr, kind, host, ip, port, after, end, level);
}

/* ---- the line ---- */

void logparse_line(logparse *lp, const char *line, size_t len)
{
    const char *end = line + len, *p;

    lp->st.lines++;
    if (len > LOGPARSE_MAX_LINE) {
        lp->st.oversize++;
        return;
    }
    if (len > 0 && line[len - 1] == '\r')
        end--;
    /* The syslog header: timestamp, host, "tag[pid]: ". */
    if (len > 0 && line[0] >= '0' && line[0] <= '9') {
        p = memchr(line, ' ', len);
        if (p == NULL)
            return;
    } else {
        if (len < 17 || line[15] != ' ')
            return;
        p = line + 15;
    }
    const char *host = p + 1;
    const char *sp = memchr(host, ' ', (size_t)(end - host));
    if (sp == NULL)
        return;
    const char *colon = memchr(sp + 1, ':', (size_t)(end - sp - 1));
    if (colon == NULL || colon[-1] != ']' || colon + 2 > end || colon[1] != ' ')
        return;
    const char *m = colon + 2;
    if (m >= end)
        return;
    /* The state key is "host tag[pid]": logs of several hosts may be merged. A tlsproxy's
     * handshakes are keyed by their MX endpoint instead and joined to the smtp(8) delivery
     * line whose relay names it (lp_postfix). */
    size_t klen = (size_t)(colon - host);
    if (lp->format == LOGPARSE_SENDMAIL)
        lp_sendmail(lp, line, len, host, klen, m, end);
    else
        lp_postfix(lp, line, len, host, klen, m, end);
    if (lp->last >= lp->next_expire && lp->procs->used)
        lp_expire(lp);
}

size_t logparse_buffer(logparse *lp, const char *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        const char *nl = memchr(buf + off, '\n', len - off);
        if (nl == NULL)
            break;
        logparse_line(lp, buf + off, (size_t)(nl - buf - off));
        off = (size_t)(nl - buf) + 1;
    }
    return off;
}

void logparse_finish(logparse *lp)
{
    htable_entry **all = htable_sorted(lp->procs);
    for (size_t i = 0; all[i]; i++) {
        lp_proc *pr = all[i]->value;
        lp->st.unmatched += pr->npend + (size_t)pr->has_fail;
        pr->npend = 0;
        pr->has_fail = 0;
    }
    myfree(all);
}

void logparse_mark(logparse *lp, uint64_t pos)
{
    lp->mark = pos;
}

uint64_t logparse_oldest(const logparse *lp, uint64_t none)
{
    uint64_t oldest = none;

    for (size_t b = 0; b < lp->procs->size; b++) {
        for (htable_entry *e = lp->procs->buckets[b]; e; e = e->next) {
            const lp_proc *pr = e->value;
            for (size_t i = 0; i < pr->npend; i++)
                if (pr->pend[i].pos < oldest)
                    oldest = pr->pend[i].pos;
            if (pr->has_fail && pr->fail.pos < oldest)
                oldest = pr->fail.pos;
        }
    }
    return oldest;
}
