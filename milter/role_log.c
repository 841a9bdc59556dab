/*
 * Role "log": follows the mail log of Postfix <= 3.9 or sendmail (log_follow, log_format)
 * like `tail -F`, or reads it from standard input ("-"), and stores one outcome per TLS
 * session found in it. Outcomes reach the journal within a fraction of a second; once a
 * second the journal is synced and then the position saved, so a restart resumes where
 * the stored outcomes end: lines still needed by unfinished sessions are re-read, and the
 * outcomes already stored from them are not stored again. The end of the journal is saved
 * with the position: after a SIGKILL, the outcomes written since the last save (up to a
 * second's worth) are the records past that mark, and the same number of outcomes found
 * past the saved position are not stored again, so that a kill does not store one twice.
 * One window is left: the mark names one day's journal, so the first records written to
 * another (on the very first start, at midnight, in an old log) are followed at once by a
 * save; a kill between that write and that save stores them again (one read's worth).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "logfollow.h"
#include "logparse.h"
#include "logparse_sts.h"
#include "metrics.h"
#include "msg.h"
#include "mymalloc.h"
#include "roles.h"
#include "spool.h"

#define LOG_BUF     (256 * 1024) /* holds many lines; a longer line is skipped as oversize */
#define LOG_POLL_MS 100

typedef struct {
    spool_writer *w;
    uint64_t line_end;      /* stream position just after the line being parsed */
    uint64_t stored_before; /* outcomes of lines ending at or before it are stored */
    uint64_t stored_after;  /* and this many outcomes of the lines after it */
    uint64_t stored;
    uint64_t replayed; /* outcomes re-found after a restart, not stored again */
    int dirty;
} log_sink;

static int log_enabled(const config *cfg)
{
    return *cfg->log_follow != 0;
}

static int log_prepare(const config *cfg, const config *old, role_ctx *ctx)
{
    /* The file is opened by path in the child (rotation needs the path anyway): the user
     * must be able to read it (Debian: group adm). */
    (void)cfg;
    (void)old;
    (void)ctx;
    return 0;
}

static void log_emit(const outcome *o, void *ctx)
{
    log_sink *s = ctx;

    if (s->stored_before && LOGFOLLOW_GEN(s->line_end) == 0 && s->line_end <= s->stored_before) {
        s->replayed++;
        return;
    }
    /* Re-reading from the same position finds the same outcomes in the same order. */
    if (s->stored_after) {
        s->stored_after--;
        s->replayed++;
        return;
    }
    spool_append(s->w, o);
    s->stored++;
    counter_add(&metrics->log.sessions, 1);
    s->dirty = 1;
}

/* Parses the complete lines of buf[0..len) starting at stream position pos; returns the
 * bytes consumed. */
static size_t log_lines(logparse *lp, log_sink *s, const char *buf, size_t len, uint64_t pos)
{
    size_t off = 0;

    while (off < len) {
        const char *nl = memchr(buf + off, '\n', len - off);
        if (nl == NULL)
            break;
        size_t end = (size_t)(nl - buf) + 1;
        logparse_mark(lp, pos + off);
        s->line_end = pos + end;
        logparse_line(lp, buf + off, end - off - 1);
        off = end;
    }
    return off;
}

/* Syncs the journal and saves the position reached with the journal's end (into saved):
 * what is stored ends at bufpos; unfinished sessions need older lines. Until the outcomes
 * stored past the saved position are all found again, that position and its mark still
 * describe the journal, and a new one would not: nothing is saved meanwhile. */
static void log_save(log_sink *s, logfollow *f, logparse *lp, uint64_t bufpos, char *saved,
                     size_t size)
{
    if (s->stored_after || spool_flush(s->w, 1) < 0)
        return;
    char mark[LOGFOLLOW_NOTE_MAX + 1];
    spool_writer_mark(s->w, saved, mark, sizeof(mark));
    logfollow_save(f, logparse_oldest(lp, bufpos), bufpos, mark);
    snprintf(saved, size, "%s", mark);
}

/* Adds to the shared counters what the parser counted since the last call (once a second:
 * nothing per line). */
static void log_publish(const logparse_stats *st, logparse_stats *last, logfollow *f)
{
    counter_add(&metrics->log.lines, st->lines - last->lines);
    counter_add(&metrics->log.relevant, st->relevant - last->relevant);
    counter_add(&metrics->log.malformed, st->malformed - last->malformed);
    *last = *st;
    counter_set(&metrics->log.lag_bytes, logfollow_behind(f));
}

static int log_run(const config *cfg, role_ctx *ctx)
{
    (void)ctx;
    spool *sp = spool_open(cfg->spool_directory);
    log_sink sink = {spool_writer_open(sp, "log"), 0, 0, 0, 0, 0, 0};
    logparse_stats published;
    memset(&published, 0, sizeof(published));
    spool_writer_count(sink.w, &metrics->role[METRICS_LOG].spool);
    spool_writer_set_max(sink.w, cfg->journal_max_size);
    logfollow *f = logfollow_open(cfg->log_follow, spool_dir(sp));
    logparse *lp = logparse_new(strcmp(cfg->log_format, "sendmail") == 0 ? LOGPARSE_SENDMAIL
                                                                         : LOGPARSE_POSTFIX,
                                OUTCOME_SRC_LOG, log_emit, &sink);
    /* The TLSA records of a DANE session's MX are the policy strings of its report. */
    dns_resolver *dns = logparse_sts_setup(lp, cfg, spool_dir(sp));
    sink.stored_before = logfollow_done(f);
    sink.stored_after = spool_records_after(sp, "log", logfollow_note(f));
    if (sink.stored_after)
        msg_info("log: %llu outcome(s) were stored after the last saved position",
                 (unsigned long long)sink.stored_after);
    char mark[LOGFOLLOW_NOTE_MAX + 1], saved[LOGFOLLOW_NOTE_MAX + 1];
    snprintf(saved, sizeof(saved), "%s", logfollow_note(f));
    char *buf = mymalloc(LOG_BUF);
    size_t have = 0;
    uint64_t bufpos = logfollow_pos(f); /* stream position of buf[0] */
    int skipping = 0;                   /* inside a line longer than LOG_BUF */
    time_t last_save = time(NULL);

    msg_info("log: following %s (%s format)", cfg->log_follow, cfg->log_format);
    while (!role_stop) {
        ssize_t n = logfollow_read(f, buf + have, LOG_BUF - have, LOG_POLL_MS);
        if (n < 0) {
            msg_info("log: end of input");
            break;
        }
        if (n > 0) {
            uint64_t start = logfollow_pos(f) - (uint64_t)n;
            counter_set(&metrics->log.last_read, (uint64_t)time(NULL));
            if (have && LOGFOLLOW_GEN(start) != LOGFOLLOW_GEN(bufpos)) {
                /* A new file: the old one's last line had no newline. */
                logparse_mark(lp, bufpos);
                sink.line_end = bufpos + have;
                if (!skipping)
                    logparse_line(lp, buf, have);
                memmove(buf, buf + have, (size_t)n);
                have = 0;
                skipping = 0;
            }
            if (have == 0)
                bufpos = start;
            have += (size_t)n;
            size_t used = 0;
            if (skipping) {
                const char *nl = memchr(buf, '\n', have);
                used = nl ? (size_t)(nl - buf) + 1 : have;
                skipping = nl == NULL;
            }
            used += log_lines(lp, &sink, buf + used, have - used, bufpos + used);
            if (used == 0 && have == LOG_BUF) {
                logparse_line(lp, buf, have); /* counted as oversize */
                used = have;
                skipping = 1;
            }
            memmove(buf, buf + used, have - used);
            have -= used;
            bufpos += used;
        }
        time_t now = time(NULL);
        if (sink.dirty || now != last_save) {
            int ok = spool_flush(sink.w, 0) == 0;
            spool_writer_mark(sink.w, saved, mark, sizeof(mark));
            /* Records in a journal the saved mark does not name (the first ones written,
             * or another day's) would be stored again after a kill: save at once then. */
            if (ok && (now != last_save || strncmp(mark, saved, SPOOL_DAY_LEN) != 0 || !*saved))
                log_save(&sink, f, lp, bufpos, saved, sizeof(saved));
            sink.dirty = 0;
            if (now != last_save) {
                last_save = now;
                log_publish(logparse_stats_get(lp), &published, f);
            }
        }
    }
    log_save(&sink, f, lp, bufpos, saved, sizeof(saved));
    const logparse_stats *st = logparse_stats_get(lp);
    log_publish(st, &published, f);
    const spool_writer_stats *ws = spool_writer_stats_get(sink.w);
    msg_info("log: stopping: lines=%llu relevant=%llu outcomes=%llu stored=%llu written=%llu "
             "lost_on_write=%llu replayed=%llu malformed=%llu oversize=%llu own_reports=%llu "
             "unmatched=%llu state_full=%llu",
             (unsigned long long)st->lines, (unsigned long long)st->relevant,
             (unsigned long long)st->outcomes, (unsigned long long)sink.stored,
             (unsigned long long)ws->written, (unsigned long long)ws->lost,
             (unsigned long long)sink.replayed, (unsigned long long)st->malformed,
             (unsigned long long)st->oversize, (unsigned long long)st->own_reports,
             (unsigned long long)st->unmatched, (unsigned long long)st->state_full);
    myfree(buf);
    logparse_free(lp);
    dns_resolver_free(dns);
    logfollow_close(f);
    spool_writer_close(sink.w);
    spool_close(sp);
    return 0;
}

const role_ops role_log = {
    .name = "log",
    .enabled = log_enabled,
    .prepare = log_prepare,
    .run = log_run,
};
