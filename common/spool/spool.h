#ifndef OTR_SPOOL_H
#define OTR_SPOOL_H
/*
 * The spool: where intake roles append outcomes and the agent reads them back by UTC day,
 * and where the agent keeps its delivery state. Callers see only this interface; the file
 * backend (one journal per role per day) is the one there is, and a shared SQL backend for
 * fleets can be added behind the same operations.
 */
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "counters.h"
#include "journal.h"
#include "outcome.h"
#include "vstring.h"

#define SPOOL_DAY_LEN 10 /* "YYYY-MM-DD" */

typedef struct spool spool;
typedef struct spool_writer spool_writer;

typedef struct spool_writer_stats {
    uint64_t appended; /* records accepted by spool_append */
    uint64_t written;  /* records that reached the file */
    uint64_t lost;     /* records that could not be written (disk full, I/O error) */
    uint64_t dropped;  /* records refused: the day's journal reached its maximum size */
    uint64_t syncs;
} spool_writer_stats;

/* What a writer adds up for someone else to read while it runs (the daemon's metrics). */
typedef struct spool_counters {
    counter written;      /* records that reached a journal */
    counter lost;         /* records that could not be written (disk full, I/O error) */
    counter dropped;      /* records refused: the day's journal reached journal_max_size */
    counter bytes;        /* bytes written to journals */
    counter journal_size; /* gauge: size of the journal written last */
    hist sync;            /* fdatasync latency */
} spool_counters;

/* Opens the spool at dir (created if missing); fatal when it cannot be used. Caller frees
 * with spool_close. */
spool *spool_open(const char *dir);
spool *spool_close(spool *s);
const char *spool_dir(const spool *s);

/* Opens the single writer of role (e.g. "tlsrpt", "sts", "log"); one per role at a time. */
spool_writer *spool_writer_open(spool *s, const char *role);
/* Buffers o for its UTC day of o->received; rolls to a new journal at day change (the old
 * one is synced first). Returns 0. */
int spool_append(spool_writer *w, const outcome *o);
/* Writes what is buffered; with sync, also makes it durable. Returns 0, or -1 on I/O error
 * (the buffered records are then counted as lost and dropped, the journal stays clean). */
int spool_flush(spool_writer *w, int sync);
/* Flushes, syncs and closes; returns NULL. */
spool_writer *spool_writer_close(spool_writer *w);
/* Caps each day's journal of this writer at max_size bytes (journal_max_size; 0: no cap):
 * past it spool_append counts the outcome as dropped and logs that once per day. */
void spool_writer_set_max(spool_writer *w, long long max_size);
const spool_writer_stats *spool_writer_stats_get(const spool_writer *w);
/* Makes w also count into c (NULL: stop); c must outlive w. */
void spool_writer_count(spool_writer *w, spool_counters *c);
/* Where the writer's journal ends now, as text ("DAY SIZE") for spool_records_after: a
 * writer that keeps its input position elsewhere saves the mark with it, and after a crash
 * counts what it stored past the position it resumes from. A writer with no journal open
 * yet opens that of the day hint starts with (its previous mark; NULL: none); "" when
 * there is none. */
void spool_writer_mark(spool_writer *w, const char *hint, char *out, size_t size);
/* The good records role wrote past mark; 0 when mark is "" or the journal is gone. */
uint64_t spool_records_after(spool *s, const char *role, const char *mark);

/* Where the agent reads outcomes from instead of this host's journals (fleet mode: the
 * fleet database): the days present, the outcomes of a day, and removing old days. */
typedef struct spool_source {
    const char *name;
    char **(*days)(void *ctx);
    int (*iterate_day)(void *ctx, const char *day, int (*fn)(const outcome *o, void *fnctx),
                       void *fnctx, journal_stats *stats);
    int (*expire)(void *ctx, const char *cutoff);
    void *ctx;
} spool_source;
/* From now on spool_days and spool_iterate_day read from src (NULL: the journals again);
 * spool_expire removes old days both here and there. src must outlive s. */
void spool_set_source(spool *s, const spool_source *src);

/* Calls fn on each outcome of day (all roles' journals); fn returning non-zero stops.
 * Returns 0, or -1 when the day cannot be read. stats (may be NULL) sums the journals'. */
int spool_iterate_day(spool *s, const char *day, int (*fn)(const outcome *o, void *ctx), void *ctx,
                      journal_stats *stats);
/* Returns a NULL-terminated, sorted array of the days present; caller frees each and it. */
char **spool_days(spool *s);
/* Removes the outcomes of days older than retention_days before now; returns how many. */
int spool_expire(spool *s, int retention_days, time_t now);

/* Delivery state of a day: an opaque document owned by the agent. Load replaces out's
 * content (empty when none; returns 0, or -1 on error); save is atomic and durable. */
int spool_state_load(spool *s, const char *day, vstring *out);
int spool_state_save(spool *s, const char *day, const char *data, size_t len);
/* The day's state log: lines appended durably (fdatasync) one at a time, for what must
 * survive a crash at once without rewriting the whole state (the agent: each acceptance
 * and each failed attempt).
 * Load replaces out with the lines appended since the last spool_state_save (empty when
 * none; returns 0, or -1 on error); spool_state_save empties the log once the state is
 * durable. Append returns 0, or -1 (errno set). */
int spool_state_log_append(spool *s, const char *day, const char *line, size_t len);
int spool_state_log_load(spool *s, const char *day, vstring *out);

/* Writes the UTC day of t as YYYY-MM-DD into out (size > SPOOL_DAY_LEN). */
void spool_day_of(time_t t, char *out);
/* Parses YYYY-MM-DD; returns the epoch of its 00:00:00 UTC, or -1 when invalid. */
time_t spool_day_parse(const char *day);
#endif
