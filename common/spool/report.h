#ifndef OTR_REPORT_H
#define OTR_REPORT_H
/* Aggregation of a day's outcomes into RFC 8460 reports, one per report domain. */
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "outcome.h"
#include "vstring.h"

typedef struct report_opts {
    char *organization_name;
    char *contact_info;
    char *submitter; /* the domain of contact_info unless report_submitter is set */
    char *id_tag;    /* distinguishes this host's report-ids from its peers' */
    size_t max_failure_details;
} report_opts;

/* Fills opts from cfg, deriving empty settings from the host name; free with
 * report_opts_done. */
void report_opts_init(report_opts *opts, const config *cfg);
void report_opts_done(report_opts *opts);

typedef struct report_set report_set;

/* Returns an empty set for day (YYYY-MM-DD); the caller frees it with report_set_free. */
report_set *report_set_new(const char *day);
report_set *report_set_free(report_set *rs);
/* Keeps the set's aggregates under about budget bytes (0: no limit) by building the day in
 * passes over its outcomes, each for a range of report domains, in domain order:
 *     while (report_set_pass(rs)) { add every outcome of the day; use the domains; }
 * A domain is in exactly one pass; a set used without report_set_pass is one pass. */
void report_set_limit(report_set *rs, size_t budget);
/* Starts the next pass (emptying the set); returns 1, or 0 when every domain was built. */
int report_set_pass(report_set *rs);
/* The number of passes started so far. */
size_t report_set_passes(const report_set *rs);
/* Counts o in the report of its report domain (only when it equals only_domain, if set). */
void report_set_add(report_set *rs, const outcome *o, const char *only_domain);
/* Counts o also in the report of report_domain (e.g. an MX host's own record). */
void report_set_add_to(report_set *rs, const char *report_domain, const outcome *o);
/* Returns the report domains, sorted, NULL-terminated; owned by rs, valid until it changes. */
const char *const *report_set_domains(report_set *rs);
/* Sessions counted for domain: successes and failures over all its policies. */
void report_set_totals(report_set *rs, const char *domain, uint64_t *ok, uint64_t *failed);
/* Writes the report of domain into out as compact JSON text; returns 0, or -1 (out empty)
 * when domain has none. */
int report_set_text(report_set *rs, const char *domain, const report_opts *opts, vstring *out);
/* Writes the report-id for (day, domain) into out: stable, so retries carry the same id. */
void report_id(char *out, size_t size, const char *day, const char *domain,
               const report_opts *opts);
#endif
