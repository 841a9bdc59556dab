#ifndef OTR_ROLES_H
#define OTR_ROLES_H
/*
 * The daemon's roles. The supervisor (supervisor.c) prepares each enabled role in the
 * parent (as root: listening sockets are created there and survive child restarts), drops
 * privileges, then runs each role in a child process of its own and restarts it on a crash.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stddef.h>

#include "config.h"

#define ROLE_MAX_FDS 4

#define ROLE_TAKING ((uint64_t)1 << 63) /* in taken: a receive call is under way */

/* Counters a role child shares with its supervisor, in a page that outlives the child:
 * what it read from outside less what it settled (stored, refused or counted as lost) is
 * what a killed child took with it, which the supervisor then logs instead of it vanishing
 * unseen. Zeroed before each start. A role whose receive call can take items without
 * counting them (the tlsrpt role's recvmmsg()) sets ROLE_TAKING in taken during the call
 * and keeps in own what its role_ops.taking needs to count them after a SIGKILL. */
typedef struct role_shared {
    _Atomic uint64_t taken;
    _Atomic uint64_t settled;
    max_align_t own[]; /* role_ops.shared_size bytes, the role's own */
} role_shared;

typedef struct role_ctx {
    int fds[ROLE_MAX_FDS]; /* listening sockets the parent opened; -1 when unused */
    int nfds;
    role_shared *shared; /* set by the supervisor */
} role_ctx;

typedef struct role_ops {
    const char *name;
    /* Whether cfg switches the role on. */
    int (*enabled)(const config *cfg);
    /* Parent, at start (old NULL) and on reload: open what the child needs into ctx; keep
     * ctx as it is when old has the same socket settings. Returns 0, or -1 after logging. */
    int (*prepare)(const config *cfg, const config *old, role_ctx *ctx);
    /* Child: serve until role_stop is set; flush everything read; return an exit status. */
    int (*run)(const config *cfg, role_ctx *ctx);
    /* Bytes of role_shared.own the role uses (0: none). */
    size_t shared_size;
    /* Supervisor, for a child that died with ROLE_TAKING set: the items its receive call
     * had taken and not yet counted in taken (NULL: a role that never sets it). */
    uint64_t (*taking)(const role_shared *sh);
    /* The nice value a thread of the role raises itself to (0: none); the supervisor
     * raises RLIMIT_NICE to allow it after the privilege drop. */
    int nice;
} role_ops;

/* Set by SIGTERM/SIGINT in a role child: finish what was read, then return from run. */
extern volatile sig_atomic_t role_stop;

extern const role_ops role_tlsrpt;
extern const role_ops role_milter;
extern const role_ops role_policy;
extern const role_ops role_log;
extern const role_ops role_metrics;
extern const role_ops role_ship;

/* Fleet mode (fleet_database set): the role's shared documents (MTA-STS policy cache,
 * received reports) go to the fleet database from now on; nothing otherwise. */
void role_fleet_share(const config *cfg);
/* Closes the fds of ctx and marks them unused. */
void role_ctx_close(role_ctx *ctx);
#endif
