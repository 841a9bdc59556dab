/* The physical baseline of the policy service: a single-threaded epoll server on a unix
 * stream socket that answers every socketmap request netstring ("LEN:DATA,") with one fixed
 * reply, looking nothing up. What the same load generator gets from it is the ceiling of
 * the socket, the netstring framing and the scheduler on this machine.
 * Usage: bare_netstring SOCKET REPLY   (runs until SIGTERM) */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAXCONN 1024
#define BUFSZ   4096

typedef struct {
    char buf[BUFSZ];
    size_t len;
} conn;

static conn *conns[MAXCONN];

/* Consumes complete requests at the front of c; returns how many, or -1 on bad framing. */
static int requests(conn *c)
{
    int n = 0;
    for (;;) {
        size_t i = 0, len = 0;
        while (i < c->len && c->buf[i] >= '0' && c->buf[i] <= '9' && i < 6)
            len = len * 10 + (size_t)(c->buf[i++] - '0');
        if (i == c->len)
            return n;
        if (i == 0 || c->buf[i] != ':')
            return -1;
        if (c->len < i + 1 + len + 1)
            return n;
        if (c->buf[i + 1 + len] != ',')
            return -1;
        size_t used = i + 1 + len + 1;
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
        n++;
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    char reply[512];
    struct epoll_event ev, evs[64];

    if (argc != 3 || strlen(argv[1]) >= sizeof(sun.sun_path) || strlen(argv[2]) > 400) {
        fprintf(stderr, "usage: bare_netstring SOCKET REPLY\n");
        return 2;
    }
    int rlen = snprintf(reply, sizeof(reply), "%zu:%s,", strlen(argv[2]), argv[2]);
    signal(SIGPIPE, SIG_IGN);
    memcpy(sun.sun_path, argv[1], strlen(argv[1]) + 1);
    unlink(argv[1]);
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(lfd, 128) < 0) {
        perror(argv[1]);
        return 1;
    }
    int ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                int c = accept(lfd, NULL, NULL);
                if (c < 0)
                    continue;
                if (c >= MAXCONN) {
                    close(c);
                    continue;
                }
                conns[c] = calloc(1, sizeof(conn));
                ev.events = EPOLLIN;
                ev.data.fd = c;
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                continue;
            }
            conn *c = conns[fd];
            ssize_t r = read(fd, c->buf + c->len, BUFSZ - c->len);
            int k = r > 0 ? (c->len += (size_t)r, requests(c)) : -1;
            for (int j = 0; j < k; j++)
                if (write(fd, reply, (size_t)rlen) != rlen)
                    k = -1;
            if (k < 0 || c->len == BUFSZ) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
                free(c);
                conns[fd] = NULL;
            }
        }
    }
}
