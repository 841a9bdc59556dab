#ifndef OTR_SUMMARY_INT_H
#define OTR_SUMMARY_INT_H
/*
 * What the summary's files share: the counts summary.c aggregates, which
 * summary_issues.c analyses and summary_text.c, summary_json.c, summary_html.c render.
 * Not for use outside common/inbound/summary*.c.
 */
#include <stdint.h>

#include "arena.h"
#include "htable.h"
#include "spool.h"
#include "summary.h"
#include "vstring.h"

#define SUMMARY_LOOKBACK_DAYS 31          /* read before since: each reporter's previous report */
#define SUMMARY_RAW_MAX       (64 * 1024) /* a report's JSON shown on the page, at most */
#define SUMMARY_RAW_TOTAL     (8 * 1024 * 1024) /* all reports' JSON on the page, at most */

typedef struct sum_counts {
    uint64_t ok;
    uint64_t failed;
} sum_counts;

typedef struct sum_fail {
    const char *result_type;
    const char *policy_type; /* of the policy the failure was reported under */
    const char *mx;          /* NULL when the reporter did not say */
    const char *ip;
    const char *sending_ip;
    const char *helo;
    const char *info; /* additional-information */
    const char *reporter;
    const char *reason;
    uint64_t count;
} sum_fail;

/* One policy as reporters saw it on a day: type, MTA-STS mode, mx patterns. */
typedef struct sum_policy {
    const char *type;
    const char *mode; /* NULL unless sts */
    const char *mx;   /* the mx patterns, ", "-joined; NULL when none */
    sum_counts counts;
} sum_policy;

typedef struct sum_day {
    const char *day;
    sum_counts total;
    htable *reporters;       /* name -> sum_counts */
    htable *failures;        /* key -> sum_fail */
    htable *types;           /* result-type -> sum_counts (failed only) */
    htable *policies;        /* type|mode|mx -> sum_policy */
    uint64_t testing_failed; /* failures under an STS policy in testing mode */
} sum_day;

typedef struct sum_domain {
    const char *name;
    const char *unicode; /* U-label form when the name has A-labels, else NULL */
    htable *days;        /* YYYY-MM-DD -> sum_day */
} sum_domain;

/* One received report, as listed per report. */
typedef struct sum_report {
    const char *id;
    const char *reporter;
    const char *contact;
    const char *dkim;
    const char *first_day;
    time_t start;
    time_t end;
    const char *domains; /* policy domains, ", "-joined */
    sum_counts counts;   /* sessions, two policies of one domain counted once */
    const char *raw;     /* the JSON as received, when kept and small enough to show */
} sum_report;

/* Something odd in one report, turned into an issue by the analysis. */
typedef struct sum_note {
    const char *kind; /* "no-failure-details", "totals-disagree" */
    const char *domain;
    const char *day;
    const char *reporter;
    const char *report_id;
    const char *policy_type;
    uint64_t a; /* failed sessions in the summary */
    uint64_t b; /* total sessions, or failed sessions in the details */
} sum_note;

struct summary {
    arena mem;
    char since[SPOOL_DAY_LEN + 1];
    char compare_from[SPOOL_DAY_LEN + 1]; /* first day read, only for comparisons */
    char today[SPOOL_DAY_LEN + 1];
    const char *only_domain;
    htable *domains;
    htable *reporters; /* every reporter of a shown day, for the header */
    size_t reports;    /* reports with a shown day and a policy of a shown domain */
    sum_report *rlist;
    size_t nrlist;
    size_t raw_total; /* bytes of raw JSON kept in rlist */
    sum_note *notes;
    size_t nnotes;
    summary_issue *issues;
    size_t nissues;
    int analysed;
    json_object *inbound; /* day -> inbound TLS counters (record_inbound_tls) */
};

/* Whether day is shown (from since on; earlier days serve comparisons only). */
int summary_shown(const summary *s, const char *day);
/* Whether any of dom's days is shown. */
int summary_domain_shown(const summary *s, const sum_domain *dom);
/* The reporters of dom's shown days, as a set (values NULL); the caller frees it. */
htable *summary_reporters_shown(const summary *s, const sum_domain *dom);
/* Success rate in percent (100 when no session). */
double summary_rate(const sum_counts *c);
/* The rate as text that never rounds a failure away nor a success: "99.96%", "100%". */
void summary_rate_text(const sum_counts *c, char *buf, size_t size);
/* The day's failures, largest first; the caller frees the array. */
htable_entry **summary_fails_sorted(sum_day *d);
/* The domain as shown: "xn--bcher-kva.example (bücher.example)"; not escaped. */
void summary_domain_name(const sum_domain *dom, vstring *out);
/* "sts", "sts (mode enforce, mx mx1.example.com)"; not escaped. */
void summary_policy_text(const sum_policy *p, vstring *out);
/* Reporters' days of a domain, sorted; the caller frees the array. */
htable_entry **summary_days_sorted(const sum_domain *dom);

/* summary_explain.c: a failure in one sentence, and its fix. */
void summary_sentence(const sum_fail *f, const char *domain, const char *day, vstring *out,
                      vstring *fix);
/* Replaces {mx} and {domain} in a fix template. */
void summary_fill(vstring *out, const char *tpl, const char *mx, const char *domain);
/* Whether a result-type is about the MTA-STS policy rather than an MX. */
int summary_sts_type(const char *t);

/* summary_inbound.c: calls row() for each day's total (domain NULL) and top senders. */
void summary_inbound_each(summary *s,
                          void (*row)(vstring *out, const char *day, const char *domain,
                                      int64_t messages, int64_t tls, json_object *versions),
                          vstring *out);
double summary_share(int64_t part, int64_t whole);

/* summary_text.c: "N reports from M reporters since D"; not escaped. */
void summary_header(summary *s, vstring *out);
/* "2026-11-20" or "2026-11-20 to 2026-11-26" for a report's date range. */
void summary_range(const sum_report *r, char *buf, size_t size);
/* summary_text.c: appends s to out with C0/C1 controls and DEL shown as \xNN. */
void summary_text_esc(vstring *out, const char *s);
/* summary_html.c: appends s escaped for HTML text and attributes. */
void summary_html_esc(vstring *out, const char *s);
#endif
