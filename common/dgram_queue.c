#include "dgram_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "msg.h"
#include "mymalloc.h"

#define DQ_ALIGN 16
#define DQ_BATCH_MAX 4096
#define DQ_WRAP UINT32_MAX

typedef struct {
    uint32_t len;       /* DQ_WRAP: the rest of the ring is unused, continue at 0 */
    uint32_t pad;
    int64_t received;
} dq_header;

struct dgram_queue {
    char *ring;
    size_t cap;
    size_t head;        /* consumer position (monotonic) */
    size_t tail;        /* producer position (monotonic) */
    int closed;
    int waiting;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    dgram_item items[DQ_BATCH_MAX];
};

static size_t dq_round(size_t n)
{
    return (n + DQ_ALIGN - 1) & ~(size_t)(DQ_ALIGN - 1);
}

dgram_queue *dgram_queue_new(size_t bytes)
{
    dgram_queue *q = mycalloc(1, sizeof(*q));
    pthread_condattr_t ca;

    q->cap = dq_round(bytes);
    q->ring = mymalloc(q->cap);
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cond, &ca);
    pthread_condattr_destroy(&ca);
    return q;
}

dgram_queue *dgram_queue_free(dgram_queue *q)
{
    if (q) {
        pthread_mutex_destroy(&q->lock);
        pthread_cond_destroy(&q->cond);
        myfree(q->ring);
        myfree(q);
    }
    return NULL;
}

int dgram_queue_put(dgram_queue *q, const void *data, size_t len, time_t received)
{
    size_t need = sizeof(dq_header) + dq_round(len), head, tail, off, adv;

    pthread_mutex_lock(&q->lock);
    head = q->head;
    tail = q->tail;
    pthread_mutex_unlock(&q->lock);

    off = tail % q->cap;
    adv = need;
    if (off + need > q->cap)
        adv = (q->cap - off) + need; /* wrap: waste the end of the ring */
    if (need > q->cap || (tail - head) + adv > q->cap)
        return -1;
    if (off + need > q->cap) {
        dq_header wrap = {DQ_WRAP, 0, 0};
        if (q->cap - off >= sizeof(wrap))
            memcpy(q->ring + off, &wrap, sizeof(wrap));
        off = 0;
    }
    dq_header h = {(uint32_t)len, 0, (int64_t)received};
    memcpy(q->ring + off, &h, sizeof(h));
    memcpy(q->ring + off + sizeof(h), data, len);

    pthread_mutex_lock(&q->lock);
    q->tail = tail + adv;
    if (q->waiting)
        pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

void dgram_queue_close(dgram_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

int dgram_queue_take(dgram_queue *q, dgram_batch *batch, int timeout_ms)
{
    size_t pos, end;
    int closed;

    pthread_mutex_lock(&q->lock);
    if (q->head == q->tail && !q->closed && timeout_ms > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += timeout_ms / 1000;
        ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        q->waiting = 1;
        while (q->head == q->tail && !q->closed)
            if (pthread_cond_timedwait(&q->cond, &q->lock, &ts) == ETIMEDOUT)
                break;
        q->waiting = 0;
    }
    pos = q->head;
    end = q->tail;
    closed = q->closed;
    pthread_mutex_unlock(&q->lock);

    batch->items = q->items;
    batch->count = 0;
    while (pos < end && batch->count < DQ_BATCH_MAX) {
        size_t off = pos % q->cap;
        dq_header h;
        if (q->cap - off < sizeof(h)) {
            pos += q->cap - off;
            continue;
        }
        memcpy(&h, q->ring + off, sizeof(h));
        if (h.len == DQ_WRAP) {
            pos += q->cap - off;
            continue;
        }
        if (off + sizeof(h) + h.len > q->cap) {
            /* The producer wrapped without room for a marker. */
            pos += q->cap - off;
            continue;
        }
        dgram_item *it = &q->items[batch->count++];
        it->data = q->ring + off + sizeof(h);
        it->len = h.len;
        it->received = (time_t)h.received;
        pos += sizeof(h) + dq_round(h.len);
    }
    batch->end = pos;
    return !(closed && pos == end);
}

void dgram_queue_release(dgram_queue *q, const dgram_batch *batch)
{
    pthread_mutex_lock(&q->lock);
    q->head = batch->end;
    pthread_mutex_unlock(&q->lock);
}
