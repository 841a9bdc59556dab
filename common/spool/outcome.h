#ifndef OTR_OUTCOME_H
#define OTR_OUTCOME_H
/* One recorded TLS session outcome (or policy failure), the unit every intake role writes. */
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "arena.h"
#include "vstring.h"

#define OUTCOME_POLICY_TLSA 1
#define OUTCOME_POLICY_STS  2
#define OUTCOME_POLICY_NONE 9

/* Hard limits on what one outcome may hold; decoders reject anything larger. */
#define OUTCOME_MAX_POLICIES 16
#define OUTCOME_MAX_STRINGS  256  /* policy-string or mx-host elements per policy */
#define OUTCOME_MAX_FAILURES 256  /* failure details per policy */
#define OUTCOME_MAX_FIELD    4096 /* bytes in one string field */

/* Which intake wrote a record: kept for accounting, not in reports. */
#define OUTCOME_SRC_DGRAM  1
#define OUTCOME_SRC_STS    2
#define OUTCOME_SRC_LOG    3
#define OUTCOME_SRC_IMPORT 4

typedef struct outcome_failure {
    int result;             /* result code, 201..306 */
    const char *sending_ip; /* each string: NULL when absent, never "" */
    const char *mx_hostname;
    const char *mx_helo;
    const char *receiving_ip;
    const char *additional_info;
    const char *reason_code;
} outcome_failure;

#define OUTCOME_FAILURE_NSTR 6 /* the string fields of outcome_failure */

typedef struct outcome_policy {
    int type;           /* OUTCOME_POLICY_* */
    const char *domain; /* NULL when absent */
    const char **strings;
    size_t nstrings;
    const char **mx_hosts;
    size_t nmx_hosts;
    int failed; /* the session failed under this policy */
    outcome_failure *failures;
    size_t nfailures;
} outcome_policy;

typedef struct outcome {
    time_t received;    /* when the intake received it (decides the UTC day) */
    int source;         /* OUTCOME_SRC_* */
    const char *domain; /* report domain, normalized */
    const char *record; /* the _smtp._tls record seen by the MTA, or NULL */
    outcome_policy *policies;
    size_t npolicies;
    arena mem; /* owns every string and array above */
} outcome;

/* Prepares o for use; its memory lives until outcome_done. */
void outcome_init(outcome *o);
/* Forgets the content, keeping memory for the next outcome. */
void outcome_clear(outcome *o);
void outcome_done(outcome *o);

/* Result code <-> RFC 8460 result-type name; NULL / 0 when unknown. */
/* f's strings in record order (sending_ip, mx_hostname, mx_helo, receiving_ip,
 * additional_info, reason_code), the order of the journal encoding and of a report's
 * failure-details key; out borrows them from f. */
void outcome_failure_strings(const outcome_failure *f, const char *out[OUTCOME_FAILURE_NSTR]);
const char *outcome_result_name(int code);
int outcome_result_code(const char *name);
/* Policy type <-> report name ("tlsa", "sts", "no-policy-found"); NULL / 0 when unknown. */
const char *outcome_policy_name(int type);
int outcome_policy_code(const char *name);

/* Appends the binary journal encoding of o to out. */
void outcome_encode(const outcome *o, vstring *out);
/* Decodes a journal payload into o (cleared first); returns 0, or -1 when malformed. */
int outcome_decode(outcome *o, const void *buf, size_t len);
#endif
