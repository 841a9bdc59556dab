#ifndef OTR_MSG_H
#define OTR_MSG_H
/* One logging API for every program: syslog, stderr, or both. */
#include <stdarg.h>
#include <time.h>

#define MSG_TO_STDERR 1
#define MSG_TO_SYSLOG 2

/* Sets the program name and where messages go (MSG_TO_* bits). */
void msg_open(const char *progname, int destinations);
/* Changes where messages go without renaming the program. */
void msg_destinations(int destinations);
/* Enables msg_debug output. */
void msg_set_verbose(int verbose);
int msg_verbose(void);

void msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A routine event: msg_info, or msg_warn when warn is set, but never to the destinations
 * in skip (e.g. MSG_TO_STDERR where stderr is for failures: cron mails what it finds). */
void msg_vnote(int skip, int warn, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Logs and exits with status 1; never returns. */
void msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Logs and aborts (a bug, not bad input); never returns. */
void msg_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Token bucket for noisy warnings: at most `burst` messages, refilled one per `interval`. */
typedef struct {
    time_t last;
    unsigned tokens;
    unsigned burst;
    unsigned interval;
    unsigned long suppressed;
} msg_rate;

#define MSG_RATE_INIT(burst, interval)                                                             \
    {                                                                                              \
        0, (burst), (burst), (interval), 0                                                         \
    }

/* Returns 1 if a message may be logged now; counts the suppressed ones otherwise. */
int msg_rate_ok(msg_rate *rate);

/* Writes the first `max` bytes of buf as hex into out (size >= 2*max+1); returns out. */
char *msg_hex_prefix(char *out, const void *buf, size_t len, size_t max);
#endif
