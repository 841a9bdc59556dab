#ifndef OTR_LOGPARSE_STS_H
#define OTR_LOGPARSE_STS_H
/* The MTA-STS attribution of log outcomes: what the policy service recorded in the spool. */
#include "logparse.h"

/* A logparse_sts_fn over the spool directory ctx (a const char *): the STS policy the
 * policy service applied to domain on day; 1 found, 0 none, -1 error. */
int logparse_sts_applied(void *ctx, const char *day, const char *domain, arena *mem,
                         logparse_sts *out);
#endif
