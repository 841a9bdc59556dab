/*
 * The fleet database as a spool backend: shared documents, the delivery state, the fleet's
 * outcomes by day, the per-day delivery lock and day readiness.
 */
#include "fleet_store.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_db.h"
#include "htable.h"
#include "msg.h"
#include "mymalloc.h"

#define FLEET_RETRY_SECS  5    /* after a failed connect, calls fail fast this long */
#define FLEET_DAY_LOCK_NS 7412 /* advisory lock namespace of day deliveries */

static pthread_mutex_t fleet_lock = PTHREAD_MUTEX_INITIALIZER;
static const config *fleet_cfg;
static PGconn *fleet_conn;
static time_t fleet_failed_at;
static msg_rate fleet_rate = MSG_RATE_INIT(3, 300);

static const char *const fleet_area_names[SPOOL_AREA_COUNT] = {
    [SPOOL_AREA_TOP] = "top",
    [SPOOL_AREA_STATE] = "state",
    [SPOOL_AREA_STS_CACHE] = "sts/cache",
    [SPOOL_AREA_STS_APPLIED] = "sts/applied",
    [SPOOL_AREA_REPORTS] = "reports",
    [SPOOL_AREA_INBOUND] = "inbound",
};

/* The connection, (re)opened when needed; call with fleet_lock held. NULL: errno EIO. */
static PGconn *fleet_db(void)
{
    char err[512];

    if (fleet_conn && PQstatus(fleet_conn) != CONNECTION_OK) {
        PQfinish(fleet_conn);
        fleet_conn = NULL;
    }
    if (fleet_conn == NULL && fleet_cfg &&
        (fleet_failed_at == 0 || time(NULL) - fleet_failed_at >= FLEET_RETRY_SECS)) {
        fleet_conn = fleet_db_open(fleet_cfg, err, sizeof(err));
        if (fleet_conn == NULL) {
            fleet_failed_at = time(NULL);
            if (msg_rate_ok(&fleet_rate))
                msg_warn("fleet database: %s", err);
        } else {
            fleet_failed_at = 0;
        }
    }
    if (fleet_conn == NULL)
        errno = EIO;
    return fleet_conn;
}

/* Logs a failed query (rate-limited) and sets errno. */
static void fleet_query_failed(PGconn *db, const PGresult *r, const char *what)
{
    char err[512];

    fleet_db_error(db, r, err, sizeof(err));
    if (msg_rate_ok(&fleet_rate))
        msg_warn("fleet database: %s: %s", what, err);
    errno = EIO;
}

int fleet_store_open(const config *cfg)
{
    pthread_mutex_lock(&fleet_lock);
    fleet_cfg = cfg;
    fleet_failed_at = 0;
    int ok = fleet_db() != NULL;
    pthread_mutex_unlock(&fleet_lock);
    return ok ? 0 : -1;
}

void fleet_store_close(void)
{
    pthread_mutex_lock(&fleet_lock);
    PQfinish(fleet_conn);
    fleet_conn = NULL;
    fleet_cfg = NULL;
    pthread_mutex_unlock(&fleet_lock);
}

void fleet_store_share(int with_state)
{
    spool_store_use(SPOOL_AREA_STS_CACHE, &fleet_store_ops);
    spool_store_use(SPOOL_AREA_REPORTS, &fleet_store_ops);
    if (with_state)
        spool_store_use(SPOOL_AREA_STATE, &fleet_store_ops);
}

/* Runs a statement with text parameters; returns the result (caller PQclear()s) or NULL
 * after logging. Call with fleet_lock held. */
static PGresult *fleet_run(const char *what, const char *sql, int n, const char *const *p,
                           const int *len, const int *fmt, int binary)
{
    PGconn *db = fleet_db();

    if (db == NULL)
        return NULL;
    PGresult *r = PQexecParams(db, sql, n, NULL, p, len, fmt, binary);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fleet_query_failed(db, r, what);
        PQclear(r);
        return NULL;
    }
    return r;
}

/* A statement on one document: sql_state on otr_state ($1 the key) for the delivery state,
 * sql_doc on otr_doc ($1 the area, $2 the key) for any other area. As fleet_run. */
static PGresult *fleet_doc_run(const char *what, spool_area area, const char *key,
                               const char *sql_state, const char *sql_doc, int binary)
{
    const char *p[2] = {fleet_area_names[area], key};

    return area == SPOOL_AREA_STATE ? fleet_run(what, sql_state, 1, p + 1, NULL, NULL, binary)
                                    : fleet_run(what, sql_doc, 2, p, NULL, NULL, binary);
}

/* The first column of r as a NULL-terminated array of copies; NULL when r is. */
static char **fleet_column(const PGresult *r)
{
    if (r == NULL)
        return NULL;
    int n = PQntuples(r);
    char **v = mycalloc((size_t)n + 1, sizeof(*v));
    for (int i = 0; i < n; i++)
        v[i] = mystrdup(PQgetvalue(r, i, 0));
    return v;
}

/* The documents. The state area has its own table (the daemon's role may not read it). */

static int fleet_doc_prepare(const char *root, spool_area area)
{
    (void)root;
    (void)area;
    return 0;
}

static int fleet_doc_read(const char *root, spool_area area, const char *key, vstring *out,
                          size_t max)
{
    int ret = -1;

    (void)root;
    if (!spool_store_key_ok(key)) {
        errno = EINVAL;
        return -1;
    }
    pthread_mutex_lock(&fleet_lock);
    PGresult *r = fleet_doc_run("read", area, key, "SELECT data FROM otr_state WHERE key = $1",
                                "SELECT data FROM otr_doc WHERE area = $1 AND key = $2", 1);
    if (r && PQntuples(r) == 0) {
        errno = ENOENT;
    } else if (r && (size_t)PQgetlength(r, 0, 0) > max) {
        errno = EFBIG;
    } else if (r) {
        vstring_reset(out);
        vstring_append(out, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
        ret = 0;
    }
    PQclear(r);
    pthread_mutex_unlock(&fleet_lock);
    return ret;
}

/* Replaces (append 0) or extends (append 1) the document. */
static int fleet_doc_put(spool_area area, const char *key, const void *data, size_t len, int append)
{
    const char *p[3] = {fleet_area_names[area], key, data};
    int lens[3] = {0, 0, (int)len}, fmts[3] = {0, 0, 1};

    if (!spool_store_key_ok(key) || len > INT32_MAX) {
        errno = EINVAL;
        return -1;
    }
    pthread_mutex_lock(&fleet_lock);
    PGresult *r =
        area == SPOOL_AREA_STATE
            ? fleet_run("write",
                        append ? "INSERT INTO otr_state (key, data) VALUES ($1, $2) ON CONFLICT "
                                 "(key) DO UPDATE SET data = otr_state.data || excluded.data, "
                                 "updated = now()"
                               : "INSERT INTO otr_state (key, data) VALUES ($1, $2) ON CONFLICT "
                                 "(key) DO UPDATE SET data = excluded.data, updated = now()",
                        2, p + 1, lens + 1, fmts + 1, 0)
            : fleet_run("write",
                        append ? "INSERT INTO otr_doc (area, key, data) VALUES ($1, $2, $3) ON "
                                 "CONFLICT (area, key) DO UPDATE SET data = otr_doc.data || "
                                 "excluded.data, updated = now()"
                               : "INSERT INTO otr_doc (area, key, data) VALUES ($1, $2, $3) ON "
                                 "CONFLICT (area, key) DO UPDATE SET data = excluded.data, "
                                 "updated = now()",
                        3, p, lens, fmts, 0);
    int ret = r ? 0 : -1;
    PQclear(r);
    pthread_mutex_unlock(&fleet_lock);
    return ret;
}

static int fleet_doc_replace(const char *root, spool_area area, const char *key, const void *data,
                             size_t len)
{
    (void)root;
    return fleet_doc_put(area, key, data, len, 0);
}

/* A commit is durable on the server (synchronous_commit): SPOOL_STORE_SYNC holds. */
static int fleet_doc_append(const char *root, spool_area area, const char *key, const void *data,
                            size_t len, int flags)
{
    (void)root;
    (void)flags;
    return fleet_doc_put(area, key, data, len, 1);
}

static int fleet_doc_remove(const char *root, spool_area area, const char *key)
{

    (void)root;
    pthread_mutex_lock(&fleet_lock);
    PGresult *r = fleet_doc_run("remove", area, key, "DELETE FROM otr_state WHERE key = $1",
                                "DELETE FROM otr_doc WHERE area = $1 AND key = $2", 0);
    int ret = r ? 0 : -1;
    PQclear(r);
    pthread_mutex_unlock(&fleet_lock);
    return ret;
}

static int fleet_doc_exists(const char *root, spool_area area, const char *key)
{

    (void)root;
    pthread_mutex_lock(&fleet_lock);
    PGresult *r = fleet_doc_run("look up", area, key, "SELECT 1 FROM otr_state WHERE key = $1",
                                "SELECT 1 FROM otr_doc WHERE area = $1 AND key = $2", 0);
    int ret = r ? PQntuples(r) > 0 : -1;
    PQclear(r);
    pthread_mutex_unlock(&fleet_lock);
    return ret;
}

static char **fleet_doc_list(const char *root, spool_area area)
{
    const char *p[1] = {fleet_area_names[area]};
    char **v = NULL;

    (void)root;
    pthread_mutex_lock(&fleet_lock);
    /* COLLATE "C": the order of strcmp, as the file backend's. */
    PGresult *r =
        area == SPOOL_AREA_STATE
            ? fleet_run("list", "SELECT key FROM otr_state ORDER BY key COLLATE \"C\"", 0, NULL,
                        NULL, NULL, 0)
            : fleet_run("list",
                        "SELECT key FROM otr_doc WHERE area = $1 ORDER BY key COLLATE \"C\"", 1, p,
                        NULL, NULL, 0);
    v = fleet_column(r);
    PQclear(r);
    pthread_mutex_unlock(&fleet_lock);
    return v;
}

/* Named locks are session advisory locks on the key's hash: they go with the connection. */
static int fleet_doc_lock(const char *root, spool_area area, const char *key)
{
    char name[SPOOL_STORE_KEY_MAX + 32];
    const char *p[1] = {name};

    (void)root;
    snprintf(name, sizeof(name), "%s/%s", fleet_area_names[area], key);
    pthread_mutex_lock(&fleet_lock);
    PGresult *r =
        fleet_run("lock", "SELECT pg_try_advisory_lock(hashtext($1))", 1, p, NULL, NULL, 0);
    int ret = -1;
    if (r && strcmp(PQgetvalue(r, 0, 0), "t") == 0)
        ret = (int)(htable_hash(name, strlen(name)) & 0x3fffffff);
    else if (r)
        errno = EWOULDBLOCK;
    PQclear(r);
    pthread_mutex_unlock(&fleet_lock);
    return ret;
}

static void fleet_doc_unlock(int handle)
{
    /* The handle does not name the key again; the lock ends with the session, and an
     * agent's named locks (import-log) last until it exits anyway. */
    (void)handle;
}

static void fleet_doc_describe(const char *root, spool_area area, const char *key, char *out,
                               size_t size)
{
    (void)root;
    snprintf(out, size, "fleet database %s%s%s", fleet_area_names[area], *key ? "/" : "", key);
}

const spool_store_ops fleet_store_ops = {
    "fleet",          fleet_doc_prepare, fleet_doc_read,     fleet_doc_replace,
    fleet_doc_append, fleet_doc_remove,  fleet_doc_exists,   fleet_doc_list,
    fleet_doc_lock,   fleet_doc_unlock,  fleet_doc_describe,
};

/* The outcomes. */

static char **fleet_source_days(void *ctx)
{
    char **v = NULL;

    (void)ctx;
    pthread_mutex_lock(&fleet_lock);
    PGresult *r = fleet_run("list days",
                            "SELECT DISTINCT to_char(day, 'YYYY-MM-DD') FROM otr_outcome ORDER "
                            "BY 1",
                            0, NULL, NULL, NULL, 0);
    v = fleet_column(r);
    PQclear(r);
    pthread_mutex_unlock(&fleet_lock);
    return v ? v : mycalloc(1, sizeof(*v));
}

/* The big-endian integer of bytes bytes at p. */
static uint64_t fleet_be(const unsigned char *p, int bytes)
{
    uint64_t v = 0;

    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

/* One row of a binary COPY of one bytea column: its value in *data, *len; 0 when the row is
 * the trailer (or holds no value), -1 when it is malformed. header: the first row, which
 * begins with the file header. */
static int fleet_copy_row(const unsigned char *p, size_t n, int header, const unsigned char **data,
                          size_t *len)
{
    if (header) {
        if (n < 19 || memcmp(p, "PGCOPY\n\377\r\n\0", 11) != 0)
            return -1;
        uint64_t ext = fleet_be(p + 15, 4);
        if (ext > n - 19)
            return -1;
        p += 19 + ext;
        n -= 19 + ext;
    }
    if (n < 2)
        return -1;
    if (fleet_be(p, 2) == 0xffff) /* the trailer */
        return 0;
    if (fleet_be(p, 2) != 1 || n < 6)
        return -1;
    uint64_t l = fleet_be(p + 2, 4);
    if (l == 0xffffffff)
        return 0; /* NULL: the column is NOT NULL, so never */
    if (l > n - 6)
        return -1;
    *data = p + 6;
    *len = (size_t)l;
    return 1;
}

static int fleet_source_iterate(void *ctx, const char *day,
                                int (*fn)(const outcome *o, void *fnctx), void *fnctx,
                                journal_stats *stats)
{
    char sql[160], *buf;
    outcome o;
    uint64_t undecodable = 0, malformed = 0;
    int ret = 0, stop = 0, header = 1, n;

    (void)ctx;
    if (spool_day_parse(day) < 0) {
        errno = EINVAL;
        return -1;
    }
    /* COPY streams the day at the server's pace without a cursor's round trips; the day is
     * a parsed YYYY-MM-DD, so it can be a literal. The rows come in storage order: a
     * report's sums do not depend on it. */
    snprintf(sql, sizeof(sql),
             "COPY (SELECT payload FROM otr_outcome WHERE day = '%s') TO STDOUT (FORMAT binary)",
             day);
    pthread_mutex_lock(&fleet_lock);
    PGconn *db = fleet_db();
    PGresult *r = db ? PQexec(db, sql) : NULL;
    if (db == NULL || PQresultStatus(r) != PGRES_COPY_OUT) {
        if (db)
            fleet_query_failed(db, r, "read outcomes");
        PQclear(r);
        pthread_mutex_unlock(&fleet_lock);
        return -1;
    }
    PQclear(r);
    outcome_init(&o);
    /* fn must not use the database meanwhile (the report walks only aggregate). */
    while ((n = PQgetCopyData(db, &buf, 0)) > 0) {
        const unsigned char *data;
        size_t len;
        int row =
            stop ? 0 : fleet_copy_row((const unsigned char *)buf, (size_t)n, header, &data, &len);
        header = 0;
        if (row < 0) {
            malformed++;
        } else if (row > 0 && outcome_decode(&o, data, len) < 0) {
            undecodable++;
        } else if (row > 0) {
            if (stats)
                stats->records++;
            stop = fn(&o, fnctx) != 0; /* the rest is drained, unread */
        }
        PQfreemem(buf);
    }
    if (n == -2)
        ret = -1;
    while ((r = PQgetResult(db)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fleet_query_failed(db, r, "read outcomes");
            ret = -1;
        }
        PQclear(r);
    }
    if (n == -2)
        fleet_query_failed(db, NULL, "read outcomes");
    outcome_done(&o);
    pthread_mutex_unlock(&fleet_lock);
    if (undecodable || malformed)
        msg_warn("fleet database: %s: %llu outcome(s) could not be decoded", day,
                 (unsigned long long)(undecodable + malformed));
    return ret;
}

static int fleet_source_expire(void *ctx, const char *cutoff)
{
    const char *p[1] = {cutoff};

    (void)ctx;
    pthread_mutex_lock(&fleet_lock);
    PGresult *r =
        fleet_run("expire", "DELETE FROM otr_outcome WHERE day < $1::date", 1, p, NULL, NULL, 0);
    if (r) {
        PQclear(r);
        r = fleet_run("expire", "DELETE FROM otr_ship WHERE journal < $1", 1, p, NULL, NULL, 0);
    }
    int ret = r ? 0 : -1;
    PQclear(r);
    pthread_mutex_unlock(&fleet_lock);
    return ret;
}

const spool_source fleet_source = {
    "fleet database", fleet_source_days, fleet_source_iterate, fleet_source_expire, NULL,
};

/* Day locks and readiness. */

static int fleet_day_number(const char *day)
{
    time_t t = spool_day_parse(day);
    return t < 0 ? -1 : (int)(t / 86400);
}

/* Runs fn (pg_try_advisory_lock or pg_advisory_unlock) on the day's lock; 1 when it said
 * true, 0 false, -1 error. */
static int fleet_day_advisory(const char *what, const char *sql, const char *day)
{
    char ns[16], num[16];
    const char *p[2] = {ns, num};

    snprintf(ns, sizeof(ns), "%d", FLEET_DAY_LOCK_NS);
    snprintf(num, sizeof(num), "%d", fleet_day_number(day));
    pthread_mutex_lock(&fleet_lock);
    PGresult *r = fleet_run(what, sql, 2, p, NULL, NULL, 0);
    int ret = r ? strcmp(PQgetvalue(r, 0, 0), "t") == 0 : -1;
    PQclear(r);
    pthread_mutex_unlock(&fleet_lock);
    return ret;
}

int fleet_store_lock_day(const char *day)
{
    return fleet_day_advisory("lock a day", "SELECT pg_try_advisory_lock($1::int, $2::int)", day);
}

void fleet_store_unlock_day(const char *day)
{
    (void)fleet_day_advisory("unlock a day", "SELECT pg_advisory_unlock($1::int, $2::int)", day);
}

int fleet_store_day_ready(const char *day, time_t now, long long max_lag, vstring *late)
{
    char end[32];
    const char *p[1] = {end};
    time_t t = spool_day_parse(day);

    if (t < 0)
        return -1;
    snprintf(end, sizeof(end), "%lld", (long long)t + 86400);
    pthread_mutex_lock(&fleet_lock);
    PGresult *r = fleet_run("check the hosts",
                            "SELECT host FROM otr_host WHERE shipped_through < $1::bigint ORDER "
                            "BY host",
                            1, p, NULL, NULL, 0);
    int ret = -1;
    if (r) {
        if (late)
            vstring_reset(late);
        for (int i = 0; late && i < PQntuples(r); i++) {
            vstring_append_str(late, i ? ", " : "");
            vstring_append_str(late, PQgetvalue(r, i, 0));
        }
        ret = PQntuples(r) == 0 || now >= t + 86400 + (time_t)max_lag;
    }
    PQclear(r);
    pthread_mutex_unlock(&fleet_lock);
    return ret;
}
