/* opentlsrpt-agent expire: removes days older than retention_days. */
#include <stdio.h>
#include <time.h>

#include "agent.h"

int cmd_expire(agent_ctx *ctx, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: opentlsrpt-agent expire\n");
        return 2;
    }
    spool_expire(agent_spool(ctx), (int)ctx->cfg->retention_days, time(NULL));
    return 0;
}
