/* STS attribution for log outcomes (the policy service's per-day record) and TLSA records. */
#include "logparse_sts.h"

#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "domain.h"
#include "sts_applied.h"

int logparse_sts_applied(void *ctx, const char *day, const char *domain, arena *mem,
                         logparse_sts *out)
{
    sts_applied a;
    int r = sts_applied_get(ctx, day, domain, &a);

    if (r != 1)
        return r;
    out->strings = arena_alloc(mem, (a.nstrings ? a.nstrings : 1) * sizeof(char *));
    for (size_t i = 0; i < a.nstrings; i++)
        out->strings[i] = arena_strdup(mem, a.strings[i]);
    out->nstrings = a.nstrings;
    out->mx = arena_alloc(mem, (a.nmx ? a.nmx : 1) * sizeof(char *));
    for (size_t i = 0; i < a.nmx; i++)
        out->mx[i] = arena_strdup(mem, a.mx[i]);
    out->nmx = a.nmx;
    sts_applied_free(&a);
    return 1;
}

size_t logparse_tlsa_dns(void *ctx, const char *host, unsigned port, arena *mem, const char ***out)
{
    char name[DOMAIN_MAX + 16];
    dns_result res;

    /* What the zone publishes now is what Postfix applied, give or take a change since.
     * Only DNSSEC-validated records with a usage SMTP can use (DANE-TA(2), DANE-EE(3))
     * make a session DANE (RFC 7672); anything else is no TLSA policy at all. */
    if ((size_t)snprintf(name, sizeof(name), "_%u._tcp.%s", port, host) >= sizeof(name))
        return 0;
    memset(&res, 0, sizeof(res));
    dns_tlsa(ctx, name, &res);
    if (dns_tlsa_usable(&res) == 0) {
        dns_result_free(&res);
        return 0;
    }
    *out = arena_alloc(mem, (res.n ? res.n : 1) * sizeof(char *));
    for (size_t i = 0; i < res.n; i++)
        (*out)[i] = arena_strdup(mem, res.rr[i]);
    size_t n = res.n;
    dns_result_free(&res);
    return n;
}

dns_resolver *logparse_sts_setup(logparse *lp, const config *cfg, const char *spool_dir)
{
    logparse_set_sts(lp, logparse_sts_applied, (void *)spool_dir);
    logparse_set_failures(lp, sts_failures_new(spool_dir));
    /* A lookup is made once per MX and day; a slow resolver delays the reader of the log,
     * never Postfix. */
    dns_resolver *dns = dns_resolver_new(cfg);
    if (dns) {
        dns_resolver_set_timeout(dns, 5);
        logparse_set_tlsa(lp, logparse_tlsa_dns, dns);
    }
    return dns;
}
