#ifndef OTR_ROLES_H
#define OTR_ROLES_H
/*
 * The daemon's roles. The supervisor (supervisor.c) prepares each enabled role in the
 * parent (as root: listening sockets are created there and survive child restarts), drops
 * privileges, then runs each role in a child process of its own and restarts it on a crash.
 */
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

#define ROLE_MAX_FDS 4

/* The nice value of the tlsrpt role's receive thread; the supervisor raises RLIMIT_NICE to
 * allow it after the privilege drop. */
#define ROLE_RX_NICE  (-5)
#define ROLE_RX_MAX   64                  /* datagrams one recvmmsg() call takes */
#define ROLE_TAKING   ((uint64_t)1 << 63) /* in taken: a receive call is under way */
#define ROLE_RX_EMPTY UINT_MAX            /* msg_len of an rx slot the kernel did not fill */

/* Counters a role child shares with its supervisor, in a page that outlives the child:
 * what it read from outside less what it settled (stored, refused or counted as lost) is
 * what a killed child took with it, which the supervisor then logs instead of it vanishing
 * unseen. Zeroed before each start.
 * A SIGKILL inside recvmmsg() kills the process on its way back to user space, with the
 * datagrams already taken from the kernel and no counter updated. So the receive vectors
 * live here too: the kernel writes each datagram's msg_len as it takes it, and while
 * ROLE_TAKING is set in taken, the slots not ROLE_RX_EMPTY are datagrams taken but not yet
 * counted. The flag is cleared by the same atomic add that counts them. */
typedef struct role_shared {
    _Atomic uint64_t taken;
    _Atomic uint64_t settled;
    struct mmsghdr rx[ROLE_RX_MAX];
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
} role_ops;

/* Set by SIGTERM/SIGINT in a role child: finish what was read, then return from run. */
extern volatile sig_atomic_t role_stop;

extern const role_ops role_tlsrpt;
extern const role_ops role_milter;
extern const role_ops role_policy;
extern const role_ops role_log;
/* Later roles (policy service, log follower, milter) add themselves to supervisor.c's list. */

/* Closes the fds of ctx and marks them unused. */
void role_ctx_close(role_ctx *ctx);
#endif
