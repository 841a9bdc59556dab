#include "counters.h"

#include <time.h>

/* From 100 us (a cached policy answer, an fdatasync on fast storage) to 10 s (the policy
 * lookup timeout), about 2.5 per step like Prometheus' default buckets. */
const uint64_t hist_bounds_us[HIST_NBUCKETS] = {
    100,   250,    500,    1000,   2500,    5000,    10000,   25000,
    50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

void hist_observe(hist *h, uint64_t usec)
{
    size_t i = 0;

    while (i < HIST_NBUCKETS && usec > hist_bounds_us[i])
        i++;
    counter_add(&h->bucket[i], 1);
    counter_add(&h->sum_us, usec);
}

uint64_t counters_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
