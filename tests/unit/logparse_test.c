/* Mail log parser: each tests/data/logs/NAME.log (real Postfix 3.7 captures, a real sendmail
 * 8.17 capture by tests/log_sendmail.sh, sendmail lines from its documented formats) against
 * NAME.expect, one line per outcome plus the counters.
 * NAME.sts, when present, lists domains the MTA-STS policy service applied a policy to
 * (see sts_lookup); NAME.fail lines "domain result reason" are MTA-STS fetches the policy
 * service recorded as failed (in a scratch spool), joined to the sessions.
 * Classic timestamps are read as UTC relative to 2026-11-23. OTR_REGEN=1 rewrites .expect
 * and fails (golden.h). */
#include <stdlib.h>
#include <time.h>

#include "fsutil.h"
#include "golden.h"
#include "logparse.h"
#include "mymalloc.h"
#include "sts_cache.h"
#include "t.h"

static void emit(const outcome *o, void *ctx)
{
    vstring *out = ctx;
    const outcome_policy *p = &o->policies[0];
    char day[32];
    struct tm tm;
    time_t t = o->received;

    gmtime_r(&t, &tm);
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    vstring_sprintf_append(out, "%s %s %s %s", day, o->domain, outcome_policy_name(p->type),
                           p->domain ? p->domain : "-");
    for (size_t i = 0; i < p->nstrings; i++)
        vstring_sprintf_append(out, " [%s]", p->strings[i]);
    if (!p->failed) {
        vstring_append_str(out, " ok\n");
        return;
    }
    const outcome_failure *f = &p->failures[0];
    vstring_sprintf_append(out, " %s %s %s %s\n", outcome_result_name(f->result),
                           f->mx_hostname ? f->mx_hostname : "-",
                           f->receiving_ip ? f->receiving_ip : "-",
                           f->reason_code ? f->reason_code : "-");
}

static vstring *sts_domains;

/* A line of NAME.sts is "domain [mode [mx-pattern...]]": mode defaults to enforce, the mx
 * patterns to "*.domain" (then left out of the policy strings). */
static int sts_lookup(void *ctx, const char *day, const char *domain, arena *mem, logparse_sts *out)
{
    (void)ctx;
    (void)day;
    for (const char *p = sts_domains ? sts_domains->data : ""; *p; p++) {
        const char *nl = strchr(p, '\n');
        size_t dl = strlen(domain);
        if (nl == NULL)
            nl = p + strlen(p);
        if ((size_t)(nl - p) < dl || memcmp(p, domain, dl) != 0 || (p[dl] != ' ' && p + dl != nl)) {
            p = *nl ? nl : nl - 1;
            continue;
        }
        char *f[16];
        size_t nf = 0;
        char *line = arena_strndup(mem, p, (size_t)(nl - p));
        for (char *tok = strtok(line, " "); tok && nf < 16; tok = strtok(NULL, " "))
            f[nf++] = tok;
        out->strings = arena_alloc(mem, (nf + 2) * sizeof(char *));
        out->strings[0] = "version: STSv1";
        char *mode = arena_alloc(mem, 64);
        snprintf(mode, 64, "mode: %s", nf > 1 ? f[1] : "enforce");
        out->strings[1] = mode;
        out->nstrings = 2;
        out->mx = arena_alloc(mem, (nf + 1) * sizeof(char *));
        out->nmx = 0;
        for (size_t i = 2; i < nf; i++) {
            char *mx = arena_alloc(mem, 300);
            snprintf(mx, 300, "mx: %s", f[i]);
            out->strings[out->nstrings++] = mx;
            out->mx[out->nmx++] = f[i];
        }
        if (out->nmx == 0) {
            char *wild = arena_alloc(mem, 300);
            snprintf(wild, 300, "*.%s", domain);
            out->mx[out->nmx++] = wild;
        }
        return 1;
    }
    return 0;
}

/* TLSA records as the resolver would give them (DNSSEC-validated), naming what was asked
 * for: for every MX, or with a NAME.tlsa file for the hosts it lists only. */
static size_t tlsa_lookup(void *ctx, const char *host, unsigned port, arena *mem, const char ***out)
{
    char rr[300];
    const vstring *hosts = ctx;

    if (hosts) {
        size_t n = strlen(host);
        const char *p = hosts->data;
        while ((p = strstr(p, host)) != NULL &&
               !((p == hosts->data || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0)))
            p += n;
        if (p == NULL)
            return 0;
    }
    snprintf(rr, sizeof(rr), "3 1 1 %s:%u", host, port);
    *out = arena_alloc(mem, sizeof(char *));
    (*out)[0] = arena_strdup(mem, rr);
    return 1;
}

static void run_case(const char *dir, const char *name, vstring *got, void *ctx)
{
    char path[4096];
    vstring *in = vstring_alloc(0);
    logparse *lp = logparse_new(strstr(name, "sendmail") ? LOGPARSE_SENDMAIL : LOGPARSE_POSTFIX,
                                OUTCOME_SRC_IMPORT, emit, got);

    (void)ctx;
    logparse_set_now(lp, 1795392000); /* 2026-11-23T00:00:00Z */
    snprintf(path, sizeof(path), "%s/%s.sts", dir, name);
    sts_domains = vstring_alloc(0);
    if (fsutil_read_file(path, sts_domains, 1 << 20) < 0)
        vstring_reset(sts_domains);
    logparse_set_sts(lp, sts_lookup, NULL);
    snprintf(path, sizeof(path), "%s/%s.tlsa", dir, name);
    vstring *tlsa_hosts = vstring_alloc(0);
    int have_tlsa = fsutil_read_file(path, tlsa_hosts, 1 << 20) == 0;
    logparse_set_tlsa(lp, tlsa_lookup, have_tlsa ? tlsa_hosts : NULL);
    snprintf(path, sizeof(path), "%s/%s.fail", dir, name);
    vstring *fails = vstring_alloc(0);
    char spool[] = "/tmp/logparse_test.XXXXXX";
    if (fsutil_read_file(path, fails, 1 << 20) == 0) {
        CHECK(mkdtemp(spool) != NULL);
        for (char *line = strtok(fails->data, "\n"); line; line = strtok(NULL, "\n")) {
            sts_cache_entry e;
            char dom[256], reason[48];
            memset(&e, 0, sizeof(e));
            CHECK(sscanf(line, "%255s %d %47s", dom, &e.failed_result, reason) == 3);
            e.failed_at = 1; /* since long before the log */
            snprintf(e.failed_id, sizeof(e.failed_id), "id1");
            snprintf(e.failed_reason, sizeof(e.failed_reason), "%s", reason);
            CHECK_INT(sts_cache_save(spool, dom, &e), 0);
        }
        logparse_set_failures(lp, sts_failures_new(spool));
    }
    snprintf(path, sizeof(path), "%s/%s.log", dir, name);
    CHECK(fsutil_read_file(path, in, GOLDEN_MAX) == 0);
    size_t used = logparse_buffer(lp, in->data, in->len);
    if (used < in->len)
        logparse_line(lp, in->data + used, in->len - used);
    logparse_finish(lp);
    const logparse_stats *st = logparse_stats_get(lp);
    vstring_sprintf_append(got,
                           "lines=%llu relevant=%llu malformed=%llu oversize=%llu outcomes=%llu "
                           "own_reports=%llu unmatched=%llu\n",
                           (unsigned long long)st->lines, (unsigned long long)st->relevant,
                           (unsigned long long)st->malformed, (unsigned long long)st->oversize,
                           (unsigned long long)st->outcomes, (unsigned long long)st->own_reports,
                           (unsigned long long)st->unmatched);
    logparse_free(lp);
    if (fails->len)
        t_rmtree(spool);
    vstring_free(fails);
    vstring_free(tlsa_hosts);
    vstring_free(sts_domains);
    sts_domains = NULL;
    vstring_free(in);
}

static void test_time(void)
{
    static const struct {
        const char *in;
        long long want;
    } cases[] = {
        {"2026-11-22T21:43:05.123456+00:00 h", 1795383785},
        {"2026-11-22T22:43:05+01:00 h", 1795383785},
        {"2026-11-22T21:43:05Z", 1795383785},
        {"Nov 22 21:43:05 h", 1795383785},
        {"Dec 31 23:59:59 h", 1767225599}, /* a week ahead of now: last year */
        {"Nov  2 00:00:00 h", 1793577600},
        {"Foo 22 21:43:05 h", -1},
        {"2026-13-22T21:43:05Z", -1},
        {"2026-11-22T21:43:05", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t used = 0;
        CHECK_INT(logparse_time(cases[i].in, strlen(cases[i].in), 1795392000, &used),
                  cases[i].want);
    }
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    test_time();
    CHECK(golden_run(TEST_DATA "/logs", ".log", ".expect", run_case, NULL) >= 3);
    /* An oversize line is counted and skipped; a very long run of them costs nothing. */
    logparse *lp = logparse_new(LOGPARSE_POSTFIX, OUTCOME_SRC_LOG, emit, NULL);
    char *big = mymalloc(LOGPARSE_MAX_LINE + 2);
    memset(big, 'x', LOGPARSE_MAX_LINE + 1);
    logparse_line(lp, big, LOGPARSE_MAX_LINE + 1);
    CHECK_INT(logparse_stats_get(lp)->oversize, 1);
    myfree(big);
    logparse_free(lp);
    return t_done("logparse_test");
}
