#ifndef OTR_STS_CACHE_H
#define OTR_STS_CACHE_H
/*
 * What the MTA-STS policy service knows about one domain, as kept on disk in
 * <spool>/sts/cache/<domain> (survives restarts), and the socketmap answer it gives for it.
 * Shared by the daemon's policy role and `opentlsrpt-agent policy`.
 */
#include <stddef.h>
#include <time.h>

#include "sts.h"
#include "vstring.h"

typedef struct sts_cache_entry {
    char id[STS_ID_MAX + 1]; /* TXT id of the cached policy */
    int have_policy;
    sts_policy policy;
    time_t fetched;   /* when the policy was fetched */
    time_t expires;   /* fetched + max_age */
    time_t failed_at; /* last failed fetch, 0 when none since the last success */
    char failed_id[STS_ID_MAX + 1];
    int failed_result;      /* 301, 302 or 303 */
    char failed_reason[48]; /* failure-reason-code */
    int dane;               /* every MX host has usable validated TLSA records (not kept on disk) */
} sts_cache_entry;

/* Loads the entry of domain (normalized): 1 found, 0 none, -1 unreadable or corrupt. Free
 * with sts_cache_entry_free. */
int sts_cache_load(const char *spool_dir, const char *domain, sts_cache_entry *e);
/* Replaces the entry of domain on disk atomically (removes it when it holds nothing);
 * 0 or -1 after logging. */
int sts_cache_save(const char *spool_dir, const char *domain, const sts_cache_entry *e);
/* Calls fn for every cached domain; fn owns nothing (the entry is freed after it returns).
 * Returns how many were loaded. */
size_t sts_cache_load_all(const char *spool_dir,
                          void (*fn)(const char *domain, const sts_cache_entry *e, void *ctx),
                          void *ctx);
void sts_cache_entry_copy(sts_cache_entry *dst, const sts_cache_entry *src);
void sts_cache_entry_free(sts_cache_entry *e);
/* Clears the failed fetch e remembers (after a success, or once the TXT record is gone). */
void sts_cache_forget_failure(sts_cache_entry *e);
/* Whether e holds a policy that may be applied at now. */
int sts_cache_usable(const sts_cache_entry *e, time_t now);
/* Whether e records a failed fetch and holds no policy that replaces it (RFC 8461 5.1: a
 * usable cached policy stays in force when a refresh fails). */
int sts_cache_failing(const sts_cache_entry *e, time_t now);
/* Writes into out (replaced) the socketmap reply for domain given e (NULL: nothing known):
 * "OK secure match=... servername=hostname" for enforce; for testing, testing_policy when
 * set, else with attrs "OK <site_level>" plus the policy's attributes, else NOTFOUND;
 * "NOTFOUND " otherwise. attrs adds Postfix >= 3.10 TLSRPT attributes, and then a failed
 * fetch without a usable policy is answered "OK <testing_policy or site_level>
 * policy_type=sts policy_domain=<domain> policy_failure=<result>" (NOTFOUND at "none").
 * DANE comes first (RFC 8461 section 2): with e->dane and a site_level of dane or
 * dane-only, a policy is answered NOTFOUND, so that the site's DANE level applies. */
void sts_cache_answer(const sts_cache_entry *e, const char *domain, time_t now, int attrs,
                      const char *testing_policy, const char *site_level, vstring *out);
#endif
