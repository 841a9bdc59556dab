/* STS attribution for log outcomes, from the policy service's per-day record. */
#include "logparse_sts.h"

int logparse_sts_applied(void *ctx, const char *day, const char *domain, arena *mem,
                         logparse_sts *out)
{
    /* Until the policy service keeps its per-day record (common/sts_applied.h), no
     * outcome from the log is attributed to an STS policy. */
    (void)ctx;
    (void)day;
    (void)domain;
    (void)mem;
    (void)out;
    return 0;
}
