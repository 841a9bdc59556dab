/* What every opentlsrpt-agent subcommand shares: the spool, routine log lines. */
#include "agent.h"

#include <stdarg.h>
#include <string.h>

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

int agent_scope_option(agent_scope *sc, int ch, const char *arg)
{
    if (ch == 'd') {
        if (spool_day_parse(arg) < 0) {
            msg_error("--day: expected a date as YYYY-MM-DD, got \"%s\"", arg);
            return 2;
        }
        sc->day = arg;
    } else {
        if (domain_normalize(arg, strlen(arg), sc->norm, sizeof(sc->norm)) < 0) {
            msg_error("--domain: \"%s\" is not a domain name", arg);
            return 2;
        }
        sc->domain = sc->norm;
    }
    return 0;
}
