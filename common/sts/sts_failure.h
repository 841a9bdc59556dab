#ifndef OTR_STS_FAILURE_H
#define OTR_STS_FAILURE_H
/*
 * Which domains' MTA-STS policies the policy service could not fetch, read back from its
 * cache (<spool>/sts/cache/<domain>) by the roles that see the sessions, so that a failed
 * fetch marks the sessions it affected instead of counting as a session of its own. Each
 * domain's state is remembered for a few seconds; one instance per thread.
 */
#include <time.h>

typedef struct sts_failures sts_failures;

/* Returns a reader of the cache in spool_dir (copied); free with sts_failures_free. */
sts_failures *sts_failures_new(const char *spool_dir);
sts_failures *sts_failures_free(sts_failures *f);
/* Whether the last fetch of domain's policy failed, with no usable policy in force, and
 * the failure began no later than when: 1 with *result (301..303) and *reason (owned by f,
 * valid until the next call), else 0. */
int sts_failures_get(sts_failures *f, const char *domain, time_t when, int *result,
                     const char **reason);
#endif
