/* opentlsrpt-agent status [--day D]: per day, how many reports are pending, delivered or
 * failed, and when the next attempt is due; with -v or --day, per domain and endpoint. */
#include <getopt.h>
#include <stdio.h>

#include "agent.h"
#include "delivery.h"
#include "msg.h"
#include "mymalloc.h"

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
    if (sc.day)
        return delivery_status(ctx, sc.day, 1, stdout) < 0 ? 1 : 0;
    char **days = spool_days(agent_spool(ctx));
    for (size_t i = 0; days[i]; i++) {
        if (delivery_status(ctx, days[i], ctx->verbose, stdout) < 0)
            status = 1;
        myfree(days[i]);
    }
    myfree(days);
    return fflush(stdout) == 0 ? status : 1;

usage:
    fprintf(stderr, "usage: opentlsrpt-agent status [--day YYYY-MM-DD]\n");
    return 2;
}
