/* opentlsrpt-agent run: the cron job. Delivers what is due of every finished day within
 * retention, then expires old days. Silent on success; -v prints a summary. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "deliver.h"
#include "delivery.h"
#include "discover.h"
#include "fleet_db.h"
#include "fleet_store.h"
#include "msg.h"
#include "mymalloc.h"
#include "testpoint.h"
#include "textfile.h"

int cmd_run(agent_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"now", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    delivery_opts o = {0, 0, 0, NULL};
    delivery_stats st;
    discover *d;
    char today[SPOOL_DAY_LEN + 1], oldest[SPOOL_DAY_LEN + 1];
    int ch, status = 0;

    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch != 'n') {
            fprintf(stderr, "usage: opentlsrpt-agent run [--now]\n");
            return 2;
        }
        o.ignore_window = 1;
    }
    if (optind != argc) {
        fprintf(stderr, "usage: opentlsrpt-agent run [--now]\n");
        return 2;
    }
    int lock = delivery_prepare(ctx, &d);
    if (lock == -2) {
        msg_info("another opentlsrpt-agent run or send is in progress; nothing done");
        return 0;
    }
    if (lock < 0)
        return 1;
    time_t now = testpoint_now();
    spool_day_of(now, today);
    spool_day_of(now - (time_t)ctx->cfg->retention_days * 86400, oldest);
    memset(&st, 0, sizeof(st));
    char **days = spool_days(agent_spool(ctx));
    unsigned long ndays = 0;
    int fleet = fleet_enabled(ctx->cfg);
    /* Report mail must be signed: in a fleet, hosts without the key leave delivery to
     * those that have it. */
    int here = !fleet || *ctx->cfg->dkim_key_file || strncmp(ctx->cfg->deliver_to, "file:", 5) == 0;
    if (!here)
        agent_note(ctx, 0,
                   "fleet mode: no dkim_key_file on this host; delivery is left to "
                   "the hosts that have one");
    for (size_t i = 0; here && days[i]; i++) {
        /* Only finished days, and none that expire removes anyway. */
        if (strcmp(days[i], today) >= 0 || strcmp(days[i], oldest) < 0)
            continue;
        int go = fleet ? agent_fleet_day(ctx, days[i], now) : 1;
        if (go <= 0) {
            status |= go < 0;
            continue;
        }
        ndays++;
        if (delivery_day(ctx, d, days[i], now, &o, &st) < 0)
            status = 1;
        if (fleet)
            fleet_store_unlock_day(days[i]);
    }
    for (size_t i = 0; days[i]; i++)
        myfree(days[i]);
    myfree(days);
    /* Expiry is routine: syslog only, unless -v (cron mails what reaches stderr). */
    if (!ctx->verbose)
        msg_destinations(isatty(2) ? 0 : MSG_TO_SYSLOG);
    agent_expire(ctx, now);
    msg_destinations(MSG_TO_STDERR | (isatty(2) ? 0 : MSG_TO_SYSLOG));
    delivery_summary(ctx, &st, ndays);
    if (*ctx->cfg->metrics_textfile && textfile_write(ctx, status == 0, now) < 0)
        status = 1;
    discover_free(d);
    deliver_https_cleanup();
    close(lock);
    return status;
}
