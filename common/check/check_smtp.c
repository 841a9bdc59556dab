/*
 * The SMTP side of the domain check: one polite session per MX address (banner, EHLO,
 * STARTTLS, TLS handshake, QUIT) with a deadline per step, and a bounded parser for what
 * the server says. No mail is ever sent.
 */
#include "check.h"

#include "mymalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int check_smtp_parse(const char *buf, size_t len, check_smtp_reply *r, size_t *used,
                     const char **why)
{
    size_t pos = 0;

    memset(r, 0, sizeof(*r));
    *why = "";
    for (;;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t linelen = nl ? (size_t)(nl - (buf + pos)) + 1 : len - pos;
        if (linelen > CHECK_SMTP_LINE_MAX) {
            *why = "reply line too long";
            return -1;
        }
        if (nl == NULL)
            return 0;
        const char *l = buf + pos;
        size_t textlen = linelen - 1;
        if (textlen && l[textlen - 1] == '\r')
            textlen--;
        if (textlen < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '9' || l[2] < '0' ||
            l[2] > '9' || (textlen > 3 && l[3] != ' ' && l[3] != '-')) {
            *why = "not an SMTP reply line";
            return -1;
        }
        int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
        if (r->nlines && code != r->code) {
            *why = "reply code changes within a multi-line reply";
            return -1;
        }
        if (++r->nlines > CHECK_SMTP_LINES_MAX) {
            *why = "too many reply lines";
            return -1;
        }
        r->code = code;
        const char *text = l + (textlen > 3 ? 4 : 3);
        size_t tlen = textlen > 3 ? textlen - 4 : 0;
        if (r->nlines == 1) {
            size_t k = 0;
            for (; k < tlen && k + 1 < sizeof(r->first); k++)
                r->first[k] = text[k] >= 0x20 && text[k] < 0x7f ? text[k] : '?';
            r->first[k] = 0;
        }
        /* EHLO keywords are case-insensitive and may carry parameters. */
        if (tlen >= 8 && strncasecmp(text, "STARTTLS", 8) == 0 && (tlen == 8 || text[8] == ' '))
            r->starttls = 1;
        pos += linelen;
        if (textlen == 3 || l[3] == ' ') {
            *used = pos;
            return 1;
        }
        if (pos > CHECK_SMTP_REPLY_MAX) {
            *why = "reply too long";
            return -1;
        }
    }
}

static long long check_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or deadline (ms) passes: 1, 0 on timeout, -1. */
static int check_wait(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - check_now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {fd, events, 0};
        int n = poll(&p, 1, left > 1000 ? 1000 : (int)left);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

typedef struct {
    int fd;
    SSL *ssl;
    char buf[CHECK_SMTP_REPLY_MAX + CHECK_SMTP_LINE_MAX];
    size_t len;
    int timeout;
} check_conn;

/* Reads one reply within the step's deadline: 1, or 0 with t->error set. */
static int check_read_reply(check_conn *c, check_smtp_reply *r, const char *step, check_tls *t)
{
    long long deadline = check_now_ms() + (long long)c->timeout * 1000;
    const char *why;
    size_t used;

    for (;;) {
        int st = check_smtp_parse(c->buf, c->len, r, &used, &why);
        if (st > 0) {
            memmove(c->buf, c->buf + used, c->len - used);
            c->len -= used;
            return 1;
        }
        if (st < 0) {
            snprintf(t->error, sizeof(t->error), "%s: %s", step, why);
            return 0;
        }
        if (c->len == sizeof(c->buf)) {
            snprintf(t->error, sizeof(t->error), "%s: reply too long", step);
            return 0;
        }
        ssize_t n;
        short ev = POLLIN;
        if (c->ssl) {
            int k = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len));
            int e = k > 0 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, k);
            n = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? -2 : k;
            ev = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
        } else {
            n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                n = -2;
        }
        if (n == -2) { /* nothing yet: wait, within the step's deadline */
            int w = check_wait(c->fd, ev, deadline);
            if (w <= 0) {
                snprintf(t->error, sizeof(t->error), "%s: %s", step,
                         w == 0 ? "timed out waiting for the server" : strerror(errno));
                return 0;
            }
            continue;
        }
        if (n <= 0) {
            snprintf(t->error, sizeof(t->error), "%s: the server closed the connection", step);
            return 0;
        }
        c->len += (size_t)n;
        if (check_now_ms() > deadline) {
            snprintf(t->error, sizeof(t->error), "%s: timed out waiting for the server", step);
            return 0;
        }
    }
}

static int check_send(check_conn *c, const char *line)
{
    long long deadline = check_now_ms() + (long long)c->timeout * 1000;
    size_t len = strlen(line), off = 0;

    while (off < len) {
        short ev = POLLOUT;
        if (c->ssl) {
            int k = SSL_write(c->ssl, line + off, (int)(len - off));
            if (k > 0) {
                off += (size_t)k;
                continue;
            }
            int e = SSL_get_error(c->ssl, k);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                return -1;
            ev = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        } else {
            ssize_t n = write(c->fd, line + off, len - off);
            if (n > 0) {
                off += (size_t)n;
                continue;
            }
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                return -1;
        }
        if (check_wait(c->fd, ev, deadline) <= 0)
            return -1;
    }
    return 0;
}

static int check_connect(const char *address, unsigned port, int timeout, check_tls *t)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

    if (inet_pton(AF_INET, address, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((unsigned short)port);
        sl = sizeof(*s4);
    } else if (inet_pton(AF_INET6, address, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((unsigned short)port);
        sl = sizeof(*s6);
    } else {
        snprintf(t->error, sizeof(t->error), "not an IP address");
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(t->error, sizeof(t->error), "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
        snprintf(t->error, sizeof(t->error), "connect to port %u: %s", port, strerror(errno));
        close(fd);
        return -1;
    }
    int w = check_wait(fd, POLLOUT, check_now_ms() + (long long)timeout * 1000);
    int err = 0;
    socklen_t el = sizeof(err);
    if (w <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
        snprintf(t->error, sizeof(t->error), "connect to port %u: %s", port,
                 w == 0 ? "timed out" : strerror(err ? err : errno));
        close(fd);
        return -1;
    }
    /* The socket stays non-blocking: every wait, TLS included, is a poll with a deadline,
     * so a server that sends a byte now and then cannot stretch a step. */
    return fd;
}

static void check_ssl_error(check_tls *t, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256];
    if (e) {
        ERR_error_string_n(e, buf, sizeof(buf));
    } else {
        snprintf(buf, sizeof(buf), "%s", errno ? strerror(errno) : "connection closed");
    }
    snprintf(t->error, sizeof(t->error), "%s: %s", what, buf);
    ERR_clear_error();
}

/* EHLO and its reply; 1 when the server accepted it. */
static int check_ehlo(check_conn *c, const char *helo, check_smtp_reply *r, check_tls *t)
{
    char line[300];
    snprintf(line, sizeof(line), "EHLO %s\r\n", helo);
    if (check_send(c, line) < 0) {
        snprintf(t->error, sizeof(t->error), "EHLO: cannot send");
        return 0;
    }
    if (!check_read_reply(c, r, "EHLO", t))
        return 0;
    if (r->code != 250) {
        snprintf(t->error, sizeof(t->error), "EHLO: %d %s", r->code, r->first);
        return 0;
    }
    return 1;
}

void check_tls_probe(const char *host, const char *address, unsigned port, const char *helo,
                     int timeout, check_tls *t)
{
    check_conn *c = mycalloc(1, sizeof(*c));
    check_smtp_reply r;
    SSL_CTX *ctx = NULL;

    memset(t, 0, sizeof(*t));
    c->timeout = timeout;
    c->fd = check_connect(address, port, timeout, t);
    if (c->fd < 0)
        goto out;
    t->connected = 1;
    if (!check_read_reply(c, &r, "banner", t))
        goto quit;
    snprintf(t->banner, sizeof(t->banner), "%d %.500s", r.code, r.first);
    if (r.code != 220) {
        snprintf(t->error, sizeof(t->error), "banner: %d %s", r.code, r.first);
        goto quit;
    }
    if (!check_ehlo(c, helo, &r, t))
        goto quit;
    t->ehlo_ok = 1;
    if (!r.starttls) {
        snprintf(t->error, sizeof(t->error), "STARTTLS is not in the EHLO reply");
        goto quit;
    }
    if (check_send(c, "STARTTLS\r\n") < 0 || !check_read_reply(c, &r, "STARTTLS", t))
        goto quit;
    if (r.code != 220) {
        snprintf(t->error, sizeof(t->error), "STARTTLS: %d %s", r.code, r.first);
        goto quit;
    }
    t->starttls = 1;
    if (c->len) {
        /* Plain text after the 220 would be taken as TLS data: a command injection flaw. */
        snprintf(t->error, sizeof(t->error), "the server sent data after its STARTTLS reply");
        goto quit;
    }
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || (c->ssl = SSL_new(ctx)) == NULL) {
        check_ssl_error(t, "TLS setup");
        goto out;
    }
    /* The certificate is judged afterwards, once per sender kind, from the chain. */
    SSL_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
    SSL_set_tlsext_host_name(c->ssl, host);
    SSL_set_fd(c->ssl, c->fd);
    errno = 0;
    long long deadline = check_now_ms() + (long long)timeout * 1000;
    for (;;) {
        int k = SSL_connect(c->ssl);
        if (k == 1)
            break;
        int e = SSL_get_error(c->ssl, k);
        int want = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
        if (want && check_wait(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline) > 0)
            continue;
        if (want)
            snprintf(t->error, sizeof(t->error), "TLS handshake: timed out after %d s", timeout);
        else
            check_ssl_error(t, "TLS handshake");
        SSL_free(c->ssl);
        c->ssl = NULL;
        goto out;
    }
    t->handshake = 1;
    snprintf(t->version, sizeof(t->version), "%s", SSL_get_version(c->ssl));
    snprintf(t->cipher, sizeof(t->cipher), "%s", SSL_get_cipher_name(c->ssl));
    STACK_OF(X509) *peer = SSL_get_peer_cert_chain(c->ssl);
    t->chain = sk_X509_new_null();
    for (int i = 0; peer && i < sk_X509_num(peer); i++) {
        X509 *x = sk_X509_value(peer, i);
        X509_up_ref(x);
        sk_X509_push(t->chain, x);
    }
    /* Senders say EHLO again inside TLS; a server that fails here fails them too. */
    if (!check_ehlo(c, helo, &r, t)) {
        char e[sizeof(t->error)];
        snprintf(e, sizeof(e), "after TLS: %.1000s", t->error);
        snprintf(t->error, sizeof(t->error), "%s", e);
        t->ehlo_ok = 0;
    }
quit:
    if (check_send(c, "QUIT\r\n") == 0) {
        char e[sizeof(t->error)];
        memcpy(e, t->error, sizeof(e));
        c->timeout = timeout < 2 ? timeout : 2;
        (void)check_read_reply(c, &r, "QUIT", t);
        memcpy(t->error, e, sizeof(e)); /* a missing QUIT reply is no finding */
    }
out:
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    SSL_CTX_free(ctx);
    if (c->fd >= 0)
        close(c->fd);
    myfree(c);
}

void check_tls_free(check_tls *t)
{
    if (t->chain)
        sk_X509_pop_free(t->chain, X509_free);
    t->chain = NULL;
}
