#ifndef OTR_STS_H
#define OTR_STS_H
/*
 * MTA-STS (RFC 8461) text formats: the `_mta-sts` TXT record, the policy file, and the mx
 * pattern rule. Pure functions over bytes from the network, shared by the policy service
 * and the domain check command.
 */
#include <stddef.h>

#define STS_ID_MAX      32
#define STS_POLICY_MAX  65536     /* bytes in a policy file */
#define STS_MAX_AGE_MAX 31557600L /* max_age is capped here */
#define STS_MX_MAX      256       /* mx patterns kept from one policy */
#define STS_LINES_MAX   256       /* policy lines kept (report policy-string) */

typedef enum { STS_MODE_NONE = 0, STS_MODE_TESTING, STS_MODE_ENFORCE } sts_mode;

typedef struct sts_policy {
    sts_mode mode;
    long max_age;
    char **mx; /* normalized patterns: lower case, no trailing dot, "*." kept */
    size_t nmx;
    char **lines; /* the policy's non-empty lines without CR/LF, for policy-string */
    size_t nlines;
} sts_policy;

/* Parses one TXT record (character-strings joined): 1 and the id in id (size >
 * STS_ID_MAX) when it is a valid STSv1 record, 0 when it is not an STSv1 record at all, -1
 * when it starts with v=STSv1 but is malformed. */
int sts_txt_parse(const char *txt, size_t len, char *id, size_t idsize);
/* Applies the discard rule to all TXT records of _mta-sts.<domain>: 1 and the id when
 * exactly one record starts with v=STSv1 and it is valid; 0 when none does; -1 when
 * several do or the one is malformed (why: a static reason code). */
int sts_txt_select(char *const *rr, const size_t *rrlen, size_t n, char *id, size_t idsize,
                   const char **why);

/* Parses a policy file: 0 and out filled (free with sts_policy_free), or -1 with a static
 * failure-reason-code in *why (e.g. "max-age-missing") and out empty. */
int sts_policy_parse(const char *text, size_t len, sts_policy *out, const char **why);
void sts_policy_free(sts_policy *p);
/* Copies src into dst (dst owns its copy; free with sts_policy_free). */
void sts_policy_copy(sts_policy *dst, const sts_policy *src);
/* Whether host (any case, optional trailing dot) matches one pattern: exact, or "*.suffix"
 * matching exactly one more label. */
int sts_mx_match(const char *pattern, const char *host);
/* Whether host matches any mx pattern of p. */
int sts_policy_mx_ok(const sts_policy *p, const char *host);
/* "enforce", "testing", "none". */
const char *sts_mode_name(sts_mode m);
#endif
