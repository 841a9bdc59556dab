#ifndef OTR_INREPORT_DKIM_H
#define OTR_INREPORT_DKIM_H
/*
 * DKIM of a received report message (RFC 8460 4.3: reports must be signed by the
 * reporting domain), verified with the signer's own canonicalization code (common/mail/dkim.c)
 * and keys looked up with libunbound (common/mail/dns.c), and whether the signing domain aligns
 * with the report's submitter.
 */
#include <stddef.h>

#include "dns.h"

#define INREPORT_DKIM_MAX_SIGS 8 /* signatures tried, top first */

/* Verifies msg's DKIM signatures until one passes; writes the result to out (e.g.
 * "pass (d=giant.example)", "fail (body hash mismatch)", "none", "temperror (...)").
 * Returns 1 when a passing signature's d= aligns with submitter (equal, or one is a
 * subdomain of the other), 0 when not, -1 when no signature passed. */
int inreport_dkim(dns_resolver *res, const char *msg, size_t len, const char *submitter, char *out,
                  size_t size);
#endif
