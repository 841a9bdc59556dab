/* opentlsrpt-agent config: the effective settings, like postconf. */
#include <stdio.h>
#include <unistd.h>

#include "agent.h"

int cmd_config(agent_ctx *ctx, int argc, char **argv)
{
    int ch, only_set = 0;

    while ((ch = getopt(argc, argv, "n")) != -1) {
        if (ch != 'n') {
            fprintf(stderr, "usage: opentlsrpt-agent config [-n]\n");
            return 2;
        }
        only_set = 1;
    }
    config_print(ctx->cfg, stdout, only_set);
    return 0;
}
