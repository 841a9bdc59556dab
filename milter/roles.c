/* What roles.h declares for every role, below both the roles and the supervisor. */
#include "roles.h"

#include <unistd.h>

volatile sig_atomic_t role_stop;

void role_ctx_close(role_ctx *ctx)
{
    for (int i = 0; i < ctx->nfds; i++)
        if (ctx->fds[i] >= 0)
            close(ctx->fds[i]);
    ctx->nfds = 0;
}
