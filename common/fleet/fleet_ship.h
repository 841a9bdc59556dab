#ifndef OTR_FLEET_SHIP_H
#define OTR_FLEET_SHIP_H
/*
 * Shipping a host's journals into the fleet database. The journals stay the intake (the
 * roles never wait on the network); the shipper reads them behind the writers and copies
 * each batch of records with the position it reached in that journal, in one transaction,
 * so that every outcome arrives exactly once however often the database or the shipper
 * stops. Used by the daemon's ship role; one shipper per host (fleet_host).
 */
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "config.h"

typedef struct fleet_ship fleet_ship;

typedef struct fleet_ship_stats {
    uint64_t shipped; /* outcomes committed since start */
    uint64_t backlog; /* journal bytes not yet shipped at the end of the last pass */
    time_t through;   /* every outcome received before this is shipped (0: not yet) */
    int connected;    /* the database is reachable */
} fleet_ship_stats;

/* A shipper of the journals under spool_dir as this host; fatal on a bad fleet_host.
 * Caller frees with fleet_ship_free. */
fleet_ship *fleet_ship_new(const config *cfg, const char *spool_dir);
fleet_ship *fleet_ship_free(fleet_ship *s);
/* One pass over every journal: connects (and registers the host) when needed, ships what
 * is new, up to max_batches batches (0: no limit), stopping early when *stop becomes set.
 * Returns 1 when everything was shipped (caught up), 0 when more is waiting, -1 when the
 * database failed (logged; the next pass reconnects and resumes from the committed
 * positions). */
int fleet_ship_pass(fleet_ship *s, unsigned max_batches, volatile sig_atomic_t *stop);
const fleet_ship_stats *fleet_ship_stats_get(const fleet_ship *s);
/* Whether name can be a fleet host name: [A-Za-z0-9._-], 1..253 bytes. */
int fleet_host_ok(const char *name);
#endif
