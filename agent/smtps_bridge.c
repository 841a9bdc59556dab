/* A one-session bridge from plain SMTP on 127.0.0.1 to a relay that wants implicit TLS. */
#include "smtps_bridge.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "mymalloc.h"

struct smtps_bridge {
    int listen_fd;
    char host[256], port[32];
    SSL_CTX *ctx;
    int timeout_ms;
    pthread_t thread;
    char problem[512];
};

static void smtps_problem(smtps_bridge *b, const char *what, const char *detail)
{
    if (b->problem[0] == 0)
        snprintf(b->problem, sizeof(b->problem), "%.100s%s%.150s", what, detail ? ": " : "",
                 detail ? detail : "");
}

static int smtps_connect(smtps_bridge *b)
{
    struct addrinfo hints, *res, *ai;
    int fd = -1, rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if ((rc = getaddrinfo(b->host, b->port, &hints, &res)) != 0) {
        smtps_problem(b, "cannot resolve", gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        struct timeval tv = {b->timeout_ms / 1000, (b->timeout_ms % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)); /* bounds connect too */
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        rc = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        smtps_problem(b, "cannot connect", strerror(rc));
    return fd;
}

/* Writes all of buf to the TLS connection, waiting as OpenSSL asks. */
static int smtps_ssl_write(smtps_bridge *b, SSL *ssl, int fd, const char *buf, size_t len)
{
    while (len > 0) {
        int n = SSL_write(ssl, buf, (int)len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        int e = SSL_get_error(ssl, n);
        struct pollfd p = {fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 0};
        if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
            poll(&p, 1, b->timeout_ms) <= 0)
            return -1;
    }
    return 0;
}

/* Copies both ways until either side closes, a side fails, or nothing moves in time. */
static void smtps_pump(smtps_bridge *b, int client, SSL *ssl, int relay)
{
    char buf[16384];

    for (;;) {
        /* Records OpenSSL already holds never show up in poll: drain them first. */
        for (;;) {
            int n = SSL_read(ssl, buf, sizeof(buf));
            if (n > 0) {
                if (write(client, buf, (size_t)n) != n)
                    return;
                continue;
            }
            int e = SSL_get_error(ssl, n);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                break;
            return; /* closed by the relay, or an error */
        }
        struct pollfd p[2] = {{client, POLLIN, 0}, {relay, POLLIN, 0}};
        int r = poll(p, 2, b->timeout_ms);
        if (r <= 0) {
            smtps_problem(b, "timed out", NULL);
            return;
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(client, buf, sizeof(buf));
            if (n <= 0 || smtps_ssl_write(b, ssl, relay, buf, (size_t)n) < 0)
                return;
        }
    }
}

static void *smtps_thread(void *arg)
{
    smtps_bridge *b = arg;
    struct pollfd p = {b->listen_fd, POLLIN, 0};
    int client = -1, relay = -1;
    SSL *ssl = NULL;

    if (poll(&p, 1, b->timeout_ms) <= 0 || (client = accept(b->listen_fd, NULL, NULL)) < 0) {
        smtps_problem(b, "the SMTP client never connected to the bridge", NULL);
        return NULL;
    }
    if ((relay = smtps_connect(b)) < 0)
        goto done;
    ssl = SSL_new(b->ctx);
    struct in6_addr any;
    if (ssl && inet_pton(AF_INET, b->host, &any) != 1 && inet_pton(AF_INET6, b->host, &any) != 1)
        SSL_set_tlsext_host_name(ssl, b->host);
    if (ssl == NULL || SSL_set_fd(ssl, relay) != 1 || SSL_connect(ssl) != 1) {
        long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
        unsigned long e = ERR_peek_last_error();
        if (v != X509_V_OK)
            smtps_problem(b, "relay certificate not trusted", X509_verify_cert_error_string(v));
        else
            smtps_problem(b, "TLS handshake failed",
                          e ? ERR_reason_error_string(e) : "connection closed");
        ERR_clear_error();
        goto done;
    }
    /* Non-blocking from here, so that a TLS 1.3 ticket never leaves SSL_read waiting. */
    fcntl(relay, F_SETFL, fcntl(relay, F_GETFL) | O_NONBLOCK);
    smtps_pump(b, client, ssl, relay);
    SSL_shutdown(ssl);
done:
    ERR_clear_error();
    if (ssl)
        SSL_free(ssl);
    if (relay >= 0)
        close(relay);
    close(client); /* libESMTP sees the end of the session at once */
    return NULL;
}

smtps_bridge *smtps_bridge_start(const char *host, const char *port, SSL_CTX *ctx, int timeout_ms,
                                 char *addr, size_t addrsize, char *why, size_t whylen)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    smtps_bridge *b = mycalloc(1, sizeof(*b));

    snprintf(b->host, sizeof(b->host), "%s", host);
    snprintf(b->port, sizeof(b->port), "%s", port);
    b->ctx = ctx;
    b->timeout_ms = timeout_ms;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    b->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (b->listen_fd < 0 || bind(b->listen_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
        listen(b->listen_fd, 1) < 0 ||
        getsockname(b->listen_fd, (struct sockaddr *)&sin, &sl) < 0) {
        snprintf(why, whylen, "smtps bridge: %s", strerror(errno));
        if (b->listen_fd >= 0)
            close(b->listen_fd);
        myfree(b);
        return NULL;
    }
    snprintf(addr, addrsize, "127.0.0.1:%u", (unsigned)ntohs(sin.sin_port));
    if ((errno = pthread_create(&b->thread, NULL, smtps_thread, b)) != 0) {
        snprintf(why, whylen, "smtps bridge: %s", strerror(errno));
        close(b->listen_fd);
        myfree(b);
        return NULL;
    }
    return b;
}

void smtps_bridge_finish(smtps_bridge *b, char *why, size_t whylen)
{
    /* Closing the listener ends a thread still waiting for libESMTP to connect. */
    shutdown(b->listen_fd, SHUT_RDWR);
    pthread_join(b->thread, NULL);
    close(b->listen_fd);
    snprintf(why, whylen, "%s", b->problem);
    myfree(b);
}
