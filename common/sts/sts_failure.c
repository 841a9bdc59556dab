/* Failed MTA-STS fetches as the policy service's cache records them. */
#include "sts_failure.h"

#include <stdio.h>
#include <string.h>

#include "htable.h"
#include "mymalloc.h"
#include "sts_cache.h"

#define STS_FAILURES_TTL   10   /* seconds a domain's state is reused */
#define STS_FAILURES_MAX   4096 /* domains remembered; the table starts over beyond */
#define STS_FAILURES_SLACK 5    /* log timestamps have whole seconds */

typedef struct sts_failure_state {
    time_t checked;
    int failing;
    time_t since;
    int result;
    char reason[48];
} sts_failure_state;

struct sts_failures {
    char *spool_dir;
    htable *seen;
};

sts_failures *sts_failures_new(const char *spool_dir)
{
    sts_failures *f = mycalloc(1, sizeof(*f));

    f->spool_dir = mystrdup(spool_dir);
    f->seen = htable_create(64);
    return f;
}

sts_failures *sts_failures_free(sts_failures *f)
{
    if (f) {
        htable_free(f->seen, myfree_value);
        myfree(f->spool_dir);
        myfree(f);
    }
    return NULL;
}

int sts_failures_get(sts_failures *f, const char *domain, time_t when, int *result,
                     const char **reason)
{
    time_t now = time(NULL);
    size_t len = strlen(domain);
    htable_entry *e = htable_locate(f->seen, domain, len);
    sts_failure_state *s = e ? e->value : NULL;

    if (s == NULL || now - s->checked >= STS_FAILURES_TTL || now < s->checked) {
        if (s == NULL) {
            if (f->seen->used >= STS_FAILURES_MAX) {
                htable_free(f->seen, myfree_value);
                f->seen = htable_create(64);
            }
            e = htable_enter(f->seen, domain, len, NULL);
            e->value = s = mycalloc(1, sizeof(*s));
        }
        sts_cache_entry c;
        s->checked = now;
        s->failing = sts_cache_load(f->spool_dir, domain, &c) == 1 && sts_cache_failing(&c, now);
        if (s->failing) {
            s->since = c.failed_at;
            s->result = c.failed_result;
            snprintf(s->reason, sizeof(s->reason), "%s", c.failed_reason);
        }
        sts_cache_entry_free(&c); /* zeroed by the load whatever it returned */
    }
    if (!s->failing || when + STS_FAILURES_SLACK < s->since)
        return 0;
    *result = s->result;
    *reason = s->reason[0] ? s->reason : NULL;
    return 1;
}
