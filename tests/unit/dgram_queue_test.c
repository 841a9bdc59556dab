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

/* When the receive thread must hurry the writer: a queue over a quarter full, or datagrams
 * held for a second with none taken; never for an empty queue or a moving one. */
static void test_behind(void)
{
    static const struct {
        char op;      /* p: put 100 bytes, t: take everything, n: nothing */
        uint64_t now; /* the clock at the check, ms */
        int behind;   /* dgram_queue_behind's answer */
    } steps[] = {
        {'n', 1000, 0}, {'n', 5000, 0},                 /* empty: never behind */
        {'p', 5000, 0}, {'n', 5999, 0}, {'n', 6000, 1}, /* held a second untaken */
        {'t', 6000, 0}, {'p', 6000, 0},                 /* taken: the clock starts again */
        {'p', 6500, 0}, {'t', 6999, 0}, {'p', 6999, 0}, /* moving: not behind */
        {'n', 7998, 0}, {'n', 7999, 1},
    };
    dgram_queue *q = dgram_queue_new(4096);
    dgram_batch b;
    char buf[100] = {0};

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if (steps[i].op == 'p')
            CHECK_INT(dgram_queue_put(q, buf, sizeof(buf), 0), 0);
        if (steps[i].op == 't') {
            dgram_queue_take(q, &b, 0);
            dgram_queue_release(q, &b);
        }
        CHECK_INT(dgram_queue_behind(q, steps[i].now), steps[i].behind);
    }
    /* Over a quarter full: behind at once, whatever the clock says. */
    dgram_queue_take(q, &b, 0);
    dgram_queue_release(q, &b);
    for (int i = 0; i < 8; i++)
        CHECK_INT(dgram_queue_put(q, buf, sizeof(buf), 0), 0);
    CHECK_INT(dgram_queue_behind(q, 7999), 0);
    CHECK_INT(dgram_queue_put(q, buf, sizeof(buf), 0), 0);
    CHECK_INT(dgram_queue_behind(q, 7999), 1);
    dgram_queue_free(q);
}

int main(void)
{
    test_behind();
    test_basic();
    test_threads();
    return t_done("dgram_queue_test");
}
