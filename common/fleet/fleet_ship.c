/*
 * The shipper: journals -> otr_outcome, exactly once. Each batch is one transaction: COPY
 * of the records, then the journal's new position in otr_ship; the in-memory positions
 * follow only a commit that was acknowledged, and are re-read from the database after any
 * failure, so a commit whose answer was lost is never shipped twice.
 */
#include "fleet_ship.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fleet_db.h"
#include "htable.h"
#include "journal.h"
#include "msg.h"
#include "mymalloc.h"
#include "spool.h"
#include "spool_store.h"
#include "vstring.h"

#define FLEET_SHIP_BATCH     20000              /* records per transaction */
#define FLEET_SHIP_BATCH_MAX (16 * 1024 * 1024) /* COPY bytes per transaction */
#define FLEET_SHIP_KEY_MAX   (SPOOL_DAY_LEN + 2 + NAME_MAX)
/* The writers put an outcome in their journal within a second of receiving it: what was
 * received this long before a pass began is in a file that pass read. */
#define FLEET_SHIP_WRITE_DELAY 2

struct fleet_ship {
    const config *cfg;
    char *spool_dir;
    char host[256];
    PGconn *db;
    htable *pos; /* "day/role" -> uint64_t * committed position */
    vstring *copy;
    fleet_ship_stats stats;
    msg_rate rate;
    time_t down_since; /* when the database became unreachable (0: it is not) */
};

/* One journal's batch in the making. */
typedef struct {
    fleet_ship *s;
    const char *day, *role;
    uint64_t end; /* set by the reader: past the current record */
    size_t n;
} fleet_ship_batch;

int fleet_host_ok(const char *name)
{
    size_t n = strlen(name);

    return n > 0 && n <= 253 &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

fleet_ship *fleet_ship_new(const config *cfg, const char *spool_dir)
{
    fleet_ship *s = mycalloc(1, sizeof(*s));
    msg_rate rate = MSG_RATE_INIT(3, 600);

    s->cfg = cfg;
    s->spool_dir = mystrdup(spool_dir);
    fleet_host_name(cfg, s->host, sizeof(s->host));
    if (!fleet_host_ok(s->host))
        msg_fatal("fleet_host: \"%s\" is not a host name ([A-Za-z0-9._-], at most 253 bytes)",
                  s->host);
    s->copy = vstring_alloc(0);
    s->rate = rate;
    return s;
}

static void fleet_ship_disconnect(fleet_ship *s)
{
    PQfinish(s->db);
    s->db = NULL;
    s->pos = htable_free(s->pos, myfree_value);
    s->stats.connected = 0;
}

fleet_ship *fleet_ship_free(fleet_ship *s)
{
    if (s) {
        fleet_ship_disconnect(s);
        vstring_free(s->copy);
        myfree(s->spool_dir);
        myfree(s);
    }
    return NULL;
}

const fleet_ship_stats *fleet_ship_stats_get(const fleet_ship *s)
{
    return &s->stats;
}

static void fleet_ship_failed(fleet_ship *s, const char *what, const char *err)
{
    if (!s->down_since) {
        s->down_since = time(NULL);
        msg_warn("ship: %s: %s; outcomes stay in the local journals and are shipped when the "
                 "fleet database is back",
                 what, err);
    } else if (msg_rate_ok(&s->rate)) {
        msg_warn("ship: fleet database still unavailable (%s: %s)", what, err);
    }
    fleet_ship_disconnect(s);
}

/* Connects, registers the host and loads its committed positions. */
static int fleet_ship_connect(fleet_ship *s)
{
    char err[512];
    const char *p[1] = {s->host};

    s->db = fleet_db_open(s->cfg, err, sizeof(err));
    if (s->db == NULL) {
        fleet_ship_failed(s, "cannot connect", err);
        return -1;
    }
    if (fleet_db_exec_params(s->db,
                             "INSERT INTO otr_host (host) VALUES ($1) ON CONFLICT (host) DO "
                             "UPDATE SET last_seen = now()",
                             1, p, err, sizeof(err)) < 0) {
        fleet_ship_failed(s, "cannot register this host", err);
        return -1;
    }
    PGresult *r = PQexecParams(s->db, "SELECT journal, position FROM otr_ship WHERE host = $1", 1,
                               NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        goto fail;
    s->pos = htable_create(64);
    for (int i = 0; i < PQntuples(r); i++) {
        int created;
        const char *k = PQgetvalue(r, i, 0);
        htable_entry *e = htable_enter(s->pos, k, strlen(k), &created);
        uint64_t *v = mymalloc(sizeof(*v));
        *v = strtoull(PQgetvalue(r, i, 1), NULL, 10);
        if (!created)
            myfree(e->value);
        e->value = v;
    }
    PQclear(r);
    s->stats.connected = 1;
    if (s->down_since) {
        msg_info("ship: fleet database reachable again after %lld s; catching up",
                 (long long)(time(NULL) - s->down_since));
        s->down_since = 0;
    }
    return 0;

fail:
    fleet_db_error(s->db, r, err, sizeof(err));
    PQclear(r);
    fleet_ship_failed(s, "cannot register this host", err);
    return -1;
}

/* Binary COPY (the server parses no text): big-endian integers, fields as length + bytes. */
static void fleet_ship_be(vstring *c, uint64_t v, int bytes)
{
    unsigned char b[8];

    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        b[i] = (unsigned char)(v & 0xff);
    vstring_append(c, b, (size_t)bytes);
}

static void fleet_ship_field(vstring *c, const void *data, size_t len)
{
    fleet_ship_be(c, len, 4);
    vstring_append(c, data, len);
}

static int fleet_ship_record(const void *payload, size_t len, void *ctx)
{
    fleet_ship_batch *b = ctx;
    vstring *c = b->s->copy;

    if (c->len == 0) /* the header: signature, flags, no extension */
        vstring_append(c, "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);
    fleet_ship_be(c, 5, 2);
    fleet_ship_be(c, 4, 4); /* date: days since 2000-01-01 */
    fleet_ship_be(c, (uint32_t)((spool_day_parse(b->day) - 946684800) / 86400), 4);
    fleet_ship_field(c, b->s->host, strlen(b->s->host));
    fleet_ship_field(c, b->role, strlen(b->role));
    fleet_ship_be(c, 8, 4);
    fleet_ship_be(c, b->end - JOURNAL_HEADER - len, 8);
    fleet_ship_field(c, payload, len);
    b->n++;
    return b->n >= FLEET_SHIP_BATCH || c->len >= FLEET_SHIP_BATCH_MAX;
}

/* Commits the batch in s->copy and the journal's position; -1 on failure (logged). */
static int fleet_ship_commit(fleet_ship *s, const char *key, uint64_t end, size_t n)
{
    char err[512], endtext[32], ntext[32];
    PGresult *r = NULL;

    snprintf(endtext, sizeof(endtext), "%" PRIu64, end);
    snprintf(ntext, sizeof(ntext), "%zu", n);
    const char *p[4] = {s->host, key, endtext, ntext};
    if (fleet_db_exec(s->db, "BEGIN", err, sizeof(err)) < 0)
        goto fail;
    if (n) {
        fleet_ship_be(s->copy, 0xffff, 2); /* the trailer */
        r = PQexec(s->db, "COPY otr_outcome (day, host, journal, pos, payload) FROM STDIN "
                          "(FORMAT binary)");
        if (PQresultStatus(r) != PGRES_COPY_IN)
            goto fail_res;
        PQclear(r);
        if (PQputCopyData(s->db, s->copy->data, (int)s->copy->len) != 1 ||
            PQputCopyEnd(s->db, NULL) != 1) {
            r = NULL;
            goto fail_res;
        }
        r = PQgetResult(s->db);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            goto fail_res;
        PQclear(r);
        while ((r = PQgetResult(s->db)) != NULL)
            PQclear(r);
    }
    if (fleet_db_exec_params(s->db,
                             "INSERT INTO otr_ship (host, journal, position) VALUES ($1, $2, $3) "
                             "ON CONFLICT (host, journal) DO UPDATE SET position = "
                             "excluded.position",
                             3, p, err, sizeof(err)) < 0 ||
        fleet_db_exec_params(
            s->db, "UPDATE otr_host SET shipped = shipped + $2, last_seen = now() WHERE host = $1",
            2, (const char *[]){s->host, ntext}, err, sizeof(err)) < 0 ||
        fleet_db_exec(s->db, "COMMIT", err, sizeof(err)) < 0)
        goto fail;
    return 0;

fail_res:
    fleet_db_error(s->db, r, err, sizeof(err));
    PQclear(r);
fail:
    fleet_ship_failed(s, "cannot store outcomes", err);
    return -1;
}

/* Ships one journal from its committed position; 1 when it was read to its end, 0 when
 * batches remain, -1 on a database failure. */
static int fleet_ship_journal(fleet_ship *s, const char *day, const char *role, const char *path,
                              unsigned *batches, unsigned max_batches, volatile sig_atomic_t *stop)
{
    char key[FLEET_SHIP_KEY_MAX];
    struct stat st;
    int created;

    snprintf(key, sizeof(key), "%s/%s", day, role);
    htable_entry *e = htable_enter(s->pos, key, strlen(key), &created);
    if (created)
        e->value = mycalloc(1, sizeof(uint64_t));
    uint64_t *pos = e->value;
    if (stat(path, &st) < 0)
        return 1; /* expired meanwhile */
    while ((uint64_t)st.st_size > *pos) {
        if ((max_batches && *batches >= max_batches) || (stop && *stop))
            return 0;
        fleet_ship_batch b = {s, day, role, *pos, 0};
        journal_stats js;
        vstring_reset(s->copy);
        if (journal_read_file_from(path, *pos, JOURNAL_READ_LIVE, fleet_ship_record, &b, &js,
                                   &b.end) < 0) {
            if (errno != ENOENT)
                msg_warn("ship: cannot read %s: %m", path);
            return 1;
        }
        if (b.end == *pos)
            break; /* only an incomplete record so far */
        if (fleet_ship_commit(s, key, b.end, b.n) < 0)
            return -1;
        *pos = b.end;
        s->stats.shipped += b.n;
        ++*batches;
    }
    return 1;
}

/* Records that everything received before through is shipped. */
static int fleet_ship_through(fleet_ship *s, time_t through)
{
    char err[512], t[32];

    snprintf(t, sizeof(t), "%lld", (long long)through);
    PGresult *r = PQexecParams(s->db,
                               "UPDATE otr_host SET shipped_through = greatest(shipped_through, "
                               "$2::bigint), last_seen = now() WHERE host = $1",
                               2, NULL, (const char *[]){s->host, t}, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fleet_db_error(s->db, r, err, sizeof(err));
        PQclear(r);
        fleet_ship_failed(s, "cannot record the shipped time", err);
        return -1;
    }
    PQclear(r);
    s->stats.through = through;
    return 0;
}

int fleet_ship_pass(fleet_ship *s, unsigned max_batches, volatile sig_atomic_t *stop)
{
    char dir[PATH_MAX], path[PATH_MAX + 2 * NAME_MAX];
    time_t start = time(NULL);
    unsigned batches = 0;
    int done = 1;

    if (s->db == NULL && fleet_ship_connect(s) < 0)
        return -1;
    snprintf(dir, sizeof(dir), "%s/journal", s->spool_dir);
    char **days = spool_store_list_dir(dir, NULL);
    s->stats.backlog = 0;
    char oldest[SPOOL_DAY_LEN + 1];
    spool_day_of(start - (time_t)s->cfg->retention_days * 86400, oldest);
    for (size_t i = 0; days && days[i] && done >= 0; i++) {
        /* Days the agent expires from the database are not shipped again. */
        if (spool_day_parse(days[i]) < 0 || strcmp(days[i], oldest) < 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, days[i]);
        char **files = spool_store_list_dir(path, ".jnl");
        for (size_t j = 0; files && files[j]; j++) {
            char role[NAME_MAX];
            snprintf(role, sizeof(role), "%.*s", (int)(strlen(files[j]) - 4), files[j]);
            snprintf(path, sizeof(path), "%s/%s/%s", dir, days[i], files[j]);
            int r = done < 0
                        ? -1
                        : fleet_ship_journal(s, days[i], role, path, &batches, max_batches, stop);
            if (r < 0) {
                done = -1;
            } else if (r == 0) {
                done = 0;
            }
            struct stat st;
            if (r >= 0 && stat(path, &st) == 0) {
                char key[FLEET_SHIP_KEY_MAX];
                snprintf(key, sizeof(key), "%s/%s", days[i], role);
                htable_entry *k = htable_locate(s->pos, key, strlen(key));
                uint64_t at = k ? *(uint64_t *)k->value : 0;
                if ((uint64_t)st.st_size > at)
                    s->stats.backlog += (uint64_t)st.st_size - at;
            }
        }
        spool_store_list_free(files);
    }
    spool_store_list_free(days);
    if (done == 1 && fleet_ship_through(s, start - FLEET_SHIP_WRITE_DELAY) < 0)
        return -1;
    return done;
}
