/*
 * opentlsrpt-agent policy DOMAIN [--fetch]: what the MTA-STS policy service answers
 * Postfix for DOMAIN and why: the live _mta-sts TXT id, the cached policy (from the
 * daemon's cache in the spool), its age, the last fetch error, and with --fetch a live
 * fetch of the policy (nothing is stored).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "domain.h"
#include "dns.h"
#include "msg.h"
#include "outcome.h"
#include "sts_cache.h"
#include "sts_fetch.h"
#include "vstring.h"

static void policy_print_lines(const sts_policy *p)
{
    for (size_t i = 0; i < p->nlines; i++)
        printf("    %s\n", p->lines[i]);
}

static void policy_print_age(const char *what, time_t then, time_t now)
{
    char when[32];
    struct tm tm;
    gmtime_r(&then, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    long long d = (long long)(now - then);
    printf("%s %s (%lld s %s)\n", what, when, d < 0 ? -d : d, d < 0 ? "from now" : "ago");
}

int cmd_policy(agent_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"fetch", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
    char domain[DOMAIN_MAX + 1], id[STS_ID_MAX + 1] = "";
    int fetch = 0, ch;
    time_t now = time(NULL);

    while ((ch = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
        if (ch != 'f')
            goto usage;
        fetch = 1;
    }
    if (optind != argc - 1)
        goto usage;
    if (domain_normalize(argv[optind], strlen(argv[optind]), domain, sizeof(domain)) < 0) {
        msg_error("\"%s\" is not a domain name", argv[optind]);
        return 2;
    }
    const config *cfg = ctx->cfg;
    dns_resolver *dns = dns_resolver_new(cfg);
    const char *why = "no resolver";
    sts_txt_status ts = dns ? sts_fetch_txt(dns, domain, id, sizeof(id), &why) : STS_TXT_TEMPFAIL;
    printf("domain: %s\n", domain);
    switch (ts) {
    case STS_TXT_FOUND:
        printf("TXT _mta-sts.%s: v=STSv1, id=%s\n", domain, id);
        break;
    case STS_TXT_NONE:
        printf("TXT _mta-sts.%s: no STSv1 record%s%s\n", domain, *why ? ": " : "", why);
        break;
    case STS_TXT_TEMPFAIL:
        printf("TXT _mta-sts.%s: lookup failed (%s)\n", domain, why);
        break;
    case STS_TXT_INVALID:
        printf("TXT _mta-sts.%s: ignored (%s): treated as no policy\n", domain, why);
        break;
    }

    sts_cache_entry e;
    int have = sts_cache_load(cfg->spool_directory, domain, &e);
    if (have == 1 && e.have_policy) {
        printf("cached policy: id %s, mode %s, max_age %ld\n", e.id, sts_mode_name(e.policy.mode),
               e.policy.max_age);
        policy_print_age("  fetched", e.fetched, now);
        policy_print_age(e.expires > now ? "  expires" : "  EXPIRED", e.expires, now);
        policy_print_lines(&e.policy);
        if (ts == STS_TXT_FOUND && strcmp(id, e.id) != 0)
            printf("  the TXT id changed: the service fetches the new policy on the next lookup\n");
    } else {
        printf("cached policy: none%s\n", have < 0 ? " (the cache file is unreadable)" : "");
    }
    if (have == 1 && e.failed_at) {
        printf("last error: %s %s (policy id %s)\n", outcome_result_name(e.failed_result),
               e.failed_reason, e.failed_id);
        policy_print_age("  at", e.failed_at, now);
    }
    /* As the service decides it: DANE first for a site at dane (RFC 8461 section 2). */
    if (have == 1 && dns && strncmp(cfg->postfix_tls_level, "dane", 4) == 0) {
        e.dane = dns_mx_dane(dns, domain);
        printf("DANE: %s\n", e.dane ? "every MX host has validated TLSA records (left to DANE)"
                                    : "not every MX host has validated TLSA records");
    }
    vstring *ans = vstring_alloc(0);
    sts_cache_answer(have == 1 ? &e : NULL, domain, now, (int)cfg->postfix_tlsrpt_attributes,
                     cfg->testing_policy, cfg->postfix_tls_level, ans);
    printf("answer: %s\n", ans->data);
    if (!sts_cache_usable(have == 1 ? &e : NULL, now) && ans->data[0] == 'O')
        printf("  (no usable cached policy: the failure goes to Postfix's TLSRPT report)\n");
    else if (!sts_cache_usable(have == 1 ? &e : NULL, now))
        printf("  (no usable cached policy: Postfix applies its own smtp_tls_security_level)\n");
    else if (e.policy.mode == STS_MODE_TESTING && !*cfg->testing_policy &&
             !cfg->postfix_tlsrpt_attributes)
        printf("  (testing mode: delivered as without a policy; set testing_policy to change)\n");
    else if (e.policy.mode == STS_MODE_TESTING && !*cfg->testing_policy)
        printf("  (testing mode: the site's own level, reported under the policy)\n");
    vstring_free(ans);

    if (fetch && ts == STS_TXT_FOUND) {
        sts_fetch_result fr;
        sts_fetch_opts fo = {(long)cfg->sts_fetch_timeout, cfg->https_ca_file, dns,
                             (int)cfg->https_allow_private, NULL};
        sts_fetch_global_init();
        if (sts_fetch_policy(domain, &fo, &fr) == 0) {
            printf("live fetch: ok: %s\n", fr.detail);
            policy_print_lines(&fr.policy);
        } else {
            printf("live fetch: %s %s: %s\n", outcome_result_name(fr.result), fr.reason, fr.detail);
        }
        sts_fetch_result_free(&fr);
    } else if (fetch) {
        printf("live fetch: skipped (no valid TXT record)\n");
    }
    if (have == 1)
        sts_cache_entry_free(&e);
    dns_resolver_free(dns);
    return 0;

usage:
    fprintf(stderr, "usage: opentlsrpt-agent policy [--fetch] DOMAIN\n");
    return 2;
}
