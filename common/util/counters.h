#ifndef OTR_COUNTERS_H
#define OTR_COUNTERS_H
/*
 * Counters, gauges and latency histograms that one process or thread updates and another
 * reads (the daemon keeps them in a page shared with its supervisor, for the metrics
 * endpoint). Updates are relaxed atomics: no lock and no system call on the path counted.
 */
#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic uint64_t counter;

/* Bucket upper bounds of every histogram, in microseconds (Prometheus "le" in seconds). */
#define HIST_NBUCKETS 16
extern const uint64_t hist_bounds_us[HIST_NBUCKETS];

typedef struct hist {
    counter bucket[HIST_NBUCKETS + 1]; /* not cumulative; the last is over the largest bound */
    counter sum_us;
} hist;

static inline void counter_add(counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline void counter_set(counter *c, uint64_t v)
{
    atomic_store_explicit(c, v, memory_order_relaxed);
}

static inline uint64_t counter_get(const counter *c)
{
    return atomic_load_explicit((counter *)c, memory_order_relaxed);
}

/* Counts one observation of usec microseconds. */
void hist_observe(hist *h, uint64_t usec);
/* A monotonic clock in microseconds (vDSO: no system call). */
uint64_t counters_now_us(void);
#endif
