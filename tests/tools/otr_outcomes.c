/* otr-outcomes: writes outcomes for a chosen UTC day straight into a spool, for the agent
 * tests (which need finished days) and the report benchmark.
 *   otr-outcomes SPOOL DAY < datagrams      one libtlsrpt datagram (JSON) per line, each
 *                                           decoded and stored, received during DAY
 *   otr-outcomes --bench SPOOL DAY N DOMAINS
 *                                           N synthetic outcomes over DOMAINS report
 *                                           domains, 5% failures with varied details
 *   otr-outcomes --scan SPOOL DAY           reads, CRC-checks and decodes every outcome
 *                                           of DAY and aggregates nothing: the limit of
 *                                           report building (bench/report_build.sh) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "dgram.h"
#include "msg.h"
#include "spool.h"
#include "vstring.h"

static unsigned long long otr_rng = 88172645463325252ULL;

static unsigned long long otr_rand(void)
{
    otr_rng ^= otr_rng << 13;
    otr_rng ^= otr_rng >> 7;
    otr_rng ^= otr_rng << 17;
    return otr_rng;
}

static int otr_datagrams(spool_writer *w, time_t start)
{
    dgram_decoder *d = dgram_decoder_new();
    outcome o;
    char line[65536];
    unsigned long n = 0, bad = 0;

    outcome_init(&o);
    while (fgets(line, sizeof(line), stdin)) {
        size_t len = strcspn(line, "\n");
        if (len == 0)
            continue;
        if (dgram_decode(d, line, len, &o, NULL) != DGRAM_OK) {
            bad++;
            continue;
        }
        o.received = start + (time_t)(n % 86400);
        o.source = OUTCOME_SRC_DGRAM;
        spool_append(w, &o);
        n++;
    }
    outcome_done(&o);
    dgram_decoder_free(d);
    fprintf(stderr, "otr-outcomes: %lu stored, %lu undecodable\n", n, bad);
    return bad ? 1 : 0;
}

static const char *const otr_reasons[] = {"self-signed certificate", "certificate has expired",
                                          "hostname mismatch",       "unable to get local issuer",
                                          "handshake failure",       "no shared cipher"};
static const int otr_codes[] = {201, 202, 203, 204, 205, 301, 302, 303, 304, 305};

static void otr_bench(spool_writer *w, time_t start, unsigned long n, unsigned long domains)
{
    outcome o;
    char dom[64], mx[80], pdom[64], sip[32], rip[32], helo[96];
    const char *sts_strings[] = {"version: STSv1", "mode: enforce", NULL, "max_age: 604800"};
    char mxline[96];
    const char *mxhosts[1];
    outcome_policy pol;
    outcome_failure fail;

    outcome_init(&o);
    for (unsigned long i = 0; i < n; i++) {
        /* Zipf-like: a few domains get most mail, like real traffic. */
        unsigned long r = (unsigned long)(otr_rand() % domains);
        unsigned long k = (unsigned long)(otr_rand() % 4) == 0 ? r : r % (domains / 10 + 1);
        snprintf(dom, sizeof(dom), "d%lu.example", k);
        int type = k % 3 == 0   ? OUTCOME_POLICY_STS
                   : k % 3 == 1 ? OUTCOME_POLICY_TLSA
                                : OUTCOME_POLICY_NONE;
        memset(&pol, 0, sizeof(pol));
        pol.type = type;
        if (type == OUTCOME_POLICY_STS) {
            snprintf(mxline, sizeof(mxline), "mx: *.mx.d%lu.example", k);
            sts_strings[2] = mxline;
            pol.domain = dom;
            pol.strings = sts_strings;
            pol.nstrings = 4;
            snprintf(mx, sizeof(mx), "*.mx.d%lu.example", k);
            mxhosts[0] = mx;
            pol.mx_hosts = mxhosts;
            pol.nmx_hosts = 1;
        } else if (type == OUTCOME_POLICY_TLSA) {
            static const char *tlsa[1] = {
                "3 1 1 1F850A337E6DB9C609C522D136A475638CC43E1ED424F8EEC8513D747D1D085D"};
            snprintf(pdom, sizeof(pdom), "mx%lu.d%lu.example", k % 2, k);
            pol.domain = pdom;
            pol.strings = tlsa;
            pol.nstrings = 1;
        }
        if (otr_rand() % 100 < 5) {
            memset(&fail, 0, sizeof(fail));
            unsigned long v = (unsigned long)otr_rand();
            fail.result = otr_codes[v % (sizeof(otr_codes) / sizeof(otr_codes[0]))];
            snprintf(sip, sizeof(sip), "192.0.2.%lu", 1 + (v >> 8) % 4);
            snprintf(rip, sizeof(rip), "198.51.%lu.%lu", (v >> 12) % 4, 1 + (v >> 16) % 250);
            snprintf(mx, sizeof(mx), "mx%lu.d%lu.example", (v >> 24) % 3, k);
            snprintf(helo, sizeof(helo), "250 mx%lu.d%lu.example", (v >> 24) % 3, k);
            fail.sending_ip = sip;
            fail.receiving_ip = rip;
            fail.mx_hostname = mx;
            fail.mx_helo = (v >> 30) % 2 ? helo : NULL;
            fail.reason_code =
                otr_reasons[(v >> 32) % (sizeof(otr_reasons) / sizeof(otr_reasons[0]))];
            pol.failed = 1;
            pol.failures = &fail;
            pol.nfailures = 1;
        }
        o.received = start + (time_t)(i % 86400);
        o.source = OUTCOME_SRC_DGRAM;
        o.domain = dom;
        o.record = "v=TLSRPTv1; rua=mailto:tlsrpt@example.net";
        o.policies = &pol;
        o.npolicies = 1;
        spool_append(w, &o);
        if (i % 65536 == 0)
            spool_flush(w, 0);
    }
    o.policies = NULL;
    o.npolicies = 0;
    outcome_done(&o);
}

static int otr_count(const outcome *o, void *ctx)
{
    (void)o;
    (*(unsigned long long *)ctx)++;
    return 0;
}

/* The bare scan: the spool's own iteration (framing, CRC, decoding), nothing kept. */
static int otr_scan(const char *dir, const char *day)
{
    struct timespec t0, t1;
    unsigned long long n = 0;
    spool *s = spool_open(dir);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int r = spool_iterate_day(s, day, otr_count, &n, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    spool_close(s);
    if (r < 0) {
        fprintf(stderr, "otr-outcomes: cannot read %s\n", day);
        return 1;
    }
    printf("outcomes=%llu seconds=%.3f\n", n,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}

int main(int argc, char **argv)
{
    msg_open("otr-outcomes", MSG_TO_STDERR);
    if (argc == 4 && strcmp(argv[1], "--scan") == 0)
        return otr_scan(argv[2], argv[3]);
    int bench = argc > 1 && strcmp(argv[1], "--bench") == 0;
    if (argc != (bench ? 6 : 3)) {
        fprintf(stderr, "usage: otr-outcomes SPOOL DAY < datagrams\n"
                        "       otr-outcomes --bench SPOOL DAY N DOMAINS\n"
                        "       otr-outcomes --scan SPOOL DAY\n");
        return 2;
    }
    char **a = argv + bench;
    time_t start = spool_day_parse(a[2]);
    if (start < 0) {
        fprintf(stderr, "otr-outcomes: bad day %s\n", a[2]);
        return 2;
    }
    spool *s = spool_open(a[1]);
    /* A role name of our own: the daemon's writers are never disturbed. */
    spool_writer *w = spool_writer_open(s, bench ? "bench" : "test");
    int status = 0;
    if (bench)
        otr_bench(w, start, strtoul(a[3], NULL, 10), strtoul(a[4], NULL, 10));
    else
        status = otr_datagrams(w, start);
    spool_writer_close(w);
    spool_close(s);
    return status;
}
