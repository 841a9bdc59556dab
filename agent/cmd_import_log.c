/* opentlsrpt-agent import-log: backfill outcomes from mail log files (Postfix <= 3.9,
 * sendmail), with the parser and the policy lookups the log follower uses. Importing the same file
 * twice counts its sessions twice: the command is for logs the follower never saw. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "agent.h"
#include "dns.h"
#include "logparse.h"
#include "logparse_sts.h"
#include "msg.h"
#include "mymalloc.h"
#include "spool_store.h"

#define IMPORT_BUF         (1024 * 1024)
#define IMPORT_FLUSH_EVERY 4096 /* outcomes between journal writes */

typedef struct {
    spool_writer *w;
    size_t unflushed;
} import_sink;

static void import_emit(const outcome *o, void *ctx)
{
    import_sink *s = ctx;

    spool_append(s->w, o);
    if (++s->unflushed >= IMPORT_FLUSH_EVERY) {
        spool_flush(s->w, 0);
        s->unflushed = 0;
    }
}

/* Feeds the whole of fd to lp; returns 0, or -1 on a read error. */
static int import_fd(logparse *lp, int fd, char *buf)
{
    size_t have = 0;

    for (;;) {
        ssize_t n = read(fd, buf + have, IMPORT_BUF - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        have += (size_t)n;
        size_t used = logparse_buffer(lp, buf, have);
        if (used == 0 && have == IMPORT_BUF) {
            /* A line longer than the buffer: the parser counts it oversize; skip to its end. */
            logparse_line(lp, buf, have);
            used = have;
            for (;;) {
                n = read(fd, buf, IMPORT_BUF);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    return n < 0 ? -1 : 0;
                char *nl = memchr(buf, '\n', (size_t)n);
                if (nl) {
                    have = (size_t)n - (size_t)(nl + 1 - buf);
                    memmove(buf, nl + 1, have);
                    used = 0;
                    break;
                }
            }
            continue;
        }
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    if (have)
        logparse_line(lp, buf, have); /* a last line without its newline */
    return 0;
}

/* Prints what the parser counted since *prev (the file's share) and advances *prev. */
static void import_report(const char *name, const logparse_stats *st, logparse_stats *prev)
{
    printf("%s: lines=%llu relevant=%llu outcomes=%llu malformed=%llu oversize=%llu "
           "own_reports=%llu unmatched=%llu\n",
           name, (unsigned long long)(st->lines - prev->lines),
           (unsigned long long)(st->relevant - prev->relevant),
           (unsigned long long)(st->outcomes - prev->outcomes),
           (unsigned long long)(st->malformed - prev->malformed),
           (unsigned long long)(st->oversize - prev->oversize),
           (unsigned long long)(st->own_reports - prev->own_reports),
           (unsigned long long)(st->unmatched - prev->unmatched));
    *prev = *st;
}

int cmd_import_log(agent_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    const char *format = ctx->cfg->log_format;
    int ch, status = 0;

    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch != 'f')
            goto usage;
        format = optarg;
    }
    if (optind >= argc)
        goto usage;
    logparse_format fmt;
    if (strcmp(format, "postfix") == 0)
        fmt = LOGPARSE_POSTFIX;
    else if (strcmp(format, "sendmail") == 0)
        fmt = LOGPARSE_SENDMAIL;
    else {
        msg_error("--format: expected postfix or sendmail, got \"%s\"", format);
        return 2;
    }
    spool *sp = agent_spool(ctx);
    /* One importer at a time: the "import" journal has a single writer. */
    char lock[4096];
    spool_store_describe(spool_dir(sp), SPOOL_AREA_TOP, "import.lock", lock, sizeof(lock));
    int lfd = spool_store_lock(spool_dir(sp), SPOOL_AREA_TOP, "import.lock");
    if (lfd < 0) {
        msg_error("%s: %s", lock,
                  errno == EWOULDBLOCK ? "another import-log is running" : strerror(errno));
        return 1;
    }
    import_sink sink = {spool_writer_open(sp, "import"), 0};
    char *buf = mymalloc(IMPORT_BUF);
    /* One parser for all the files, read in the order given as one log: a session begun
     * in mail.log.1 ends in mail.log. */
    logparse *lp = logparse_new(fmt, OUTCOME_SRC_IMPORT, import_emit, &sink);
    dns_resolver *dns = logparse_sts_setup(lp, ctx->cfg, spool_dir(sp));
    logparse_stats prev;
    memset(&prev, 0, sizeof(prev));
    for (int i = optind; i < argc; i++) {
        const char *name = argv[i];
        int fd = strcmp(name, "-") == 0 ? 0 : open(name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            msg_error("%s: %m", name);
            status = 1;
            continue;
        }
        if (import_fd(lp, fd, buf) < 0) {
            msg_error("%s: read: %m", name);
            status = 1;
        }
        if (fd != 0)
            close(fd);
        if (i == argc - 1)
            logparse_finish(lp); /* what is still waiting is counted with the last file */
        import_report(name, logparse_stats_get(lp), &prev);
    }
    logparse_finish(lp);
    logparse_free(lp);
    dns_resolver_free(dns);
    myfree(buf);
    if (spool_flush(sink.w, 1) < 0)
        status = 1;
    const spool_writer_stats *ws = spool_writer_stats_get(sink.w);
    if (ws->lost) {
        msg_error("%llu outcomes could not be written to the spool", (unsigned long long)ws->lost);
        status = 1;
    }
    spool_writer_close(sink.w);
    spool_store_unlock(SPOOL_AREA_TOP, lfd);
    return fflush(stdout) == 0 ? status : 1;

usage:
    fprintf(stderr, "usage: opentlsrpt-agent import-log [--format postfix|sendmail] FILE...\n");
    return 2;
}
