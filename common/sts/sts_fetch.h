#ifndef OTR_STS_FETCH_H
#define OTR_STS_FETCH_H
/*
 * MTA-STS policy discovery (RFC 8461 section 3): the `_mta-sts` TXT lookup and the HTTPS
 * fetch of https://mta-sts.<domain>/.well-known/mta-sts.txt, with failures classified as
 * the report result types (301 sts-policy-fetch-error, 302 sts-policy-invalid,
 * 303 sts-webpki-invalid) plus a concise failure-reason-code. Independent of the daemon:
 * the policy service and the domain check command share it.
 */
#include <signal.h>
#include <stddef.h>

#include "dns.h"
#include "sts.h"

typedef struct sts_fetch_opts {
    long timeout;                  /* seconds for the whole fetch (sts_fetch_timeout) */
    const char *ca_file;           /* NULL or "": the system trust store */
    dns_resolver *dns;             /* resolves mta-sts.<domain>; NULL: the system resolver */
    int allow_private;             /* https_allow_private: loopback/private policy hosts are fine */
    volatile sig_atomic_t *cancel; /* may be NULL; once set, the fetch stops soon with the
                                    * reason "cancelled" (not the domain's failure) */
} sts_fetch_opts;

typedef struct sts_fetch_result {
    int result;        /* 0 when a valid policy was fetched, else 301, 302 or 303 */
    char reason[48];   /* failure-reason-code, e.g. "http-404", "max-age-missing" */
    char detail[640];  /* what happened, for logs and `opentlsrpt-agent policy` */
    sts_policy policy; /* the policy when result is 0 */
} sts_fetch_result;

typedef enum {
    STS_TXT_FOUND = 1,     /* exactly one valid STSv1 record: id set */
    STS_TXT_NONE = 0,      /* no STSv1 record (the domain has no MTA-STS policy) */
    STS_TXT_TEMPFAIL = -1, /* DNS failed: try later */
    STS_TXT_INVALID = -2,  /* several or a malformed STSv1 record: treat as none */
} sts_txt_status;

/* Initializes libcurl; call once, before any thread starts. */
void sts_fetch_global_init(void);
/* Looks up _mta-sts.<domain> and applies the discard rule; why gets a static reason. */
sts_txt_status sts_fetch_txt(dns_resolver *dns, const char *domain, char *id, size_t idsize,
                             const char **why);
/* Fetches and parses the policy of domain (normalized). Returns out->result; free out with
 * sts_fetch_result_free. */
int sts_fetch_policy(const char *domain, const sts_fetch_opts *opts, sts_fetch_result *out);
void sts_fetch_result_free(sts_fetch_result *r);
#endif
