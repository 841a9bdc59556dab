#ifndef OTR_TEXTFILE_H
#define OTR_TEXTFILE_H
/* The agent's metrics for node_exporter's textfile collector (metrics_textfile). */
#include <time.h>

#include "agent.h"

/* Replaces metrics_textfile atomically with the delivery state of the days within
 * retention, the run's outcome (ok: it succeeded) at now, and the received reports of the
 * last finished day. Returns 0, or -1 after logging. */
int textfile_write(agent_ctx *ctx, int ok, time_t now);
#endif
