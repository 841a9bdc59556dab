#ifndef OTR_STSJOIN_H
#define OTR_STSJOIN_H
/* A failed MTA-STS fetch joined to the sessions it affected (RFC 8460 4.3.1: the sessions
 * to a domain whose policy could not be fetched fail with sts-policy-fetch-error, ...). */
#include "outcome.h"
#include "sts_failure.h"

/* Marks the session o (from an MTA) as failed under the sts policy of its domain when the
 * policy service could not fetch that policy at o->received and the MTA did not say so
 * itself: a no-policy-found session, or an sts one without policy strings (what the
 * service hands Postfix 3.10 with policy_failure), becomes a failed sts session of the
 * fetch's result type, naming the MX host and address of its failure details, else
 * mx_host and mx_ip when given (a log names them for successful sessions too). Returns 1
 * when o was changed, else 0. */
int stsjoin_outcome(outcome *o, sts_failures *f, const char *mx_host, const char *mx_ip);
#endif
