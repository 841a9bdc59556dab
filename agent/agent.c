/* What every opentlsrpt-agent subcommand shares: the spool, routine log lines. */
#include "agent.h"

#include <stdarg.h>

#include "msg.h"

spool *agent_spool(agent_ctx *ctx)
{
    if (ctx->spool == NULL)
        ctx->spool = spool_open(ctx->cfg->spool_directory);
    return ctx->spool;
}

void agent_note(const agent_ctx *ctx, int warn, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vnote(ctx->verbose ? 0 : MSG_TO_STDERR, warn, fmt, ap);
    va_end(ap);
}
