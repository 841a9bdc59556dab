#ifndef OTR_LOGPARSE_H
#define OTR_LOGPARSE_H
/*
 * Outcomes from the mail log, for Postfix <= 3.9 (smtp(8)/tlsproxy lines) and sendmail
 * (STARTTLS=client lines), which have no TLSRPT hook. Lines are fed one at a time; the TLS
 * lines of each process are joined with the delivery line that follows (recipient domain,
 * relay host and IP) into one outcome per new TLS handshake or failed attempt. Memory is
 * bounded: lines over LOGPARSE_MAX_LINE are skipped, per-process state is capped and
 * expires with log time.
 */
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "arena.h"
#include "outcome.h"
#include "sts_failure.h"

#define LOGPARSE_MAX_LINE  8192
#define LOGPARSE_MAX_PROCS 4096 /* processes with a session in progress */
#define LOGPARSE_MAX_OWN   4096 /* queue ids of our own report mail remembered */
#define LOGPARSE_EXPIRE    900  /* seconds of log time a pending session is kept */

typedef enum { LOGPARSE_POSTFIX = 0, LOGPARSE_SENDMAIL = 1 } logparse_format;

typedef struct logparse_stats {
    uint64_t lines;       /* lines fed */
    uint64_t relevant;    /* lines recognised as TLS or delivery information */
    uint64_t malformed;   /* recognised, but a required field could not be parsed */
    uint64_t oversize;    /* over LOGPARSE_MAX_LINE, skipped */
    uint64_t outcomes;    /* outcomes emitted */
    uint64_t own_reports; /* sessions that carried our own report mail, not counted */
    uint64_t unmatched;   /* sessions that never got a delivery line (dropped) */
    uint64_t state_full;  /* sessions dropped because LOGPARSE_MAX_PROCS was reached */
} logparse_stats;

/* An MTA-STS policy the policy service applied: strings and patterns live in the arena
 * given to the lookup. */
typedef struct logparse_sts {
    const char **strings;
    size_t nstrings;
    const char **mx;
    size_t nmx;
} logparse_sts;

/* Receives each outcome; o is valid only during the call. */
typedef void (*logparse_emit_fn)(const outcome *o, void *ctx);
/* Fills out (allocating in mem) with the STS policy applied to domain on day (YYYY-MM-DD);
 * returns 1 found, 0 none, -1 error (treated as none). */
typedef int (*logparse_sts_fn)(void *ctx, const char *day, const char *domain, arena *mem,
                               logparse_sts *out);

/* Sets *out (allocating in mem) to the TLSA records of _port._tcp.host in presentation
 * form; returns how many (0: none, or the lookup failed). */
typedef size_t (*logparse_tlsa_fn)(void *ctx, const char *host, unsigned port, arena *mem,
                                   const char ***out);

typedef struct logparse logparse;

/* Returns a parser for format whose outcomes (source: OUTCOME_SRC_*) go to emit; the
 * caller frees it with logparse_free. */
logparse *logparse_new(logparse_format format, int source, logparse_emit_fn emit, void *ctx);
logparse *logparse_free(logparse *lp);
/* Attributes outcomes to an applied STS policy through fn (results cached per day). */
void logparse_set_sts(logparse *lp, logparse_sts_fn fn, void *ctx);
/* Fills the policy strings of tlsa outcomes through fn (results cached per day). */
void logparse_set_tlsa(logparse *lp, logparse_tlsa_fn fn, void *ctx);
/* Joins the MTA-STS fetch failures f knows to the sessions (stsjoin_outcome); lp owns f. */
void logparse_set_failures(logparse *lp, sts_failures *f);
/* Sets the time classic syslog timestamps (no year) are read relative to (default: now). */
void logparse_set_now(logparse *lp, time_t now);
/* Parses one line (without its newline). */
void logparse_line(logparse *lp, const char *line, size_t len);
/* Splits buf into lines and parses each complete one; returns the bytes consumed (the
 * incomplete last line is left to the caller). */
size_t logparse_buffer(logparse *lp, const char *buf, size_t len);
/* Tells the parser where the next line starts in the caller's stream (for logparse_oldest). */
void logparse_mark(logparse *lp, uint64_t pos);
/* The position of the oldest line a pending session still depends on, or none: where a
 * restarted reader must resume so that no session is lost. */
uint64_t logparse_oldest(const logparse *lp, uint64_t none);
/* End of input: drops the sessions still waiting for their delivery line (counted). */
void logparse_finish(logparse *lp);
const logparse_stats *logparse_stats_get(const logparse *lp);
/* Parses a syslog timestamp (classic "Mmm dd hh:mm:ss" in local time, relative to now,
 * or RFC 3339) at s; returns the epoch and sets *used, or -1. */
time_t logparse_time(const char *s, size_t len, time_t now, size_t *used);
#endif
