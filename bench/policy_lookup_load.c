/*
 * Load generator for socketmap policy services: N clients (threads), each on its own
 * connection like a Postfix smtp(8) process, send "<map> <domain>" netstring lookups
 * back to back for a duration and time each answer. Prints requests/s and latency
 * percentiles. Standalone (no project code), so it can measure any socketmap server.
 *   policy_lookup_load unix:/path|inet:host:port MAP SECONDS CLIENTS DOMAIN...
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BUCKETS 100000 /* 1 us each, up to 100 ms; slower goes in the last */

static const char *target, *map;
static char **domains;
static int ndomains;
static double seconds;
static atomic_int failed;

typedef struct {
    int id;
    unsigned long long n;
    unsigned *hist;
} worker;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(void)
{
    int fd;
    if (strncmp(target, "unix:", 5) == 0) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", target + 5);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            return -1;
        return fd;
    }
    char host[64];
    const char *colon = strrchr(target + 5, ':');
    if (strncmp(target, "inet:", 5) != 0 || !colon || colon - (target + 5) >= (long)sizeof(host))
        return -1;
    memcpy(host, target + 5, (size_t)(colon - (target + 5)));
    host[colon - (target + 5)] = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)strtol(colon + 1, NULL, 10))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return -1;
    return fd;
}

static void *run(void *arg)
{
    worker *w = arg;
    char req[600], buf[65536];
    int fd = dial();
    if (fd < 0) {
        perror(target);
        atomic_fetch_add(&failed, 1);
        return NULL;
    }
    double end = now_s() + seconds;
    unsigned long long i = (unsigned long long)w->id;
    for (;;) {
        const char *d = domains[i++ % (unsigned long long)ndomains];
        int plen = snprintf(req + 16, sizeof(req) - 16, "%s %s", map, d);
        char head[16];
        int hlen = snprintf(head, sizeof(head), "%d:", plen);
        char *msg = req + 16 - hlen;
        memcpy(msg, head, (size_t)hlen);
        req[16 + plen] = ',';
        double t0 = now_s();
        if (t0 >= end)
            break;
        if (write(fd, msg, (size_t)(hlen + plen + 1)) != hlen + plen + 1)
            goto bad;
        /* Read one whole netstring answer. */
        size_t have = 0, want = 0;
        for (;;) {
            ssize_t r = read(fd, buf + have, sizeof(buf) - have);
            if (r <= 0)
                goto bad;
            have += (size_t)r;
            char *c = memchr(buf, ':', have);
            if (c && !want)
                want = (size_t)strtoul(buf, NULL, 10) + (size_t)(c - buf) + 2;
            if (want && have >= want)
                break;
            if (have == sizeof(buf))
                goto bad;
        }
        double us = (now_s() - t0) * 1e6;
        size_t b = us >= BUCKETS ? BUCKETS - 1 : (size_t)us;
        w->hist[b]++;
        w->n++;
    }
    close(fd);
    return NULL;
bad:
    fprintf(stderr, "client %d: connection failed after %llu lookups\n", w->id, w->n);
    atomic_fetch_add(&failed, 1);
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s unix:/path|inet:host:port MAP SECONDS CLIENTS DOMAIN...\n",
                argv[0]);
        return 2;
    }
    target = argv[1];
    map = argv[2];
    seconds = strtod(argv[3], NULL);
    int n = atoi(argv[4]) > 0 ? atoi(argv[4]) : 1;
    domains = argv + 5;
    ndomains = argc - 5;
    worker *ws = calloc((size_t)n, sizeof(*ws));
    pthread_t *th = calloc((size_t)n, sizeof(*th));
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        ws[i].id = i;
        ws[i].hist = calloc(BUCKETS, sizeof(unsigned));
        pthread_create(&th[i], NULL, run, &ws[i]);
    }
    unsigned long long total = 0;
    unsigned *hist = calloc(BUCKETS, sizeof(unsigned));
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        total += ws[i].n;
        for (size_t b = 0; b < BUCKETS; b++)
            hist[b] += ws[i].hist[b];
    }
    double el = now_s() - t0;
    double pct[] = {50, 99, 99.9};
    unsigned long long seen = 0;
    size_t k = 0, b = 0;
    double at[3] = {0, 0, 0};
    for (; b < BUCKETS && k < 3; b++) {
        seen += hist[b];
        while (k < 3 && total && (double)seen >= total * pct[k] / 100.0)
            at[k++] = (double)b + 1;
    }
    printf("lookups %llu\nrequests_per_second %.0f\np50_us %.0f\np99_us %.0f\np999_us "
           "%.0f\nfailed_clients %d\n",
           total, (double)total / el, at[0], at[1], at[2], atomic_load(&failed));
    return atomic_load(&failed) ? 1 : 0;
}
