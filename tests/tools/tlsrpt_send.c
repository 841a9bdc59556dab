/*
 * tlsrpt-send: sends libtlsrpt datagrams the way Postfix 3.10 does (a new unix datagram
 * socket per outcome, sendto with MSG_DONTWAIT, no retry), from several processes, paced or
 * flat out, and counts exactly what the kernel accepted and refused. Used by the tests, the
 * README demo and the benchmarks.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

typedef struct {
    const char *socket;
    long count; /* per process */
    int procs;
    double rate;  /* total per second; 0: flat out */
    int blocking; /* retry on EAGAIN (a benchmark of sustained intake, not Postfix) */
    int reuse;    /* one socket per process (measures the receiver, not socket()) */
    int ndomains;
    unsigned seed;
    const char *record; /* write each accepted datagram to record.N (N = process) */
    char **files;
    int nfiles;
} send_opts;

static const int fail_codes[] = {201, 202, 203, 204, 205, 301, 302, 303, 304, 305, 306};

/* A realistic outcome: 90% success; failures of every type; STS, TLSA and no policy. */
static void synth(vstring *out, unsigned *rs, int ndomains)
{
    int d = (int)(rand_r(rs) % (unsigned)ndomains);
    int kind = d % 3; /* a domain keeps its policy type */
    int fail = rand_r(rs) % 10 == 0;
    int code = fail_codes[rand_r(rs) % (sizeof(fail_codes) / sizeof(fail_codes[0]))];
    int mx = rand_r(rs) % 2 + 1;

    if (kind == 0 && (code == 304 || code == 305 || code == 306))
        code = 204;
    if (kind == 1 && code >= 301 && code <= 303)
        code = 304;
    if (kind == 2 && code >= 301)
        code = 201;
    vstring_reset(out);
    vstring_sprintf_append(out,
                           "{\"dpv\": \"1\",\"d\": \"d%d.example\",\"pr\": \"v=TLSRPTv1; "
                           "rua=mailto:tlsrpt@d%d.example\",\"policies\":[{",
                           d, d);
    if (kind == 0)
        vstring_sprintf_append(out,
                               "\"policy-type\":2,\"policy-domain\": \"d%d.example\","
                               "\"policy-string\":[\"version: STSv1\",\"mode: enforce\","
                               "\"mx: *.d%d.example\",\"max_age: 86400\"],"
                               "\"mx-host\":[\"*.d%d.example\"]",
                               d, d, d);
    else if (kind == 1)
        vstring_sprintf_append(out,
                               "\"policy-type\":1,\"policy-domain\": \"mx%d.d%d.example\","
                               "\"policy-string\":[\"3 1 1 %064X\"]",
                               mx, d, (unsigned)d);
    else
        vstring_append_str(out, "\"policy-type\":9");
    if (fail)
        vstring_sprintf_append(out,
                               ",\"failure-details\":[{\"c\":%d,\"s\": \"192.0.2.%d\","
                               "\"n\": \"mx%d.d%d.example\",\"h\": \"250-mx%d.d%d.example\\r\\n"
                               "250 STARTTLS\",\"r\": \"198.51.100.%d\"%s}]",
                               code, 1 + rand_r(rs) % 4, mx, d, mx, d, mx,
                               code == 205 ? ",\"f\": \"self-signed_certificate\"" : "");
    vstring_sprintf_append(out, ",\"t\":%d,\"f\":%d}]}", fail, fail);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sender(const send_opts *o, int id, int result_fd)
{
    struct sockaddr_un sun;
    unsigned rs = o->seed * 7919u + (unsigned)id;
    vstring *msg = vstring_alloc(0), **files = NULL;
    long accepted = 0, refused = 0, other = 0;
    FILE *rec = NULL;
    double start = now_s(), per = o->rate > 0 ? o->procs / o->rate : 0;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", o->socket);
    if (o->record) {
        char path[4096];
        snprintf(path, sizeof(path), "%s.%d", o->record, id);
        rec = fopen(path, "w");
        if (rec == NULL)
            msg_fatal("%s: %m", path);
    }
    if (o->nfiles) {
        files = mymalloc((size_t)o->nfiles * sizeof(*files));
        for (int i = 0; i < o->nfiles; i++) {
            files[i] = vstring_alloc(0);
            if (fsutil_read_file(o->files[i], files[i], 1 << 20) < 0)
                msg_fatal("%s: %m", o->files[i]);
        }
    }
    for (long i = 0; i < o->count; i++) {
        vstring *m = msg;
        if (files)
            m = files[(i * o->procs + id) % o->nfiles];
        else
            synth(msg, &rs, o->ndomains);
        if (per > 0) {
            double due = start + i * per, t = now_s();
            if (due > t) {
                struct timespec ts = {(time_t)(due - t),
                                      (long)((due - t - (time_t)(due - t)) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        /* As libtlsrpt: a fresh socket for every datagram (unless --reuse). */
        static int fd = -1;
        if (fd < 0)
            fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            msg_fatal("socket: %m");
        for (;;) {
            ssize_t n =
                sendto(fd, m->data, m->len, MSG_DONTWAIT, (struct sockaddr *)&sun, sizeof(sun));
            if (n >= 0) {
                accepted++;
                if (rec) {
                    fwrite(m->data, 1, m->len, rec);
                    fputc('\n', rec);
                }
            } else if (errno == EAGAIN && o->blocking) {
                struct timespec ts = {0, 20000};
                nanosleep(&ts, NULL);
                continue;
            } else if (errno == EAGAIN || errno == ECONNREFUSED || errno == ENOENT) {
                refused++;
            } else {
                other++;
            }
            break;
        }
        if (!o->reuse) {
            close(fd);
            fd = -1;
        }
    }
    if (rec)
        fclose(rec);
    char line[128];
    int len = snprintf(line, sizeof(line), "%ld %ld %ld\n", accepted, refused, other);
    fsutil_write_all(result_fd, line, (size_t)len);
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"socket", required_argument, NULL, 's'},  {"procs", required_argument, NULL, 'P'},
        {"count", required_argument, NULL, 'n'},   {"rate", required_argument, NULL, 'r'},
        {"domains", required_argument, NULL, 'd'}, {"seed", required_argument, NULL, 'S'},
        {"record", required_argument, NULL, 'R'},  {"blocking", no_argument, NULL, 'b'},
        {"reuse", no_argument, NULL, 'u'},         {NULL, 0, NULL, 0},
    };
    send_opts o = {NULL, 1000, 1, 0, 0, 0, 1000, 1, NULL, NULL, 0};
    int ch, pipefd[2];

    msg_open("tlsrpt-send", MSG_TO_STDERR);
    while ((ch = getopt_long(argc, argv, "s:P:n:r:d:S:R:bu", lopts, NULL)) != -1) {
        switch (ch) {
        case 's':
            o.socket = optarg;
            break;
        case 'P':
            o.procs = (int)strtol(optarg, NULL, 10);
            break;
        case 'n':
            o.count = strtol(optarg, NULL, 10);
            break;
        case 'r':
            o.rate = strtod(optarg, NULL);
            break;
        case 'd':
            o.ndomains = (int)strtol(optarg, NULL, 10);
            break;
        case 'S':
            o.seed = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'R':
            o.record = optarg;
            break;
        case 'b':
            o.blocking = 1;
            break;
        case 'u':
            o.reuse = 1;
            break;
        default:
            fprintf(stderr, "usage: tlsrpt-send -s SOCKET [-P procs] [-n count/proc] [-r rate/s] "
                            "[-d domains] [-S seed] [-R record-prefix] [-b] [-u] [FILE...]\n");
            return 2;
        }
    }
    if (o.socket == NULL || o.procs < 1 || o.procs > 256 || o.count < 0 || o.ndomains < 1)
        msg_fatal("bad arguments; see --help");
    o.files = argv + optind;
    o.nfiles = argc - optind;
    if (pipe(pipefd) < 0)
        msg_fatal("pipe: %m");
    double start = now_s();
    for (int i = 0; i < o.procs; i++) {
        pid_t pid = fork();
        if (pid < 0)
            msg_fatal("fork: %m");
        if (pid == 0) {
            close(pipefd[0]);
            sender(&o, i, pipefd[1]);
            _exit(0);
        }
    }
    close(pipefd[1]);
    long acc = 0, ref = 0, oth = 0, a, r, x;
    FILE *fp = fdopen(pipefd[0], "r");
    while (fscanf(fp, "%ld %ld %ld", &a, &r, &x) == 3) {
        acc += a;
        ref += r;
        oth += x;
    }
    fclose(fp);
    while (wait(NULL) > 0)
        ;
    double secs = now_s() - start;
    printf("sent=%ld accepted=%ld refused=%ld errors=%ld seconds=%.3f rate=%.0f\n", acc + ref + oth,
           acc, ref, oth, secs, secs > 0 ? (acc + ref + oth) / secs : 0.0);
    return oth ? 1 : 0;
}
