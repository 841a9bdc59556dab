/*
 * The JSON side of received reports, below the mail side (inreport.c): the report object
 * and its memory budget, parsing with the allocation-free tokenizer (json-c spent ~1 KB
 * per value, so 10 MB of `{},` took gigabytes), dates, the limits of one report, and the
 * compact normalized text that the report store keeps.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "htable.h"
#include "inreport.h"
#include "inreport_int.h"
#include "jsontok.h"
#include "jsonw.h"
#include "mymalloc.h"
#include "utf8.h"

/* ---- the report object ---- */

void inreport_init(inreport *r)
{
    memset(r, 0, sizeof(*r));
    arena_init(&r->mem, 16384);
}

void inreport_done(inreport *r)
{
    inreport_give(r, r->charged);
    arena_destroy(&r->mem);
    memset(r, 0, sizeof(*r));
}

void inreport_reset(inreport *r)
{
    arena m = r->mem;
    membudget *budget = r->budget;
    size_t charged = r->charged;
    arena_reset(&m);
    memset(r, 0, sizeof(*r));
    r->mem = m;
    r->budget = budget;
    inreport_give(r, charged);
}

static int inreport_digits(const char **p, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

time_t inreport_parse_time(const char *s)
{
    struct tm tm;
    long offset = 0;

    if (s == NULL)
        return -1;
    memset(&tm, 0, sizeof(tm));
    while (*s == ' ')
        s++;
    int y = inreport_digits(&s, 4);
    if (y < 1970 || *s++ != '-')
        return -1;
    int mo = inreport_digits(&s, 2);
    if (mo < 1 || mo > 12 || *s++ != '-')
        return -1;
    int d = inreport_digits(&s, 2);
    if (d < 1 || d > 31)
        return -1;
    int h = 0, mi = 0, sec = 0;
    if (*s == 'T' || *s == 't' || *s == ' ') {
        s++;
        h = inreport_digits(&s, 2);
        if (h < 0 || h > 24 || *s++ != ':')
            return -1;
        mi = inreport_digits(&s, 2);
        if (mi < 0 || mi > 59)
            return -1;
        if (*s == ':') {
            s++;
            sec = inreport_digits(&s, 2);
            if (sec < 0 || sec > 60)
                return -1;
        }
        if (*s == '.' || *s == ',')
            for (s++; isdigit((unsigned char)*s); s++)
                ;
        /* Older Microsoft reports have no zone at all: UTC is what they mean. */
        if (*s == 'Z' || *s == 'z') {
            s++;
        } else if (*s == '+' || *s == '-') {
            int sign = *s++ == '-' ? -1 : 1;
            int oh = inreport_digits(&s, 2);
            if (*s == ':')
                s++;
            int om = inreport_digits(&s, 2);
            if (oh < 0 || oh > 23 || om < 0 || om > 59)
                return -1;
            offset = sign * (oh * 3600L + om * 60L);
        }
    }
    while (*s == ' ')
        s++;
    if (*s)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec > 59 ? 59 : sec;
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? -1 : t - offset;
}

#define INREPORT_MAX_DEPTH 32 /* JSON nesting; a report needs 5 */
/* No sender has a trillion sessions a day; the cap keeps every later sum from overflowing. */
#define INREPORT_MAX_COUNT 1000000000000ULL
/* Raw bytes of a string decoded at most: enough for the 4 x INREPORT_MAX_FIELD bytes that
 * inreport_clean looks at, even when every character is a 6-byte escape. */
#define INREPORT_STR_RAW_MAX (24 * INREPORT_MAX_FIELD)

void inreport_err(char *err, size_t size, const char *what)
{
    if (size)
        snprintf(err, size, "%s", what);
}

int inreport_take(inreport *r, size_t n, char *err, size_t errsize)
{
    if (r->budget == NULL || membudget_take(r->budget, n) == 0)
        return 0;
    inreport_err(err, errsize, "not enough memory for received reports now (milter_memory_max)");
    return -1;
}

void inreport_give(inreport *r, size_t n)
{
    if (r->budget)
        membudget_give(r->budget, n);
}

int inreport_account(inreport *r, char *err, size_t errsize)
{
    if (r->mem.total <= r->charged)
        return 0;
    size_t grow = r->mem.total - r->charged;
    if (inreport_take(r, grow, err, errsize) < 0)
        return -1;
    r->charged += grow;
    return 0;
}

const char *inreport_clean(arena *a, const char *s, size_t len)
{
    vstring *v;
    const char *copy;

    if (s == NULL || len == 0)
        return NULL;
    if (len > 4 * INREPORT_MAX_FIELD)
        len = 4 * INREPORT_MAX_FIELD;
    v = vstring_alloc(0);
    utf8_repair(v, s, len);
    /* C1 controls too: U+009B is a terminal's CSI, as ESC [ is. */
    v->len = utf8_replace_controls(v->data, v->len, ' ', NULL);
    v->data[v->len] = 0;
    size_t n = v->len;
    if (n > INREPORT_MAX_FIELD) {
        n = INREPORT_MAX_FIELD;
        while (n > 0 && ((unsigned char)v->data[n] & 0xc0) == 0x80)
            n--;
    }
    while (n > 0 && v->data[n - 1] == ' ')
        n--;
    size_t start = 0;
    while (start < n && v->data[start] == ' ')
        start++;
    copy = n > start ? arena_strndup(a, v->data + start, n - start) : NULL;
    vstring_free(v);
    return copy;
}

const char *inreport_submitter(arena *a, const char *contact)
{
    char norm[DOMAIN_MAX + 1];
    const char *at, *end;

    if (contact == NULL)
        return NULL;
    at = strrchr(contact, '@');
    at = at ? at + 1 : contact;
    if (strncasecmp(at, "mailto:", 7) == 0)
        at += 7;
    for (end = at; *end && *end != '>' && *end != ' ' && *end != ',' && *end != ';'; end++)
        ;
    if (domain_normalize(at, (size_t)(end - at), norm, sizeof(norm)) < 0)
        return NULL;
    return arena_strdup(a, norm);
}

/* One parse: the tokens, the counts against the limits, and the first limit passed. */
typedef struct ij {
    inreport *r;
    arena *a;
    const char *in;
    const jsontok *t;
    vstring *tmp;
    size_t nstrings, nfailures;
    char why[120]; /* the limit passed, "" while none */
    int temp;      /* the budget was short */
    char *err;
    size_t errsize;
} ij;

/* Index of member key of object obj, or -1 when absent or null. */
static int ij_get(const ij *j, int obj, const char *key)
{
    int v = jsontok_member(j->in, j->t, obj, key);
    return v >= 0 && j->t[v].type == JSONTOK_NULL ? -1 : v;
}

static void ij_limit(ij *j, const char *what, size_t max)
{
    if (j->why[0] == 0)
        snprintf(j->why, sizeof(j->why), "report over the limits: more than %zu %s", max, what);
}

/* Takes what the arena grew by from the budget; checks the arena's own limit. */
static void ij_account(ij *j)
{
    inreport *r = j->r;

    if (r->mem.total > INREPORT_MAX_MEMORY)
        ij_limit(j, "bytes once parsed", (size_t)INREPORT_MAX_MEMORY);
    if (!j->temp && inreport_account(r, j->err, j->errsize) < 0)
        j->temp = 1;
}

static int ij_stop(const ij *j)
{
    return j->why[0] != 0 || j->temp;
}

/* The cleaned text of a string token, or of an integer (some senders send numbers where
 * strings belong); NULL for anything else or "". */
static const char *ij_text(ij *j, int v)
{
    if (v < 0)
        return NULL;
    jsontok t = j->t[v];
    if (t.type == JSONTOK_NUMBER) {
        int64_t n;
        if (jsontok_int(j->in, &t, &n) < 0)
            return NULL;
        return inreport_clean(j->a, j->in + t.start, t.end - t.start);
    }
    if (t.type != JSONTOK_STRING)
        return NULL;
    /* Only a prefix is ever kept: decode no more than that. An escape started before the
     * cut ends within 11 bytes past it (the token was checked whole). */
    if (t.end - t.start > INREPORT_STR_RAW_MAX)
        t.end = t.start + INREPORT_STR_RAW_MAX;
    vstring_reset(j->tmp);
    vstring_reserve(j->tmp, t.end - t.start + 16);
    size_t len = jsontok_string(j->in, &t, j->tmp->data);
    return inreport_clean(j->a, j->tmp->data, len);
}

static const char *ij_str(ij *j, int obj, const char *key)
{
    return ij_text(j, ij_get(j, obj, key));
}

static char *ij_lower(char *s)
{
    for (char *p = s; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return s;
}

/* Host names are compared and grouped: lower case, no trailing dot, A-labels when valid. */
static const char *ij_host(ij *j, int obj, const char *key)
{
    const char *s = ij_str(j, obj, key);
    char norm[DOMAIN_MAX + 1];

    if (s == NULL)
        return NULL;
    if (domain_normalize(s, strlen(s), norm, sizeof(norm)) == 0)
        return arena_strdup(j->a, norm);
    return ij_lower((char *)s);
}

static uint64_t ij_count_raw(ij *j, int v)
{
    if (v < 0)
        return 0;
    const jsontok *t = &j->t[v];
    const char *p = j->in + t->start;
    size_t len = t->end - t->start;
    if (t->type == JSONTOK_NUMBER) {
        int64_t n;
        if (jsontok_int(j->in, t, &n) == 0)
            return n > 0 ? (uint64_t)n : 0;
        /* An integer too large for int64_t, or a fraction or an exponent. */
        size_t digits = 0;
        while (digits < len && p[digits] >= '0' && p[digits] <= '9')
            digits++;
        if (digits == len)
            return INREPORT_MAX_COUNT;
        char buf[64];
        if (len >= sizeof(buf))
            return 0;
        memcpy(buf, p, len);
        buf[len] = 0;
        double d = strtod(buf, NULL);
        return d > 0 && d < 1e18 ? (uint64_t)d : 0;
    }
    if (t->type == JSONTOK_STRING) {
        uint64_t n = 0;
        for (size_t i = 0; i < len && p[i] >= '0' && p[i] <= '9' && n < 100000000000000000ULL; i++)
            n = n * 10 + (uint64_t)(p[i] - '0');
        return n;
    }
    return 0;
}

static uint64_t ij_count(ij *j, int obj, const char *key)
{
    uint64_t n = ij_count_raw(j, ij_get(j, obj, key));
    return n > INREPORT_MAX_COUNT ? INREPORT_MAX_COUNT : n;
}

/* Counts n more strings against the report's limit; returns 0, or -1 past it. */
static int ij_more_strings(ij *j, size_t n)
{
    if (n > INREPORT_MAX_STRINGS - j->nstrings) {
        ij_limit(j, "policy-string and mx-host elements", INREPORT_MAX_STRINGS);
        return -1;
    }
    j->nstrings += n;
    return 0;
}

/* An array of strings, a single string, or nothing: all three are seen for mx-host. */
static const char **ij_strings(ij *j, int obj, const char *key, size_t *n, int host)
{
    int v = ij_get(j, obj, key);
    const char **out;

    *n = 0;
    if (v < 0)
        return NULL;
    if (j->t[v].type == JSONTOK_STRING) {
        const char *s = ij_text(j, v);
        if (s == NULL || ij_more_strings(j, 1) < 0)
            return NULL;
        out = arena_alloc(j->a, sizeof(*out));
        out[0] = host ? ij_lower((char *)s) : s;
        *n = 1;
        return out;
    }
    if (j->t[v].type != JSONTOK_ARRAY)
        return NULL;
    size_t len = j->t[v].size;
    if (ij_more_strings(j, len) < 0)
        return NULL;
    out = arena_alloc(j->a, (len ? len : 1) * sizeof(*out));
    uint32_t e = (uint32_t)v + 1;
    for (size_t i = 0; i < len; i++, e = j->t[e].next) {
        if (j->t[e].type != JSONTOK_STRING)
            continue;
        const char *s = ij_text(j, (int)e);
        if (s)
            out[(*n)++] = host ? ij_lower((char *)s) : s;
    }
    return out;
}

/* Some senders put a whole TLSA record set in ONE policy-string element holding a JSON
 * array (`["[\"3 1 1 AB..\",\"3 1 1 CD..\"]"]`): unpack it into one element per record. */
static void ij_unpack_strings(ij *j, inreport_policy *p)
{
    if (p->nstrings != 1 || p->strings[0][0] != '[')
        return;
    const char *s = p->strings[0];
    size_t slen = strlen(s), max = slen / 2 + 2;
    jsontok *toks = mymalloc(max * sizeof(*toks));
    ij inner = *j;
    if (jsontok_parse(s, slen, toks, max, 2) <= 0 || toks[0].type != JSONTOK_ARRAY) {
        myfree(toks);
        return;
    }
    inner.in = s;
    inner.t = toks;
    size_t len = toks[0].size, n = 0;
    if (ij_more_strings(j, len) == 0) {
        const char **out = arena_alloc(j->a, (len ? len : 1) * sizeof(*out));
        uint32_t e = 1;
        for (size_t i = 0; i < len; i++, e = toks[e].next) {
            const char *str = toks[e].type == JSONTOK_STRING ? ij_text(&inner, (int)e) : NULL;
            if (str)
                out[n++] = str;
        }
        p->strings = out;
        p->nstrings = n;
    }
    myfree(toks);
}

static void ij_policy(ij *j, int item, inreport_policy *p)
{
    int pol = ij_get(j, item, "policy"), sum, fd;

    memset(p, 0, sizeof(*p));
    if (pol >= 0 && j->t[pol].type == JSONTOK_OBJECT) {
        const char *t = ij_str(j, pol, "policy-type");
        p->type = t ? ij_lower((char *)t) : "unknown";
        p->domain = ij_host(j, pol, "policy-domain");
        p->strings = ij_strings(j, pol, "policy-string", &p->nstrings, 0);
        p->mx_hosts = ij_strings(j, pol, "mx-host", &p->nmx_hosts, 1);
        ij_unpack_strings(j, p);
    } else {
        p->type = "unknown";
    }
    if ((sum = ij_get(j, item, "summary")) >= 0 && j->t[sum].type == JSONTOK_OBJECT) {
        p->ok = ij_count(j, sum, "total-successful-session-count");
        p->failed = ij_count(j, sum, "total-failure-session-count");
    }
    if ((fd = ij_get(j, item, "failure-details")) < 0 || j->t[fd].type != JSONTOK_ARRAY)
        return;
    size_t len = j->t[fd].size;
    if (len > INREPORT_MAX_FAILURES - j->nfailures) {
        ij_limit(j, "failure-details", INREPORT_MAX_FAILURES);
        return;
    }
    j->nfailures += len;
    p->failures = arena_alloc(j->a, (len ? len : 1) * sizeof(*p->failures));
    uint32_t e = (uint32_t)fd + 1;
    for (size_t i = 0; i < len && !ij_stop(j); i++, e = j->t[e].next) {
        if (j->t[e].type != JSONTOK_OBJECT)
            continue;
        int o = (int)e;
        inreport_failure *f = &p->failures[p->nfailures++];
        const char *rt = ij_str(j, o, "result-type");
        f->result_type = rt ? ij_lower((char *)rt) : "unknown";
        f->sending_ip = ij_str(j, o, "sending-mta-ip");
        f->mx_hostname = ij_host(j, o, "receiving-mx-hostname");
        f->mx_helo = ij_str(j, o, "receiving-mx-helo");
        f->receiving_ip = ij_str(j, o, "receiving-ip");
        f->additional_info = ij_str(j, o, "additional-information");
        f->reason_code = ij_str(j, o, "failure-reason-code");
        f->count = ij_count(j, o, "failed-session-count");
        if (i % 256 == 255)
            ij_account(j);
    }
}

/* The report from its root object; returns as inreport_parse_json. */
static int ij_report(ij *j, const char *text, size_t len)
{
    inreport *r = j->r;
    int dr = ij_get(j, 0, "date-range"), v;
    const char *ds = NULL, *de = NULL;

    if (j->t[0].type != JSONTOK_OBJECT) {
        inreport_err(j->err, j->errsize, "JSON is not an object");
        return -1;
    }
    if (dr >= 0 && j->t[dr].type == JSONTOK_OBJECT) {
        ds = ij_str(j, dr, "start-datetime");
        de = ij_str(j, dr, "end-datetime");
    }
    r->start = inreport_parse_time(ds);
    r->end = inreport_parse_time(de);
    if (r->start < 0) {
        inreport_err(j->err, j->errsize, "no valid date-range start-datetime");
        return -1;
    }
    /* Some senders end the day at the next day's 00:00:00Z: the last second covered is
     * what every report means. */
    if (r->end <= r->start)
        r->end = r->start + 86399;
    if (r->end % 86400 == 0 && r->end - 1 > r->start)
        r->end--; /* also once normalized: parsing the result again changes nothing */
    if ((v = ij_get(j, 0, "policies")) < 0 || j->t[v].type != JSONTOK_ARRAY) {
        inreport_err(j->err, j->errsize, "no policies array");
        return -1;
    }
    size_t n = j->t[v].size;
    if (n > INREPORT_MAX_POLICIES) {
        ij_limit(j, "policies", INREPORT_MAX_POLICIES);
        n = 0;
    }
    r->policies = arena_alloc(j->a, (n ? n : 1) * sizeof(*r->policies));
    uint32_t e = (uint32_t)v + 1;
    for (size_t i = 0; i < n && !ij_stop(j); i++, e = j->t[e].next) {
        if (j->t[e].type == JSONTOK_OBJECT)
            ij_policy(j, (int)e, &r->policies[r->npolicies++]);
        ij_account(j);
    }
    r->organization = ij_str(j, 0, "organization-name");
    r->contact = ij_str(j, 0, "contact-info");
    r->report_id = ij_str(j, 0, "report-id");
    if (r->report_id == NULL) {
        /* Without an id, the content itself tells duplicates apart. */
        char id[40];
        snprintf(id, sizeof(id), "content-%016llx", (unsigned long long)htable_hash(text, len));
        r->report_id = arena_strdup(j->a, id);
    }
    r->submitter = inreport_submitter(j->a, r->contact);
    if (r->submitter == NULL)
        r->submitter = r->organization ? r->organization : "unknown";
    ij_account(j);
    if (j->temp)
        return -2;
    if (j->why[0]) {
        inreport_err(j->err, j->errsize, j->why);
        return -1;
    }
    return 0;
}

int inreport_parse_json(inreport *r, const char *text, size_t len, char *err, size_t errsize)
{
    ij j;

    inreport_reset(r);
    if (len > UINT32_MAX) {
        inreport_err(err, errsize, "report too large");
        return -1;
    }
    /* A value takes at least one byte and a separator: the array is no larger than the text
     * needs, and never larger than the limit allows. */
    size_t max = len / 2 + 2;
    if (max > INREPORT_MAX_VALUES + 1)
        max = INREPORT_MAX_VALUES + 1;
    size_t cost = max * sizeof(jsontok);
    if (inreport_take(r, cost, err, errsize) < 0)
        return -2;
    jsontok *toks = mymalloc(cost);
    size_t errpos = 0;
    int n = jsontok_parse_ex(text, len, toks, max, INREPORT_MAX_DEPTH, &errpos);
    int ret;
    if (n == -2 || (n > 0 && (size_t)n > INREPORT_MAX_VALUES)) {
        if (errsize)
            snprintf(err, errsize, "report over the limits: more than %d JSON values",
                     INREPORT_MAX_VALUES);
        ret = -1;
    } else if (n <= 0) {
        if (errpos >= len)
            inreport_err(err, errsize, "invalid JSON: unexpected end of data");
        else if (errsize)
            snprintf(err, errsize, "invalid JSON at byte %zu", errpos);
        ret = -1;
    } else {
        memset(&j, 0, sizeof(j));
        j.r = r;
        j.a = &r->mem;
        j.in = text;
        j.t = toks;
        j.tmp = vstring_alloc(0);
        j.err = err;
        j.errsize = errsize;
        r->json_len = len;
        ret = ij_report(&j, text, len);
        vstring_free(j.tmp);
    }
    myfree(toks);
    inreport_give(r, cost);
    if (ret < 0)
        inreport_reset(r);
    return ret;
}

/* ,"key":"value" when value is set; *first says whether a comma is due. */
static void ij_put_opt(vstring *out, int *first, const char *key, const char *value)
{
    if (value == NULL)
        return;
    if (!*first)
        vstring_append_char(out, ',');
    *first = 0;
    jsonw_str(out, key);
    vstring_append_char(out, ':');
    jsonw_str(out, value);
}

static void ij_put_count(vstring *out, int *first, const char *key, uint64_t n)
{
    if (n == 0)
        return;
    if (!*first)
        vstring_append_char(out, ',');
    *first = 0;
    jsonw_str(out, key);
    vstring_sprintf_append(out, ":%llu", (unsigned long long)n);
}

static void ij_put_list(vstring *out, int *first, const char *key, const char *const *s, size_t n)
{
    if (n == 0)
        return;
    if (!*first)
        vstring_append_char(out, ',');
    *first = 0;
    jsonw_str(out, key);
    vstring_append(out, ":[", 2);
    for (size_t i = 0; i < n; i++) {
        if (i)
            vstring_append_char(out, ',');
        jsonw_str(out, s[i]);
    }
    vstring_append_char(out, ']');
}

static void ij_put_time(vstring *out, const char *key, time_t t)
{
    struct tm tm;
    char buf[32];

    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    jsonw_str(out, key);
    vstring_append_char(out, ':');
    jsonw_str(out, buf);
}

static const char *ij_known(const char *s)
{
    return strcmp(s, "unknown") == 0 ? NULL : s;
}

void inreport_json_text(const inreport *r, vstring *out)
{
    int first = 1;

    vstring_append_char(out, '{');
    ij_put_opt(out, &first, "organization-name", r->organization);
    vstring_append_str(out, first ? "" : ",");
    vstring_append_str(out, "\"date-range\":{");
    ij_put_time(out, "start-datetime", r->start);
    vstring_append_char(out, ',');
    ij_put_time(out, "end-datetime", r->end);
    vstring_append_char(out, '}');
    first = 0;
    ij_put_opt(out, &first, "contact-info", r->contact);
    ij_put_opt(out, &first, "report-id", r->report_id);
    vstring_append_str(out, ",\"policies\":[");
    for (size_t i = 0; i < r->npolicies; i++) {
        const inreport_policy *p = &r->policies[i];
        int f = 1, any = 0;
        vstring_append_str(out, i ? ",{" : "{");
        /* Only what is there: an empty policy ({}) is stored as {}. */
        if (ij_known(p->type) || p->nstrings || p->domain || p->nmx_hosts) {
            vstring_append_str(out, "\"policy\":{");
            ij_put_opt(out, &f, "policy-type", ij_known(p->type));
            ij_put_list(out, &f, "policy-string", p->strings, p->nstrings);
            ij_put_opt(out, &f, "policy-domain", p->domain);
            ij_put_list(out, &f, "mx-host", p->mx_hosts, p->nmx_hosts);
            vstring_append_char(out, '}');
            any = 1;
        }
        if (p->ok || p->failed) {
            vstring_append_str(out, any ? ",\"summary\":{" : "\"summary\":{");
            f = 1;
            ij_put_count(out, &f, "total-successful-session-count", p->ok);
            ij_put_count(out, &f, "total-failure-session-count", p->failed);
            vstring_append_char(out, '}');
            any = 1;
        }
        if (p->nfailures) {
            vstring_append_str(out, any ? ",\"failure-details\":[" : "\"failure-details\":[");
            for (size_t k = 0; k < p->nfailures; k++) {
                const inreport_failure *fd = &p->failures[k];
                vstring_append_str(out, k ? ",{" : "{");
                f = 1;
                ij_put_opt(out, &f, "result-type", ij_known(fd->result_type));
                ij_put_opt(out, &f, "sending-mta-ip", fd->sending_ip);
                ij_put_opt(out, &f, "receiving-mx-hostname", fd->mx_hostname);
                ij_put_opt(out, &f, "receiving-mx-helo", fd->mx_helo);
                ij_put_opt(out, &f, "receiving-ip", fd->receiving_ip);
                ij_put_count(out, &f, "failed-session-count", fd->count);
                ij_put_opt(out, &f, "additional-information", fd->additional_info);
                ij_put_opt(out, &f, "failure-reason-code", fd->reason_code);
                vstring_append_char(out, '}');
            }
            vstring_append_char(out, ']');
        }
        vstring_append_char(out, '}');
    }
    vstring_append_str(out, "]}");
}

json_object *inreport_json(const inreport *r)
{
    vstring *text = vstring_alloc(0);

    inreport_json_text(r, text);
    json_object *obj = json_tokener_parse(text->data);
    vstring_free(text);
    return obj;
}
