#ifndef OTR_FLEET_STORE_H
#define OTR_FLEET_STORE_H
/*
 * The fleet database behind the spool boundary: a spool_store backend for the areas the
 * fleet shares (otr_doc; the delivery state in otr_state), and a spool_source that reads
 * the whole fleet's outcomes (otr_outcome) by day. One connection per process, opened on
 * first use and again after a failure; calls are serialised (threads may share it).
 */
#include <libpq-fe.h>
#include <time.h>

#include "config.h"
#include "spool.h"
#include "spool_store.h"

/* The document backend (areas: sts/cache, sts/applied, reports, inbound -> otr_doc;
 * state -> otr_state). */
extern const spool_store_ops fleet_store_ops;
/* The outcome source for the agent. */
extern const spool_source fleet_source;

/* Makes the fleet database of cfg (which must outlive it) this process's; 0, or -1 with a
 * logged error when it cannot be reached now (later calls retry). */
int fleet_store_open(const config *cfg);
/* Puts the areas the fleet shares behind fleet_store_ops (with_state: also the delivery
 * state, for the agent). */
void fleet_store_share(int with_state);
/* Closes the connection. */
void fleet_store_close(void);

/* Takes the fleet-wide lock of a day's delivery without waiting: 1 taken, 0 another agent
 * holds it, -1 error. Held until fleet_store_unlock_day or the end of the process (a
 * killed agent's lock goes with its connection). */
int fleet_store_lock_day(const char *day);
void fleet_store_unlock_day(const char *day);

/* Whether every registered host has shipped past the end of day, or max_lag has passed
 * since: 1 ready, 0 not yet, -1 error. late (may be NULL) gets the hosts behind, "a, b". */
int fleet_store_day_ready(const char *day, time_t now, long long max_lag, vstring *late);
#endif
