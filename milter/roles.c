/* What roles.h declares for every role, below both the roles and the supervisor. */
#include "roles.h"

#include <unistd.h>

#include "fleet_db.h"
#include "fleet_store.h"
#include "msg.h"

volatile sig_atomic_t role_stop;

void role_ctx_close(role_ctx *ctx)
{
    for (int i = 0; i < ctx->nfds; i++)
        if (ctx->fds[i] >= 0)
            close(ctx->fds[i]);
    ctx->nfds = 0;
}

void role_fleet_share(const config *cfg)
{
    if (!fleet_enabled(cfg))
        return;
    /* Unreachable now: logged, and every use retries, so the role starts regardless. */
    (void)fleet_store_open(cfg);
    fleet_store_share(0);
}
