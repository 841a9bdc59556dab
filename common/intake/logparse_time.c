/* Mail log timestamps: classic syslog (local time, no year) and RFC 3339. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "logparse_int.h"

/* ---- timestamps ---- */

static long lp_num(const char *s, size_t n)
{
    long v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static long lp_days(long y, long m, long d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

time_t lp_rfc3339(const char *s, size_t len, size_t *used)
{
    /* YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':')
        return -1;
    long y = lp_num(s, 4), mo = lp_num(s + 5, 2), d = lp_num(s + 8, 2);
    long h = lp_num(s + 11, 2), mi = lp_num(s + 14, 2), se = lp_num(s + 17, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        se < 0 || se > 60)
        return -1;
    size_t i = 19;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    long off = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 <= len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        long oh = lp_num(s + i + 1, 2), om = lp_num(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return -1;
        off = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return -1;
    }
    *used = i;
    return (time_t)(lp_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off);
}

static const char lp_months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

time_t lp_classic(logparse *lp, const char *s, size_t len, time_t now)
{
    /* "Mmm dd hh:mm:ss": local time, no year. */
    if (len < 15 || s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':')
        return -1;
    int mon = -1;
    for (int i = 0; i < 12; i++)
        if (memcmp(s, lp_months + 3 * i, 3) == 0)
            mon = i;
    long d = lp_num(s + 4 + (s[4] == ' '), s[4] == ' ' ? 1 : 2);
    long h = lp_num(s + 7, 2), mi = lp_num(s + 10, 2), se = lp_num(s + 13, 2);
    if (mon < 0 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
        return -1;
    if (lp && lp->c_mon == mon && lp->c_mday == d && lp->c_hour == h)
        return lp->c_base + mi * 60 + se;
    struct tm now_tm, tm;
    localtime_r(&now, &now_tm);
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = now_tm.tm_year;
    tm.tm_mon = mon;
    tm.tm_mday = (int)d;
    tm.tm_hour = (int)h;
    tm.tm_isdst = -1;
    time_t base = mktime(&tm);
    /* A date more than a week ahead belongs to last year (a log read across New Year). */
    if (base != (time_t)-1 && base > now + 7 * 86400) {
        memset(&tm, 0, sizeof(tm));
        tm.tm_year = now_tm.tm_year - 1;
        tm.tm_mon = mon;
        tm.tm_mday = (int)d;
        tm.tm_hour = (int)h;
        tm.tm_isdst = -1;
        base = mktime(&tm);
    }
    if (base == (time_t)-1)
        return -1;
    if (lp) {
        lp->c_mon = mon;
        lp->c_mday = (int)d;
        lp->c_hour = (int)h;
        lp->c_base = base;
    }
    return base + mi * 60 + se;
}

time_t logparse_time(const char *s, size_t len, time_t now, size_t *used)
{
    if (len > 0 && s[0] >= '0' && s[0] <= '9')
        return lp_rfc3339(s, len, used);
    time_t t = lp_classic(NULL, s, len, now);
    if (t != -1)
        *used = 15;
    return t;
}

time_t lp_when(logparse *lp, const char *line, size_t len)
{
    size_t used;
    time_t t;

    if (len > 0 && line[0] >= '0' && line[0] <= '9')
        t = lp_rfc3339(line, len, &used);
    else
        t = lp_classic(lp, line, len, lp->now);
    if (t == -1)
        t = lp->last ? lp->last : time(NULL);
    lp->last = t;
    return t;
}
