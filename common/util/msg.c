#include "msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static const char *msg_progname = "opentlsrpt";
static int msg_dest = MSG_TO_STDERR;
static int msg_verbose_level;

void msg_open(const char *progname, int destinations)
{
    msg_progname = progname;
    msg_dest = destinations;
    if (destinations & MSG_TO_SYSLOG)
        openlog(progname, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void msg_destinations(int destinations)
{
    if ((destinations & MSG_TO_SYSLOG) && !(msg_dest & MSG_TO_SYSLOG))
        openlog(msg_progname, LOG_PID | LOG_NDELAY, LOG_MAIL);
    msg_dest = destinations;
}

void msg_set_verbose(int verbose)
{
    msg_verbose_level = verbose;
}

int msg_verbose(void)
{
    return msg_verbose_level;
}

__attribute__((format(printf, 4, 0))) static void msg_vlog(int dest, int prio, const char *label,
                                                           const char *fmt, va_list ap)
{
    char buf[2048];
    int saved = errno;

    vsnprintf(buf, sizeof(buf), fmt, ap);
    /* Control bytes never reach a log line: they could forge lines. */
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    if (dest & MSG_TO_SYSLOG)
        syslog(prio, "%s%s", label, buf);
    if (dest & MSG_TO_STDERR)
        fprintf(stderr, "%s[%ld]: %s%s\n", msg_progname, (long)getpid(), label, buf);
    errno = saved;
}

#define MSG_BODY(prio, label)                                                                      \
    do {                                                                                           \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        msg_vlog(msg_dest, prio, label, fmt, ap);                                                  \
        va_end(ap);                                                                                \
    } while (0)

void msg_debug(const char *fmt, ...)
{
    if (msg_verbose_level)
        MSG_BODY(LOG_DEBUG, "debug: ");
}

void msg_info(const char *fmt, ...)
{
    MSG_BODY(LOG_INFO, "");
}

void msg_warn(const char *fmt, ...)
{
    MSG_BODY(LOG_WARNING, "warning: ");
}

void msg_error(const char *fmt, ...)
{
    MSG_BODY(LOG_ERR, "error: ");
}

void msg_vnote(int skip, int warn, const char *fmt, va_list ap)
{
    msg_vlog(msg_dest & ~skip, warn ? LOG_WARNING : LOG_INFO, warn ? "warning: " : "", fmt, ap);
}

void msg_fatal(const char *fmt, ...)
{
    MSG_BODY(LOG_CRIT, "fatal: ");
    exit(1);
}

void msg_panic(const char *fmt, ...)
{
    MSG_BODY(LOG_CRIT, "panic: ");
    abort();
}

int msg_rate_ok(msg_rate *rate)
{
    time_t now = time(NULL);

    if (rate->last == 0)
        rate->last = now;
    if (now - rate->last >= (time_t)rate->interval) {
        unsigned add = (unsigned)((now - rate->last) / rate->interval);
        rate->tokens = rate->tokens + add > rate->burst ? rate->burst : rate->tokens + add;
        rate->last = now;
        if (rate->suppressed) {
            msg_warn("%lu similar messages suppressed", rate->suppressed);
            rate->suppressed = 0;
        }
    }
    if (rate->tokens == 0) {
        rate->suppressed++;
        return 0;
    }
    rate->tokens--;
    return 1;
}

char *msg_hex_prefix(char *out, const void *buf, size_t len, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = buf;
    size_t n = len < max ? len : max;

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = 0;
    return out;
}
