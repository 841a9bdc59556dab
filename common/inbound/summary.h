#ifndef OTR_SUMMARY_H
#define OTR_SUMMARY_H
/*
 * The "translated report": received reports grouped per policy domain and day, each failure
 * explained in plain words with its likely fix, and the issues worth a human's attention
 * (a new failure type, a success rate drop, an MX several reporters fail on, an MTA-STS
 * policy senders cannot fetch, testing mode with failures enforce would bounce, failures
 * without details, totals that disagree, a daily reporter gone silent). Output as text,
 * JSON, or one self-contained HTML page with an inline SVG chart. summary.c aggregates,
 * summary_issues.c analyses, summary_explain.c words failures, summary_text.c,
 * summary_json.c and summary_html.c render.
 */
#include <json-c/json.h>
#include <stddef.h>

#include "inreport.h"
#include "report_store.h"
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
/* The first day of reports it wants: since less SUMMARY_LOOKBACK_DAYS, for comparisons
 * with each reporter's previous report (NULL: all). Owned by s. */
const char *summary_first_day(const summary *s);
/* Sets the last day shown and taken as today (YYYY-MM-DD; default the real today): later
 * reports are left out, and a reporter is silent when it sent nothing since. */
void summary_set_today(summary *s, const char *day);
summary *summary_free(summary *s);
/* Counts r; info (may be NULL) gives its DKIM result and the TLS-Report-Domain that names
 * policies without a policy-domain. */
void summary_add(summary *s, const inreport *r, const report_store_info *info);
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
