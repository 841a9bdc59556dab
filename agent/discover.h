#ifndef OTR_DISCOVER_H
#define OTR_DISCOVER_H
/* Where a report domain wants its reports: its _smtp._tls TXT record, looked up at send
 * time and remembered for the rest of the run. */
#include "agent.h"
#include "report.h"
#include "tlsrpt_record.h"

typedef struct discover discover;

typedef enum {
    DISCOVER_OK = 0,   /* one valid record; rec->n may be 0 when no URI is usable */
    DISCOVER_NONE,     /* no record, several, an invalid one, or a bogus answer (logged) */
    DISCOVER_TEMPFAIL, /* SERVFAIL or timeout: ask again in a later run */
} discover_status;

/* Returns a discoverer using the resolver settings, or NULL after logging why. Free with
 * discover_free. */
discover *discover_new(agent_ctx *ctx);
discover *discover_free(discover *d);
/* Looks up the record of domain (once per run); *rec (owned by d) is set for DISCOVER_OK. */
discover_status discover_rua(discover *d, const char *domain, const tlsrpt_record **rec);
/* deliver_to = file: takes a domain's record as the MTA saw it (outcome.record), unless
 * one is known already or it does not parse: the stored reports then need no DNS answer,
 * which a demo or an isolated host does not have. */
void discover_seed(discover *d, const char *domain, const char *record);
/* The number of DNS lookups made so far (for -v summaries). */
unsigned long discover_lookups(const discover *d);
/* With dane_host_reports = yes: counts o's TLSA policies also in the report of each MX host
 * whose TLSA base domain publishes its own record. */
void discover_dane_hosts(discover *d, report_set *rs, const outcome *o);
#endif
