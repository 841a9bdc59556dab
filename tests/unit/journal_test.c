/* Spool and journal: round trip, day rollover, corruption and torn tails, expiry, state. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dgram.h"
#include "dump.h"
#include "fsutil.h"
#include "spool.h"
#include "t.h"

static const char *sample =
    "{\"dpv\":\"1\",\"d\":\"example.org\",\"pr\":\"v=TLSRPTv1; rua=mailto:t@example.org\","
    "\"policies\":[{\"policy-type\":2,\"policy-domain\":\"example.org\",\"policy-string\":"
    "[\"version: STSv1\",\"mode: enforce\"],\"mx-host\":[\"*.example.org\"],\"failure-details\":"
    "[{\"c\":205,\"s\":\"192.0.2.1\",\"n\":\"mx1.example.org\",\"h\":\"250 hi\",\"r\":"
    "\"198.51.100.7\",\"a\":\"info\",\"f\":\"self-signed\"}],\"t\":1,\"f\":1}]}";

typedef struct {
    size_t n;
    vstring *first;
} collect;

static int collect_fn(const outcome *o, void *ctx)
{
    collect *c = ctx;
    if (c->n++ == 0)
        dump_outcome(c->first, o);
    return 0;
}

static void make_outcome(outcome *o, time_t when)
{
    dgram_decoder *d = dgram_decoder_new();
    CHECK_INT(dgram_decode(d, sample, strlen(sample), o, NULL), DGRAM_OK);
    o->received = when;
    dgram_decoder_free(d);
}

static size_t count_day(spool *s, const char *day, journal_stats *js, vstring *first)
{
    collect c = {0, first};
    CHECK_INT(spool_iterate_day(s, day, collect_fn, &c, js), 0);
    return c.n;
}

static void test_roundtrip(const char *dir)
{
    spool *s = spool_open(dir);
    spool_writer *w = spool_writer_open(s, "tlsrpt");
    outcome o;
    vstring *want = vstring_alloc(0), *got = vstring_alloc(0);
    time_t day1 = spool_day_parse("2026-11-20"), day2 = spool_day_parse("2026-11-21");
    journal_stats js;

    outcome_init(&o);
    make_outcome(&o, day1 + 86399);
    dump_outcome(want, &o);
    for (int i = 0; i < 1000; i++)
        spool_append(w, &o);
    o.received = day2; /* rollover: the first journal is synced and closed */
    for (int i = 0; i < 10; i++)
        spool_append(w, &o);
    spool_writer_close(w);
    CHECK_INT(count_day(s, "2026-11-20", &js, got), 1000);
    CHECK_STR(got->data, want->data);
    CHECK_INT(js.bad_records, 0);
    CHECK_INT(js.torn_tail, 0);
    CHECK_INT(count_day(s, "2026-11-21", &js, got), 10);
    CHECK_INT(count_day(s, "2026-11-22", &js, got), 0);
    CHECK(spool_iterate_day(s, "2026-13-01", collect_fn, NULL, NULL) < 0);

    char **days = spool_days(s);
    CHECK_STR(days[0], "2026-11-20");
    CHECK_STR(days[1], "2026-11-21");
    CHECK(days[2] == NULL);
    for (size_t i = 0; days[i]; i++)
        free(days[i]);
    free(days);

    /* Expiry removes days more than retention_days old: at 2026-11-21 the day before stays,
     * at 2026-11-22 it goes. */
    CHECK_INT(spool_expire(s, 1, day2 + 3600), 0);
    CHECK_INT(count_day(s, "2026-11-20", &js, got), 1000);
    CHECK_INT(spool_expire(s, 1, day2 + 86400 + 3600), 1);
    CHECK_INT(count_day(s, "2026-11-20", &js, got), 0);
    CHECK_INT(count_day(s, "2026-11-21", &js, got), 10);
    outcome_done(&o);
    vstring_free(want);
    vstring_free(got);
    spool_close(s);
}

/* Damage: a corrupt stretch in the middle and a torn record at the end lose only those. */
static void test_corruption(const char *dir)
{
    spool *s = spool_open(dir);
    spool_writer *w = spool_writer_open(s, "tlsrpt");
    outcome o;
    char path[4096];
    struct stat st;
    journal_stats js;
    vstring *first = vstring_alloc(0);

    outcome_init(&o);
    make_outcome(&o, spool_day_parse("2026-10-01") + 5);
    for (int i = 0; i < 100; i++)
        spool_append(w, &o);
    spool_writer_close(w);
    snprintf(path, sizeof(path), "%s/journal/2026-10-01/tlsrpt.jnl", dir);
    CHECK_INT(stat(path, &st), 0);
    size_t rec = (size_t)st.st_size / 100;
    CHECK_INT((size_t)st.st_size % 100, 0);

    /* Flip one byte inside record 50. */
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    char b;
    CHECK_INT(pread(fd, &b, 1, (off_t)(50 * rec + 20)), 1);
    b ^= 0x55;
    CHECK_INT(pwrite(fd, &b, 1, (off_t)(50 * rec + 20)), 1);
    /* A torn tail: half a record, as a crash mid-write leaves it. */
    char *half = malloc(rec);
    CHECK_INT(pread(fd, half, rec, 0), (ssize_t)rec);
    CHECK_INT(pwrite(fd, half, rec / 2, st.st_size), (ssize_t)(rec / 2));
    close(fd);
    CHECK_INT(count_day(s, "2026-10-01", &js, first), 99);
    CHECK_INT(js.bad_records, 1);
    CHECK_INT(js.torn_tail, 1);

    /* A restarted writer first cuts the torn tail, so its records follow cleanly. */
    w = spool_writer_open(s, "tlsrpt");
    for (int i = 0; i < 5; i++)
        spool_append(w, &o);
    spool_writer_close(w);
    CHECK_INT(count_day(s, "2026-10-01", &js, first), 104);
    CHECK_INT(js.torn_tail, 0);
    CHECK_INT(js.bad_records, 1);
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT((size_t)st.st_size, 105 * rec);

    /* Garbage only: nothing, no crash. */
    snprintf(path, sizeof(path), "%s/journal/2026-10-01/junk.jnl", dir);
    CHECK_INT(fsutil_write_atomic(path, "OTRJOTRJxxxxOTR", 15, 0640), 0);
    CHECK_INT(count_day(s, "2026-10-01", &js, first), 104);
    free(half);
    outcome_done(&o);
    vstring_free(first);
    spool_close(s);
}

static void test_state(const char *dir)
{
    spool *s = spool_open(dir);
    vstring *v = vstring_alloc(0);

    CHECK_INT(spool_state_load(s, "2026-11-20", v), 0);
    CHECK_INT(v->len, 0);
    CHECK_INT(spool_state_save(s, "2026-11-20", "{\"a\":1}", 7), 0);
    CHECK_INT(spool_state_load(s, "2026-11-20", v), 0);
    CHECK_STR(v->data, "{\"a\":1}");
    CHECK(spool_state_save(s, "../etc", "x", 1) < 0);
    vstring_free(v);
    spool_close(s);
}

static void test_days(void)
{
    char out[SPOOL_DAY_LEN + 1];

    CHECK_INT(spool_day_parse("1970-01-02"), 86400);
    CHECK(spool_day_parse("2026-02-29") < 0);
    CHECK(spool_day_parse("2026-1-01") < 0);
    CHECK(spool_day_parse("2026-01-01x") < 0);
    spool_day_of(spool_day_parse("2024-02-29") + 86399, out);
    CHECK_STR(out, "2024-02-29");
}

/* journal_max_size: the day's journal stops growing at the cap, the rest is counted as
 * dropped, a new day starts afresh, and a restarted writer keeps to the cap. */
static void test_cap(const char *dir)
{
    char sub[512], path[600];
    struct stat st;
    outcome o;
    time_t day1 = spool_day_parse("2026-11-22"), day2 = spool_day_parse("2026-11-23");
    long long cap = 1024 * 1024;
    journal_stats js;
    vstring *first = vstring_alloc(0);

    snprintf(sub, sizeof(sub), "%s/cap", dir);
    spool *s = spool_open(sub);
    spool_writer *w = spool_writer_open(s, "tlsrpt");
    spool_writer_set_max(w, cap);
    outcome_init(&o);
    make_outcome(&o, day1 + 10);
    for (int i = 0; i < 20000; i++)
        spool_append(w, &o);
    spool_flush(w, 0);
    const spool_writer_stats *ws = spool_writer_stats_get(w);
    CHECK(ws->dropped > 0);
    CHECK_INT(ws->appended + ws->dropped, 20000);
    o.received = day2;
    spool_append(w, &o);
    CHECK_INT(ws->appended + ws->dropped, 20001);
    uint64_t kept = ws->appended - 1;
    spool_writer_close(w);
    snprintf(path, sizeof(path), "%s/journal/2026-11-22/tlsrpt.jnl", sub);
    CHECK_INT(stat(path, &st), 0);
    CHECK(st.st_size <= cap && st.st_size > cap - 1024);
    CHECK_INT(count_day(s, "2026-11-22", &js, first), kept);
    CHECK_INT(count_day(s, "2026-11-23", &js, first), 1);
    /* After a restart, the same day's journal does not grow past the cap. */
    w = spool_writer_open(s, "tlsrpt");
    spool_writer_set_max(w, cap);
    o.received = day1 + 20;
    spool_append(w, &o);
    CHECK_INT(spool_writer_stats_get(w)->dropped, 1);
    spool_writer_close(w);
    CHECK_INT(count_day(s, "2026-11-22", &js, first), kept);
    outcome_done(&o);
    vstring_free(first);
    spool_close(s);
}

int main(void)
{
    char dir[] = "/tmp/otr-journal-test.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    test_roundtrip(dir);
    test_corruption(dir);
    test_state(dir);
    test_days();
    test_cap(dir);
    t_rmtree(dir);
    return t_done("journal_test");
}
