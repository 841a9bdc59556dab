/* opentlsrpt-agent expire: removes days older than retention_days. */
#include <stdio.h>
#include <time.h>

#include "agent.h"
#include "report_store.h"

void agent_expire(agent_ctx *ctx, time_t now)
{
    int days = (int)ctx->cfg->retention_days;

    spool_expire(agent_spool(ctx), days, now);
    report_store_expire(spool_dir(agent_spool(ctx)), days, now);
}

int cmd_expire(agent_ctx *ctx, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: opentlsrpt-agent expire\n");
        return 2;
    }
    agent_expire(ctx, time(NULL));
    return 0;
}
