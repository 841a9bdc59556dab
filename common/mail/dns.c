#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unbound.h>
#include <unistd.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

#define DNS_TYPE_A          1
#define DNS_TYPE_MX         15
#define DNS_TYPE_TXT        16
#define DNS_TYPE_AAAA       28
#define DNS_TYPE_TLSA       52
#define DNS_CLASS_IN        1
#define DNS_RCODE_SERVFAIL  2
#define DNS_DEFAULT_TIMEOUT 15   /* seconds for one lookup, validation included */
#define DNS_MAX_NAME        1025 /* presentation form of a wire name, with escapes */

struct dns_resolver {
    struct ub_ctx *ub;
    int timeout;
};

static int dns_add_forwarders(struct ub_ctx *ub, const char *list)
{
    char *copy = mystrdup(list);
    char *save = NULL;
    int n = 0, status = 0;

    for (char *tok = strtok_r(copy, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
        int err = ub_ctx_set_fwd(ub, tok);
        if (err != 0) {
            msg_error("resolver: forwarder \"%s\": %s", tok, ub_strerror(err));
            status = -1;
            break;
        }
        n++;
    }
    myfree(copy);
    if (status == 0 && n == 0) {
        msg_error("resolver: no forwarder in \"%s\"", list);
        status = -1;
    }
    return status;
}

dns_resolver *dns_resolver_new(const config *cfg)
{
    struct ub_ctx *ub = ub_ctx_create();
    int err;

    if (ub == NULL) {
        msg_error("resolver: cannot create a libunbound context");
        return NULL;
    }
    /* Forwarders on loopback (a local cache, systemd-resolved, the tests) must be usable. */
    if ((err = ub_ctx_set_option(ub, "do-not-query-localhost:", "no")) != 0)
        goto ub_error;
    /* Threads, not the default fork(): the daemon calls us from threaded roles. */
    if ((err = ub_ctx_async(ub, 1)) != 0)
        goto ub_error;
    if (*cfg->resolver == 0) {
        if ((err = ub_ctx_resolvconf(ub, NULL)) != 0) {
            msg_error("resolver: reading /etc/resolv.conf: %s", ub_strerror(err));
            ub_ctx_delete(ub);
            return NULL;
        }
    } else if (dns_add_forwarders(ub, cfg->resolver) < 0) {
        ub_ctx_delete(ub);
        return NULL;
    }
    /* libunbound reads the file only at the first lookup and then fails every lookup:
     * say so now, once, with the reason. */
    if (*cfg->dnssec_trust_anchor_file && access(cfg->dnssec_trust_anchor_file, R_OK) < 0) {
        msg_error("dnssec_trust_anchor_file %s: %s", cfg->dnssec_trust_anchor_file,
                  strerror(errno));
        ub_ctx_delete(ub);
        return NULL;
    }
    if (*cfg->dnssec_trust_anchor_file &&
        (err = ub_ctx_add_ta_file(ub, cfg->dnssec_trust_anchor_file)) != 0) {
        msg_error("dnssec_trust_anchor_file %s: %s", cfg->dnssec_trust_anchor_file,
                  ub_strerror(err));
        ub_ctx_delete(ub);
        return NULL;
    }
    dns_resolver *r = mycalloc(1, sizeof(*r));
    r->ub = ub;
    r->timeout = DNS_DEFAULT_TIMEOUT;
    return r;

ub_error:
    msg_error("resolver: %s", ub_strerror(err));
    ub_ctx_delete(ub);
    return NULL;
}

void dns_resolver_set_timeout(dns_resolver *r, int seconds)
{
    r->timeout = seconds > 0 ? seconds : DNS_DEFAULT_TIMEOUT;
}

dns_resolver *dns_resolver_free(dns_resolver *r)
{
    if (r) {
        ub_ctx_delete(r->ub);
        myfree(r);
    }
    return NULL;
}

const char *dns_status_name(dns_status s)
{
    switch (s) {
    case DNS_OK:
        return "ok";
    case DNS_NODATA:
        return "nodata";
    case DNS_NXDOMAIN:
        return "nxdomain";
    case DNS_TEMPFAIL:
        return "tempfail";
    case DNS_BOGUS:
        return "bogus";
    }
    return "unknown";
}

void dns_result_free(dns_result *out)
{
    for (size_t i = 0; i < out->n && i < DNS_MAX_RECORDS; i++)
        out->rr[i] = myfree(out->rr[i]);
    out->n = 0;
}

typedef struct {
    int done;
    int err;
    struct ub_result *res;
} dns_wait;

static void dns_callback(void *arg, int err, struct ub_result *res)
{
    dns_wait *w = arg;

    w->done = 1;
    w->err = err;
    w->res = res;
}

static long long dns_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Resolves with a hard deadline: libunbound alone may retry an unresponsive server for
 * minutes, and a cron job or a policy lookup must not hang that long. */
static int dns_resolve(dns_resolver *r, const char *name, int type, struct ub_result **res,
                       char *why, size_t whylen)
{
    dns_wait w = {0, 0, NULL};
    int id, err;

    *res = NULL;
    err = ub_resolve_async(r->ub, name, type, DNS_CLASS_IN, &w, dns_callback, &id);
    if (err != 0) {
        snprintf(why, whylen, "%s", ub_strerror(err));
        return -1;
    }
    long long deadline = dns_now_ms() + (long long)r->timeout * 1000;
    while (!w.done) {
        long long left = deadline - dns_now_ms();
        if (left <= 0) {
            ub_cancel(r->ub, id);
            snprintf(why, whylen, "timed out after %d s", r->timeout);
            return -1;
        }
        struct pollfd pfd = {ub_fd(r->ub), POLLIN, 0};
        int n = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
        if (n < 0 && errno != EINTR) {
            ub_cancel(r->ub, id);
            snprintf(why, whylen, "poll: %s", strerror(errno));
            return -1;
        }
        if (n > 0 && (err = ub_process(r->ub)) != 0) {
            snprintf(why, whylen, "%s", ub_strerror(err));
            return -1;
        }
    }
    if (w.err != 0) {
        ub_resolve_free(w.res);
        snprintf(why, whylen, "%s", ub_strerror(w.err));
        return -1;
    }
    *res = w.res;
    return 0;
}

/* Appends the presentation form of the uncompressed wire name at p (n bytes left); returns
 * the bytes consumed, or 0 when malformed. Host names keep only LDH bytes; others are
 * escaped so that nothing odd reaches a caller. */
static size_t dns_wire_name(const unsigned char *p, size_t n, vstring *out)
{
    size_t off = 0;

    for (;;) {
        if (off >= n)
            return 0;
        size_t len = p[off++];
        if (len == 0)
            break;
        if (len > 63 || off + len > n)
            return 0;
        if (vstring_len(out) > 0)
            vstring_append_char(out, '.');
        for (size_t i = 0; i < len; i++) {
            unsigned char c = p[off + i];
            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c - 'A' + 'a');
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
                vstring_append_char(out, c);
            else
                vstring_sprintf_append(out, "\\%03u", c);
        }
        off += len;
    }
    return off;
}

static int dns_rr_txt(const unsigned char *p, size_t n, vstring *out)
{
    size_t off = 0;

    while (off < n) {
        size_t len = p[off++];
        if (off + len > n)
            return -1;
        vstring_append(out, p + off, len);
        off += len;
    }
    return 0;
}

static int dns_rr_mx(const unsigned char *p, size_t n, vstring *out, unsigned *pref)
{
    if (n < 3)
        return -1;
    *pref = (unsigned)p[0] << 8 | p[1];
    vstring_sprintf_append(out, "%u ", *pref);
    vstring *host = vstring_alloc(DNS_MAX_NAME);
    size_t used = dns_wire_name(p + 2, n - 2, host);
    int status = (used == 0 || used != n - 2 || host->overflow) ? -1 : 0;
    if (status == 0)
        vstring_append(out, vstring_str(host), vstring_len(host));
    vstring_free(host);
    return status;
}

static int dns_rr_addr(const unsigned char *p, size_t n, int type, vstring *out)
{
    char buf[INET6_ADDRSTRLEN];
    int af = type == DNS_TYPE_A ? AF_INET : AF_INET6;

    if (n != (type == DNS_TYPE_A ? 4u : 16u) || inet_ntop(af, p, buf, sizeof(buf)) == NULL)
        return -1;
    vstring_append_str(out, buf);
    return 0;
}

static int dns_rr_tlsa(const unsigned char *p, size_t n, vstring *out)
{
    static const char hex[] = "0123456789ABCDEF";

    if (n < 3)
        return -1;
    vstring_sprintf_append(out, "%u %u %u ", p[0], p[1], p[2]);
    for (size_t i = 3; i < n; i++) {
        vstring_append_char(out, hex[p[i] >> 4]);
        vstring_append_char(out, hex[p[i] & 15]);
    }
    return 0;
}

/* One record's RDATA as text; *pref gets an MX preference. */
static int dns_rdata(int type, const unsigned char *p, size_t n, vstring *v, unsigned *pref)
{
    switch (type) {
    case DNS_TYPE_TXT:
        return dns_rr_txt(p, n, v);
    case DNS_TYPE_MX:
        return dns_rr_mx(p, n, v, pref);
    case DNS_TYPE_TLSA:
        return dns_rr_tlsa(p, n, v);
    case DNS_TYPE_A:
    case DNS_TYPE_AAAA:
        return dns_rr_addr(p, n, type, v);
    }
    return -1;
}

int dns_rdata_text(int type, const void *rdata, size_t len, vstring *out)
{
    unsigned pref;

    return dns_rdata(type, rdata, len, out, &pref);
}

typedef struct {
    unsigned pref;
    char *text;
    size_t len;
} dns_mx_entry;

static int dns_mx_cmp(const void *a, const void *b)
{
    const dns_mx_entry *x = a, *y = b;

    if (x->pref != y->pref)
        return x->pref < y->pref ? -1 : 1;
    return strcmp(x->text, y->text);
}

static dns_status dns_lookup(dns_resolver *r, const char *name, int type, dns_result *out)
{
    struct ub_result *res;
    dns_mx_entry mx[DNS_MAX_RECORDS];
    unsigned pref = 0;

    memset(out, 0, sizeof(*out));
    if (dns_resolve(r, name, type, &res, out->why, sizeof(out->why)) < 0)
        return out->status = DNS_TEMPFAIL;
    if (res->bogus) {
        snprintf(out->why, sizeof(out->why), "%s",
                 res->why_bogus ? res->why_bogus : "DNSSEC validation failed");
        out->status = DNS_BOGUS;
    } else if (res->rcode == DNS_RCODE_SERVFAIL) {
        snprintf(out->why, sizeof(out->why), "SERVFAIL");
        out->status = DNS_TEMPFAIL;
    } else if (res->nxdomain) {
        out->status = DNS_NXDOMAIN;
        out->secure = res->secure;
    } else if (res->rcode != 0) {
        /* REFUSED, NOTIMP...: the server could not answer; nothing says the name is empty. */
        snprintf(out->why, sizeof(out->why), "rcode %d", res->rcode);
        out->status = DNS_TEMPFAIL;
    } else if (!res->havedata) {
        out->status = DNS_NODATA;
        out->secure = res->secure;
    } else {
        out->status = DNS_OK;
        out->secure = res->secure;
        vstring *v = vstring_alloc(0);
        for (size_t i = 0; res->data[i] && out->n < DNS_MAX_RECORDS; i++) {
            const unsigned char *p = (const unsigned char *)res->data[i];
            size_t n = (size_t)res->len[i];
            vstring_reset(v);
            if (dns_rdata(type, p, n, v, &pref) < 0) {
                msg_warn("%s: malformed record in the answer, ignored", name);
                continue;
            }
            mx[out->n].pref = pref;
            out->rr[out->n] = mystrndup(vstring_str(v), vstring_len(v));
            out->rrlen[out->n] = vstring_len(v);
            out->n++;
        }
        vstring_free(v);
        if (type == DNS_TYPE_MX && out->n > 1) {
            for (size_t i = 0; i < out->n; i++) {
                mx[i].text = out->rr[i];
                mx[i].len = out->rrlen[i];
            }
            qsort(mx, out->n, sizeof(mx[0]), dns_mx_cmp);
            for (size_t i = 0; i < out->n; i++) {
                out->rr[i] = mx[i].text;
                out->rrlen[i] = mx[i].len;
            }
        }
        if (out->n == 0)
            out->status = DNS_NODATA;
    }
    ub_resolve_free(res);
    return out->status;
}

dns_status dns_txt(dns_resolver *r, const char *name, dns_result *out)
{
    return dns_lookup(r, name, DNS_TYPE_TXT, out);
}

dns_status dns_mx(dns_resolver *r, const char *name, dns_result *out)
{
    return dns_lookup(r, name, DNS_TYPE_MX, out);
}

dns_status dns_tlsa(dns_resolver *r, const char *name, dns_result *out)
{
    return dns_lookup(r, name, DNS_TYPE_TLSA, out);
}

dns_status dns_addr(dns_resolver *r, const char *name, dns_result *out)
{
    dns_result six;
    dns_status s4 = dns_lookup(r, name, DNS_TYPE_A, out);

    if (s4 == DNS_NXDOMAIN || s4 == DNS_BOGUS)
        return s4;
    dns_status s6 = dns_lookup(r, name, DNS_TYPE_AAAA, &six);
    if (s6 == DNS_OK) {
        for (size_t i = 0; i < six.n; i++) {
            if (out->n < DNS_MAX_RECORDS) {
                out->rr[out->n] = six.rr[i];
                out->rrlen[out->n] = six.rrlen[i];
                out->n++;
            } else {
                myfree(six.rr[i]);
            }
        }
        six.n = 0;
        out->secure = (s4 == DNS_OK ? out->secure : 1) && six.secure;
        out->status = DNS_OK;
    } else if (s4 != DNS_OK) {
        /* Neither family answered: the worse of the two explains why. */
        if (s6 == DNS_BOGUS || s6 == DNS_TEMPFAIL || s4 == DNS_TEMPFAIL) {
            if (s6 == DNS_BOGUS || s4 != DNS_TEMPFAIL)
                snprintf(out->why, sizeof(out->why), "%s", six.why);
            out->status = s6 == DNS_BOGUS ? DNS_BOGUS : DNS_TEMPFAIL;
        }
    }
    dns_result_free(&six);
    return out->status;
}

size_t dns_tlsa_usable(const dns_result *res)
{
    size_t n = 0;

    if (res->status != DNS_OK || !res->secure)
        return 0;
    for (size_t i = 0; i < res->n; i++)
        n += (res->rr[i][0] == '2' || res->rr[i][0] == '3') && res->rr[i][1] == ' ';
    return n;
}

int dns_mx_dane(dns_resolver *r, const char *domain)
{
    dns_result mx;
    int dane = 0;

    memset(&mx, 0, sizeof(mx));
    if (dns_mx(r, domain, &mx) == DNS_OK && mx.secure && mx.n > 0) {
        dane = 1;
        for (size_t i = 0; dane && i < mx.n; i++) {
            char name[300]; /* "_25._tcp." and a host name of at most 253 */
            dns_result t;
            const char *host = strchr(mx.rr[i], ' '); /* "PREF HOST" */
            memset(&t, 0, sizeof(t));
            dane = host &&
                   (size_t)snprintf(name, sizeof(name), "_25._tcp.%s", host + 1) < sizeof(name);
            dane = dane && dns_tlsa(r, name, &t) == DNS_OK && dns_tlsa_usable(&t) > 0;
            dns_result_free(&t);
        }
    }
    dns_result_free(&mx);
    return dane;
}
