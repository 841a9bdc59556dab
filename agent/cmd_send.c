/* opentlsrpt-agent send --day D [--domain X] [--force]: delivers what is pending for a day
 * now, ignoring the spread window and the retry back-off (also for the current day). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "deliver.h"
#include "delivery.h"
#include "discover.h"
#include "domain.h"
#include "fleet_db.h"
#include "fleet_store.h"
#include "msg.h"
#include "testpoint.h"

int cmd_send(agent_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"day", required_argument, NULL, 'd'},
        {"domain", required_argument, NULL, 'D'},
        {"force", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    delivery_opts o = {1, 1, 0, NULL};
    delivery_stats st;
    agent_scope sc = {0};
    discover *d;
    int ch;

    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch == 'f')
            o.force = 1;
        else if (ch != 'd' && ch != 'D')
            goto usage;
        else if (agent_scope_option(&sc, ch, optarg) != 0)
            return 2;
    }
    if (sc.day == NULL || optind != argc)
        goto usage;
    const char *day = sc.day;
    o.only_domain = sc.domain;
    int lock = delivery_prepare(ctx, &d);
    if (lock == -2) {
        msg_error("another opentlsrpt-agent run or send is in progress; try again later");
        return 1;
    }
    if (lock < 0)
        return 1;
    memset(&st, 0, sizeof(st));
    /* Fleet mode: the day's fleet-wide lock (send is by hand: no waiting for late hosts). */
    int fleet = fleet_enabled(ctx->cfg), held = fleet ? fleet_store_lock_day(day) : 1;
    if (held <= 0) {
        msg_error("%s: %s; try again later", day,
                  held == 0 ? "another agent of the fleet is delivering it"
                            : "cannot take the fleet's lock of the day");
        discover_free(d);
        close(lock);
        return 1;
    }
    int status = delivery_day(ctx, d, day, testpoint_now(), &o, &st) < 0 ? 1 : 0;
    if (fleet)
        fleet_store_unlock_day(day);
    if (o.only_domain && st.domains == 0)
        msg_warn("%s: no outcomes for %s on that day", o.only_domain, day);
    delivery_summary(ctx, &st, 1);
    discover_free(d);
    deliver_https_cleanup();
    close(lock);
    return status;

usage:
    fprintf(stderr, "usage: opentlsrpt-agent send --day YYYY-MM-DD [--domain D] [--force]\n");
    return 2;
}
