#ifndef OTR_SUMMARY_H
#define OTR_SUMMARY_H
/*
 * The "translated report": received reports grouped per policy domain and day, each failure
 * explained in plain words with its likely fix, and the issues worth a human's attention
 * (a new failure type, a success rate drop, an MX several reporters fail on, an MTA-STS
 * policy senders cannot fetch, testing mode with failures enforce would bounce). Output as
 * text, JSON, or one self-contained HTML page with an inline SVG chart.
 */
#include <json-c/json.h>
#include <stddef.h>

#include "inreport.h"
#include "vstring.h"

typedef struct summary summary;

typedef struct summary_issue {
    const char *key; /* stable identity, for "new since last time" */
    const char *day;
    const char *domain;
    const char *kind; /* "new-failure", "rate-drop", "mx-several-reporters", ... */
    const char *text; /* one sentence in plain words */
} summary_issue;

/* Returns an empty summary of the days >= since (YYYY-MM-DD, or NULL for all) of domain
 * (NULL: every domain); free with summary_free. */
summary *summary_new(const char *since, const char *domain);
summary *summary_free(summary *s);
/* Counts r; fallback_domain (may be NULL) names policies without a policy-domain. */
void summary_add(summary *s, const inreport *r, const char *fallback_domain);
/* Adds the inbound TLS counters of day (inbound_tls_load); takes counters over. */
void summary_add_inbound(summary *s, const char *day, json_object *counters);
/* Finds the issues (once; later calls return the same). Owned by s. */
const summary_issue *summary_issues(summary *s, size_t *n);
/* Appends the summary in each format to out. */
void summary_text(summary *s, vstring *out);
json_object *summary_json(summary *s);
void summary_html(summary *s, vstring *out);
/* Explains a failure: "<what happened>" and "<likely fix>" (static strings with %s for the
 * MX host where noted by *mx_slots); for tests and the formats above. */
const char *summary_explain(const char *result_type, const char **fix);
#endif
