#ifndef OTR_DELIVERY_H
#define OTR_DELIVERY_H
/*
 * Delivery state and rules: for each (day, report domain, rua URI) whether the report is
 * pending, delivered or given up, with attempts and the next attempt time, kept in the
 * spool (spool_state_*) and written durably right after each acceptance. A report is
 * delivered once one endpoint accepted it; failures back off exponentially from 5 minutes
 * and are given up 24 hours after the first attempt; the first attempt of each domain is
 * spread over send_window after the day ends.
 */
#include <stdio.h>
#include <time.h>

#include "agent.h"
#include "discover.h"

#define DELIVERY_FIRST_RETRY 300   /* seconds after the first failure */
#define DELIVERY_WINDOW      86400 /* seconds after the first attempt before giving up */

typedef struct delivery_opts {
    int ignore_window;       /* run --now, send: do not wait for the spread offset */
    int ignore_backoff;      /* send: try pending endpoints now */
    int force;               /* send --force: send again what was delivered */
    const char *only_domain; /* send --domain */
} delivery_opts;

typedef struct delivery_stats {
    unsigned long domains;  /* report domains of the days processed */
    unsigned long sent;     /* reports accepted by an endpoint in this run */
    unsigned long attempts; /* delivery attempts in this run */
    unsigned long failed;   /* attempts that failed */
    unsigned long gave_up;  /* reports given up in this run */
    unsigned long waiting;  /* reports not due yet or waiting for a retry */
} delivery_stats;

/* Takes <spool>/agent.lock; returns the descriptor to keep open, -2 when another run holds
 * it, or -1 after logging an error. */
int delivery_lock(agent_ctx *ctx);
/* Delivers what is due for day at now; returns 0, or -1 when the day could not be processed
 * (journal or state unreadable, state unwritable). */
int delivery_day(agent_ctx *ctx, discover *d, const char *day, time_t now,
                 const delivery_opts *opts, delivery_stats *stats);
/* Returns 1 when the state says every report of day is settled (nothing left to do). */
int delivery_day_settled(agent_ctx *ctx, const char *day);
/* One report of a day as the state has it, for the metrics. status: "pending", "failed"
 * (pending, its last attempt failed), "delivered", "given-up" or "no-record"; uri: the
 * endpoint that accepted it, else the first one tried, else the first known ("": none);
 * delivered: when it was accepted (0: not). Strings valid during the call. */
typedef struct delivery_report_info {
    const char *status;
    const char *uri;
    time_t delivered;
} delivery_report_info;
/* Calls fn on each report domain of day's state; returns 0 (also when the day was not
 * processed yet), or -1 when the state cannot be read. */
int delivery_each(agent_ctx *ctx, const char *day,
                  void (*fn)(const delivery_report_info *ri, void *arg), void *arg);
/* Prints the state of day (per domain with verbose) to fp; returns 0, or -1 on error. */
int delivery_status(agent_ctx *ctx, const char *day, int verbose, FILE *fp);
/* For run and send: takes the lock, loads the mail set-up (unless deliver_to = file:) and
 * a discoverer into *d. Returns the lock descriptor (the caller closes it), -2 when another
 * run holds the lock, or -1 after logging. */
int delivery_prepare(agent_ctx *ctx, discover **d);
/* With -v: one line on stderr summing up stats. */
void delivery_summary(agent_ctx *ctx, const delivery_stats *stats, unsigned long days);
/* The time of the first attempt for (day, domain): the day's end plus a stable offset
 * within send_window. */
time_t delivery_due(const config *cfg, const char *day, const char *domain);
#endif
