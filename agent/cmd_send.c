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
#include "msg.h"

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
    const char *day = NULL;
    char norm[DOMAIN_MAX + 2];
    discover *d;
    int ch;

    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            day = optarg;
            break;
        case 'D':
            if (domain_normalize(optarg, strlen(optarg), norm, sizeof(norm)) < 0) {
                msg_error("--domain: \"%s\" is not a domain name", optarg);
                return 2;
            }
            o.only_domain = norm;
            break;
        case 'f':
            o.force = 1;
            break;
        default:
            goto usage;
        }
    }
    if (day == NULL || optind != argc)
        goto usage;
    if (spool_day_parse(day) < 0) {
        msg_error("--day: expected a date as YYYY-MM-DD, got \"%s\"", day);
        return 2;
    }
    int lock = delivery_prepare(ctx, &d);
    if (lock == -2) {
        msg_error("another opentlsrpt-agent run or send is in progress; try again later");
        return 1;
    }
    if (lock < 0)
        return 1;
    memset(&st, 0, sizeof(st));
    int status = delivery_day(ctx, d, day, delivery_now(), &o, &st) < 0 ? 1 : 0;
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
