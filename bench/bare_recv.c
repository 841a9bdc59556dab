/* The physical baseline of intake: a bare recv() loop on a unix datagram socket that only
 * counts. Prints the count when SIGTERM arrives. Usage: bare_recv SOCKET */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    struct sockaddr_un sun;
    static char buf[262144];
    unsigned long n = 0;
    struct sigaction sa;

    if (argc != 2 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
        fprintf(stderr, "usage: bare_recv SOCKET\n");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, argv[1], strlen(argv[1]) + 1);
    unlink(argv[1]);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        perror(argv[1]);
        return 1;
    }
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof(buf), stop ? MSG_DONTWAIT : 0);
        if (r >= 0) {
            n++;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN && stop)
            break;
        if (errno != EAGAIN) {
            perror("recv");
            return 1;
        }
    }
    printf("%lu\n", n);
    return 0;
}
