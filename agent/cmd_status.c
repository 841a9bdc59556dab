/* opentlsrpt-agent status [--day D]: per day, how many reports are pending, delivered or
 * failed, and when the next attempt is due; with -v or --day, per domain and endpoint. */
#include <getopt.h>
#include <stdio.h>

#include "agent.h"
#include "delivery.h"
#include "fleet_db.h"
#include "fleet_store.h"
#include "msg.h"
#include "mymalloc.h"
#include "testpoint.h"

/* Fleet mode: the hosts that have not shipped day (late, or silent). */
static void status_fleet(agent_ctx *ctx, const char *day, FILE *out)
{
    vstring *late = vstring_alloc(0);

    if (fleet_enabled(ctx->cfg) &&
        fleet_store_day_ready(day, testpoint_now(), ctx->cfg->fleet_max_lag, late) >= 0 &&
        vstring_len(late))
        fprintf(out, "%s: not shipped by host(s) %s\n", day, vstring_str(late));
    vstring_free(late);
}

int cmd_status(agent_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"day", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    agent_scope sc = {0};
    int ch, status = 0;

    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch != 'd')
            goto usage;
        if (agent_scope_option(&sc, ch, optarg) != 0)
            return 2;
    }
    if (optind != argc)
        goto usage;
    if (sc.day) {
        status = delivery_status(ctx, sc.day, 1, stdout) < 0 ? 1 : 0;
        status_fleet(ctx, sc.day, stdout);
        return status;
    }
    char **days = spool_days(agent_spool(ctx));
    for (size_t i = 0; days[i]; i++) {
        if (delivery_status(ctx, days[i], ctx->verbose, stdout) < 0)
            status = 1;
        status_fleet(ctx, days[i], stdout);
        myfree(days[i]);
    }
    myfree(days);
    return fflush(stdout) == 0 ? status : 1;

usage:
    fprintf(stderr, "usage: opentlsrpt-agent status [--day YYYY-MM-DD]\n");
    return 2;
}
