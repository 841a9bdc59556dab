/* Failed MTA-STS fetches joined to the sessions an MTA reported or logged. */
#include "stsjoin.h"

#include <string.h>

int stsjoin_outcome(outcome *o, sts_failures *f, const char *mx_host, const char *mx_ip)
{
    int changed = 0;

    if (f == NULL || o->domain == NULL)
        return 0;
    for (size_t i = 0; i < o->npolicies; i++) {
        outcome_policy *p = &o->policies[i];
        int result;
        const char *reason;

        if (!(p->type == OUTCOME_POLICY_NONE || (p->type == OUTCOME_POLICY_STS && !p->nstrings)))
            continue;
        /* Postfix 3.10 at smtp_tls_loglevel "untrusted" reports the failure itself. */
        int reported = 0;
        for (size_t j = 0; j < p->nfailures; j++)
            reported |= p->failures[j].result >= 301 && p->failures[j].result <= 303;
        if (reported || !sts_failures_get(f, o->domain, o->received, &result, &reason))
            continue;
        outcome_failure *fd = arena_alloc(&o->mem, sizeof(*fd));
        memset(fd, 0, sizeof(*fd));
        if (p->nfailures) { /* where the session went */
            fd->sending_ip = p->failures[0].sending_ip;
            fd->mx_hostname = p->failures[0].mx_hostname;
            fd->mx_helo = p->failures[0].mx_helo;
            fd->receiving_ip = p->failures[0].receiving_ip;
        } else {
            fd->mx_hostname = mx_host && *mx_host ? arena_strdup(&o->mem, mx_host) : NULL;
            fd->receiving_ip = mx_ip && *mx_ip ? arena_strdup(&o->mem, mx_ip) : NULL;
        }
        fd->result = result;
        fd->reason_code = reason ? arena_strdup(&o->mem, reason) : NULL;
        p->type = OUTCOME_POLICY_STS;
        p->domain = o->domain;
        p->failed = 1;
        p->failures = fd;
        p->nfailures = 1;
        changed = 1;
    }
    return changed;
}
