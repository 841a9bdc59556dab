#ifndef OTR_STS_APPLIED_H
#define OTR_STS_APPLIED_H
/*
 * Which MTA-STS policy the policy service applied to each domain, per UTC day, so that
 * outcomes read from the mail log can be attributed to the policy in force. One small file
 * per day under <spool>/sts/applied/, appended to only when a domain's policy changes.
 */
#include <stddef.h>
#include <time.h>

/* Which MTA-STS policy the policy service applied to a domain on a UTC day. */
typedef struct sts_applied {
    char **strings;
    size_t nstrings;
    char **mx;
    size_t nmx;
} sts_applied;
/* Records that the policy (lines, mx patterns) was applied to domain at time when. 0 / -1. */
int sts_applied_record(const char *spool_dir, time_t when, const char *domain,
                       const char *const *strings, size_t nstrings, const char *const *mx,
                       size_t nmx);
/* Looks up the policy applied to domain on day (YYYY-MM-DD): 1 found (free with
 * sts_applied_free), 0 none, -1 error. */
int sts_applied_get(const char *spool_dir, const char *day, const char *domain, sts_applied *out);
void sts_applied_free(sts_applied *a);
#endif
