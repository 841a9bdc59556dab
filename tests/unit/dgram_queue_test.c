/* The receive queue: order kept across wrap-around, full queue refuses instead of blocking,
 * close drains, and a producer thread against a consumer loses nothing it was told it put. */
#include <pthread.h>
#include <stdlib.h>

#include "dgram_queue.h"
#include "t.h"

static void test_basic(void)
{
    dgram_queue *q = dgram_queue_new(4096);
    dgram_batch b;
    char buf[1000];
    int next = 0, put = 0;

    memset(buf, 'x', sizeof(buf));
    /* Many rounds over a small ring exercise the wrap-around. */
    for (int round = 0; round < 200; round++) {
        int k = 0;
        for (;;) {
            size_t len = (size_t)(8 + (put * 37) % 900);
            snprintf(buf, sizeof(buf), "%d", put);
            if (dgram_queue_put(q, buf, len, put) < 0)
                break;
            put++;
            k++;
        }
        CHECK(k > 0);
        CHECK_INT(dgram_queue_take(q, &b, 0), 1);
        for (size_t i = 0; i < b.count; i++) {
            CHECK_INT(strtol(b.items[i].data, NULL, 10), next);
            CHECK_INT(b.items[i].len, 8 + (next * 37) % 900);
            CHECK_INT(b.items[i].received, next);
            next++;
        }
        dgram_queue_release(q, &b);
    }
    CHECK_INT(next, put);
    CHECK(dgram_queue_put(q, buf, 5000, 0) < 0); /* larger than the ring */
    dgram_queue_close(q);
    CHECK_INT(dgram_queue_take(q, &b, 10), 0);
    dgram_queue_free(q);
}

typedef struct {
    dgram_queue *q;
    long accepted;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    char buf[300];
    for (long i = 0; i < 200000; i++) {
        int n = snprintf(buf, sizeof(buf), "%ld", p->accepted);
        if (dgram_queue_put(p->q, buf, (size_t)n + 100, 0) == 0)
            p->accepted++;
    }
    dgram_queue_close(p->q);
    return NULL;
}

static void test_threads(void)
{
    producer p = {dgram_queue_new(64 * 1024), 0};
    pthread_t t;
    dgram_batch b;
    long next = 0, bad = 0;
    int open = 1;

    pthread_create(&t, NULL, produce, &p);
    while (open) {
        open = dgram_queue_take(p.q, &b, 100);
        for (size_t i = 0; i < b.count; i++)
            if (strtol(b.items[i].data, NULL, 10) != next++)
                bad++;
        dgram_queue_release(p.q, &b);
    }
    pthread_join(t, NULL);
    CHECK_INT(bad, 0);
    CHECK_INT(next, p.accepted);
    CHECK(p.accepted > 0);
    dgram_queue_free(p.q);
}

int main(void)
{
    test_basic();
    test_threads();
    return t_done("dgram_queue_test");
}
