#ifndef OTR_DGRAM_QUEUE_H
#define OTR_DGRAM_QUEUE_H
/* Single-producer single-consumer byte queue of datagrams, between a receive thread that
 * must never block and a writer thread that may. */
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct dgram_queue dgram_queue;

typedef struct dgram_item {
    const char *data; /* points into the queue until dgram_queue_release */
    size_t len;
    time_t received;
} dgram_item;

typedef struct dgram_batch {
    dgram_item *items; /* owned by the queue */
    size_t count;
    size_t end; /* queue position after the batch */
} dgram_batch;

/* Returns a queue holding up to bytes of datagrams; free with dgram_queue_free. */
dgram_queue *dgram_queue_new(size_t bytes);
dgram_queue *dgram_queue_free(dgram_queue *q);
/* Producer: copies a datagram in; returns 0, or -1 when there is no room (never blocks). */
int dgram_queue_put(dgram_queue *q, const void *data, size_t len, time_t received);
/* Producer: 1 when the consumer has fallen behind (the queue over a quarter full, or holding
 * datagrams for a second while the consumer took none), else 0; now_ms is a monotonic clock. */
int dgram_queue_behind(dgram_queue *q, uint64_t now_ms);
/* Producer: no more datagrams will come. */
void dgram_queue_close(dgram_queue *q);
/* Consumer: waits (polling every few ms) up to timeout_ms for datagrams and describes them in
 * batch. Returns 1 while the producer may send more, 0 once it closed and everything was taken. */
int dgram_queue_take(dgram_queue *q, dgram_batch *batch, int timeout_ms);
/* Bytes the queue holds now (datagrams and their framing); for watching it. */
size_t dgram_queue_used(dgram_queue *q);
/* Consumer: gives the space of batch back to the producer. */
void dgram_queue_release(dgram_queue *q, const dgram_batch *batch);
#endif
