/*
 * The ship role (fleet mode): copies this host's journals into the fleet database, exactly
 * once, behind the intake roles. It only reads the journals, so a slow or absent database
 * never slows intake: the outcomes wait in the journals and are shipped when it is back.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "fleet_db.h"
#include "fleet_ship.h"
#include "msg.h"
#include "roles.h"

#define SHIP_IDLE_MS   500 /* pause when caught up: outcomes reach the database within ~1 s */
#define SHIP_RETRY_MAX 60  /* seconds between connection attempts, at most */
#define SHIP_LAG_LOG   60  /* log the lag once a minute while it exceeds this many seconds */
#define SHIP_NICE      10  /* below the intake roles: shipping may lag, intake must not */

static int ship_enabled(const config *cfg)
{
    return fleet_enabled(cfg);
}

static int ship_prepare(const config *cfg, const config *old, role_ctx *ctx)
{
    (void)cfg;
    (void)old;
    (void)ctx;
    return 0;
}

/* Sleeps ms, waking early when the role is told to stop. */
static void ship_pause(unsigned ms)
{
    for (unsigned t = 0; t < ms && !role_stop; t += 100)
        usleep(100 * 1000);
}

static int ship_run(const config *cfg, role_ctx *ctx)
{
    (void)ctx;
    fleet_ship *s = fleet_ship_new(cfg, cfg->spool_directory);
    unsigned retry = 1;
    time_t last_lag_log = 0;

    errno = 0;
    if (nice(SHIP_NICE) == -1 && errno)
        msg_warn("ship: cannot lower its priority: %m");
    msg_info("ship: shipping %s to the fleet database", cfg->spool_directory);
    while (!role_stop) {
        int r = fleet_ship_pass(s, 0, &role_stop);
        const fleet_ship_stats *st = fleet_ship_stats_get(s);
        if (r < 0) {
            ship_pause(retry * 1000);
            retry = retry * 2 > SHIP_RETRY_MAX ? SHIP_RETRY_MAX : retry * 2;
            continue;
        }
        retry = 1;
        time_t now = time(NULL);
        if (st->through && now - st->through > SHIP_LAG_LOG && now - last_lag_log >= 60) {
            msg_warn("ship: %lld s behind, %llu journal byte(s) to ship",
                     (long long)(now - st->through), (unsigned long long)st->backlog);
            last_lag_log = now;
        }
        if (r == 1)
            ship_pause(SHIP_IDLE_MS);
    }
    msg_info("ship: stopping; %llu outcome(s) shipped",
             (unsigned long long)fleet_ship_stats_get(s)->shipped);
    fleet_ship_free(s);
    return 0;
}

const role_ops role_ship = {
    .name = "ship",
    .enabled = ship_enabled,
    .prepare = ship_prepare,
    .run = ship_run,
};
