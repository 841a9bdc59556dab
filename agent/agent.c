/* What every opentlsrpt-agent subcommand shares: the spool, routine log lines. */
#include "agent.h"

#include <stdarg.h>
#include <string.h>

#include "fleet_db.h"
#include "fleet_store.h"
#include "msg.h"

spool *agent_spool(agent_ctx *ctx)
{
    if (ctx->spool == NULL) {
        ctx->spool = spool_open(ctx->cfg->spool_directory);
        /* Fleet mode: the fleet's outcomes, delivery state and shared documents. */
        if (fleet_enabled(ctx->cfg)) {
            if (fleet_store_open(ctx->cfg) < 0)
                msg_fatal("fleet mode: the fleet database cannot be used (see above); "
                          "nothing done");
            spool_set_source(ctx->spool, &fleet_source);
            fleet_store_share(1);
        }
    }
    return ctx->spool;
}

int agent_fleet_day(agent_ctx *ctx, const char *day, time_t now)
{
    vstring *late = vstring_alloc(0);
    int ret = fleet_store_day_ready(day, now, ctx->cfg->fleet_max_lag, late);

    if (ret == 0)
        agent_note(ctx, 0,
                   "%s: not built yet: waiting for host(s) %s to ship it (at most "
                   "fleet_max_lag)",
                   day, vstring_str(late));
    if (ret == 1 && vstring_len(late))
        msg_warn("%s: built without what host(s) %s did not ship within fleet_max_lag", day,
                 vstring_str(late));
    if (ret == 1 && (ret = fleet_store_lock_day(day)) == 0)
        agent_note(ctx, 0, "%s: another agent of the fleet is delivering it", day);
    vstring_free(late);
    return ret;
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
