#ifndef OTR_INREPORT_H
#define OTR_INREPORT_H
/*
 * Received RFC 8460 reports: a liberal parser for what senders really send (reference
 * section 5) that normalizes every quirk away, from a JSON text, a gzip'ed JSON or a whole
 * mail message. Every string kept is valid UTF-8 without control characters and at most
 * INREPORT_MAX_FIELD bytes, so callers may print it (escaped for HTML) without more care.
 */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "arena.h"
#include "domain.h"
#include "membudget.h"
#include "vstring.h"

#define INREPORT_MAX_FIELD 1024
/* Limits of one report, whatever max_report_size allows (opentlsrpt.conf(5), RECEIVED
 * REPORTS): a report past one is refused whole, as over the limits. With them, what a
 * report costs to parse is at most ~12 MB of tokens and INREPORT_MAX_MEMORY of arena beside
 * its text, and its stored form at most INREPORT_STORED_MAX of its JSON text. */
#define INREPORT_MAX_VALUES           500000 /* JSON values, object keys included */
#define INREPORT_MAX_POLICIES         10000
#define INREPORT_MAX_FAILURES         50000 /* failure-details, over all policies */
#define INREPORT_MAX_STRINGS          100000 /* policy-string and mx-host elements, over all policies */
#define INREPORT_MAX_MEMORY           (16 * 1024 * 1024) /* the parsed report */
#define INREPORT_STORED_MAX(json_len) (4 * (size_t)(json_len) + 4096)
/* The text as received is kept (r->raw) only up to this size. */
#define INREPORT_RAW_MAX (1024 * 1024)

/* What inreport_parse_message found. */
#define INREPORT_NONE 0 /* not a TLS-RPT report: ordinary mail */
#define INREPORT_OK   1
#define INREPORT_BAD  2 /* looks like a report, but cannot be used (see err) */
#define INREPORT_TEMP 3 /* a resource shortage (the budget): not the report's fault, retry */

typedef struct inreport_failure {
    const char *result_type; /* lower case, never NULL */
    const char *sending_ip;  /* each string: NULL when absent or empty */
    const char *mx_hostname;
    const char *mx_helo;
    const char *receiving_ip;
    const char *additional_info;
    const char *reason_code;
    uint64_t count;
} inreport_failure;

typedef struct inreport_policy {
    const char *type;   /* "sts", "tlsa", "no-policy-found", or what was sent */
    const char *domain; /* NULL when absent */
    const char **strings;
    size_t nstrings;
    const char **mx_hosts;
    size_t nmx_hosts;
    uint64_t ok;
    uint64_t failed;
    inreport_failure *failures;
    size_t nfailures;
} inreport_policy;

typedef struct inreport {
    const char *organization; /* NULL when absent */
    const char *contact;      /* NULL when absent or null */
    const char *report_id;    /* never NULL (derived from the content when missing) */
    const char *submitter;    /* domain of contact-info, else the header's, else the org */
    time_t start;             /* date-range, UTC; end is the last second covered */
    time_t end;
    inreport_policy *policies;
    size_t npolicies;
    /* The JSON text as received (inflated, valid UTF-8), kept by inreport_parse_payload
     * for an administrator to look at when at most INREPORT_RAW_MAX; else NULL. */
    const char *raw;
    size_t json_len; /* bytes of the JSON text parsed */
    arena mem;       /* owns all of the above */
    /* Set by the caller (NULL: none): what parsing allocates is taken from it first, and
     * given back by the next parse or inreport_done. */
    membudget *budget;
    size_t charged; /* bytes of mem taken from budget */
} inreport;

/* Header fields of a report message, sanitized; "" when absent. */
typedef struct inreport_meta {
    char report_domain[DOMAIN_MAX + 1];
    char submitter[DOMAIN_MAX + 1];
    char subject[256];
    char filename[256];
    int forwarded; /* the report came inside a forwarded message (message/rfc822) */
    /* The bytes of the message whose DKIM signature counts: the forwarded message, or the
     * whole message. */
    size_t dkim_offset;
    size_t dkim_len;
} inreport_meta;

void inreport_init(inreport *r);
void inreport_done(inreport *r);

/* Parses a JSON report into r (reset first); returns 0, -1 when it is invalid or over the
 * limits, or -2 when r's budget is short (the report may be fine): the reason in err. */
int inreport_parse_json(inreport *r, const char *text, size_t len, char *err, size_t errsize);
/* Parses a report body: gzip or zip (recognized by their magic) inflated to at most max
 * bytes, or plain JSON of at most max bytes; a UTF-8 byte-order mark is skipped. Returns as
 * inreport_parse_json; the inflated text is taken from the budget while it lives. */
int inreport_parse_payload(inreport *r, const void *data, size_t len, size_t max, char *err,
                           size_t errsize);
/* Finds the report in a whole message and parses it: an application/tlsrpt, +gzip or +json
 * part; inside a multipart/report; report-type=tlsrpt also a generic type (json, gzip, zip,
 * octet-stream) named .json, .gz or .zip; elsewhere such a part when it parses; else the
 * same in a forwarded message/rfc822 (one level). Returns INREPORT_*; meta (may be NULL)
 * gets the header fields (of the forwarded message when the report was in one). */
int inreport_parse_message(inreport *r, const char *msg, size_t len, size_t max,
                           inreport_meta *meta, char *err, size_t errsize);
/* Whether a file name is one a report is sent under: .json, .gz (.json.gz) or .zip. */
int inreport_name_is_report(const char *name);
/* Whether a Content-Type value names a report: multipart/report with report-type=tlsrpt, or
 * application/tlsrpt, +gzip or +json. */
int inreport_type_is_report(const char *content_type);
/* Whether a message, or only its first len bytes, is a report as inreport_parse_message
 * tells one, from its part headers only: nothing is decoded. For a message too large to
 * keep whole. */
int inreport_message_is_report(const char *msg, size_t len);
/* Appends the normalized report to out as compact JSON: what inreport_parse_json reads back
 * as r; fields at their default (absent, "unknown", 0) are left out, so it is never larger
 * than INREPORT_STORED_MAX(r->json_len). */
void inreport_json_text(const inreport *r, vstring *out);
/* Returns the normalized report as a new JSON object the caller puts (tests: a json-c tree
 * costs far more than the text). */
json_object *inreport_json(const inreport *r);
/* Parses an RFC 3339 date-time liberally (no zone means UTC); returns -1 when invalid. */
time_t inreport_parse_time(const char *s);
#endif
