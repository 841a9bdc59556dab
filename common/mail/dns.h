#ifndef OTR_DNS_H
#define OTR_DNS_H
/*
 * DNS lookups through libunbound, shared by the agent (TLSRPT discovery, DKIM keys, domain
 * check) and the daemon (MTA-STS TXT). Settings: `resolver` ("" = /etc/resolv.conf, else
 * a space- or comma-separated list of IP[@port] forwarders) and `dnssec_trust_anchor_file`
 * (validate when set). One resolver per thread; results are not cached here.
 */
#include <stddef.h>

#include "config.h"
#include "vstring.h"

typedef struct dns_resolver dns_resolver;

typedef enum {
    DNS_OK = 0,   /* answer with data */
    DNS_NODATA,   /* the name exists but has no record of the type */
    DNS_NXDOMAIN, /* the name does not exist */
    DNS_TEMPFAIL, /* SERVFAIL, timeout, network error: try again later */
    DNS_BOGUS,    /* DNSSEC validation failed: treat as no record, and log */
} dns_status;

#define DNS_MAX_RECORDS 64

typedef struct dns_result {
    dns_status status;
    int secure;                /* validated by DNSSEC (only with a trust anchor); for
                                * NODATA/NXDOMAIN: the denial */
    size_t n;                  /* records */
    char *rr[DNS_MAX_RECORDS]; /* per type below; each NUL-terminated, owned by the result */
    size_t rrlen[DNS_MAX_RECORDS];
    char why[256]; /* for TEMPFAIL/BOGUS: what the resolver said */
} dns_result;

/* Returns a resolver configured from cfg, or NULL after logging why. Free with
 * dns_resolver_free. */
dns_resolver *dns_resolver_new(const config *cfg);
dns_resolver *dns_resolver_free(dns_resolver *r);
/* Bounds each lookup (validation included) to seconds; the default is 15. */
void dns_resolver_set_timeout(dns_resolver *r, int seconds);

/* TXT: each rr is one record's character-strings concatenated (no separator). */
dns_status dns_txt(dns_resolver *r, const char *name, dns_result *out);
/* MX: each rr is "PREF HOST" with HOST lower-case, no trailing dot; sorted by preference. */
dns_status dns_mx(dns_resolver *r, const char *name, dns_result *out);
/* A and AAAA: each rr is an address in text form (RFC 5952 for IPv6), A first. */
dns_status dns_addr(dns_resolver *r, const char *name, dns_result *out);
/* TLSA: each rr is "USAGE SELECTOR MTYPE HEX" in presentation form (upper-case hex). */
dns_status dns_tlsa(dns_resolver *r, const char *name, dns_result *out);
/* How many records of a TLSA answer make DANE apply to SMTP (RFC 7672): 0 unless the
 * answer is DNSSEC-validated; then those with usage DANE-TA(2) or DANE-EE(3). */
size_t dns_tlsa_usable(const dns_result *res);
/* Whether every MX host of domain has usable DNSSEC-validated TLSA records for port 25,
 * the MX answer itself validated: 1 yes, 0 no (or the lookups failed). */
int dns_mx_dane(dns_resolver *r, const char *domain);
/* Appends to out the text form the lookups above give one record's RDATA of type (1 A,
 * 15 MX, 16 TXT, 28 AAAA, 52 TLSA); returns 0, or -1 when malformed. For the fuzzer. */
int dns_rdata_text(int type, const void *rdata, size_t len, vstring *out);
/* Frees the records of out (the struct itself is the caller's). */
void dns_result_free(dns_result *out);
/* A short name for a status, for logs: "ok", "nodata", "nxdomain", "tempfail", "bogus". */
const char *dns_status_name(dns_status s);
#endif
