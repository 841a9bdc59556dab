#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "msg.h"
#include "mymalloc.h"
#include "spool_store.h"

#define SPOOL_JOURNAL_MODE    0640
#define SPOOL_DIR_MODE        0750
#define SPOOL_FLUSH_AT        (4 * 1024 * 1024) /* write out a buffer this large without waiting */
#define SPOOL_STATE_MAX       (64 * 1024 * 1024)
#define SPOOL_RECOVERED_AFTER 5 /* seconds of working writes that end a write failure */

struct spool {
    char *dir;
    const spool_source *src; /* NULL: the journals */
};

struct spool_writer {
    spool *spool;
    char *role;
    char day[SPOOL_DAY_LEN + 1];
    int fd;
    off_t size;      /* bytes known good in the file */
    vstring *buf;    /* framed records not yet written */
    size_t buffered; /* records in buf */
    vstring *payload;
    spool_writer_stats stats;
    msg_rate rate;
    int failing;          /* writes fail: logged once, then counted until they work again */
    uint64_t lost_before; /* stats.lost when the failure began */
    time_t last_fail;
    spool_counters *count;          /* NULL: nobody watches */
    off_t max_size;                 /* journal_max_size; 0: none */
    char capped[SPOOL_DAY_LEN + 1]; /* the day whose cap was logged */
};

void spool_day_of(time_t t, char *out)
{
    struct tm tm;

    char tmp[64];

    gmtime_r(&t, &tm);
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    memcpy(out, tmp, SPOOL_DAY_LEN);
    out[SPOOL_DAY_LEN] = 0;
}

time_t spool_day_parse(const char *day)
{
    struct tm tm;
    char back[SPOOL_DAY_LEN + 1];

    if (strlen(day) != SPOOL_DAY_LEN)
        return -1;
    for (int i = 0; i < SPOOL_DAY_LEN; i++)
        if ((i == 4 || i == 7) ? day[i] != '-' : (day[i] < '0' || day[i] > '9'))
            return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year =
        (day[0] - '0') * 1000 + (day[1] - '0') * 100 + (day[2] - '0') * 10 + (day[3] - '0') - 1900;
    tm.tm_mon = (day[5] - '0') * 10 + (day[6] - '0') - 1;
    tm.tm_mday = (day[8] - '0') * 10 + (day[9] - '0');
    time_t t = timegm(&tm);
    /* Reject 2026-02-31 and the like: the day must read back the same. */
    spool_day_of(t, back);
    return strcmp(back, day) == 0 ? t : -1;
}

static void spool_path(char *out, size_t size, const spool *s, const char *a, const char *b)
{
    int n =
        b ? snprintf(out, size, "%s/%s/%s", s->dir, a, b) : snprintf(out, size, "%s/%s", s->dir, a);

    if (n < 0 || (size_t)n >= size)
        msg_fatal("spool path too long under %s", s->dir);
}

spool *spool_open(const char *dir)
{
    spool *s = mymalloc(sizeof(*s));
    char path[PATH_MAX];

    s->dir = mystrdup(dir);
    s->src = NULL;
    if (fsutil_mkdirs(dir, SPOOL_DIR_MODE) < 0)
        msg_fatal("cannot create spool directory %s: %m", dir);
    spool_path(path, sizeof(path), s, "journal", NULL);
    if (fsutil_mkdirs(path, SPOOL_DIR_MODE) < 0)
        msg_fatal("cannot create %s: %m", path);
    if (spool_store_prepare(dir, SPOOL_AREA_STATE) < 0) {
        spool_store_describe(dir, SPOOL_AREA_STATE, "", path, sizeof(path));
        msg_fatal("cannot create %s: %m", path);
    }
    return s;
}

spool *spool_close(spool *s)
{
    if (s) {
        myfree(s->dir);
        myfree(s);
    }
    return NULL;
}

const char *spool_dir(const spool *s)
{
    return s->dir;
}

spool_writer *spool_writer_open(spool *s, const char *role)
{
    spool_writer *w = mycalloc(1, sizeof(*w));
    msg_rate rate = MSG_RATE_INIT(3, 60);

    w->spool = s;
    w->role = mystrdup(role);
    w->fd = -1;
    w->buf = vstring_alloc(0);
    w->payload = vstring_alloc(0);
    w->rate = rate;
    return w;
}

/* fdatasync, timed for the watcher. */
static int spool_writer_sync(spool_writer *w)
{
    uint64_t t0 = w->count ? counters_now_us() : 0;

    if (fdatasync(w->fd) < 0)
        return -1;
    w->stats.syncs++;
    if (w->count)
        hist_observe(&w->count->sync, counters_now_us() - t0);
    return 0;
}

static int spool_writer_roll(spool_writer *w, const char *day)
{
    char path[PATH_MAX], name[NAME_MAX];
    struct stat st;

    if (w->fd >= 0) {
        spool_writer_sync(w);
        close(w->fd);
        w->fd = -1;
    }
    memcpy(w->day, day, SPOOL_DAY_LEN + 1);
    spool_path(path, sizeof(path), w->spool, "journal", day);
    if (fsutil_mkdirs(path, SPOOL_DIR_MODE) < 0)
        return -1;
    snprintf(name, sizeof(name), "%s/%s.jnl", day, w->role);
    spool_path(path, sizeof(path), w->spool, "journal", name);
    w->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, SPOOL_JOURNAL_MODE);
    if (w->fd < 0)
        return -1;
    if (fstat(w->fd, &st) < 0) {
        close(w->fd);
        w->fd = -1;
        return -1;
    }
    if (st.st_size > 0) {
        /* After a crash mid-write: drop the incomplete record so appends start clean. */
        long cut = journal_repair_tail(w->fd);
        if (cut > 0) {
            msg_warn("%s: removed an incomplete record of %ld bytes at the end (a crash "
                     "interrupted its write)",
                     path, cut);
            fstat(w->fd, &st);
        }
    }
    w->size = st.st_size;
    if (w->count)
        counter_set(&w->count->journal_size, (uint64_t)w->size);
    /* A new journal's directory entry must survive a crash too. */
    if (st.st_size == 0)
        fsutil_sync_parent(path);
    return 0;
}

static int spool_write_out(spool_writer *w)
{
    struct stat st;

    if (w->buf->len == 0)
        return 0;
    /* Someone removed the journal (or its directory): writing on would go nowhere. */
    if (w->fd >= 0 && fstat(w->fd, &st) == 0 && st.st_nlink == 0) {
        msg_warn("%s journal of %s in %s was removed; starting a new one", w->role, w->day,
                 w->spool->dir);
        close(w->fd);
        w->fd = -1;
    }
    if (w->fd < 0 && spool_writer_roll(w, w->day) < 0)
        goto fail;
    if (fsutil_write_all(w->fd, w->buf->data, w->buf->len) < 0)
        goto fail;
    w->size += (off_t)w->buf->len;
    w->stats.written += w->buffered;
    if (w->count) {
        counter_add(&w->count->written, w->buffered);
        counter_add(&w->count->bytes, w->buf->len);
        counter_set(&w->count->journal_size, (uint64_t)w->size);
    }
    vstring_reset(w->buf);
    w->buffered = 0;
    /* A nearly full disk still takes a small batch now and then: the failure is over only
     * when writes have worked for a while, so that it is logged once, not once a batch. */
    if (w->failing && time(NULL) - w->last_fail >= SPOOL_RECOVERED_AFTER) {
        w->failing = 0;
        msg_info("%s journal of %s in %s written again; %llu outcome(s) lost meanwhile", w->role,
                 w->day, w->spool->dir, (unsigned long long)(w->stats.lost - w->lost_before));
    }
    return 0;

fail:
    w->last_fail = time(NULL);
    if (!w->failing && msg_rate_ok(&w->rate))
        msg_error("cannot write %s journal of %s in %s: %m; counting the outcomes lost until "
                  "it works again",
                  w->role, w->day, w->spool->dir);
    if (!w->failing) {
        w->failing = 1;
        w->lost_before = w->stats.lost;
    }
    /* Cut a partial write so the journal stays a clean sequence of records. */
    if (w->fd >= 0 && ftruncate(w->fd, w->size) < 0) {
        close(w->fd);
        w->fd = -1;
    }
    w->stats.lost += w->buffered;
    if (w->count)
        counter_add(&w->count->lost, w->buffered);
    vstring_reset(w->buf);
    w->buffered = 0;
    return -1;
}

int spool_append(spool_writer *w, const outcome *o)
{
    char day[SPOOL_DAY_LEN + 1];

    spool_day_of(o->received, day);
    if (strcmp(day, w->day) != 0) {
        spool_write_out(w);
        if (spool_writer_roll(w, day) < 0 && msg_rate_ok(&w->rate))
            msg_error("cannot open %s journal of %s in %s: %m", w->role, day, w->spool->dir);
    }
    vstring_reset(w->payload);
    outcome_encode(o, w->payload);
    size_t before = w->buf->len;
    journal_frame(w->buf, w->payload->data, w->payload->len);
    /* Anyone allowed to write to a socket could otherwise fill the disk: past the cap,
     * outcomes are counted, not stored, until the day ends. */
    if (w->max_size > 0 && w->size + (off_t)w->buf->len > w->max_size) {
        w->buf->len = before;
        w->buf->data[before] = 0;
        w->stats.dropped++;
        if (w->count)
            counter_add(&w->count->dropped, 1);
        if (strcmp(w->capped, w->day) != 0) {
            memcpy(w->capped, w->day, sizeof(w->capped));
            msg_error("%s journal of %s in %s reached journal_max_size (%lld bytes): further "
                      "outcomes of that day are dropped and counted",
                      w->role, w->day, w->spool->dir, (long long)w->max_size);
        }
        return 0;
    }
    w->buffered++;
    w->stats.appended++;
    if (w->buf->len >= SPOOL_FLUSH_AT)
        return spool_write_out(w);
    return 0;
}

int spool_flush(spool_writer *w, int sync)
{
    int r = spool_write_out(w);

    if (sync && w->fd >= 0) {
        if (spool_writer_sync(w) < 0) {
            if (msg_rate_ok(&w->rate))
                msg_error("cannot sync %s journal of %s: %m", w->role, w->day);
            return -1;
        }
    }
    return r;
}

spool_writer *spool_writer_close(spool_writer *w)
{
    if (w == NULL)
        return NULL;
    spool_flush(w, 1);
    if (w->fd >= 0)
        close(w->fd);
    vstring_free(w->buf);
    vstring_free(w->payload);
    myfree(w->role);
    myfree(w);
    return NULL;
}

void spool_writer_set_max(spool_writer *w, long long max_size)
{
    w->max_size = max_size > 0 ? (off_t)max_size : 0;
}

const spool_writer_stats *spool_writer_stats_get(const spool_writer *w)
{
    return &w->stats;
}

void spool_writer_count(spool_writer *w, spool_counters *c)
{
    w->count = c;
}

void spool_writer_mark(spool_writer *w, const char *hint, char *out, size_t size)
{
    char day[SPOOL_DAY_LEN + 1];

    if (w->fd < 0 && hint && strlen(hint) >= SPOOL_DAY_LEN) {
        memcpy(day, hint, SPOOL_DAY_LEN);
        day[SPOOL_DAY_LEN] = 0;
        if (spool_day_parse(day) >= 0 && spool_writer_roll(w, day) < 0 && msg_rate_ok(&w->rate))
            msg_error("cannot open %s journal of %s in %s: %m", w->role, day, w->spool->dir);
    }
    if (w->fd < 0 || !w->day[0])
        snprintf(out, size, "%s", "");
    else
        snprintf(out, size, "%s %lld", w->day, (long long)w->size);
}

static int spool_count_record(const void *payload, size_t len, void *ctx)
{
    (void)payload;
    (void)len;
    ++*(uint64_t *)ctx;
    return 0;
}

uint64_t spool_records_after(spool *s, const char *role, const char *mark)
{
    char day[SPOOL_DAY_LEN + 1], name[NAME_MAX], path[PATH_MAX];
    unsigned long long size;
    uint64_t n = 0;
    int used = 0;

    if (sscanf(mark, "%10s %llu%n", day, &size, &used) != 2 || mark[used] != 0 ||
        spool_day_parse(day) < 0)
        return 0;
    snprintf(name, sizeof(name), "%s/%s.jnl", day, role);
    spool_path(path, sizeof(path), s, "journal", name);
    if (journal_read_file_at(path, (uint64_t)size, spool_count_record, &n, NULL) < 0 &&
        errno != ENOENT)
        msg_warn("cannot read %s: %m", path);
    return n;
}

typedef struct {
    outcome o;
    int (*fn)(const outcome *, void *);
    void *ctx;
    uint64_t undecodable;
} spool_iter;

static int spool_iter_record(const void *payload, size_t len, void *ctx)
{
    spool_iter *it = ctx;

    if (outcome_decode(&it->o, payload, len) < 0) {
        it->undecodable++;
        return 0;
    }
    return it->fn(&it->o, it->ctx);
}

void spool_set_source(spool *s, const spool_source *src)
{
    s->src = src;
}

int spool_iterate_day(spool *s, const char *day, int (*fn)(const outcome *o, void *ctx), void *ctx,
                      journal_stats *stats)
{
    char dir[PATH_MAX], path[PATH_MAX + NAME_MAX + 2];
    spool_iter it;
    journal_stats one;
    int ret = 0;

    if (spool_day_parse(day) < 0) {
        errno = EINVAL;
        return -1;
    }
    if (stats)
        memset(stats, 0, sizeof(*stats));
    if (s->src)
        return s->src->iterate_day(s->src->ctx, day, fn, ctx, stats);
    spool_path(dir, sizeof(dir), s, "journal", day);
    char **files = spool_store_list_dir(dir, ".jnl");
    if (files == NULL)
        return errno == ENOENT ? 0 : -1;
    outcome_init(&it.o);
    it.fn = fn;
    it.ctx = ctx;
    it.undecodable = 0;
    for (size_t i = 0; files[i]; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        if (journal_read_file(path, spool_iter_record, &it, &one) < 0) {
            msg_error("cannot read %s: %m", path);
            ret = -1;
            continue;
        }
        if (stats) {
            stats->records += one.records;
            stats->bad_records += one.bad_records;
            stats->bad_bytes += one.bad_bytes;
            stats->torn_tail |= one.torn_tail;
        }
    }
    if (it.undecodable)
        msg_warn("%s: %llu record(s) with a good checksum could not be decoded", dir,
                 (unsigned long long)it.undecodable);
    outcome_done(&it.o);
    spool_store_list_free(files);
    return ret;
}

/* The days of this host's journals. */
static char **spool_days_local(spool *s)
{
    char dir[PATH_MAX];
    char **v, **days;
    size_t n = 0;

    spool_path(dir, sizeof(dir), s, "journal", NULL);
    v = spool_store_list_dir(dir, NULL);
    if (v == NULL)
        return mycalloc(1, sizeof(char *));
    for (size_t i = 0; v[i]; i++)
        n++;
    days = mycalloc(n + 1, sizeof(char *));
    n = 0;
    for (size_t i = 0; v[i]; i++) {
        if (spool_day_parse(v[i]) >= 0)
            days[n++] = v[i];
        else
            myfree(v[i]);
    }
    myfree(v);
    return days;
}

/* The state documents of a day: the state, and its log of what happened since. */
#define SPOOL_STATE_DOC ".state"
#define SPOOL_STATE_LOG ".accepted"

/* The store key of day's document with suffix; 0, or -1 (EINVAL) when day is not a day. */
static int spool_state_key(char *out, size_t size, const char *day, const char *suffix)
{
    if (spool_day_parse(day) < 0) {
        errno = EINVAL;
        return -1;
    }
    snprintf(out, size, "%s%s", day, suffix);
    return 0;
}

char **spool_days(spool *s)
{
    return s->src ? s->src->days(s->src->ctx) : spool_days_local(s);
}

int spool_expire(spool *s, int retention_days, time_t now)
{
    char **days = spool_days_local(s);
    char cutoff[SPOOL_DAY_LEN + 1], dir[PATH_MAX], path[PATH_MAX + NAME_MAX + 2];
    char name[SPOOL_DAY_LEN + 16];
    int removed = 0;

    spool_day_of(now - (time_t)retention_days * 86400, cutoff);
    for (size_t i = 0; days[i]; i++) {
        if (strcmp(days[i], cutoff) >= 0)
            continue;
        spool_path(dir, sizeof(dir), s, "journal", days[i]);
        char **files = spool_store_list_dir(dir, NULL);
        for (size_t j = 0; files && files[j]; j++) {
            snprintf(path, sizeof(path), "%s/%s", dir, files[j]);
            if (unlink(path) < 0)
                msg_warn("cannot remove %s: %m", path);
        }
        spool_store_list_free(files);
        if (rmdir(dir) == 0) {
            removed++;
            msg_info("removed outcomes of %s (older than %d days)", days[i], retention_days);
        } else {
            msg_warn("cannot remove %s: %m", dir);
        }
        if (spool_state_key(name, sizeof(name), days[i], SPOOL_STATE_DOC) == 0)
            spool_store_remove(s->dir, SPOOL_AREA_STATE, name);
        if (spool_state_key(name, sizeof(name), days[i], SPOOL_STATE_LOG) == 0)
            spool_store_remove(s->dir, SPOOL_AREA_STATE, name);
    }
    spool_store_list_free(days);
    if (s->src && s->src->expire(s->src->ctx, cutoff) < 0)
        msg_warn("cannot remove the outcomes older than %s from the %s", cutoff, s->src->name);
    return removed;
}

/* Reads the state document of day with suffix; none is empty. */
static int spool_state_read(spool *s, const char *day, const char *suffix, vstring *out)
{
    char key[SPOOL_DAY_LEN + 16];

    if (spool_state_key(key, sizeof(key), day, suffix) < 0)
        return -1;
    if (spool_store_read(s->dir, SPOOL_AREA_STATE, key, out, SPOOL_STATE_MAX) < 0) {
        if (errno == ENOENT) {
            vstring_reset(out);
            return 0;
        }
        return -1;
    }
    return 0;
}

int spool_state_load(spool *s, const char *day, vstring *out)
{
    return spool_state_read(s, day, SPOOL_STATE_DOC, out);
}

int spool_state_save(spool *s, const char *day, const char *data, size_t len)
{
    char key[SPOOL_DAY_LEN + 16];

    if (spool_state_key(key, sizeof(key), day, SPOOL_STATE_DOC) < 0)
        return -1;
    if (spool_store_replace(s->dir, SPOOL_AREA_STATE, key, data, len) < 0)
        return -1;
    /* The state now holds what the log said; a crash before the removal only replays it. */
    spool_state_key(key, sizeof(key), day, SPOOL_STATE_LOG);
    return spool_store_remove(s->dir, SPOOL_AREA_STATE, key);
}

int spool_state_log_append(spool *s, const char *day, const char *line, size_t len)
{
    char key[SPOOL_DAY_LEN + 16];

    if (spool_state_key(key, sizeof(key), day, SPOOL_STATE_LOG) < 0)
        return -1;
    return spool_store_append(s->dir, SPOOL_AREA_STATE, key, line, len, SPOOL_STORE_SYNC);
}

int spool_state_log_load(spool *s, const char *day, vstring *out)
{
    return spool_state_read(s, day, SPOOL_STATE_LOG, out);
}
