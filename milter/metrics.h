#ifndef OTR_METRICS_H
#define OTR_METRICS_H
/*
 * The daemon's metrics: counters the roles update with relaxed atomics in a page the
 * supervisor maps before it starts them, so they outlive a role's restart, and the metrics
 * role (role_metrics.c) reads for each scrape without ever touching a role.
 * Counters only grow (Prometheus sees a restart of the whole daemon as a reset).
 */
#include "counters.h"
#include "dgram.h"
#include "spool.h"
#include "vstring.h"

/* Roles in the order of supervisor.c's list. */
enum {
    METRICS_TLSRPT,
    METRICS_MILTER,
    METRICS_POLICY,
    METRICS_LOG,
    METRICS_HTTP,
    METRICS_SHIP,
    METRICS_NROLES
};

/* Answers of the policy service, by how Postfix acts on them. */
enum {
    METRICS_ANSWER_SECURE,   /* OK secure ...: an MTA-STS enforce policy */
    METRICS_ANSWER_DANE,     /* OK dane...: (never ours today; a testing_policy may say it) */
    METRICS_ANSWER_OTHER,    /* OK with another level: testing_policy, a failing policy */
    METRICS_ANSWER_NOTFOUND, /* no policy: Postfix goes on with its default */
    METRICS_ANSWER_TEMP,     /* TEMP: Postfix defers */
    METRICS_NANSWERS
};

/* Modes of the last policy known of a domain whose fetch failed. */
enum {
    METRICS_MODE_UNKNOWN,
    METRICS_MODE_NONE,
    METRICS_MODE_TESTING,
    METRICS_MODE_ENFORCE,
    METRICS_NMODES
};
#define METRICS_NRESULTS 110 /* result codes 200..309 */

enum {
    METRICS_REFUSED_TOO_LARGE,
    METRICS_REFUSED_MALFORMED,
    METRICS_REFUSED_STORE_ERROR,
    METRICS_REFUSED_DEFERRED, /* answered 4xx: milter_memory_max */
    METRICS_NREFUSED
};

typedef struct metrics_role {
    counter active;     /* gauge: enabled in the running configuration */
    counter up;         /* gauge: its process runs */
    counter restarts;   /* started again after its process ended */
    counter start_time; /* gauge: epoch seconds its process started */
    spool_counters spool;
} metrics_role;

typedef struct metrics_shm {
    counter start_time; /* of the daemon */
    metrics_role role[METRICS_NROLES];
    struct {
        counter received;
        counter malformed[DGRAM_NSTATUS];
        counter queue_full; /* dropped: no room in the queue */
        counter died;       /* dropped: taken in by a process that was killed */
        counter stored;
        counter queued;      /* put into the queue */
        counter dequeued;    /* taken from it by the writer */
        counter queue_bytes; /* gauge: bytes in the queue */
        counter queue_limit; /* gauge: tlsrpt_queue_size */
    } tlsrpt;
    struct {
        counter answers[METRICS_NANSWERS];
        hist latency;
        counter cache_entries;      /* gauge */
        counter cache_policies;     /* gauge: entries with a usable policy */
        counter cache_oldest_fetch; /* gauge: epoch of the oldest usable policy's fetch */
        counter fetches;            /* policies fetched */
        counter fetch_failures[METRICS_NMODES][METRICS_NRESULTS];
    } policy;
    struct {
        counter lines;
        counter relevant;
        counter malformed;
        counter sessions;  /* outcomes found */
        counter lag_bytes; /* gauge: bytes of the followed file not read yet */
        counter last_read; /* gauge: epoch of the last read that returned data */
    } log;
    struct {
        counter messages;
        counter reports_stored;
        counter reports_duplicate;
        counter refused[METRICS_NREFUSED];
        counter memory_bytes; /* gauge: resident memory of the role's process */
    } milter;
} metrics_shm;

/* The page, set up by metrics_shm_map before any role starts; never NULL in a role. */
extern metrics_shm *metrics;

/* Maps the shared page (fatal on failure). */
void metrics_shm_map(void);
/* Supervisor: role's process ended, with lost items read but not stored. */
void metrics_role_ended(int role, uint64_t lost);
/* Which METRICS_ANSWER_* a policy service answer is. */
int metrics_answer_kind(const char *answer, size_t len);
/* Appends the Prometheus text exposition of m to out; roles lists which roles the running
 * configuration has. */
void metrics_format(const metrics_shm *m, vstring *out);
#endif
