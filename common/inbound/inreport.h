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

#define INREPORT_MAX_FIELD 1024

/* What inreport_parse_message found. */
#define INREPORT_NONE 0 /* not a TLS-RPT report: ordinary mail */
#define INREPORT_OK   1
#define INREPORT_BAD  2 /* looks like a report, but cannot be used (see err) */

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
     * for an administrator to look at; NULL when parsed otherwise. */
    const char *raw;
    arena mem; /* owns all of the above */
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

/* Parses a JSON report into r (reset first); returns 0, or -1 with the reason in err. */
int inreport_parse_json(inreport *r, const char *text, size_t len, char *err, size_t errsize);
/* Parses a report body: gzip or zip (recognized by their magic) inflated to at most max
 * bytes, or plain JSON of at most max bytes; a UTF-8 byte-order mark is skipped. Returns as
 * inreport_parse_json. */
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
/* Returns the normalized report as a new JSON object the caller puts. */
json_object *inreport_json(const inreport *r);
/* Parses an RFC 3339 date-time liberally (no zone means UTC); returns -1 when invalid. */
time_t inreport_parse_time(const char *s);
#endif
