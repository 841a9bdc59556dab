/* STS attribution for log outcomes, from the policy service's per-day record. */
#include "logparse_sts.h"

#include "sts_applied.h"

int logparse_sts_applied(void *ctx, const char *day, const char *domain, arena *mem,
                         logparse_sts *out)
{
    sts_applied a;
    int r = sts_applied_get(ctx, day, domain, &a);

    if (r != 1)
        return r;
    out->strings = arena_alloc(mem, (a.nstrings ? a.nstrings : 1) * sizeof(char *));
    for (size_t i = 0; i < a.nstrings; i++)
        out->strings[i] = arena_strdup(mem, a.strings[i]);
    out->nstrings = a.nstrings;
    out->mx = arena_alloc(mem, (a.nmx ? a.nmx : 1) * sizeof(char *));
    for (size_t i = 0; i < a.nmx; i++)
        out->mx[i] = arena_strdup(mem, a.mx[i]);
    out->nmx = a.nmx;
    sts_applied_free(&a);
    return 1;
}
