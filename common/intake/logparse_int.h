#ifndef OTR_LOGPARSE_INT_H
#define OTR_LOGPARSE_INT_H
/* Inside the mail log parser: shared by logparse.c (the entry points and Postfix),
 * logparse_sendmail.c, and below both logparse_session.c (state, outcomes) and
 * logparse_time.c (timestamps). Not for other modules. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "domain.h"
#include "htable.h"
#include "logparse.h"
#include "spool.h"
#include "sts_failure.h"

#define LP_MAX_PENDING   8 /* sessions of one process awaiting a delivery line */
#define LP_MAX_IP        64
#define LP_MAX_REASON    128
#define LP_MAX_QID       32
#define LP_MAX_STS_CACHE 10000
#define LP_MAX_TKEY      512 /* "syslog-host mx[ip]:port" of a tlsproxy handshake */

typedef struct lp_session {
    char host[DOMAIN_MAX + 1];
    char ip[LP_MAX_IP];
    int result;    /* 0: success, else an RFC 8460 result code */
    int dane;      /* the failure came from DANE (TLSA) */
    char level;    /* 'A'nonymous, 'U'ntrusted, 'T'rusted or 'V'erified "TLS connection" */
    unsigned port; /* the MX's port (TLSA records are per port) */
    char reason[LP_MAX_REASON];
    uint64_t pos; /* caller's position of the session's first line */
} lp_session;

typedef struct lp_proc {
    lp_session pend[LP_MAX_PENDING];
    size_t npend;
    lp_session fail; /* a verification failure awaiting its "established" line */
    int has_fail;
    char last_qid[LP_MAX_QID];
    char last_relay[DOMAIN_MAX + LP_MAX_IP + 3];
    time_t last_time;
    time_t seen;
} lp_proc;

typedef struct lp_sts_entry {
    int found;
    logparse_sts sts;
} lp_sts_entry;

typedef struct lp_tlsa_entry {
    const char **rr;
    size_t n;
} lp_tlsa_entry;

struct logparse {
    logparse_format format;
    int source;
    logparse_emit_fn emit;
    void *emit_ctx;
    logparse_sts_fn sts_fn;
    void *sts_ctx;
    logparse_tlsa_fn tlsa_fn;
    void *tlsa_ctx;
    sts_failures *failures; /* failed MTA-STS fetches joined to the sessions (owned) */
    htable *sts_cache;      /* domain -> lp_sts_entry (in sts_mem), for sts_day */
    htable *tlsa_cache;     /* "host:port" -> lp_tlsa_entry (in sts_mem), for sts_day */
    arena sts_mem;
    char sts_day[SPOOL_DAY_LEN + 1];
    htable *procs;     /* "host tag[pid]" (or tlsproxy's "host mx[ip]:port") -> lp_proc */
    int tlsproxy_seen; /* tlsproxy(8) handshakes were logged: look them up */
    htable *own;       /* queue ids of our report mail -> (uintptr_t) log time */
    time_t now;        /* reference for classic timestamps */
    time_t last;       /* log time of the latest relevant line */
    time_t next_expire;
    logparse_stats st;
    uint64_t mark; /* position of the current line (logparse_mark) */
    outcome o;
    /* Cache of the epoch of the last classic timestamp's hour. */
    int c_mon, c_mday, c_hour;
    time_t c_base;
};

/* ---- small string helpers over (pointer, end) ranges ---- */

static inline int lp_prefix(const char *p, const char *end, const char *lit, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}
#define LP_PREFIX(p, end, lit) lp_prefix((p), (end), (lit), sizeof(lit) - 1)

static inline const char *lp_find(const char *p, const char *end, const char *lit, size_t n)
{
    if (p >= end)
        return NULL;
    return memmem(p, (size_t)(end - p), lit, n);
}
#define LP_FIND(p, end, lit) lp_find((p), (end), (lit), sizeof(lit) - 1)

static inline void lp_copy(char *dst, size_t size, const char *s, size_t n)
{
    if (n >= size)
        n = size - 1;
    memcpy(dst, s, n);
    dst[n] = 0;
}

/* Timestamps (logparse_time.c): the epoch of a line's time, or -1; lp_when never fails
 * (it falls back to the last time seen) and advances lp->last. */
time_t lp_rfc3339(const char *s, size_t len, size_t *used);
time_t lp_classic(logparse *lp, const char *s, size_t len, time_t now);
time_t lp_when(logparse *lp, const char *line, size_t len);
/* Per-process state (logparse_session.c): the entry of key, created when asked (NULL when
 * full). */
lp_proc *lp_proc_get(logparse *lp, const char *key, size_t klen, int create);
/* Drops the state of processes gone quiet and of old own queue ids; sets next_expire. */
void lp_expire(logparse *lp);
/* Queues a session of pr for its delivery line (the oldest is dropped when full). */
void lp_push(logparse *lp, lp_proc *pr, const lp_session *s);
/* Emits the outcome of session s for the recipient domain. */
void lp_emit(logparse *lp, const lp_session *s, const char *domain, time_t when);
/* Whether an MTA-STS policy applied to domain on the day of when (a plaintext delivery
 * is then a failure). */
int lp_plain_sts(logparse *lp, const char *domain, time_t when);
/* The normalized domain of "<local@domain>" or a bare address at p; 0 or -1. */
int lp_rcpt_domain(const char *p, const char *end, char *out);
/* Whether "<...>" at p is the Message-ID of our own report mail. */
int lp_own_msgid(const char *p, const char *end);
/* Remembers a queue id as carrying our own report mail. */
void lp_own_add(logparse *lp, const char *qid, size_t qlen, time_t when);
/* The length of the queue id at p when "QID: " follows, else 0. */
size_t lp_qid(const char *p, const char *end);
/* Fills s->result, reason and dane when the OpenSSL or Postfix text t names a known
 * verification failure; 1 if it did, else 0 (s untouched). */
int lp_map_known(lp_session *s, const char *t, const char *end);
/* A sendmail line (logparse_sendmail.c). */
void lp_sendmail(logparse *lp, const char *line, size_t len, const char *key, size_t klen,
                 const char *m, const char *end);
#endif
