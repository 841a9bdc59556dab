/* Inbound TLS counters (record_inbound_tls) for the summary: per day, the total and the
 * sender domains with the most messages. */
#include <stdlib.h>
#include <string.h>

#include "mymalloc.h"
#include "summary_int.h"

typedef struct sum_inbound {
    const char *domain;
    int64_t messages;
    int64_t tls;
} sum_inbound;

static int64_t summary_int(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* Most messages first: the domains that matter lead the list. */
static int summary_inbound_cmp(const void *a, const void *b)
{
    const sum_inbound *x = a, *y = b;
    if (x->messages != y->messages)
        return x->messages < y->messages ? 1 : -1;
    return strcmp(x->domain, y->domain);
}

#define SUMMARY_INBOUND_SHOWN 20 /* sender domains listed per day */

/* Calls row() for the day total (domain NULL) and the top sender domains of each day. */
void summary_inbound_each(summary *s,
                          void (*row)(vstring *out, const char *day, const char *domain,
                                      int64_t messages, int64_t tls, json_object *versions),
                          vstring *out)
{
    if (s->inbound == NULL)
        return;
    json_object_object_foreach(s->inbound, day, counters)
    {
        json_object *domains, *versions = NULL;
        if (!json_object_object_get_ex(counters, "domains", &domains) ||
            !json_object_is_type(domains, json_type_object))
            continue;
        size_t n = (size_t)json_object_object_length(domains), i = 0;
        sum_inbound *list = mycalloc(n ? n : 1, sizeof(*list));
        int64_t total = 0, tls = 0;
        json_object *allv = json_object_new_object();
        json_object_object_foreach(domains, name, d)
        {
            list[i].domain = name;
            list[i].messages = summary_int(d, "messages");
            list[i].tls = summary_int(d, "tls");
            total += list[i].messages;
            tls += list[i].tls;
            if (json_object_object_get_ex(d, "versions", &versions) &&
                json_object_is_type(versions, json_type_object)) {
                json_object_object_foreach(versions, v, c)
                {
                    json_object *have;
                    int64_t prev =
                        json_object_object_get_ex(allv, v, &have) ? json_object_get_int64(have) : 0;
                    json_object_object_add(allv, v,
                                           json_object_new_int64(prev + json_object_get_int64(c)));
                }
            }
            i++;
        }
        qsort(list, n, sizeof(*list), summary_inbound_cmp);
        row(out, day, NULL, total, tls, allv);
        for (i = 0; i < n && i < SUMMARY_INBOUND_SHOWN; i++)
            row(out, day, list[i].domain, list[i].messages, list[i].tls, NULL);
        json_object_put(allv);
        myfree(list);
    }
}

double summary_share(int64_t part, int64_t whole)
{
    return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}
