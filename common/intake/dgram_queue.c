#include "dgram_queue.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "msg.h"
#include "mymalloc.h"

#define DQ_ALIGN     16
#define DQ_BATCH_MAX 1024
#define DQ_WRAP      UINT32_MAX
#define DQ_POLL_MS   5
#define DQ_STALL_MS  1000 /* held this long with nothing taken: the consumer is behind */

typedef struct {
    uint32_t len; /* DQ_WRAP: the rest of the ring is unused, continue at 0 */
    uint32_t pad;
    int64_t received;
} dq_header;

struct dgram_queue {
    char *ring;
    size_t cap;
    /* Lock-free single producer, single consumer: each side writes only its own index and
     * publishes it with release order after touching the ring. */
    _Atomic size_t head; /* consumer position (monotonic) */
    _Atomic size_t tail; /* producer position (monotonic) */
    _Atomic int closed;
    size_t seen_head; /* producer: head when last seen moving (dgram_queue_behind) */
    uint64_t seen_at; /* and when, in ms */
    dgram_item items[DQ_BATCH_MAX];
};

static size_t dq_round(size_t n)
{
    return (n + DQ_ALIGN - 1) & ~(size_t)(DQ_ALIGN - 1);
}

dgram_queue *dgram_queue_new(size_t bytes)
{
    dgram_queue *q = mycalloc(1, sizeof(*q));

    q->cap = dq_round(bytes);
    q->ring = mymalloc(q->cap);
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    atomic_init(&q->closed, 0);
    return q;
}

dgram_queue *dgram_queue_free(dgram_queue *q)
{
    if (q) {
        myfree(q->ring);
        myfree(q);
    }
    return NULL;
}

int dgram_queue_put(dgram_queue *q, const void *data, size_t len, time_t received)
{
    size_t need = sizeof(dq_header) + dq_round(len), head, tail, off, adv;

    head = atomic_load_explicit(&q->head, memory_order_acquire);
    tail = atomic_load_explicit(&q->tail, memory_order_relaxed);

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

    atomic_store_explicit(&q->tail, tail + adv, memory_order_release);
    return 0;
}

int dgram_queue_behind(dgram_queue *q, uint64_t now_ms)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);

    if (head != q->seen_head || head == tail || q->seen_at == 0) {
        q->seen_head = head;
        q->seen_at = now_ms;
    }
    if (tail - head > q->cap / 4)
        return 1;
    return head != tail && now_ms - q->seen_at >= DQ_STALL_MS;
}

void dgram_queue_close(dgram_queue *q)
{
    atomic_store_explicit(&q->closed, 1, memory_order_release);
}

int dgram_queue_take(dgram_queue *q, dgram_batch *batch, int timeout_ms)
{
    size_t pos, end;
    int closed;

    /* The consumer polls in short sleeps instead of being signalled for each datagram: at
     * tens of thousands of datagrams a second a wake-up per datagram costs more than the
     * work, and a few milliseconds of delay cost nothing (outcomes must be on disk within
     * a second). */
    struct timespec nap = {0, DQ_POLL_MS * 1000000L};
    int waited = 0;
    for (;;) {
        /* closed first: a tail read after it includes everything put before the close. */
        closed = atomic_load_explicit(&q->closed, memory_order_acquire);
        end = atomic_load_explicit(&q->tail, memory_order_acquire);
        pos = atomic_load_explicit(&q->head, memory_order_relaxed);
        if (pos != end || closed || waited >= timeout_ms)
            break;
        nanosleep(&nap, NULL);
        waited += DQ_POLL_MS;
    }

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
    atomic_store_explicit(&q->head, batch->end, memory_order_release);
}

size_t dgram_queue_used(dgram_queue *q)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);

    return atomic_load_explicit(&q->tail, memory_order_relaxed) - head;
}
