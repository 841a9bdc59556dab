#include "inreport.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gz.h"
#include "htable.h"
#include "mime.h"
#include "utf8.h"
#include "vstring.h"

#define INREPORT_MAX_DEPTH 32 /* JSON nesting; a report needs 5 */

void inreport_init(inreport *r)
{
    memset(r, 0, sizeof(*r));
    arena_init(&r->mem, 16384);
}

void inreport_done(inreport *r)
{
    arena_destroy(&r->mem);
    memset(r, 0, sizeof(*r));
}

static void inreport_reset(inreport *r)
{
    arena m = r->mem;
    arena_reset(&m);
    memset(r, 0, sizeof(*r));
    r->mem = m;
}

static void inreport_err(char *err, size_t size, const char *what)
{
    if (size)
        snprintf(err, size, "%s", what);
}

/* A copy that is valid UTF-8, has no control characters and is at most INREPORT_MAX_FIELD
 * bytes (cut at a character boundary); C0 and C1 controls become spaces; NULL for NULL or "". */
static const char *inreport_clean(arena *a, const char *s, size_t len)
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

static const char *inreport_str(arena *a, json_object *obj, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
        return NULL;
    if (json_object_is_type(v, json_type_string))
        return inreport_clean(a, json_object_get_string(v), (size_t)json_object_get_string_len(v));
    if (json_object_is_type(v, json_type_int)) {
        const char *t = json_object_get_string(v);
        return inreport_clean(a, t, strlen(t));
    }
    return NULL;
}

static char *inreport_lower(char *s)
{
    for (char *p = s; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return s;
}

/* Host names are compared and grouped: lower case, no trailing dot, A-labels when valid. */
static const char *inreport_host(arena *a, json_object *obj, const char *key)
{
    const char *s = inreport_str(a, obj, key);
    char norm[DOMAIN_MAX + 1];

    if (s == NULL)
        return NULL;
    if (domain_normalize(s, strlen(s), norm, sizeof(norm)) == 0)
        return arena_strdup(a, norm);
    return inreport_lower((char *)s);
}

/* No sender has a trillion sessions a day; the cap keeps every later sum from overflowing. */
#define INREPORT_MAX_COUNT 1000000000000ULL

static uint64_t inreport_count_raw(json_object *obj, const char *key);

static uint64_t inreport_count(json_object *obj, const char *key)
{
    uint64_t n = inreport_count_raw(obj, key);
    return n > INREPORT_MAX_COUNT ? INREPORT_MAX_COUNT : n;
}

static uint64_t inreport_count_raw(json_object *obj, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
        return 0;
    switch (json_object_get_type(v)) {
    case json_type_int: {
        int64_t n = json_object_get_int64(v);
        if (n > 0)
            return (uint64_t)n;
        /* json-c keeps integers above INT64_MAX as unsigned. */
        return n < 0 ? 0 : json_object_get_uint64(v);
    }
    case json_type_double: {
        double d = json_object_get_double(v);
        return d > 0 && d < 1e18 ? (uint64_t)d : 0;
    }
    case json_type_string: {
        const char *s = json_object_get_string(v);
        uint64_t n = 0;
        for (; *s >= '0' && *s <= '9' && n < 100000000000000000ULL; s++)
            n = n * 10 + (uint64_t)(*s - '0');
        return n;
    }
    default:
        return 0;
    }
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

/* An array of strings, a single string, or nothing: all three are seen for mx-host. */
static const char **inreport_strings(arena *a, json_object *obj, const char *key, size_t *n,
                                     int host)
{
    json_object *v;
    const char **out;

    *n = 0;
    if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
        return NULL;
    if (json_object_is_type(v, json_type_string)) {
        const char *s =
            inreport_clean(a, json_object_get_string(v), (size_t)json_object_get_string_len(v));
        if (s == NULL)
            return NULL;
        out = arena_alloc(a, sizeof(*out));
        out[0] = host ? inreport_lower((char *)s) : s;
        *n = 1;
        return out;
    }
    if (!json_object_is_type(v, json_type_array))
        return NULL;
    size_t len = json_object_array_length(v);
    out = arena_alloc(a, (len ? len : 1) * sizeof(*out));
    for (size_t i = 0; i < len; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (e == NULL || !json_object_is_type(e, json_type_string))
            continue;
        const char *s =
            inreport_clean(a, json_object_get_string(e), (size_t)json_object_get_string_len(e));
        if (s)
            out[(*n)++] = host ? inreport_lower((char *)s) : s;
    }
    return out;
}

/* Some senders put a whole TLSA record set in ONE policy-string element holding a JSON
 * array (`["[\"3 1 1 AB..\",\"3 1 1 CD..\"]"]`): unpack it into one element per record. */
static void inreport_unpack_strings(arena *a, inreport_policy *p)
{
    if (p->nstrings != 1 || p->strings[0][0] != '[')
        return;
    json_object *arr = json_tokener_parse(p->strings[0]);
    if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
        json_object_put(arr);
        return;
    }
    size_t len = json_object_array_length(arr);
    const char **out = arena_alloc(a, (len ? len : 1) * sizeof(*out));
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        if (e && json_object_is_type(e, json_type_string)) {
            const char *s =
                inreport_clean(a, json_object_get_string(e), (size_t)json_object_get_string_len(e));
            if (s)
                out[n++] = s;
        }
    }
    json_object_put(arr);
    p->strings = out;
    p->nstrings = n;
}

static void inreport_policy_parse(arena *a, json_object *item, inreport_policy *p)
{
    json_object *pol = NULL, *sum = NULL, *fd = NULL;

    memset(p, 0, sizeof(*p));
    json_object_object_get_ex(item, "policy", &pol);
    if (pol && json_object_is_type(pol, json_type_object)) {
        const char *t = inreport_str(a, pol, "policy-type");
        p->type = t ? inreport_lower((char *)t) : "unknown";
        p->domain = inreport_host(a, pol, "policy-domain");
        p->strings = inreport_strings(a, pol, "policy-string", &p->nstrings, 0);
        p->mx_hosts = inreport_strings(a, pol, "mx-host", &p->nmx_hosts, 1);
        inreport_unpack_strings(a, p);
    } else {
        p->type = "unknown";
    }
    if (json_object_object_get_ex(item, "summary", &sum) && sum &&
        json_object_is_type(sum, json_type_object)) {
        p->ok = inreport_count(sum, "total-successful-session-count");
        p->failed = inreport_count(sum, "total-failure-session-count");
    }
    if (!json_object_object_get_ex(item, "failure-details", &fd) || fd == NULL ||
        !json_object_is_type(fd, json_type_array))
        return;
    size_t len = json_object_array_length(fd);
    p->failures = arena_alloc(a, (len ? len : 1) * sizeof(*p->failures));
    for (size_t i = 0; i < len; i++) {
        json_object *e = json_object_array_get_idx(fd, i);
        if (e == NULL || !json_object_is_type(e, json_type_object))
            continue;
        inreport_failure *f = &p->failures[p->nfailures++];
        const char *rt = inreport_str(a, e, "result-type");
        f->result_type = rt ? inreport_lower((char *)rt) : "unknown";
        f->sending_ip = inreport_str(a, e, "sending-mta-ip");
        f->mx_hostname = inreport_host(a, e, "receiving-mx-hostname");
        f->mx_helo = inreport_str(a, e, "receiving-mx-helo");
        f->receiving_ip = inreport_str(a, e, "receiving-ip");
        f->additional_info = inreport_str(a, e, "additional-information");
        f->reason_code = inreport_str(a, e, "failure-reason-code");
        f->count = inreport_count(e, "failed-session-count");
    }
}

/* The submitter is the domain of contact-info (RFC 8460 4.3); a bare domain is accepted. */
static const char *inreport_submitter(arena *a, const char *contact)
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

int inreport_parse_json(inreport *r, const char *text, size_t len, char *err, size_t errsize)
{
    json_tokener *tok;
    json_object *root, *v;
    arena *a = &r->mem;

    inreport_reset(r);
    if (len > INT32_MAX) {
        inreport_err(err, errsize, "report too large");
        return -1;
    }
    tok = json_tokener_new_ex(INREPORT_MAX_DEPTH);
    root = json_tokener_parse_ex(tok, text, (int)len);
    if (root == NULL || (json_tokener_get_error(tok) != json_tokener_success)) {
        enum json_tokener_error je = json_tokener_get_error(tok);
        if (errsize)
            snprintf(err, errsize, "invalid JSON: %s",
                     je == json_tokener_continue ? "unexpected end of data"
                                                 : json_tokener_error_desc(je));
        json_object_put(root);
        json_tokener_free(tok);
        return -1;
    }
    json_tokener_free(tok);
    if (!json_object_is_type(root, json_type_object)) {
        inreport_err(err, errsize, "JSON is not an object");
        json_object_put(root);
        return -1;
    }
    json_object *dr = NULL;
    const char *ds = NULL, *de = NULL;
    if (json_object_object_get_ex(root, "date-range", &dr) && dr &&
        json_object_is_type(dr, json_type_object)) {
        ds = inreport_str(a, dr, "start-datetime");
        de = inreport_str(a, dr, "end-datetime");
    }
    r->start = inreport_parse_time(ds);
    r->end = inreport_parse_time(de);
    if (r->start < 0) {
        inreport_err(err, errsize, "no valid date-range start-datetime");
        json_object_put(root);
        return -1;
    }
    /* Some senders end the day at the next day's 00:00:00Z: the last second covered is
     * what every report means. */
    if (r->end <= r->start)
        r->end = r->start + 86399;
    if (r->end % 86400 == 0 && r->end - 1 > r->start)
        r->end--; /* also once normalized: parsing the result again changes nothing */
    if (!json_object_object_get_ex(root, "policies", &v) || v == NULL ||
        !json_object_is_type(v, json_type_array)) {
        inreport_err(err, errsize, "no policies array");
        json_object_put(root);
        return -1;
    }
    size_t n = json_object_array_length(v);
    r->policies = arena_alloc(a, (n ? n : 1) * sizeof(*r->policies));
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(v, i);
        if (item && json_object_is_type(item, json_type_object))
            inreport_policy_parse(a, item, &r->policies[r->npolicies++]);
    }
    r->organization = inreport_str(a, root, "organization-name");
    r->contact = inreport_str(a, root, "contact-info");
    r->report_id = inreport_str(a, root, "report-id");
    if (r->report_id == NULL) {
        /* Without an id, the content itself tells duplicates apart. */
        char id[40];
        snprintf(id, sizeof(id), "content-%016llx", (unsigned long long)htable_hash(text, len));
        r->report_id = arena_strdup(a, id);
    }
    r->submitter = inreport_submitter(a, r->contact);
    if (r->submitter == NULL)
        r->submitter = r->organization ? r->organization : "unknown";
    json_object_put(root);
    return 0;
}

/* A UTF-8 byte-order mark is no part of the JSON text (RFC 8259 8.1 lets a parser ignore
 * it), and some senders' tools write one. */
static size_t inreport_bom(const void *data, size_t len)
{
    return len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

/* Keeps the text a report was parsed from, repaired to valid UTF-8 (it is stored as a
 * JSON string); it is at most max_report_size. */
static void inreport_keep_raw(inreport *r, const char *text, size_t len)
{
    vstring *v = vstring_alloc(0);
    utf8_repair(v, text, len);
    r->raw = arena_strndup(&r->mem, v->data, v->len);
    vstring_free(v);
}

int inreport_parse_payload(inreport *r, const void *data, size_t len, size_t max, char *err,
                           size_t errsize)
{
    const unsigned char *p = data;
    int ret;

    if ((len >= 2 && p[0] == 0x1f && p[1] == 0x8b) || gz_is_zip(data, len)) {
        vstring *json = vstring_alloc(0);
        int zip = gz_is_zip(data, len);
        if ((zip ? gz_unzip_first(data, len, max, json) : gz_decompress(data, len, max, json)) <
            0) {
            inreport_err(err, errsize,
                         errno == EFBIG ? "report larger than max_report_size once inflated"
                         : zip          ? "invalid, truncated or encrypted zip data"
                                        : "invalid or truncated gzip data");
            inreport_reset(r);
            vstring_free(json);
            return -1;
        }
        size_t skip = inreport_bom(json->data, json->len);
        ret = inreport_parse_json(r, json->data + skip, json->len - skip, err, errsize);
        if (ret == 0)
            inreport_keep_raw(r, json->data + skip, json->len - skip);
        vstring_free(json);
        return ret;
    }
    if (len > max) {
        inreport_err(err, errsize, "report larger than max_report_size");
        inreport_reset(r);
        return -1;
    }
    size_t skip = inreport_bom(data, len);
    ret = inreport_parse_json(r, (const char *)data + skip, len - skip, err, errsize);
    if (ret == 0)
        inreport_keep_raw(r, (const char *)data + skip, len - skip);
    return ret;
}

/* How surely a part is the report: by its type, or only by its file name. */
#define INREPORT_PART_NONE   0
#define INREPORT_PART_NAME   1 /* generic type and a report-like name, outside a report */
#define INREPORT_PART_REPORT 2 /* a report type, or a report-like name inside a report */

typedef struct inreport_scan {
    int tlsrpt_report; /* a multipart/report with report-type=tlsrpt was seen */
    mime_part part;    /* copy of the surest report part, the first of its kind */
    int found;         /* INREPORT_PART_* of part */
    mime_part forward; /* the first message/rfc822 part, when forward_ok */
    int forward_ok;
    vstring *tmp;
    char filename[256];
} inreport_scan;

int inreport_name_is_report(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcasecmp(name + n - 5, ".json") == 0) ||
           (n > 3 && strcasecmp(name + n - 3, ".gz") == 0) ||
           (n > 4 && strcasecmp(name + n - 4, ".zip") == 0);
}

/* Types that say nothing about what the part holds: its file name has to. */
static int inreport_type_generic(const char *type)
{
    static const char *const generic[] = {
        "application/gzip",
        "application/x-gzip",
        "application/json",
        "application/zip",
        "application/x-zip-compressed",
        "application/x-zip",
        "application/octet-stream",
        "text/plain",
        "text/json",
    };
    for (size_t i = 0; i < sizeof(generic) / sizeof(generic[0]); i++)
        if (strcmp(type, generic[i]) == 0)
            return 1;
    return 0;
}

static int inreport_type_tlsrpt(const char *type)
{
    return strcmp(type, "application/tlsrpt+gzip") == 0 ||
           strcmp(type, "application/tlsrpt+json") == 0 || strcmp(type, "application/tlsrpt") == 0;
}

static int inreport_scan_part(const mime_part *p, void *ctx)
{
    inreport_scan *s = ctx;

    if (strcmp(p->type, "multipart/report") == 0 &&
        mime_param(p->content_type, "report-type", s->tmp) &&
        strcasecmp(s->tmp->data, "tlsrpt") == 0)
        s->tlsrpt_report = 1;
    /* A forwarded message is kept whole for DKIM: only an identity encoding allows that,
     * and RFC 2046 5.2.1 allows no other. */
    if (!s->forward_ok && p->depth > 0 && strcmp(p->type, "message/rfc822") == 0 &&
        (p->encoding[0] == 0 || strcmp(p->encoding, "7bit") == 0 ||
         strcmp(p->encoding, "8bit") == 0 || strcmp(p->encoding, "binary") == 0)) {
        s->forward = *p;
        s->forward_ok = 1;
    }
    if (s->found == INREPORT_PART_REPORT || strncmp(p->type, "multipart/", 10) == 0)
        return 0;
    char name[256] = "";
    vstring *cd = vstring_alloc(0);
    if ((mime_header(p->headers, p->headers_len, "Content-Disposition", cd) &&
         mime_param(cd->data, "filename", s->tmp)) ||
        mime_param(p->content_type, "name", s->tmp))
        snprintf(name, sizeof(name), "%s", s->tmp->data);
    vstring_free(cd);
    int kind = INREPORT_PART_NONE;
    if (inreport_type_tlsrpt(p->type))
        kind = INREPORT_PART_REPORT;
    else if (p->depth > 0 && inreport_type_generic(p->type) && inreport_name_is_report(name))
        kind = s->tlsrpt_report ? INREPORT_PART_REPORT : INREPORT_PART_NAME;
    if (kind > s->found) {
        s->part = *p;
        s->found = kind;
        memcpy(s->filename, name, sizeof(s->filename));
    }
    return 0;
}

int inreport_type_is_report(const char *content_type)
{
    const char *p = content_type;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, "; \t\r\n(");
    if ((n == 23 && (strncasecmp(p, "application/tlsrpt+gzip", n) == 0 ||
                     strncasecmp(p, "application/tlsrpt+json", n) == 0)) ||
        (n == 18 && strncasecmp(p, "application/tlsrpt", n) == 0))
        return 1;
    if (n != 16 || strncasecmp(p, "multipart/report", n) != 0)
        return 0;
    vstring *tmp = vstring_alloc(0);
    int ret = mime_param(content_type, "report-type", tmp) && strcasecmp(tmp->data, "tlsrpt") == 0;
    vstring_free(tmp);
    return ret;
}

int inreport_message_is_report(const char *msg, size_t len)
{
    inreport_scan s;

    memset(&s, 0, sizeof(s));
    s.tmp = vstring_alloc(0);
    /* A cut message still shows the parts before the cut: a failed walk decides nothing. */
    (void)mime_walk(msg, len, inreport_scan_part, &s, NULL);
    vstring_free(s.tmp);
    return s.tlsrpt_report || s.found == INREPORT_PART_REPORT;
}

static void inreport_meta_field(const char *h, size_t hlen, const char *name, vstring *tmp,
                                char *out, size_t size, int domain)
{
    out[0] = 0;
    if (!mime_header(h, hlen, name, tmp))
        return;
    if (domain) {
        if (domain_normalize(tmp->data, tmp->len, out, size) < 0)
            out[0] = 0;
        return;
    }
    arena a;
    arena_init(&a, 1024);
    const char *c = inreport_clean(&a, tmp->data, tmp->len);
    snprintf(out, size, "%s", c ? c : "");
    arena_destroy(&a);
}

static void inreport_meta_headers(inreport_meta *meta, const char *msg, size_t len, vstring *tmp)
{
    const char *body;
    size_t hlen = mime_split(msg, len, MIME_MAX_HEADER, &body);
    if (hlen == (size_t)-1)
        hlen = 0;
    inreport_meta_field(msg, hlen, "TLS-Report-Domain", tmp, meta->report_domain,
                        sizeof(meta->report_domain), 1);
    inreport_meta_field(msg, hlen, "TLS-Report-Submitter", tmp, meta->submitter,
                        sizeof(meta->submitter), 1);
    inreport_meta_field(msg, hlen, "Subject", tmp, meta->subject, sizeof(meta->subject), 0);
    meta->filename[0] = 0;
}

/* Decodes and parses the part s found; returns INREPORT_*. */
static int inreport_parse_part(inreport *r, inreport_scan *s, size_t max, inreport_meta *meta,
                               char *err, size_t errsize)
{
    int ret;

    if (meta) {
        arena a;
        arena_init(&a, 1024);
        const char *c = inreport_clean(&a, s->filename, strlen(s->filename));
        snprintf(meta->filename, sizeof(meta->filename), "%s", c ? c : "");
        arena_destroy(&a);
    }
    /* A base64 body is 4/3 of its content: decoding never needs more than that. */
    vstring *body = vstring_alloc(max + max / 2 + 4096);
    if (mime_decode(&s->part, body) < 0) {
        inreport_err(err, errsize, "report part larger than max_report_size");
        ret = INREPORT_BAD;
    } else {
        ret = inreport_parse_payload(r, body->data, body->len, max, err, errsize) == 0
                  ? INREPORT_OK
                  : INREPORT_BAD;
    }
    /* Without a usable contact-info the TLS-Report-Submitter header names the submitter. */
    if (ret == INREPORT_OK && meta && meta->submitter[0] &&
        inreport_submitter(&r->mem, r->contact) == NULL)
        r->submitter = arena_strdup(&r->mem, meta->submitter);
    vstring_free(body);
    return ret;
}

/* The message at msg (forwarded when nested: its own forwards are not followed). */
static int inreport_parse_at(inreport *r, const char *msg, size_t len, size_t max,
                             inreport_meta *meta, int nested, char *err, size_t errsize)
{
    inreport_scan s;
    const char *why = NULL;
    int ret;

    memset(&s, 0, sizeof(s));
    s.tmp = vstring_alloc(0);
    inreport_reset(r);
    if (meta)
        inreport_meta_headers(meta, msg, len, s.tmp);
    if (mime_walk(msg, len, inreport_scan_part, &s, &why) < 0) {
        vstring_free(s.tmp);
        /* An ordinary message may be odd too; only a report's oddity is its sender's bug. */
        if (!s.tlsrpt_report && s.found != INREPORT_PART_REPORT)
            return INREPORT_NONE;
        inreport_err(err, errsize, why ? why : "unreadable MIME structure");
        return INREPORT_BAD;
    }
    if (s.found == INREPORT_PART_REPORT) {
        ret = inreport_parse_part(r, &s, max, meta, err, errsize);
        vstring_free(s.tmp);
        return ret;
    }
    /* A report forwarded as an attachment: the forwarded message is what its sender sent,
     * its headers and DKIM signature included. */
    if (!nested && s.forward_ok) {
        inreport_meta inner;
        memset(&inner, 0, sizeof(inner));
        ret =
            inreport_parse_at(r, s.forward.body, s.forward.body_len, max, &inner, 1, err, errsize);
        if (ret != INREPORT_NONE) {
            if (meta) {
                *meta = inner;
                meta->forwarded = 1;
                meta->dkim_offset = (size_t)(s.forward.body - msg);
                meta->dkim_len = s.forward.body_len;
            }
            vstring_free(s.tmp);
            return ret;
        }
        if (meta)
            inreport_meta_headers(meta, msg, len, s.tmp);
    }
    /* Only a name says it is a report: take it when it parses as one, else it was some
     * other attachment of ordinary mail. */
    if (s.found == INREPORT_PART_NAME) {
        ret = inreport_parse_part(r, &s, max, meta, err, errsize);
        vstring_free(s.tmp);
        if (ret == INREPORT_OK || s.tlsrpt_report)
            return ret;
        inreport_reset(r);
        return INREPORT_NONE;
    }
    vstring_free(s.tmp);
    if (!s.tlsrpt_report)
        return INREPORT_NONE;
    inreport_err(err, errsize, "multipart/report without a report part");
    return INREPORT_BAD;
}

int inreport_parse_message(inreport *r, const char *msg, size_t len, size_t max,
                           inreport_meta *meta, char *err, size_t errsize)
{
    if (meta) {
        memset(meta, 0, sizeof(*meta));
        meta->dkim_len = len;
    }
    return inreport_parse_at(r, msg, len, max, meta, 0, err, errsize);
}

static json_object *inreport_json_strings(const char *const *s, size_t n)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(arr, json_object_new_string(s[i]));
    return arr;
}

static void inreport_json_opt(json_object *obj, const char *key, const char *value)
{
    if (value)
        json_object_object_add(obj, key, json_object_new_string(value));
}

static json_object *inreport_json_time(time_t t)
{
    struct tm tm;
    char buf[32];

    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_object_new_string(buf);
}

json_object *inreport_json(const inreport *r)
{
    json_object *root = json_object_new_object();
    json_object *dr = json_object_new_object();
    json_object *pols = json_object_new_array();

    inreport_json_opt(root, "organization-name", r->organization);
    json_object_object_add(dr, "start-datetime", inreport_json_time(r->start));
    json_object_object_add(dr, "end-datetime", inreport_json_time(r->end));
    json_object_object_add(root, "date-range", dr);
    inreport_json_opt(root, "contact-info", r->contact);
    json_object_object_add(root, "report-id", json_object_new_string(r->report_id));
    for (size_t i = 0; i < r->npolicies; i++) {
        const inreport_policy *p = &r->policies[i];
        json_object *item = json_object_new_object();
        json_object *pol = json_object_new_object();
        json_object *sum = json_object_new_object();
        json_object_object_add(pol, "policy-type", json_object_new_string(p->type));
        json_object_object_add(pol, "policy-string",
                               inreport_json_strings(p->strings, p->nstrings));
        inreport_json_opt(pol, "policy-domain", p->domain);
        if (p->nmx_hosts)
            json_object_object_add(pol, "mx-host",
                                   inreport_json_strings(p->mx_hosts, p->nmx_hosts));
        json_object_object_add(item, "policy", pol);
        json_object_object_add(sum, "total-successful-session-count",
                               json_object_new_int64((int64_t)p->ok));
        json_object_object_add(sum, "total-failure-session-count",
                               json_object_new_int64((int64_t)p->failed));
        json_object_object_add(item, "summary", sum);
        if (p->nfailures) {
            json_object *fds = json_object_new_array();
            for (size_t j = 0; j < p->nfailures; j++) {
                const inreport_failure *f = &p->failures[j];
                json_object *fo = json_object_new_object();
                json_object_object_add(fo, "result-type", json_object_new_string(f->result_type));
                inreport_json_opt(fo, "sending-mta-ip", f->sending_ip);
                inreport_json_opt(fo, "receiving-mx-hostname", f->mx_hostname);
                inreport_json_opt(fo, "receiving-mx-helo", f->mx_helo);
                inreport_json_opt(fo, "receiving-ip", f->receiving_ip);
                json_object_object_add(fo, "failed-session-count",
                                       json_object_new_int64((int64_t)f->count));
                inreport_json_opt(fo, "additional-information", f->additional_info);
                inreport_json_opt(fo, "failure-reason-code", f->reason_code);
                json_object_array_add(fds, fo);
            }
            json_object_object_add(item, "failure-details", fds);
        }
        json_object_array_add(pols, item);
    }
    json_object_object_add(root, "policies", pols);
    return root;
}
