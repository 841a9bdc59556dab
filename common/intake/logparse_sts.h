#ifndef OTR_LOGPARSE_STS_H
#define OTR_LOGPARSE_STS_H
/* Policy details of log outcomes that the log does not hold: the MTA-STS policy the policy
 * service applied (from the spool), and the TLSA records of a DANE MX (from DNS). */
#include "config.h"
#include "dns.h"
#include "logparse.h"

/* A logparse_sts_fn over the spool directory ctx (a const char *): the STS policy the
 * policy service applied to domain on day; 1 found, 0 none, -1 error. */
int logparse_sts_applied(void *ctx, const char *day, const char *domain, arena *mem,
                         logparse_sts *out);
/* A logparse_tlsa_fn over a dns_resolver ctx: the TLSA records of _port._tcp.host when
 * they are DNSSEC-validated and at least one is usable for SMTP (usage 2 or 3), else none. */
size_t logparse_tlsa_dns(void *ctx, const char *host, unsigned port, arena *mem, const char ***out);
/* Gives lp both: STS policies from the spool at spool_dir, TLSA records through the
 * resolver of cfg. Returns the resolver (free it with dns_resolver_free after lp), or NULL
 * when there is none usable (tlsa policies then have no strings). */
dns_resolver *logparse_sts_setup(logparse *lp, const config *cfg, const char *spool_dir);
#endif
