#ifndef OTR_INBOUND_TLS_H
#define OTR_INBOUND_TLS_H
/*
 * Inbound TLS telemetry (record_inbound_tls): per UTC day and envelope sender domain, how
 * many messages arrived and how many of them over TLS, by protocol version, plus the
 * ciphers seen. Kept in memory by the milter and written to <spool>/inbound/<day>.json
 * (atomically, merged with what an earlier process of the same day wrote). Thread-safe.
 */
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#define INBOUND_TLS_DIR         "inbound"
#define INBOUND_TLS_MAX_DOMAINS 10000 /* more sender domains a day are counted together */
#define INBOUND_TLS_MAX_CIPHERS 256

typedef struct inbound_tls inbound_tls;

/* Opens the counters of spool_dir (creating the directory); free with inbound_tls_close. */
inbound_tls *inbound_tls_open(const char *spool_dir);
/* Counts one message at now from sender_domain ("" or NULL: the null sender); version and
 * cipher are the MTA's {tls_version} and {cipher} macros, NULL without TLS. */
void inbound_tls_count(inbound_tls *t, time_t now, const char *sender_domain, const char *version,
                       const char *cipher);
/* Writes the day's counters out; returns 0, or -1 (logged). */
int inbound_tls_flush(inbound_tls *t, time_t now);
/* Flushes and frees; returns NULL. */
inbound_tls *inbound_tls_close(inbound_tls *t);
/* Reads the stored counters of day (YYYY-MM-DD) as a new JSON object, or NULL. */
json_object *inbound_tls_load(const char *spool_dir, const char *day);
#endif
