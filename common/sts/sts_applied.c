/*
 * The per-day record of applied MTA-STS policies. Lines are appended with one write(2) each
 * (O_APPEND), so a reader never sees a half line except after a crash, and a torn last line
 * (no LF) is ignored. The latest line for a domain wins. Fields are %XX-escaped so that
 * policy text from the network can hold no separator.
 */
#include "sts_applied.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "htable.h"
#include "msg.h"
#include "mymalloc.h"
#include "spool.h"
#include "spool_store.h"
#include "vstring.h"

#define STS_APPLIED_FILE_MAX  (64 * 1024 * 1024)
#define STS_APPLIED_ITEMS_MAX 256 /* = OUTCOME_MAX_STRINGS */

/* What this process last wrote per domain, for the current day only. */
static pthread_mutex_t sts_applied_lock = PTHREAD_MUTEX_INITIALIZER;
static htable *sts_applied_seen;
static char sts_applied_day[SPOOL_DAY_LEN + 1];

static void sts_applied_escape(vstring *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    vstring_append_char(out, ' ');
    if (*s == 0) {
        vstring_append_char(out, '%'); /* "%" alone: the empty string */
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p == '%' || *p == 0x7f) {
            vstring_append_char(out, '%');
            vstring_append_char(out, hex[*p >> 4]);
            vstring_append_char(out, hex[*p & 15]);
        } else {
            vstring_append_char(out, *p);
        }
    }
}

static int sts_applied_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes one escaped field of len bytes; returns a new string, or NULL when malformed. */
static char *sts_applied_unescape(const char *s, size_t len)
{
    if (len == 1 && s[0] == '%')
        return mystrdup("");
    char *out = mymalloc(len + 1), *o = out;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        int hi = i + 2 < len ? sts_applied_hexval(s[i + 1]) : -1;
        int lo = i + 2 < len ? sts_applied_hexval(s[i + 2]) : -1;
        if (i + 2 >= len || hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            myfree(out);
            return NULL;
        }
        *o++ = (char)(hi * 16 + lo);
        i += 2;
    }
    *o = 0;
    return out;
}

/* The day's document: its key in the spool and its name for messages. */
static void sts_applied_key(char *key, char *path, size_t size, const char *spool_dir,
                            const char *day)
{
    snprintf(key, SPOOL_DAY_LEN + 5, "%s.txt", day);
    spool_store_describe(spool_dir, SPOOL_AREA_STS_APPLIED, key, path, size);
}

int sts_applied_record(const char *spool_dir, time_t when, const char *domain,
                       const char *const *strings, size_t nstrings, const char *const *mx,
                       size_t nmx)
{
    char day[SPOOL_DAY_LEN + 1], path[PATH_MAX], key[SPOOL_DAY_LEN + 5];
    vstring *line = vstring_alloc(0);
    int ret = 0;

    spool_day_of(when, day);
    sts_applied_escape(line, domain);
    vstring_sprintf_append(line, " %zu %zu", nstrings, nmx);
    for (size_t i = 0; i < nstrings; i++)
        sts_applied_escape(line, strings[i]);
    for (size_t i = 0; i < nmx; i++)
        sts_applied_escape(line, mx[i]);
    vstring_append_char(line, '\n');

    uint64_t h = htable_hash(line->data, line->len);
    pthread_mutex_lock(&sts_applied_lock);
    if (strcmp(day, sts_applied_day) != 0) {
        sts_applied_seen = htable_free(sts_applied_seen, myfree_value);
        memcpy(sts_applied_day, day, sizeof(day));
    }
    if (!sts_applied_seen)
        sts_applied_seen = htable_create(64);
    int created;
    htable_entry *e = htable_enter(sts_applied_seen, domain, strlen(domain), &created);
    if (!created && *(uint64_t *)e->value == h)
        goto done; /* unchanged today: no disk I/O */
    sts_applied_key(key, path, sizeof(path), spool_dir, day);
    if (spool_store_prepare(spool_dir, SPOOL_AREA_STS_APPLIED) < 0 ||
        spool_store_append(spool_dir, SPOOL_AREA_STS_APPLIED, key, line->data + 1, line->len - 1,
                           0) < 0) {
        msg_error("sts: cannot record the applied policy in %s: %m", path);
        ret = -1;
    }
    if (ret == 0) {
        if (created)
            e->value = mymalloc(sizeof(uint64_t));
        *(uint64_t *)e->value = h;
    } else if (created) {
        e->value = mycalloc(1, sizeof(uint64_t)); /* never matches a real hash in practice */
    }
done:
    pthread_mutex_unlock(&sts_applied_lock);
    vstring_free(line);
    return ret;
}

void sts_applied_free(sts_applied *a)
{
    for (size_t i = 0; i < a->nstrings; i++)
        myfree(a->strings[i]);
    for (size_t i = 0; i < a->nmx; i++)
        myfree(a->mx[i]);
    myfree(a->strings);
    myfree(a->mx);
    memset(a, 0, sizeof(*a));
}

/* Parses one line (without its LF) into out when its domain is domain: 1, 0 other, -1 bad. */
static int sts_applied_parse_line(const char *p, const char *end, const char *domain,
                                  sts_applied *out)
{
    const char *f[3 + 2 * STS_APPLIED_ITEMS_MAX];
    size_t flen[3 + 2 * STS_APPLIED_ITEMS_MAX], nf = 0;

    while (p < end && nf < sizeof(f) / sizeof(f[0])) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        if (!sp)
            sp = end;
        f[nf] = p;
        flen[nf++] = (size_t)(sp - p);
        p = sp < end ? sp + 1 : end;
    }
    if (nf < 3 || p < end)
        return -1;
    char *d = sts_applied_unescape(f[0], flen[0]);
    if (!d)
        return -1;
    int mine = strcmp(d, domain) == 0;
    myfree(d);
    if (!mine)
        return 0;
    size_t ns = 0, nm = 0;
    for (size_t i = 0; i < flen[1]; i++) {
        if (f[1][i] < '0' || f[1][i] > '9' || ns > STS_APPLIED_ITEMS_MAX)
            return -1;
        ns = ns * 10 + (size_t)(f[1][i] - '0');
    }
    for (size_t i = 0; i < flen[2]; i++) {
        if (f[2][i] < '0' || f[2][i] > '9' || nm > STS_APPLIED_ITEMS_MAX)
            return -1;
        nm = nm * 10 + (size_t)(f[2][i] - '0');
    }
    if (flen[1] == 0 || flen[2] == 0 || ns > STS_APPLIED_ITEMS_MAX || nm > STS_APPLIED_ITEMS_MAX ||
        nf != 3 + ns + nm)
        return -1;
    sts_applied a = {mycalloc(ns + 1, sizeof(char *)), 0, mycalloc(nm + 1, sizeof(char *)), 0};
    for (size_t i = 0; i < ns + nm; i++) {
        char *s = sts_applied_unescape(f[3 + i], flen[3 + i]);
        if (!s) {
            sts_applied_free(&a);
            return -1;
        }
        if (i < ns)
            a.strings[a.nstrings++] = s;
        else
            a.mx[a.nmx++] = s;
    }
    sts_applied_free(out);
    *out = a;
    return 1;
}

int sts_applied_get(const char *spool_dir, const char *day, const char *domain, sts_applied *out)
{
    char path[PATH_MAX], key[SPOOL_DAY_LEN + 5];
    vstring *buf;
    int found = 0;

    memset(out, 0, sizeof(*out));
    if (spool_day_parse(day) < 0)
        return -1;
    sts_applied_key(key, path, sizeof(path), spool_dir, day);
    buf = vstring_alloc(0);
    if (spool_store_read(spool_dir, SPOOL_AREA_STS_APPLIED, key, buf, STS_APPLIED_FILE_MAX) < 0) {
        int e = errno;
        vstring_free(buf);
        if (e == ENOENT)
            return 0;
        msg_error("sts: cannot read %s: %s", path, strerror(e));
        return -1;
    }
    const char *p = buf->data, *end = buf->data + buf->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break; /* torn last line */
        int r = sts_applied_parse_line(p, nl, domain, out);
        if (r > 0)
            found = 1;
        p = nl + 1;
    }
    vstring_free(buf);
    return found;
}
