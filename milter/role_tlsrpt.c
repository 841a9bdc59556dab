/*
 * Role "tlsrpt": the datagram socket Postfix >= 3.10 writes TLSRPT outcomes to.
 * Postfix never retries a datagram, so a receive thread does nothing but recv() into an
 * in-memory queue; a writer thread decodes and appends to the journal. No disk I/O and no
 * DNS ever happen on the receive path.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dgram.h"
#include "dgram_queue.h"
#include "metrics.h"
#include "msg.h"
#include "mymalloc.h"
#include "roles.h"
#include "sockets.h"
#include "spool.h"
#include "stsjoin.h"

#define TLSRPT_RX_NICE  (-5)     /* the receive thread's nice value */
#define TLSRPT_RX_MAX   64       /* datagrams one recvmmsg() call takes */
#define TLSRPT_RX_EMPTY UINT_MAX /* msg_len of an rx slot the kernel did not fill */
#define TLSRPT_HURRY_MS 100      /* the receive thread raises the writer at most this often */

/* A SIGKILL inside recvmmsg() kills the process on its way back to user space, with the
 * datagrams already taken from the kernel and no counter updated. So the receive vectors
 * live in role_shared.own: the kernel writes each datagram's msg_len as it takes it, and
 * while ROLE_TAKING is set in taken, the slots not TLSRPT_RX_EMPTY are datagrams taken but
 * not yet counted. The flag is cleared by the same atomic add that counts them. */
typedef struct {
    struct mmsghdr rx[TLSRPT_RX_MAX];
} tlsrpt_shared;

typedef struct {
    int fd;
    dgram_queue *queue;
    uint64_t received;
    uint64_t queue_full; /* read, but the queue had no room */
    uint64_t truncated;  /* over DGRAM_MAX_SIZE */
    role_shared *shared;
    pid_t writer_tid;
    int writer_idles; /* the writer may run as SCHED_IDLE (tlsrpt_writer_start) */
    unsigned hurry_failed;
    _Atomic int writer_hurried; /* the writer runs as SCHED_OTHER, not SCHED_IDLE */
    uint64_t hurried;           /* times the receive thread raised the writer */
} tlsrpt_rx;

static int tlsrpt_enabled(const config *cfg)
{
    return *cfg->tlsrpt_socket != 0;
}

static int tlsrpt_prepare(const config *cfg, const config *old, role_ctx *ctx)
{
    if (old && ctx->nfds && strcmp(old->tlsrpt_socket, cfg->tlsrpt_socket) == 0 &&
        strcmp(old->tlsrpt_socket_owner, cfg->tlsrpt_socket_owner) == 0 &&
        strcmp(old->tlsrpt_socket_group, cfg->tlsrpt_socket_group) == 0 &&
        old->tlsrpt_socket_mode == cfg->tlsrpt_socket_mode)
        return 0;
    int fd = sockets_unix_listen(cfg->tlsrpt_socket, SOCK_DGRAM, cfg->tlsrpt_socket_owner,
                                 cfg->tlsrpt_socket_group, (mode_t)cfg->tlsrpt_socket_mode);
    if (fd < 0)
        return -1;
    /* A large receive buffer absorbs bursts while the receive thread is descheduled. */
    int size = 8 * 1024 * 1024;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    role_ctx_close(ctx);
    ctx->fds[0] = fd;
    ctx->nfds = 1;
    sockets_check_dgram_qlen();
    msg_info("tlsrpt: listening on %s", cfg->tlsrpt_socket);
    return 0;
}

#define RX_BATCH TLSRPT_RX_MAX

/* The writer thread runs as SCHED_IDLE while it keeps up: a sender flat out fills the
 * kernel's queue (net.unix.max_dgram_qlen, 10 by default) in tens of microseconds, and a
 * writer merely niced to 10 still held the receive thread's CPU that long after its wake-up
 * (4-10x the loss of a bare recv() loop; bench/RESULTS.md). Any runnable normal thread
 * preempts a SCHED_IDLE one at once. Because SCHED_IDLE starves when others keep the CPUs
 * busy, the receive thread, which runs whatever the load, raises the writer to SCHED_OTHER at
 * nice 0 (level with the senders, below itself) when the queue says it is behind (a quarter
 * full, or a second without progress, which keeps outcomes on disk within about two seconds
 * when the CPUs are saturated; the receive thread wakes at least every 200 ms), and the
 * writer lowers itself again once it has emptied the queue. */
static void tlsrpt_writer_hurry(tlsrpt_rx *rx, uint64_t *last)
{
    struct sched_param sp = {0};
    struct timespec ts;

    if (!rx->writer_idles)
        return;
    /* The coarse clock is a read of memory, no system call. */
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    if (now - *last < TLSRPT_HURRY_MS || !dgram_queue_behind(rx->queue, now))
        return;
    *last = now;
    if (sched_setscheduler(rx->writer_tid, SCHED_OTHER, &sp) < 0 ||
        setpriority(PRIO_PROCESS, (id_t)rx->writer_tid, 0) < 0) {
        if (!rx->hurry_failed++)
            msg_warn("tlsrpt: cannot raise the writer thread to SCHED_OTHER: %m");
        return;
    }
    atomic_store(&rx->writer_hurried, 1);
    rx->hurried++;
}

/* Writer: back to SCHED_IDLE once it has caught up. */
static void tlsrpt_writer_rest(void)
{
    struct sched_param sp = {0};

    if (sched_setscheduler(0, SCHED_IDLE, &sp) < 0)
        msg_warn("tlsrpt: writer thread stays at SCHED_OTHER: %m");
}

/* Whether the writer may run as SCHED_IDLE: only when it can be raised again (root, or
 * RLIMIT_NICE as the supervisor raises it: leaving SCHED_IDLE for nice 0 needs 20). */
static int tlsrpt_writer_may_idle(void)
{
    struct rlimit rl;

    if (geteuid() == 0 || (getrlimit(RLIMIT_NICE, &rl) == 0 && rl.rlim_cur >= 20))
        return 1;
    msg_info("tlsrpt: writer thread at nice 10 (RLIMIT_NICE below 20)");
    return 0;
}

/* Writer, at start (after the receive thread, which would inherit its policy). */
static void tlsrpt_writer_start(int idles)
{
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) < 0)
        msg_warn("tlsrpt: cannot lower the writer thread's priority: %m");
    if (idles)
        tlsrpt_writer_rest();
}

static void *tlsrpt_receive(void *arg)
{
    tlsrpt_rx *rx = arg;
    /* Buffers for one recvmmsg() call: pages are touched only as far as datagrams reach. */
    char *bufs = mymalloc((size_t)RX_BATCH * (DGRAM_MAX_SIZE + 1));
    /* In the page shared with the supervisor: see tlsrpt_shared. */
    tlsrpt_shared *own = (void *)rx->shared->own;
    struct mmsghdr *msgs = own->rx;
    struct iovec iov[RX_BATCH];
    struct timeval tv = {0, 200 * 1000};
    int draining = 0;
    uint64_t last_hurry = 0;

    for (int i = 0; i < RX_BATCH; i++) {
        iov[i].iov_base = bufs + (size_t)i * (DGRAM_MAX_SIZE + 1);
        iov[i].iov_len = DGRAM_MAX_SIZE + 1;
        memset(&msgs[i], 0, sizeof(msgs[i]));
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    /* Ahead of the senders (Postfix smtp processes) when the CPU is short: the kernel
     * queue holds only max_dgram_qlen datagrams, and a sender never retries. The
     * supervisor raised RLIMIT_NICE so this works after the privilege drop. */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), TLSRPT_RX_NICE) < 0)
        msg_info("tlsrpt: receive thread at the default priority (nice %d: %m)", TLSRPT_RX_NICE);
    /* The timeout only lets the thread notice role_stop; it costs nothing under load. */
    setsockopt(rx->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    for (;;) {
        if (role_stop && !draining)
            draining = 1; /* take what the kernel queued, then stop */
        /* One call takes everything queued (up to RX_BATCH): fewer syscalls and wake-ups
         * under load, which is when the kernel queue is in danger of filling. */
        for (int i = 0; i < RX_BATCH; i++)
            msgs[i].msg_len = TLSRPT_RX_EMPTY;
        atomic_fetch_or(&rx->shared->taken, ROLE_TAKING);
        int n = recvmmsg(rx->fd, msgs, RX_BATCH, draining ? MSG_DONTWAIT : MSG_WAITFORONE, NULL);
        /* Counts what was taken and ends the call in one step: never both or neither. */
        atomic_fetch_add(&rx->shared->taken, (uint64_t)(n > 0 ? n : 0) - ROLE_TAKING);
        /* Also after a timeout: a writer starved of CPU needs raising even when no more
         * datagrams come. */
        tlsrpt_writer_hurry(rx, &last_hurry);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (draining)
                    break;
                continue;
            }
            msg_error("tlsrpt: recvmmsg: %m");
            break;
        }
        time_t now = time(NULL);
        uint64_t full = rx->queue_full;
        for (int i = 0; i < n; i++) {
            size_t len = msgs[i].msg_len;
            rx->received++;
            if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
                /* Keep a prefix, so the writer counts and logs it like other bad input. */
                rx->truncated++;
                len = DGRAM_MAX_SIZE + 1;
            }
            if (dgram_queue_put(rx->queue, iov[i].iov_base, len, now) < 0) {
                rx->queue_full++;
                atomic_fetch_add(&rx->shared->settled, 1);
            }
            msgs[i].msg_hdr.msg_flags = 0;
        }
        /* For the metrics: a few relaxed adds a batch, never one a datagram. */
        full = rx->queue_full - full;
        counter_add(&metrics->tlsrpt.received, (uint64_t)n);
        counter_add(&metrics->tlsrpt.queued, (uint64_t)n - full);
        if (full)
            counter_add(&metrics->tlsrpt.queue_full, full);
    }
    dgram_queue_close(rx->queue);
    myfree(bufs);
    return NULL;
}

static int tlsrpt_run(const config *cfg, role_ctx *ctx)
{
    spool *sp = spool_open(cfg->spool_directory);
    spool_writer *w = spool_writer_open(sp, "tlsrpt");
    spool_writer_set_max(w, cfg->journal_max_size);
    dgram_decoder *dec = dgram_decoder_new();
    sts_failures *fails = sts_failures_new(cfg->spool_directory);
    tlsrpt_rx rx = {.fd = ctx->fds[0],
                    .queue = dgram_queue_new((size_t)cfg->tlsrpt_queue_size),
                    .shared = ctx->shared,
                    .writer_tid = (pid_t)syscall(SYS_gettid)};
    uint64_t bad[DGRAM_NSTATUS] = {0}, repaired_total = 0, stored = 0, written_before = 0;
    msg_rate rate = MSG_RATE_INIT(10, 60);
    time_t last_sync = time(NULL);
    pthread_t thr;
    outcome o;
    int dirty = 0;

    outcome_init(&o);
    spool_writer_count(w, &metrics->role[METRICS_TLSRPT].spool);
    rx.writer_idles = tlsrpt_writer_may_idle();
    if (pthread_create(&thr, NULL, tlsrpt_receive, &rx) != 0)
        msg_fatal("tlsrpt: cannot start the receive thread");
    /* Named, so that top -H and perf sched tell the two threads apart. */
    pthread_setname_np(thr, "otr-tlsrpt-rx");
    tlsrpt_writer_start(rx.writer_idles);
    for (;;) {
        dgram_batch batch;
        int open = dgram_queue_take(rx.queue, &batch, 1000);
        for (size_t i = 0; i < batch.count; i++) {
            const dgram_item *it = &batch.items[i];
            size_t repaired = 0;
            dgram_status st = dgram_decode(dec, it->data, it->len, &o, &repaired);
            if (st != DGRAM_OK) {
                bad[st]++;
                counter_add(&metrics->tlsrpt.malformed[st], 1);
                if (msg_rate_ok(&rate)) {
                    char hex[2 * 32 + 1];
                    msg_warn("tlsrpt: rejected datagram (%s, %zu bytes): %s...",
                             dgram_status_name(st), it->len,
                             msg_hex_prefix(hex, it->data, it->len, 32));
                }
                continue;
            }
            repaired_total += repaired;
            o.received = it->received;
            /* A session under a policy the policy service could not fetch: its failure. */
            stsjoin_outcome(&o, fails, NULL, NULL);
            spool_append(w, &o);
            stored++;
            dirty = 1;
        }
        size_t taken = batch.count;
        dgram_queue_release(rx.queue, &batch);
        if (taken)
            counter_add(&metrics->tlsrpt.dequeued, taken);
        counter_set(&metrics->tlsrpt.queue_bytes, dgram_queue_used(rx.queue));
        time_t now = time(NULL);
        if (dirty)
            spool_flush(w, 0);
        /* Stored, for the metrics: what reached the journal, not what it refused or lost. */
        uint64_t written = spool_writer_stats_get(w)->written;
        if (written != written_before)
            counter_add(&metrics->tlsrpt.stored, written - written_before);
        written_before = written;
        /* Written out (or counted as lost) or refused: no longer in flight. Before the
         * sync, which takes long enough for a kill to land in it. */
        atomic_fetch_add(&rx.shared->settled, (uint64_t)taken);
        if (dirty && now != last_sync) {
            spool_flush(w, 1);
            last_sync = now;
            dirty = 0;
        }
        if (atomic_load(&rx.writer_hurried) && dgram_queue_used(rx.queue) == 0 &&
            atomic_exchange(&rx.writer_hurried, 0))
            tlsrpt_writer_rest();
        if (!open)
            break;
    }
    pthread_join(thr, NULL);
    spool_flush(w, 1);
    const spool_writer_stats *ws = spool_writer_stats_get(w);
    msg_info("tlsrpt: stopping: received=%llu stored=%llu written=%llu lost_on_write=%llu "
             "dropped_over_journal_max_size=%llu "
             "queue_full=%llu writer_hurried=%llu oversize=%llu repaired_utf8=%llu not_json=%llu "
             "bad_version=%llu "
             "wrong_type=%llu unknown_code=%llu oversize_field=%llu bad_domain=%llu "
             "missing_field=%llu",
             (unsigned long long)rx.received, (unsigned long long)stored,
             (unsigned long long)ws->written, (unsigned long long)ws->lost,
             (unsigned long long)ws->dropped, (unsigned long long)rx.queue_full,
             (unsigned long long)rx.hurried, (unsigned long long)rx.truncated,
             (unsigned long long)repaired_total, (unsigned long long)bad[DGRAM_ERR_JSON],
             (unsigned long long)bad[DGRAM_ERR_VERSION], (unsigned long long)bad[DGRAM_ERR_TYPE],
             (unsigned long long)bad[DGRAM_ERR_CODE], (unsigned long long)bad[DGRAM_ERR_SIZE],
             (unsigned long long)bad[DGRAM_ERR_DOMAIN], (unsigned long long)bad[DGRAM_ERR_MISSING]);
    spool_writer_close(w);
    spool_close(sp);
    dgram_decoder_free(dec);
    sts_failures_free(fails);
    dgram_queue_free(rx.queue);
    outcome_done(&o);
    return 0;
}

/* Supervisor: the datagrams a child killed inside recvmmsg() had taken. */
static uint64_t tlsrpt_taking(const role_shared *sh)
{
    const tlsrpt_shared *ts = (const void *)sh->own;
    uint64_t n = 0;

    for (size_t i = 0; i < TLSRPT_RX_MAX; i++)
        n += ts->rx[i].msg_len != TLSRPT_RX_EMPTY;
    return n;
}

const role_ops role_tlsrpt = {
    .name = "tlsrpt",
    .enabled = tlsrpt_enabled,
    .prepare = tlsrpt_prepare,
    .run = tlsrpt_run,
    .shared_size = sizeof(tlsrpt_shared),
    .taking = tlsrpt_taking,
    .nice = TLSRPT_RX_NICE,
};
